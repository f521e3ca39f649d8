"""Load test of the regional dashboard page and its API at 100k streams, 20 concurrent users.

    .venv/bin/python benchmarks/dashboard_load.py                   # seed if needed, 60 s, 20 users
    .venv/bin/python benchmarks/dashboard_load.py --duration 30 --users 20 --streams 100000

1. A scratch database `symbiosis_dashbench` (override with BENCH_DATABASE_URL) is migrated and seeded
   with `seed_demo --streams N` and a full `run_matching`, unless it already holds N demo streams and
   matches; then a fixed share of matches is moved along the funnel (seeded RNG) and realised
   exchanges are recorded, so that every block of the dashboard has data; then ANALYZE (as
   autovacuum would on a live database).
2. gunicorn serves the project on 127.0.0.1 (5 worker processes of one thread, as in production;
   DEBUG off), with Redis db 7 as the cache (override with BENCH_REDIS_URL).
3. One cold request per endpoint with Redis flushed (the page first: the full database
   aggregation; the API may reuse the dashboard a worker keeps in memory), then a
   naive baseline in this process: the same key figures computed by iterating rows in Python
   without database aggregation, timed once.
4. 20 threads, each with its own logged-in session of the SE22 authority, request the dashboard
   page and its API alternately for `--duration` seconds (closed loop, no think time). Latencies
   p50/p95/p99, throughput and errors per endpoint.
Only 127.0.0.1 is contacted; gunicorn is stopped at the end. Writes
benchmarks/results/dashboard_load.json with machine and versions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._load import (  # noqa: E402
    REGION,
    ROOT,
    Session,
    closed_loop,
    django_setup,
    emit,
    flush_redis,
    gunicorn,
    machine,
    prepare_data,
    summarise,
    versions,
)

RESULTS = ROOT / "benchmarks" / "results" / "dashboard_load.json"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/symbiosis_dashbench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
USER = "demo-authority"
PASSWORD = "dashbench-local-only"  # noqa: S105 (a scratch database on 127.0.0.1)
TARGET_P95_MS = 300.0


# --- Naive baseline -------------------------------------------------------------------------------

def naive_key_figures(region_code: str) -> dict:
    """The companies, listings and funnel blocks computed by loading rows and looping in Python."""
    from companies.models import Site
    from matching.models import Match
    from streams.models import Stream

    sites = list(Site.objects.values_list("company_id", "region_id", "region__code", "company__is_sme"))
    rid = next(r for _, r, code, _ in sites if code == region_code)
    company_regions = defaultdict(set)
    companies, smes = set(), set()
    for company, region, _, sme in sites:
        company_regions[company].add(region)
        if region == rid:
            companies.add(company)
            if sme:
                smes.add(company)
    streams = {s[0]: s for s in Stream.objects.values_list(
        "pk", "company_id", "site__region_id", "direction", "kind", "category_id", "quantity_yearly", "status")}
    matches = list(Match.objects.values_list("pk", "offer_id", "need_id", "source_company_id", "target_company_id",
                                             "status"))
    live_offer, live_need = set(), set()
    funnel = defaultdict(lambda: [0, set()])
    for _pk, offer, need, src, tgt, status in matches:
        if status not in ("rejected", "declined", "withdrawn") and offer and need:
            live_offer.add(offer)
            live_need.add(need)
        regions = set()
        regions |= {streams[offer][2]} if offer else company_regions[src]
        regions |= {streams[need][2]} if need else company_regions[tgt]
        if rid in regions:
            for key in ("all", status):
                funnel[key][0] += 1
                funnel[key][1] |= {src, tgt}
    listings = defaultdict(lambda: [0, 0.0, set(), 0, 0.0])
    for _pk, company, region, direction, kind, category, qty, status in streams.values():
        if region != rid or status != "active":
            continue
        matched = _pk in (live_offer if direction == "offer" else live_need)
        for key in (direction, (direction, kind), (direction, kind, category)):
            row = listings[key]
            row[0] += 1
            row[1] += qty or 0.0
            row[2].add(company)
            if not matched:
                row[3] += 1
                row[4] += qty or 0.0
    return {"companies": len(companies), "smes": len(smes), "listing_rows": len(listings),
            "funnel_all": funnel["all"][0]}


# --- Load -----------------------------------------------------------------------------------------

def run_load(base: str, users: int, duration: float, paths: dict[str, str]) -> dict:
    sessions = [Session(base).login(USER, PASSWORD) for _ in range(users)]
    names = list(paths)
    results, errors, _samples, elapsed = closed_loop(
        sessions, duration, lambda i, n, rng: (names[(i + n) % len(names)], paths[names[(i + n) % len(names)]]))
    out = {name: summarise(results[name], errors[name], elapsed) for name in paths}
    every = [ms for name in paths for ms in results[name]]
    total = summarise(every, sum(errors.values()), elapsed)
    out["all"] = {k: total[k] for k in ("requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms")}
    out["elapsed_s"] = round(elapsed, 1)
    return out


# --- Main -----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=5, help="as production: 2 x cores + 1 (Dockerfile)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)

    data = prepare_data(db_url, redis_url, args.streams, PASSWORD)
    with gunicorn(db_url, redis_url, workers=args.workers, threads=args.threads) as base:
        paths = {"page": f"/dashboards/{REGION}/", "api": f"/api/v1/dashboards/{REGION}/"}
        probe = Session(base).login(USER, PASSWORD)
        cold = {}
        for name, path in paths.items():
            flush_redis(redis_url)
            status, ms, size = probe.get(path)
            cold[name] = {"status": status, "ms": round(ms, 1), "bytes": size}
        for path in paths.values():  # warm the cache of every worker's view of it (one shared Redis)
            probe.get(path)

        django_setup(db_url, redis_url)
        t = time.perf_counter()
        naive = naive_key_figures(REGION)
        naive_ms = (time.perf_counter() - t) * 1000.0
        from companies.models import Region
        from dashboards import build

        t = time.perf_counter()
        build.summaries([Region.objects.get(code=REGION)])
        aggregated_ms = (time.perf_counter() - t) * 1000.0

        load = run_load(base, args.users, args.duration, paths)

    result = {
        "benchmark": "dashboard_load",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/dashboard_load.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "versions": versions(db_url),
        "dataset": data,
        "config": {
            "region": REGION, "users": args.users, "duration_s": args.duration, "think_time_s": 0,
            "server": f"gunicorn gthread {args.workers} workers x {args.threads} threads, 127.0.0.1",
            "cache": "suppressed figures, page body and API JSON cached per region on Redis with the data version, "
                     "stale-while-revalidate after 60 s; per-process memo in front",
            "paths": paths,
        },
        "cold_request_empty_cache": {
            **cold,
            "note": "the page first, on a fresh server with Redis flushed: the full computation of the region; "
                    "then the API with Redis flushed again, but the worker that computed the page may still hold "
                    "the dashboard in process memory (then only its JSON is made)",
        },
        "baseline": {
            "naive_python_key_figures_ms": round(naive_ms, 1),
            "db_aggregated_key_figures_ms": round(aggregated_ms, 1),
            "naive_result": naive,
            "note": "the same key-figure blocks (companies, listings, funnel) for one region: rows loaded and "
                    "looped in Python versus grouped in the database; timed once each, in-process",
        },
        "load": load,
        "target": {"p95_ms": TARGET_P95_MS, "met": bool(load["all"]["p95_ms"] <= TARGET_P95_MS
                                                        and load["all"]["errors"] == 0)},
    }
    emit(result, RESULTS, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
