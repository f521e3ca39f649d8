"""Sector priors learned from the MAESTRI exchanges."""

import dataclasses

import pytest

from matching.engine import ExchangeRecord, PriorRule, learn_priors, load_maestri_exchanges, load_prior_rules
from matching.engine.priors import split_codes, text_tokens
from matching.engine.prospective import prior_key

from .helpers import MAESTRI_CSV, offer


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
    assert text == "5 of 9 recorded exchanges with EWC code 10 01 02 went to NACE division 23"


# Three exchanges say slag goes to cement works (23); one, from a division-20 provider, to division 20.
SPARSE = [
    ExchangeRecord(("100202",), ("2410",), ("2351",)),
    ExchangeRecord(("100202",), ("2410",), ("2351",)),
    ExchangeRecord(("100202",), ("2410",), ("2351",)),
    ExchangeRecord(("100202",), ("2013",), ("2013",)),
]


def test_by_default_the_providers_division_does_not_change_the_receivers():
    pr = learn_priors(SPARSE)
    assert pr.receiver_distribution(("100202",), "20") == pr.receiver_distribution(("100202",), "24")
    assert _ranked(pr.receiver_distribution(("100202",), "20"))[0] == "23"
    assert pr.explain(("100202",), "20", (), "receiver", "20") == (
        "1 of 4 recorded exchanges with EWC code 10 02 02 went to NACE division 20"
    )


def test_a_single_exchange_from_the_same_division_outweighs_three_when_asked_for():
    # The setting the benchmark measured as worse: one exchange in the narrow context decides.
    pr = learn_priors(SPARSE, counterpart_division=True)
    assert _ranked(pr.receiver_distribution(("100202",), "20"))[0] == "20"
    assert _ranked(pr.receiver_distribution(("100202",), "24"))[0] == "23"
    assert pr.explain(("100202",), "20", (), "receiver", "20") == (
        "1 of 1 recorded exchanges with EWC code 10 02 02 from NACE division 20 went to NACE division 20"
    )


def test_the_prior_key_drops_the_division_the_priors_ignore():
    ignoring, using = learn_priors(SPARSE), learn_priors(SPARSE, counterpart_division=True)
    a, b = offer(nace_division="20"), offer(nace_division="24")
    assert prior_key(a, ignoring) == prior_key(b, ignoring)  # one cache entry for both streams
    assert prior_key(a, using) != prior_key(b, using)


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


def _loco_hit_at_5(records, **settings):
    """Division hit@5 of the receiver distribution, leave-one-case-out over the implemented rows (the
    benchmark's protocol without companies: every division the priors know is a candidate)."""
    hits = n = 0
    for case in sorted({r.case for r in records if r.status == "Implemented"}):
        training = [
            dataclasses.replace(r, weight=1.0 if r.status == "Implemented" else 0.5)
            for r in records
            if r.case != case
        ]
        pr = learn_priors(training, rules=load_prior_rules(), **settings)
        for r in records:
            if r.case == case and r.status == "Implemented":
                dist = pr.distribution(
                    r.ewc_codes, r.provider_nace[0][:2], (), "receiver", text_tokens(r.description)
                )
                hits += bool({c[:2] for c in r.receiver_nace} & set(_ranked(dist)[:5]))
                n += 1
    return hits / n


def test_ignoring_the_providers_division_is_the_better_default_on_maestri(records):
    # benchmarks/match_quality.py measures this with companies; here the cheap form of the same check.
    assert _loco_hit_at_5(records) > _loco_hit_at_5(records, counterpart_division=True)
