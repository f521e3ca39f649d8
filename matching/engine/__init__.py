"""The matching engine: pure Python + NumPy/SciPy, no Django, deterministic.

    from matching.engine import EngineConfig, rank_candidates
    matches = rank_candidates(offers, needs, config=EngineConfig(), rules=rules,
                              companies=companies, priors=priors)

Time and configuration are arguments; nothing here reads a clock, the environment or a database.
"""

from __future__ import annotations

from .candidates import CandidateIndex
from .columns import UNIT_CODES, MatchColumns, explain_declared, explain_prospective, rank_columns
from .compat import CompatCache, Profile, format_ewc
from .config import ENGINE_VERSION, EngineConfig
from .disclosure import (
    MIN_SHARED_DISTANCE_PART,
    SharedParts,
    band_distance,
    receiver_eur_before_price,
    route_blind_co2e_t,
    shared_parts,
    shared_transport_eur,
)
from .impact import ImpactFactors, estimate_impact, load_impact_factors
from .naive import naive_rank
from .prior_tables import MAESTRI_EXCHANGES_PATH
from .priors import (
    DEFAULT_BACKOFF,
    DEFAULT_COUNTERPART_DIVISION,
    Priors,
    learn_priors,
    load_maestri_exchanges,
    load_prior_rules,
)
from .prospective import nace_sector, prospective_divisions, prospective_sectors
from .ranking import build_index, match_one, rank_candidates, rank_index
from .scoring import PairScore, make_candidate, rank_key, score_parts, transport_per_unit, volume_fit
from .types import (
    ALL_MONTHS,
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

# The engine's front door: code outside matching/engine imports these names from `matching.engine` and
# never one of its submodules (tests/test_layers.py checks it).
__all__ = [
    "ALL_MONTHS",
    "DEFAULT_BACKOFF",
    "DEFAULT_COUNTERPART_DIVISION",
    "ENGINE_VERSION",
    "MAESTRI_EXCHANGES_PATH",
    "MIN_SHARED_DISTANCE_PART",
    "UNIT_CODES",
    "CandidateIndex",
    "CompanySpec",
    "CompatCache",
    "EngineConfig",
    "ExchangeRecord",
    "Impact",
    "ImpactFactors",
    "Index",
    "MatchCandidate",
    "MatchColumns",
    "PairScore",
    "PriorRule",
    "Priors",
    "ScoreBreakdown",
    "SectorPrior",
    "SharedParts",
    "StreamSpec",
    "SubstitutionRule",
    "band_distance",
    "build_index",
    "estimate_impact",
    "explain_declared",
    "explain_prospective",
    "format_ewc",
    "learn_priors",
    "load_impact_factors",
    "load_maestri_exchanges",
    "load_prior_rules",
    "match_one",
    "nace_sector",
    "naive_rank",
    "prospective_divisions",
    "prospective_sectors",
    "rank_candidates",
    "rank_columns",
    "rank_index",
    "rank_key",
    "receiver_eur_before_price",
    "route_blind_co2e_t",
    "score_pair",
    "shared_parts",
    "shared_transport_eur",
    "transport_per_unit",
    "volume_fit",
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
