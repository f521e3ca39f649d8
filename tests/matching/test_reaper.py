"""The reaper re-queues runs whose heartbeat is stale, once, and gives up on a run that keeps dying."""

import contextlib
import types
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from matching.choices import RunKind, RunStatus
from matching.models import MatchCandidate, MatchingRun
from matching.reaper import matching_runs_reap

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispatched(settings):
    settings.MATCHING_RUN_STALE_SECONDS = 60
    settings.MATCHING_RUN_MAX_ATTEMPTS = 3
    with mock.patch("matching.tasks.matching_full_run_task.delay") as full, \
            mock.patch("matching.tasks.matching_run_for_stream_task.delay") as one:
        yield {"full": full, "stream": one}


def _run(status, *, age, attempts=1, kind=RunKind.FULL):
    run = MatchingRun.objects.create(kind=kind, status=status, attempts=attempts)
    then = timezone.now() - timedelta(seconds=age)
    MatchingRun.objects.filter(pk=run.pk).update(created_at=then, heartbeat_at=then if status != RunStatus.QUEUED else None)
    return run


def test_a_running_job_with_a_stale_heartbeat_is_re_queued_after_commit(dispatched, django_capture_on_commit_callbacks):
    stale = _run(RunStatus.RUNNING, age=120)
    fresh = _run(RunStatus.RUNNING, age=10)
    with django_capture_on_commit_callbacks(execute=True):
        assert matching_runs_reap() == {"requeued": 1, "failed": 0}
    dispatched["full"].assert_called_once_with(stale.pk)
    stale.refresh_from_db()
    fresh.refresh_from_db()
    assert stale.status == RunStatus.QUEUED and fresh.status == RunStatus.RUNNING


def test_a_queued_job_nobody_claimed_is_re_dispatched_by_kind(dispatched, django_capture_on_commit_callbacks):
    lost = _run(RunStatus.QUEUED, age=120, attempts=0, kind=RunKind.STREAM)
    _run(RunStatus.QUEUED, age=5, attempts=0)
    with django_capture_on_commit_callbacks(execute=True):
        assert matching_runs_reap()["requeued"] == 1
    dispatched["stream"].assert_called_once_with(lost.pk)
    assert not dispatched["full"].called


def test_a_second_reaper_does_not_queue_the_same_job_again(dispatched, django_capture_on_commit_callbacks):
    _run(RunStatus.RUNNING, age=120)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        first = matching_runs_reap(now=now)
        second = matching_runs_reap(now=now + timedelta(seconds=1))
    assert (first["requeued"], second["requeued"]) == (1, 0)
    assert dispatched["full"].call_count == 1


def test_the_conditional_update_loses_to_a_worker_that_just_claimed_the_run(dispatched):
    run = _run(RunStatus.RUNNING, age=120)
    real_atomic = transaction.atomic

    @contextlib.contextmanager
    def claimed_meanwhile():
        # Between the reaper's read and its guarded update, a worker beats the run's heart.
        MatchingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now())
        with real_atomic():
            yield

    fake = types.SimpleNamespace(atomic=claimed_meanwhile, on_commit=transaction.on_commit)
    with mock.patch("matching.reaper.transaction", fake):
        assert matching_runs_reap() == {"requeued": 0, "failed": 0}
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING
    assert not dispatched["full"].called


def test_a_run_that_keeps_dying_is_marked_failed(dispatched):
    run = _run(RunStatus.RUNNING, age=120, attempts=3)
    assert matching_runs_reap() == {"requeued": 0, "failed": 1}
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "3 attempts" in run.error
    assert not dispatched["full"].called


def test_finished_runs_lose_their_leftover_scratch_rows(dispatched):
    done = _run(RunStatus.DONE, age=5)
    numbers = dict.fromkeys(("score", "compatibility", "distance_part", "volume_value_part", "availability_part",
                             "distance_km", "exchangeable_yearly", "co2e_t", "eur_provider", "eur_receiver",
                             "diverted_t"), 0.5)
    MatchCandidate.objects.create(run=done, shard=0, offer_id=1, need_id=-1, source_company_id=1,
                                  target_company_id=2, unit=0, **numbers)
    matching_runs_reap()
    assert not MatchCandidate.objects.exists()


def test_beat_runs_the_reaper_often():
    entry = django_settings.CELERY_BEAT_SCHEDULE["matching-reap-stale-runs"]
    assert entry["task"] == "matching.tasks.matching_runs_reap_task"
    assert entry["schedule"] <= 300
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS[
        "visibility_timeout"] > django_settings.MATCHING_RUN_STALE_SECONDS
    assert django_settings.CELERY_BROKER_TRANSPORT_OPTIONS[
        "visibility_timeout"] > django_settings.CELERY_TASK_TIME_LIMIT
    assert django_settings.CELERY_TASK_ACKS_LATE and django_settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert django_settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1


def test_a_superseded_attempt_of_a_stream_run_neither_closes_it_nor_keeps_its_matches(company_a, company_b):
    from matching.models import Match
    from matching.services import matching_run_claim, matching_run_stream_job
    from tests.factories import StreamFactory, leaf_category

    category = leaf_category("material")
    offer = StreamFactory(site=company_a.sites.first(), category=category)
    StreamFactory(site=company_b.sites.first(), direction="need", category=category)
    run = MatchingRun.objects.create(kind=RunKind.STREAM, stream=offer)
    first = matching_run_claim(run.pk)
    # The reaper re-queued the run and a second attempt claimed it while the first was still busy.
    MatchingRun.objects.filter(pk=run.pk).update(status=RunStatus.QUEUED)
    second = matching_run_claim(run.pk)
    assert matching_run_stream_job(run=first).status == RunStatus.RUNNING
    assert not Match.objects.filter(run=run).exists()
    assert matching_run_stream_job(run=second).status == RunStatus.DONE
    assert Match.objects.filter(run=run).count() >= 1
