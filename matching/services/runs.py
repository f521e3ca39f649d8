"""Full runs: record a run and dispatch it, claim it, rank it shard by shard into the staging table,
and swap the result into Match in one transaction (matching/finalise.py); or run it here and now
(`matching_run_here`, the `run_matching` command).

Full runs are split into shards: shard i ranks the offers with ``id % shards == i`` against every
need and writes its candidates to a staging table; the last shard to finish triggers the finalise
step, which keeps the top candidates per offer and per need and swaps them into ``Match`` in one
transaction.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from core.pgcopy import copy_columns
from matching import engine
from matching.choices import RunKind, RunStatus
from matching.engine import MatchColumns
from matching.finalise import apply_staged
from matching.models import PART_FIELDS, MatchCandidate, MatchingRun
from matching.services.specs import (
    engine_config,
    engine_priors,
    engine_rules,
    load_companies,
    load_specs,
    matchable_streams,
)
from matching.signals import run_queued
from streams.choices import Direction
from streams.models import Stream

# Staging column -> engine column (engine.columns.COLUMNS).
STAGE_COLUMNS = {
    "offer_id": "offer_id", "need_id": "need_id", "source_company_id": "source_company_id",
    "target_company_id": "target_company_id", "prospective": "prospective", "score": "score",
    **{column: part for part, column in PART_FIELDS.items()}, "distance_km": "distance_km",
    "exchangeable_yearly": "exchangeable_yearly", "unit": "unit", "co2e_t": "co2e_t",
    "eur_provider": "eur_provider", "eur_receiver": "eur_receiver", "diverted_t": "diverted_t",
}


def stage_columns(run: MatchingRun, shard: int, cols: MatchColumns) -> int:
    """Write one shard's matches to the staging table: binary COPY on PostgreSQL, bulk insert elsewhere."""
    n = len(cols)
    data = {"run": np.full(n, run.pk, dtype=np.int64), "shard": np.full(n, shard, dtype=np.int64)}
    data.update({field: cols[name] for field, name in STAGE_COLUMNS.items()})
    if connection.vendor == "postgresql":
        return copy_columns(MatchCandidate, data)
    lists = {k: v.tolist() for k, v in data.items()}
    objs = [MatchCandidate(run_id=lists["run"][i], **{k: lists[k][i] for k in data if k != "run"}) for i in range(n)]
    MatchCandidate.objects.bulk_create(objs, batch_size=2000)
    return n


def shard_columns(specs: list[engine.StreamSpec], companies: list[engine.CompanySpec], *, shard: int, shards: int,
                  as_of, stats: dict | None = None) -> MatchColumns:
    """The matches shard ``shard`` of ``shards`` owns: the top K (and prospective companies) of its
    offers and needs (``id % shards == shard``), each searched against every counterpart, in one
    index of all streams. The union over shards equals one run over everything
    (tests/matching/engine/test_columns.py)."""
    index = engine.CandidateIndex(specs, config=engine_config(), rules=engine_rules(), companies=companies,
                                  priors=engine_priors(), as_of=as_of)
    return engine.rank_columns(index, shard=None if shards == 1 else (shard, shards), stats=stats)


# --- Runs ----------------------------------------------------------------------------------------

def _heartbeat(run: MatchingRun, **fields) -> None:
    fields["heartbeat_at"] = timezone.now()
    MatchingRun.objects.filter(pk=run.pk).update(**fields)
    for k, v in fields.items():
        setattr(run, k, v)


def _record_run(*, kind: str, stream_id: int | None, requested_by, shards: int | None, **state) -> MatchingRun:
    shards = shards or getattr(settings, "MATCHING_SHARDS", 2)
    return MatchingRun.objects.create(
        kind=kind, stream_id=stream_id, requested_by=requested_by,
        shards_total=shards if kind == RunKind.FULL else 1, engine_version=engine.ENGINE_VERSION, **state,
    )


def matching_run_create(*, kind: str = RunKind.FULL, stream: Stream | None = None, requested_by=None,
                        shards: int | None = None, stream_id: int | None = None) -> MatchingRun:
    """Record a queued run and dispatch its task after commit (`stream_id` instead of `stream` when
    the caller has only the id)."""
    run = _record_run(kind=kind, stream_id=stream.pk if stream is not None else stream_id,
                      requested_by=requested_by, shards=shards)
    transaction.on_commit(lambda: run_queued.send(sender=MatchingRun, run=run))
    return run


def matching_run_here(*, stream_id: int | None = None, shards: int | None = None, requested_by=None,
                      progress: Callable[[str, float], None] | None = None) -> MatchingRun:
    """Record a run and run it in this process (the `run_matching` command): a full run over `shards`
    shards, or, with `stream_id`, that stream's one-stream run. It is recorded as a dispatched run is
    (kind, engine version, one attempt, started now); an error marks it failed and propagates.
    Raises Stream.DoesNotExist for an unknown stream."""
    from matching.services.incremental import matching_run_stream_job

    if stream_id is not None and not Stream.objects.filter(pk=stream_id).exists():
        raise Stream.DoesNotExist(f"No stream with id {stream_id}.")
    now = timezone.now()
    run = _record_run(kind=RunKind.FULL if stream_id is None else RunKind.STREAM, stream_id=stream_id,
                      requested_by=requested_by, shards=shards, status=RunStatus.RUNNING, started_at=now,
                      heartbeat_at=now, attempts=1)
    try:
        if stream_id is None:
            return matching_run_full(run=run, progress=progress)
        return matching_run_stream_job(run=run)
    except Exception as exc:
        matching_run_mark_failed(run_id=run.pk, error=repr(exc))
        raise


def matching_run_claim(run_id: int) -> MatchingRun | None:
    """Take a queued run; None if another worker has it or it is finished (idempotent delivery)."""
    now = timezone.now()
    claimed = MatchingRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    return MatchingRun.objects.get(pk=run_id) if claimed == 1 else None


def matching_run_mark_failed(*, run_id: int, error: str) -> None:
    MatchingRun.objects.filter(pk=run_id).exclude(status=RunStatus.DONE).update(
        status=RunStatus.FAILED, error=error[:5000], finished_at=timezone.now()
    )


def matching_run_shard_begin(*, run_id: int, shard: int) -> None:
    """A worker takes up a shard: the run's heartbeat and message say which process holds it ("shard 1
    working in pid 4242", for an operator looking for a stuck worker), then it waits
    MATCHING_SHARD_DELAY_MS before ranking (0, no wait, by default; a recovery drill sets it so that a
    worker can be killed in the middle of a job, see symbiosis/settings.py)."""
    MatchingRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
        heartbeat_at=timezone.now(), message=f"shard {shard} working in pid {os.getpid()}"
    )
    delay = settings.MATCHING_SHARD_DELAY_MS / 1000
    if delay > 0:
        time.sleep(delay)


def matching_run_shard(*, run: MatchingRun, shard: int, progress: Callable[[str, float], None] | None = None) -> int:
    """Rank the offers of one shard against every need; write candidates to the staging table.

    Idempotent: the shard's earlier staging rows are replaced, and it counts as done only once.
    Returns the number of staged candidates."""
    n = run.shards_total
    t0 = time.perf_counter()
    specs = load_specs(matchable_streams())
    companies = load_companies()
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    stats: dict = {}
    cols = shard_columns(specs, companies, shard=shard, shards=n, as_of=timezone.now().date(), stats=stats)
    t_rank = time.perf_counter() - t1
    t2 = time.perf_counter()
    with transaction.atomic():
        MatchCandidate.objects.filter(run=run, shard=shard).delete()
        staged = stage_columns(run, shard, cols)
    t_write = time.perf_counter() - t2
    offers = sum(1 for s in specs if s.direction == Direction.OFFER and s.id % n == shard)
    needs = sum(1 for s in specs if s.direction == Direction.NEED and s.id % n == shard)
    timings = {f"shard{shard}": {"load": round(t_load, 3), "rank": round(t_rank, 3), "stage": round(t_write, 3),
                                 "offers": offers, "needs": needs, "staged": staged,
                                 "pairs_scored": stats.get("pairs_scored", 0)}}
    with transaction.atomic():
        locked = MatchingRun.objects.select_for_update().get(pk=run.pk)
        key = f"shard{shard}"
        if key not in locked.timings:
            locked.timings = {**locked.timings, **timings}
            locked.shards_done += 1
            locked.progress = min(0.95, locked.shards_done / max(1, locked.shards_total) * 0.9)
            locked.heartbeat_at = timezone.now()
            locked.message = f"{locked.shards_done}/{locked.shards_total} shards ranked"
            locked.save(update_fields=["timings", "shards_done", "progress", "heartbeat_at", "message"])
        done = locked.shards_done >= locked.shards_total
    if progress:
        progress(f"shard {shard + 1}/{n}", locked.progress)
    return staged if not done else -staged - 1


def matching_run_finalise(*, run: MatchingRun) -> MatchingRun:
    """Swap the staged result into Match atomically (matching/finalise.py) and close the run."""
    t0 = time.perf_counter()
    with transaction.atomic():
        run = MatchingRun.objects.select_for_update().get(pk=run.pk)
        if run.status != RunStatus.RUNNING:
            return run
        counts = {"streams": matchable_streams().count(), **apply_staged(run.pk)}
        MatchCandidate.objects.filter(run=run).delete()
        run.counts = counts
        run.timings = {**run.timings, "finalise": round(time.perf_counter() - t0, 3)}
        run.status = RunStatus.DONE
        run.progress = 1.0
        run.message = f"{counts['matches']} matches"
        run.finished_at = timezone.now()
        run.heartbeat_at = run.finished_at
        run.save()
    return run


def matching_run_full(*, run: MatchingRun, progress: Callable[[str, float], None] | None = None) -> MatchingRun:
    """Run every shard in this process, then finalise (the command and eager mode use this)."""
    for shard in range(run.shards_total):
        matching_run_shard(run=run, shard=shard, progress=progress)
    return matching_run_finalise(run=run)
