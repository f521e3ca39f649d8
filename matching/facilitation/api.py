"""Facilitation in the API: `/api/v1/matches/{id}/transition/`, `events/`, `notes/`, `messages/`,
`realised/`, and `/api/v1/notifications/`. The same services as the pages; a refused move is 400
(bad input), 403 (not yours to make) or 409 (not allowed from the current status), and changes
nothing."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from matching.api.serializers import MatchSerializer
from matching.choices import MatchAction, RejectionReason
from matching.facilitation import selectors as sel
from matching.facilitation.services import (
    REALISED_MAX_YEARLY,
    match_message_create,
    match_note_create,
    realised_exchange_record,
)
from matching.facilitation.transitions import TransitionError, match_transition
from matching.models import MatchMessage, MatchNote, Notification, RealisedExchange

UNAUTHENTICATED = OpenApiResponse(description="Not signed in (no session or token).")
NOT_VISIBLE = OpenApiResponse(description="No such match, or you may not see it.")
REFUSED = {
    400: OpenApiResponse(description="Invalid input, e.g. a rejection without a reason code."),
    401: UNAUTHENTICATED,
    403: OpenApiResponse(description="You may see the match but not make this move (e.g. a company approving)."),
    404: NOT_VISIBLE,
    409: OpenApiResponse(description="The move is not allowed from the match's current status; nothing changed."),
}


class TransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=MatchAction.choices)
    reason_code = serializers.ChoiceField(choices=RejectionReason.choices, required=False, allow_blank=True,
                                          help_text="Required to reject")
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class TimelineEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField(source="action_label")
    from_status = serializers.CharField(source="from_label")
    to_status = serializers.CharField(source="to_label")
    who = serializers.CharField(help_text="A username for facilitators and staff; a role for companies")
    reason = serializers.CharField()
    comment = serializers.CharField()


class NoteSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MatchNote
        fields = ("id", "author", "text", "created_at")
        read_only_fields = ("id", "author", "created_at")


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MatchMessage
        fields = ("id", "author", "author_role", "text", "created_at")
        read_only_fields = ("id", "author", "author_role", "created_at")


class RealisedSerializer(serializers.ModelSerializer):
    class Meta:
        model = RealisedExchange
        fields = ("started_on", "quantity_yearly", "note", "unit", "co2e_t", "diverted_t", "eur_provider",
                  "eur_receiver", "water_m3", "energy_mwh")
        read_only_fields = ("unit", "co2e_t", "diverted_t", "eur_provider", "eur_receiver", "water_m3", "energy_mwh")
        extra_kwargs = {"quantity_yearly": {"min_value": 0.001, "max_value": REALISED_MAX_YEARLY}}


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="hazardous, mirror, status_<regulatory status> or cross_border")
    text = serializers.CharField()


class MatchDetailSerializer(MatchSerializer):
    """One match, with its regulatory flags (information, never a ruling)."""

    regulatory_flags = serializers.SerializerMethodField()

    @extend_schema_field(FlagSerializer(many=True))
    def get_regulatory_flags(self, view):
        return FlagSerializer(sel.regulatory_flags(view.match), many=True).data


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


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "match", "text", "created_at", "read_at")
        read_only_fields = fields


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Your own in-app notifications, newest first."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return sel.notification_list(user=self.request.user)
