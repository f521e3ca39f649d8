"""Shared plumbing of the load tests (dashboard_load.py, api_load.py): a scratch database seeded with
the demo data and a full matching run, gunicorn on 127.0.0.1, logged-in sessions, closed-loop
worker threads and percentiles. Nothing here contacts anything but 127.0.0.1.
"""

from __future__ import annotations

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
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REGION = "SE22"

# The load is many requests from few accounts: the API throttle (1200/min per user by default) and
# the log-in limits (10/min per account) would answer 429. Rates this generous keep the throttle's
# code path (a cache round trip per API request) in the measurement without ever refusing.
GENEROUS_LIMITS = {
    "API_THROTTLE_USER": "1000000/min", "API_THROTTLE_ANON": "1000000/min",
    "RATELIMIT_AUTH_IP": "100000/m", "RATELIMIT_AUTH_ACCOUNT": "100000/m",
}


def bench_env(db_url: str, redis_url: str) -> dict:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": db_url, "REDIS_URL": redis_url, "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "true", "DEBUG": "false", "PYTHONPATH": str(ROOT),
        **GENEROUS_LIMITS,
    })
    return env


def manage(env: dict, *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env, cwd=ROOT)


def psql(db_url: str, sql: str, dbname: str | None = None) -> str:
    url = db_url if dbname is None else db_url.rsplit("/", 1)[0] + "/" + dbname
    out = subprocess.run(["psql", url, "-Atq", "-c", sql], check=True, capture_output=True, text=True)
    return out.stdout.strip()


# --- Data -----------------------------------------------------------------------------------------

def prepare_data(db_url: str, redis_url: str, streams: int, password: str) -> dict:
    """Migrate and seed the scratch database unless it already holds `streams` demo streams and
    matches; shape the funnel; set the demo users' password; ANALYZE. Returns counts and timings."""
    name = db_url.rsplit("/", 1)[1]
    if not psql(db_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'", "postgres"):
        psql(db_url, f'CREATE DATABASE "{name}"', "postgres")
    env = bench_env(db_url, redis_url)
    timings = {}
    manage(env, "migrate", "-v0")
    have = int(psql(db_url, "SELECT count(*) FROM streams_stream WHERE external_ref LIKE 'demo-s-%'") or 0)
    if have < streams:
        t = time.monotonic()
        manage(env, "seed_demo", "--streams", str(streams), "-v0")
        timings["seed_s"] = round(time.monotonic() - t, 1)
    if int(psql(db_url, "SELECT count(*) FROM matching_match") or 0) == 0:
        t = time.monotonic()
        manage(env, "run_matching", "--shards", "2", "-v0")
        timings["run_matching_s"] = round(time.monotonic() - t, 1)
    code = (
        "from benchmarks._load import shape_funnel; shape_funnel()\n"
        "from demo.services import set_demo_passwords; "
        f"set_demo_passwords({password!r})\n"
    )
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", code], check=True, env=env, cwd=ROOT)
    # What autovacuum does on a live database: bulk-loaded tables need statistics for good plans, and
    # the full run's finalise leaves as many dead rows in the match table as live ones (every index
    # scan walks their entries; index-only scans need the visibility map). Without this, a server
    # with autovacuum off measures a table no production database keeps.
    psql(db_url, "VACUUM (ANALYZE)")
    counts = {
        "streams": int(psql(db_url, "SELECT count(*) FROM streams_stream")),
        "companies": int(psql(db_url, "SELECT count(*) FROM companies_company")),
        "matches": int(psql(db_url, "SELECT count(*) FROM matching_match")),
        "realised_exchanges": int(psql(db_url, "SELECT count(*) FROM matching_realisedexchange")),
        "streams_in_region": int(psql(db_url, (
            "SELECT count(*) FROM streams_stream s JOIN companies_site t ON t.id = s.site_id "
            f"JOIN companies_region r ON r.id = t.region_id WHERE r.code = '{REGION}'"
        ))),
    }
    return {"counts": counts, "timings": timings}


def shape_funnel(seed: int = 5) -> None:
    """Idempotently move about 12 % of the matches along the funnel and record realised exchanges for
    most implemented ones; spread creation dates over 18 months (inside `manage.py shell`)."""
    from django.db import transaction

    from facilitation.models import RealisedExchange
    from matching.models import Match

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


def django_setup(db_url: str, redis_url: str) -> None:
    """Django in this process, on the scratch database (for in-process baselines)."""
    os.environ.update({"DATABASE_URL": db_url, "REDIS_URL": redis_url, "DJANGO_SETTINGS_MODULE": "symbiosis.settings"})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- Server ---------------------------------------------------------------------------------------

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


def flush_redis(redis_url: str) -> None:
    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=False, capture_output=True)


@contextmanager
def gunicorn(db_url: str, redis_url: str, *, workers: int, threads: int):
    """gunicorn (gthread, DEBUG off) on a free port of 127.0.0.1 with Redis flushed; yields the base
    URL and stops the server on exit."""
    env = bench_env(db_url, redis_url)
    settings_dir = tempfile.mkdtemp(prefix="loadbench-")
    Path(settings_dir, "loadbench_settings.py").write_text(
        "from symbiosis.settings import *  # noqa\n"
        "ALLOWED_HOSTS = ['127.0.0.1']\n"
    )
    env["PYTHONPATH"] = f"{settings_dir}{os.pathsep}{ROOT}"
    env["DJANGO_SETTINGS_MODULE"] = "loadbench_settings"
    flush_redis(redis_url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "symbiosis.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--worker-class", "gthread", "--workers", str(workers), "--threads", str(threads),
         "--log-level", "warning", "--timeout", "120"],
        env=env, cwd=ROOT,
    )
    try:
        _wait_for(f"{base}/accounts/login/")
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


# --- HTTP -----------------------------------------------------------------------------------------

class Session:
    """A logged-in browser session (cookies) against 127.0.0.1."""

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def login(self, username: str, password: str) -> Session:
        page = self.opener.open(f"{self.base}/accounts/login/", timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        data = urllib.parse.urlencode({"username": username, "password": password,
                                       "csrfmiddlewaretoken": token}).encode()
        req = urllib.request.Request(f"{self.base}/accounts/login/", data=data,
                                     headers={"Referer": f"{self.base}/accounts/login/"})
        self.opener.open(req, timeout=30).read()
        if not any(c.name == "sessionid" for c in self.jar):
            raise RuntimeError(f"login of {username} failed")
        return self

    def fetch(self, path: str) -> tuple[int, float, bytes]:
        t = time.perf_counter()
        try:
            with self.opener.open(f"{self.base}{path}", timeout=30) as r:
                body = r.read()
                status = r.status
        except urllib.error.HTTPError as exc:
            body, status = b"", exc.code
        return status, (time.perf_counter() - t) * 1000.0, body

    def get(self, path: str) -> tuple[int, float, int]:
        status, ms, body = self.fetch(path)
        return status, ms, len(body)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (k - lo), 1)


def summarise(values: list[float], errors: int, elapsed: float) -> dict:
    return {
        "requests": len(values), "errors": errors, "rps": round(len(values) / elapsed, 1) if elapsed else None,
        "p50_ms": pct(values, 50), "p95_ms": pct(values, 95), "p99_ms": pct(values, 99),
        "max_ms": round(max(values), 1) if values else None,
        "mean_ms": round(statistics.fmean(values), 1) if values else None,
    }


# One request of a user's loop: (endpoint name, path). `pick(user_index, n, rng)` chooses the n-th.
Pick = Callable[[int, int, random.Random], tuple[str, str]]


def closed_loop(sessions: list[Session], duration: float, pick: Pick, *, warmup: float = 0.0,
                seed: int = 1, think: tuple[float, float] = (0.0, 0.0),
                ) -> tuple[dict[str, list[float]], dict[str, int], dict[str, list[str]], float]:
    """Each session in its own thread requests `pick(...)`, waits a think time drawn uniformly from
    `think` seconds (none by default: back to back), and so on for `warmup + duration` seconds;
    requests started during the warm-up are not counted. A request is an error unless it answers
    200 with a body. Returns latencies and errors per endpoint name, a few error samples, and the
    measured seconds."""
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    samples: dict[str, list[str]] = defaultdict(list)
    lock = threading.Lock()
    begin = time.monotonic()
    measure_from = begin + warmup
    stop = measure_from + duration

    def worker(i: int, session: Session) -> None:
        rng = random.Random(seed * 1000 + i)
        n = 0
        while (started := time.monotonic()) < stop:
            name, path = pick(i, n, rng)
            n += 1
            status, ms, size = session.get(path)
            if started >= measure_from:
                with lock:
                    if status == 200 and size > 0:
                        results[name].append(ms)
                    else:
                        errors[name] += 1
                        if len(samples[name]) < 5:
                            samples[name].append(f"{status} {path}")
            if think[1] > 0:
                time.sleep(min(rng.uniform(*think), max(0.0, stop - time.monotonic())))

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - measure_from
    return results, errors, samples, elapsed


# --- Context --------------------------------------------------------------------------------------

PG_SETTINGS = ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost",
               "max_parallel_workers_per_gather")


def versions(db_url: str) -> dict:
    import django

    gunicorn_v = subprocess.run([sys.executable, "-m", "gunicorn", "--version"], capture_output=True, text=True)
    return {
        "python": platform.python_version(), "django": django.get_version(),
        "postgresql": psql(db_url, "SHOW server_version"),
        # The server settings that decide whether a region's match rows are read from PostgreSQL's own
        # buffers or copied in from the OS cache (README "Production": about a quarter of the RAM;
        # docker-compose.yml gives 512 MB).
        "postgresql_settings": {name: psql(db_url, f"SHOW {name}") for name in PG_SETTINGS},
        "gunicorn": (gunicorn_v.stdout or gunicorn_v.stderr).strip(),
        "redis": subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()
        if subprocess.run(["which", "redis-server"], capture_output=True).returncode == 0 else "",
    }


def emit(result: dict, path: Path, *, write: bool) -> None:
    """Print the result and, unless told not to, write it as JSON to `path`."""
    text = json.dumps(result, indent=2)
    print(text)
    if write:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")


def machine() -> dict:
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "processor": platform.processor()}
