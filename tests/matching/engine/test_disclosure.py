"""The shared figures (matching/engine/disclosure.py) depend only on what a party may know."""

import pytest

from matching.engine.config import EngineConfig
from matching.engine.disclosure import receiver_eur_before_price, shared_parts, shared_transport_eur

CONFIG = EngineConfig()
BASE = {"band_km": 20, "radius_km": 250.0, "compatibility": 0.9, "availability": 1.0, "is_material": True,
        "q_offer": 400.0, "q_need": 300.0, "value_class": "medium", "prospective": False, "config": CONFIG}


def test_the_distance_part_is_the_band_over_the_radius_and_never_zero_inside_it():
    assert shared_parts(**BASE).distance == pytest.approx(0.92)
    assert shared_parts(**{**BASE, "band_km": 250}).distance == 0.05


def test_the_shared_parts_do_not_depend_on_anything_but_their_inputs():
    # No price goes in: the same public facts give the same figures whoever's prices lie behind them.
    assert shared_parts(**BASE) == shared_parts(**BASE)
    farther = shared_parts(**{**BASE, "band_km": 60})
    assert farther.distance < shared_parts(**BASE).distance and farther.total < shared_parts(**BASE).total


def test_the_total_composes_the_shared_parts_like_the_engine_and_applies_the_prospective_penalty():
    p = shared_parts(**BASE)
    expected = p.compatibility * p.distance * p.volume_value ** 0.5 * p.availability ** 0.5
    assert p.total == pytest.approx(expected, abs=0.005)
    prospective = shared_parts(**{**BASE, "prospective": True, "q_offer": None, "q_need": None})
    assert prospective.total <= p.total


def test_transport_and_the_receivers_money_use_the_band():
    t = shared_transport_eur(300, 20, is_material=True, config=CONFIG)
    assert t == pytest.approx(300 * (2.0 + 0.10 * 1.3 * 20))
    assert shared_transport_eur(300, 20, is_material=False, config=CONFIG) == 0.0
    assert receiver_eur_before_price(300, 97.0, t) == pytest.approx(300 * 97.0 - t)


def test_the_band_is_taken_at_the_middle_of_its_range_within_the_radius():
    from matching.engine.disclosure import band_distance, band_range

    assert band_range(5) == (0.0, 7.5) and band_range(20) == (17.5, 22.5) and band_range(300) == (275.0, 325.0)
    assert band_distance(5, 5.0) == 2.5  # a heat pair "about 5 km" apart is not taken at its radius
    assert band_distance(20, 250.0) == 20.0
    heat = shared_parts(**{**BASE, "band_km": 5, "radius_km": 5.0, "is_material": False})
    assert heat.distance == 0.5
