"""The fast engine equals the all-pairs reference; results are deterministic and order-independent."""

import dataclasses
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import matching.engine.prospective as prospective
import matching.engine.search as search
from matching.engine import build_index, match_one, naive_rank, rank_candidates
from matching.engine.scoring import candidate_sort_key, rank_key

from .helpers import RULES, TEST_CONFIG, key_of, maestri_priors, random_world


def _assert_same(fast, ref):
    assert [key_of(c) for c in fast] == [key_of(c) for c in ref]
    for a, b in zip(fast, ref, strict=True):
        assert a.score == pytest.approx(b.score, abs=1e-9)
        assert a.parts.compatibility == pytest.approx(b.parts.compatibility, abs=1e-9)
        assert a.parts.distance == pytest.approx(b.parts.distance, abs=1e-9)
        assert a.parts.volume_value == pytest.approx(b.parts.volume_value, abs=1e-9)
        assert a.parts.availability == pytest.approx(b.parts.availability, abs=1e-9)
        assert a.reasons == b.reasons
        assert a.distance_km == pytest.approx(b.distance_km, abs=1e-9)
        ia, ib = a.impact, b.impact
        assert (ia.unit, ia.assumptions) == (ib.unit, ib.assumptions)
        for f in ("quantity_yearly", "diverted_t", "co2e_t", "eur_provider", "eur_receiver", "transport_eur"):
            assert getattr(ia, f) == pytest.approx(getattr(ib, f), rel=1e-9, abs=1e-9)


def _both(offers, needs, companies, config=TEST_CONFIG):
    kw = {"config": config, "rules": RULES, "companies": companies, "priors": maestri_priors()}
    return rank_candidates(offers, needs, **kw), naive_rank(offers, needs, **kw)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**9))
def test_the_fast_engine_equals_the_naive_reference_on_random_small_sets(seed):
    offers, needs, companies = random_world(seed)
    fast, ref = _both(offers, needs, companies)
    _assert_same(fast, ref)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=10**9),
    shared=st.booleans(),
    min_score=st.sampled_from([0.0, 0.3]),
)
def test_the_kd_tree_paths_equal_the_reference_including_ties(seed, shared, min_score):
    # Start the k-nearest rounds at k=1 so the search needs many rounds, send every sector through the
    # KD-tree code, and use shared spots to create exact distance ties.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(search, "K0", 1)
        mp.setattr(prospective, "SMALL_SECTOR", 0)
        offers, needs, companies = random_world(seed, n_streams=120, n_companies=80, shared_spots=shared)
        fast, ref = _both(offers, needs, companies, dataclasses.replace(TEST_CONFIG, min_score=min_score))
    _assert_same(fast, ref)


def test_the_default_config_keeps_the_same_top_k_as_the_reference():
    offers, needs, companies = random_world(7, n_streams=200, n_companies=40)
    kw = {"rules": RULES, "companies": companies, "priors": maestri_priors()}
    _assert_same(rank_candidates(offers, needs, **kw), naive_rank(offers, needs, **kw))


def test_top_k_is_kept_per_offer_and_per_need():
    offers, needs, companies = random_world(11, n_streams=150, n_companies=20)
    out = rank_candidates(offers, needs, config=TEST_CONFIG, rules=RULES)
    declared = [c for c in out if not c.prospective]
    assert declared
    per_offer, per_need = {}, {}
    for c in declared:
        per_offer.setdefault(c.offer_id, []).append(c)
        per_need.setdefault(c.need_id, []).append(c)
    # every kept pair is in the top 3 of its offer or of its need
    for c in declared:
        top_o = sorted(per_offer[c.offer_id], key=lambda x: (-rank_key(x.score, 12), x.need_id))
        top_n = sorted(per_need[c.need_id], key=lambda x: (-rank_key(x.score, 12), x.offer_id))
        assert c in top_o[:3] or c in top_n[:3]


def test_the_same_inputs_give_identical_output():
    offers, needs, companies = random_world(3)
    kw = {"config": TEST_CONFIG, "rules": RULES, "companies": companies, "priors": maestri_priors()}
    assert rank_candidates(offers, needs, **kw) == rank_candidates(offers, needs, **kw)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**9), price_seed=st.integers(min_value=0, max_value=10**6))
def test_which_pairs_are_suggested_and_their_order_never_depend_on_prices(seed, price_seed):
    """A party that changes its own price and reads its suggestions again learns nothing of its
    partners' prices: the kept pairs (top K, min score), their scores and order are the same whatever
    the prices and disposal costs (only the money figures follow them)."""
    offers, needs, companies = random_world(seed)
    kw = {"config": TEST_CONFIG, "rules": RULES, "companies": companies, "priors": maestri_priors()}
    first = rank_candidates(offers, needs, **kw)
    rng = random.Random(price_seed)

    def reprice(s):
        return dataclasses.replace(s, price_eur_per_unit=rng.choice([None, rng.uniform(-50, 500)]),
                                   disposal_cost_eur_per_unit=rng.choice([None, rng.uniform(0, 500)]))

    second = rank_candidates([reprice(o) for o in offers], [reprice(n) for n in needs], **kw)
    assert [(key_of(c), c.score, c.parts, c.reasons) for c in second] == [
        (key_of(c), c.score, c.parts, c.reasons) for c in first
    ]


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**9), shuffle_seed=st.integers(min_value=0, max_value=10**6))
def test_shuffled_input_gives_the_same_output(seed, shuffle_seed):
    offers, needs, companies = random_world(seed)
    kw = {"config": TEST_CONFIG, "rules": RULES, "priors": maestri_priors()}
    first = rank_candidates(offers, needs, companies=companies, **kw)
    rng = random.Random(shuffle_seed)
    offers, needs, companies = offers[:], needs[:], companies[:]
    for seq in (offers, needs, companies):
        rng.shuffle(seq)
    assert rank_candidates(offers, needs, companies=companies, **kw) == first


def test_the_result_is_sorted_best_first_with_a_total_order():
    offers, needs, companies = random_world(5, n_streams=100, n_companies=30)
    out = rank_candidates(
        offers, needs, config=TEST_CONFIG, rules=RULES, companies=companies, priors=maestri_priors()
    )
    keys = [candidate_sort_key(c, 12) for c in out]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(min_value=0, max_value=10**9))
def test_match_one_returns_the_streams_own_top_k_from_the_reference(seed):
    offers, needs, companies = random_world(seed, n_streams=80, n_companies=30)
    streams = offers + needs
    priors = maestri_priors()
    index = build_index(streams, config=TEST_CONFIG, rules=RULES, companies=companies, priors=priors)
    for s in streams[:8]:
        got = match_one(s, index)
        others = [x for x in streams if x.id != s.id]
        if s.direction == "offer":
            ref = naive_rank(
                [s],
                [x for x in others if x.direction == "need"],
                config=TEST_CONFIG,
                rules=RULES,
                companies=companies,
                priors=priors,
            )
            counter = "need_id"
        else:
            ref = naive_rank(
                [x for x in others if x.direction == "offer"],
                [s],
                config=TEST_CONFIG,
                rules=RULES,
                companies=companies,
                priors=priors,
            )
            counter = "offer_id"
        mine = [c for c in ref if getattr(c, "offer_id" if s.direction == "offer" else "need_id") == s.id]
        declared = sorted(
            (c for c in mine if not c.prospective),
            key=lambda c: (-rank_key(c.score, 12), getattr(c, counter)),
        )[: TEST_CONFIG.top_k]
        expected = sorted(
            declared + [c for c in mine if c.prospective], key=lambda c: candidate_sort_key(c, 12)
        )
        _assert_same(got, expected)


def test_match_one_ignores_the_old_version_of_a_changed_stream():
    offers, needs, companies = random_world(21, n_streams=60)
    index = build_index(offers + needs, config=TEST_CONFIG, rules=RULES)
    changed = dataclasses.replace(offers[0], quantity_yearly=offers[0].quantity_yearly + 1)
    assert all(c.offer_id == changed.id for c in match_one(changed, index))


def test_match_one_refuses_a_config_that_differs_from_the_index():
    offers, needs, _ = random_world(2)
    index = build_index(offers + needs, config=TEST_CONFIG)
    with pytest.raises(ValueError, match="config"):
        match_one(offers[0], index, config=dataclasses.replace(TEST_CONFIG, top_k=5))


def test_streams_outside_their_validity_dates_are_left_out():
    from datetime import date

    offers, needs, _ = random_world(9, n_streams=80)
    expired = [dataclasses.replace(o, valid_until=date(2025, 12, 31)) for o in offers]
    assert rank_candidates(expired, needs, config=TEST_CONFIG, as_of=date(2026, 1, 1)) == []
    assert rank_candidates(expired, needs, config=TEST_CONFIG, as_of=date(2025, 6, 1)) == rank_candidates(
        offers, needs, config=TEST_CONFIG
    )


def test_a_scan_cap_only_drops_pairs_and_never_changes_a_score():
    offers, needs, companies = random_world(31, n_streams=200, n_companies=10, shared_spots=True)
    exact = rank_candidates(
        offers, needs, config=dataclasses.replace(TEST_CONFIG, max_scan_per_block=None), rules=RULES
    )
    capped = rank_candidates(
        offers, needs, config=dataclasses.replace(TEST_CONFIG, max_scan_per_block=2), rules=RULES
    )
    by_key = {key_of(c): c.score for c in exact}
    naive = {key_of(c): c.score for c in naive_rank(offers, needs, config=TEST_CONFIG, rules=RULES)}
    assert by_key == naive  # without a cap the search is exact
    from matching.engine import score_pair

    specs = {s.id: s for s in offers + needs}
    for c in capped:  # with a cap every returned pair is real and scored exactly
        ref = score_pair(specs[c.offer_id], specs[c.need_id], config=TEST_CONFIG, rules=RULES)
        assert ref is not None and ref.score == pytest.approx(c.score, abs=1e-12)


def test_rank_index_reports_phases_with_a_clock_passed_in():
    from itertools import count

    from matching.engine import build_index, rank_index

    offers, needs, companies = random_world(4)
    ticks = count()
    stats = {}
    index = build_index(
        offers + needs, config=TEST_CONFIG, rules=RULES, companies=companies, priors=maestri_priors()
    )
    out = rank_index(index, stats=stats, clock=lambda: float(next(ticks)))
    assert set(stats["phases_s"]) == {
        "search",
        "top_k",
        "prospective",
        "materialise_declared",
        "materialise_prospective",
        "order",
    }
    # One tick per phase; the search also reads the clock before and after each batch of exact scoring
    # (two ticks, one second of scoring per batch), reported as stats["scoring_s"].
    search = stats["phases_s"].pop("search")
    assert all(v == 1.0 for v in stats["phases_s"].values())
    assert stats["scoring_s"] >= 1.0
    assert search == 1.0 + 2 * stats["scoring_s"]
    assert stats["matches"] == len(out)
