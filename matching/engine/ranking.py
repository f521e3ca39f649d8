"""Ranking: all streams at once (``rank_candidates``) or one new stream against an index (``match_one``)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from datetime import date

import numpy as np

from .candidates import CandidateIndex, is_valid
from .config import EngineConfig
from .impact import ImpactFactors
from .prospective import prior_key, prior_reason, prospective_pairs, score_prospective, skip_companies
from .scoring import PairScore, candidate_sort_key, make_candidate, make_prospective_candidate
from .search import run_search
from .tables import StreamTable, rank_keys, top_k_mask
from .types import MatchCandidate, StreamSpec


@contextmanager
def _gc_paused():
    """Building a million small objects makes the cyclic garbage collector rescan them again and again
    (time grows faster than linearly). The candidates hold no reference cycles, so it is paused while
    they are built and restored afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _declared_candidates(
    index: CandidateIndex, otab: StreamTable, ntab: StreamTable, sc: dict, rows
) -> list[MatchCandidate]:
    """MatchCandidates for the given rows of the scored pairs ``sc`` (in that order)."""
    cfg, factors, cache = index.config, index.factors, index.cache
    rows = np.asarray(rows, dtype=np.int64)
    oi, ni = sc["oi"][rows], sc["ni"][rows]
    cols = [
        sc[k][rows].tolist()
        for k in ("compatibility", "distance", "volume_value", "availability", "total", "distance_km")
    ]
    op, np_ = otab.profile[oi].tolist(), ntab.profile[ni].tolist()
    ospecs, nspecs, oprof, nprof = otab.specs, ntab.specs, otab.profiles, ntab.profiles
    out = []
    compats: dict[tuple[int, int], object] = {}
    with _gc_paused():
        for o, n, po, pn, c, d, vv, av, tot, km in zip(oi.tolist(), ni.tolist(), op, np_, *cols, strict=True):
            compat = compats.get((po, pn))
            if compat is None:
                compat = compats[(po, pn)] = cache.get(oprof[po], nprof[pn])
            out.append(
                make_candidate(
                    ospecs[o],
                    nspecs[n],
                    PairScore(c, d, vv, av, tot, km),
                    compat=compat,
                    factors=factors,
                    config=cfg,
                )
            )
    return out


def _prospective_rows(index: CandidateIndex, T: StreamTable, partners: list[set[int]], anchors=None):
    """Scored prospective pairs for the streams of T (rows ``anchors``, all by default) and the rows
    kept (top ``prospective_top_k`` per stream); ``partners[a]`` = companies already in the stream's
    own top K of declared matches."""
    cfg, C, priors = index.config, index.companies, index.priors
    if priors is None or C.n == 0 or not cfg.prospective_companies or cfg.prospective_top_k <= 0 or T.n == 0:
        return None, np.zeros(0, dtype=np.int64)
    anchors = np.arange(T.n) if anchors is None else np.asarray(anchors, dtype=np.int64)
    skips: list[frozenset[int] | set[int]] = [frozenset()] * T.n  # rows that are no anchor skip nothing
    for a in anchors.tolist():
        skips[a] = skip_companies(T.specs[a], partners[a], C)
    ai, ci, ev = prospective_pairs(T, anchors, skips, C, priors, cfg)
    sc = score_prospective(T, C, ai, ci, ev, skips, cfg)
    ok = np.flatnonzero(sc["total"] >= cfg.min_score)
    keys = rank_keys(sc["total"][ok], cfg.score_decimals)
    top = ok[top_k_mask(sc["ai"][ok], keys, C.ids[sc["ci"][ok]], cfg.prospective_top_k)]
    return sc, np.sort(top)


def _prospective_candidates(index: CandidateIndex, T: StreamTable, sc: dict, rows) -> list[MatchCandidate]:
    cfg, C, priors, factors = index.config, index.companies, index.priors, index.factors
    rows = np.asarray(rows, dtype=np.int64)
    ai, ci = sc["ai"][rows].tolist(), sc["ci"][rows].tolist()
    cols = [
        sc[k][rows].tolist()
        for k in ("compatibility", "distance", "volume_value", "availability", "total", "distance_km")
    ]
    reasons: dict[tuple, str] = {}
    out = []
    with _gc_paused():
        for a, c, comp, d, vv, av, tot, km in zip(ai, ci, *cols, strict=True):
            s, company = T.specs[a], C.specs[c]
            rkey = (prior_key(s, priors), C.sectors[C.sector[c]][0])
            why = reasons.get(rkey)
            if why is None:
                why = reasons[rkey] = prior_reason(s, company, priors)
            ps = PairScore(comp, d, vv, av, tot, km)
            out.append(
                make_prospective_candidate(s, company, ps, prior_reason=why, factors=factors, config=cfg)
            )
    return out


def _prospective(index: CandidateIndex, T: StreamTable, partners: list[set[int]]) -> list[MatchCandidate]:
    """Prospective candidates for every stream of T (materialised, in row order)."""
    sc, rows = _prospective_rows(index, T, partners)
    return [] if sc is None else _prospective_candidates(index, T, sc, rows)


def _partners(n_anchor: int, anchor_rows: np.ndarray, companies: np.ndarray) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(n_anchor)]
    for a, c in zip(anchor_rows.tolist(), companies.tolist(), strict=True):
        out[a].add(c)
    return out


def _order_keys(parts):
    """Concatenate sort-key columns of several candidate groups and return the lexsort order
    (best score first, declared before prospective, then offer, need, source, target ids)."""
    cols = [np.concatenate([p[i] for p in parts]) for i in range(6)]
    rk, pro, off, need, src, tgt = cols
    return np.lexsort((tgt, src, need, off, pro, -rk))


class Laps:
    """Seconds per phase, read from a clock the caller passes in (the engine reads no clock itself)."""

    def __init__(self, clock=None):
        self.clock, self.phases = clock, {}
        self.last = clock() if clock else 0.0

    def lap(self, name: str) -> None:
        if self.clock:
            now = self.clock()
            self.phases[name] = now - self.last
            self.last = now


def rank_index(
    index: CandidateIndex, stats: dict | None = None, clock=None, prospective_for=("offer", "need")
) -> list[MatchCandidate]:
    """Rank every offer against every need of the index (exact top-K search over the blocks), plus
    prospective companies. Keeps the ``top_k`` best per offer and per need (their union) above
    ``min_score``.

    ``stats`` (a dict) receives counts of the pairs looked at; with a ``clock`` (a callable returning
    seconds, e.g. ``time.perf_counter``, passed in by a benchmark: the engine reads no clock itself) it
    also receives the seconds spent per phase under ``stats["phases_s"]`` and the seconds of exact
    scoring inside the search under ``stats["scoring_s"]``. ``prospective_for`` says
    whose prospective companies to add: offers' likely receivers ("offer"), needs' likely providers
    ("need"); a sharded run can leave out the side another shard owns."""
    laps = Laps(clock)
    lap, phases = laps.lap, laps.phases

    cfg = index.config
    dec = cfg.score_decimals
    otab, ntab = index.offers, index.needs
    sc = run_search(index, index.batch_tasks(), otab, ntab, track=("o", "n"), stats=stats, clock=clock)
    lap("search")
    keys = rank_keys(sc["total"], dec)
    top_o = top_k_mask(sc["oi"], keys, ntab.ids[sc["ni"]], cfg.top_k)
    top_n = top_k_mask(sc["ni"], keys, otab.ids[sc["oi"]], cfg.top_k)
    rows = np.flatnonzero(top_o | top_n)
    lap("top_k")
    # A company already in a stream's own top K of declared matches is not suggested again as prospective.
    ro, rn = np.flatnonzero(top_o), np.flatnonzero(top_n)
    p_off, r_off = None, None
    if "offer" in prospective_for:
        p_off, r_off = _prospective_rows(
            index, otab, _partners(otab.n, sc["oi"][ro], ntab.company[sc["ni"][ro]])
        )
    p_need, r_need = None, None
    if "need" in prospective_for:
        p_need, r_need = _prospective_rows(
            index, ntab, _partners(ntab.n, sc["ni"][rn], otab.company[sc["oi"][rn]])
        )
    lap("prospective")

    # One global order, computed on arrays before any object is built.
    C = index.companies
    groups = [
        (
            keys[rows],
            np.zeros(len(rows), dtype=np.int64),
            otab.ids[sc["oi"][rows]],
            ntab.ids[sc["ni"][rows]],
            otab.company[sc["oi"][rows]],
            ntab.company[sc["ni"][rows]],
        )
    ]
    minus = np.full
    if p_off is not None:
        a, c = p_off["ai"][r_off], p_off["ci"][r_off]
        groups.append(
            (
                rank_keys(p_off["total"][r_off], dec),
                np.ones(len(a), dtype=np.int64),
                otab.ids[a],
                minus(len(a), -1, dtype=np.int64),
                otab.company[a],
                C.ids[c],
            )
        )
    else:
        r_off = np.zeros(0, dtype=np.int64)
    if p_need is not None:
        a, c = p_need["ai"][r_need], p_need["ci"][r_need]
        groups.append(
            (
                rank_keys(p_need["total"][r_need], dec),
                np.ones(len(a), dtype=np.int64),
                minus(len(a), -1, dtype=np.int64),
                ntab.ids[a],
                C.ids[c],
                ntab.company[a],
            )
        )
    else:
        r_need = np.zeros(0, dtype=np.int64)
    order = _order_keys(groups)
    built = _declared_candidates(index, otab, ntab, sc, rows)
    lap("materialise_declared")
    if len(r_off):
        built += _prospective_candidates(index, otab, p_off, r_off)
    if len(r_need):
        built += _prospective_candidates(index, ntab, p_need, r_need)
    lap("materialise_prospective")
    result = [built[i] for i in order.tolist()]
    lap("order")
    if stats is not None:
        stats.update(declared_kept=len(rows), prospective_kept=len(r_off) + len(r_need), matches=len(result))
        if clock:
            stats["phases_s"] = phases
    return result


def rank_candidates(
    offers,
    needs,
    *,
    config: EngineConfig | None = None,
    rules=(),
    companies=(),
    priors=None,
    as_of: date | None = None,
    factors: ImpactFactors | None = None,
    prospective_for=("offer", "need"),
) -> list[MatchCandidate]:
    """Ranked candidates for all offers and needs (the periodic full run).

    Returns declared matches (top ``config.top_k`` per offer and per need, union) and, when ``priors``
    and ``companies`` are given, prospective companies (top ``config.prospective_top_k`` per stream),
    sorted best first with a deterministic tie order. ``as_of`` drops streams outside their validity
    dates. The result does not depend on the order of the inputs. ``prospective_for`` limits prospective
    companies to the offers' side ("offer") or the needs' side ("need").
    """
    index = CandidateIndex(
        [*offers, *needs],
        config=config,
        rules=rules,
        companies=companies,
        priors=priors,
        factors=factors,
        as_of=as_of,
    )
    return rank_index(index, prospective_for=prospective_for)


def build_index(
    streams,
    *,
    config: EngineConfig | None = None,
    rules=(),
    companies=(),
    priors=None,
    as_of: date | None = None,
    factors: ImpactFactors | None = None,
) -> CandidateIndex:
    """Prepare existing streams and companies once for many ``match_one`` calls (all KD-trees built)."""
    index = CandidateIndex(
        streams, config=config, rules=rules, companies=companies, priors=priors, factors=factors, as_of=as_of
    )
    index.warm()
    return index


def match_one(
    stream: StreamSpec,
    counterparts,
    *,
    config: EngineConfig | None = None,
    rules=None,
    companies=None,
    priors=None,
    as_of: date | None = None,
    factors: ImpactFactors | None = None,
) -> list[MatchCandidate]:
    """Match one new or changed stream against existing ones (incremental).

    ``counterparts`` is a ``CandidateIndex`` (built once with ``build_index``; its config, rules,
    companies and priors are used, and passing different ones raises ValueError) or an iterable of
    streams (an index is built on the fly). Returns the stream's own ``top_k`` declared matches and
    ``prospective_top_k`` prospective companies, best first. Other streams' lists are not recomputed.
    """
    if isinstance(counterparts, CandidateIndex):
        index = counterparts
        for name, given, have in (
            ("config", config, index.config),
            ("rules", None if rules is None else tuple(rules), index.rules),
            ("priors", priors, index.priors),
        ):
            if given is not None and given is not have and given != have:
                raise ValueError(f"match_one: {name} differs from the index's; rebuild the index")
    else:
        index = CandidateIndex(
            [s for s in counterparts if s.id != stream.id],
            config=config,
            rules=tuple(rules or ()),
            companies=companies or (),
            priors=priors,
            factors=factors,
            as_of=as_of,
        )
    cfg = index.config
    if not is_valid(stream, as_of if as_of is not None else index.as_of):
        return []
    single = StreamTable([stream], cfg)
    if stream.direction == "offer":
        otab, ntab, side = single, index.needs, "o"
    elif stream.direction == "need":
        otab, ntab, side = index.offers, single, "n"
    else:
        raise ValueError(f"direction must be 'offer' or 'need', not {stream.direction!r}")
    sc = run_search(index, index.stream_tasks(stream, single), otab, ntab, track=(side,))
    # A changed stream may still be in the index: never match it with its old version.
    counter_ids = ntab.ids[sc["ni"]] if side == "o" else otab.ids[sc["oi"]]
    sc = {k: v[counter_ids != stream.id] for k, v in sc.items()}
    counter_ids = counter_ids[counter_ids != stream.id]
    keys = rank_keys(sc["total"], cfg.score_decimals)
    keep = np.flatnonzero(top_k_mask(np.zeros(len(keys), dtype=np.int64), keys, counter_ids, cfg.top_k))
    result = _declared_candidates(index, otab, ntab, sc, keep.tolist())
    partner_companies = ntab.company[sc["ni"][keep]] if side == "o" else otab.company[sc["oi"][keep]]
    result += _prospective(index, single, [set(partner_companies.tolist())])
    result.sort(key=lambda c: candidate_sort_key(c, cfg.score_decimals))
    return result
