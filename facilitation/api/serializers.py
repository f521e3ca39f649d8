"""Serializers of facilitation in the API: moves, timeline entries, notes, messages, the realised
exchange, the match with its regulatory flags, notifications."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from facilitation import selectors as sel
from facilitation.models import MatchMessage, MatchNote, Notification, RealisedExchange
from facilitation.services import REALISED_MAX_YEARLY
from matching.api.serializers import MatchSerializer
from matching.choices import MatchAction, RejectionReason


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


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ("id", "match", "text", "created_at", "read_at")
        read_only_fields = fields
