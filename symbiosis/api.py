"""Shared REST API plumbing: pagination and an exception handler that never leaks a 500 for bad input."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def _audit_refusal(exc, context) -> None:
    """An authenticated caller was refused: 404 for an object that exists but is not visible to them
    (another company's), 403 for anything they may not do (an object they may see but not change, a
    stream for another company)."""
    from audit.services import audit_if_foreign, audit_refused

    view, request = context.get("view"), context.get("request")
    if request is None or not request.user.is_authenticated or view is None:
        return
    lookup_field = getattr(view, "lookup_field", "pk")
    value = context.get("kwargs", {}).get(getattr(view, "lookup_url_kwarg", None) or lookup_field)
    try:
        model = view.get_queryset().model
    except Exception:  # noqa: BLE001 - auditing must never turn a 404 into a 500
        model = None
    if isinstance(exc, (Http404, exceptions.NotFound)):
        if model is not None and value is not None:
            audit_if_foreign(request=request, model=model, lookup={lookup_field: value})
    else:
        audit_refused(request=request, status=403, object_type=model._meta.label_lower if model else "",
                      object_id=value or "", reason=str(getattr(exc, "detail", exc)))


def exception_handler(exc, context):
    """Turn model-level ValidationErrors raised by services into 400 responses with field errors, and
    record refused access to foreign objects in the audit trail."""
    if isinstance(exc, (Http404, exceptions.NotFound, exceptions.PermissionDenied, DjangoPermissionDenied)):
        _audit_refusal(exc, context)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = serializers.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
