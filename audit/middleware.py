"""AuditContextMiddleware: keeps the request for `audit_record`, records refused pages and the
confidential fields a response showed (the context variables live in audit/context.py)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django_ratelimit.exceptions import Ratelimited

from audit.context import confidential_reads, current_request
from audit.services import audit_confidential_reads, audit_refused


class AuditContextMiddleware:
    """Keeps the request in a context variable for audit_record(), records refused access to pages
    (PermissionDenied raised by a view) and, once per response, the confidential fields it showed to
    a facilitator or staff member (`note_confidential_read`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_request.set(request)
        reads_token = confidential_reads.set({})
        try:
            response = self.get_response(request)
            reads = confidential_reads.get()
            if reads and response.status_code < 400:
                audit_confidential_reads(request=request, reads=reads)
            return response
        finally:
            confidential_reads.reset(reads_token)
            current_request.reset(token)

    def process_exception(self, request, exception):
        if isinstance(exception, Ratelimited):
            return None
        if isinstance(exception, PermissionDenied) and request.user.is_authenticated:
            match = request.resolver_match
            audit_refused(
                request=request, status=403, object_type=match.view_name if match else "",
                object_id=(match.kwargs.get("pk") if match else "") or "", reason=str(exception),
            )
        return None
