from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from companies.models import Company, Site
from streams.choices import StreamStatus
from streams.models import STREAM_FIELDS, EwcCode, ResourceCategory, Stream
from streams.months import mask_from_months, months_from_mask
from streams.presentation import CONFIDENTIAL_FIELDS, present


class EwcCodeSerializer(serializers.ModelSerializer):
    category = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = EwcCode
        fields = ("code", "display_code", "description", "chapter_title", "sub_chapter_title", "is_hazardous",
                  "is_mirror", "entry_type", "category")


class ResourceCategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = ResourceCategory
        fields = ("code", "name", "kind", "parent", "level", "is_leaf", "value_class", "description")


class _Brief(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class _CompanyBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _Sector(serializers.Serializer):
    code = serializers.CharField(allow_blank=True, help_text=(
        "The company's NACE code; for a company whose name is hidden, the code shared by at least 3 "
        "companies (class, group, division or section; empty for none)"))
    title = serializers.CharField(allow_blank=True)


class _Area(serializers.Serializer):
    code = serializers.CharField(allow_blank=True, help_text=(
        "The site's region; for a company whose name is hidden, the area shared by at least 3 companies: "
        "a region code, a country code, or empty for the whole Baltic Sea region"))
    name = serializers.CharField()


class StreamSerializer(serializers.ModelSerializer):
    """A stream as the requesting user may see it: identity and confidential fields are null when
    hidden (anonymous or private listings of other companies)."""

    company = serializers.SerializerMethodField()
    sector = serializers.SerializerMethodField()
    region = serializers.SerializerMethodField()
    site = serializers.SerializerMethodField()
    category = serializers.SerializerMethodField()
    ewc_codes = serializers.SerializerMethodField()
    months = serializers.SerializerMethodField()
    approx_distance_km = serializers.SerializerMethodField()
    confidential_hidden = serializers.SerializerMethodField()
    external_ref = serializers.SerializerMethodField()

    class Meta:
        model = Stream
        fields = (
            "id", "direction", "kind", "title", "description", "category", "ewc_codes",
            "quantity", "unit", "period", "quantity_min", "quantity_max", "quantity_yearly", "base_unit",
            "availability", "months", "energy_carrier", "temperature_c", "water_quality", "physical_form",
            "provenance", "regulatory_status", "hazardous", "accepts_hazardous", "max_transport_km",
            "valid_from", "valid_until", "status", "visibility", "company", "sector", "region", "site",
            "approx_distance_km", "confidential_hidden", "external_ref", *CONFIDENTIAL_FIELDS,
            "entered_by_facilitator", "created_at", "updated_at",
        )
        read_only_fields = fields
        # Optional choices are stored blank; confidential fields are null when hidden from the viewer.
        extra_kwargs = {
            "energy_carrier": {"allow_blank": True},
            "physical_form": {"allow_blank": True},
            **{f: {"allow_null": True} for f in CONFIDENTIAL_FIELDS},
            "disposal_route": {"allow_null": True, "allow_blank": True},
        }

    def _view(self, obj):
        cache = self.context.setdefault("_views", {})
        if obj.pk not in cache:
            cache[obj.pk] = present(obj, user=self.context["request"].user, origin=self.context.get("origin"))
        return cache[obj.pk]

    def to_representation(self, obj):
        data = super().to_representation(obj)
        if not self._view(obj).show_confidential:
            for f in CONFIDENTIAL_FIELDS:
                data[f] = None
        return data

    @extend_schema_field(_CompanyBrief(allow_null=True))
    def get_company(self, obj):
        return {"id": obj.company_id, "name": obj.company.name} if self._view(obj).show_identity else None

    @extend_schema_field(_Sector)
    def get_sector(self, obj):
        return self._view(obj).sector

    @extend_schema_field(_Area)
    def get_region(self, obj):
        return self._view(obj).region

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_site(self, obj):
        return obj.site_id if self._view(obj).show_confidential else None

    @extend_schema_field(_Brief)
    def get_category(self, obj):
        return {"code": obj.category.code, "name": obj.category.name}

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_ewc_codes(self, obj):
        return [e.code for e in obj.ewc_codes.all()]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=12)))
    def get_months(self, obj):
        return months_from_mask(obj.months)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_approx_distance_km(self, obj):
        return self._view(obj).approx_distance_km

    @extend_schema_field(serializers.BooleanField())
    def get_confidential_hidden(self, obj):
        return not self._view(obj).show_confidential

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_external_ref(self, obj):
        return obj.external_ref if self._view(obj).show_confidential else None


# Where the API's input is stricter than the model (or explains more); every other rule comes from the model.
_MONEY = {"min_value": Decimal(-10_000_000), "max_value": Decimal(10_000_000)}
_WRITE_EXTRA = {
    "quantity": {"min_value": Decimal("0.001")},
    "quantity_min": {"min_value": Decimal(0)},
    "quantity_max": {"min_value": Decimal(0)},
    "description": {"max_length": 10000},
    "composition": {"max_length": 10000},
    "contaminants": {"max_length": 10000},
    "price_eur_per_unit": _MONEY,
    "disposal_cost_eur_per_unit": _MONEY,
    "hazardous": {"help_text": "Offers: set on top of what the EWC code says"},
    "external_ref": {"allow_blank": False},
}


class StreamWriteSerializer(serializers.ModelSerializer):
    """Input for listing or changing a stream. Status, company ownership, hazard flags derived from
    EWC codes and timestamps are not writable here (status moves through /status/). The fields are
    the stream input contract (streams.models.STREAM_FIELDS) with the model's rules."""

    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all(), required=False,
                                                 help_text="Needed only when you act for several companies")
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all(), required=False,
                                              help_text="Defaults to the company's first site")
    category = serializers.CharField(max_length=160, required=False, allow_blank=True,
                                     help_text="Category code or name; may be empty when ewc_codes are given")
    ewc_codes = serializers.ListField(child=serializers.CharField(max_length=12), required=False, max_length=50)
    months = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=12), required=False,
                                   max_length=12)

    class Meta:
        model = Stream
        fields = ("company", "site", "category", "ewc_codes", "hazardous", *STREAM_FIELDS)
        extra_kwargs = _WRITE_EXTRA
        validators = []  # nothing is saved here: the service checks uniqueness (full_clean)

    def validate_months(self, value):
        return mask_from_months(value)


class StreamStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=StreamStatus.choices)
