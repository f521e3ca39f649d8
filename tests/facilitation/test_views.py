"""Facilitation pages: the review queue (same ids as the API), bulk moves, the pipeline board, moves
and their page messages, the htmx thread, recording an exchange, notifications, penalties; the
isolation cases and query budgets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from facilitation.models import MatchEvent, MatchMessage, RealisedExchange
from matching.choices import MatchStatus
from matching.models import Match
from tests.facilitation.conftest import move, reveal
from tests.matching.test_api import grow

pytestmark = [pytest.mark.django_db]

QUEUE = "/matches/queue/"
PIPELINE = "/matches/pipeline/"


def queue_ids(response) -> set[int]:
    assert response.status_code == 200, response.content[:300]
    return {view.match.pk for view in response.context["rows"]}


def test_the_queue_opens_on_matches_waiting_for_review(web, world, facilitator):
    response = web(facilitator).get(QUEUE)
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE}?status=suggested&status=under_review"


@pytest.mark.parametrize("persona", ["member", "other_member", "authority"])
def test_companies_and_authorities_have_no_queue_or_pipeline(web, world, persona, request):
    client = web(request.getfixturevalue(persona))
    assert client.get(f"{QUEUE}?status=suggested").status_code == 403
    assert client.get(PIPELINE).status_code == 403
    assert client.post(f"{QUEUE}bulk/", {"ids": [world.ab.pk], "action": "approve"}).status_code == 403
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.SUGGESTED


def test_each_facilitator_sees_only_their_regions(web, world, facilitator, facilitator_y):
    mine = queue_ids(web(facilitator).get(f"{QUEUE}?status=suggested"))
    assert {world.ab.pk, world.ac.pk} <= mine and world.yz.pk not in mine
    theirs = queue_ids(web(facilitator_y).get(f"{QUEUE}?status=suggested"))
    assert world.yz.pk in theirs and not {world.ab.pk, world.ac.pk} & theirs


@pytest.mark.parametrize("query", [
    "status=suggested", "region=SE22&ordering=distance_km", "kind=material&min_score=0.5", "prospective=true",
    "category=MAT.FOOD&ordering=-created_at", "min_age_days=0&status=suggested",
])
def test_the_queue_and_the_api_list_the_same_matches_for_the_same_query(web, api, world, facilitator, query):
    page = queue_ids(web(facilitator).get(f"{QUEUE}?{query}"))
    rows = api(facilitator).get(f"/api/v1/matches/?{query}").json()["results"]
    assert page == {r["id"] for r in rows}


def test_the_queue_answers_htmx_with_the_results_only(web, world, facilitator):
    response = web(facilitator).get(f"{QUEUE}?status=suggested", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and f"select-{world.ab.pk}" in html


def test_the_queue_runs_the_same_queries_for_3_and_20_matches(web, facilitator, company_a, company_b, company_y,
                                                               django_assert_num_queries):
    client = web(facilitator)
    grow(company_a, company_b, company_y, 3)
    client.get(f"{QUEUE}?status=suggested")  # warm the label counts (companies/anonymity.py), built once per data change
    with CaptureQueriesContext(connection) as small:
        client.get(f"{QUEUE}?status=suggested")
    expected = len(small.captured_queries)  # now: the log is a bounded deque that `grow` may rotate
    grow(company_a, company_b, company_y, 17)
    client.get(f"{QUEUE}?status=suggested")
    with django_assert_num_queries(expected):
        assert len(client.get(f"{QUEUE}?status=suggested").context["rows"]) == 20


def test_bulk_approve_moves_the_selected_matches_and_ignores_foreign_ones(web, world, facilitator):
    response = web(facilitator).post(f"{QUEUE}bulk/", {
        "ids": [world.ab.pk, world.ac.pk, world.yz.pk], "action": "approve", "query": "status=suggested",
    }, follow=True)
    assert "2 matches moved" in response.content.decode()
    statuses = dict(Match.objects.filter(pk__in=[world.ab.pk, world.ac.pk, world.yz.pk]).values_list("pk", "status"))
    assert statuses == {world.ab.pk: "approved", world.ac.pk: "approved", world.yz.pk: "suggested"}


def test_bulk_reject_without_a_reason_is_refused_per_match_with_a_message(web, world, facilitator):
    response = web(facilitator).post(f"{QUEUE}bulk/", {"ids": [world.ab.pk], "action": "reject"}, follow=True)
    assert "Say why the match is rejected" in response.content.decode()
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.SUGGESTED
    web(facilitator).post(f"{QUEUE}bulk/", {"ids": [world.ab.pk], "action": "reject", "reason_code": "distance"})
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.REJECTED


def test_an_illegal_move_on_the_page_shows_a_message_and_changes_nothing(web, world, facilitator):
    response = web(facilitator).post(f"/matches/{world.ab.pk}/move/", {"action": "implement"}, follow=True)
    html = response.content.decode()
    assert response.status_code == 200
    assert "cannot be moved with" in html and "message--error" in html
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.SUGGESTED
    assert not MatchEvent.objects.exists()


def test_moves_on_the_page_are_404_for_foreign_matches_and_403_for_the_wrong_role(web, world, member,
                                                                                  facilitator_y):
    assert web(facilitator_y).post(f"/matches/{world.ab.pk}/move/", {"action": "approve"}).status_code == 404
    assert web(member).post(f"/matches/{world.yz.pk}/move/", {"action": "accept"}).status_code == 404
    assert web(member).post(f"/matches/{world.ab.pk}/move/", {"action": "approve"}).status_code == 403
    assert web(member).post(f"/matches/{world.ab.pk}/notes/", {"text": "x"}).status_code == 403
    assert web(facilitator_y).get(f"/matches/{world.ab.pk}/messages/").status_code == 404
    assert web(facilitator_y).get(f"/matches/{world.ab.pk}/realised/").status_code == 404
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.SUGGESTED


def test_the_detail_page_offers_each_viewer_their_moves(web, world, facilitator, member):
    html = web(facilitator).get(f"/matches/{world.ab.pk}/").content.decode()
    assert 'value="approve"' in html and 'value="reject"' in html and 'value="accept"' not in html
    assert "Private notes" in html
    html = web(member).get(f"/matches/{world.ab.pk}/").content.decode()
    assert 'value="accept"' in html and 'value="decline"' in html and 'value="approve"' not in html
    assert "Private notes" not in html


def test_the_thread_posts_with_htmx_and_returns_the_thread(web, world, facilitator, member, other_member):
    reveal(world.ab, facilitator, member, other_member)
    response = web(other_member).post(f"/matches/{world.ab.pk}/messages/", {"text": "Hello Alpha"},
                                      HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="thread"' in html and "Hello Alpha" in html and "<html" not in html
    assert MatchMessage.objects.get().author == other_member
    assert "Hello Alpha" in web(member).get(f"/matches/{world.ab.pk}/").content.decode()


def test_the_facilitator_records_the_exchange_on_a_page(web, world, facilitator, member, other_member):
    reveal(world.ab, facilitator, member, other_member)
    client = web(facilitator)
    assert client.get(f"/matches/{world.ab.pk}/realised/").status_code == 200
    bad = client.post(f"/matches/{world.ab.pk}/realised/", {"started_on": "2999-01-01", "quantity_yearly": "5"})
    assert bad.status_code == 400 and not RealisedExchange.objects.exists()
    ok = client.post(f"/matches/{world.ab.pk}/realised/", {"started_on": "2026-02-01", "quantity_yearly": "120"})
    assert ok.status_code == 302
    assert Match.objects.get(pk=world.ab.pk).status == MatchStatus.IMPLEMENTED
    assert RealisedExchange.objects.get().quantity_yearly == 120
    assert web(member).get(f"/matches/{world.ab.pk}/realised/").status_code == 403


def test_the_pipeline_shows_cards_by_status_in_a_fixed_number_of_queries(web, world, facilitator, member,
                                                                          other_member, django_assert_num_queries):
    move(world.ac, facilitator, "review")
    reveal(world.ab, facilitator, member, other_member)
    client = web(facilitator)
    client.get(PIPELINE)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PIPELINE)
    columns = {c.status: [v.match.pk for v in cards] for c, cards in response.context["columns"]}
    assert columns["under_review"] == [world.ac.pk] and columns["introduced"] == [world.ab.pk]
    assert world.yz.pk not in sum(columns.values(), [])
    Match.objects.filter(pk__in=Match.objects.exclude(pk__in=[world.ab.pk, world.ac.pk])
                         .filter(offer=world.a_offer).values("pk")).update(status=MatchStatus.APPROVED)
    with django_assert_num_queries(len(ctx.captured_queries)):
        client.get(PIPELINE)


def test_a_pipeline_column_shows_its_first_cards_and_links_the_rest_to_the_queue(web, world, facilitator,
                                                                                 monkeypatch):
    from facilitation import selectors

    for m in (world.ab, world.ac):
        move(m, facilitator, "review")
    monkeypatch.setattr(selectors, "PIPELINE_CARDS", 1)
    response = web(facilitator).get(PIPELINE, {"min_score": "0.1"})
    column, cards = next((c, cards) for c, cards in response.context["columns"] if c.status == "under_review")
    best = max((world.ab, world.ac), key=lambda m: (m.score, -m.pk))
    assert [v.match.pk for v in cards] == [best.pk]  # the queue's order: best score first
    assert (column.total, column.more) == (2, 1)
    html = response.content.decode()
    assert "1 more in the review queue" in html
    assert "/matches/queue/?status=under_review&amp;min_score=0.1" in html
    queue = web(facilitator).get("/matches/queue/", {"status": "under_review", "min_score": "0.1"})
    assert {v.match.pk for v in queue.context["rows"]} == {world.ab.pk, world.ac.pk}


def test_notifications_page_lists_your_own(web, world, facilitator, member, django_assert_num_queries):
    move(world.ab, facilitator, "approve")
    move(world.ab, facilitator, "introduce")
    client = web(member)
    client.get("/matches/notifications/")
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/matches/notifications/").content.decode()
    assert f"Match #{world.ab.pk}" in html
    move(world.ac, facilitator, "approve")
    move(world.ac, facilitator, "introduce")
    with django_assert_num_queries(len(ctx.captured_queries)):
        client.get("/matches/notifications/")
    assert f"Match #{world.ab.pk}" not in web(facilitator).get("/matches/notifications/").content.decode()


def test_only_staff_see_the_rejection_penalties(web, world, staff, facilitator):
    assert web(facilitator).get("/matches/penalties/").status_code == 403
    assert web(staff).get("/matches/penalties/").status_code == 200
