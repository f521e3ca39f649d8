"""The all-pairs pure-Python reference: same scoring, no blocking, no spatial index, no NumPy.

Used by the tests (the fast engine must return the same pairs, top-K and scores) and by the speed
benchmark (to show what the index saves). Quadratic: keep it to small inputs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from .candidates import is_valid
from .compat import CompatCache, Profile, stream_company_excluded
from .config import EngineConfig
from .impact import ImpactFactors, load_impact_factors
from .prospective import prior_key, prior_reason, sector_of, top_sectors
from .scoring import (
    candidate_sort_key,
    make_candidate,
    make_prospective_candidate,
    prospective_parts,
    rank_key,
    score_parts,
)
from .types import CompanySpec, MatchCandidate, StreamSpec


def naive_pairs(offers, needs, config: EngineConfig, cache: CompatCache):
    """Every (offer, need, PairScore) with a non-zero score, by brute force."""
    out = []
    for o in offers:
        for n in needs:
            ps = score_parts(o, n, cache, config)
            if ps is not None:
                out.append((o, n, ps))
    return out


def _top(items, key, k):
    return sorted(items, key=key)[:k]


def _prospective(
    stream: StreamSpec, companies: list[CompanySpec], sectors, partners: set[int], priors, config
):
    tops = dict(top_sectors(prior_key(stream, priors), sectors, priors, config))
    found = []
    for c in companies:
        if c.id == stream.company_id or c.id in partners or c.id in stream.excluded_company_ids:
            continue
        if stream.company_id in c.excluded_company_ids or stream_company_excluded(stream, c):
            continue
        ev = tops.get(sectors.index(sector_of(c)))
        if ev is None:
            continue
        ps = prospective_parts(stream, c, ev, config)
        if ps is not None and ps.total >= config.min_score:
            found.append((c, ps))
    found.sort(key=lambda x: (-rank_key(x[1].total, config.score_decimals), x[0].id))
    return found[: config.prospective_top_k]


def naive_rank(
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
    """Reference implementation of ``rank_candidates`` (same inputs, same output)."""
    config = config or EngineConfig()
    factors = factors or load_impact_factors()
    offers = [o for o in offers if o.direction == "offer" and is_valid(o, as_of)]
    needs = [n for n in needs if n.direction == "need" and is_valid(n, as_of)]
    cache = CompatCache(tuple(rules), config)
    dec = config.score_decimals
    valid = naive_pairs(offers, needs, config, cache)

    scored = [v for v in valid if v[2].total >= config.min_score]
    by_offer, by_need = defaultdict(list), defaultdict(list)
    for v in scored:
        by_offer[v[0].id].append(v)
        by_need[v[1].id].append(v)
    kept = {}
    partners_of_offer, partners_of_need = defaultdict(set), defaultdict(set)
    for items in by_offer.values():
        for o, n, ps in _top(items, lambda v: (-rank_key(v[2].total, dec), v[1].id), config.top_k):
            kept[(o.id, n.id)] = (o, n, ps)
            partners_of_offer[o.id].add(n.company_id)
    for items in by_need.values():
        for o, n, ps in _top(items, lambda v: (-rank_key(v[2].total, dec), v[0].id), config.top_k):
            kept[(o.id, n.id)] = (o, n, ps)
            partners_of_need[n.id].add(o.company_id)
    result = [
        make_candidate(
            o, n, ps, compat=cache.get(Profile.of(o), Profile.of(n)), factors=factors, config=config
        )
        for o, n, ps in kept.values()
    ]

    companies = list(companies)
    if priors is not None and companies and config.prospective_companies and config.prospective_top_k > 0:
        sectors = sorted({sector_of(c) for c in companies})
        for s in [*offers, *needs]:
            partners = partners_of_offer[s.id] if s.direction == "offer" else partners_of_need[s.id]
            for c, ps in _prospective(s, companies, sectors, partners, priors, config):
                why = prior_reason(s, c, priors)
                result.append(
                    make_prospective_candidate(s, c, ps, prior_reason=why, factors=factors, config=config)
                )
    result.sort(key=lambda c: candidate_sort_key(c, config.score_decimals))
    return result
