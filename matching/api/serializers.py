"""Matches and matching runs in the API. A match is serialized from `MatchView`, so the API shows
exactly what the pages show: the same identity, confidentiality and money rules."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from matching.choices import MatchAction, MatchStatus, OptIn, RunKind
from matching.models import Match, MatchingRun
from matching.moves import allowed_actions
from matching.presentation import present_match
from streams.choices import Direction, DisposalRoute, StreamKind
from streams.models import Stream


class MatchCompanySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MatchCodeNameSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class MatchSectorSerializer(serializers.Serializer):
    code = serializers.CharField(allow_blank=True, help_text=(
        "The company's NACE code; where its name is hidden, the code shared by at least 3 companies "
        "(empty for none)"))
    title = serializers.CharField(allow_blank=True)


class MatchStreamSerializer(serializers.Serializer):
    """The stream of one side. `id` and `title` are null when the viewer may not open the listing."""

    id = serializers.IntegerField(allow_null=True)
    title = serializers.CharField(allow_null=True)
    direction = serializers.ChoiceField(choices=Direction.choices)
    kind = serializers.ChoiceField(choices=StreamKind.choices)
    category = MatchCodeNameSerializer()
    quantity_yearly = serializers.FloatField(allow_null=True)
    base_unit = serializers.CharField()


class MatchSiteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class MatchConfidentialSerializer(serializers.Serializer):
    price_eur_per_unit = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    disposal_route = serializers.ChoiceField(choices=DisposalRoute.choices, allow_blank=True)
    disposal_cost_eur_per_unit = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    composition = serializers.CharField(allow_blank=True)
    contaminants = serializers.CharField(allow_blank=True)


class MatchSideSerializer(serializers.Serializer):
    """One side of a match as the viewer may see it. `company` is null unless the listing is public,
    the side is the viewer's own, or the viewer facilitates the match's region; `confidential` and
    `site` are null for the counterpart of a party (until both opt in to an introduction)."""

    role = serializers.ChoiceField(choices=Direction.choices)
    own = serializers.BooleanField()
    label = serializers.CharField(help_text="The company's name, or its sector when the name is hidden")
    description = serializers.CharField(help_text='e.g. "Dairy company (NACE 10.51), Sydsverige, about 15 km away"')
    company = serializers.SerializerMethodField()
    sector = serializers.SerializerMethodField()
    region = serializers.SerializerMethodField()
    stream = serializers.SerializerMethodField()
    site = serializers.SerializerMethodField()
    confidential = MatchConfidentialSerializer(allow_null=True)

    @extend_schema_field(MatchCompanySerializer(allow_null=True))
    def get_company(self, side):
        return {"id": side.company.pk, "name": side.company.name} if side.show_identity else None

    @extend_schema_field(MatchSectorSerializer)
    def get_sector(self, side):
        return side.sector

    @extend_schema_field(MatchCodeNameSerializer(allow_null=True))
    def get_region(self, side):
        return side.area

    @extend_schema_field(MatchStreamSerializer(allow_null=True))
    def get_stream(self, side):
        s = side.stream
        if s is None:
            return None
        named = side.stream_visible or side.show_confidential
        return {
            "id": s.pk if named else None, "title": s.title if named else None, "direction": s.direction,
            "kind": s.kind, "category": {"code": s.category.code, "name": s.category.name},
            "quantity_yearly": s.quantity_yearly, "base_unit": s.base_unit,
        }

    @extend_schema_field(MatchSiteSerializer(allow_null=True))
    def get_site(self, side):
        site = side.exact_site
        if site is None:
            return None
        return {"id": site.pk, "name": site.name, "address": site.address, "latitude": site.latitude,
                "longitude": site.longitude}


class MatchPartSerializer(serializers.Serializer):
    key = serializers.ChoiceField(choices=[(k, k) for k in ("compatibility", "distance", "volume_value", "availability")])
    label = serializers.CharField()
    value = serializers.FloatField(min_value=0, max_value=1)
    percent = serializers.IntegerField(min_value=0, max_value=100)


class MatchImpactSerializer(serializers.Serializer):
    """Estimated yearly impact. Money the viewer may not see is null; parties get figures rounded to
    two significant digits."""

    quantity_yearly = serializers.FloatField(source="exchangeable_yearly")
    unit = serializers.CharField()
    co2e_t = serializers.FloatField(help_text="t CO2e avoided per year")
    diverted_t = serializers.FloatField(
        allow_null=True,
        help_text="t diverted from landfill or incineration per year; null for a viewer who does not know the "
                  "provider's side (it follows the provider's confidential disposal route)",
    )
    eur_provider = serializers.FloatField(allow_null=True, help_text="EUR per year for the offer side")
    eur_receiver = serializers.FloatField(allow_null=True, help_text="EUR per year for the need side")
    transport_eur = serializers.FloatField(allow_null=True)
    assumptions = serializers.ListField(child=serializers.CharField())


class MatchSerializer(serializers.Serializer):
    """A match as the requesting user may see it (see `matching/presentation.py` for the rules)."""

    id = serializers.IntegerField(source="match.pk")
    status = serializers.ChoiceField(source="match.status", choices=MatchStatus.choices)
    prospective = serializers.BooleanField()
    prospective_label = serializers.CharField()
    sector_reason = serializers.CharField(help_text="For prospective matches: the evidence from past exchanges")
    score = serializers.FloatField(
        min_value=0, max_value=1,
        help_text="The engine's score if you may see both sides; else the score from the rounded figures you see",
    )
    score_percent = serializers.IntegerField()
    parts = MatchPartSerializer(many=True)
    reasons = serializers.ListField(child=serializers.CharField())
    distance_km = serializers.FloatField(allow_null=True, help_text="Exact; only for facilitators and staff")
    approx_distance_km = serializers.IntegerField()
    viewer_role = serializers.ChoiceField(
        choices=Direction.choices, allow_null=True, help_text="Your side of the match; null if you are not a party"
    )
    full_view = serializers.BooleanField(source="full")
    eur_per_year = serializers.FloatField(allow_null=True, help_text="The viewer's own side's EUR per year")
    impact = MatchImpactSerializer(source="*")
    offer = MatchSideSerializer()
    need = MatchSideSerializer()
    stream_changed = serializers.BooleanField(source="match.stream_changed")
    revealed = serializers.BooleanField(
        source="match.revealed", help_text="Both companies said yes: each sees the other's name and hidden fields"
    )
    your_answer = serializers.SerializerMethodField(help_text="Your company's answer (yes, no or empty)")
    actions = serializers.SerializerMethodField(help_text="Moves you may make now (POST them to transition/)")
    engine_version = serializers.CharField(source="match.engine_version")
    created_at = serializers.DateTimeField(source="match.created_at")
    updated_at = serializers.DateTimeField(source="match.updated_at")

    @extend_schema_field(serializers.ChoiceField(choices=OptIn.choices, allow_blank=True))
    def get_your_answer(self, view) -> str:
        m = view.match
        return {"offer": m.provider_response, "need": m.receiver_response}.get(view.viewer_role, "")

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=MatchAction.choices)))
    def get_actions(self, view) -> list[str]:
        return [str(a) for a in allowed_actions(self.context["request"].user, view.match)]

    def to_representation(self, instance):
        if isinstance(instance, Match):
            instance = present_match(instance, user=self.context["request"].user)
        return super().to_representation(instance)


class MatchingRunSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = MatchingRun
        fields = (
            "id", "kind", "stream", "status", "progress", "shards_done", "shards_total", "message", "counts",
            "timings", "error", "engine_version", "requested_by", "created_at", "started_at", "heartbeat_at",
            "finished_at",
        )
        read_only_fields = fields


class MatchingRunCreateSerializer(serializers.Serializer):
    """Start a run: `{"kind": "full"}` or `{"kind": "stream", "stream": 12}` (a stream you can see)."""

    kind = serializers.ChoiceField(choices=RunKind.choices)
    stream = serializers.PrimaryKeyRelatedField(queryset=Stream.objects.none(), required=False, allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # Streams the user cannot see answer like streams that do not exist.
        self.fields["stream"].queryset = Stream.objects.visible_to(user)

    def validate(self, attrs):
        if attrs["kind"] == RunKind.STREAM and not attrs.get("stream"):
            raise serializers.ValidationError({"stream": ["Say which stream to match."]})
        if attrs["kind"] == RunKind.FULL and attrs.get("stream"):
            raise serializers.ValidationError({"stream": ["A full run matches every stream; leave this out."]})
        return attrs
