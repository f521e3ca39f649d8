"""The current request, so that services deep below a view can record where an action came from."""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings

current_request: ContextVar = ContextVar("audit_current_request", default=None)


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


class AuditContextMiddleware:
    """Keeps the request in a context variable for audit_record() and records refused access to
    pages (PermissionDenied raised by a view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            current_request.reset(token)

    def process_exception(self, request, exception):
        from django.core.exceptions import PermissionDenied
        from django_ratelimit.exceptions import Ratelimited

        from audit.services import audit_refused

        if isinstance(exception, Ratelimited):
            return None
        if isinstance(exception, PermissionDenied) and request.user.is_authenticated:
            match = request.resolver_match
            audit_refused(
                request=request, status=403, object_type=match.view_name if match else "",
                object_id=(match.kwargs.get("pk") if match else "") or "", reason=str(exception),
            )
        return None
