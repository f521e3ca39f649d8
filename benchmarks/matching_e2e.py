"""End-to-end matching benchmark on PostgreSQL: seeded demo data at 1k / 10k / 100k streams.

    .venv/bin/python benchmarks/matching_e2e.py                     # 1000 10000 100000
    .venv/bin/python benchmarks/matching_e2e.py --sizes 1000 10000

For each size, in a fresh subprocess (so peak RSS is per size) and a scratch database
`symbiosis_bench` (dropped and re-created; override with BENCH_DATABASE_URL):
  1. `seed_demo --streams N` (clustered around real industrial towns; not timed as matching);
  2. a full run through the services the Celery tasks call: two warm shard processes in parallel (as
     two running workers take them; each loads, ranks and stages its part with binary COPY), then
     finalise; wall time from "go" to the swapped-in result, phases from the MatchingRun row and the peak RSS of a shard process; plus the engine
     phases (search / top-K / prospective and impact / order) of one extra in-process ranking;
  3. a rerun, checking the match set is identical (idempotent, no duplicates);
  4. one new stream end to end: POST /api/v1/streams/ (tasks in-process) until its match rows are
     visible, median of 20, and the engine part alone (`match_one`).
The naive all-pairs baseline and its top-K check are in benchmarks/engine_speed.py (engine-only).
Writes benchmarks/results/matching_e2e.json with machine and versions.

Only step 4, against an already seeded database (seeded and fully matched once when it does not
hold N seeded streams; the bench streams and users of earlier runs are removed first):

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/symbiosis_bench_os \
        .venv/bin/python benchmarks/matching_e2e.py --one-stream-only --keep-db --sizes 100000

prints the median and p90 and where the time goes per request (create, dispatch, the run's own
phases, close); `--profile FILE` adds a cProfile of the timed requests, `--queries` the SQL of one.
Writes benchmarks/results/matching_e2e_one_stream.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "matching_e2e.json"
ONE_STREAM_RESULTS = ROOT / "benchmarks" / "results" / "matching_e2e_one_stream.json"
BENCH_TITLE = "bench need"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/symbiosis_bench"


def _psql(db_url: str, sql: str) -> None:
    base = db_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", base, "-q", "-c", sql], check=True, capture_output=True)


def _setup_django(db_url: str, *, eager: bool) -> None:
    """Django on the benchmark database; `eager` runs Celery tasks in-process (no broker), as the
    one-stream measurements do. A shard process is a worker and needs neither."""
    os.environ["DATABASE_URL"] = db_url
    if eager:
        os.environ.pop("REDIS_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
        os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symbiosis.settings")
    import django

    django.setup()


def run_size(n: int, db_url: str) -> dict:
    _setup_django(db_url, eager=True)
    from django.core.management import call_command
    from django.db import connection

    from matching import engine
    from matching.choices import RunKind, RunStatus
    from matching.models import Match, MatchingRun
    from matching.services import (
        engine_config,
        engine_priors,
        engine_rules,
        load_companies,
        load_specs,
        matchable_streams,
        matching_run_finalise,
    )

    call_command("migrate", verbosity=0)
    t = time.perf_counter()
    call_command("seed_demo", streams=n, verbosity=0)
    seed_s = time.perf_counter() - t
    with connection.cursor() as cur:
        cur.execute("ANALYZE")

    def full_run():
        """Two shard processes in parallel (as two Celery workers on this 2-core machine would run
        them), then the finalise step; wall time from start to the swapped-in result."""
        run = MatchingRun.objects.create(kind=RunKind.FULL, shards_total=2, status=RunStatus.RUNNING)
        procs = [subprocess.Popen([sys.executable, __file__, "--shard", str(run.pk), str(i)], cwd=ROOT,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for i in range(2)]
        for p in procs:  # warm workers: Django set up, code imported, priors learned
            assert p.stdout.readline().strip() == "ready"
        t0 = time.perf_counter()
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        # A worker reports the shard done and takes its next task; it does not exit. So the clock
        # reads each shard's "done" line, and the processes' exit is waited for after the clock stops.
        rss = [json.loads(p.stdout.readline())["peak_rss_mb"] for p in procs]
        run.refresh_from_db()
        run = matching_run_finalise(run=run)
        elapsed = time.perf_counter() - t0
        for p in procs:
            p.communicate()
        assert all(p.returncode == 0 for p in procs)
        return run, elapsed, max(rss)

    run, total, shard_rss = full_run()
    first = set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id", "score"))
    rss_before_engine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    run2, total2, shard_rss2 = full_run()
    second = set(Match.objects.values_list("offer_id", "need_id", "source_company_id", "target_company_id", "score"))

    # Engine phase breakdown of the same data, in-process (what the shards spend inside "rank").
    specs = load_specs(matchable_streams())
    companies = load_companies()
    cfg, rules, priors = engine_config(), engine_rules(), engine_priors()
    stats: dict = {}
    t0 = time.perf_counter()
    index = engine.CandidateIndex(specs, config=cfg, rules=rules, companies=companies, priors=priors)
    t_index = time.perf_counter() - t0
    engine.rank_columns(index, stats=stats, clock=time.perf_counter)

    # One new stream, end to end through the API, and the engine part alone.
    one = one_stream(n, index=index, cfg=cfg)

    return {
        "streams": n,
        "active_streams": run.counts.get("streams"),
        "seed_s": round(seed_s, 2),
        "full_run_s": round(total, 3),
        "rerun_s": round(total2, 3),
        "rerun_identical": first == second,
        "matches": run.counts.get("matches"),
        "prospective": run.counts.get("prospective"),
        "service_phases": run.timings,
        "engine_index_s": round(t_index, 3),
        "engine_phases": {k: (round(v, 3) if isinstance(v, float) else v) for k, v in stats.items()
                          if not isinstance(v, dict)} | {"phases_s": stats.get("phases_s", {})},
        "one_stream_api_to_rows_ms_median": one["one_stream_api_to_rows_ms_median"],
        "one_stream_api_to_rows_ms_p90": one["one_stream_api_to_rows_ms_p90"],
        "one_stream_engine_ms_median": one["one_stream_engine_ms_median"],
        "one_stream_phases_ms_median": one["one_stream_phases_ms_median"],
        "full_run_peak_rss_mb": {"shard_process": max(shard_rss, shard_rss2),
                                 "finalising_process_before_engine_breakdown": round(rss_before_engine, 1)},
        "peak_rss_mb_benchmark_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _ms(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered) * 1000, 2),
            "p90": round(ordered[max(0, int(0.9 * len(ordered)) - 1)] * 1000, 2)}


class _Phases:
    """Wall time spent inside named functions during one request (wrapped by attribute, so the
    callers' late imports and on-commit lambdas find the wrapper)."""

    def __init__(self):
        self.current: dict[str, float] = {}
        self._undo = []

    def wrap(self, module, name: str, key: str) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.current[key] = self.current.get(key, 0.0) + time.perf_counter() - t0

        setattr(module, name, timed)
        self._undo.append((module, name, original))

    def restore(self) -> None:
        for module, name, original in reversed(self._undo):
            setattr(module, name, original)


def _bench_cleanup() -> None:
    """Remove what earlier one-stream runs added (streams, their runs and matches, users)."""
    from django.contrib.auth import get_user_model

    from matching.models import Match, MatchingRun
    from streams.models import Stream

    ids = list(Stream.objects.filter(title__startswith=BENCH_TITLE).values_list("pk", flat=True))
    if ids:
        Match.objects.filter(need_id__in=ids).delete()
        MatchingRun.objects.filter(stream_id__in=ids).delete()
        Stream.objects.filter(pk__in=ids).delete()  # the audit trail keeps its rows (append-only)
    get_user_model().objects.filter(username__startswith="bench-").delete()


def one_stream(n: int, *, index=None, cfg=None, warmup: int = 0, profile: str | None = None,
               queries: bool = False) -> dict:
    """Step 4: 20 new needs through POST /api/v1/streams/ (tasks in-process) until their match rows
    are visible; the engine part alone (`match_one` against the full index) when `index` is given;
    the median time of each phase of the request."""
    import cProfile

    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.test import APIClient

    import matching.hooks
    import matching.services
    import matching.tasks
    from companies.models import Company, Membership
    from matching import engine
    from matching.models import Match, MatchingRun
    from matching.services import load_specs
    from streams.models import Stream

    client = APIClient()
    template = Stream.objects.filter(direction="offer", kind="material", status="active").select_related(
        "category").order_by("pk").first()
    companies_for_new = list(Company.objects.filter(sites__isnull=False).distinct().order_by("pk")[:20 + warmup])
    phases = _Phases()
    # Nested: the on-commit dispatch (the task's delay(), or older code's hooks._schedule callback
    # around it) contains the claim and the job.
    phases.wrap(matching.hooks, "_schedule", "schedule")
    phases.wrap(matching.tasks.matching_run_for_stream_task, "delay", "delay")
    phases.wrap(matching.services, "matching_run_claim", "claim")
    phases.wrap(matching.services, "matching_run_stream_job", "job")
    profiler = cProfile.Profile() if profile else None
    log: list[tuple[float, str]] = []

    def logged(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            log.append((time.perf_counter() - t0, sql))

    e2e, engine_one, per_phase, n_queries, sql_time, cpu_time = [], [], [], [], [], []
    try:
        for i, company in enumerate(companies_for_new):
            user = get_user_model().objects.create_user(f"bench-{n}-{i}")
            Membership.objects.create(user=user, company=company, role="admin")
            client.force_authenticate(user)
            payload = {"direction": "need", "kind": template.kind, "title": f"{BENCH_TITLE} {i}",
                       "category": template.category.code, "quantity": "50", "unit": template.unit,
                       "period": "year"}
            timed = i >= warmup
            phases.current = {}
            log.clear()
            if profiler and timed:
                profiler.enable()
            with connection.execute_wrapper(logged):
                c0 = time.process_time()
                t0 = time.perf_counter()
                response = client.post("/api/v1/streams/", payload, format="json")
                t_request = time.perf_counter() - t0
                assert response.status_code == 201, response.content
                sid = response.json()["id"]
                visible = Match.objects.filter(need_id=sid).exists()
                total = time.perf_counter() - t0
                cpu = time.process_time() - c0
            if profiler and timed:
                profiler.disable()
            del visible  # a need far from every offer may legitimately get none
            if not timed:
                continue
            if queries and len(e2e) == 0:
                for seconds, sql in log:
                    print(f"{seconds * 1000:8.2f} ms  {sql[:400]}", file=sys.stderr)
            e2e.append(total)
            n_queries.append(len(log))
            sql_time.append(sum(seconds for seconds, _ in log))
            cpu_time.append(cpu)
            run = MatchingRun.objects.filter(stream_id=sid).order_by("-pk").first()
            inner = {k: v for k, v in (run.timings or {}).items() if k != "total"} if run else {}
            p = phases.current
            job = p.get("job", 0.0)
            dispatch = p.get("schedule") or p.get("delay", 0.0)
            per_phase.append({
                "create_request": t_request - dispatch,
                "dispatch": dispatch - job,
                **inner,
                "close": job - sum(inner.values()),
                "visible_check": total - t_request,
            })
            if index is not None:
                spec = load_specs(Stream.objects.filter(pk=sid))[0]
                t0 = time.perf_counter()
                engine.match_one(spec, index, config=cfg)
                engine_one.append(time.perf_counter() - t0)
    finally:
        phases.restore()
    if profiler:
        profiler.dump_stats(profile)
    keys = list(dict.fromkeys(k for row in per_phase for k in row))
    out = {
        "one_stream_api_to_rows_ms_median": _ms(e2e)["median"],
        "one_stream_api_to_rows_ms_p90": _ms(e2e)["p90"],
        "one_stream_requests": len(e2e),
        "one_stream_queries_median": statistics.median(n_queries),
        # Less sensitive to a busy machine than the wall time: this process's CPU time (Django, DRF,
        # the engine) and the time spent waiting for SQL statements, per request.
        "one_stream_python_cpu_ms_median": _ms(cpu_time)["median"],
        "one_stream_sql_ms_median": _ms(sql_time)["median"],
        # The phases of one request (medians, so they need not add up to the total exactly):
        # create_request = the POST without the on-commit dispatch (auth, validation, stream_create,
        # history and audit rows, commit, the response); dispatch = handing the task over (in-process
        # here) and the claim (older code also recorded the run here, in its own transaction);
        # retire/load/index/match/write = the run's own phases (MatchingRun.timings); close = the
        # stream's reload in the job, the run's closing update and the commit.
        "one_stream_phases_ms_median": {k: round(statistics.median([r.get(k, 0.0) for r in per_phase]) * 1000, 2)
                                        for k in keys},
    }
    if engine_one:
        out["one_stream_engine_ms_median"] = round(statistics.median(engine_one) * 1000, 2)
    return out


def _seeded_streams(db_url: str) -> int | None:
    """How many seeded (non-bench) streams the database holds; None if it has no schema yet."""
    out = subprocess.run(
        ["psql", db_url, "-Atc", f"SELECT count(*) FROM streams_stream WHERE title NOT LIKE '{BENCH_TITLE}%'"],
        capture_output=True, text=True,
    )
    return int(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip().isdigit() else None


def run_one_stream(n: int, db_url: str, *, profile: str | None, queries: bool) -> dict:
    """Step 4 only, in this process, against a database already seeded with `n` streams and matched."""
    _setup_django(db_url, eager=True)
    from django.core.management import call_command
    from django.db import connection

    from matching.choices import RunKind, RunStatus
    from matching.models import Match, MatchingRun
    from matching.services import engine_priors, engine_rules, matching_run_full

    call_command("migrate", verbosity=0)
    _bench_cleanup()
    seeded = False
    if _seeded_streams(db_url) != n or not Match.objects.exists():
        call_command("seed_demo", streams=n, reset=True, verbosity=0)
        run = MatchingRun.objects.create(kind=RunKind.FULL, shards_total=2, status=RunStatus.RUNNING)
        matching_run_full(run=run)
        seeded = True
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    engine_priors(), engine_rules()  # what a running worker has already done
    try:
        out = one_stream(n, warmup=2, profile=profile, queries=queries)
    finally:
        _bench_cleanup()
    return {"streams": n, "seeded_now": seeded, "warmup_requests": 2, **out}


def run_shard(run_id: int, shard: int, db_url: str) -> dict:
    """One shard in its own process, as a Celery worker runs it."""
    _setup_django(db_url, eager=False)
    from matching.models import MatchingRun
    from matching.services import engine_priors, engine_rules, matching_run_shard

    engine_priors(), engine_rules()  # what a running worker has already done
    print("ready", flush=True)
    sys.stdin.readline()
    matching_run_shard(run=MatchingRun.objects.get(pk=run_id), shard=shard)
    print(json.dumps({"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}),
          flush=True)
    return {}


def _write(results: list[dict], sizes: list[int], *, path: Path = RESULTS,
           command: str = "python benchmarks/matching_e2e.py --sizes ") -> None:
    import django
    import numpy
    import scipy

    doc = {
        "benchmark": "matching_e2e",
        "command": command + " ".join(map(str, sizes)),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "versions": {"django": django.get_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
                     "postgresql": subprocess.run(["psql", "--version"], capture_output=True, text=True).stdout.strip()},
        "targets": {"100k_full_run_s": 30, "100k_peak_rss_mb": 1024, "10k_full_run_s": 2,
                    "one_stream_engine_ms": 5, "one_stream_e2e_ms": 100},
        "results": results,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--shard", type=int, nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--one-stream-only", action="store_true",
                        help="measure only one new stream end to end (step 4) against a seeded database")
    parser.add_argument("--keep-db", action="store_true",
                        help="with --one-stream-only: reuse the database when it holds N seeded streams")
    parser.add_argument("--profile", metavar="FILE", help="with --one-stream-only: cProfile the timed requests")
    parser.add_argument("--queries", action="store_true", help="with --one-stream-only: print one request's SQL")
    parser.add_argument("--one-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    if args.one_child:
        print(json.dumps(run_one_stream(args.one_child, db_url, profile=args.profile, queries=args.queries)))
        return
    if args.one_stream_only:
        results = []
        for n in args.sizes:
            if not (args.keep_db and _seeded_streams(db_url) == n):
                name = db_url.rsplit("/", 1)[1]
                _psql(db_url, f"DROP DATABASE IF EXISTS {name}")
                _psql(db_url, f"CREATE DATABASE {name}")
            print(f"== one stream at {n} streams", file=sys.stderr, flush=True)
            cmd = [sys.executable, __file__, "--one-child", str(n)]
            cmd += ["--profile", args.profile] if args.profile else []
            cmd += ["--queries"] if args.queries else []
            out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True, cwd=ROOT)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            print(json.dumps(row, indent=1), file=sys.stderr, flush=True)
            results.append(row)
        _write(results, args.sizes, path=ONE_STREAM_RESULTS,
               command="python benchmarks/matching_e2e.py --one-stream-only --keep-db --sizes ")
        print(f"wrote {ONE_STREAM_RESULTS}", file=sys.stderr)
        return
    if args.shard:
        run_shard(*args.shard, db_url)
        return
    if args.child:
        print(json.dumps(run_size(args.child, db_url)))
        return
    results = []
    for n in args.sizes:
        name = db_url.rsplit("/", 1)[1]
        _psql(db_url, f"DROP DATABASE IF EXISTS {name}")
        _psql(db_url, f"CREATE DATABASE {name}")
        print(f"== {n} streams", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--child", str(n)], check=True, stdout=subprocess.PIPE,
                             text=True, cwd=ROOT)  # the child's stderr (progress, errors) passes through
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(row, indent=1), file=sys.stderr, flush=True)
        results.append(row)
        _write(results, args.sizes)  # after every size, so a long 100k run keeps the smaller ones
    print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()
