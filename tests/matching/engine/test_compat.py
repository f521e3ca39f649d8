"""Compatibility evidence and hard constraints, table-driven."""

import pytest

from matching.engine import EngineConfig, format_ewc, score_pair
from matching.engine.compat import CompatCache, Profile, constraint_factor

from .helpers import ASH, FGD, FOOD, GYPSUM, HEAT, RULES, SAWDUST, WOOD, need, offer

CFG = EngineConfig()


@pytest.mark.parametrize(
    ("offer_kw", "need_kw", "score", "reason"),
    [
        ({"ewc_codes": ("100202",)}, {"ewc_codes": ("100202",)}, 1.0, "same EWC code 10 02 02"),
        (
            {"cat": WOOD, "ewc_codes": ("100202",)},
            {"cat": FOOD, "ewc_codes": ("100201",)},
            0.8,
            "same EWC sub-chapter 10 02",
        ),
        (
            {"cat": SAWDUST, "ewc_codes": ("100202",)},
            {"cat": FGD, "ewc_codes": ("100101",)},
            0.35,
            "same EWC chapter 10",
        ),
        ({"ewc_codes": ()}, {"ewc_codes": ()}, 1.0, "same category MAT.MIN.ASH.FLY"),
        (
            {"ewc_codes": ()},
            {"cat": ASH, "ewc_codes": ()},
            0.9,
            "the need accepts any MAT.MIN.ASH; this is MAT.MIN.ASH.FLY",
        ),
        (
            {"cat": ASH, "ewc_codes": ()},
            {"ewc_codes": ()},
            0.6,
            "the offer (MAT.MIN.ASH) is broader than the need",
        ),
        (
            {"cat": FGD, "ewc_codes": ()},
            {"cat": GYPSUM, "ewc_codes": ()},
            0.95,
            "FGD gypsum can replace natural gypsum (factor 0.95, source: Eurogypsum)",
        ),
        (
            {"cat": SAWDUST, "ewc_codes": ()},
            {"cat": FOOD, "ewc_codes": ()},
            0.3,
            "MAT.WOOD can replace MAT.BIO.FOOD",
        ),
        ({"cat": SAWDUST, "ewc_codes": ("030105",)}, {"cat": FGD, "ewc_codes": ("100105",)}, 0.0, None),
    ],
)
def test_it_grades_compatibility_evidence(offer_kw, need_kw, score, reason):
    o, n = offer(**offer_kw), need(**need_kw)
    res = CompatCache(RULES, CFG).get(Profile.of(o), Profile.of(n))
    assert res.score == pytest.approx(score)
    if reason:
        assert any(r.startswith(reason) for r in res.reasons), res.reasons


def test_category_and_ewc_evidence_need_the_same_kind():
    o = offer(kind="energy", cat=HEAT, ewc_codes=("100102",), value_class="heat")
    n = need(kind="material")
    assert CompatCache((), CFG).get(Profile.of(o), Profile.of(n)).score == 0.0


def test_the_strongest_evidence_comes_first_in_the_reasons():
    res = CompatCache((), CFG).get(Profile.of(offer()), Profile.of(need(cat=ASH)))
    assert res.reasons[0] == "same EWC code 10 01 02"
    assert res.reasons[1].startswith("the need accepts any MAT.MIN.ASH")


@pytest.mark.parametrize(("code", "text"), [("100202", "10 02 02"), ("1002", "10 02"), ("10", "10")])
def test_it_formats_ewc_codes_with_spaces(code, text):
    assert format_ewc(code) == text


@pytest.mark.parametrize(
    ("offer_kw", "need_kw", "factor"),
    [
        ({"temperature_c": 85.0}, {"temperature_c": 70.0}, 1.0),
        ({"temperature_c": 60.0}, {"temperature_c": 70.0}, 0.0),
        ({}, {"temperature_c": 70.0}, 0.9),
        ({"water_quality": 3}, {"water_quality": 2}, 1.0),
        ({"water_quality": 1}, {"water_quality": 2}, 0.0),
        ({"hazardous": True}, {"accepts_hazardous": False}, 0.0),
        ({"hazardous": True}, {"accepts_hazardous": True}, 1.0),
        ({"form": "liquid"}, {"form": "solid"}, 0.0),
        ({"form": "gas"}, {"form": "powder"}, 0.0),
        ({"form": "sludge"}, {"form": "liquid"}, 0.7),
        ({"form": "granular"}, {"form": "powder"}, 0.9),
        ({"form": "powder"}, {"form": None}, 1.0),
        ({"form": None}, {"form": "powder"}, 0.9),
        ({"form": None, "temperature_c": None}, {"form": "powder", "temperature_c": 50.0}, 0.81),
    ],
)
def test_it_applies_hard_constraints_and_limits(offer_kw, need_kw, factor):
    f, reasons = constraint_factor(offer(**offer_kw), need(**need_kw), CFG)
    assert f == pytest.approx(factor)
    assert reasons or factor == 1.0


@pytest.mark.parametrize(
    ("offer_kw", "need_kw"),
    [
        ({"temperature_c": 60.0}, {"temperature_c": 70.0}),
        ({"water_quality": 1}, {"water_quality": 2}),
        ({"hazardous": True}, {"accepts_hazardous": False}),
        ({"form": "liquid"}, {"form": "solid"}),
        ({"company_id": 5}, {"company_id": 5}),
        ({"excluded_company_ids": frozenset({11})}, {}),
        ({}, {"excluded_company_ids": frozenset({10})}),
        ({"excluded_nace": frozenset({"23"})}, {"nace_class": "2351"}),
        ({}, {"excluded_nace": frozenset({"35.1"}), "nace_division": "23"}),
        ({"ewc_codes": ("030105",), "cat": SAWDUST}, {}),
    ],
)
def test_a_failed_hard_constraint_gives_no_candidate(offer_kw, need_kw):
    o = offer(**offer_kw)
    if "excluded_nace" in need_kw:
        o = offer(nace_class="3511", **offer_kw)
    assert score_pair(o, need(**need_kw), config=CFG, rules=RULES) is None


def test_the_constraint_reasons_are_plain_language():
    c = score_pair(offer(temperature_c=85.0, kind="material"), need(temperature_c=70.0), config=CFG)
    assert "supply 85 °C meets the required 70 °C" in c.reasons
    c = score_pair(offer(form="sludge"), need(form="solid"), config=CFG)
    assert any("dewatering" in r for r in c.reasons)
