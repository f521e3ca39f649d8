"""Matching pages as each persona sees them: "Suggested partners", match detail, runs and their
polled progress; confidentiality on the raw HTML, the same ids as the API, and the query budget."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching.choices import RunKind, RunStatus
from matching.models import Match, MatchingRun
from matching.presentation import estimate, present_match
from matching.selectors import match_queryset
from streams.choices import Visibility
from tests.factories import StreamFactory, verified_peers
from tests.matching.test_api import A_NAME, A_SECRETS, build_world, grow, make_match

pytestmark = [pytest.mark.django_db]

LIST = "/matches/"
RUNS = "/matches/runs/"
START = "/matches/runs/start/"


def detail(match):
    return f"/matches/{match.pk}/"


@pytest.fixture
def world(company_a, company_b, company_y):
    return build_world(company_a, company_b, company_y)


def page_ids(response) -> set[int]:
    """The match ids a list page shows (grouped for a company member, flat for facilitators)."""
    assert response.status_code == 200
    ctx = response.context
    if ctx["grouped"]:
        return {view.match.pk for _, views in ctx["groups"] for view in views}
    return {view.match.pk for view in ctx["rows"]}


def api_ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


# --- Access ----------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(web, world):
    run = MatchingRun.objects.first()
    for path in (LIST, detail(world.ab), RUNS, f"{RUNS}{run.pk}/", f"{RUNS}{run.pk}/progress/"):
        response = web(None).get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/"), path
    assert web(None).post(START, {"kind": "full"}).status_code == 302
    assert MatchingRun.objects.count() == 1


@pytest.mark.parametrize(
    ("persona", "visible", "hidden"),
    [
        ("member", ("ab", "ac"), ("yz",)),
        ("other_member", ("ab",), ("ac", "yz")),
        ("facilitator", ("ab", "ac"), ("yz",)),
        ("facilitator_y", ("yz",), ("ab", "ac")),
        ("authority", (), ("ab", "ac", "yz")),
        ("staff", ("ab", "ac", "yz"), ()),
    ],
)
def test_each_persona_sees_exactly_its_matches(web, world, persona, visible, hidden, request):
    user = request.getfixturevalue(persona)
    client = web(user)
    shown = page_ids(client.get(LIST))
    for name in visible:
        match = getattr(world, name)
        assert match.pk in shown, name
        assert client.get(detail(match)).status_code == 200, name
    for name in hidden:
        match = getattr(world, name)
        assert match.pk not in shown, name
        assert client.get(detail(match)).status_code == 404, name
    assert shown <= set(Match.objects.visible_to(user).values_list("pk", flat=True))


def test_authorities_get_an_empty_list(web, authority, world):
    response = web(authority).get(LIST)
    assert page_ids(response) == set()
    assert b"No matches" in response.content


# --- Confidentiality -------------------------------------------------------------------------------


def test_no_page_shows_another_company_an_anonymous_listings_secrets(web, other_member, world):
    verified_peers("10.51", "SE22")  # with the owner, 3 dairies in Sydsverige: the label keeps both
    client = web(other_member)
    pages = [
        client.get(LIST), client.get(LIST, HTTP_HX_REQUEST="true"), client.get(detail(world.ab)),
        client.get(f"{LIST}?stream={world.b_need.pk}"), client.get(f"{LIST}?ordering=distance_km"),
    ]
    for response in pages:
        assert response.status_code == 200
        for secret in A_SECRETS:
            assert secret not in response.content, secret
    html = pages[2].content.decode()
    assert f"{world.ab.distance_km:.1f}" not in html
    assert "Manufacture of dairy products company (NACE 10.51)" in html
    assert "Sydsverige" in html
    assert re.search(r"about \d+ km away", html)


def test_a_public_listing_is_named_but_its_confidential_fields_stay_hidden(web, other_member, company_a,
                                                                            company_b, company_y):
    world = build_world(company_a, company_b, company_y, a_visibility=Visibility.PUBLIC)
    content = web(other_member).get(detail(world.ab)).content
    assert A_NAME.encode() in content
    for secret in A_SECRETS[1:]:
        assert secret not in content, secret


def test_the_company_and_the_facilitator_see_everything_of_their_side(web, member, facilitator, world):
    own = web(member).get(detail(world.ab)).content.decode()
    assert A_NAME in own and "987.65" in own and "alpha secret recipe" in own
    assert "beta feed mix" not in own and "55.50" not in own  # B's secrets stay with B
    full = web(facilitator).get(detail(world.ab)).content.decode()
    for text in (A_NAME, "Beta Sawmill AB", "987.65", "55.50", "alpha secret recipe", "beta feed mix", "Alpha Lund"):
        assert text in full, text


def test_parties_see_their_own_money_rounded_and_facilitators_both_sides():
    assert estimate(17_100.4) == 17_000
    assert estimate(-1232.16) == -1200
    assert estimate(0.844) == 0.84
    assert estimate(0) == 0


def test_the_engine_reasons_are_reworded_for_parties(member, facilitator, world):
    match = match_queryset(user=member).get(pk=world.ab.pk)
    party = present_match(match, user=member)
    assert not any("against a value" in r for r in party.reasons)
    assert not any(re.match(r"^\d+(\.\d)? km, within", r) for r in party.reasons)
    assert party.eur_per_year == estimate(world.ab.eur_provider)
    assert party.eur_receiver is None
    full = present_match(match_queryset(user=facilitator).get(pk=world.ab.pk), user=facilitator)
    assert full.reasons == world.ab.reasons
    assert full.eur_per_year is None and full.eur_receiver == round(world.ab.eur_receiver)


# --- The list page ---------------------------------------------------------------------------------


def test_a_company_sees_its_streams_with_their_best_partners(web, member, world):
    response = web(member).get(LIST)
    html = response.content.decode()
    titles = [g.stream.title for g, _ in response.context["groups"] if g.stream]
    assert "Sweet whey" in titles
    assert "Suggested partners" in html
    for label in ("Compatibility", "Distance", "Volume and value", "Availability over the year"):
        assert label in html
    shown = present_match(match_queryset(user=member).get(pk=world.ab.pk), user=member).score  # the shared score
    assert "<meter" in html and f"{round(shown * 100)} %" in html
    assert "t CO2e avoided" in html and "For you: about" in html
    assert world.ab.get_absolute_url() in html


def test_each_stream_shows_its_top_five_and_links_to_all(web, member, company_a, company_b):
    offer = StreamFactory(site=company_a.sites.first(), direction="offer", title="Many partners")
    for i in range(7):
        make_match(offer, StreamFactory(site=company_b.sites.first(), direction="need"), score=0.2 + i / 10)
    response = web(member).get(LIST)
    group, views = next((g, v) for g, v in response.context["groups"] if g.stream == offer)
    assert len(views) == 5 and group.total == 7
    # Best first by the score the member is shown (the shared one: matching/disclosure_sql.py).
    assert [v.score for v in views] == sorted((v.score for v in views), reverse=True)
    assert f"?stream={offer.pk}" in response.content.decode()
    everything = web(member).get(f"{LIST}?stream={offer.pk}")
    assert len(page_ids(everything)) == 7


def test_prospective_matches_are_labelled_with_the_sector_evidence(web, member, company_a, company_y):
    offer = StreamFactory(site=company_a.sites.first(), direction="offer", title="Prospective whey")
    match = make_match(offer, None, target=company_y, reasons=[
        "companies like these often use this", "3 of 7 recorded exchanges with whey went to NACE division 10",
    ])
    html = web(member).get(detail(match)).content.decode()
    assert "Companies like these often use this" in html
    assert "3 of 7 recorded exchanges" in html
    assert "Ypsilon Oy" not in html


def test_htmx_gets_the_results_partial(web, member, world):
    response = web(member).get(f"{LIST}?min_score=0.5", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b"Sweet whey" in response.content
    assert "HX-Request" in response["Vary"]


@pytest.mark.parametrize("persona", ["member", "other_member", "facilitator", "staff"])
@pytest.mark.parametrize("query", ["", "?min_score=0.5", "?kind=material&prospective=false", "?status=suggested",
                                   "?region=SE22&ordering=distance_km", "?q=whey"])
def test_the_page_and_the_api_list_the_same_matches(web, api, world, persona, query, request):
    user = request.getfixturevalue(persona)
    assert page_ids(web(user).get(f"{LIST}{query}")) == api_ids(api(user).get(f"/api/v1/matches/{query}"))


def test_the_page_orders_like_the_api(web, api, facilitator, world):
    for ordering in ("score", "-score", "distance_km", "-created_at"):
        page = [v.match.pk for v in web(facilitator).get(f"{LIST}?ordering={ordering}").context["rows"]]
        api_rows = [r["id"] for r in api(facilitator).get(f"/api/v1/matches/?ordering={ordering}").json()["results"]]
        assert page == api_rows, ordering


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("persona", ["member", "facilitator"])
def test_the_list_page_runs_the_same_queries_for_3_and_20_matches(web, persona, request, company_a, company_b,
                                                                    company_y, django_assert_max_num_queries):
    client = web(request.getfixturevalue(persona))
    grow(company_a, company_b, company_y, 3)
    client.get(LIST)  # the label table (companies/anonymity.py) is read once per data version
    small, response = _count(client, LIST)
    assert len(page_ids(response)) == 3
    grow(company_a, company_b, company_y, 17)
    large, response = _count(client, LIST)
    assert len(page_ids(response)) == 20
    assert large == small
    # + 1: the version of the label table of hidden companies
    with django_assert_max_num_queries(13):
        client.get(LIST)


def test_the_detail_page_runs_a_fixed_number_of_queries(web, member, world, django_assert_max_num_queries):
    client = web(member)
    client.get(detail(world.ab))  # the label table is read once per data version, then cached
    # + 1 for the label table's version; 8 for the page, 4 to rebuild the reasons of a full-run row (streams, EWC codes, categories, rules),
    # the match's EWC codes (regulatory flags), its timeline (facilitation) and the viewer's excluded NACE codes
    # (matching/exclusions.py: a member's view hides a partner whose label lies under one).
    with django_assert_max_num_queries(16):
        assert client.get(detail(world.ab)).status_code == 200


# --- Runs ------------------------------------------------------------------------------------------


def test_a_facilitator_runs_matching_and_follows_its_progress(web, facilitator, world,
                                                              django_capture_on_commit_callbacks):
    client = web(facilitator)
    page = client.get(RUNS).content.decode()
    assert "Run matching now" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START, {"kind": "full"})
    run = MatchingRun.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == run.get_absolute_url()
    assert run.requested_by == facilitator and run.kind == RunKind.FULL
    run.refresh_from_db()
    assert run.status == RunStatus.DONE and run.progress == 1.0
    html = client.get(run.get_absolute_url()).content.decode()
    assert "<progress" in html and "100 % done" in html
    partial = client.get(f"{RUNS}{run.pk}/progress/").content.decode()
    assert "<progress" in partial and "<html" not in partial
    assert "hx-trigger" not in partial  # finished: polling stops


def test_the_progress_partial_polls_every_second_while_running(web, staff):
    run = MatchingRun.objects.create(kind=RunKind.FULL, status=RunStatus.RUNNING, progress=0.45, shards_total=4,
                                     shards_done=2, requested_by=staff)
    partial = web(staff).get(f"{RUNS}{run.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in partial
    assert f'hx-get="{RUNS}{run.pk}/progress/"' in partial
    assert "<progress" in partial and "45 % done" in partial
    run.status, run.error = RunStatus.FAILED, "shard 1: boom"
    run.save()
    partial = web(staff).get(f"{RUNS}{run.pk}/progress/").content.decode()
    assert "hx-trigger" not in partial and "The run failed" in partial


def test_a_facilitator_can_match_one_visible_stream(web, facilitator, company_y, world,
                                                     django_capture_on_commit_callbacks):
    client = web(facilitator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(START, {"kind": "stream", "stream": world.b_need.pk})
    run = MatchingRun.objects.latest("pk")
    assert response.status_code == 302 and run.stream_id == world.b_need.pk
    private = StreamFactory(site=company_y.sites.first(), visibility=Visibility.PRIVATE)
    before = MatchingRun.objects.count()
    response = client.post(START, {"kind": "stream", "stream": private.pk})
    assert response.status_code == 302 and response["Location"] == RUNS
    assert MatchingRun.objects.count() == before


@pytest.mark.parametrize("persona", ["member", "other_member", "authority"])
def test_others_cannot_start_runs_or_see_them(web, persona, request, world):
    client = web(request.getfixturevalue(persona))
    assert client.post(START, {"kind": "full"}).status_code == 403
    page = client.get(RUNS)
    assert page.status_code == 200 and b"Run matching now" not in page.content
    assert list(page.context["object_list"]) == []
    run = MatchingRun.objects.first()
    assert client.get(f"{RUNS}{run.pk}/").status_code == 404
    assert client.get(f"{RUNS}{run.pk}/progress/").status_code == 404


def test_facilitators_see_their_own_runs_and_full_runs_only(web, facilitator, facilitator_y, world):
    mine = MatchingRun.objects.create(kind=RunKind.STREAM, stream=world.b_need, requested_by=facilitator)
    assert web(facilitator).get(f"{RUNS}{mine.pk}/").status_code == 200
    assert web(facilitator_y).get(f"{RUNS}{mine.pk}/").status_code == 404
    assert mine not in web(facilitator_y).get(RUNS).context["object_list"]


def test_the_run_list_runs_a_fixed_number_of_queries(web, staff, world):
    client = web(staff)
    for _ in range(3):
        MatchingRun.objects.create(kind=RunKind.STREAM, stream=world.a_offer, requested_by=staff)
    small, _ = _count(client, RUNS)
    for _ in range(17):
        MatchingRun.objects.create(kind=RunKind.STREAM, stream=world.b_need, requested_by=staff)
    large, _ = _count(client, RUNS)
    assert large == small


def test_a_private_counterpart_listing_is_not_named_or_linked(web, api, other_member, company_a, company_b):
    offer = StreamFactory(site=company_a.sites.first(), direction="offer", title="Hidden brine",
                          visibility=Visibility.PRIVATE)
    need = StreamFactory(site=company_b.sites.first(), direction="need", title="Brine wanted")
    match = make_match(offer, need)
    for content in (web(other_member).get(LIST).content, web(other_member).get(detail(match)).content,
                    api(other_member).get(f"/api/v1/matches/{match.pk}/").content):
        assert b"Hidden brine" not in content
        assert f"/streams/{offer.pk}/".encode() not in content


# --- Closed intranet and strict CSP ----------------------------------------------------------------


def test_matching_pages_have_no_inline_code_or_external_urls(web, member, facilitator, staff, world):
    running = MatchingRun.objects.create(kind=RunKind.FULL, status=RunStatus.RUNNING, progress=0.5)
    pages = {
        member: [LIST, f"{LIST}?min_score=0.5&status=suggested", detail(world.ab), RUNS],
        facilitator: [LIST, detail(world.ab), RUNS],
        staff: [f"{RUNS}{running.pk}/", f"{RUNS}{running.pk}/progress/"],
    }
    for user, paths in pages.items():
        client = web(user)
        for path in paths:
            html = client.get(path).content.decode()
            for tag in re.findall(r"<script\b[^>]*>", html, re.I):
                assert "src=" in tag, path
            assert not re.search(r"<style\b", html, re.I), path
            assert not re.search(r"""\s(?:style|on[a-z]+)\s*=\s*["']""", html, re.I), path
            assert not re.search(r"""(?:src|href|action|hx-get)\s*=\s*["'](?:https?:)?//""", html, re.I), path
