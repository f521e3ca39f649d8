"""Load test of the regional dashboard page and its API at 100k streams, 20 concurrent users.

    .venv/bin/python benchmarks/dashboard_load.py                   # seed if needed, 60 s, 20 users
    .venv/bin/python benchmarks/dashboard_load.py --duration 30 --users 20 --streams 100000

1. A scratch database `symbiosis_dashbench` (override with BENCH_DATABASE_URL) is migrated and seeded
   with `seed_demo --streams N` and a full `run_matching`, unless it already holds N demo streams and
   matches; then a fixed share of matches is moved along the funnel (seeded RNG) and realised
   exchanges are recorded, so that every block of the dashboard has data; then ANALYZE (as
   autovacuum would on a live database).
2. gunicorn serves the project on 127.0.0.1 (gthread, 3 workers x 4 threads; DEBUG off), with Redis db 7 as
   the cache (override with BENCH_REDIS_URL).
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
import http.cookiejar
import json
import os
import platform
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "dashboard_load.json"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/symbiosis_dashbench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
REGION = "SE22"
USER = "demo-authority"
PASSWORD = "dashbench-local-only"  # noqa: S105 (a scratch database on 127.0.0.1)
TARGET_P95_MS = 300.0


def _env(db_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": db_url, "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "true", "DEBUG": "false", "PYTHONPATH": str(ROOT),
    })
    return env


def _manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def _psql(db_url: str, sql: str, dbname: str | None = None) -> str:
    url = db_url if dbname is None else db_url.rsplit("/", 1)[0] + "/" + dbname
    out = subprocess.run(["psql", url, "-Atq", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# --- Data -----------------------------------------------------------------------------------------

def prepare_data(db_url: str, redis_url: str, streams: int) -> dict:
    name = db_url.rsplit("/", 1)[1]
    if not _psql(db_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'", "postgres"):
        _psql(db_url, f'CREATE DATABASE "{name}"', "postgres")
    env = _env(db_url, redis_url)
    timings = {}
    t = time.monotonic()
    _manage(env, "migrate", "-v0")
    have = int(_psql(db_url, "SELECT count(*) FROM streams_stream WHERE external_ref LIKE 'demo-s-%'") or 0)
    if have < streams:
        t = time.monotonic()
        _manage(env, "seed_demo", "--streams", str(streams), "-v0")
        timings["seed_s"] = round(time.monotonic() - t, 1)
    if int(_psql(db_url, "SELECT count(*) FROM matching_match") or 0) == 0:
        t = time.monotonic()
        _manage(env, "run_matching", "--shards", "2", "-v0")
        timings["run_matching_s"] = round(time.monotonic() - t, 1)
    code = (
        "from benchmarks.dashboard_load import shape_funnel; shape_funnel()\n"
        "from companies.demo import set_demo_passwords; "
        f"set_demo_passwords({PASSWORD!r})\n"
    )
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", code], check=True, env=env, cwd=ROOT)
    # What autovacuum does on a live database: bulk-loaded tables need statistics for good plans.
    _psql(db_url, "ANALYZE")
    counts = {
        "streams": int(_psql(db_url, "SELECT count(*) FROM streams_stream")),
        "companies": int(_psql(db_url, "SELECT count(*) FROM companies_company")),
        "matches": int(_psql(db_url, "SELECT count(*) FROM matching_match")),
        "realised_exchanges": int(_psql(db_url, "SELECT count(*) FROM matching_realisedexchange")),
        "streams_in_region": int(_psql(db_url, (
            "SELECT count(*) FROM streams_stream s JOIN companies_site t ON t.id = s.site_id "
            f"JOIN companies_region r ON r.id = t.region_id WHERE r.code = '{REGION}'"
        ))),
    }
    return {"counts": counts, "timings": timings}


def shape_funnel(seed: int = 5) -> None:
    """Idempotently move about 12 % of the matches along the funnel and record realised exchanges for
    most implemented ones; spread creation dates over 18 months (inside `manage.py shell`)."""
    from django.db import transaction

    from matching.models import Match, RealisedExchange

    if RealisedExchange.objects.exists():
        return
    rng = random.Random(seed)
    statuses = ("under_review", "approved", "introduced", "negotiating", "implemented", "rejected", "declined",
                "withdrawn")
    now = datetime.now(UTC)
    with transaction.atomic():
        ids = list(Match.objects.order_by("pk").values_list("pk", "exchangeable_yearly", "unit"))
        moves: dict[str, list[int]] = defaultdict(list)
        realised = []
        for pk, qty, unit in ids:
            if rng.random() < 0.12:
                status = rng.choice(statuses)
                moves[status].append(pk)
                if status == "implemented" and rng.random() < 0.8:
                    realised.append(RealisedExchange(
                        match_id=pk, started_on=date.today() - timedelta(days=rng.randrange(0, 500)),
                        quantity_yearly=max(1.0, (qty or 1.0) * 0.8), unit=unit or "t",
                        co2e_t=rng.uniform(0, 300), diverted_t=rng.uniform(0, 900),
                        eur_provider=rng.uniform(-2000, 40000), eur_receiver=rng.uniform(0, 30000),
                        water_m3=rng.uniform(0, 5000) if unit == "m3" else 0.0,
                        energy_mwh=rng.uniform(0, 2000) if unit == "MWh" else 0.0,
                    ))
        for status, pks in moves.items():
            for i in range(0, len(pks), 5000):
                Match.objects.filter(pk__in=pks[i:i + 5000]).update(status=status)
        RealisedExchange.objects.bulk_create(realised, batch_size=2000)
        for days in range(0, 540, 30):
            Match.objects.filter(pk__in=[pk for pk, *_ in ids if pk % 18 == days // 30]).update(
                created_at=now - timedelta(days=days))


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


# --- HTTP -----------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()  # noqa: S310 (127.0.0.1 only)
            return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer at {url}")


class Session:
    """A logged-in browser session (cookies) against 127.0.0.1."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def login(self, username: str, password: str) -> None:
        page = self.opener.open(f"{self.base}/accounts/login/", timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": token}).encode()
        req = urllib.request.Request(f"{self.base}/accounts/login/", data=data,
                                     headers={"Referer": f"{self.base}/accounts/login/"})
        self.opener.open(req, timeout=30).read()
        if not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError("login failed")

    def get(self, path: str) -> tuple[int, float, int]:
        t = time.perf_counter()
        try:
            with self.opener.open(f"{self.base}{path}", timeout=30) as r:
                body = r.read()
                status = r.status
        except urllib.error.HTTPError as exc:
            body, status = b"", exc.code
        return status, (time.perf_counter() - t) * 1000.0, len(body)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 1)


def run_load(base: str, users: int, duration: float, paths: dict[str, str]) -> dict:
    sessions = []
    for _ in range(users):
        s = Session(base)
        s.login(USER, PASSWORD)
        sessions.append(s)
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def worker(i: int, session: Session) -> None:
        names = list(paths)
        n = i
        while time.monotonic() < stop:
            name = names[n % len(names)]
            n += 1
            status, ms, size = session.get(paths[name])
            with lock:
                if status == 200 and size > 0:
                    results[name].append(ms)
                else:
                    errors[name] += 1

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(sessions)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    out = {}
    every = []
    for name in paths:
        values = results[name]
        every += values
        out[name] = {
            "requests": len(values), "errors": errors[name], "rps": round(len(values) / elapsed, 1),
            "p50_ms": _pct(values, 50), "p95_ms": _pct(values, 95), "p99_ms": _pct(values, 99),
            "max_ms": round(max(values), 1) if values else None,
            "mean_ms": round(statistics.fmean(values), 1) if values else None,
        }
    out["all"] = {
        "requests": len(every), "errors": sum(errors.values()), "rps": round(len(every) / elapsed, 1),
        "p50_ms": _pct(every, 50), "p95_ms": _pct(every, 95), "p99_ms": _pct(every, 99),
    }
    out["elapsed_s"] = round(elapsed, 1)
    return out


# --- Main -----------------------------------------------------------------------------------------

def _versions(db_url: str) -> dict:
    import django

    gunicorn = subprocess.run([sys.executable, "-m", "gunicorn", "--version"], capture_output=True, text=True)
    return {
        "python": platform.python_version(), "django": django.get_version(),
        "postgresql": _psql(db_url, "SHOW server_version"),
        "gunicorn": (gunicorn.stdout or gunicorn.stderr).strip(),
        "redis": subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
        if subprocess.run(["which", "redis-server"], capture_output=True).returncode == 0 else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)

    data = prepare_data(db_url, redis_url, args.streams)
    env = _env(db_url, redis_url)
    settings_dir = tempfile.mkdtemp(prefix="dashbench-")
    Path(settings_dir, "dashbench_settings.py").write_text(
        "from symbiosis.settings import *  # noqa\n"
        "ALLOWED_HOSTS = ['127.0.0.1']\n"
    )
    env["PYTHONPATH"] = f"{settings_dir}{os.pathsep}{ROOT}"
    env["DJANGO_SETTINGS_MODULE"] = "dashbench_settings"
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=False, capture_output=True)

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "symbiosis.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", str(args.workers), "--threads", str(args.threads),
         "--log-level", "warning", "--timeout", "120"],
        env=env, cwd=ROOT,
    )
    try:
        _wait_for(f"{base}/accounts/login/")
        paths = {"page": f"/dashboards/{REGION}/", "api": f"/api/v1/dashboards/{REGION}/"}
        probe = Session(base)
        probe.login(USER, PASSWORD)
        cold = {}
        for name, path in paths.items():
            subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=False, capture_output=True)
            status, ms, size = probe.get(path)
            cold[name] = {"status": status, "ms": round(ms, 1), "bytes": size}
        for path in paths.values():  # warm the cache of every worker's view of it (one shared Redis)
            probe.get(path)

        os.environ.update({"DATABASE_URL": db_url, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "symbiosis.settings"})
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        t = time.perf_counter()
        naive = naive_key_figures(REGION)
        naive_ms = (time.perf_counter() - t) * 1000.0
        from companies.models import Region
        from matching.dashboards import build

        t = time.perf_counter()
        build.summaries([Region.objects.get(code=REGION)])
        aggregated_ms = (time.perf_counter() - t) * 1000.0

        load = run_load(base, args.users, args.duration, paths)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()

    result = {
        "benchmark": "dashboard_load",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/dashboard_load.py " + " ".join(sys.argv[1:]),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor()},
        "versions": _versions(db_url),
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
    print(json.dumps(result, indent=2))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
