"""No matching job is ever lost: real Celery workers, started as subprocesses and killed by their pid.

Each worker is `celery -A symbiosis worker --pool prefork --concurrency 1` on the test database and
the test's Redis. A shard writes the pid of the pool process into the run's message and waits
MATCHING_SHARD_DELAY_MS before its work (the recovery-drill setting, see
matching.services.matching_run_shard_begin), so a kill lands in the middle of the job. The test process plays beat: it calls the reaper
while it waits, exactly as the `matching-reap-stale-runs` schedule does in production.

- Killing the pool child: Celery requeues the message (acks_late + reject_on_worker_lost), a new
  child runs the shard again, and the run finishes on its first attempt. This test does not call
  the reaper, so it proves the Celery settings alone.
- Killing the whole worker: its message stays unacknowledged in Redis until the visibility timeout;
  the reaper re-queues the run from PostgreSQL and a fresh worker finishes it (second attempt).
- Flushing Redis with a job queued: the reaper re-queues it from PostgreSQL.
Every job must end DONE exactly once with one result set, equal to a clean run's.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest
import redis
from django.conf import settings
from django.db import transaction

from matching.choices import RunKind, RunStatus
from matching.models import Match, MatchCandidate, MatchingRun
from matching.reaper import matching_runs_reap
from matching.services import matching_run_create
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, leaf_category, region

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reference_data"),
]

SHARD_DELAY_MS = 700
STALE_SECONDS = 4


def _database_url() -> str:
    db = settings.DATABASES["default"]  # the test database pytest-django created
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A Celery worker in its own process group; killed by pid, never by name."""

    def __init__(self):
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.CELERY_BROKER_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "MATCHING_SHARD_DELAY_MS": str(SHARD_DELAY_MS),
            "CONN_MAX_AGE": "0",
        }
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "celery", "-A", "symbiosis", "worker", "--pool", "prefork",
             "--concurrency", "1", "--loglevel", os.environ.get("KILL_TEST_LOGLEVEL", "WARNING"), "-Q", "celery", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "-n", f"kill-{uuid.uuid4().hex[:8]}@%h"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL,
            stderr=open(os.environ.get("KILL_TEST_LOG", os.devnull), "ab"),  # noqa: SIM115
            start_new_session=True,
        )

    def child_pids(self) -> list[int]:
        try:
            return [c.pid for c in psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def kill_all(self) -> None:
        """SIGKILL the main process and its pool children: nothing gets to acknowledge or restore."""
        children = self.child_pids()
        os.kill(self.proc.pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def workers():
    started: list[Worker] = []

    def start() -> Worker:
        w = Worker()
        started.append(w)
        return w

    yield start
    for w in started:
        if w.proc.poll() is None:
            w.kill_all()


@pytest.fixture
def seeded(settings):
    """Offers and needs in one category across two companies, and the match count of a clean run."""
    settings.MATCHING_RUN_STALE_SECONDS = STALE_SECONDS
    category = leaf_category("material")
    sites = []
    for name, lat, lon in (("Kill Alpha", 55.70, 13.19), ("Kill Beta", 55.60, 13.00), ("Kill Gamma", 55.65, 13.10)):
        sites.append(SiteFactory(company=CompanyFactory(name=name, country="SE"), latitude=lat, longitude=lon,
                                 region=region("SE22")))
    for i in range(4):
        StreamFactory(site=sites[i % 3], direction="offer", category=category, quantity=40 + i)
        StreamFactory(site=sites[(i + 1) % 3], direction="need", category=category, quantity=30 + i)
    from matching.services import matching_run_full

    matching_run_full(run=MatchingRun.objects.create(kind=RunKind.FULL, shards_total=1, status=RunStatus.RUNNING))
    clean = Match.objects.count()
    assert clean > 0
    return clean


def _wait(predicate, timeout: float, reap: bool = True) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        if reap:
            matching_runs_reap()
        time.sleep(0.1)
    return False


def _new_run() -> MatchingRun:
    with transaction.atomic():
        return matching_run_create(kind=RunKind.FULL, shards=1)


def _shard_pid(run: MatchingRun) -> int | None:
    run.refresh_from_db()
    m = re.search(r"working in pid (\d+)", run.message)
    return int(m.group(1)) if m and run.status == RunStatus.RUNNING else None


def _assert_finished_once(run: MatchingRun, clean: int) -> None:
    run.refresh_from_db()
    assert run.status == RunStatus.DONE, (run.status, run.message, run.error)
    assert run.shards_done == run.shards_total == 1
    assert list(run.timings) == ["shard0", "finalise"] or set(run.timings) == {"shard0", "finalise"}
    # One result set: as many suggestions as a clean run, no duplicates. (Finalise applies the
    # difference, so suggestions an earlier run already wrote keep their row and its run id.)
    assert run.counts["matches"] == clean == Match.objects.count()
    keys = Match.objects.values_list("offer_id", "need_id", "target_company_id", "source_company_id")
    assert len(set(keys)) == clean
    assert not MatchCandidate.objects.filter(run=run).exists()


def test_killing_the_pool_child_mid_job_twenty_times_loses_no_job(workers, seeded):
    worker = workers()
    t0 = time.monotonic()
    for _ in range(20):
        run = _new_run()
        # No reaper here: the broker's redelivery alone must save the job.
        assert _wait(lambda run=run: _shard_pid(run) is not None, 60, reap=False), "the shard never started"
        pid = _shard_pid(run)
        assert pid in worker.child_pids()
        os.kill(pid, signal.SIGKILL)
        assert _wait(lambda run=run: MatchingRun.objects.get(pk=run.pk).status == RunStatus.DONE, 60,
                     reap=False), MatchingRun.objects.get(pk=run.pk).__dict__
        _assert_finished_once(run, seeded)
        # Celery redelivered the message: no reaper re-queue was needed, the run started once.
        assert run.attempts == 1
    print(f"20 child kills: {time.monotonic() - t0:.1f}s")


def test_killing_the_whole_worker_mid_job_five_times_loses_no_job(workers, seeded):
    worker = workers()
    t0 = time.monotonic()
    for _ in range(5):
        run = _new_run()
        assert _wait(lambda run=run: _shard_pid(run) is not None, 60), "the shard never started"
        worker.kill_all()
        worker = workers()  # a fresh worker; the old message waits for Redis's visibility timeout
        assert _wait(lambda run=run: MatchingRun.objects.get(pk=run.pk).status == RunStatus.DONE, 90), \
            MatchingRun.objects.get(pk=run.pk).__dict__
        _assert_finished_once(run, seeded)
        # The reaper re-queued it (on a loaded machine it may also re-queue a slow live attempt).
        assert run.attempts >= 2
    print(f"5 whole-worker kills: {time.monotonic() - t0:.1f}s")


def test_flushing_redis_with_a_job_queued_loses_no_job(workers, seeded):
    run = _new_run()  # its message is in Redis, and no worker is running
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()  # only the test's own Redis database
    workers()
    time.sleep(STALE_SECONDS / 2)
    run.refresh_from_db()
    assert run.status == RunStatus.QUEUED  # the message is gone: nothing picks the job up by itself
    assert _wait(lambda: MatchingRun.objects.get(pk=run.pk).status == RunStatus.DONE, 60), \
        MatchingRun.objects.get(pk=run.pk).__dict__
    _assert_finished_once(run, seeded)
