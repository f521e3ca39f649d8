"""The matching API as each persona sees it: which matches (404 when not visible), what of them
(identity and confidential fields of anonymous counterparts never leak), the matches of one stream,
starting runs and reading their progress, and the query budget of the list endpoints.

`build_world` and `make_match` are shared with the page tests."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching.choices import MatchStatus, RunKind, RunStatus
from matching.explain import explained
from matching.models import Match, MatchingRun
from matching.presentation import present_match
from matching.selectors import match_queryset
from matching.services import matching_run_full
from streams.choices import Visibility
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, leaf_category, region, verified_peers

pytestmark = [pytest.mark.django_db]

MATCHES = "/api/v1/matches/"
RUNS = "/api/v1/matching-runs/"

# Company A's secrets: none of them may reach company B while A's listing is anonymous.
A_NAME, A_SITE = "Alpha Dairy AB", "Alpha Lund"
A_PRICE, A_DISPOSAL = "987.65", "123.45"
A_COMPOSITION, A_CONTAMINANTS = "alpha secret recipe 42% lignin", "alpha trace nitrates"
A_SECRETS = (A_NAME.encode(), A_SITE.encode(), A_PRICE.encode(), A_DISPOSAL.encode(), A_COMPOSITION.encode(),
             A_CONTAMINANTS.encode(), b"against a value of", b"disposal_co2e.landfill")


@dataclass
class World:
    """A's anonymous whey offer matched with needs of B (same region) and C (same region, another
    company B cannot see), and a Finnish pair in region FI1B."""

    a_offer: object
    b_need: object
    c_need: object
    y_offer: object
    z_need: object
    ab: Match
    ac: Match
    yz: Match


def build_world(company_a, company_b, company_y, *, a_visibility=Visibility.ANONYMOUS) -> World:
    whey = leaf_category(code="MAT.FOOD.WHEY")
    company_c = CompanyFactory(name="Gamma Brewery AB")
    SiteFactory(company=company_c, name="Gamma Helsingborg", latitude=56.046, longitude=12.694, region=region("SE22"))
    company_z = CompanyFactory(name="Zeta Oy", country="FI")
    SiteFactory(company=company_z, name="Zeta Helsinki", latitude=60.17, longitude=24.94, region=region("FI1B"))
    a_offer = StreamFactory(
        site=company_a.sites.first(), direction="offer", category=whey, title="Sweet whey", quantity=500,
        price_eur_per_unit=Decimal(A_PRICE), disposal_cost_eur_per_unit=Decimal(A_DISPOSAL),
        disposal_route="landfill", composition=A_COMPOSITION, contaminants=A_CONTAMINANTS, visibility=a_visibility,
    )
    b_need = StreamFactory(site=company_b.sites.first(), direction="need", category=whey, title="Whey for feed",
                           quantity=300, price_eur_per_unit=Decimal("55.50"), composition="beta feed mix")
    c_need = StreamFactory(site=company_c.sites.first(), direction="need", category=whey, title="Whey for brewing",
                           quantity=200, composition="gamma mash")
    y_offer = StreamFactory(site=company_y.sites.first(), direction="offer", category=whey, title="Finnish whey",
                            quantity=400, composition="ypsilon")
    z_need = StreamFactory(site=company_z.sites.first(), direction="need", category=whey, title="Whey wanted in Helsinki",
                           quantity=100, composition="zeta")
    matching_run_full(run=MatchingRun.objects.create(kind=RunKind.FULL, shards_total=2, status=RunStatus.RUNNING))
    return World(
        a_offer=a_offer, b_need=b_need, c_need=c_need, y_offer=y_offer, z_need=z_need,
        ab=explained(Match.objects.all()).get(offer=a_offer, need=b_need),
        ac=explained(Match.objects.all()).get(offer=a_offer, need=c_need),
        yz=explained(Match.objects.all()).get(offer=y_offer, need=z_need),
    )


PARTS = {"compatibility": 0.9, "distance": 0.8, "volume_value": 0.7, "availability": 1.0}


def make_match(offer=None, need=None, *, source=None, target=None, score=0.5, **kw) -> Match:
    """A match row written directly (for query counts and filters), shaped like the engine's."""
    defaults = {
        "source_company": source or offer.company, "target_company": target or need.company,
        "prospective": need is None or offer is None, "score": score, "parts": PARTS,
        "reasons": ["same category", "12 km, within the 300 km radius"], "distance_km": 12.3,
        "exchangeable_yearly": 100.0, "unit": "t", "co2e_t": 40.0, "eur_provider": 1000.0, "eur_receiver": 500.0,
        "diverted_t": 10.0, "engine_version": "test",
        "impact": {"assumptions": ["road distance = 1.3 x straight line"], "transport_eur": 120.0, "unit": "t"},
    }
    defaults.update(kw)
    return Match.objects.create(offer=offer, need=need, **defaults)


@pytest.fixture
def world(company_a, company_b, company_y):
    return build_world(company_a, company_b, company_y)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Who sees which matches ------------------------------------------------------------------------


def test_anonymous_users_get_401_or_403_everywhere(api, world):
    client = api(None)
    for url in (MATCHES, f"{MATCHES}{world.ab.pk}/", f"/api/v1/streams/{world.a_offer.pk}/matches/", RUNS):
        assert client.get(url).status_code in (401, 403), url
    assert client.post(RUNS, {"kind": "full"}, format="json").status_code in (401, 403)


def test_member_sees_the_matches_of_both_its_partners(api, member, world):
    seen = ids(api(member).get(MATCHES))
    assert {world.ab.pk, world.ac.pk} <= seen
    assert world.yz.pk not in seen
    assert seen == set(Match.objects.visible_to(member).values_list("pk", flat=True))


def test_other_member_sees_its_own_match_but_not_one_between_a_and_c(api, other_member, world):
    client = api(other_member)
    seen = ids(client.get(MATCHES))
    assert world.ab.pk in seen
    assert world.ac.pk not in seen
    assert client.get(f"{MATCHES}{world.ab.pk}/").status_code == 200
    assert client.get(f"{MATCHES}{world.ac.pk}/").status_code == 404


def test_facilitators_see_their_regions_only(api, facilitator, facilitator_y, world):
    se = ids(api(facilitator).get(MATCHES))
    assert {world.ab.pk, world.ac.pk} <= se and world.yz.pk not in se
    assert api(facilitator).get(f"{MATCHES}{world.yz.pk}/").status_code == 404
    fi = ids(api(facilitator_y).get(MATCHES))
    assert world.yz.pk in fi and world.ab.pk not in fi
    assert api(facilitator_y).get(f"{MATCHES}{world.ab.pk}/").status_code == 404


def test_authorities_never_see_single_matches(api, authority, world):
    client = api(authority)
    assert ids(client.get(MATCHES)) == set()
    assert client.get(f"{MATCHES}{world.ab.pk}/").status_code == 404


def test_staff_see_every_match(api, staff, world):
    assert ids(api(staff).get(f"{MATCHES}?page_size=500")) == set(Match.objects.values_list("pk", flat=True))


# --- What they see of a match ----------------------------------------------------------------------


def test_match_detail_has_parts_reasons_and_impact(api, member, world):
    verified_peers("10.51", "SE22")  # with the owner, 3 companies share the need side's class and region
    body = api(member).get(f"{MATCHES}{world.ab.pk}/").json()
    assert [p["key"] for p in body["parts"]] == ["compatibility", "distance", "volume_value", "availability"]
    assert all(0 <= p["value"] <= 1 and p["label"] for p in body["parts"])
    # A party of one side is shown the shared score (from the distance band), not the engine's.
    shown = present_match(match_queryset(user=member).get(pk=world.ab.pk), user=member).score
    assert body["score"] == shown and body["score_percent"] == round(shown * 100)
    assert abs(shown - world.ab.score) < 0.05
    assert body["reasons"]
    assert body["impact"]["assumptions"]
    assert body["impact"]["unit"] == "t"
    assert body["viewer_role"] == "offer"
    assert body["eur_per_year"] is not None and body["impact"]["eur_receiver"] is None
    # A's own side in full, B's as an anonymous listing.
    assert body["offer"]["company"]["name"] == A_NAME
    assert body["offer"]["confidential"]["price_eur_per_unit"] == A_PRICE
    assert body["need"]["company"] is None
    assert body["need"]["confidential"] is None and body["need"]["site"] is None
    assert body["need"]["sector"]["code"] == "10.51"
    assert body["need"]["region"]["code"] == "SE22"
    assert body["distance_km"] is None and body["approx_distance_km"] > 0


@pytest.mark.parametrize("persona", ["other_member"])
def test_no_api_response_to_another_company_reveals_an_anonymous_listings_secrets(api, world, persona, request):
    client = api(request.getfixturevalue(persona))
    urls = [
        MATCHES, f"{MATCHES}{world.ab.pk}/", f"/api/v1/streams/{world.a_offer.pk}/matches/",
        f"/api/v1/streams/{world.b_need.pk}/matches/", f"{MATCHES}?stream={world.a_offer.pk}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        for secret in A_SECRETS:
            assert secret not in response.content, (url, secret)
    exact = f"{world.ab.distance_km:.1f}".encode()
    assert exact not in client.get(f"{MATCHES}{world.ab.pk}/").content


def test_a_public_listing_names_the_company_but_keeps_its_prices_hidden(api, other_member, company_a, company_b,
                                                                        company_y):
    world = build_world(company_a, company_b, company_y, a_visibility=Visibility.PUBLIC)
    response = api(other_member).get(f"{MATCHES}{world.ab.pk}/")
    body = response.json()
    assert body["offer"]["company"]["name"] == A_NAME
    assert body["offer"]["confidential"] is None
    for secret in (A_PRICE, A_DISPOSAL, A_COMPOSITION, A_SITE):
        assert secret.encode() not in response.content


def test_the_company_filter_does_not_reveal_who_is_behind_an_anonymous_listing(api, other_member, facilitator,
                                                                                 company_a, world):
    assert world.ab.pk not in ids(api(other_member).get(f"{MATCHES}?company={company_a.pk}"))
    assert world.ab.pk in ids(api(facilitator).get(f"{MATCHES}?company={company_a.pk}"))


def test_facilitators_of_the_region_see_both_parties_in_full(api, facilitator, world):
    body = api(facilitator).get(f"{MATCHES}{world.ab.pk}/").json()
    assert body["full_view"] is True
    assert body["offer"]["company"]["name"] == A_NAME
    assert body["offer"]["confidential"]["composition"] == A_COMPOSITION
    assert body["offer"]["site"]["name"] == A_SITE
    assert body["need"]["confidential"]["price_eur_per_unit"] == "55.50"
    assert body["distance_km"] == pytest.approx(world.ab.distance_km, abs=0.05)
    assert body["impact"]["eur_provider"] is not None and body["impact"]["eur_receiver"] is not None


# --- Filters and ordering --------------------------------------------------------------------------


def test_filters_and_ordering(api, facilitator, world):
    client = api(facilitator)
    assert ids(client.get(f"{MATCHES}?stream={world.b_need.pk}")) == set(
        Match.objects.filter(need=world.b_need).values_list("pk", flat=True)
    )
    assert ids(client.get(f"{MATCHES}?min_score=1")) == set(Match.objects.filter(score__gte=1).values_list("pk", flat=True))
    assert client.get(f"{MATCHES}?min_score=3").status_code == 400
    assert client.get(f"{MATCHES}?status=nonsense").status_code == 400
    rows = client.get(f"{MATCHES}?ordering=score").json()["results"]
    assert [r["score"] for r in rows] == sorted(r["score"] for r in rows)
    rows = client.get(MATCHES).json()["results"]
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    declared = ids(client.get(f"{MATCHES}?prospective=false"))
    assert declared and all(not Match.objects.get(pk=i).prospective for i in declared)


# --- Matches of one stream -------------------------------------------------------------------------


def test_stream_matches_for_each_persona(api, member, other_member, facilitator_y, authority, company_y, world):
    url = f"/api/v1/streams/{world.a_offer.pk}/matches/"
    assert ids(api(member).get(url)) == set(Match.objects.filter(offer=world.a_offer).values_list("pk", flat=True))
    # B can see A's anonymous listing, but only its own match with it.
    assert ids(api(other_member).get(url)) == {world.ab.pk}
    assert ids(api(authority).get(url)) == set()
    # A private stream of another company is a 404, whatever the query string.
    private = StreamFactory(site=company_y.sites.first(), visibility=Visibility.PRIVATE)
    assert api(other_member).get(f"/api/v1/streams/{private.pk}/matches/?status=approved").status_code == 404
    assert api(facilitator_y).get(f"/api/v1/streams/{private.pk}/matches/").status_code == 200


def test_stream_matches_take_the_match_filters_not_the_stream_filters(api, member, world):
    url = f"/api/v1/streams/{world.a_offer.pk}/matches/"
    response = api(member).get(f"{url}?status=suggested&kind=material&min_score=0")
    assert ids(response) == set(Match.objects.filter(offer=world.a_offer).values_list("pk", flat=True))
    assert api(member).get(f"{url}?status=approved").json()["results"] == []
    assert api(member).get(f"{url}?min_score=2").status_code == 400


# --- Runs ------------------------------------------------------------------------------------------


def test_a_facilitator_starts_a_full_run_and_reads_its_progress(api, facilitator, world,
                                                                  django_capture_on_commit_callbacks):
    client = api(facilitator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUNS, {"kind": "full"}, format="json")
    assert response.status_code == 202, response.content
    body = client.get(f"{RUNS}{response.json()['id']}/").json()
    assert body["status"] == RunStatus.DONE
    assert body["progress"] == 1.0
    assert body["shards_done"] == body["shards_total"]
    assert body["counts"]["matches"] >= 3
    assert body["requested_by"] == facilitator.username
    assert set(body) >= {"timings", "message", "error", "started_at", "finished_at"}


def test_a_facilitator_may_match_a_stream_it_can_see_but_not_others(api, facilitator, company_y, world,
                                                                     django_capture_on_commit_callbacks):
    client = api(facilitator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUNS, {"kind": "stream", "stream": world.b_need.pk}, format="json")
    assert response.status_code == 202, response.content
    run = MatchingRun.objects.get(pk=response.json()["id"])
    assert (run.kind, run.stream_id, run.requested_by_id) == (RunKind.STREAM, world.b_need.pk, facilitator.pk)
    private = StreamFactory(site=company_y.sites.first(), visibility=Visibility.PRIVATE)
    for payload in ({"kind": "stream", "stream": private.pk}, {"kind": "stream", "stream": 999999},
                    {"kind": "stream"}, {"kind": "full", "stream": world.b_need.pk}, {"kind": "weekly"}):
        assert client.post(RUNS, payload, format="json").status_code == 400, payload


@pytest.mark.parametrize("persona", ["member", "other_member", "authority"])
def test_only_facilitators_and_staff_start_runs(api, persona, request):
    response = api(request.getfixturevalue(persona)).post(RUNS, {"kind": "full"}, format="json")
    assert response.status_code == 403
    assert not MatchingRun.objects.exists()


def test_run_visibility(api, member, facilitator, facilitator_y, staff, world):
    full = MatchingRun.objects.create(kind=RunKind.FULL, status=RunStatus.DONE, progress=1.0)
    mine = MatchingRun.objects.create(kind=RunKind.STREAM, stream=world.b_need, requested_by=facilitator)
    automatic = MatchingRun.objects.create(kind=RunKind.STREAM, stream=world.a_offer)
    assert ids(api(member).get(RUNS)) == set()
    assert api(member).get(f"{RUNS}{full.pk}/").status_code == 404
    full_runs = set(MatchingRun.objects.filter(kind=RunKind.FULL).values_list("pk", flat=True))  # with the world's
    assert full.pk in full_runs
    assert ids(api(facilitator).get(RUNS)) == full_runs | {mine.pk}
    assert ids(api(facilitator_y).get(RUNS)) == full_runs
    assert api(facilitator_y).get(f"{RUNS}{mine.pk}/").status_code == 404
    assert ids(api(staff).get(RUNS)) == full_runs | {mine.pk, automatic.pk}
    assert ids(api(staff).get(f"{RUNS}?kind=stream")) == {mine.pk, automatic.pk}
    assert full.pk in ids(api(staff).get(f"{RUNS}?status=done"))
    assert ids(api(staff).get(f"{RUNS}?status=queued")) == {mine.pk, automatic.pk}


# --- Query budget ----------------------------------------------------------------------------------


def grow(company_a, company_b, company_y, n):
    """n matches: A's offers against B's need, and prospective ones to the Finnish company."""
    need = StreamFactory(site=company_b.sites.first(), direction="need", title="Budget need")
    for i in range(n):
        offer = StreamFactory(site=company_a.sites.first(), direction="offer", title=f"Budget offer {i}")
        if i % 3 == 2:
            make_match(offer, None, target=company_y, score=0.3 + i / 100)
        else:
            make_match(offer, need, score=0.3 + i / 100, status=MatchStatus.SUGGESTED)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize("persona", ["member", "facilitator"])
def test_the_match_list_runs_the_same_queries_for_3_and_20_matches(api, persona, request, company_a, company_b,
                                                                     company_y, django_assert_max_num_queries):
    client = api(request.getfixturevalue(persona))
    grow(company_a, company_b, company_y, 3)
    client.get(MATCHES)  # the user's roles are cached on it from now on
    small, rows = _count(client, MATCHES)
    assert rows == 3
    grow(company_a, company_b, company_y, 17)
    large, rows = _count(client, MATCHES)
    assert rows == 20
    assert large == small
    with django_assert_max_num_queries(8):
        client.get(MATCHES)


def test_stream_matches_run_a_fixed_number_of_queries(api, member, company_a, company_b, company_y):
    client = api(member)
    offer = StreamFactory(site=company_a.sites.first(), direction="offer")
    needs = [StreamFactory(site=company_b.sites.first(), direction="need") for _ in range(20)]
    make_match(offer, needs[0])
    client.get(f"/api/v1/streams/{offer.pk}/matches/")  # the user's roles are cached on it from now on
    small, _ = _count(client, f"/api/v1/streams/{offer.pk}/matches/")
    for need in needs[1:]:
        make_match(offer, need)
    large, rows = _count(client, f"/api/v1/streams/{offer.pk}/matches/")
    assert rows == 20 and large == small
