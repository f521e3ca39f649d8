"""Facilitation in the API: moves with their 400/403/404/409 answers, timeline, notes, messages,
realised exchanges, notifications; the isolation cases and query budgets."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from facilitation.models import MatchEvent, MatchMessage, MatchNote, RealisedExchange
from matching.choices import MatchStatus
from matching.models import Match
from tests.facilitation.conftest import move, reveal

pytestmark = [pytest.mark.django_db]


def url(match, action=""):
    return f"/api/v1/matches/{match.pk}/{action + '/' if action else ''}"


def test_a_facilitator_moves_a_match_and_gets_it_back(api, world, facilitator):
    response = api(facilitator).post(url(world.ab, "transition"), {"action": "approve"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


@pytest.mark.parametrize(
    ("persona", "payload", "code"),
    [
        ("facilitator", {"action": "introduce"}, 409),  # not approved yet
        ("facilitator", {"action": "reject"}, 400),  # no reason code
        ("facilitator", {"action": "reject", "reason_code": "nonsense"}, 400),
        ("facilitator", {"action": "fly"}, 400),
        ("member", {"action": "approve"}, 403),  # a party
        ("facilitator_y", {"action": "approve"}, 404),  # another region's facilitator
        ("authority", {"action": "approve"}, 404),
    ],
)
def test_refused_moves_answer_with_their_status_and_change_nothing(api, world, persona, payload, code, request):
    client = api(request.getfixturevalue(persona))
    before = Match.objects.filter(pk=world.ab.pk).values().get()
    response = client.post(url(world.ab, "transition"), payload, format="json")
    assert response.status_code == code, response.content
    if code in (403, 409):
        assert response.json()["detail"]
    assert Match.objects.filter(pk=world.ab.pk).values().get() == before
    assert not MatchEvent.objects.exists()


def test_a_foreign_match_is_404_on_every_facilitation_endpoint(api, world, member, facilitator_y):
    for user, match in ((member, world.yz), (facilitator_y, world.ab)):
        client = api(user)
        for action in ("events", "notes", "messages"):
            assert client.get(url(match, action)).status_code == 404, action
        for action, body in (("transition", {"action": "accept"}), ("notes", {"text": "x"}),
                             ("messages", {"text": "x"}), ("realised", {"started_on": "2026-01-01",
                                                                        "quantity_yearly": 5})):
            assert client.post(url(match, action), body, format="json").status_code == 404, action


def test_anonymous_clients_are_refused(api, world):
    assert api(None).post(url(world.ab, "transition"), {"action": "approve"}, format="json").status_code in (401, 403)
    assert api(None).get("/api/v1/notifications/").status_code in (401, 403)


def test_parties_answer_and_the_timeline_hides_facilitator_names_and_comments(api, world, facilitator, member,
                                                                                other_member):
    move(world.ab, facilitator, "approve", comment="fiona's private reasoning")
    move(world.ab, facilitator, "introduce")
    response = api(member).post(url(world.ab, "transition"), {"action": "accept"}, format="json")
    body = response.json()
    assert response.status_code == 200 and body["need"]["company"] is None
    assert body["your_answer"] == "yes" and body["revealed"] is False and body["actions"] == ["decline"]
    assert api(other_member).get(url(world.ab)).json()["actions"] == ["accept", "decline"]
    events = api(other_member).get(url(world.ab, "events")).json()
    assert [e["who"] for e in events] == ["a facilitator", "a facilitator", "the other company"]
    assert "fiona" not in str(events)
    full = api(facilitator).get(url(world.ab, "events")).json()
    assert full[0]["who"] == "fiona" and full[0]["comment"] == "fiona's private reasoning"


def test_the_thread_opens_on_reveal_for_both_parties_and_the_facilitator_only(
        api, world, facilitator, facilitator_y, member, other_member, staff, django_capture_on_commit_callbacks):
    assert api(member).get(url(world.ab, "messages")).status_code == 403
    reveal(world.ab, facilitator, member, other_member)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(member).post(url(world.ab, "messages"), {"text": "Can you take 20 t in May?"}, format="json")
    assert response.status_code == 201
    assert {m.to[0] for m in mail.outbox} == {"bob@example.test", "fiona@example.test"}
    for user in (other_member, facilitator, staff):
        assert [m["text"] for m in api(user).get(url(world.ab, "messages")).json()] == ["Can you take 20 t in May?"]
    assert api(facilitator_y).get(url(world.ab, "messages")).status_code == 404
    assert api(member).post(url(world.ab, "messages"), {"text": ""}, format="json").status_code == 400
    assert MatchMessage.objects.count() == 1


def test_notes_are_for_facilitators(api, world, facilitator, member):
    assert api(facilitator).post(url(world.ab, "notes"), {"text": "call them"}, format="json").status_code == 201
    assert [n["text"] for n in api(facilitator).get(url(world.ab, "notes")).json()] == ["call them"]
    assert api(member).get(url(world.ab, "notes")).status_code == 403
    assert api(member).post(url(world.ab, "notes"), {"text": "x"}, format="json").status_code == 403


@pytest.mark.parametrize("action", ["notes", "messages"])
def test_head_on_a_thread_answers_like_get_and_writes_nothing(api, world, facilitator, member, other_member, action):
    # HEAD was once handled as a POST: a 400 without a body, and a new note or message with one.
    reveal(world.ab, facilitator, member, other_member)
    client = api(facilitator)
    before = (MatchNote.objects.count(), MatchMessage.objects.count())
    response = client.generic("HEAD", url(world.ab, action), '{"text": "sent with HEAD"}', "application/json")
    assert response.status_code == client.get(url(world.ab, action)).status_code == 200
    assert (MatchNote.objects.count(), MatchMessage.objects.count()) == before


def test_recording_a_realised_exchange_implements_the_match_and_scales_the_impact(api, world, facilitator, member,
                                                                                 other_member):
    body = {"started_on": "2026-03-01", "quantity_yearly": world.ab.exchangeable_yearly / 2}
    assert api(facilitator).post(url(world.ab, "realised"), body, format="json").status_code == 409  # not revealed
    reveal(world.ab, facilitator, member, other_member)
    assert api(member).post(url(world.ab, "realised"), body, format="json").status_code == 403
    assert api(facilitator).post(url(world.ab, "realised"), {**body, "quantity_yearly": 0},
                                 format="json").status_code == 400
    response = api(facilitator).post(url(world.ab, "realised"), body, format="json")
    assert response.status_code == 201, response.content
    realised = RealisedExchange.objects.get(match=world.ab)
    m = Match.objects.get(pk=world.ab.pk)
    assert m.status == MatchStatus.IMPLEMENTED
    assert realised.co2e_t == pytest.approx(m.co2e_t / 2, rel=1e-3)
    assert realised.recorded_by == facilitator
    # A correction updates the same record.
    api(facilitator).post(url(world.ab, "realised"), {**body, "quantity_yearly": 1.0}, format="json")
    assert RealisedExchange.objects.get(match=world.ab).quantity_yearly == 1.0


def test_a_huge_realised_quantity_is_refused_not_a_server_error(api, world, facilitator, member, other_member):
    """Found by the chained fuzzing (reveal, then POST realised with 9.3e307 per year): the scaled EUR
    figures overflowed to infinity, which JSON cannot carry, and the API answered 500."""
    reveal(world.ab, facilitator, member, other_member)
    body = {"started_on": "2026-03-01", "quantity_yearly": 9.3e307}
    response = api(facilitator).post(url(world.ab, "realised"), body, format="json")
    assert response.status_code == 400, response.content
    assert "quantity_yearly" in response.json()
    assert not RealisedExchange.objects.filter(match=world.ab).exists()
    assert Match.objects.get(pk=world.ab.pk).status != MatchStatus.IMPLEMENTED


def test_notifications_are_your_own_and_list_in_a_fixed_number_of_queries(api, world, facilitator, member,
                                                                           other_member, django_assert_num_queries):
    move(world.ab, facilitator, "approve")
    move(world.ab, facilitator, "introduce")
    move(world.ac, facilitator, "approve")
    move(world.ac, facilitator, "introduce")
    client = api(member)
    with django_assert_num_queries(2):  # count + page (notifications need no roles)
        rows = client.get("/api/v1/notifications/").json()["results"]
    assert len(rows) == 2
    assert len(api(other_member).get("/api/v1/notifications/").json()["results"]) == 1


def test_the_queue_filters_of_the_api_match_the_new_filters(api, world, facilitator):
    client = api(facilitator)
    rows = client.get("/api/v1/matches/?category=MAT.FOOD").json()["results"]
    assert {world.ab.pk, world.ac.pk} <= {r["id"] for r in rows}
    codes = [r[side]["stream"]["category"]["code"] for r in rows for side in ("offer", "need") if r[side]["stream"]]
    assert codes and all(c.startswith("MAT.FOOD.") for c in codes)
    assert client.get("/api/v1/matches/?category=MAT.FOOD.WHE").json()["results"] == []  # whole codes only
    assert client.get("/api/v1/matches/?min_age_days=1").json()["results"] == []
    Match.objects.filter(pk=world.ab.pk).update(created_at=world.ab.created_at - dt.timedelta(days=3))
    assert [r["id"] for r in client.get("/api/v1/matches/?min_age_days=2").json()["results"]] == [world.ab.pk]
    assert world.ab.pk not in {r["id"] for r in client.get("/api/v1/matches/?max_age_days=2").json()["results"]}


def test_the_schema_documents_the_refusals(api, staff):
    schema = api(staff).get("/api/schema/?format=json").json()
    op = schema["paths"]["/api/v1/matches/{id}/transition/"]["post"]
    assert {"200", "400", "403", "404", "409"} <= set(op["responses"])


def test_events_notes_and_messages_list_in_a_fixed_number_of_queries(api, world, facilitator, member, other_member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from facilitation.services import match_message_create, match_note_create

    m = reveal(world.ab, facilitator, member, other_member)
    client = api(facilitator)
    client.get(url(world.ab))  # roles cached on the user from here on

    def counts():
        out = {}
        for action in ("events", "notes", "messages"):
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url(world.ab, action)).status_code == 200
            out[action] = len(ctx.captured_queries)
        return out

    match_note_create(match=m, author=facilitator, text="one")
    match_message_create(match=m, author=member, text="one")
    small = counts()
    for i in range(5):
        match_note_create(match=m, author=facilitator, text=f"more {i}")
        match_message_create(match=m, author=other_member, text=f"more {i}")
    move(world.ab, facilitator, "negotiate")
    assert counts() == small
