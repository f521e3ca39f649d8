"""MatchFilterSet and MatchingRunFilterSet without HTTP: each filter, ordering, and the rule that the
company filter cannot reveal the company behind an anonymous listing."""

from __future__ import annotations

import pytest

from matching.choices import MatchStatus, RunKind, RunStatus
from matching.filtersets import MatchFilterSet, MatchingRunFilterSet
from matching.forms import ordering_terms
from matching.models import Match, MatchingRun
from streams.choices import StreamKind, Visibility
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, region
from tests.matching.test_api import make_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def rows(company_a, company_b, company_y):
    """Offers of A (one anonymous material, one public energy) against B's needs, a prospective
    match of A's offer to Y (Finland), and one of Y's offers against a Finnish need."""
    a_site, b_site, y_site = company_a.sites.first(), company_b.sites.first(), company_y.sites.first()
    whey = StreamFactory(site=a_site, direction="offer", title="Sweet whey")
    heat = StreamFactory(site=a_site, direction="offer", kind=StreamKind.ENERGY, unit="MWh", title="Waste heat",
                         visibility=Visibility.PUBLIC)
    feed = StreamFactory(site=b_site, direction="need", title="Feed wanted")
    warmth = StreamFactory(site=b_site, direction="need", kind=StreamKind.ENERGY, unit="MWh", title="Warmth wanted")
    company_z = CompanyFactory(name="Zeta Oy", country="FI")
    z_site = SiteFactory(company=company_z, latitude=60.17, longitude=24.94, region=region("FI1B"))
    finnish = StreamFactory(site=y_site, direction="offer", title="Finnish whey")
    finnish_need = StreamFactory(site=z_site, direction="need", title="Helsinki need")
    return {
        "whey_feed": make_match(whey, feed, score=0.9),
        "heat_warmth": make_match(heat, warmth, score=0.6, status=MatchStatus.APPROVED),
        "whey_prospect": make_match(whey, None, target=company_y, score=0.3, distance_km=600),
        "finnish": make_match(finnish, finnish_need, score=0.75, distance_km=8),
    }


def pks(rows, *names):
    return {rows[n].pk for n in names}


def run(data, user=None):
    filterset = MatchFilterSet(data, queryset=Match.objects.all(), user=user)
    assert filterset.is_valid(), filterset.errors
    return filterset.qs


def ids(qs):
    return set(qs.values_list("pk", flat=True))


def test_no_filter_returns_everything_best_first(rows, staff):
    qs = run({}, staff)
    assert ids(qs) == pks(rows, *rows)
    assert [m.score for m in qs] == sorted((m.score for m in qs), reverse=True)


def test_stream_matches_the_offer_or_the_need(rows, staff):
    whey = rows["whey_feed"].offer
    assert ids(run({"stream": whey.pk}, staff)) == pks(rows, "whey_feed", "whey_prospect")
    assert ids(run({"stream": rows["whey_feed"].need_id}, staff)) == pks(rows, "whey_feed")
    assert not MatchFilterSet({"stream": "1.5"}, queryset=Match.objects.all()).is_valid()


def test_kind_looks_at_either_stream(rows):
    assert ids(run({"kind": "energy"})) == pks(rows, "heat_warmth")
    assert ids(run({"kind": "material"})) == pks(rows, "whey_feed", "whey_prospect", "finnish")


def test_minimum_score_between_0_and_1(rows):
    assert ids(run({"min_score": "0.7"})) == pks(rows, "whey_feed", "finnish")
    for bad in ("1.5", "-0.1", "lots"):
        assert not MatchFilterSet({"min_score": bad}, queryset=Match.objects.all()).is_valid(), bad


def test_status_takes_several_values(rows):
    from django.http import QueryDict

    assert ids(run(QueryDict("status=approved"))) == pks(rows, "heat_warmth")
    both = QueryDict("status=approved&status=suggested")
    assert ids(run(both)) == pks(rows, *rows)
    assert not MatchFilterSet({"status": ["nonsense"]}, queryset=Match.objects.all()).is_valid()


def test_region_is_either_sides_site_or_a_prospective_companys_site(rows, staff):
    assert ids(run({"region": "SE22"}, staff)) == pks(rows, "whey_feed", "heat_warmth", "whey_prospect")
    # The prospective match has no Finnish stream; its target company's site is in FI1B.
    assert ids(run({"region": "FI1B"}, staff)) == pks(rows, "whey_prospect", "finnish")
    assert run({"region": "FI1B"}, staff).count() == 2  # no duplicate rows from the joins


def test_prospective(rows):
    assert ids(run({"prospective": "true"})) == pks(rows, "whey_prospect")
    assert ids(run({"prospective": "false"})) == pks(rows, "whey_feed", "heat_warmth", "finnish")


def test_search_looks_at_titles_not_company_names(rows, staff):
    assert ids(run({"q": "whey"}, staff)) == pks(rows, "whey_feed", "whey_prospect", "finnish")
    assert ids(run({"q": "warmth"}, staff)) == pks(rows, "heat_warmth")
    assert ids(run({"q": "Alpha Dairy"}, staff)) == set()


def test_company_filter_for_own_company_staff_and_facilitators(rows, company_a, company_b, member, other_member,
                                                                 facilitator, facilitator_y, staff):
    everything_of_a = pks(rows, "whey_feed", "heat_warmth", "whey_prospect")
    assert ids(run({"company": company_a.pk}, member)) == everything_of_a
    assert ids(run({"company": company_a.pk}, staff)) == everything_of_a
    assert ids(run({"company": company_a.pk}, facilitator)) == everything_of_a
    assert ids(run({"company": company_b.pk}, other_member)) == pks(rows, "whey_feed", "heat_warmth")


def test_company_filter_does_not_unmask_anonymous_listings(rows, company_a, company_y, other_member, facilitator_y):
    # B may find A only where A's listing is public (the heat offer), never behind the anonymous whey.
    assert ids(run({"company": company_a.pk}, other_member)) == pks(rows, "heat_warmth")
    # Y's facilitator knows only the FI1B side of the prospective match: A's anonymous whey offer is not
    # named to it there, so the filter leaves that match out; A's public heat it may find.
    assert ids(run({"company": company_a.pk}, facilitator_y)) == pks(rows, "heat_warmth")
    assert ids(run({"company": company_y.pk}, facilitator_y)) == pks(rows, "whey_prospect", "finnish")
    assert ids(run({"company": company_a.pk}, None)) == pks(rows, "heat_warmth")


def test_ordering_terms_match_drf_and_break_ties_by_id():
    assert ordering_terms(None) == ["-score", "pk"]
    assert ordering_terms("") == ["-score", "pk"]
    assert ordering_terms("distance_km") == ["distance_km", "pk"]
    assert ordering_terms("-created_at,score,nonsense,-created_at") == ["-created_at", "score", "pk"]
    assert ordering_terms("company__name") == ["-score", "pk"]


def test_the_filterset_orders_by_the_ordering_parameter(rows, staff, member):
    # Staff (and facilitators) by the engine's figures ...
    assert [m.pk for m in run({"ordering": "distance_km"}, staff)] == [
        m.pk for m in Match.objects.order_by("distance_km", "pk")
    ]
    assert [m.pk for m in run({"ordering": "score"}, staff)] == [m.pk for m in Match.objects.order_by("score", "pk")]
    assert [m.pk for m in run({"ordering": "password"}, staff)] == [
        m.pk for m in Match.objects.order_by("-score", "pk")]
    # ... a company member by the figures it is shown (matching/disclosure_sql.py).
    from matching import disclosure_sql

    shown = Match.objects.order_by(disclosure_sql.band_km().asc(), "pk")
    assert [m.pk for m in run({"ordering": "distance_km"}, member)] == [m.pk for m in shown]


def test_run_filterset(db):
    done = MatchingRun.objects.create(kind=RunKind.FULL, status=RunStatus.DONE)
    queued = MatchingRun.objects.create(kind=RunKind.STREAM, status=RunStatus.QUEUED)
    qs = MatchingRun.objects.all()
    assert set(MatchingRunFilterSet({"status": "done"}, queryset=qs).qs) == {done}
    assert set(MatchingRunFilterSet({"kind": "stream"}, queryset=qs).qs) == {queued}
    assert not MatchingRunFilterSet({"kind": "weekly"}, queryset=qs).is_valid()
