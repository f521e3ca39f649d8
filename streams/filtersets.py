"""The only place where lists of streams and taxonomy entries are filtered (pages and API alike)."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from companies.anonymity import COUNTRY, REGION, label_table
from companies.choices import Country
from companies.models import Region, Site
from companies.reference import normalise_nace_input
from core.expressions import AnyOf
from streams.choices import Direction, StreamKind, StreamStatus, Visibility
from streams.ewc import normalise_ewc
from streams.models import EwcCode, ResourceCategory, Stream
from streams.permissions import confidential_q, identity_q


class StreamFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    direction = django_filters.ChoiceFilter(choices=Direction.choices, label=_("Offer or need"))
    kind = django_filters.ChoiceFilter(choices=StreamKind.choices, label=_("Kind"))
    category = django_filters.CharFilter(method="filter_category", label=_("Category code"))
    ewc = django_filters.CharFilter(method="filter_ewc", label=_("EWC code"))
    region = django_filters.ModelChoiceFilter(
        field_name="site__region", to_field_name="code", queryset=Region.objects.all(), label=_("Region"),
        method="filter_region",
    )
    country = django_filters.ChoiceFilter(choices=Country.choices, label=_("Country"), method="filter_country")
    nace = django_filters.CharFilter(method="filter_nace", label=_("Sector (NACE)"))
    company = django_filters.NumberFilter(method="filter_company", label=_("Company"))
    status = django_filters.ChoiceFilter(choices=StreamStatus.choices, label=_("Status"))
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices, label=_("Visibility"))
    hazardous = django_filters.BooleanFilter(label=_("Hazardous"))
    external_ref = django_filters.CharFilter(method="filter_external_ref", label=_("Import reference"))

    class Meta:
        model = Stream
        fields = (
            "q", "direction", "kind", "category", "ewc", "region", "country", "nace", "company",
            "status", "visibility", "hazardous", "external_ref",
        )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)

    # Who is behind a listing, and its import reference, are shown only where the viewer may see them
    # (`streams.permissions`): these two filters match only there. Asked about an anonymous listing's
    # company, they answer as for a company that lists nothing, so they cannot name its owner.

    def filter_company(self, qs, name, value):
        return qs.filter(identity_q(self.user), company_id=value)

    def filter_external_ref(self, qs, name, value):
        return qs.filter(confidential_q(self.user), external_ref=value)

    # Region and category are subqueries on the stream's own columns (`AnyOf`), not joins: the planner
    # can then start from the region's sites or the matching categories through the streams' indexes
    # and, for `q`, combine the title and description trigram indexes with the category one.

    def search(self, qs, name, value):
        categories = ResourceCategory.objects.filter(name__icontains=value).order_by().values("pk")
        return qs.filter(
            Q(title__icontains=value) | Q(description__icontains=value) | Q(AnyOf("category_id", categories))
        )

    def filter_region(self, qs, name, value):
        qs = qs.filter(AnyOf("site_id", Site.objects.filter(region=value).order_by().values("pk")))
        return qs.filter(self._shown(lambda region_id, label: region_id == value.pk and label.area == REGION))

    def filter_category(self, qs, name, value):
        # A group code selects all its descendants: MAT.WOOD finds MAT.WOOD.SAWDUST too.
        codes = Q(code=value) | Q(code__startswith=f"{value}.")
        return qs.filter(AnyOf("category_id", ResourceCategory.objects.filter(codes).order_by().values("pk")))

    def filter_ewc(self, qs, name, value):
        code = normalise_ewc(value)
        return qs.filter(ewc_codes__code__startswith=code).distinct()

    def filter_nace(self, qs, name, value):
        code = normalise_nace_input(value)
        qs = qs.filter(company__nace__compact__startswith=code)
        return qs.filter(self._shown(lambda _region_id, label: label.sector_compact.startswith(code)
                                     and label.sector_level >= 2))

    def filter_country(self, qs, name, value):
        shown = self._labelled(lambda _region_id, label: label.country == value and label.area in (REGION, COUNTRY))
        return qs.filter((identity_q(self.user) & Q(company__country=value)) | shown)

    # Sector, region and country say no more of a listing whose company is hidden from the viewer than
    # its label (companies/anonymity.py): such a listing is found only where its *shown* sector lies
    # under the code asked for, its shown area is the region asked for, or lies in the country.

    def _labelled(self, shows) -> Q:
        """Streams whose label (as for a viewer not told the company) satisfies `shows`."""
        return Q(site_id__in=Site.objects.filter(label_table().sites_q(shows)).order_by().values("pk"))

    def _shown(self, shows) -> Q:
        """Streams whose company the viewer may be told, or whose label satisfies `shows`."""
        return identity_q(self.user) | self._labelled(shows)


class EwcCodeFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    hazardous = django_filters.BooleanFilter(field_name="is_hazardous")
    chapter = django_filters.CharFilter(field_name="code", lookup_expr="startswith")
    category = django_filters.CharFilter(field_name="category__code")

    class Meta:
        model = EwcCode
        fields = ("q", "hazardous", "chapter", "category")

    def search(self, qs, name, value):
        code = normalise_ewc(value)
        cond = Q(description__icontains=value)
        if code.isdigit():
            cond |= Q(code__startswith=code)
        return qs.filter(cond)


class ResourceCategoryFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=StreamKind.choices)
    leaf = django_filters.BooleanFilter(field_name="is_leaf")
    parent = django_filters.CharFilter(field_name="parent__code")

    class Meta:
        model = ResourceCategory
        fields = ("q", "kind", "leaf", "parent")

    def search(self, qs, name, value):
        return qs.filter(
            Q(name__icontains=value) | Q(description__icontains=value) | Q(code__istartswith=value)
        )
