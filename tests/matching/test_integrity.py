"""Match's references (offer, need, source and target company) are enforced by statement-level
triggers in PostgreSQL instead of per-row foreign keys (matching/migrations/0006): a row pointing
at a missing stream or company is refused, a stream or company that matches still point at cannot
be deleted behind the ORM's back, the ORM's cascade still works, and a delete racing with a run
that writes matches for the same stream fails instead of leaving an orphan."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, close_old_connections, connection, transaction

from companies.models import Company
from matching.choices import RunKind
from matching.models import Match, MatchingRun
from streams.choices import Direction
from streams.models import Stream
from tests.factories import CompanyFactory, SiteFactory, StreamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(reference_data):
    offer = StreamFactory(direction=Direction.OFFER)
    need = StreamFactory(direction=Direction.NEED, site=SiteFactory(latitude=55.7, longitude=13.2))
    return offer, need


def _match(offer, need, **kw) -> Match:
    fields = {"offer": offer, "need": need, "source_company_id": offer.company_id,
              "target_company_id": need.company_id if need else None, "score": 0.5, "distance_km": 12.0, "engine_version": "t"}
    return Match.objects.create(**(fields | kw))


def _missing_id(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000


def test_the_triggers_are_installed():
    with connection.cursor() as cur:
        cur.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'matching_match_refs_%' ORDER BY tgname")
        assert [r[0] for r in cur.fetchall()] == [
            "matching_match_refs_company_delete", "matching_match_refs_insert", "matching_match_refs_stream_delete",
            "matching_match_refs_update",
        ]


@pytest.mark.parametrize("field", ["offer_id", "need_id"])
def test_a_match_pointing_at_a_missing_stream_is_refused(pair, field):
    offer, need = pair
    with pytest.raises(IntegrityError, match="stream that does not exist"), transaction.atomic():
        _match(offer, need, **{field: _missing_id(Stream)})
    assert not Match.objects.exists()


@pytest.mark.parametrize("field", ["source_company_id", "target_company_id"])
def test_a_match_pointing_at_a_missing_company_is_refused(pair, field):
    offer, need = pair
    with pytest.raises(IntegrityError, match="company that does not exist"), transaction.atomic():
        _match(offer, need, **{field: _missing_id(Company)})
    assert not Match.objects.exists()


def test_an_update_to_a_missing_stream_is_refused_and_one_statement_is_checked_as_a_whole(pair):
    offer, need = pair
    m = _match(offer, need)
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.filter(pk=m.pk).update(need_id=_missing_id(Stream))
    # A bulk statement with one bad row among good ones is refused entirely.
    other = StreamFactory(direction=Direction.NEED)
    rows = [Match(offer=offer, need=other, source_company_id=offer.company_id, target_company_id=other.company_id,
                  score=0.4, distance_km=1, engine_version="t"),
            Match(offer=offer, need_id=_missing_id(Stream), source_company_id=offer.company_id,
                  target_company_id=other.company_id, score=0.4, distance_km=1, engine_version="t")]
    with pytest.raises(IntegrityError), transaction.atomic():
        Match.objects.bulk_create(rows)
    assert list(Match.objects.values_list("pk", "need_id")) == [(m.pk, need.pk)]


def test_a_raw_delete_of_a_referenced_stream_or_company_is_refused(pair):
    offer, need = pair
    _match(offer, need)
    for sql, pk in (("DELETE FROM streams_stream WHERE id = %s", need.pk),
                    ("DELETE FROM companies_company WHERE id = %s", offer.company_id)):
        with pytest.raises(IntegrityError, match="still referenced"), transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the check is deferred to commit; this test never commits
            cur.execute("DELETE FROM streams_stream_ewc_codes WHERE stream_id = %s", [pk])
            cur.execute(sql, [pk])
    assert Match.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_orm_cascade_still_removes_matches_with_their_stream_or_company(pair):
    """Committed for real, so the deferred check runs (the ORM may delete the stream first)."""
    offer, need = pair
    _match(offer, need)
    need.delete()
    assert not Match.objects.exists()
    prospect = CompanyFactory()  # a prospective partner (no site, so nothing protects it)
    _match(offer, None, target_company_id=prospect.pk, prospective=True)
    prospect.delete()
    assert not Match.objects.exists()


def test_deleting_the_run_keeps_its_matches(pair):
    offer, need = pair
    run = MatchingRun.objects.create(kind=RunKind.FULL)
    m = _match(offer, need, run=run)
    run.delete()
    m.refresh_from_db()
    assert m.run_id is None


@pytest.mark.django_db(transaction=True)
def test_a_delete_racing_with_a_run_that_writes_matches_fails_instead_of_leaving_an_orphan(pair):
    """Thread 1 writes a match for the need and holds its transaction open; thread 2 deletes the
    need through the ORM (which finds no match to cascade to, and then waits on the row lock the
    trigger took); once thread 1 commits, thread 2's delete sees the committed match and fails."""
    offer, need = pair
    inserted, outcome = threading.Event(), {}

    def writer():
        try:
            with transaction.atomic():
                _match(offer, need)
                inserted.set()
                time.sleep(0.6)
        finally:
            close_old_connections()

    def deleter():
        inserted.wait(5)
        try:
            Stream.objects.filter(pk=need.pk).delete()
            outcome["deleted"] = True
        except IntegrityError as exc:
            outcome["error"] = str(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=writer), threading.Thread(target=deleter)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert time.perf_counter() - t0 >= 0.5  # the delete waited for the writer's lock
    assert "still referenced" in outcome.get("error", ""), outcome
    assert Stream.objects.filter(pk=need.pk).exists()
    assert Match.objects.filter(need_id=need.pk).count() == 1
