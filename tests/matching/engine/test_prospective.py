"""Prospective matches: companies whose sector typically uses (or produces) a stream."""

import dataclasses

import pytest

from matching.engine import CompanySpec, EngineConfig, rank_candidates

from .helpers import MALMO, maestri_priors, need, offer

CFG = EngineConfig()


def company(cid, nace_class, dlat=0.0, **kw):
    return CompanySpec(
        id=cid, nace_division=nace_class[:2], nace_class=nace_class, lat=MALMO[0] + dlat, lon=MALMO[1], **kw
    )


CEMENT, CONCRETE, BAKERY, STEEL = "2351", "2361", "1071", "2410"


def _run(offers, needs, companies, config=CFG):
    return rank_candidates(offers, needs, config=config, companies=companies, priors=maestri_priors())


def test_an_offer_gets_companies_whose_sector_typically_takes_it():
    out = _run([offer()], [], [company(20, CEMENT, 0.05), company(21, BAKERY, 0.05), company(10, "3511")])
    assert [(c.target_company_id, c.prospective) for c in out] == [(20, True)]
    c = out[0]
    assert c.need_id is None and c.offer_id == 1 and c.source_company_id == 10
    assert c.reasons[0] == "companies like these often use this"
    assert (
        "5 of 9 recorded exchanges with EWC code 10 01 02 went to NACE division 23"
        in c.reasons[1]
    )
    assert c.impact.assumptions[0] == "prospective: assumes the company could take the whole offer"


def test_a_prospective_company_ranks_below_a_declared_need_of_equal_quality():
    declared = need(company_id=30, lat=MALMO[0] + 0.05, quantity_yearly=0.0)
    strong = dataclasses.replace(CFG, prior_scale=1e-9)  # the sector evidence counts fully (compatibility 1)
    out = _run([offer()], [declared], [company(30, CEMENT, 0.05), company(31, CEMENT, 0.05)], strong)
    out = [c for c in out if c.offer_id == 1]  # leave out suggestions of producers for the need
    assert [(c.target_company_id, c.prospective) for c in out] == [(30, False), (31, True)]
    dec, pro = out
    assert dec.parts == dataclasses.replace(pro.parts, total=dec.parts.total)  # equal parts...
    assert pro.score == pytest.approx(CFG.prospective_penalty * dec.score)  # ...so the penalty decides


def test_a_company_with_a_declared_need_is_not_suggested_again():
    out = _run([offer()], [need(company_id=30)], [company(30, CEMENT, 0.1)])
    assert [(c.prospective, c.target_company_id) for c in out if c.offer_id == 1] == [(False, 30)]


@pytest.mark.parametrize(
    ("offer_kw", "company_kw"),
    [
        ({"excluded_company_ids": frozenset({20})}, {}),
        ({}, {"excluded_company_ids": frozenset({10})}),
        ({"excluded_nace": frozenset({"23"})}, {}),
        ({}, {"excluded_nace": frozenset({"35"})}),
    ],
)
def test_excluded_companies_are_never_suggested(offer_kw, company_kw):
    out = _run([offer(**offer_kw)], [], [company(20, CEMENT, 0.05, **company_kw)])
    assert out == []


def test_the_own_company_is_never_suggested():
    assert _run([offer(company_id=20)], [], [company(20, CEMENT)]) == []


def test_prospective_companies_respect_the_radius():
    assert _run([offer()], [], [company(20, CEMENT, 1.0)]) == []  # ~111 km > 100 km bulk radius


def test_a_need_gets_companies_that_typically_produce_it():
    slag_need = need(ewc_codes=("100202",), nace_division="23", nace_class=CEMENT)
    out = _run([], [slag_need], [company(40, STEEL, 0.05), company(41, BAKERY, 0.05)])
    assert [(c.source_company_id, c.target_company_id, c.offer_id, c.need_id) for c in out] == [
        (40, 11, None, 2)
    ]
    assert out[0].reasons[0] == "companies like these often produce this"


def test_without_priors_there_are_no_prospective_matches():
    assert rank_candidates([offer()], [], config=CFG, companies=[company(20, CEMENT)]) == []


def test_the_class_within_a_division_breaks_ties():
    out = _run([offer()], [], [company(50, "2399", 0.05), company(51, CEMENT, 0.05)])
    assert [c.target_company_id for c in out][0] == 51


def test_a_sharded_run_can_leave_out_one_side_of_prospective_matches():
    slag_need = need(ewc_codes=("100202",), nace_division="23", nace_class=CEMENT, company_id=12)
    kw = {
        "config": CFG,
        "companies": [company(20, CEMENT, 0.05), company(40, STEEL, 0.05)],
        "priors": maestri_priors(),
    }
    both = rank_candidates([offer()], [slag_need], **kw)
    offers_only = rank_candidates([offer()], [slag_need], prospective_for=("offer",), **kw)
    assert {c.offer_id is None for c in both if c.prospective} == {True, False}
    assert [c for c in both if not (c.prospective and c.offer_id is None)] == offers_only
