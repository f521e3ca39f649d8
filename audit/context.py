"""The current request and its confidential reads, so that services deep below a view can record
where an action came from (audit/middleware.py sets them)."""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings

current_request: ContextVar = ContextVar("audit_current_request", default=None)
# Per request: the confidential objects shown to a viewer who sees them as a facilitator or staff
# member rather than as their owner ({object type: {ids}}); written as one audit event at the end.
confidential_reads: ContextVar = ContextVar("audit_confidential_reads", default=None)


def note_confidential_read(object_type: str, object_id) -> None:
    """Remember that this request shows `object_id`'s confidential fields to a facilitator or staff
    member (outside a request, e.g. in a command, there is nothing to record)."""
    reads = confidential_reads.get()
    if reads is not None:
        reads.setdefault(object_type, set()).add(object_id)


def client_ip(request) -> str | None:
    """The client's address. Behind TRUSTED_PROXY_COUNT reverse proxies it is the address that the
    outermost trusted proxy appended to X-Forwarded-For; a client cannot forge it by sending its
    own header, because only the rightmost entries (added by our proxies) are trusted."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def ratelimit_ip(group, request) -> str:
    """django-ratelimit key: the same client address the audit trail records."""
    return client_ip(request) or "unknown"
