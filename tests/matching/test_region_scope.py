"""The join-free region scope of matches (`in_regions_q`, used by `Match.objects.visible_to`, the
region filter and `whole_match_q`) selects exactly what the join-based definition selects, and a
match page loaded ids first (`IdsFirst`) lists the same rows in the same order in a fixed number of
queries."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from matching.models import Match, in_regions_q
from matching.selectors import IdsFirst, match_queryset
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, region
from tests.matching.test_api import make_match

pytestmark = pytest.mark.django_db


def joined_q(region_ids, prospective_sources: bool) -> Q:
    """The definition with joins, as the code had it before."""
    q = (Q(offer__site__region_id__in=region_ids) | Q(need__site__region_id__in=region_ids)
         | Q(need__isnull=True, target_company__sites__region_id__in=region_ids))
    if prospective_sources:
        q |= Q(offer__isnull=True, source_company__sites__region_id__in=region_ids)
    return q


@pytest.fixture
def matches(company_a, company_b, company_y):
    """Matches inside SE22, across SE22/FI1B, inside FI1B, and prospective ones both ways, with a
    company that has sites in both regions."""
    both = CompanyFactory(name="Both AB", country="SE")
    SiteFactory(company=both, region=region("SE22"), latitude=55.6, longitude=13.0)
    fi_site = SiteFactory(company=both, region=region("FI1B"), latitude=60.2, longitude=25.0)
    a, b, y = (c.sites.first() for c in (company_a, company_b, company_y))
    offer_a, need_b = StreamFactory(site=a, direction="offer"), StreamFactory(site=b, direction="need")
    offer_y, need_y = StreamFactory(site=y, direction="offer"), StreamFactory(site=y, direction="need")
    offer_both_fi = StreamFactory(site=fi_site, direction="offer")
    return [
        make_match(offer_a, need_b), make_match(offer_a, need_y), make_match(offer_y, need_b),
        make_match(offer_y, need_y), make_match(offer_both_fi, need_y),
        make_match(offer_y, None, target=both), make_match(offer_y, None, target=company_y),
        make_match(None, need_y, source=both), make_match(None, need_y, source=company_y),
        make_match(offer_y, None, target=company_a), make_match(None, need_y, source=company_a, score=0.7),
    ]


@pytest.mark.parametrize("codes", [["SE22"], ["FI1B"], ["SE22", "FI1B"]])
@pytest.mark.parametrize("prospective_sources", [False, True])
def test_in_regions_q_equals_the_joined_definition(matches, codes, prospective_sources):
    region_ids = [region(code).pk for code in codes]
    expected = set(Match.objects.filter(joined_q(region_ids, prospective_sources)).values_list("pk", flat=True))
    got = list(Match.objects.filter(in_regions_q(region_ids, prospective_sources=prospective_sources))
               .values_list("pk", flat=True))
    assert len(got) == len(set(got))  # no joins, no duplicate rows
    assert set(got) == expected
    assert expected  # the fixture covers each case


def test_facilitator_sees_the_joined_definition(matches, facilitator):
    se22 = [region("SE22").pk]
    expected = set(Match.objects.filter(joined_q(se22, False)).values_list("pk", flat=True))
    assert set(Match.objects.visible_to(facilitator).values_list("pk", flat=True)) == expected


def test_ids_first_pages_like_the_queryset_in_fixed_queries(matches, facilitator):
    qs = match_queryset(user=facilitator).order_by("-score", "pk")
    plain, first = Paginator(qs, 3), Paginator(IdsFirst(qs), 3)
    assert first.count == plain.count > 3
    counts = set()
    for number in plain.page_range:
        with CaptureQueriesContext(connection) as ctx:
            rows = list(first.page(number).object_list)
            for m in rows:  # what a page shows: both sides, their sites, regions and categories
                str(m.offer and m.offer.site.region), str(m.need and m.need.category)
                list(m.source_company.sites.all()), list(m.target_company.sites.all())
        counts.add(len(ctx.captured_queries))
        assert [m.pk for m in rows] == [m.pk for m in plain.page(number).object_list]
    assert len(counts) == 1
