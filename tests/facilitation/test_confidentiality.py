"""Before both companies opt in, nothing either of them can fetch (pages, htmx partials, API
responses, exports, notifications, e-mails) contains the other's name, site, price or composition;
after both opt in, each sees the other. A declined suggestion never reveals anything."""

from __future__ import annotations

import pytest
from django.core import mail

from tests.facilitation.conftest import move, reveal
from tests.matching.test_api import A_COMPOSITION, A_NAME, A_PRICE, A_SITE

pytestmark = [pytest.mark.django_db]

A_STRINGS = (A_NAME, A_SITE, A_PRICE, A_COMPOSITION)
B_STRINGS = ("Beta Sawmill AB", "Beta Malmö", "55.50", "beta feed mix")
HTMX = {"HTTP_HX_REQUEST": "true"}


def surfaces(world, match, *, own_stream, own_company):
    """Every GET a party can make that concerns the match: (path, headers)."""
    pk = match.pk
    pages = [
        "/", "/matches/", f"/matches/?stream={own_stream.pk}", f"/matches/{pk}/", f"/matches/{pk}/messages/",
        "/matches/notifications/", "/streams/", "/streams/mine/", f"/streams/{world.a_offer.pk}/",
        f"/streams/{world.b_need.pk}/", f"/companies/{own_company.pk}/impact/",
        "/api/v1/matches/", f"/api/v1/matches/{pk}/", f"/api/v1/matches/{pk}/events/",
        f"/api/v1/matches/{pk}/messages/", f"/api/v1/matches/{pk}/notes/", f"/api/v1/streams/{own_stream.pk}/matches/",
        "/api/v1/streams/", "/api/v1/notifications/", f"/api/v1/companies/{own_company.pk}/",
        "/open-data/", "/open-data/export.csv", "/open-data/export.geojson",
    ]
    out = [(p, {}) for p in pages]
    out += [("/matches/", HTMX), (f"/matches/?stream={own_stream.pk}", HTMX), (f"/matches/{pk}/messages/", HTMX)]
    return out


def scan(client, paths, secrets) -> list[str]:
    leaks = []
    for path, headers in paths:
        response = client.get(path, **headers)
        body = response.content.decode()
        leaks += [f"{path} ({response.status_code}) shows {s!r}" for s in secrets if s in body]
    return leaks


def _both_parties(world, member, other_member, web):
    return [
        (web(member), surfaces(world, world.ab, own_stream=world.a_offer, own_company=world.a_offer.company),
         B_STRINGS),
        (web(other_member), surfaces(world, world.ab, own_stream=world.b_need, own_company=world.b_need.company),
         A_STRINGS),
    ]


def test_before_both_opt_in_no_surface_of_either_party_shows_the_other(
        web, world, facilitator, member, other_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        move(world.ab, facilitator, "approve")
        move(world.ab, facilitator, "introduce")
        move(world.ab, member, "accept")  # one yes is not enough
    leaks = []
    for client, paths, secrets in _both_parties(world, member, other_member, web):
        leaks += scan(client, paths, secrets)
    assert leaks == []
    for message in mail.outbox:
        assert not [s for s in (*A_STRINGS, *B_STRINGS) if s in message.body]


def test_a_declined_suggestion_never_reveals_either_party(web, world, member, other_member):
    move(world.ab, member, "accept")
    move(world.ab, other_member, "decline")
    leaks = []
    for client, paths, secrets in _both_parties(world, member, other_member, web):
        leaks += scan(client, paths, secrets)
    assert leaks == []


def test_after_both_accept_each_party_sees_the_other_and_the_scan_would_notice(
        web, api, world, facilitator, member, other_member):
    reveal(world.ab, facilitator, member, other_member)
    b_page = web(other_member).get(f"/matches/{world.ab.pk}/").content.decode()
    assert all(s in b_page for s in A_STRINGS)
    a_api = api(member).get(f"/api/v1/matches/{world.ab.pk}/").json()
    assert a_api["need"]["company"]["name"] == "Beta Sawmill AB"
    assert a_api["need"]["confidential"]["composition"] == "beta feed mix"
    assert a_api["need"]["site"]["name"] == "Beta Malmö"
    # The revealed match is the only one: C's need stays anonymous to A.
    ac = api(member).get(f"/api/v1/matches/{world.ac.pk}/").json()
    assert ac["need"]["company"] is None and ac["need"]["confidential"] is None


def test_notes_never_reach_companies(web, api, world, facilitator, member, other_member):
    from facilitation.services import match_note_create

    reveal(world.ab, facilitator, member, other_member)
    match_note_create(match=world.ab, author=facilitator, text="fiona thinks beta pays late")
    for user in (member, other_member):
        assert "beta pays late" not in web(user).get(f"/matches/{world.ab.pk}/").content.decode()
        assert api(user).get(f"/api/v1/matches/{world.ab.pk}/notes/").status_code == 403
    assert "beta pays late" in web(facilitator).get(f"/matches/{world.ab.pk}/").content.decode()
