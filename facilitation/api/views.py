"""Facilitation in the API: `/api/v1/matches/{id}/transition/`, `events/`, `notes/`, `messages/`,
`realised/`, and `/api/v1/notifications/`. `/api/v1/matches/` itself is matching's viewset with these
actions added (`MatchViewSet` below, registered in symbiosis/api_urls.py). The same services as the
pages; a refused move is 400 (bad input), 403 (not yours to make) or 409 (not allowed from the
current status), and changes nothing."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from facilitation import selectors as sel
from facilitation.api.serializers import (
    MatchDetailSerializer,
    MessageSerializer,
    NoteSerializer,
    NotificationSerializer,
    RealisedSerializer,
    TimelineEntrySerializer,
    TransitionSerializer,
)
from facilitation.models import Notification
from facilitation.services import match_message_create, match_note_create, realised_exchange_record
from facilitation.transitions import TransitionError, match_transition
from matching.api import views as matching_api
from matching.api.serializers import MatchSerializer

UNAUTHENTICATED = OpenApiResponse(description="Not signed in (no session or token).")
NOT_VISIBLE = OpenApiResponse(description="No such match, or you may not see it.")
REFUSED = {
    400: OpenApiResponse(description="Invalid input, e.g. a rejection without a reason code."),
    401: UNAUTHENTICATED,
    403: OpenApiResponse(description="You may see the match but not make this move (e.g. a company approving)."),
    404: NOT_VISIBLE,
    409: OpenApiResponse(description="The move is not allowed from the match's current status; nothing changed."),
}


def _text_thread(request, match, rows, serializer_class, create, refused: str) -> Response:
    """GET the rows (notes or messages) the user may read, or POST a new one; `rows` is None when the
    user may not use this thread (403)."""
    if rows is None:
        raise PermissionDenied(refused)
    if request.method in ("GET", "HEAD"):  # HEAD is a read: CSRF checks skip it, so it must never write
        return Response(serializer_class(rows, many=True).data)
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    item = create(match=match, author=request.user, text=data.validated_data["text"])
    return Response(serializer_class(item).data, status=status.HTTP_201_CREATED)


def _refused(exc: TransitionError) -> Response:
    return Response({"detail": exc.message}, status=exc.status)


class MatchFacilitationMixin:
    """Facilitation actions of `MatchViewSet` (put it first among the bases)."""

    def get_serializer_class(self):
        return MatchDetailSerializer if getattr(self, "action", None) == "retrieve" else super().get_serializer_class()

    def get_queryset(self):
        qs = super().get_queryset()
        return qs.prefetch_related("offer__ewc_codes") if getattr(self, "action", None) == "retrieve" else qs

    def filter_queryset(self, queryset):
        # The match is looked up unfiltered for these actions: the query string does not filter it.
        if getattr(self, "action", None) in ("transition", "events", "notes", "messages", "realised"):
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(summary="Move a match", request=TransitionSerializer, responses={200: MatchSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None, format=None):
        """Review, approve, reject (with a reason code), introduce, accept/decline (a party's
        "interested"/"not interested"), negotiate, implement or withdraw."""
        match = self.get_object()
        data = TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            match_transition(match_id=match.pk, actor=request.user, **data.validated_data)
        except TransitionError as exc:
            return _refused(exc)
        return Response(MatchSerializer(self.get_queryset().get(pk=match.pk), context={"request": request}).data)

    @extend_schema(summary="History of a match", responses={200: TimelineEntrySerializer(many=True), 401: UNAUTHENTICATED,
                                                            404: NOT_VISIBLE})
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, pk=None, format=None):
        match = self.get_object()
        return Response(TimelineEntrySerializer(sel.match_timeline(user=request.user, match=match), many=True).data)

    @extend_schema(summary="Private facilitator notes", request=NoteSerializer,
                   responses={200: NoteSerializer(many=True), 201: NoteSerializer, **REFUSED})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def notes(self, request, pk=None, format=None):
        """Facilitators of the match's regions and staff only; companies get 403."""
        match = self.get_object()
        return _text_thread(request, match, sel.match_notes(user=request.user, match=match), NoteSerializer,
                            match_note_create, "Notes are for facilitators of this match's region and staff.")

    @extend_schema(summary="Message thread", request=MessageSerializer,
                   responses={200: MessageSerializer(many=True), 201: MessageSerializer, **REFUSED})
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def messages(self, request, pk=None, format=None):
        """Open once both companies are revealed to each other: both parties, the region's
        facilitators and staff; 403 before that."""
        match = self.get_object()
        return _text_thread(request, match, sel.match_thread(user=request.user, match=match), MessageSerializer,
                            match_message_create, "Messages open once both companies have accepted the introduction.")

    @extend_schema(summary="Record the realised exchange", request=RealisedSerializer,
                   responses={201: RealisedSerializer, **REFUSED})
    @action(detail=True, methods=["post"])
    def realised(self, request, pk=None, format=None):
        """Start date and real yearly quantity; marks the match implemented (facilitators, staff)."""
        match = self.get_object()
        data = RealisedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            realised = realised_exchange_record(match_id=match.pk, actor=request.user, **data.validated_data)
        except TransitionError as exc:
            return _refused(exc)
        return Response(RealisedSerializer(realised).data, status=status.HTTP_201_CREATED)


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your own in-app notifications, newest first."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return sel.notification_list(user=self.request.user)


@extend_schema_view(
    list=extend_schema(responses={200: MatchSerializer(many=True), 400: matching_api.BAD_FILTER,
                       401: matching_api.UNAUTHENTICATED}),
    retrieve=extend_schema(responses={200: MatchDetailSerializer, 401: matching_api.UNAUTHENTICATED,
                           404: matching_api.NOT_VISIBLE}),
)
class MatchViewSet(MatchFacilitationMixin, matching_api.MatchViewSet):
    """Suggested exchanges you may see: your companies' matches, and as a facilitator every match
    touching your regions. Anonymous counterparts show sector, region and approximate distance;
    their price, disposal cost, composition and site stay hidden."""
