"""Match quality on real, implemented industrial-symbiosis exchanges (MAESTRI), leave-one-case-out.

    .venv/bin/python benchmarks/match_quality.py [--csv PATH] [--date YYYY-MM-DD] [--nested]

Protocol (issue "matching engine"):
- Test queries: every MAESTRI row with status "Implemented" (one provider -> receiver -> material).
- For each case (an industrial park or region): register its companies (the providers and receivers of
  its implemented rows; one company per name, or per NACE code when the name is not published) plus one
  distractor company for every other NACE division that occurs anywhere in the data set. All companies
  sit within 3 km of one shared point, placed on a spiral in an order given by a hash of their name, so
  position says nothing about the answer.
- For each test row, the provider lists its stream as an offer: EWC code(s), waste description, the
  provider's NACE division, nothing about the receiver. The engine ranks the companies that could
  receive it (prospective matching: no needs are declared).
- Sector priors are learned from all rows of the *other* cases only (leave-one-case-out; planned and
  feasibility-study rows count half). Nothing of the case under test is used.
- Ranks are "filtered": other known receivers of the same stream in the same case are removed from the
  list before the rank of this row's receiver is taken.
- Metrics: hit@1/3/5/10 and MRR at company level and at NACE-division level (the rank of the receiver's
  division among the distinct divisions in ranked order), for: the engine with data priors only, the
  engine with data priors plus the curated rules shipped in matching/engine/data/prior_rules.csv, and the
  baseline "most frequent receiver division for this EWC code" (back-off: sub-chapter, chapter, all;
  companies of the same division keep the engine's tie order: by id).
- The engine's prior settings (``learn_priors``: back-off strength, conditioning on the provider's
  division) were chosen on these same 104 queries. ``--nested`` measures what that choice is worth: for
  each test case it picks the settings from a small fixed list (CHOICES) by the division MRR of a
  leave-one-case-out run over the other cases only (the test case removed from everything), and
  reports the ranks of the test case under the picked settings.
Writes benchmarks/results/match_quality.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import platform
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matching.engine import (  # noqa: E402
    DEFAULT_BACKOFF,
    DEFAULT_COUNTERPART_DIVISION,
    ENGINE_VERSION,
    MAESTRI_EXCHANGES_PATH,
    CompanySpec,
    EngineConfig,
    StreamSpec,
    learn_priors,
    load_maestri_exchanges,
    load_prior_rules,
    rank_candidates,
)

DEFAULT_CSV = MAESTRI_EXCHANGES_PATH
RESULTS = ROOT / "benchmarks" / "results" / "match_quality.json"
CENTRE = (55.60, 13.00)  # the shared location (any point works: only relative distance matters)
PLANNED_WEIGHT = 0.5
KS = (1, 3, 5, 10)

# Evaluation settings: rank every company the priors know (the product cuts the list at
# prospective_top_k=5 and drops sectors below min_prior).
EVAL_CONFIG = EngineConfig(
    min_score=0.0, min_prior=0.0, prospective_top_k=100_000, prospective_max_sectors=100_000, top_k=10
)


def division(code: str) -> str:
    return code[:2]


def company_key(name: str, nace: tuple[str, ...]) -> str:
    return name.strip().lower() if name.strip() else "nace:" + ";".join(nace)


def spiral(n: int, radius_km: float = 3.0):
    """n points on a golden-angle spiral within radius_km of CENTRE."""
    pts = []
    golden = math.pi * (3 - math.sqrt(5))
    for i in range(n):
        r = radius_km * math.sqrt((i + 0.5) / n)
        a = i * golden
        dlat = (r * math.cos(a)) / 111.32
        dlon = (r * math.sin(a)) / (111.32 * math.cos(math.radians(CENTRE[0])))
        pts.append((CENTRE[0] + dlat, CENTRE[1] + dlon))
    return pts


def build_case(case: str, rows, all_records):
    """Companies of a case (with distractors) and the test queries."""
    companies: dict[str, dict] = {}
    queries = []
    for r in rows:
        pkey = company_key(r.provider_name, r.provider_nace)
        rkey = company_key(r.receiver_name, r.receiver_nace)
        if rkey == pkey:  # an exchange between two unnamed companies of the same sector
            rkey += " (receiver)"
        companies.setdefault(pkey, {"nace": r.provider_nace})
        companies.setdefault(rkey, {"nace": r.receiver_nace})
        queries.append((r, pkey, rkey))
    case_divs = {division(c["nace"][0]) for c in companies.values()}
    # One distractor per other division of the data set, with its most common 4-digit class.
    classes: dict[str, Counter] = defaultdict(Counter)
    for rec in all_records:
        for code in (*rec.provider_nace, *rec.receiver_nace):
            classes[division(code)][code] += 1
    for div in sorted(classes):
        if div in case_divs:
            continue
        four = sorted((c for c in classes[div] if len(c) >= 4), key=lambda c: (-classes[div][c], c))
        companies[f"distractor:{div}"] = {"nace": (four[0] if four else div,)}
    keys = sorted(companies, key=lambda k: hashlib.sha256(f"{case}|{k}".encode()).hexdigest())
    specs = {}
    for cid, (k, (lat, lon)) in enumerate(zip(keys, spiral(len(keys)), strict=True), start=1):
        nace = companies[k]["nace"][0]
        specs[k] = CompanySpec(cid, division(nace), nace if len(nace) >= 4 else "", lat, lon)
    return specs, queries


def value_class_for(ewc: str) -> str:
    # Only the radius depends on it here, and every company is within 3 km: a neutral middle class.
    return "medium"


def ranked_targets(offer: StreamSpec, companies, priors) -> list[int]:
    out = rank_candidates([offer], [], config=EVAL_CONFIG, companies=companies, priors=priors)
    return [c.target_company_id for c in out if c.prospective and c.offer_id == offer.id]


def baseline_divisions(codes, training, candidate_divs) -> list[str]:
    """Divisions by how often they received this EWC code in the training rows; ties and unseen codes
    fall back to the sub-chapter, then the chapter, then all rows; then the code itself."""
    levels = []
    for n in (6, 4, 2, 0):
        cnt = Counter()
        for rec in training:
            if n == 0 or any(c[:n] == code[:n] for c in rec.ewc_codes for code in codes):
                for rv in rec.receiver_nace:
                    cnt[division(rv)] += 1
        levels.append(cnt)
    return sorted(candidate_divs, key=lambda d: (*(-lv.get(d, 0) for lv in levels), d))


def rank_of(items: list, target) -> int | None:
    try:
        return items.index(target) + 1
    except ValueError:
        return None


def divisions_in_order(company_ids, div_of) -> list[str]:
    seen, out = set(), []
    for cid in company_ids:
        d = div_of[cid]
        if d not in seen:
            seen.add(d)
            out.append(d)
    return out


def metrics(ranks: list[int | None]) -> dict:
    n = len(ranks)
    out = {f"hit@{k}": sum(1 for r in ranks if r is not None and r <= k) / n for k in KS}
    out["mrr"] = sum(1.0 / r for r in ranks if r is not None) / n
    out["unranked"] = sum(1 for r in ranks if r is None)
    return out


def evaluate(records, *, with_rules: bool, settings: dict | None = None):
    """Per-query ranks, leave-one-case-out; ``settings`` are passed to ``learn_priors``."""
    rules = load_prior_rules() if with_rules else ()
    test = [r for r in records if r.status == "Implemented"]
    by_case: dict[str, list] = defaultdict(list)
    for r in test:
        by_case[r.case].append(r)
    per_query = []
    for case in sorted(by_case, key=lambda c: int(c) if c.isdigit() else c):
        training = [
            dataclasses.replace(r, weight=1.0 if r.status == "Implemented" else PLANNED_WEIGHT)
            for r in records
            if r.case != case
        ]
        priors = learn_priors(training, rules=rules, **(settings or {}))
        companies, queries = build_case(case, by_case[case], records)
        div_of = {c.id: c.nace_division for c in companies.values()}
        clist = sorted(companies.values(), key=lambda c: c.id)
        # other receivers of the same stream (same provider and codes) in this case, for filtering
        same_stream: dict[tuple, set[str]] = defaultdict(set)
        for r, pkey, rkey in queries:
            same_stream[(pkey, r.ewc_codes)].add(rkey)
        for qi, (r, pkey, rkey) in enumerate(queries):
            provider, receiver = companies[pkey], companies[rkey]
            offer = StreamSpec(
                id=qi + 1,
                company_id=provider.id,
                direction="offer",
                kind="material",
                category="",
                ewc_codes=r.ewc_codes,
                lat=provider.lat,
                lon=provider.lon,
                value_class=value_class_for(r.ewc_codes[0]),
                nace_division=provider.nace_division,
                nace_class=provider.nace_class,
                description=r.description,
            )
            others = {companies[k].id for k in same_stream[(pkey, r.ewc_codes)]} - {receiver.id}
            other_divs = {div_of[c] for c in others} - {receiver.nace_division}
            ranked = [c for c in ranked_targets(offer, clist, priors) if c not in others]
            r_company = rank_of(ranked, receiver.id)
            r_division = rank_of(
                [d for d in divisions_in_order(ranked, div_of) if d not in other_divs], receiver.nace_division
            )
            cand_divs = sorted({div_of[c.id] for c in clist if c.id != provider.id} - other_divs)
            base_divs = baseline_divisions(r.ewc_codes, training, cand_divs)
            base_companies = [
                c.id
                for d in base_divs
                for c in clist
                if div_of[c.id] == d and c.id != provider.id and c.id not in others
            ]
            per_query.append(
                {
                    "case": r.case,
                    "index": r.index,
                    "country": r.country,
                    "description": r.description,
                    "ewc": list(r.ewc_codes),
                    "provider_nace": list(r.provider_nace),
                    "receiver_nace": list(r.receiver_nace),
                    "companies": len(clist),
                    "rank_company": r_company,
                    "rank_division": r_division,
                    "baseline_rank_company": rank_of(base_companies, receiver.id),
                    "baseline_rank_division": rank_of(base_divs, receiver.nace_division),
                }
            )
    return per_query


# Prior settings the nested check chooses from; the first is the shipped default (learn_priors).
CHOICES = tuple({"counterpart_division": cd, "backoff": b} for cd in (False, True) for b in (2.0, 1.0, 4.0))


def nested(records, *, with_rules: bool) -> dict:
    """An honest estimate for settings chosen on this data set: for each test case, pick the settings
    (from CHOICES) with the best division MRR in a leave-one-case-out run over the *other* cases only
    (the test case removed from everything), then take that case's ranks under the picked settings."""
    full = [evaluate(records, with_rules=with_rules, settings=s) for s in CHOICES]
    cases = sorted({q["case"] for q in full[0]}, key=lambda c: int(c) if c.isdigit() else c)
    picked, per_query = {}, []
    for case in cases:
        rest = [r for r in records if r.case != case]
        inner = [
            metrics([q["rank_division"] for q in evaluate(rest, with_rules=with_rules, settings=s)])["mrr"]
            for s in CHOICES
        ]
        best = max(range(len(CHOICES)), key=lambda i: (inner[i], -i))  # ties: the earlier choice
        picked[case] = CHOICES[best]
        per_query += [q for q in full[best] if q["case"] == case]
    return {
        "choices": list(CHOICES),
        "per_choice": {json.dumps(s, sort_keys=True): summary(f) for s, f in zip(CHOICES, full, strict=True)},
        "picked_per_case": picked,
        "nested": summary(per_query),
    }


def coverage(records) -> dict:
    """How often the receiver's division occurs, in the *other* cases, as a receiver of the same EWC
    code / sub-chapter / chapter: an upper bound for any prior learned from EWC codes alone."""
    test = [r for r in records if r.status == "Implemented"]
    out = {}
    for n, name in ((6, "same_code"), (4, "same_subchapter"), (2, "same_chapter"), (0, "any_exchange")):
        hit = 0
        for r in test:
            divs = {division(c) for c in r.receiver_nace}
            for x in records:
                if x.case == r.case or not divs & {division(c) for c in x.receiver_nace}:
                    continue
                if n == 0 or any(c[:n] == code[:n] for c in x.ewc_codes for code in r.ewc_codes):
                    hit += 1
                    break
        out[name] = hit / len(test)
    return out


def summary(per_query, prefix=""):
    return {
        "company": metrics([q[prefix + "rank_company"] for q in per_query]),
        "division": metrics([q[prefix + "rank_division"] for q in per_query]),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--date", default=None, help="ISO date to record (default: today, UTC)")
    ap.add_argument(
        "--nested",
        action="store_true",
        help="also choose the prior settings per test case from the other cases only (about 2 minutes)",
    )
    args = ap.parse_args(argv)
    records = load_maestri_exchanges(args.csv)
    data_only = evaluate(records, with_rules=False)
    with_rules = evaluate(records, with_rules=True)
    results = {
        "engine (data priors, leave-one-case-out)": summary(data_only),
        "engine (data priors + curated rules)": summary(with_rules),
        "baseline (most frequent receiver division for the EWC code)": summary(data_only, "baseline_"),
    }
    n = len(data_only)
    cov = coverage(records)
    print(
        f"MAESTRI implemented exchanges: {n} queries in {len({q['case'] for q in data_only})} cases, "
        f"{int(np.mean([q['companies'] for q in data_only]))} companies per case on average"
    )
    print(
        "receiver division seen in other cases with the same EWC code / sub-chapter / chapter: "
        f"{cov['same_code']:.2f} / {cov['same_subchapter']:.2f} / {cov['same_chapter']:.2f}\n"
    )
    header = f"{'method':<62} {'level':<9}" + "".join(f"{'hit@' + str(k):>8}" for k in KS) + f"{'MRR':>8}"
    print(header)
    print("-" * len(header))
    for name, res in results.items():
        for level in ("company", "division"):
            m = res[level]
            print(
                f"{name:<62} {level:<9}" + "".join(f"{m[f'hit@{k}']:>8.3f}" for k in KS) + f"{m['mrr']:>8.3f}"
            )
    checks = {}
    if args.nested:
        for label, rules_on in (("data priors", False), ("data priors + curated rules", True)):
            checks[label] = nested(records, with_rules=rules_on)
        print("\nsettings chosen per test case from the other cases only (nested leave-one-case-out):")
        print(header)
        print("-" * len(header))
        for label, res in checks.items():
            for level in ("company", "division"):
                m = res["nested"][level]
                name = f"engine ({label}), nested choice"
                print(
                    f"{name:<62} {level:<9}"
                    + "".join(f"{m[f'hit@{k}']:>8.3f}" for k in KS)
                    + f"{m['mrr']:>8.3f}"
                )
        print("\ndivision hit@5 / MRR per setting (chosen on the whole set: optimistic):")
        for label, res in checks.items():
            for setting, summ in res["per_choice"].items():
                m = summ["division"]
                print(f"  {label:<28} {setting:<48} {m['hit@5']:.3f} / {m['mrr']:.3f}")
    report = {
        "benchmark": "match_quality",
        "date": args.date or datetime.now(UTC).date().isoformat(),
        "engine_version": ENGINE_VERSION,
        "data": {
            "csv": str(args.csv.relative_to(ROOT)) if args.csv.is_relative_to(ROOT) else str(args.csv),
            "queries": n,
            "cases": len({q["case"] for q in data_only}),
        },
        "protocol": __doc__.split('Protocol (issue "matching engine"):')[1].split("Writes")[0].strip(),
        "evaluation_config": {"min_score": 0.0, "min_prior": 0.0, "planned_rows_weight": PLANNED_WEIGHT},
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "platform": platform.platform(),
        },
        "results": results,
        "prior_settings": {"counterpart_division": DEFAULT_COUNTERPART_DIVISION, "backoff": DEFAULT_BACKOFF},
        "nested_choice_of_settings": checks or "not run (--nested)",
        "coverage_of_receiver_division_in_other_cases": cov,
        "per_query": {"data_priors": data_only, "data_priors_plus_rules": with_rules},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
