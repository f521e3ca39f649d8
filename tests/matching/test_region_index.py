"""The region index of matches (`MatchRegion`, kept by PostgreSQL triggers) holds exactly the regions
that `in_regions_q` gives every match, whatever writes matches, streams or sites, and a facilitator's
region list read from it lists what the general query lists."""

from __future__ import annotations

import psycopg2
import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext

from companies.models import Company, RegionRole, Site
from companies.roles import forget_roles
from matching.choices import MatchStatus, OptIn, RunKind, RunStatus
from matching.models import Match, MatchingRun, MatchRegion, in_regions_q
from matching.selectors import IdsFirst, match_list, match_pages
from matching.services import matching_run_for_stream, matching_run_full
from streams.choices import Visibility
from streams.models import Stream
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    SiteFactory,
    StreamFactory,
    leaf_category,
    nace,
    region,
)
from tests.matching.test_api import make_match
from tests.matching.test_region_scope import matches  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def expected_rows() -> set[tuple[int, int, float, str, bool]]:
    """(match, region, score, status, private elsewhere) by the rule itself: `in_regions_q([region])`,
    region by region, flagged where a side is a private stream at a site outside the region (any answer)."""
    rows = set()
    for region_id in Site.objects.values_list("region_id", flat=True).distinct():
        private_elsewhere = Stream.objects.filter(visibility=Visibility.PRIVATE).exclude(site__region_id=region_id)
        flagged = set(Match.objects.filter(Q(offer__in=private_elsewhere) | Q(need__in=private_elsewhere))
                      .values_list("pk", flat=True))
        rows |= {(pk, region_id, score, status, pk in flagged) for pk, score, status in
                 Match.objects.filter(in_regions_q([region_id])).values_list("pk", "score", "status")}
    return rows


def assert_index_holds() -> int:
    got = set(MatchRegion.objects.values_list("match_id", "region_id", "score", "status", "private_elsewhere"))
    expected = expected_rows()
    assert got == expected, {"missing": expected - got, "extra": got - expected}
    return len(got)


def test_the_index_holds_every_region_of_every_match(matches):  # noqa: F811
    assert assert_index_holds() > len(matches)  # some matches touch two regions


def test_writes_to_matches_streams_and_sites_keep_the_index(matches, company_a, company_y):  # noqa: F811
    fi_site = company_y.sites.first()
    # Private listings on both sides of the regions' border: flagged rows from the start.
    Stream.objects.filter(pk__in=[matches[1].need_id, matches[2].offer_id]).update(visibility=Visibility.PRIVATE)
    assert assert_index_holds() and MatchRegion.objects.filter(private_elsewhere=True).exists()
    # A stream turns private, then anonymous (the ORM saves every column, then a bulk update).
    se_offer = Stream.objects.get(pk=matches[0].offer_id)  # matched in SE22 and with a need in FI1B
    se_offer.visibility = Visibility.PRIVATE
    se_offer.save()
    assert MatchRegion.objects.filter(match_id=matches[1].pk, region__code="FI1B", private_elsewhere=True).exists()
    assert_index_holds()
    Stream.objects.filter(pk=se_offer.pk).update(visibility=Visibility.ANONYMOUS)
    assert_index_holds()
    # A private stream's site moves to another region, and back.
    private = Stream.objects.get(pk=matches[1].need_id)
    Site.objects.filter(pk=private.site_id).update(region=region("SE22"))
    assert_index_holds()
    Site.objects.filter(pk=private.site_id).update(region=region("FI1B"))
    assert_index_holds()
    se_stream = Match.objects.filter(offer__site__region__code="SE22").first().offer
    # A stream moves to a site in another region (the ORM saves every column).
    se_stream.site = SiteFactory(company=se_stream.company, region=region("FI1B"), latitude=60.1, longitude=24.9)
    se_stream.save()
    assert_index_holds()
    # A site moves to another region; then to another company.
    fi_site.region = region("SE22")
    fi_site.save()
    assert_index_holds()
    Site.objects.filter(pk=fi_site.pk).update(company=company_a)
    assert_index_holds()
    # A prospective target company gains a site in another region, then loses it.
    target = Match.objects.filter(need__isnull=True).first().target_company
    added = SiteFactory(company=target, region=region("FI1B"), latitude=60.3, longitude=25.1)
    assert_index_holds()
    added.delete()
    assert_index_holds()
    # Scores and statuses change in bulk and one by one.
    Match.objects.filter(pk__in=[m.pk for m in matches[:4]]).update(score=0.91)
    m = Match.objects.get(pk=matches[4].pk)
    m.score, m.status = 0.33, MatchStatus.APPROVED
    m.save()
    assert_index_holds()
    Match.objects.filter(pk=matches[5].pk).update(status=MatchStatus.INTRODUCED)  # a move, nothing else
    assert_index_holds()
    # New rows in one statement, rows deleted, a stream and a company deleted with their matches.
    offer = StreamFactory(site=company_a.sites.first(), direction="offer")
    needs = Stream.objects.filter(pk__in=Match.objects.filter(need__isnull=False).values("need_id"))[:3]
    Match.objects.bulk_create([
        Match(offer=offer, need=need, source_company=offer.company, target_company=need.company, score=0.4,
              distance_km=10, engine_version="test")
        for need in needs
    ])
    assert_index_holds()
    Match.objects.filter(pk=matches[0].pk).delete()
    offer.delete()
    Stream.objects.filter(company=target).delete()  # a site with streams is protected
    Company.objects.filter(pk=target.pk).delete()
    assert assert_index_holds() > 0
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks of the deletes above
        cur.execute("TRUNCATE matching_match CASCADE")
    assert assert_index_holds() == 0


@pytest.fixture
def streams(company_a, company_b, company_y):
    """Offers and needs of one category in SE22 and FI1B, for real matching runs."""
    cat = leaf_category(code="MAT.FOOD.WHEY")
    # Feed makers and pig farms near the whey: prospective receivers, one with sites in two regions.
    both = CompanyFactory(name="Both AB", country="SE", nace=nace("10.91"))
    SiteFactory(company=both, region=region("SE22"), latitude=55.6, longitude=13.0)
    SiteFactory(company=both, region=region("DK01"), latitude=55.62, longitude=12.9)  # a second region
    for i, code in enumerate(("10.91", "01.46", "10.51")):
        SiteFactory(company=CompanyFactory(name=f"Nearby {code}", nace=nace(code)), latitude=55.6 + i * 0.02,
                    longitude=13.1, region=region("SE22"))
    sites = [c.sites.first() for c in (company_a, company_b, company_y)]
    return [StreamFactory(site=s, direction=d, category=cat, quantity=100 + 10 * i, unit="t")
            for i, (s, d) in enumerate((x, d) for x in sites for d in ("offer", "need"))]


def test_full_and_one_stream_runs_keep_the_index(streams):
    Stream.objects.filter(pk__in=[streams[0].pk, streams[2].pk]).update(visibility=Visibility.PRIVATE)  # SE22 offers

    def full(shards):
        run = MatchingRun.objects.create(kind=RunKind.FULL, shards_total=shards, status=RunStatus.RUNNING)
        return matching_run_full(run=run)

    first = full(2)  # into an empty table: the bulk path (indexes dropped and rebuilt, the index filled after)
    assert first.counts["indexes_rebuilt"] > 0
    assert Match.objects.filter(offer__isnull=False, need__isnull=False).exists()
    # A prospective receiver's sites in another region than the offer's: rows of their own.
    assert Match.objects.filter(need__isnull=True, target_company__name="Both AB").exists()
    assert MatchRegion.objects.filter(region__code="DK01").exists()
    assert MatchRegion.objects.filter(region__code="DK01", private_elsewhere=True).exists()
    assert assert_index_holds() >= Match.objects.count()
    Stream.objects.filter(pk=streams[0].pk).update(quantity_yearly=5000)
    full(3)  # the difference: retired, updated and inserted rows
    assert_index_holds()
    matching_run_for_stream(stream=streams[1])
    assert_index_holds()


# --- Reading a facilitator's region list from it -----------------------------------------------------

REGION_LIST_FILTERS = [{}, {"region": "SE22"}, {"min_score": "0.6"}, {"region": "SE22", "min_score": "0.5"},
                       {"ordering": "-score"}, {"page": "2"}, {"status": ["suggested"]},
                       {"status": ["suggested", "approved"], "min_score": "0.4"}]


def _ids(pages) -> tuple[int, list[int]]:
    return pages.count(), [m.pk for m in pages[0:pages.count()]]


@pytest.mark.parametrize("filters", REGION_LIST_FILTERS)
def test_a_facilitators_region_list_reads_the_index_and_lists_what_the_query_lists(matches, facilitator,  # noqa: F811
                                                                                   filters):
    Match.objects.filter(pk=matches[0].pk).update(score=0.8, status=MatchStatus.APPROVED)  # inside SE22
    filterset = match_list(user=facilitator, filters=filters)
    pages = match_pages(filterset.qs, user=facilitator, filterset=filterset)
    assert pages.id_field == "match_id"
    count, ids = _ids(pages)
    assert (count, ids) == _ids(IdsFirst(filterset.qs))
    assert count > 0
    with CaptureQueriesContext(connection) as ctx:
        match_pages(filterset.qs, user=facilitator, filterset=filterset).count()
    assert "matching_matchregion" in ctx.captured_queries[-1]["sql"]


def test_a_private_listing_elsewhere_is_left_out_of_the_index_list_until_it_says_yes(matches, facilitator):  # noqa: F811
    """A match of an SE22 offer with a private FI1B need is in SE22's index, flagged; the SE22
    facilitator's list leaves it out, as `visible_to` does, until the need's company says yes."""
    hidden = matches[1]  # offer in SE22, need in FI1B
    Stream.objects.filter(pk=hidden.need_id).update(visibility=Visibility.PRIVATE)
    Match.objects.filter(pk=hidden.pk).update(provider_response=OptIn.YES)  # the other side's yes changes nothing
    assert MatchRegion.objects.filter(match_id=hidden.pk, region__code="SE22", private_elsewhere=True).exists()

    def both():
        filterset = match_list(user=facilitator, filters={"region": "SE22"})
        pages = match_pages(filterset.qs, user=facilitator, filterset=filterset)
        assert pages.id_field == "match_id"
        expected = _ids(IdsFirst(filterset.qs))
        assert _ids(pages) == expected
        return expected[1]

    assert hidden.pk not in both()
    Match.objects.filter(pk=hidden.pk).update(receiver_response=OptIn.NO)
    assert hidden.pk not in both()
    Match.objects.filter(pk=hidden.pk).update(receiver_response=OptIn.YES)
    assert hidden.pk in both()
    # The need no longer private: listed whatever its answer.
    Match.objects.filter(pk=hidden.pk).update(receiver_response="")
    assert hidden.pk not in both()
    Stream.objects.filter(pk=hidden.need_id).update(visibility=Visibility.ANONYMOUS)
    assert hidden.pk in both()


@pytest.mark.parametrize("filters", [{"region": "FI1B"}, {"ordering": "distance_km"}, {"q": "a"},
                                     {"kind": "material"}, {"prospective": "true"}, {"min_age_days": "1"}])
def test_other_filters_and_orders_take_the_general_query(matches, facilitator, filters):  # noqa: F811
    filterset = match_list(user=facilitator, filters=filters)
    assert match_pages(filterset.qs, user=facilitator, filterset=filterset).id_field == "pk"


def test_other_users_take_the_general_query(matches, facilitator, member, staff, company_a):  # noqa: F811
    RegionRole.objects.create(user=facilitator, region=region("FI1B"), role="facilitator")
    forget_roles(facilitator)
    two_regions = facilitator
    facilitator_with_company = MembershipFactory(company=CompanyFactory(), user__username="fac-co").user
    RegionRole.objects.create(user=facilitator_with_company, region=region("SE22"), role="facilitator")
    for user in (two_regions, member, staff, facilitator_with_company):
        filterset = match_list(user=user, filters={})
        assert match_pages(filterset.qs, user=user, filterset=filterset).id_field == "pk", user


def test_the_review_queue_reads_the_index_and_lists_what_the_query_lists(matches, facilitator, web):  # noqa: F811
    from facilitation.selectors import review_queue

    Match.objects.filter(pk__in=[m.pk for m in matches[:3]]).update(status=MatchStatus.UNDER_REVIEW)
    filters = {"status": ["suggested", "under_review"]}
    filterset = review_queue(user=facilitator, filters=filters)
    pages = match_pages(filterset.qs, user=facilitator, filterset=filterset)
    assert pages.id_field == "match_id"
    assert _ids(pages) == _ids(IdsFirst(filterset.qs))
    page = web(facilitator).get("/matches/queue/", filters)
    assert [v.match.pk for v in page.context["rows"]] == _ids(pages)[1][:len(page.context["rows"])]


def test_the_api_and_the_page_list_the_region_index_rows(matches, facilitator, api, web):  # noqa: F811
    expected = IdsFirst(match_list(user=facilitator, filters={"region": "SE22"}).qs)
    response = api(facilitator).get("/api/v1/matches/", {"region": "SE22", "ordering": "-score"})
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [m.pk for m in expected[0:expected.count()]]
    assert response.json()["count"] == expected.count()
    page = web(facilitator).get("/matches/", {"region": "SE22"})
    assert page.status_code == 200
    assert page.context["paginator"].count == expected.count()


# --- Races ----------------------------------------------------------------------------------------------

def _connect():
    s = connection.settings_dict
    return psycopg2.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"], port=s["PORT"] or 5432,
                            password=s["PASSWORD"] or None)


@pytest.mark.django_db(transaction=True)
def test_a_stream_cannot_move_while_a_transaction_writes_its_matches(reference_data, company_a, company_b):
    """A transaction that rewrites a match's regions holds its streams FOR SHARE: moving one of them
    waits for it, and then sees (and re-indexes) what it wrote."""
    offer = StreamFactory(site=company_a.sites.first(), direction="offer")
    need = StreamFactory(site=company_b.sites.first(), direction="need")
    match = make_match(offer, need, score=0.5)
    elsewhere = SiteFactory(company=company_a, region=region("FI1B"), latitude=60.2, longitude=24.9)
    writer, mover = _connect(), _connect()
    try:
        with writer.cursor() as w:
            w.execute("UPDATE matching_match SET score = 0.8 WHERE id = %s", [match.pk])
            with mover.cursor() as m, pytest.raises(psycopg2.errors.LockNotAvailable):
                m.execute("SET lock_timeout = '300ms'")
                m.execute("UPDATE streams_stream SET site_id = %s WHERE id = %s", [elsewhere.pk, offer.pk])
            mover.rollback()
        writer.commit()
        with mover.cursor() as m:
            m.execute("UPDATE streams_stream SET site_id = %s WHERE id = %s", [elsewhere.pk, offer.pk])
        mover.commit()
    finally:
        writer.close()
        mover.close()
    assert set(MatchRegion.objects.filter(match_id=match.pk).values_list("region_id", "score")) == {
        (region("FI1B").pk, 0.8), (region("SE22").pk, 0.8)}
    assert_index_holds()
