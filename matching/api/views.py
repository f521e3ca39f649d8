"""The matching API: matches (read-only), the matches of one stream, and matching runs.

Thin adapters: the queryset comes from `matching.selectors`, filtering from `MatchFilterSet` (the
same as the pages), what a viewer sees of a match from `matching.presentation` (via the serializer),
and starting a run from `matching.services.matching_run_create`.
"""

from __future__ import annotations

from django_filters import filters as df
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from matching.api.serializers import MatchingRunCreateSerializer, MatchingRunSerializer, MatchSerializer
from matching.filtersets import IdFilter, MatchFilterSet, MatchingRunFilterSet
from matching.forms import DEFAULT_MATCH_ORDERING, MATCH_ORDERING_FIELDS, ordering_terms
from matching.permissions import CanRunMatching
from matching.selectors import IdsFirst, match_pages, match_queryset, run_list, stream_matches
from matching.services import matching_run_create
from streams.api import views as stream_api

UNAUTHENTICATED = OpenApiResponse(description="Not signed in (no session or token).")
NOT_VISIBLE = OpenApiResponse(
    description="No such object, or you may not see it (authorities never see single matches)."
)
BAD_FILTER = OpenApiResponse(description="A filter value is invalid (e.g. min_score outside 0..1).")


class MatchOrderingFilter(OrderingFilter):
    """DRF's `ordering` parameter, resolved exactly like the pages' (`ordering_terms`)."""

    def get_ordering(self, request, queryset, view):
        return ordering_terms(request.query_params.get(self.ordering_param))


def _filter_parameters(filterset_class) -> list[OpenApiParameter]:
    """Query parameters of a FilterSet, for actions whose view's own filters concern another model."""
    params = []
    for name, f in filterset_class.base_filters.items():
        kind, many, enum = OpenApiTypes.STR, False, None
        if isinstance(f, IdFilter):
            kind = OpenApiTypes.INT
        elif isinstance(f, df.NumberFilter):
            kind = OpenApiTypes.NUMBER
        elif isinstance(f, df.BooleanFilter):
            kind = OpenApiTypes.BOOL
        if isinstance(f, df.MultipleChoiceFilter):
            many = True
        if isinstance(f, df.ChoiceFilter | df.MultipleChoiceFilter) and "choices" in f.extra:
            enum = [str(value) for value, _ in f.extra["choices"]]
        params.append(OpenApiParameter(name, kind, many=many, enum=enum, description=str(f.label or "")))
    params.append(OpenApiParameter(
        "ordering", OpenApiTypes.STR,
        description=f"Order by {', '.join(MATCH_ORDERING_FIELDS)}; '-' for descending (default -score).",
    ))
    return params


@extend_schema_view(
    list=extend_schema(responses={200: MatchSerializer(many=True), 400: BAD_FILTER, 401: UNAUTHENTICATED}),
    retrieve=extend_schema(responses={200: MatchSerializer, 401: UNAUTHENTICATED, 404: NOT_VISIBLE}),
)
class MatchViewSet(viewsets.ReadOnlyModelViewSet):
    """Suggested exchanges you may see: your companies' matches, and as a facilitator every match
    touching your regions. Anonymous counterparts show sector, region and approximate distance;
    their price, disposal cost, composition and site stay hidden. The API serves it with
    facilitation's actions added (`facilitation.api.views.MatchViewSet`)."""

    serializer_class = MatchSerializer
    filterset_class = MatchFilterSet
    filter_backends = [DjangoFilterBackend, MatchOrderingFilter]
    ordering_fields = MATCH_ORDERING_FIELDS
    ordering = DEFAULT_MATCH_ORDERING

    def get_queryset(self):
        return match_queryset(user=self.request.user)

    def paginate_queryset(self, queryset):
        # The filter backend validated the query string (400 otherwise); the filterset here only
        # tells `match_pages` which filters are in use.
        filterset = MatchFilterSet(self.request.query_params, queryset=queryset, user=self.request.user)
        return super().paginate_queryset(match_pages(queryset, user=self.request.user, filterset=filterset))


class StreamMatchesMixin:
    """Adds `GET /streams/{id}/matches/` to the stream viewset (put it first among the bases)."""

    def filter_queryset(self, queryset):
        # The stream is looked up unfiltered: this action's query string filters its matches.
        if getattr(self, "action", None) == "matches":
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(
        summary="Matches of one stream",
        filters=False,
        parameters=_filter_parameters(MatchFilterSet),
        responses={200: MatchSerializer(many=True), 400: BAD_FILTER, 401: UNAUTHENTICATED, 404: NOT_VISIBLE},
    )
    @action(detail=True, methods=["get"], url_path="matches")
    def matches(self, request, pk=None, format=None):
        """The matches of a stream you can see, best first; filters as on /matches/."""
        stream = self.get_object()
        filterset = stream_matches(user=request.user, stream=stream, filters=request.query_params)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        page = self.paginate_queryset(IdsFirst(filterset.qs))
        data = MatchSerializer(page, many=True, context={"request": request}).data
        return self.get_paginated_response(data)


class StreamViewSet(StreamMatchesMixin, stream_api.StreamViewSet):
    __doc__ = stream_api.StreamViewSet.__doc__  # the API's description of /streams/ stays the streams app's


@extend_schema_view(
    list=extend_schema(responses={200: MatchingRunSerializer(many=True), 401: UNAUTHENTICATED}),
    retrieve=extend_schema(responses={200: MatchingRunSerializer, 401: UNAUTHENTICATED, 404: NOT_VISIBLE}),
)
class MatchingRunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Matching runs and their progress. Staff see every run, facilitators the runs they started and
    every full run; other users see none. Only staff and facilitators can start a run."""

    serializer_class = MatchingRunSerializer
    filterset_class = MatchingRunFilterSet
    permission_classes = [CanRunMatching]
    throttle_scope = "matching_runs"  # starting runs (reads are not limited by this scope)
    ordering_fields = ("created_at", "finished_at")

    def get_queryset(self):
        return run_list(user=self.request.user)

    @extend_schema(
        request=MatchingRunCreateSerializer,
        responses={
            202: MatchingRunSerializer,
            400: OpenApiResponse(description="Invalid kind, or a stream that does not exist or you cannot see."),
            401: UNAUTHENTICATED,
            403: OpenApiResponse(description="Only facilitators and staff can start matching runs."),
        },
    )
    def create(self, request, *args, **kwargs):
        """Queue a full run or a run for one stream; poll the returned run for its progress."""
        serializer = MatchingRunCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = matching_run_create(kind=data["kind"], stream=data.get("stream"), requested_by=request.user)
        run.refresh_from_db()  # without a broker the run has already finished
        return Response(self.get_serializer(run).data, status=status.HTTP_202_ACCEPTED)
