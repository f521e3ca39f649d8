"""The matching engine: pure Python + NumPy/SciPy, no Django, deterministic.

    from matching.engine import EngineConfig, rank_candidates
    matches = rank_candidates(offers, needs, config=EngineConfig(), rules=rules,
                              companies=companies, priors=priors)

Time and configuration are arguments; nothing here reads a clock, the environment or a database.
"""

from __future__ import annotations

from .candidates import CandidateIndex
from .columns import MatchColumns, rank_columns
from .compat import CompatCache, Profile, format_ewc
from .config import ENGINE_VERSION, EngineConfig
from .impact import ImpactFactors, estimate_impact, load_impact_factors
from .naive import naive_rank
from .priors import Priors, learn_priors, load_maestri_exchanges, load_prior_rules
from .ranking import build_index, match_one, rank_candidates, rank_index
from .scoring import make_candidate, score_parts
from .types import (
    CompanySpec,
    ExchangeRecord,
    Impact,
    MatchCandidate,
    PriorRule,
    ScoreBreakdown,
    SectorPrior,
    StreamSpec,
    SubstitutionRule,
)

Index = CandidateIndex

__all__ = [
    "ENGINE_VERSION",
    "CandidateIndex",
    "CompanySpec",
    "EngineConfig",
    "ExchangeRecord",
    "Impact",
    "ImpactFactors",
    "Index",
    "MatchCandidate",
    "MatchColumns",
    "PriorRule",
    "Priors",
    "ScoreBreakdown",
    "SectorPrior",
    "StreamSpec",
    "SubstitutionRule",
    "build_index",
    "estimate_impact",
    "format_ewc",
    "learn_priors",
    "load_impact_factors",
    "load_maestri_exchanges",
    "load_prior_rules",
    "match_one",
    "naive_rank",
    "rank_candidates",
    "rank_columns",
    "rank_index",
    "score_pair",
]


def score_pair(
    offer: StreamSpec,
    need: StreamSpec,
    *,
    config: EngineConfig | None = None,
    rules=(),
    factors: ImpactFactors | None = None,
    cache: CompatCache | None = None,
) -> MatchCandidate | None:
    """Score one offer for one need: a candidate with parts, reasons and impact, or None when they are
    incompatible, a hard constraint fails, or the need lies at or beyond the transport radius.
    ``min_score`` is not applied here (ranking applies it)."""
    config = config or EngineConfig()
    cache = cache or CompatCache(tuple(rules), config)
    ps = score_parts(offer, need, cache, config)
    if ps is None:
        return None
    compat = cache.get(Profile.of(offer), Profile.of(need))
    return make_candidate(
        offer, need, ps, compat=compat, factors=factors or load_impact_factors(), config=config
    )
