"""Ranking: all streams at once (``rank_candidates``) or one new stream against an index (``match_one``)."""

from __future__ import annotations

from datetime import date

import numpy as np

from .candidates import CandidateIndex, is_valid
from .config import EngineConfig
from .impact import ImpactFactors
from .prospective import (
    prior_key,
    prior_reason,
    prospective_pairs,
    score_prospective,
    sector_of,
    skip_companies,
)
from .scoring import PairScore, candidate_sort_key, make_candidate, make_prospective_candidate
from .search import run_search
from .tables import StreamTable, rank_keys, top_k_mask
from .types import MatchCandidate, StreamSpec


def _declared_candidates(index: CandidateIndex, otab: StreamTable, ntab: StreamTable, sc: dict, rows) -> list[MatchCandidate]:
    cfg = index.config
    out = []
    for k in rows:
        o, n = otab.specs[int(sc["oi"][k])], ntab.specs[int(sc["ni"][k])]
        ps = PairScore(
            float(sc["compatibility"][k]), float(sc["distance"][k]), float(sc["volume_value"][k]),
            float(sc["availability"][k]), float(sc["total"][k]), float(sc["distance_km"][k]),
        )
        compat = index.cache.get(otab.profiles[otab.profile[sc["oi"][k]]], ntab.profiles[ntab.profile[sc["ni"][k]]])
        out.append(make_candidate(o, n, ps, compat=compat, factors=index.factors, config=cfg))
    return out


def _prospective(index: CandidateIndex, T: StreamTable, partners: list[set[int]]) -> list[MatchCandidate]:
    """Prospective candidates for every stream of T; ``partners[a]`` = company ids with a declared match."""
    cfg, C, priors = index.config, index.companies, index.priors
    if priors is None or C.n == 0 or not cfg.prospective_companies or cfg.prospective_top_k <= 0 or T.n == 0:
        return []
    skips = [skip_companies(T.specs[a], partners[a], C) for a in range(T.n)]
    ai, ci, ev = prospective_pairs(T, np.arange(T.n), skips, C, priors, cfg)
    sc = score_prospective(T, C, ai, ci, ev, skips, cfg)
    ok = np.flatnonzero(sc["total"] >= cfg.min_score)
    keys = rank_keys(sc["total"][ok], cfg.score_decimals)
    top = ok[top_k_mask(sc["ai"][ok], keys, C.ids[sc["ci"][ok]], cfg.prospective_top_k)]
    out = []
    reasons: dict[tuple, str] = {}
    for k in np.sort(top).tolist():
        s, c = T.specs[int(sc["ai"][k])], C.specs[int(sc["ci"][k])]
        rkey = (prior_key(s), sector_of(c)[0])
        why = reasons.get(rkey)
        if why is None:
            why = reasons[rkey] = prior_reason(s, c, priors)
        ps = PairScore(
            float(sc["compatibility"][k]), float(sc["distance"][k]), float(sc["volume_value"][k]),
            float(sc["availability"][k]), float(sc["total"][k]), float(sc["distance_km"][k]),
        )
        out.append(make_prospective_candidate(s, c, ps, prior_reason=why, factors=index.factors, config=cfg))
    return out


def _partners(n_anchor: int, anchor_rows: np.ndarray, companies: np.ndarray) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in range(n_anchor)]
    for a, c in zip(anchor_rows.tolist(), companies.tolist(), strict=True):
        out[a].add(c)
    return out


def rank_index(index: CandidateIndex, stats: dict | None = None) -> list[MatchCandidate]:
    """Rank every offer against every need of the index (exact top-K search over the blocks), plus
    prospective companies. Keeps the ``top_k`` best per offer and per need (their union) above
    ``min_score``; ``stats`` (a dict) receives counts of the pairs looked at."""
    cfg = index.config
    otab, ntab = index.offers, index.needs
    sc = run_search(index, index.batch_tasks(), otab, ntab, track=("o", "n"), stats=stats)
    keys = rank_keys(sc["total"], cfg.score_decimals)
    o_ok, n_ok = sc["oi"], sc["ni"]
    top_o = top_k_mask(o_ok, keys, ntab.ids[n_ok], cfg.top_k)
    top_n = top_k_mask(n_ok, keys, otab.ids[o_ok], cfg.top_k)
    rows = np.flatnonzero(top_o | top_n)
    result = _declared_candidates(index, otab, ntab, sc, rows.tolist())
    # A company already in a stream's own top K of declared matches is not suggested again as prospective.
    ro, rn = np.flatnonzero(top_o), np.flatnonzero(top_n)
    result += _prospective(index, otab, _partners(otab.n, sc["oi"][ro], ntab.company[sc["ni"][ro]]))
    result += _prospective(index, ntab, _partners(ntab.n, sc["ni"][rn], otab.company[sc["oi"][rn]]))
    result.sort(key=lambda c: candidate_sort_key(c, cfg.score_decimals))
    if stats is not None:
        stats.update(declared_kept=len(rows), matches=len(result))
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
) -> list[MatchCandidate]:
    """Ranked candidates for all offers and needs (the periodic full run).

    Returns declared matches (top ``config.top_k`` per offer and per need, union) and, when ``priors``
    and ``companies`` are given, prospective companies (top ``config.prospective_top_k`` per stream),
    sorted best first with a deterministic tie order. ``as_of`` drops streams outside their validity
    dates. The result does not depend on the order of the inputs.
    """
    index = CandidateIndex(
        [*offers, *needs], config=config, rules=rules, companies=companies, priors=priors, factors=factors,
        as_of=as_of,
    )
    return rank_index(index)


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
            [s for s in counterparts if s.id != stream.id], config=config, rules=tuple(rules or ()),
            companies=companies or (), priors=priors, factors=factors, as_of=as_of,
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
    sc = run_search(index, index.stream_tasks(stream), otab, ntab, track=(side,))
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
