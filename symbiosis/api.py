"""Shared REST API plumbing: pagination and an exception handler that never leaks a 500 for bad input."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.views import exception_handler as drf_exception_handler


def not_found(request, exception):
    """handler404: a path under /api/ that no route matches (`/api/v1/companies/1.5/`) answers JSON like every
    other API error, not the HTML page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


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


# Every error answer of the API, in one place of the schema. Clients (and the schemathesis run in
# tests/security/test_api_fuzz.py) may rely on no other status codes appearing undocumented.
ERROR_RESPONSES = {
    "400": "Invalid input: the body maps each field (or `non_field_errors`) to its messages.",
    "401": "Not signed in: no valid session or `Authorization: Token ...` header.",
    "403": "Signed in, but not allowed (for example, not an editor of this company).",
    "404": "No such object, or one you may not see: the two answer alike.",
    "409": "The change conflicts with the object's current state.",
    "429": "Too many requests; retry after the `Retry-After` header's seconds.",
}
ERROR_SCHEMA = {
    "type": "object",
    "description": "`detail` for request-level errors; otherwise field names mapped to lists of messages.",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}


def add_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: document the shared error answers on every operation,
    keeping any operation-specific description already there."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    ref = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                entry = responses.setdefault(code, {"description": description})
                entry.setdefault("content", ref)
    return result
