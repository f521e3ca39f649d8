"""Facilitator feedback enters the engine as data: a penalised category pair scores lower, says why,
and nothing else changes."""

import pytest

from matching.engine import EngineConfig, score_pair

from .helpers import SAWDUST, WOOD, need, offer

NOTE = "scored down: facilitators rejected this category pair repeatedly (3x quality or contaminants)"


def test_a_penalised_pair_scores_lower_by_the_factor_and_says_why():
    o, n = offer(cat=SAWDUST, ewc_codes=()), need(cat=SAWDUST, ewc_codes=())
    plain = score_pair(o, n, config=EngineConfig())
    penalised = score_pair(o, n, config=EngineConfig(pair_penalties=(("MAT.WOOD.SAWDUST", "MAT.WOOD.SAWDUST", 0.6, NOTE),)))
    assert plain is not None and penalised is not None
    assert penalised.parts.compatibility == pytest.approx(plain.parts.compatibility * 0.6)
    assert penalised.score < plain.score
    assert NOTE in penalised.reasons and NOTE not in plain.reasons


def test_a_penalty_applies_to_exactly_its_pair():
    config = EngineConfig(pair_penalties=(("MAT.WOOD.SAWDUST", "MAT.WOOD", 0.6, NOTE),))
    o, n = offer(cat=SAWDUST, ewc_codes=()), need(cat=SAWDUST, ewc_codes=())
    assert score_pair(o, n, config=config).score == score_pair(o, n, config=EngineConfig()).score
    wide = need(cat=WOOD, ewc_codes=())
    assert score_pair(o, wide, config=config).score < score_pair(o, wide, config=EngineConfig()).score
