"""The state machine: allowed moves, who may make them, refusals that change nothing, the timeline,
double opt-in, notifications, and two facilitators acting at the same time."""

from __future__ import annotations

import threading
import time

import pytest
from django.core import mail
from django.db import close_old_connections

from facilitation import transitions
from facilitation.models import MatchEvent, Notification
from facilitation.transitions import ALLOWED, BadInput, IllegalMove, NotPermitted
from matching.choices import MatchStatus, OptIn
from matching.models import Match
from tests.facilitation.conftest import move

pytestmark = [pytest.mark.django_db]


def test_every_move_leads_to_a_status_and_the_terminal_statuses_have_no_way_out():
    terminal = {MatchStatus.REJECTED, MatchStatus.DECLINED, MatchStatus.WITHDRAWN, MatchStatus.IMPLEMENTED}
    for action, m in ALLOWED.items():
        assert not terminal & set(m.sources), action
        assert m.to is None or m.to in MatchStatus.values


def test_the_happy_path_records_every_move_with_who_when_and_from_to(world, facilitator, member, other_member):
    m = world.ab
    move(m, facilitator, "review")
    move(m, facilitator, "approve")
    move(m, facilitator, "introduce")
    move(m, member, "accept")
    m = move(m, other_member, "accept")
    assert m.status == MatchStatus.INTRODUCED and m.revealed_at is not None
    move(m, facilitator, "negotiate")
    m = move(m, facilitator, "implement")
    assert m.status == MatchStatus.IMPLEMENTED
    events = list(MatchEvent.objects.filter(match=m))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("suggested", "under_review"), ("under_review", "approved"), ("approved", "introduced"),
        ("introduced", "introduced"), ("introduced", "introduced"), ("introduced", "negotiating"),
        ("negotiating", "implemented"),
    ]
    assert [e.actor for e in events[2:5]] == [facilitator, member, other_member]
    assert [e.actor_role for e in events[2:5]] == ["facilitator", "offer", "need"]
    assert all(e.at.utcoffset().total_seconds() == 0 for e in events)  # stored and read in UTC


def test_an_illegal_move_is_refused_with_a_clear_message_and_changes_nothing(world, facilitator):
    m = world.ab
    before = Match.objects.filter(pk=m.pk).values().get()
    with pytest.raises(IllegalMove) as exc:
        move(m, facilitator, "introduce")  # not approved yet
    assert "Suggested" in exc.value.message and exc.value.status == 409
    assert Match.objects.filter(pk=m.pk).values().get() == before
    assert not MatchEvent.objects.exists()


def test_a_rejection_needs_a_reason_code(world, facilitator):
    with pytest.raises(BadInput) as exc:
        move(world.ab, facilitator, "reject", comment="no")
    assert exc.value.status == 400
    m = move(world.ab, facilitator, "reject", reason_code="quality", comment="too wet")
    assert m.status == MatchStatus.REJECTED
    assert MatchEvent.objects.get(match=m).reason_code == "quality"


def test_companies_cannot_make_facilitator_moves_nor_facilitators_answer_for_companies(world, member, facilitator,
                                                                                     facilitator_y):
    with pytest.raises(NotPermitted):
        move(world.ab, member, "approve")
    with pytest.raises(NotPermitted):
        move(world.ab, facilitator, "accept")
    with pytest.raises(NotPermitted):  # another region's facilitator
        move(world.ab, facilitator_y, "approve")
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.SUGGESTED


def test_both_parties_saying_yes_reveals_them_without_a_facilitator(world, member, other_member):
    m = move(world.ab, member, "accept")
    assert m.provider_response == OptIn.YES and m.revealed_at is None and m.status == MatchStatus.SUGGESTED
    m = move(world.ab, other_member, "accept")
    assert m.revealed_at is not None and m.status == MatchStatus.INTRODUCED


def test_one_no_declines_and_reveals_nothing(world, member, other_member):
    move(world.ab, member, "accept")
    m = move(world.ab, other_member, "decline")
    assert m.status == MatchStatus.DECLINED and m.revealed_at is None
    with pytest.raises(IllegalMove):
        move(world.ab, member, "accept")


def test_negotiating_needs_both_companies_to_have_accepted(world, facilitator, member):
    move(world.ab, facilitator, "approve")
    move(world.ab, facilitator, "introduce")
    move(world.ab, member, "accept")
    with pytest.raises(IllegalMove):
        move(world.ab, facilitator, "negotiate")


def test_an_introduction_notifies_both_companies_in_the_app_and_by_mail_without_names(
        world, facilitator, member, other_member, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        move(world.ab, facilitator, "approve")
        move(world.ab, facilitator, "introduce")
    assert set(Notification.objects.values_list("user__username", flat=True)) == {"alice", "bob"}
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.test", "bob@example.test"]
    for message in mail.outbox:
        assert "Alpha" not in message.body and "Beta" not in message.body
        assert f"/matches/{world.ab.pk}/" in message.body
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        move(world.ab, member, "accept")
        move(world.ab, other_member, "accept")
    assert {m.to[0] for m in mail.outbox} >= {"alice@example.test", "bob@example.test", "fiona@example.test"}


def test_closing_a_stream_withdraws_the_matches_in_work(world, facilitator, member):
    from streams.services import stream_set_status

    move(world.ab, facilitator, "approve")
    stream_set_status(stream=world.a_offer, actor=member, status="closed")
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.WITHDRAWN
    event = MatchEvent.objects.filter(match=world.ab).last()
    assert event.actor is None and event.actor_role == "system" and event.to_status == "withdrawn"


def test_an_answered_suggestion_survives_the_next_matching_run(world, member):
    from matching.choices import RunKind, RunStatus
    from matching.models import MatchingRun
    from matching.services import matching_run_full

    move(world.ab, member, "accept")
    matching_run_full(run=MatchingRun.objects.create(kind=RunKind.FULL, status=RunStatus.RUNNING))
    assert Match.objects.get(pk=world.ab.pk).provider_response == OptIn.YES


@pytest.mark.django_db(transaction=True)
def test_two_facilitators_approving_at_once_leave_one_consistent_result(reference_data, company_a, company_b,
                                                                         company_y, facilitator, staff, monkeypatch):
    """Real concurrent transactions on separate connections. The first to lock the row holds it for
    a moment (the seam sleeps); without `select_for_update` the second would read "suggested" too
    and both would approve."""
    from tests.matching.test_api import build_world

    world = build_world(company_a, company_b, company_y)
    monkeypatch.setattr(transitions, "_after_lock", lambda match: time.sleep(0.5))
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(user):
        try:
            barrier.wait()
            move(world.ab, user, "approve")
            outcomes[user.username] = "ok"
        except Exception as exc:  # noqa: BLE001 - the outcome is the assertion
            outcomes[user.username] = exc
        finally:
            close_old_connections()

    threads = [threading.Thread(target=act, args=(u,)) for u in (facilitator, staff)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = sorted(outcomes.values(), key=str)
    assert results[-1] == "ok" and isinstance(results[0], IllegalMove), outcomes
    m = Match.objects.get(pk=world.ab.pk)
    assert m.status == MatchStatus.APPROVED
    assert list(MatchEvent.objects.filter(match=m).values_list("from_status", "to_status")) == [
        ("suggested", "approved")
    ]
