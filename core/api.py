"""Shared REST API plumbing: pagination and an exception handler that never leaks a 500 for bad input."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.dispatch import Signal
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


# Sent when the API answers 404 or 403 (kwargs `exc`, `context`: DRF's exception handler context), so
# that the audit trail can record refused access without this package importing it.
api_refused = Signal()


def exception_handler(exc, context):
    """Turn model-level ValidationErrors raised by services into 400 responses with field errors, and
    announce refused access (`api_refused`; the audit trail records it)."""
    if isinstance(exc, (Http404, exceptions.NotFound, exceptions.PermissionDenied, DjangoPermissionDenied)):
        api_refused.send(sender=exception_handler, exc=exc, context=context)
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


# OpenAPI links: how an id in one answer feeds the next call (create a stream -> change its status ->
# read its matches, create a site -> list a stream there, move a match -> post a message...). Clients
# and code generators follow them; tests/security/test_api_fuzz_chains.py runs them as schemathesis
# state machines. Each row: source operationId and status -> (link name, target operationId,
# parameters, request body merged into the target's generated body).
CREATED = "$response.body#/id"  # the object a create or an update answered with
FIRST = "$response.body#/results/0/id"  # the first row of a paginated list
SAME = "$request.path.id"  # the object the source call was about
STREAM_DETAIL = ("v1_streams_retrieve", "v1_streams_partial_update", "v1_streams_update", "v1_streams_status_create",
                 "v1_streams_matches_list")
SITE_DETAIL = ("v1_sites_retrieve", "v1_sites_partial_update", "v1_sites_update")
COMPANY_DETAIL = ("v1_companies_retrieve", "v1_companies_partial_update", "v1_companies_update")
MATCH_DETAIL = ("v1_matches_retrieve", "v1_matches_transition_create", "v1_matches_events_list",
                "v1_matches_notes_list", "v1_matches_notes_create", "v1_matches_messages_list",
                "v1_matches_messages_create", "v1_matches_realised_create")


def _each(targets, source: str) -> list[tuple[str, dict, dict | None]]:
    return [(target, {"id": source}, None) for target in targets]


def _exclusions(source: str) -> list[tuple[str, dict, dict | None]]:
    return [(t, {"company_pk": source}, None) for t in ("v1_companies_exclusions_list", "v1_companies_exclusions_create")]


API_LINKS: dict[tuple[str, str], list[tuple[str, dict, dict | None]]] = {
    # Streams: create or list, then read, change, publish/pause/close, read the matches, match it now.
    ("v1_streams_create", "201"): [
        *_each(STREAM_DETAIL, CREATED),
        ("v1_matching_runs_create", {}, {"kind": "stream", "stream": CREATED}),
    ],
    ("v1_streams_list", "200"): _each(STREAM_DETAIL, FIRST),
    ("v1_streams_partial_update", "200"): _each(STREAM_DETAIL, SAME),
    ("v1_streams_update", "200"): _each(STREAM_DETAIL, SAME),
    ("v1_streams_status_create", "200"): _each(STREAM_DETAIL, SAME),
    ("v1_streams_matches_list", "200"): _each(MATCH_DETAIL, FIRST),
    # Sites: create or list, then read or change, and list a stream there.
    ("v1_sites_create", "201"): [*_each(SITE_DETAIL, CREATED), ("v1_streams_create", {}, {"site": CREATED})],
    ("v1_sites_list", "200"): [*_each(SITE_DETAIL, FIRST), ("v1_streams_create", {}, {"site": FIRST})],
    ("v1_sites_partial_update", "200"): [*_each(SITE_DETAIL, SAME), ("v1_streams_create", {}, {"site": SAME})],
    ("v1_sites_update", "200"): _each(SITE_DETAIL, SAME),
    # Companies: create or list, then read, change, add a site, manage competitor exclusions.
    ("v1_companies_create", "201"): [
        *_each(COMPANY_DETAIL, CREATED), *_exclusions(CREATED), ("v1_sites_create", {}, {"company": CREATED}),
    ],
    ("v1_companies_list", "200"): [
        *_each(COMPANY_DETAIL, FIRST), *_exclusions(FIRST), ("v1_sites_create", {}, {"company": FIRST}),
    ],
    ("v1_companies_partial_update", "200"): [*_each(COMPANY_DETAIL, SAME), *_exclusions(SAME)],
    ("v1_companies_update", "200"): _each(COMPANY_DETAIL, SAME),
    ("v1_companies_exclusions_create", "201"): [
        *[(t, {"company_pk": "$request.path.company_pk", "id": CREATED}, None)
          for t in ("v1_companies_exclusions_retrieve", "v1_companies_exclusions_destroy")],
        ("v1_companies_exclusions_list", {"company_pk": "$request.path.company_pk"}, None),
    ],
    ("v1_companies_exclusions_list", "200"): [
        (t, {"company_pk": "$request.path.company_pk", "id": "$response.body#/0/id"}, None)
        for t in ("v1_companies_exclusions_retrieve", "v1_companies_exclusions_destroy")
    ],
    # Matching runs: start one, poll it, read what it found for its stream.
    ("v1_matching_runs_create", "202"): [
        ("v1_matching_runs_retrieve", {"id": CREATED}, None),
        ("v1_streams_matches_list", {"id": "$response.body#/stream"}, None),
    ],
    ("v1_matching_runs_list", "200"): [("v1_matching_runs_retrieve", {"id": FIRST}, None)],
    # Matches: pick one, move it, then read its history, write notes and messages, move it again.
    ("v1_matches_list", "200"): _each(MATCH_DETAIL, FIRST),
    ("v1_matches_retrieve", "200"): _each(MATCH_DETAIL[1:], SAME),
    ("v1_matches_transition_create", "200"): _each(MATCH_DETAIL, SAME),
    ("v1_matches_notes_create", "201"): _each(("v1_matches_notes_list", "v1_matches_transition_create"), SAME),
    ("v1_matches_messages_create", "201"): _each(("v1_matches_messages_list", "v1_matches_transition_create"), SAME),
    ("v1_matches_realised_create", "201"): _each(("v1_matches_retrieve", "v1_matches_events_list"), SAME),
}


def _link_name(target: str) -> str:
    # v1_streams_status_create -> StreamsStatusCreate
    return "".join(part.capitalize() for part in target.removeprefix("v1_").split("_"))


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook: declare API_LINKS as OpenAPI links on the source
    operations' success responses (only between operations this schema has)."""
    operations = {
        operation.get("operationId"): operation
        for path in result.get("paths", {}).values() for operation in path.values() if isinstance(operation, dict)
    }
    for (source, code), rows in API_LINKS.items():
        response = operations.get(source, {}).get("responses", {}).get(code)
        if response is None:
            continue
        links = response.setdefault("links", {})
        for target, parameters, body in rows:
            if target not in operations:
                continue
            link = {"operationId": target, "parameters": dict(parameters)}
            if body is not None:
                link["requestBody"] = dict(body)
            links[_link_name(target)] = link
    return result
