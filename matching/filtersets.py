"""The only place where lists of matches and matching runs are filtered (pages and API alike).

`MatchFilterSet` also applies the `ordering` parameter (see `matching.forms.ordering_terms`), so a page
orders exactly as the API's OrderingFilter does.
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from companies.anonymity import REGION, label_table
from companies.models import Region, Site
from companies.roles import roles_for
from matching import disclosure_sql
from matching.choices import MatchStatus, RunKind, RunStatus
from matching.forms import MatchFilterForm, ordering_terms
from matching.models import Match, MatchingRun, in_regions_q
from streams.choices import StreamKind, Visibility
from streams.models import Stream
from streams.permissions import identity_q


class IdFilter(django_filters.Filter):
    """A whole-number id (NumberFilter would accept 1.5)."""

    field_class = forms.IntegerField


class MatchFilterSet(django_filters.FilterSet):
    """Filters over matches the viewer may see. Pass `user` (or a `request`): the company filter
    depends on who asks, so that it cannot reveal the company behind an anonymous listing."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    stream = IdFilter(method="filter_stream", label=_("Stream number (offer or need)"))
    company = IdFilter(method="filter_company", label=_("Company number (either side)"))
    kind = django_filters.ChoiceFilter(choices=StreamKind.choices, method="filter_kind", label=_("Kind"))
    min_score = django_filters.NumberFilter(
        method="filter_min_score", label=_("Minimum score"), min_value=0, max_value=1,
        widget=forms.Select(choices=(
            ("", _("Any")), ("0.25", "25 %"), ("0.5", "50 %"), ("0.75", "75 %"), ("0.9", "90 %"),
        )),
        help_text=_("0 to 1"),
    )
    # A column of Match itself: no join, so no DISTINCT (django-filter's default would make every
    # list with a status filter count through SELECT DISTINCT, twice the work of the window count).
    status = django_filters.MultipleChoiceFilter(
        choices=MatchStatus.choices, label=_("Status"), widget=forms.CheckboxSelectMultiple, distinct=False,
    )
    region = django_filters.ModelChoiceFilter(
        queryset=Region.objects.all(), to_field_name="code", method="filter_region", label=_("Region"),
    )
    prospective = django_filters.BooleanFilter(label=_("Prospective (no declared need or offer)"))
    category = django_filters.CharFilter(
        method="filter_category", label=_("Category code"),
        help_text=_("A resource category code, e.g. MAT.FOOD; includes its sub-categories"),
    )
    min_age_days = django_filters.NumberFilter(
        method="filter_min_age", label=_("Waiting at least (days)"), min_value=0, max_value=3650,
    )
    max_age_days = django_filters.NumberFilter(
        method="filter_max_age", label=_("Suggested within (days)"), min_value=0, max_value=3650,
    )

    class Meta:
        model = Match
        form = MatchFilterForm
        fields = ("q", "stream", "company", "kind", "min_score", "status", "region", "prospective", "category",
                  "min_age_days", "max_age_days")

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, user=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = user if user is not None else getattr(request, "user", None)

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        for name, value in data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset.order_by(*disclosure_sql.ordering(self.user, ordering_terms(data.get("ordering"))))

    def filter_min_score(self, qs, name, value):
        # The score the viewer is shown: the engine's for staff and facilitators, else the shared one
        # (matching/disclosure_sql.py), so the filter answers no question about hidden figures.
        if disclosure_sql.exact_order(self.user):
            return qs.filter(score__gte=value)
        return qs.alias(shown_score=disclosure_sql.shared_score()).filter(shown_score__gte=float(value))

    # Search and the stream filter look only at streams the viewer may open (`Stream.visible_to`):
    # a match also shows the other side's category and quantity, so a search over a hidden title or a
    # hidden stream id would confirm them word by word or id by id.

    def search(self, qs, name, value: str):
        # Titles only: searching company names would reveal who is behind an anonymous listing.
        opened = Stream.objects.visible_to(self.user).order_by().values("pk")
        return qs.filter(
            Q(offer__title__icontains=value, offer_id__in=opened) | Q(need__title__icontains=value, need_id__in=opened)
        )

    def filter_stream(self, qs, name, value: int):
        if not Stream.objects.visible_to(self.user).filter(pk=value).exists():
            return qs.none()  # as for a stream that does not exist
        return qs.filter(Q(offer_id=value) | Q(need_id=value))

    def filter_category(self, qs, name, value: str):
        code = value.strip()
        sub = f"{code}."
        return qs.filter(
            Q(offer__category__code=code) | Q(offer__category__code__startswith=sub)
            | Q(need__category__code=code) | Q(need__category__code__startswith=sub)
        )

    def filter_min_age(self, qs, name, value):
        return qs.filter(created_at__lte=timezone.now() - dt.timedelta(days=float(value)))

    def filter_max_age(self, qs, name, value):
        return qs.filter(created_at__gte=timezone.now() - dt.timedelta(days=float(value)))

    def filter_kind(self, qs, name, value: str):
        return qs.filter(Q(offer__kind=value) | Q(need__kind=value))

    @extend_schema_field(OpenApiTypes.STR)  # a region code, e.g. SE22
    def filter_region(self, qs, name, value):
        # The offer's or need's site, or a company's site on the side without a stream. Hashed: it
        # narrows what `visible_to` found (for a facilitator, by the same kind of region condition).
        # A side whose company is hidden from the viewer counts only where its label shows the region
        # (companies/anonymity.py): the filter must not place it finer than the match page does.
        roles = roles_for(self.user)
        if roles.is_staff:
            return qs.filter(in_regions_q([value.pk], prospective_sources=True, hashed=True))
        in_region = Site.objects.filter(region=value).order_by()
        labelled = in_region.filter(label_table().sites_q(
            lambda region_id, label: region_id == value.pk and label.area == REGION)).values("pk")
        streams = Stream.objects.filter(site__region=value).filter(
            identity_q(self.user) | Q(site_id__in=labelled)).order_by().values("pk")
        companies = in_region.filter(
            Q(company_id__in=roles.company_ids) | Q(region_id__in=roles.facilitator_region_ids) | Q(pk__in=labelled)
        ).values("company_id")
        return qs.filter(
            Q(offer_id__in=streams) | Q(need_id__in=streams)
            | (Q(need__isnull=True) & Q(target_company_id__in=companies))
            | (Q(offer__isnull=True) & Q(source_company_id__in=companies))
        )

    def filter_company(self, qs, name, value: int):
        either = Q(source_company_id=value) | Q(target_company_id=value)
        roles = roles_for(self.user)
        if roles.is_staff or value in roles.company_ids:
            return qs.filter(either)
        # Another company: only the matches in which its name is shown to this viewer.
        named = (Q(source_company_id=value) & Q(offer__visibility=Visibility.PUBLIC)) | (
            Q(target_company_id=value) & Q(need__visibility=Visibility.PUBLIC)
        )
        if roles.facilitator_region_ids:
            # A facilitator knows the sides in its regions, not the other side of a match that reaches
            # out of them: the company must be on a side in its regions.
            regions = roles.facilitator_region_ids
            streams = Stream.objects.filter(site__region_id__in=regions).order_by().values("pk")
            companies = Site.objects.filter(region_id__in=regions).order_by().values("company_id")
            named |= Q(source_company_id=value) & (
                Q(offer_id__in=streams) | Q(offer__isnull=True, source_company_id__in=companies))
            named |= Q(target_company_id=value) & (
                Q(need_id__in=streams) | Q(need__isnull=True, target_company_id__in=companies))
        return qs.filter(pk__in=Match.objects.filter(named).values("pk"))


class MatchingRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, label=_("Status"))
    kind = django_filters.ChoiceFilter(choices=RunKind.choices, label=_("Kind"))

    class Meta:
        model = MatchingRun
        fields = ("status", "kind")
