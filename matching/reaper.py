"""The reaper: no matching job is ever lost.

The MatchingRun row in PostgreSQL is the truth about a job; the Redis message is only a wake-up
call. Celery acknowledges a message late and requeues it when a worker child dies
(CELERY_TASK_ACKS_LATE, CELERY_TASK_REJECT_ON_WORKER_LOST), which covers a killed pool process. It
cannot cover a message that Redis no longer has (the whole worker was killed and the message waits
for the visibility timeout, or Redis lost its data): a beat task calls `matching_runs_reap` every
MATCHING_REAP_EVERY_SECONDS, and it re-queues every run whose heartbeat is stale.

- A run is stale when it is RUNNING and its heartbeat is older than MATCHING_RUN_STALE_SECONDS, or
  QUEUED and nobody claimed it for that long (heartbeat_at is the time of the last re-queue, the
  creation time before that).
- Re-queueing is a conditional UPDATE that repeats the staleness test, so two reapers (or a reaper
  and a worker that just claimed the run) cannot both win; the task is dispatched after commit.
- Work stays idempotent: the claim only takes QUEUED runs, shards replace their staging rows and count
  once, and the finalise step turns RUNNING into DONE once under a row lock (matching/services/runs.py).
- A run that was started MATCHING_RUN_MAX_ATTEMPTS times and went stale again is marked FAILED
  instead: a job that kills its worker every time must not loop forever.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from matching.choices import RunStatus
from matching.models import MatchCandidate, MatchingRun
from matching.signals import run_queued

log = logging.getLogger(__name__)


def _stale(before: datetime) -> Q:
    running = Q(status=RunStatus.RUNNING) & (Q(heartbeat_at__lt=before) | Q(heartbeat_at__isnull=True))
    queued = Q(status=RunStatus.QUEUED) & (
        Q(heartbeat_at__lt=before) | Q(heartbeat_at__isnull=True, created_at__lt=before)
    )
    return running | queued


def matching_runs_reap(*, now: datetime | None = None) -> dict[str, int]:
    """Re-queue stale runs (or fail those out of attempts); returns {"requeued": n, "failed": n}."""
    now = now or timezone.now()
    before = now - timedelta(seconds=settings.MATCHING_RUN_STALE_SECONDS)
    stale = _stale(before)
    max_attempts = settings.MATCHING_RUN_MAX_ATTEMPTS
    result = {"requeued": 0, "failed": 0}
    for run in MatchingRun.objects.filter(stale).only("pk", "kind", "status", "attempts").order_by("pk"):
        with transaction.atomic():
            again = MatchingRun.objects.filter(stale, pk=run.pk)
            if run.status == RunStatus.RUNNING and run.attempts >= max_attempts:
                if again.update(status=RunStatus.FAILED, finished_at=now, message="gave up",
                                error=f"stale after {run.attempts} attempts (reaper)"):
                    result["failed"] += 1
                    log.warning("matching run %s failed after %s attempts", run.pk, run.attempts)
                continue
            if again.update(status=RunStatus.QUEUED, heartbeat_at=now, message="re-queued (stale heartbeat)"):
                result["requeued"] += 1
                log.warning("matching run %s was %s with a stale heartbeat: re-queued", run.pk, run.status)
                transaction.on_commit(lambda run=run: run_queued.send(sender=MatchingRun, run=run))
    # Scratch rows a late duplicate shard staged after its run was finalised.
    MatchCandidate.objects.filter(run__status__in=(RunStatus.DONE, RunStatus.FAILED)).delete()
    return result
