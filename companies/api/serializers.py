from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from companies.choices import Country
from companies.models import Company, CompetitorExclusion, NaceCode, Region, Site
from companies.presentation import note_site_reads


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ("id", "code", "name", "country", "latitude", "longitude")


class NaceCodeSerializer(serializers.ModelSerializer):
    class Meta:
        model = NaceCode
        fields = ("id", "revision", "code", "level", "parent_code", "title")


class NaceBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = NaceCode
        fields = ("code", "title")


class CompanySerializer(serializers.ModelSerializer):
    nace = NaceBriefSerializer(read_only=True)
    # A URL or empty: a URLField would promise `format: uri`, which "" breaks.
    website = serializers.CharField(read_only=True, help_text="The company's website URL, or empty")

    class Meta:
        model = Company
        fields = (
            "id", "name", "nace", "nace_as_entered", "employees", "is_sme", "country", "description",
            "website", "external_ref", "entered_by_facilitator", "created_at", "updated_at",
        )
        read_only_fields = fields


class CompanyVerificationSerializer(serializers.ModelSerializer):
    """Whether a company is verified (a facilitator or staff member checked it is real; it counts in
    dashboards DASHBOARD_MIN_COMPANY_AGE_DAYS later), as those who may verify it see it."""

    verified = serializers.SerializerMethodField()
    verified_by = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = ("id", "verified", "verified_at", "verified_by")
        read_only_fields = fields

    def get_verified(self, obj) -> bool:
        return obj.verified_at is not None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_verified_by(self, obj) -> str | None:
        """The verifier's name (or user name); null if not verified or not known."""
        user = obj.verified_by
        return (user.get_full_name() or user.get_username()) if user is not None else None


class CompanyWriteSerializer(serializers.Serializer):
    """Input for creating or changing a company; NACE codes of either revision, dots optional."""

    name = serializers.CharField(max_length=200)
    nace_code = serializers.CharField(max_length=12, help_text="NACE Rev. 2.1 or Rev. 2 code, e.g. 10.51 or 1051")
    country = serializers.ChoiceField(choices=Country.choices)
    employees = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    website = serializers.URLField(required=False, allow_blank=True)
    # No external_ref: it is the key of an import (read-only here), set only by the importer.


class SiteSerializer(serializers.ModelSerializer):
    """An exact site, for whoever `Site.visible_to` lets see it; every response that shows one to a
    facilitator or staff member is an audited read (companies/presentation.py)."""

    region = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = Site
        fields = ("id", "company", "name", "address", "latitude", "longitude", "region", "created_at")
        read_only_fields = fields

    def to_representation(self, instance):
        note_site_reads(getattr(self.context.get("request"), "user", None), [instance])
        return super().to_representation(instance)


class SiteWriteSerializer(serializers.Serializer):
    company = serializers.PrimaryKeyRelatedField(queryset=Company.objects.all())
    name = serializers.CharField(max_length=120)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)
    region = serializers.CharField(max_length=120, required=False, allow_blank=True, help_text="Region code; nearest if omitted")


class SiteUpdateSerializer(SiteWriteSerializer):
    company = None


class CompetitorExclusionSerializer(serializers.ModelSerializer):
    """An exclusion as its company's admins see it. `excluded_company` is the id of a picked company
    while the caller may see it, else null (always null for an exclusion by name): an answer must not
    reveal anything about a company the caller cannot see. `excluded_company_name` is the name as
    given (or the picked company's name then); null for a NACE exclusion, as `excluded_nace` is null
    for the others."""

    excluded_company = serializers.SerializerMethodField()
    excluded_company_name = serializers.SerializerMethodField()
    excluded_nace = NaceBriefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CompetitorExclusion
        fields = ("id", "excluded_company", "excluded_company_name", "excluded_nace", "created_at")
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_excluded_company(self, obj) -> int | None:
        return obj.excluded_company_id if getattr(obj, "excluded_company_visible", False) else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_excluded_company_name(self, obj) -> str | None:
        return None if obj.excluded_nace_id else obj.excluded_name


@extend_schema_field(OpenApiTypes.INT)
class VisibleCompanyField(serializers.PrimaryKeyRelatedField):
    """A company id among those the requesting user can see: an id must not reveal a name."""

    def get_queryset(self):
        return Company.objects.visible_to(self.context["request"].user)


class CompetitorExclusionWriteSerializer(serializers.Serializer):
    """Exactly one: a company id (one you can see), a company name (it applies to a company of that
    name now or once it joins; any case), or a NACE code (division, group or class, either revision)."""

    excluded_company = VisibleCompanyField(required=False)
    company_name = serializers.CharField(max_length=200, required=False)
    nace_code = serializers.CharField(max_length=12, required=False)

    def validate(self, attrs):
        given = [k for k in ("excluded_company", "company_name", "nace_code") if attrs.get(k)]
        if len(given) != 1:
            raise serializers.ValidationError("Give one of excluded_company, company_name or nace_code.")
        if "company_name" in attrs:
            attrs["excluded_name"] = attrs.pop("company_name")
        return attrs
