"""Consistency of the shipped resource taxonomy, EWC map and substitution rules (see DATA.md).

Plain pytest on the CSV files: no Django, no database.
"""

from __future__ import annotations

import csv
import importlib.util
import re
from collections import Counter
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "streams" / "data"

KINDS = {"MAT": "material", "ENE": "energy", "WAT": "water", "AST": "asset", "EXP": "expertise"}
VALUE_CLASSES = {
    "heat",
    "steam",
    "energy_transportable",
    "water",
    "bulk_low",
    "medium",
    "high",
    "local_service",
}
# Substitution rules whose offer and need are of different kinds; each needs a reason here. None so far.
CROSS_KIND_RULES: dict[tuple[str, str], str] = {}


def read(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def categories() -> dict[str, dict[str, str]]:
    rows = read("resource_categories.csv")
    codes = [r["code"] for r in rows]
    assert len(codes) == len(set(codes)), [c for c, n in Counter(codes).items() if n > 1]
    return {r["code"]: r for r in rows}


@pytest.fixture(scope="module")
def leaves(categories) -> set[str]:
    parents = {r["parent_code"] for r in categories.values() if r["parent_code"]}
    return set(categories) - parents


@pytest.fixture(scope="module")
def ewc_codes() -> list[str]:
    return [r["code"] for r in read("ewc_codes.csv")]


@pytest.fixture(scope="module")
def ewc_map() -> list[dict[str, str]]:
    return read("ewc_category_map.csv")


@pytest.fixture(scope="module")
def rules() -> list[dict[str, str]]:
    return read("substitution_rules.csv")


# --- resource categories ----------------------------------------------------------------------


def test_category_columns():
    with open(DATA_DIR / "resource_categories.csv", newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert header == ["code", "parent_code", "kind", "name", "description", "value_class"]


def test_category_codes_are_dotted_upper_case(categories):
    for code in categories:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(\.[A-Z][A-Z0-9]*){0,3}", code), code
        assert len(code) <= 40, code


def test_roots_are_the_five_kinds(categories):
    roots = {c: r["kind"] for c, r in categories.items() if not r["parent_code"]}
    assert roots == KINDS


def test_parent_exists_matches_code_prefix_and_kind(categories):
    for code, row in categories.items():
        if not row["parent_code"]:
            continue
        parent = categories.get(row["parent_code"])
        assert parent is not None, f"{code}: unknown parent {row['parent_code']}"
        assert row["parent_code"] == code.rsplit(".", 1)[0], f"{code}: parent is not the code prefix"
        assert row["kind"] == parent["kind"], f"{code}: kind differs from parent"
        assert row["kind"] == KINDS[code.split(".")[0]], code


def test_every_row_has_name_description_and_value_class(categories):
    for code, row in categories.items():
        assert row["name"].strip(), code
        assert row["description"].strip().endswith("."), f"{code}: description should be one sentence"
        assert row["value_class"] in VALUE_CLASSES, f"{code}: value_class {row['value_class']!r}"


def test_leaves_count_depth_and_kinds(categories, leaves):
    assert 120 <= len(leaves) <= 200, len(leaves)
    for code in leaves:
        assert code.count(".") in (2, 3), f"{code}: leaves sit 2-3 levels under the root"
    per_kind = Counter(categories[c]["kind"] for c in leaves)
    assert set(per_kind) == set(KINDS.values())
    assert per_kind["material"] > sum(per_kind.values()) / 2


def test_assets_and_expertise_are_local_services(categories):
    for code, row in categories.items():
        if row["kind"] in ("asset", "expertise"):
            assert row["value_class"] == "local_service", code


# --- EWC codes and their categories -------------------------------------------------------------


def test_ewc_codes_are_the_842_six_digit_codes(ewc_codes):
    assert len(ewc_codes) == 842
    assert len(set(ewc_codes)) == 842
    assert all(re.fullmatch(r"\d{6}", c) for c in ewc_codes)
    assert ewc_codes[0] == "010101"  # leading zeros kept as text


def test_ewc_codes_match_shared_reference_when_available():
    shared = Path(__file__).resolve().parents[3] / "shared" / "reference" / "ewc_list_of_waste_defra_ogl3.csv"
    if not shared.exists():
        pytest.skip("shared reference data not present")
    assert (DATA_DIR / "ewc_codes.csv").read_bytes() == shared.read_bytes()


def test_every_ewc_code_mapped_exactly_once(ewc_codes, ewc_map):
    mapped = Counter(r["ewc_code"] for r in ewc_map)
    assert set(mapped) == set(ewc_codes)
    assert all(n == 1 for n in mapped.values())


def test_mapped_categories_exist_and_are_materials(categories, ewc_map):
    for r in ewc_map:
        cat = categories.get(r["category_code"])
        assert cat is not None, f"{r['ewc_code']}: unknown category {r['category_code']}"
        # EWC codes apply to material streams only (streams/services.py).
        assert cat["kind"] == "material", r


def test_map_rule_labels(ewc_map):
    for r in ewc_map:
        code, rule = r["ewc_code"], r["rule"]
        assert rule in ("code", f"sub_chapter {code[:2]} {code[2:4]}", f"chapter {code[:2]}"), r


def test_map_is_what_the_generator_writes(categories):
    spec = importlib.util.spec_from_file_location(
        "build_ewc_category_map", DATA_DIR / "build_ewc_category_map.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(read("ewc_codes.csv"), {c: r["kind"] for c, r in categories.items()})
    shipped = [(r["ewc_code"], r["category_code"], r["rule"]) for r in read("ewc_category_map.csv")]
    assert built == shipped, "run: python streams/data/build_ewc_category_map.py"


@pytest.mark.parametrize(
    ("ewc_code", "category"),
    [
        ("020501", "MAT.FOOD.WHEY"),
        ("020704", "MAT.FOOD.SPENTGRAIN"),
        ("030101", "MAT.WOOD.BARK"),
        ("030105", "MAT.WOOD.SAWDUST"),
        ("030307", "MAT.PAPER.REJECTS"),
        ("030310", "MAT.SLUDGE.PAPER"),
        ("100101", "MAT.ASH.BOTTOM"),
        ("100102", "MAT.ASH.FLY"),
        ("100105", "MAT.GYP.FGD"),
        ("100107", "MAT.GYP.FGD"),
        ("100115", "MAT.ASH.BOTTOM"),
        ("100117", "MAT.ASH.FLY"),
        ("100201", "MAT.SLAG.FE"),
        ("100202", "MAT.SLAG.FE"),
        ("100210", "MAT.MET.SCALE"),
        ("150101", "MAT.PAPER.CARDBOARD"),
        ("150102", "MAT.PACK.PLASTIC"),
        ("170101", "MAT.CD.CONCRETE"),
        ("170504", "MAT.CD.SOIL"),
        ("190805", "MAT.SLUDGE.SEWAGE"),
        ("190606", "MAT.SLUDGE.DIGESTATE"),
        ("200108", "MAT.FOOD.KITCHEN"),
        ("200125", "MAT.FOOD.FAT"),
    ],
)
def test_known_codes(ewc_map, ewc_code, category):
    assert {r["ewc_code"]: r["category_code"] for r in ewc_map}[ewc_code] == category


# --- substitution rules -----------------------------------------------------------------------


def test_rules_columns_and_count(rules):
    assert list(rules[0]) == ["offer_category", "need_category", "factor", "source"]
    assert len(rules) >= 40


def test_rules_refer_to_existing_categories_with_valid_factor_and_source(categories, rules):
    for r in rules:
        assert r["offer_category"] in categories, r
        assert r["need_category"] in categories, r
        assert 0 < float(r["factor"]) <= 1, r
        source = r["source"].strip()
        assert source, r
        assert len(source) <= 300, r  # the loader keeps 300 characters
        assert "http" not in source and "www." not in source, r
        if source.lower().startswith("assumption"):
            assert re.match(r"assumption: \S", source), f"an assumption states its reason: {r}"


def test_rules_are_not_identities_or_duplicates(rules):
    pairs = [(r["offer_category"], r["need_category"]) for r in rules]
    assert all(offer != need for offer, need in pairs), "the engine matches identical categories itself"
    assert len(pairs) == len(set(pairs))


def test_rules_stay_within_a_kind(categories, rules):
    for r in rules:
        pair = (r["offer_category"], r["need_category"])
        if categories[pair[0]]["kind"] != categories[pair[1]]["kind"]:
            assert pair in CROSS_KIND_RULES, f"undocumented cross-kind rule {pair}"
