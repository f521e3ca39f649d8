"""The only place where lists of companies, sites, regions and NACE codes are filtered."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from companies.choices import Country, NaceRevision
from companies.models import Company, NaceCode, Region, Site
from companies.reference import normalise_nace_input
from companies.roles import roles_for


class RegionFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    country = django_filters.ChoiceFilter(choices=Country.choices)

    class Meta:
        model = Region
        fields = ("q", "country")

    def search(self, qs, name, value):
        return qs.filter(Q(code__icontains=value) | Q(name__icontains=value))


class NaceCodeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    revision = django_filters.ChoiceFilter(choices=NaceRevision.choices)
    level = django_filters.NumberFilter()

    class Meta:
        model = NaceCode
        fields = ("q", "revision", "level")

    def search(self, qs, name, value):
        compact = normalise_nace_input(value)
        cond = Q(title__icontains=value)
        if compact.isdigit():
            cond |= Q(compact__startswith=compact)
        return qs.filter(cond)


class CompanyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    country = django_filters.ChoiceFilter(choices=Country.choices)
    nace = django_filters.CharFilter(method="filter_nace", label=_("NACE code or prefix"))
    region = django_filters.CharFilter(method="filter_region", label=_("Region code"))
    is_sme = django_filters.BooleanFilter()
    external_ref = django_filters.CharFilter()
    unverified = django_filters.BooleanFilter(
        method="filter_unverified", label=_("Not yet verified"),
        help_text=_("Companies you may verify (facilitators: those with a site in your regions; staff: all), "
                    "not yet verified (true) or verified (false). Matches none for anyone else."),
    )

    class Meta:
        model = Company
        fields = ("q", "country", "nace", "region", "is_sme", "external_ref", "unverified")

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)

    def filter_unverified(self, qs, name, value):
        # Whether a company is verified is shown only to those who may verify it (`can_verify_company`):
        # the filter looks only there, so nobody else learns another company's state through it.
        roles = roles_for(self.user)
        if not roles.is_staff:
            if not roles.facilitator_region_ids:
                return qs.none()
            sites = Site.objects.filter(region_id__in=roles.facilitator_region_ids).order_by()
            qs = qs.filter(pk__in=sites.values("company_id"))
        return qs.filter(verified_at__isnull=value)

    def search(self, qs, name, value):
        return qs.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_nace(self, qs, name, value):
        return qs.filter(nace__compact__startswith=normalise_nace_input(value))

    def filter_region(self, qs, name, value):
        return qs.filter(pk__in=Site.objects.filter(region__code=value).values("company_id"))


class SiteFilterSet(django_filters.FilterSet):
    company = django_filters.NumberFilter(field_name="company_id")
    region = django_filters.CharFilter(field_name="region__code")

    class Meta:
        model = Site
        fields = ("company", "region")
