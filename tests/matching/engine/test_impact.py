"""Impact estimates against hand calculations, and the shipped factor table."""

import csv
import math

import pytest

from matching.engine import EngineConfig, estimate_impact, load_impact_factors, score_pair

from .helpers import HEAT, ROOT, WATER, need, offer

CFG = EngineConfig()
FACTORS = load_impact_factors()
D_KM = 0.1 * 6371.0088 * math.pi / 180.0  # the helpers put the need 0.1 degree north


def test_a_fly_ash_match_matches_the_hand_calculation():
    o = offer(disposal_route="landfill", disposal_cost_eur_per_unit=30.0)
    n = need(price_eur_per_unit=12.0)
    imp = score_pair(o, n, config=CFG).impact
    road_km = 1.3 * D_KM
    transport_eur = 800 * (2.0 + 0.10 * road_km)  # handling + per t-km
    transport_t = 800 * road_km * 0.103 / 1000  # Defra 2012 articulated lorry
    assert imp.quantity_yearly == 800 and imp.unit == "t"
    assert imp.diverted_t == 800  # landfill
    assert imp.transport_eur == pytest.approx(transport_eur)
    # 0.10 t/t avoided landfill (assumption) + 0.83 t/t clinker replaced (assumption) - transport
    assert imp.co2e_t == pytest.approx(800 * 0.10 + 800 * 0.83 - transport_t)
    assert imp.eur_provider == pytest.approx(800 * 30.0)
    assert imp.eur_receiver == pytest.approx(800 * 12.0 - transport_eur)
    assert any(a.startswith("virgin_co2e.ewc.100102: assumption") for a in imp.assumptions)
    assert any("receiver pays transport" in a for a in imp.assumptions)


def test_a_gate_fee_reduces_the_providers_saving_and_pays_the_receiver():
    imp = score_pair(
        offer(disposal_cost_eur_per_unit=30.0, price_eur_per_unit=-10.0),
        need(price_eur_per_unit=12.0),
        config=CFG,
    ).impact
    assert imp.eur_provider == pytest.approx(800 * (30.0 - 10.0))
    assert imp.eur_receiver == pytest.approx(800 * (12.0 + 10.0) - imp.transport_eur)


def test_recycled_streams_are_not_counted_as_diverted():
    imp = score_pair(offer(disposal_route="recycling"), need(), config=CFG).impact
    assert imp.diverted_t == 0.0


def test_heat_replaces_a_gas_boiler():
    kw = {"kind": "energy", "cat": HEAT, "value_class": "heat", "ewc_codes": (), "quantity_yearly": 1000.0}
    imp = score_pair(offer(**kw), need(lat=55.625, **kw), config=CFG).impact
    assert imp.unit == "MWh"
    assert imp.co2e_t == pytest.approx(1000 * 0.224)
    assert imp.transport_eur == 0.0 and imp.diverted_t == 0.0


def test_water_avoids_supply_and_treatment():
    kw = {"kind": "water", "cat": WATER, "value_class": "water", "ewc_codes": (), "quantity_yearly": 10000.0}
    imp = score_pair(offer(disposal_route="sewer", **kw), need(**kw), config=CFG).impact
    assert imp.unit == "m3"
    assert imp.co2e_t == pytest.approx(10000 * (0.000344 + 0.000708))


def test_a_missing_quantity_is_labelled():
    imp = score_pair(offer(), need(quantity_yearly=0.0), config=CFG).impact
    assert imp.quantity_yearly == 800
    assert "need quantity not given: assumes the whole offer" in imp.assumptions


def test_the_prospective_impact_says_what_it_assumes():
    imp = estimate_impact(
        offer(),
        None,
        distance_km=10.0,
        exchangeable=800.0,
        substitution_factor=1.0,
        factors=FACTORS,
        config=CFG,
        prospective=True,
    )
    assert imp.assumptions[0] == "prospective: assumes the company could take the whole offer"
    assert any("purchase price assumed 5 EUR/t" in a for a in imp.assumptions)


def test_every_factor_has_a_unit_and_a_source():
    with open(ROOT / "matching" / "engine" / "data" / "impact_factors.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 20
    for row in rows:
        assert row["unit"] and row["source"], row["key"]
        float(row["value"])


def test_the_factor_table_and_the_config_agree_on_road_transport():
    f = FACTORS.as_dict()
    assert f["road_freight_co2e_kg_per_tkm"] == CFG.road_co2e_kg_per_tkm == 0.103
    assert f["road_transport_eur_per_tkm"] == CFG.transport_eur_per_tkm
    assert f["road_handling_eur_per_t"] == CFG.handling_eur_per_t
    assert f["road_circuity"] == CFG.road_circuity


def test_a_factor_file_can_be_passed_in(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text("key,value,unit,source\nvirgin_co2e.value_class.bulk_low,1.0,t CO2e per t,test\n")
    factors = load_impact_factors(p)
    imp = estimate_impact(
        offer(ewc_codes=()),
        need(ewc_codes=()),
        distance_km=0.0,
        exchangeable=10.0,
        substitution_factor=1.0,
        factors=factors,
        config=CFG,
    )
    assert imp.co2e_t == pytest.approx(10.0)
