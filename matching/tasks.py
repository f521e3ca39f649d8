"""Celery tasks: thin wrappers that take ids, claim the run row, and call one service.

Services and the reaper do not import this module: they send `matching.signals.run_queued`, and
`run_queued_dispatch` below (connected in `MatchingConfig.ready()`) sends the task that starts the run."""

from __future__ import annotations

from celery import shared_task

from matching.choices import RunKind, RunStatus


@shared_task(bind=True, max_retries=3, default_retry_delay=30, acks_late=True)
def matching_full_run_task(self, run_id: int) -> None:
    """Claim a full run and fan out its shards; the last shard to finish enqueues the finalise step."""
    from matching.services import matching_run_claim

    run = matching_run_claim(run_id)
    if run is None:
        return
    for shard in range(run.shards_total):
        matching_shard_task.delay(run.pk, shard)


@shared_task(bind=True, max_retries=3, default_retry_delay=10, acks_late=True)
def matching_shard_task(self, run_id: int, shard: int) -> None:
    from matching.models import MatchingRun
    from matching.services import matching_run_mark_failed, matching_run_shard, matching_run_shard_begin

    run = MatchingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
    if run is None:
        return
    matching_run_shard_begin(run_id=run_id, shard=shard)
    try:
        staged = matching_run_shard(run=run, shard=shard)
    except Exception as exc:
        if self.request.retries >= self.max_retries:
            matching_run_mark_failed(run_id=run_id, error=f"shard {shard}: {exc!r}")
            raise
        raise self.retry(exc=exc) from exc
    if staged < 0:  # this shard completed the set
        matching_finalise_task.delay(run_id)


@shared_task(bind=True, max_retries=3, default_retry_delay=10, acks_late=True)
def matching_finalise_task(self, run_id: int) -> None:
    from matching.models import MatchingRun
    from matching.services import matching_run_finalise

    run = MatchingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).first()
    if run is None:
        return
    matching_run_finalise(run=run)


@shared_task(bind=True, max_retries=3, default_retry_delay=5, acks_late=True)
def matching_run_for_stream_task(self, run_id: int) -> None:
    """Match one new or changed stream (dispatched on commit by stream services)."""
    from matching.services import matching_run_claim, matching_run_mark_failed, matching_run_stream_job

    run = matching_run_claim(run_id)
    if run is None:
        return
    try:
        matching_run_stream_job(run=run)
    except Exception as exc:
        matching_run_mark_failed(run_id=run_id, error=repr(exc))
        raise


@shared_task(acks_late=True)
def matching_periodic_full_run_task() -> None:
    """Beat entry point: record a full run and fan it out (see CELERY_BEAT_SCHEDULE in settings)."""
    from django.db import transaction

    from matching.services import matching_run_create

    with transaction.atomic():
        matching_run_create(kind=RunKind.FULL)


@shared_task
def matching_runs_reap_task() -> None:
    """Beat entry point: re-queue runs whose heartbeat is stale (see matching/reaper.py)."""
    from matching.reaper import matching_runs_reap

    matching_runs_reap()


def run_queued_dispatch(sender, *, run, **kwargs) -> None:
    """Send the task that starts `run` (its claim makes a duplicate message harmless)."""
    task = matching_full_run_task if run.kind == RunKind.FULL else matching_run_for_stream_task
    task.delay(run.pk)
