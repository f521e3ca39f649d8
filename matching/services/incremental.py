"""One new or changed stream matched on its own (`matching_run_for_stream`): its stale suggestions
retired, matches in work flagged, and the stream ranked against only the counterparts that share a
blocking key with it and lie inside its largest possible radius (matching/services/counterparts.py);
and the job that runs it as a one-stream run (`matching_run_stream_job`)."""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from matching import engine
from matching.choices import MatchStatus, RunStatus
from matching.models import PART_FIELDS, Match, MatchingRun
from matching.services.counterparts import _load_counterparts, _prospective_companies
from matching.services.specs import (
    _taxonomy,
    engine_config,
    engine_priors,
    engine_rules,
    impact_dict,
    load_specs,
)
from streams.choices import StreamStatus
from streams.models import Stream

WORKING_STATUSES = (
    MatchStatus.UNDER_REVIEW, MatchStatus.APPROVED, MatchStatus.INTRODUCED, MatchStatus.NEGOTIATING,
    MatchStatus.IMPLEMENTED,
)
MATCH_COLUMNS = (
    "offer_id", "need_id", "source_company_id", "target_company_id", "prospective", "score",
    *PART_FIELDS.values(), "reasons", "distance_km", "exchangeable_yearly", "unit", "impact", "co2e_t",
    "eur_provider", "eur_receiver", "diverted_t",
)


def _row(c: engine.MatchCandidate) -> tuple:
    imp = c.impact
    return (
        c.offer_id, c.need_id, c.source_company_id, c.target_company_id, c.prospective,
        min(1.0, max(0.0, float(c.score))), round(c.parts.compatibility, 6), round(c.parts.distance, 6),
        round(c.parts.volume_value, 6), round(c.parts.availability, 6), list(c.reasons), float(c.distance_km),
        float(c.exchangeable_yearly), imp.unit, impact_dict(imp), float(imp.co2e_t), float(imp.eur_provider),
        float(imp.eur_receiver), float(imp.diverted_t),
    )


def _retire(stream_ids: list[int]) -> dict[str, int]:
    """Drop the streams' stale suggestions (matches in work and answered ones stay; see `_flag_changed`).

    One indexed read when there is nothing to retire (every new stream); otherwise the ORM delete, so
    the notes, messages and notifications a suggestion may already have follow their on_delete rules."""
    stale = Match.objects.retirable().filter(Q(offer_id__in=stream_ids) | Q(need_id__in=stream_ids))
    ids = list(stale.values_list("pk", flat=True))
    if not ids:
        return {"retired": 0}
    # Retirable again under the delete: a suggestion taken into work in between stays.
    deleted, _ = Match.objects.retirable().filter(pk__in=ids).delete()
    return {"retired": deleted}


def _flag_changed(stream_ids: list[int]) -> int:
    return Match.objects.filter(
        Q(offer_id__in=stream_ids) | Q(need_id__in=stream_ids), status__in=WORKING_STATUSES
    ).update(stream_changed=True)


# No savepoint when nested: the one caller that nests it (the job) rolls back as a whole on error.
@transaction.atomic(savepoint=False)
def matching_run_for_stream(*, stream: Stream, run: MatchingRun | None = None,
                            timings: dict[str, float] | None = None) -> dict[str, int]:
    """Match one new or changed stream now: retire its stale suggestions (flagging matches in work),
    rank it against its plausible counterparts, and write its top candidates. `timings`, when given,
    receives the seconds spent per phase (retire, load, index, match, write)."""
    clock = _PhaseClock(timings)
    stream_ids = [stream.pk]
    taxonomy = _taxonomy()
    # The row lock serialises concurrent runs for the same stream so they cannot interleave retire
    # and insert; the locked row is the one matched.
    spec_list = load_specs(Stream.objects.select_for_update(of=("self",)).filter(pk=stream.pk),
                           by_ids=True, taxonomy=taxonomy)
    clock.lap("load")
    result = _retire(stream_ids)
    flagged = _flag_changed(stream_ids)
    counts = {"retired": result["retired"], "flagged": flagged, "matches": 0}
    clock.lap("retire")
    if stream.status != StreamStatus.ACTIVE or not spec_list:
        return counts
    spec = spec_list[0]
    config, rules, priors = engine_config(), engine_rules(), engine_priors()
    counterparts = _load_counterparts(spec, config=config, rules=rules, taxonomy=taxonomy)
    companies = _prospective_companies(spec, config=config, priors=priors)
    clock.lap("load")
    as_of = timezone.now().date()
    index = engine.CandidateIndex(counterparts, config=config, rules=rules, companies=companies, priors=priors,
                                  as_of=as_of)
    clock.lap("index")
    candidates = engine.match_one(spec, index, as_of=as_of)
    clock.lap("match")
    # Written in key order, as a full run writes them: ids then say nothing of the engine's ranking
    # (a list that shows a party the shared score breaks its ties by id; see matching/disclosure_sql.py).
    objs = [
        Match(**dict(zip(MATCH_COLUMNS, _row(c), strict=True)), status=MatchStatus.SUGGESTED,
              engine_version=engine.ENGINE_VERSION, run=run)
        for c in sorted(candidates, key=_key_order)
    ]
    Match.objects.bulk_create(objs, ignore_conflicts=True)
    clock.lap("write")
    counts["matches"] = len(objs)
    counts["counterparts"] = len(counterparts)
    return counts


def _key_order(c: engine.MatchCandidate) -> tuple[int, int, int, int]:
    return (c.offer_id or -1, c.need_id or -1, c.source_company_id, c.target_company_id)


class _PhaseClock:
    """Adds the seconds since the previous lap to `timings[phase]` (does nothing without a dict)."""

    def __init__(self, timings: dict[str, float] | None):
        self.timings = timings
        self.t = time.perf_counter()

    def lap(self, phase: str) -> None:
        if self.timings is None:
            return
        now = time.perf_counter()
        self.timings[phase] = round(self.timings.get(phase, 0.0) + now - self.t, 5)
        self.t = now


class _Superseded(Exception):
    pass


def matching_run_stream_job(*, run: MatchingRun) -> MatchingRun:
    """The body of a one-stream run: match it and close the run row.

    Fenced by the attempt number: if the reaper re-queued this run and another attempt claimed it
    (matching/reaper.py), this attempt neither closes the run nor keeps its writes."""
    t0 = time.perf_counter()
    phases: dict[str, float] = {}
    try:
        with transaction.atomic():
            stream = Stream.objects.filter(pk=run.stream_id).first()
            counts = matching_run_for_stream(stream=stream, run=run, timings=phases) if stream else {"missing": 1}
            closed = MatchingRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, attempts=run.attempts).update(
                status=RunStatus.DONE, progress=1.0, counts=counts, finished_at=timezone.now(),
                heartbeat_at=timezone.now(), timings={**phases, "total": round(time.perf_counter() - t0, 4)},
                message=f"{counts.get('matches', 0)} matches",
            )
            if not closed:
                raise _Superseded
    except _Superseded:
        pass
    run.refresh_from_db()
    return run
