"""Sector priors learned from the MAESTRI exchanges."""

import pytest

from matching.engine import ExchangeRecord, PriorRule, learn_priors, load_maestri_exchanges, load_prior_rules
from matching.engine.priors import split_codes, text_tokens

from .helpers import MAESTRI_CSV


@pytest.fixture(scope="module")
def records():
    return load_maestri_exchanges(MAESTRI_CSV)


@pytest.fixture(scope="module")
def priors(records):
    return learn_priors(records)


def _ranked(dist):
    return [d for d, _p in sorted(dist.items(), key=lambda x: (-x[1], x[0]))]


@pytest.mark.parametrize(
    ("cell", "codes"),
    [
        ("050799#", ("050799",)),
        ("130701*", ("130701",)),
        ("1920^", ("1920",)),
        ("011;012", ("011", "012")),
        ("200108;200125", ("200108", "200125")),
        ("4120*", ("4120",)),
        ("", ()),
    ],
)
def test_it_strips_suffix_markers_and_splits_cells(cell, codes):
    assert split_codes(cell) == codes


def test_it_loads_every_maestri_row(records):
    assert len(records) == 200
    assert sum(r.status == "Implemented" for r in records) == 104
    first = records[0]
    assert (
        first.ewc_codes == ("050799",)
        and first.provider_nace == ("1920",)
        and first.receiver_nace == ("3511",)
    )
    assert first.case == "1" and first.provider_name == "ENI refinery"


@pytest.mark.parametrize(
    ("codes", "provider", "expected"),
    [
        (("100102",), "35", "23"),  # coal fly ash from power plants -> cement and concrete
        (("100202",), "24", "23"),  # steel slag -> cement
        (("200140",), "38", "24"),  # sorted steel scrap -> steel works
        (("020704",), "11", "17"),  # paddy husk -> paper mills (two Indian exchanges)
    ],
)
def test_the_known_receiver_division_ranks_first(priors, codes, provider, expected):
    assert _ranked(priors.receiver_distribution(codes, provider))[0] == expected


def test_the_known_provider_division_ranks_first(priors):
    assert _ranked(priors.provider_distribution(("100202",), "23"))[0] == "24"


def test_a_distribution_sums_to_one(priors):
    assert sum(priors.receiver_distribution(("100102",), "35").values()) == pytest.approx(1.0)
    assert sum(priors.receiver_distribution((), "").values()) == pytest.approx(1.0)


def test_an_unseen_code_backs_off_to_its_sub_chapter(priors):
    # 10 01 99 never occurs; sub-chapter 10 01 (combustion residues) mostly goes to division 23
    assert _ranked(priors.receiver_distribution(("100199",), "35"))[0] == "23"


def test_it_explains_the_evidence_in_plain_language(priors):
    text = priors.explain(("100102",), "35", (), "receiver", "23")
    assert (
        text
        == "4 of 8 recorded exchanges with EWC code 10 01 02 from NACE division 35 went to NACE division 23"
    )


def test_a_record_weight_is_split_over_codes_and_sectors():
    rec = ExchangeRecord(
        ewc_codes=("020103", "020304"), provider_nace=("0111",), receiver_nace=("3521", "1091")
    )
    pr = learn_priors([rec])
    (entry,) = [s for s in pr.sector_priors() if s.context == ("e6", "020103")]
    assert entry.total == pytest.approx(0.5)
    assert dict(entry.probabilities) == {"35": 0.5, "10": 0.5}


def test_leaving_a_case_out_removes_its_evidence(records):
    held_out = learn_priors([r for r in records if r.case != "22"])  # GrowHow CO2 -> greenhouse
    full = learn_priors(records)
    assert (
        full.receiver_distribution(("160504",), "20")["01"]
        > held_out.receiver_distribution(("160504",), "20")["01"]
    )


def test_curated_rules_give_a_cold_start_without_data():
    pr = learn_priors(
        [], rules=(PriorRule("1001", "2351", source="EN 197-1", note="ashes are cement constituents"),)
    )
    assert _ranked(pr.receiver_distribution(("100102",), "35"))[0] == "23"
    assert "includes curated rule: ashes are cement constituents" in pr.explain(
        ("100102",), "35", (), "receiver", "23"
    )


def test_the_shipped_curated_rules_load_with_sources():
    rules = load_prior_rules()
    assert len(rules) > 50
    assert all(r.source for r in rules)
    assert {r.role for r in rules} == {"receiver", "provider"}


def test_the_class_share_refines_a_division(priors):
    cement = priors.class_share(("100102",), "35", (), "receiver", "23", "2351")
    glass = priors.class_share(("100102",), "35", (), "receiver", "23", "2311")
    assert cement > glass


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Black furnace slag", ("black", "furnace", "slag")),
        ("CO2", ("co2",)),
        ("Spent cell linings", ("cell", "lining", "spent")),
        ("Waste of the mixed materials", ()),
        ("", ()),
    ],
)
def test_it_tokenises_descriptions(text, tokens):
    assert text_tokens(text) == tokens


def test_description_words_refine_the_prior():
    recs = [
        ExchangeRecord(("100202",), ("2410",), ("2351",), description="Steel slag"),
        ExchangeRecord(("100202",), ("2410",), ("2351",), description="Steel slag"),
        ExchangeRecord(("100202",), ("2410",), ("2013",), description="Coke oven gas"),
    ]
    pr = learn_priors(recs)
    plain = pr.receiver_distribution(("100202",), "24")
    gas = pr.distribution(("100202",), "24", (), "receiver", text_tokens("Coke oven gas"))
    assert _ranked(plain)[0] == "23"
    assert _ranked(gas)[0] == "20"
    assert pr.explain_text(text_tokens("Coke oven gas"), "receiver", "20").startswith(
        '1 of 1 recorded exchanges described as "coke" went to NACE division 20'
    )
