"""The adapter between the database and the pure engine: load rows as specs, run the engine, write
matches, and keep the MatchingRun row (the truth about every job) up to date.

Full runs are split into shards: shard i ranks the offers with ``id % shards == i`` against every
need and writes its candidates to a staging table; the last shard to finish triggers the finalise
step, which keeps the top candidates per offer and per need and swaps them into ``Match`` in one
transaction. One changed stream is matched on its own, against only the counterparts that share a
blocking key with it and lie inside its largest possible radius (``matching_run_for_stream``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Cos, Greatest, Least, Radians
from django.utils import timezone

from companies.geo import grid_cell_centre
from companies.models import NaceCode, Site
from matching import engine
from matching.choices import MatchStatus, RunKind, RunStatus
from matching.engine.columns import MatchColumns
from matching.engine.prospective import nace_sector, prospective_divisions, prospective_sectors
from matching.finalise import apply_staged
from matching.models import PART_FIELDS, Match, MatchCandidate, MatchingRun
from matching.signals import pair_penalties, run_queued
from streams.choices import Direction, StreamStatus
from streams.models import EwcCode, ResourceCategory, Stream, SubstitutionRule
from streams.units import UNITS
from symbiosis.pgcopy import copy_columns

logger = logging.getLogger(__name__)

WORKING_STATUSES = (
    MatchStatus.UNDER_REVIEW, MatchStatus.APPROVED, MatchStatus.INTRODUCED, MatchStatus.NEGOTIATING,
    MatchStatus.IMPLEMENTED,
)
MATCH_COLUMNS = (
    "offer_id", "need_id", "source_company_id", "target_company_id", "prospective", "score",
    *PART_FIELDS.values(), "reasons", "distance_km", "exchangeable_yearly", "unit", "impact", "co2e_t",
    "eur_provider", "eur_receiver", "diverted_t",
)
_ROUTES = {"landfill", "incineration", "energy_recovery", "recycling", "sewer", "other"}


def impact_dict(imp: engine.Impact) -> dict:
    """An engine impact estimate as stored in `Match.impact`."""
    return {
        "quantity_yearly": imp.quantity_yearly, "unit": imp.unit, "diverted_t": imp.diverted_t,
        "co2e_t": imp.co2e_t, "eur_provider": imp.eur_provider, "eur_receiver": imp.eur_receiver,
        "transport_eur": imp.transport_eur, "assumptions": list(imp.assumptions),
    }



# --- Engine inputs -------------------------------------------------------------------------------

def engine_config() -> engine.EngineConfig:
    """The one engine configuration of this deployment (defaults documented in engine/config.py),
    with the pair penalties the apps above answer `matching.signals.pair_penalties` with (the
    facilitators' rejection penalties, facilitation/penalties.py)."""
    penalties = tuple(p for _, answer in pair_penalties.send(sender=Match) for p in answer)
    return engine.EngineConfig(pair_penalties=penalties)


def engine_rules() -> tuple[engine.SubstitutionRule, ...]:
    agg = SubstitutionRule.objects.aggregate(n=Max("pk"), c=Count("pk"))
    return _rules_cached((agg["n"], agg["c"]))


@lru_cache(maxsize=4)
def _rules_cached(key) -> tuple[engine.SubstitutionRule, ...]:
    rows = SubstitutionRule.objects.values_list("offer_category__code", "need_category__code", "factor", "source")
    return tuple(engine.SubstitutionRule(o, n, float(f), s) for o, n, f, s in rows.order_by("pk"))


@lru_cache(maxsize=1)
def engine_priors() -> engine.Priors:
    """Sector priors learned from the shipped MAESTRI exchanges plus curated rules."""
    exchanges = engine.load_maestri_exchanges(settings.BASE_DIR / "matching" / "data" / "maestri_is_exchanges.csv")
    return engine.learn_priors(exchanges, rules=engine.load_prior_rules())


CATEGORY_CACHE_SECONDS = 300  # reference data: a renamed category reaches matching within this time


class _Taxonomy(NamedTuple):
    info: dict[str, tuple[tuple[str, ...], str, str]]  # code -> (ancestor codes, value class, name)
    ids: dict[str, int]  # code -> primary key


def _taxonomy() -> _Taxonomy:
    """The category tree as matching reads it; cached per process and checked with one small query
    (a new or deleted category is seen at once, an edited one within CATEGORY_CACHE_SECONDS)."""
    agg = ResourceCategory.objects.aggregate(n=Max("pk"), c=Count("pk"))
    return _taxonomy_cached((int(time.monotonic() // CATEGORY_CACHE_SECONDS), agg["n"], agg["c"]))


@lru_cache(maxsize=1)
def _taxonomy_cached(_key: tuple) -> _Taxonomy:
    rows = list(ResourceCategory.objects.values_list("pk", "code", "value_class", "name"))
    return _Taxonomy(
        info={code: (ResourceCategory(code=code).ancestor_codes(), value_class, name) for _, code, value_class, name
              in rows},
        ids={code: pk for pk, code, _, _ in rows},
    )


SPEC_FIELDS = (
    "id", "company_id", "direction", "kind", "category__code", "quantity_yearly", "site__latitude",
    "site__longitude", "months", "temperature_c", "water_quality", "physical_form", "hazardous",
    "accepts_hazardous", "price_eur_per_unit", "disposal_cost_eur_per_unit", "max_transport_km",
    "company__nace__code", "disposal_route", "title", "valid_from", "valid_until", "unit",
)


def per_base_unit(value, unit: str, kind: str) -> float | None:
    """A price per listed unit as EUR per base unit (t, MWh, m3), as the engine takes it."""
    if value is None:
        return None
    factor = UNITS.get(kind, {}).get(unit)
    return float(value) / float(factor) if factor else float(value)


def company_exclusions(company_ids: Iterable[int] | None = None) -> dict[int, frozenset[int]]:
    """Competitor exclusions as the engine takes them: company id -> the companies it must never be
    matched with, both ways (a company that excludes another, by name or by NACE code, is excluded by
    it too). With `company_ids`, only pairs that involve one of them."""
    from companies.selectors import excluded_company_pairs

    out: dict[int, set[int]] = {}
    for a, b in excluded_company_pairs(company_ids):
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in out.items()}


def load_specs(queryset, exclusions: dict[int, frozenset[int]] | None = None, *, by_ids: bool = False,
               taxonomy: _Taxonomy | None = None) -> list[engine.StreamSpec]:
    """Convert stream rows to engine specs with two queries (rows, then their EWC codes).
    `exclusions` (from `company_exclusions`) gives each stream its company's excluded partners.
    `by_ids` reads the EWC codes by the loaded ids (for a few hundred rows, and for a union queryset)
    instead of repeating the queryset as a subquery; `taxonomy` saves its check when the caller has it."""
    exclusions = exclusions or {}
    rows = list(queryset.values_list(*SPEC_FIELDS))
    ewc: dict[int, list[str]] = {}
    through = Stream.ewc_codes.through
    # By default a subquery rather than a list of ids: one statement however many streams.
    pks = [row[0] for row in rows] if by_ids else queryset.order_by().values("pk")
    if not by_ids or pks:
        for sid, code in through.objects.filter(stream_id__in=pks).values_list("stream_id", "ewccode__code"):
            ewc.setdefault(sid, []).append(code)
    cats = (taxonomy or _taxonomy()).info
    specs = []
    for (sid, company_id, direction, kind, cat, qty, lat, lon, months, temp, wq, form, haz, acc, price, disp,
         max_km, nace, route, title, vfrom, vuntil, unit) in rows:
        ancestors, value_class, cat_name = cats.get(cat, ((), "medium", ""))
        lat, lon = engine_place(lat, lon)
        specs.append(engine.StreamSpec(
            id=sid, company_id=company_id, direction=direction, kind=kind, category=cat,
            category_ancestors=ancestors, ewc_codes=tuple(sorted(ewc.get(sid, ()))),
            quantity_yearly=float(qty or 0.0), lat=lat, lon=lon, months=months, temperature_c=temp,
            water_quality=wq, form=form or None, hazardous=haz, accepts_hazardous=acc,
            price_eur_per_unit=per_base_unit(price, unit, kind),
            disposal_cost_eur_per_unit=per_base_unit(disp, unit, kind), max_km=max_km,
            value_class=value_class or "medium", nace_division=nace[:2], nace_class=nace.replace(".", ""),
            disposal_route=(route if route in _ROUTES else ("other" if route else None)),
            description=title, category_name=cat_name, valid_from=vfrom, valid_until=vuntil,
            excluded_company_ids=exclusions.get(company_id, frozenset()),
        ))
    return specs


def load_companies(site_filter: Q | None = None,
                   exclusions: dict[int, frozenset[int]] | None = None) -> list[engine.CompanySpec]:
    """One representative location (the first site) per company, for prospective matching."""
    exclusions = exclusions or {}
    qs = Site.objects.order_by("company_id", "pk")
    if site_filter is not None:
        qs = qs.filter(site_filter)
    seen, out = set(), []
    for company_id, lat, lon, nace in qs.values_list("company_id", "latitude", "longitude", "company__nace__code"):
        if company_id in seen:
            continue
        seen.add(company_id)
        out.append(_company_spec(company_id, lat, lon, nace, exclusions))
    return out


def engine_place(lat: float, lon: float) -> tuple[float, float]:
    """Where the engine takes a site to be: the centre of its grid cell (`LOCATION_GRID_KM`,
    companies/geo.py). Whether a pair is within its radius, its distance, parts and score then depend
    on the cells alone, so no one who creates or moves sites and watches which matches appear learns
    more of another site than its cell. SQL prefilters widen their boxes by one cell to stay supersets."""
    return grid_cell_centre(lat, lon, settings.LOCATION_GRID_KM)


def _company_spec(company_id: int, lat: float, lon: float, nace: str,
                  exclusions: dict[int, frozenset[int]]) -> engine.CompanySpec:
    lat, lon = engine_place(lat, lon)
    return engine.CompanySpec(id=company_id, nace_division=nace[:2], nace_class=nace.replace(".", ""), lat=lat,
                              lon=lon, excluded_company_ids=exclusions.get(company_id, frozenset()))


def matchable_streams():
    return Stream.objects.filter(status=StreamStatus.ACTIVE)


# --- Writing matches -----------------------------------------------------------------------------

def _row(c: engine.MatchCandidate) -> tuple:
    imp = c.impact
    return (
        c.offer_id, c.need_id, c.source_company_id, c.target_company_id, c.prospective,
        min(1.0, max(0.0, float(c.score))), round(c.parts.compatibility, 6), round(c.parts.distance, 6),
        round(c.parts.volume_value, 6), round(c.parts.availability, 6), list(c.reasons), float(c.distance_km),
        float(c.exchangeable_yearly), imp.unit, impact_dict(imp), float(imp.co2e_t), float(imp.eur_provider),
        float(imp.eur_receiver), float(imp.diverted_t),
    )


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


def matching_run_create(*, kind: str = RunKind.FULL, stream: Stream | None = None, requested_by=None,
                        shards: int | None = None, stream_id: int | None = None) -> MatchingRun:
    """Record a queued run and dispatch its task after commit (`stream_id` instead of `stream` when
    the caller has only the id)."""
    shards = shards or getattr(settings, "MATCHING_SHARDS", 2)
    run = MatchingRun.objects.create(
        kind=kind, stream_id=stream.pk if stream is not None else stream_id, requested_by=requested_by,
        shards_total=shards if kind == RunKind.FULL else 1, engine_version=engine.ENGINE_VERSION,
    )
    transaction.on_commit(lambda: run_queued.send(sender=MatchingRun, run=run))
    return run


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


def matching_run_shard(*, run: MatchingRun, shard: int, progress: Callable[[str, float], None] | None = None) -> int:
    """Rank the offers of one shard against every need; write candidates to the staging table.

    Idempotent: the shard's earlier staging rows are replaced, and it counts as done only once.
    Returns the number of staged candidates."""
    n = run.shards_total
    t0 = time.perf_counter()
    exclusions = company_exclusions()
    specs = load_specs(matchable_streams(), exclusions)
    companies = load_companies(exclusions=exclusions)
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


# --- One stream ----------------------------------------------------------------------------------

def _counterpart_filter(spec: engine.StreamSpec, rules: tuple[engine.SubstitutionRule, ...],
                        taxonomy: _Taxonomy) -> tuple[list[int], Q | None]:
    """The blocking keys `spec` shares with its counterparts (same rules as engine/candidates.py):
    the ids of the categories they may have (from the cached taxonomy, so the database reads the
    category index of a few hundred rows rather than every stream of the kind), and a filter for the
    streams that share an EWC chapter with it (None without codes). Each is queried on its own, so
    each stays indexable; the union of the two is the candidate set."""
    lineage = {spec.category, *spec.category_ancestors}
    exact, prefixes = set(lineage), [f"{spec.category}."]
    for r in rules:
        own, other_side = ((r.offer_category, r.need_category) if spec.direction == Direction.OFFER
                           else (r.need_category, r.offer_category))
        if own in lineage:
            exact.add(other_side)
            prefixes.append(f"{other_side}.")
    starts = tuple(prefixes)
    category_ids = sorted(pk for code, pk in taxonomy.ids.items() if code in exact or code.startswith(starts))
    chapters = sorted({c[:2] for c in spec.ewc_codes})
    if not chapters:
        return category_ids, None
    in_chapter = Q()
    for ch in chapters:
        in_chapter |= Q(code__startswith=ch)
    # The codes as ids: the planner then sees how common they are (a chapter like 15, packaging, is
    # on a sixth of all streams) and joins instead of probing stream by stream.
    codes = list(EwcCode.objects.filter(in_chapter).values_list("pk", flat=True))
    if not codes:
        return category_ids, None
    return category_ids, Q(pk__in=Stream.ewc_codes.through.objects.filter(ewccode_id__in=codes).values("stream_id"))


def _bbox(lat: float, lon: float, km: float, prefix: str = "") -> Q:
    """A latitude/longitude box that contains the circle of `km` around a point (a cheap prefilter;
    the engine applies the exact great-circle radius). `lat, lon` is an engine place (a cell centre) and
    the rows hold exact positions, so the box reaches one cell further."""
    km += settings.LOCATION_GRID_KM
    dlat = km / 110.5
    dlon = min(180.0, km / max(1e-6, 111.3 * math.cos(math.radians(min(89.0, abs(lat) + dlat)))))
    return Q(**{
        f"{prefix}latitude__gte": lat - dlat, f"{prefix}latitude__lte": lat + dlat,
        f"{prefix}longitude__gte": lon - dlon, f"{prefix}longitude__lte": lon + dlon,
    })


def _bbox_own_limit(lat: float, lon: float, prefix: str = "") -> Q:
    """`_bbox` with each row's own `max_transport_km` as the radius (for rows that give one)."""
    km = Greatest(F("max_transport_km"), Value(0.1)) + Value(float(settings.LOCATION_GRID_KM))
    dlat = km / Value(110.5)
    dlon = Least(Value(180.0), km / (Value(111.3) * Cos(Radians(Least(Value(89.0), Value(abs(lat)) + dlat)))))
    return Q(**{
        f"{prefix}latitude__gte": Value(lat) - dlat, f"{prefix}latitude__lte": Value(lat) + dlat,
        f"{prefix}longitude__gte": Value(lon) - dlon, f"{prefix}longitude__lte": Value(lon) + dlon,
    })


def _counterpart_area(spec: engine.StreamSpec, config: engine.EngineConfig, taxonomy: _Taxonomy,
                      category_ids: list[int] | None = None) -> Q:
    """Where a counterpart of `spec` can lie, as bounding boxes (the engine's pair-radius rule,
    `scoring.pair_radius`: the smaller of the two streams' own maximum distances when either gives
    one, else the offer's class radius). A counterpart with its own limit is searched out to that
    limit; the others out to the radius their offer's value class allows (`category_ids`, when
    given, are the only categories the counterparts can have)."""
    p = "site__"
    if spec.max_km is not None:
        return _bbox(spec.lat, spec.lon, max(spec.max_km, 0.1), p)
    area = Q(max_transport_km__isnull=False) & _bbox_own_limit(spec.lat, spec.lon, p)
    if spec.direction == Direction.OFFER:
        return area | (Q(max_transport_km__isnull=True) & _bbox(spec.lat, spec.lon, config.radius_for(spec.value_class), p))
    # The counterpart is the offer: its category's value class decides (category ids, no join).
    wanted = None if category_ids is None else set(category_ids)
    by_radius: dict[float, list[int]] = {}
    for code, (_ancestors, value_class, _name) in taxonomy.info.items():
        if wanted is None or taxonomy.ids[code] in wanted:
            by_radius.setdefault(config.radius_for(value_class or "medium"), []).append(taxonomy.ids[code])
    for radius, ids in sorted(by_radius.items()):
        area |= Q(max_transport_km__isnull=True, category_id__in=sorted(ids)) & _bbox(spec.lat, spec.lon, radius, p)
    return area


def _load_counterparts(spec: engine.StreamSpec, *, config: engine.EngineConfig,
                       rules: tuple[engine.SubstitutionRule, ...], taxonomy: _Taxonomy,
                       exclusions: dict[int, frozenset[int]]) -> list[engine.StreamSpec]:
    """The active streams of other companies that the engine could pair with `spec` (a superset: the
    engine applies the exact rules), in two queries (rows, then their EWC codes), ordered by id."""
    other = Direction.NEED if spec.direction == Direction.OFFER else Direction.OFFER
    category_ids, in_chapter = _counterpart_filter(spec, rules, taxonomy)

    def part(key: Q, ids: list[int] | None):
        return (matchable_streams().filter(key, _counterpart_area(spec, config, taxonomy, ids), direction=other,
                                           kind=spec.kind).exclude(company_id=spec.company_id).order_by())

    parts = [part(Q(category_id__in=category_ids), category_ids)] if category_ids else []
    if in_chapter is not None:
        parts.append(part(in_chapter, None))
    if not parts:
        return []
    qs = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    specs = load_specs(qs, exclusions, by_ids=True, taxonomy=taxonomy)
    return sorted(specs, key=lambda s: s.id)


def _company_nace_codes() -> dict[int, str]:
    """The NACE codes (id -> code) that some company with a site has: the sectors of a full run's
    company index. Cached per process like the taxonomy: a new site (so a new company's too) is seen
    at once, the key being the highest site id; a changed NACE code or a deleted company within
    CATEGORY_CACHE_SECONDS. Computing it hashes every company and site, which one stream should not pay for."""
    last_site = Site.objects.aggregate(n=Max("pk"))["n"]
    return _company_nace_codes_cached((int(time.monotonic() // CATEGORY_CACHE_SECONDS), last_site))


@lru_cache(maxsize=1)
def _company_nace_codes_cached(_key: tuple) -> dict[int, str]:
    with_site = Exists(Site.objects.filter(company__nace_id=OuterRef("pk")))
    return dict(NaceCode.objects.filter(with_site).order_by().values_list("pk", "code"))


def _prospective_companies(spec: engine.StreamSpec, *, config: engine.EngineConfig, priors,
                           exclusions: dict[int, frozenset[int]]) -> list[engine.CompanySpec]:
    """The companies a full run could make prospective counterparts of `spec`, in two small queries.

    A full run's company index holds every company with a site; `spec` takes its prospective companies
    from the strongest sectors present there (`prospective_sectors`). So: the NACE codes of a division
    the priors allow (`prospective_divisions`) that some company with a site has, the sectors among
    them the engine would pick, and then only the companies of those sectors whose representative site
    (the first, as a full run takes it) lies inside `spec`'s own radius."""
    divisions = prospective_divisions(spec, priors, config)
    if not divisions:
        return []
    code_of = {pk: code for pk, code in _company_nace_codes().items() if code[:2] in divisions}
    sector = {pk: nace_sector(code[:2], code.replace(".", "")) for pk, code in code_of.items()}
    keep = prospective_sectors(spec, sector.values(), priors, config)
    nace_ids = sorted(pk for pk, s in sector.items() if s in keep)
    if not nace_ids:
        return []
    radius = spec.max_km if spec.max_km is not None else config.radius_for(spec.value_class)
    first_site = ~Exists(Site.objects.filter(company_id=OuterRef("company_id"), pk__lt=OuterRef("pk")))
    rows = Site.objects.filter(company__nace_id__in=nace_ids).filter(
        _bbox(spec.lat, spec.lon, radius), first_site).order_by("company_id")
    return [_company_spec(cid, lat, lon, code_of[nace_id], exclusions)
            for cid, lat, lon, nace_id in rows.values_list("company_id", "latitude", "longitude", "company__nace_id")]


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
    exclusions = company_exclusions([stream.company_id])
    # The row lock serialises concurrent runs for the same stream so they cannot interleave retire
    # and insert; the locked row is the one matched.
    spec_list = load_specs(Stream.objects.select_for_update(of=("self",)).filter(pk=stream.pk), exclusions,
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
    counterparts = _load_counterparts(spec, config=config, rules=rules, taxonomy=taxonomy, exclusions=exclusions)
    companies = _prospective_companies(spec, config=config, priors=priors, exclusions=exclusions)
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
