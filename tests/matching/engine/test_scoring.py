"""Score composition, reasons and the score properties (hypothesis)."""

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.engine import EngineConfig, StreamSpec, score_pair
from matching.engine.scoring import availability_part, format_months

from .helpers import FLY_ASH, HEAT, MALMO, RULES, WATER, need, offer

CFG = EngineConfig()
KM_PER_DEG = 6371.0088 * math.pi / 180.0


def test_a_worked_example_matches_the_hand_calculation():
    c = score_pair(offer(), need(), config=CFG)
    d = 0.1 * KM_PER_DEG  # same longitude, 0.1 degree apart
    dist = 1 - d / 100.0  # bulk_low radius 100 km, linear decay
    fit = 0.6 * (800 / 1000) + 0.4 * 1.0  # covers 80 % of the need, absorbs all of the offer
    value = 10.0  # the typical value of low-value bulk (prices never enter a score)
    transport = 2.0 + 0.10 * 1.3 * d
    vv = 0.5 * fit + 0.5 * value / (value + transport)
    assert c.distance_km == pytest.approx(d, rel=1e-9)
    assert c.parts.distance == pytest.approx(dist, rel=1e-9)
    assert c.parts.volume_value == pytest.approx(vv, rel=1e-9)
    assert c.parts.compatibility == 1.0 and c.parts.availability == 1.0
    assert c.score == pytest.approx(1.0 * dist * vv**0.5 * 1.0, rel=1e-9)  # weights 1, 1, 0.5, 0.5
    assert c.score == c.parts.total


def test_it_explains_a_match_in_plain_language():
    c = score_pair(offer(), need(months=0b000111110000), config=CFG)
    assert c.reasons[0] == "same EWC code 10 01 02"
    assert "11 km, within the 100 km radius for low-value bulk" in c.reasons
    assert "covers 80 % of the need" in c.reasons
    assert "available in all months needed: May-Sep" in c.reasons
    assert "transport about 3 EUR/t against a typical value of about 10 EUR/t for low-value bulk" in c.reasons


def test_a_substitution_reason_names_factor_and_source():
    from .helpers import FGD, GYPSUM

    c = score_pair(offer(cat=FGD, ewc_codes=()), need(cat=GYPSUM, ewc_codes=()), config=CFG, rules=RULES)
    assert c.reasons[0] == "FGD gypsum can replace natural gypsum (factor 0.95, source: Eurogypsum)"
    assert c.parts.compatibility == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("mask", "text"),
    [
        (0, "all year"),
        (0xFFF, "all year"),
        (0b000111110000, "May-Sep"),
        (0b110000000011, "Nov-Feb"),
        (0b000000000101, "Jan, Mar"),
        (0b100000000000, "Dec"),
        (0b110000010011, "May, Nov-Feb"),
    ],
)
def test_it_formats_month_masks(mask, text):
    assert format_months(mask) == text


@pytest.mark.parametrize(
    ("offer_months", "need_months", "share"),
    [(0, 0, 1.0), (0b000111110000, 0, 5 / 12), (0, 0b11, 1.0), (0b0011, 0b0110, 0.5), (0b1, 0b10, 0.0)],
)
def test_availability_is_the_share_of_the_needed_months(offer_months, need_months, share):
    assert availability_part(offer_months, need_months) == pytest.approx(share)


def test_no_overlapping_month_gives_no_candidate():
    assert score_pair(offer(months=0b1), need(months=0b10), config=CFG) is None


@pytest.mark.parametrize(
    ("offer_kw", "need_kw", "dlat", "expected"),
    [
        ({}, {}, 0.8, "candidate"),  # ~89 km < 100 km bulk radius
        ({}, {}, 1.0, None),  # ~111 km beyond it
        ({}, {"max_transport_km": 5.0}, 0.1, None),  # the need's own limit wins
        ({"max_transport_km": 300.0}, {}, 2.0, "candidate"),  # the offer's own limit overrides the class radius
        ({"max_transport_km": 300.0}, {"max_transport_km": 150.0}, 2.0, None),  # the smaller of both
        (
            {"kind": "energy", "cat": HEAT, "value_class": "heat", "ewc_codes": ()},
            {"kind": "energy", "cat": HEAT, "value_class": "heat", "ewc_codes": ()},
            0.04,
            "candidate",
        ),
        (
            {"kind": "energy", "cat": HEAT, "value_class": "heat", "ewc_codes": ()},
            {"kind": "energy", "cat": HEAT, "value_class": "heat", "ewc_codes": ()},
            0.1,
            None,
        ),  # heat: 5 km
        (
            {"kind": "water", "cat": WATER, "value_class": "water", "ewc_codes": ()},
            {"kind": "water", "cat": WATER, "value_class": "water", "ewc_codes": ()},
            0.3,
            None,
        ),  # water: 30 km
    ],
)
def test_there_is_no_candidate_beyond_the_radius(offer_kw, need_kw, dlat, expected):
    c = score_pair(offer(**offer_kw), need(lat=MALMO[0] + dlat, **need_kw), config=CFG)
    assert (c is not None) == (expected == "candidate")


def test_a_stream_limit_is_named_in_the_reasons():
    c = score_pair(offer(max_transport_km=300.0), need(lat=MALMO[0] + 2.0), config=CFG)
    assert "222 km, within the 300 km limit set for this stream" in c.reasons


def test_low_value_bulk_far_away_scores_low_and_valuable_material_travels():
    far = MALMO[0] + 0.8  # ~89 km
    bulk = score_pair(offer(), need(lat=far), config=CFG)
    near = score_pair(offer(), need(), config=CFG)
    valuable = score_pair(offer(value_class="high"), need(lat=far, value_class="high"), config=CFG)
    assert bulk.score < 0.15 < 0.8 < near.score
    assert valuable.score > 0.75


# --- properties ---------------------------------------------------------------------------------
_opt_float = st.one_of(st.none(), st.floats(min_value=-50, max_value=200, allow_nan=False))


@st.composite
def stream_pairs(draw):
    kind = draw(st.sampled_from(["material", "energy", "water"]))
    vc = {
        "material": draw(st.sampled_from(["bulk_low", "medium", "high"])),
        "energy": "heat",
        "water": "water",
    }[kind]
    cat, anc = {"material": FLY_ASH, "energy": HEAT, "water": WATER}[kind]

    def one(direction, sid, company):
        return StreamSpec(
            id=sid,
            company_id=company,
            direction=direction,
            kind=kind,
            category=cat,
            category_ancestors=anc,
            ewc_codes=draw(st.sampled_from([(), ("100102",), ("100101",), ("100202",)]))
            if kind == "material"
            else (),
            quantity_yearly=draw(st.one_of(st.just(0.0), st.floats(min_value=0.001, max_value=1e6))),
            lat=MALMO[0],
            lon=MALMO[1],
            months=draw(st.integers(min_value=0, max_value=0xFFF)),
            temperature_c=draw(_opt_float),
            water_quality=draw(st.one_of(st.none(), st.integers(0, 4))),
            form=draw(st.sampled_from([None, "solid", "granular", "powder", "sludge", "liquid", "mixed"])),
            hazardous=draw(st.booleans()),
            accepts_hazardous=draw(st.booleans()),
            price_eur_per_unit=draw(_opt_float),
            disposal_cost_eur_per_unit=draw(_opt_float),
            max_transport_km=draw(st.one_of(st.none(), st.floats(min_value=0.0, max_value=500.0))),
            value_class=vc,
            nace_division="23",
        )

    return one("offer", 1, 10), one("need", 2, 11)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pair=stream_pairs(),
    dlat=st.floats(min_value=0.0, max_value=3.0),
    dlon=st.floats(min_value=-3.0, max_value=3.0),
)
def test_the_score_and_every_part_lie_in_the_unit_interval(pair, dlat, dlon):
    o, n = pair
    c = score_pair(o, dataclasses.replace(n, lat=n.lat + dlat, lon=n.lon + dlon), config=CFG)
    if c is None:
        return
    for v in (c.score, c.parts.compatibility, c.parts.distance, c.parts.volume_value, c.parts.availability):
        assert 0.0 <= v <= 1.0
    assert c.score > 0.0
    assert c.reasons


@settings(max_examples=300, deadline=None)
@given(pair=stream_pairs(), steps=st.lists(st.floats(min_value=0.0, max_value=0.5), min_size=2, max_size=8))
def test_the_score_never_increases_when_the_need_moves_away(pair, steps):
    o, n = pair
    lat, last = n.lat, math.inf
    for step in steps:
        lat += step
        c = score_pair(o, dataclasses.replace(n, lat=lat), config=CFG)
        score = 0.0 if c is None else c.score
        assert score <= last + 1e-12
        last = score


@settings(max_examples=200, deadline=None)
@given(pair=stream_pairs(), prices=st.tuples(_opt_float, _opt_float, _opt_float, _opt_float))
def test_prices_and_disposal_costs_never_change_a_score_or_its_reasons(pair, prices):
    """Confidential money stays out of the ranking: which pairs are suggested, in which order and with
    which explanation must not reveal a partner's price to someone who varies their own."""
    o, n = pair
    before = score_pair(o, n, config=CFG)
    o2 = dataclasses.replace(o, price_eur_per_unit=prices[0], disposal_cost_eur_per_unit=prices[1])
    n2 = dataclasses.replace(n, price_eur_per_unit=prices[2], disposal_cost_eur_per_unit=prices[3])
    after = score_pair(o2, n2, config=CFG)
    if before is None:
        assert after is None
        return
    assert after.score == before.score and after.parts == before.parts and after.reasons == before.reasons


@settings(max_examples=200, deadline=None)
@given(pair=stream_pairs(), dlat=st.floats(min_value=0.0, max_value=10.0))
def test_the_score_is_zero_beyond_the_radius(pair, dlat):
    o, n = pair
    n = dataclasses.replace(n, lat=n.lat + dlat)
    given_km = [x for x in (o.max_transport_km, n.max_transport_km) if x is not None]
    radius = min(given_km) if given_km else CFG.radius_for(o.value_class)
    if (n.lat - o.lat) * KM_PER_DEG > radius * (1 + 1e-9):
        assert score_pair(o, n, config=CFG) is None


@settings(max_examples=200, deadline=None)
@given(pair=stream_pairs())
def test_the_score_is_zero_when_a_hard_constraint_fails(pair):
    o, n = pair
    c = score_pair(o, n, config=CFG)
    hard = (
        (o.hazardous and not n.accepts_hazardous)
        or (o.temperature_c is not None and n.temperature_c is not None and o.temperature_c < n.temperature_c)
        or (o.water_quality is not None and n.water_quality is not None and o.water_quality < n.water_quality)
        or CFG.form_factor(o.form, n.form) == 0.0
    )
    if hard:
        assert c is None
