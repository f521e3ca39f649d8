"""Engine-only speed benchmark: seeded synthetic streams around Baltic Sea industrial towns.

    .venv/bin/python benchmarks/engine_speed.py                 # 1k, 10k and 100k streams
    .venv/bin/python benchmarks/engine_speed.py --sizes 1000 10000 --naive-limit-s 600

Each size runs in its own subprocess so that peak RSS is measured per size. Measures: the phases of
``rank_candidates`` (index, candidates, scoring, top-K, materialising candidates, prospective), candidate
pairs per second, ``match_one`` for one new stream (median of 200), and the naive all-pairs reference at
1k and 10k with a check that both keep the same top-K. Writes ``benchmarks/results/engine_speed.json``.
The random generator is seeded here, never inside the engine.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matching.engine import (  # noqa: E402
    ENGINE_VERSION,
    CandidateIndex,
    CompanySpec,
    EngineConfig,
    StreamSpec,
    SubstitutionRule,
    learn_priors,
    load_maestri_exchanges,
    load_prior_rules,
    match_one,
    naive_rank,
    rank_columns,
    rank_index,
    rank_key,
)

SEED = 20240601
RESULTS = ROOT / "benchmarks" / "results" / "engine_speed.json"

# ~60 industrial towns around the Baltic Sea (lat, lon, relative weight).
TOWNS = [
    ("Malmö", 55.61, 13.00, 3),
    ("Helsingborg", 56.05, 12.69, 2),
    ("Landskrona", 55.87, 12.83, 1),
    ("Karlshamn", 56.17, 14.86, 1),
    ("Karlskrona", 56.16, 15.59, 1),
    ("Kalmar", 56.66, 16.36, 1),
    ("Oskarshamn", 57.26, 16.45, 1),
    ("Västervik", 57.76, 16.64, 1),
    ("Norrköping", 58.59, 16.18, 2),
    ("Nyköping", 58.75, 17.01, 1),
    ("Södertälje", 59.20, 17.63, 2),
    ("Stockholm", 59.33, 18.07, 4),
    ("Uppsala", 59.86, 17.64, 2),
    ("Gävle", 60.67, 17.14, 2),
    ("Sundsvall", 62.39, 17.31, 2),
    ("Örnsköldsvik", 63.29, 18.72, 1),
    ("Umeå", 63.83, 20.26, 2),
    ("Skellefteå", 64.75, 20.95, 1),
    ("Luleå", 65.58, 22.15, 2),
    ("Kemi", 65.74, 24.56, 1),
    ("Oulu", 65.01, 25.47, 2),
    ("Raahe", 64.68, 24.48, 1),
    ("Kokkola", 63.84, 23.13, 1),
    ("Vaasa", 63.10, 21.62, 1),
    ("Pori", 61.48, 21.80, 1),
    ("Rauma", 61.13, 21.51, 1),
    ("Turku", 60.45, 22.27, 2),
    ("Hanko", 59.82, 22.97, 1),
    ("Helsinki", 60.17, 24.94, 4),
    ("Porvoo", 60.39, 25.66, 1),
    ("Kotka", 60.47, 26.95, 1),
    ("Lappeenranta", 61.06, 28.19, 1),
    ("Tallinn", 59.44, 24.75, 3),
    ("Kunda", 59.50, 26.53, 1),
    ("Narva", 59.38, 28.19, 1),
    ("Pärnu", 58.39, 24.50, 1),
    ("Riga", 56.95, 24.11, 3),
    ("Ventspils", 57.39, 21.56, 1),
    ("Liepāja", 56.51, 21.01, 1),
    ("Klaipėda", 55.70, 21.14, 2),
    ("Kaunas", 54.90, 23.89, 2),
    ("Gdańsk", 54.35, 18.65, 3),
    ("Gdynia", 54.52, 18.53, 2),
    ("Elbląg", 54.16, 19.40, 1),
    ("Koszalin", 54.19, 16.17, 1),
    ("Szczecin", 53.43, 14.55, 2),
    ("Police", 53.55, 14.57, 1),
    ("Świnoujście", 53.91, 14.25, 1),
    ("Greifswald", 54.09, 13.38, 1),
    ("Stralsund", 54.31, 13.09, 1),
    ("Rostock", 54.09, 12.14, 2),
    ("Wismar", 53.89, 11.47, 1),
    ("Lübeck", 53.87, 10.69, 2),
    ("Kiel", 54.32, 10.14, 2),
    ("Flensburg", 54.79, 9.44, 1),
    ("Copenhagen", 55.68, 12.57, 4),
    ("Kalundborg", 55.68, 11.09, 1),
    ("Odense", 55.40, 10.39, 2),
    ("Aarhus", 56.16, 10.20, 2),
    ("Aalborg", 57.05, 9.92, 2),
]
NACE_CLASSES = [
    "0111",
    "0150",
    "1011",
    "1051",
    "1071",
    "1091",
    "1105",
    "1610",
    "1621",
    "1712",
    "2011",
    "2013",
    "2015",
    "2016",
    "2222",
    "2351",
    "2361",
    "2410",
    "2442",
    "2451",
    "2511",
    "2562",
    "2910",
    "3511",
    "3530",
    "3600",
    "3700",
    "3821",
    "3832",
    "4211",
]
EWC_CHAPTERS = ["02", "03", "06", "07", "10", "12", "15", "16", "17", "19", "20"]


def taxonomy(rng):
    """Synthetic taxonomy: 25 material families x 4 leaves (each with EWC codes), energy, water, assets."""
    cats = []  # (code, ancestors, kind, value_class, ewc codes)
    for f in range(25):
        chapter = EWC_CHAPTERS[f % len(EWC_CHAPTERS)]
        sub = f"{chapter}{(f // len(EWC_CHAPTERS)) + 1:02d}"
        vc = ["bulk_low", "bulk_low", "medium", "high"][f % 4]
        for leaf in range(4):
            code = f"MAT.F{f:02d}.L{leaf}"
            ewc = tuple(f"{sub}{leaf * 2 + k + 1:02d}" for k in range(1 + leaf % 2))
            cats.append((code, (f"MAT.F{f:02d}", "MAT"), "material", vc, ewc))
    for name, vc in (
        ("HEAT.LOW", "heat"),
        ("HEAT.MED", "heat"),
        ("STEAM.LP", "steam"),
        ("STEAM.HP", "steam"),
        ("BIOGAS", "energy_transportable"),
        ("CHIPS", "energy_transportable"),
    ):
        cats.append((f"ENE.{name}", ("ENE",), "energy", vc, ()))
    for name in ("PROCESS", "COOLING", "GREY", "TREATED"):
        cats.append((f"WAT.{name}", ("WAT",), "water", "water", ()))
    for name in ("LOGISTICS", "STORAGE", "LAB", "MACHINE", "CRANE"):
        cats.append((f"AST.{name}", ("AST",), "asset", "local_service", ()))
    for name in ("WASTE_MGMT", "ENERGY_AUDIT", "CHEMISTRY"):
        cats.append((f"EXP.{name}", ("EXP",), "expertise", "local_service", ()))
    mats = [c for c in cats if c[2] == "material"]
    rules = []
    for _ in range(40):
        a, b = rng.choice(len(mats), 2, replace=False)
        rules.append(
            SubstitutionRule(mats[a][0], mats[b][0], float(rng.choice([0.5, 0.7, 0.9])), "synthetic")
        )
    return cats, tuple(rules)


def generate(n_streams: int, seed: int = SEED, id_offset: int = 0, companies=None):
    """Seeded, clustered synthetic streams (and companies: about one per 4 streams)."""
    rng = np.random.default_rng(seed)
    cats, rules = taxonomy(np.random.default_rng(seed - 1))
    weights = np.array([t[3] for t in TOWNS], dtype=float)
    weights /= weights.sum()
    if companies is None:
        n_comp = max(10, n_streams // 4)
        towns = rng.choice(len(TOWNS), n_comp, p=weights)
        companies = []
        for cid in range(n_comp):
            t = TOWNS[towns[cid]]
            # ~5 km scatter around the town centre
            lat = t[1] + rng.normal(0, 0.045)
            lon = t[2] + rng.normal(0, 0.045 / np.cos(np.radians(t[1])))
            cls = NACE_CLASSES[rng.integers(len(NACE_CLASSES))]
            companies.append(CompanySpec(cid, cls[:2], cls, float(lat), float(lon)))
    kind_p = {"material": 0.70, "energy": 0.14, "water": 0.10, "asset": 0.04, "expertise": 0.02}
    by_kind = {k: [c for c in cats if c[2] == k] for k in kind_p}
    kinds = rng.choice(list(kind_p), n_streams, p=list(kind_p.values()))
    streams = []
    for i in range(n_streams):
        comp = companies[rng.integers(len(companies))]
        kind = str(kinds[i])
        code, anc, _k, vc, ewc = by_kind[kind][rng.integers(len(by_kind[kind]))]
        direction = "offer" if rng.random() < 0.5 else "need"
        if direction == "need" and kind == "material" and rng.random() < 0.3:
            code, anc = anc[0], anc[1:]  # a broader need: "any MAT.F07"
            ewc = tuple(sorted({e[:4] + "01" for e in ewc} | set(ewc)))
        months = 0
        if rng.random() < 0.25:
            start, length = int(rng.integers(12)), int(rng.integers(3, 9))
            months = sum(1 << ((start + k) % 12) for k in range(length))
        temp = float(rng.uniform(40, 160)) if kind == "energy" else None
        wq = int(rng.integers(1, 5)) if kind == "water" else None
        streams.append(
            StreamSpec(
                id=id_offset + i,
                company_id=comp.id,
                direction=direction,
                kind=kind,
                category=code,
                category_ancestors=anc,
                ewc_codes=ewc,
                quantity_yearly=float(rng.lognormal(4.5, 1.5)),
                lat=comp.lat,
                lon=comp.lon,
                months=months,
                temperature_c=temp if direction == "offer" or rng.random() < 0.7 else None,
                water_quality=wq,
                form=("powder", "granular", "solid", "sludge", "liquid", None)[rng.integers(6)]
                if kind == "material"
                else None,
                hazardous=bool(rng.random() < 0.05),
                accepts_hazardous=bool(rng.random() < 0.2),
                price_eur_per_unit=float(rng.uniform(0, 60)) if rng.random() < 0.4 else None,
                disposal_cost_eur_per_unit=float(rng.uniform(0, 120)) if rng.random() < 0.4 else None,
                max_transport_km=float(rng.uniform(10, 200)) if rng.random() < 0.1 else None,
                value_class=vc,
                nace_division=comp.nace_division,
                nace_class=comp.nace_class,
                disposal_route=("landfill", "incineration", "recycling", None)[rng.integers(4)],
            )
        )
    return streams, companies, rules


def run_fast(streams, companies, rules, priors, config):
    """rank_candidates split into phases: the engine takes the clock as an argument and reports the
    seconds per phase, the exact scoring inside the search among them."""
    t0 = time.perf_counter()
    index = CandidateIndex(streams, config=config, rules=rules, companies=companies, priors=priors)
    index_s = time.perf_counter() - t0
    stats: dict = {}
    result = rank_index(index, stats=stats, clock=time.perf_counter)
    ph = stats["phases_s"]
    t = {
        "index_s": index_s,
        "candidates_s": ph["search"] - stats["scoring_s"],
        "scoring_s": stats["scoring_s"],
        "top_k_s": ph["top_k"],
        "prospective_s": ph["prospective"],
        "materialise_declared_s": ph["materialise_declared"],
        "materialise_prospective_s": ph["materialise_prospective"],
        "order_s": ph["order"],
    }
    t["total_s"] = sum(t.values())
    counts = {
        "offers": int(index.offers.n),
        "needs": int(index.needs.n),
        "companies": len(companies),
        "candidate_pairs": int(stats["pairs_found"]),
        "scored_pairs": int(stats["pairs_scored"]),
        "anchors_capped": int(stats.get("anchors_capped", 0)),
        "declared_kept": int(stats["declared_kept"]),
        "prospective_kept": int(stats["prospective_kept"]),
        "candidate_pairs_per_s": float(stats["pairs_found"] / max(1e-9, ph["search"])),
    }
    return result, t, counts, index


def per_anchor_top(result, k, kp):
    """Each offer's own top-K declared needs and top prospective companies (and the same for needs)."""
    out = {}
    for c in result:
        if c.prospective:
            anchor = ("o", c.offer_id) if c.offer_id is not None else ("n", c.need_id)
            out.setdefault(anchor + ("p",), []).append(c)
        else:
            out.setdefault(("o", c.offer_id, "d"), []).append(c)
            out.setdefault(("n", c.need_id, "d"), []).append(c)
    tops = {}
    for key, cs in out.items():
        counter = (lambda c: c.need_id) if key[0] == "o" else (lambda c: c.offer_id)
        if key[2] == "p":
            counter = lambda c: c.target_company_id if c.offer_id is not None else c.source_company_id  # noqa: E731
        cs = sorted(cs, key=lambda c: (-rank_key(c.score, 12), counter(c)))[: (k if key[2] == "d" else kp)]
        tops[key] = [(counter(c), round(c.score, 9)) for c in cs]
    return tops


def one_size(n: int, naive_limit_s: float) -> dict:
    config = EngineConfig()
    priors = learn_priors(
        load_maestri_exchanges(),
        rules=load_prior_rules(),
    )
    streams, companies, rules = generate(n)
    result, phases, counts, index = run_fast(streams, companies, rules, priors, config)
    out = {"streams": n, "phases_s": phases, **counts, "matches_returned": len(result)}
    # The full run's path: the same matches as NumPy columns (numbers only, no objects); same index.
    t0 = time.perf_counter()
    columns = rank_columns(index)
    out["rank_columns_s"] = time.perf_counter() - t0
    # Every row, in order (ids start at 0 here: an absent side is None in objects, -1 in columns).
    out["rank_columns_same_rows"] = len(columns) == len(result) and [
        (-1 if c.offer_id is None else c.offer_id, -1 if c.need_id is None else c.need_id, c.source_company_id,
         c.target_company_id) for c in result
    ] == list(zip(*(columns[k].tolist() for k in ("offer_id", "need_id", "source_company_id", "target_company_id")),
                  strict=True))
    t0 = time.perf_counter()
    index.warm()
    out["index_warm_s"] = time.perf_counter() - t0  # remaining KD-trees for match_one

    # match_one: 200 new streams against the index of n streams (median, p95)
    new, _, _ = generate(200, seed=SEED + 7, id_offset=10**9, companies=companies)
    match_one(new[0], index)  # warm-up
    times = []
    for s in new:
        t0 = time.perf_counter()
        match_one(s, index)
        times.append(time.perf_counter() - t0)
    times.sort()
    out["match_one_ms"] = {
        "median": 1000 * float(np.median(times)),
        "p95": 1000 * times[int(0.95 * len(times))],
        "max": 1000 * times[-1],
        "n": len(times),
    }

    if n <= 10_000:
        offers = [s for s in streams if s.direction == "offer"]
        needs = [s for s in streams if s.direction == "need"]
        # Time a fixed sample of offers first and extrapolate: the all-pairs declared loop costs about
        # the same per offer, and the prospective loop about the same per stream (offer or need).
        rng = np.random.default_rng(SEED + 1)
        sample = [offers[i] for i in sorted(rng.choice(len(offers), min(100, len(offers)), replace=False))]
        t0 = time.perf_counter()
        naive_rank(sample, needs, config=config, rules=rules)
        per_offer = (time.perf_counter() - t0) / len(sample)
        t0 = time.perf_counter()
        naive_rank(sample, [], config=config, rules=rules, companies=companies, priors=priors)
        per_stream = (time.perf_counter() - t0) / len(sample)
        estimate = per_offer * len(offers) + per_stream * (len(offers) + len(needs))
        naive = {"estimate_from_sample_s": estimate, "sample_offers": len(sample)}
        if estimate <= naive_limit_s:
            t0 = time.perf_counter()
            ref = naive_rank(offers, needs, config=config, rules=rules, companies=companies, priors=priors)
            naive["measured_s"] = time.perf_counter() - t0
            naive["extrapolated"] = False
            fast_tops = per_anchor_top(result, config.top_k, config.prospective_top_k)
            ref_tops = per_anchor_top(ref, config.top_k, config.prospective_top_k)
            naive["same_top_k"] = fast_tops == ref_tops
            naive["same_output_pairs"] = [
                (c.offer_id, c.need_id, c.source_company_id, c.target_company_id) for c in result
            ] == [(c.offer_id, c.need_id, c.source_company_id, c.target_company_id) for c in ref]
            naive["max_abs_score_diff"] = max(
                (abs(a.score - b.score) for a, b in zip(result, ref, strict=False)), default=0.0
            )
        else:
            naive["measured_s"] = None
            naive["extrapolated"] = True
            naive["note"] = (
                f"full naive loop estimated at {estimate:.0f} s > limit {naive_limit_s:.0f} s: "
                "time extrapolated from the sample; top-K check done on the sampled offers only"
            )
            ref = naive_rank(sample, needs, config=config, rules=rules, companies=companies, priors=priors)
            ids = {s.id for s in sample}
            fast_tops = {
                k: v
                for k, v in per_anchor_top(result, config.top_k, config.prospective_top_k).items()
                if k[0] == "o" and k[1] in ids
            }
            ref_tops = {
                k: v
                for k, v in per_anchor_top(ref, config.top_k, config.prospective_top_k).items()
                if k[0] == "o"
            }
            naive["same_top_k"] = fast_tops == ref_tops
        naive_s = naive["measured_s"] if naive["measured_s"] is not None else estimate
        naive["speedup_vs_fast_total"] = naive_s / phases["total_s"]
        out["naive"] = naive
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--naive-limit-s", type=float, default=600.0)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size, print JSON
    ap.add_argument("--out", type=Path, default=RESULTS)
    ap.add_argument("--date", default=None, help="ISO date to record (default: today, UTC)")
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(one_size(args.one, args.naive_limit_s)))
        return 0
    runs = []
    for n in args.sizes:
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(n), "--naive-limit-s", str(args.naive_limit_s)],
            capture_output=True,
            text=True,
            check=True,
        )
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["wall_s_including_generation"] = time.perf_counter() - t0
        runs.append(res)
        p = res["phases_s"]
        line = (
            f"{n:>7} streams: rank_candidates {p['total_s']:.2f} s (index {p['index_s']:.2f}, candidates "
            f"{p['candidates_s']:.2f}, scoring {p['scoring_s']:.2f}, top-K {p['top_k_s']:.2f}, prospective "
            f"{p['prospective_s']:.2f}, building candidates {p['materialise_declared_s']:.2f}"
            f"+{p['materialise_prospective_s']:.2f}, order {p['order_s']:.2f}); {res['candidate_pairs']:,} "
            f"candidate pairs ({res['candidate_pairs_per_s']:,.0f}/s); match_one median "
            f"{res['match_one_ms']['median']:.2f} ms; as columns (full-run path) {res['rank_columns_s']:.2f} s; "
            f"peak RSS {res['peak_rss_mb']:.0f} MB"
        )
        if "naive" in res:
            nv = res["naive"]
            naive_s = nv["measured_s"] if nv["measured_s"] is not None else nv["estimate_from_sample_s"]
            line += (
                f"; naive {naive_s:.1f} s{' (extrapolated)' if nv['extrapolated'] else ''}, "
                f"speed-up {nv['speedup_vs_fast_total']:.0f}x, same top-K: {nv['same_top_k']}"
            )
        print(line, flush=True)
    report = {
        "benchmark": "engine_speed",
        "date": args.date or datetime.now(UTC).date().isoformat(),
        "engine_version": ENGINE_VERSION,
        "seed": SEED,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": __import__("os").cpu_count(),
        },
        "config": {
            "top_k": EngineConfig().top_k,
            "prospective_top_k": EngineConfig().prospective_top_k,
            "min_score": EngineConfig().min_score,
        },
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
