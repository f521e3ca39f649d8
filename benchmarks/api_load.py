"""Load test of the list, detail and dashboard endpoints (API and pages), 20 concurrent users, at the
10k and 100k demo datasets.

    .venv/bin/python benchmarks/api_load.py                               # 10k and 100k, 60 s each
    .venv/bin/python benchmarks/api_load.py --sizes 10000 --duration 30   # one size (merged into the JSON)

For each size:
1. A scratch database `symbiosis_loadbench<size>` (e.g. symbiosis_loadbench10k; override the server
   part with BENCH_DATABASE_URL, whose database name gets the suffix) is migrated and seeded with
   `seed_demo --streams N` and a full `run_matching` unless it holds them already; the funnel is
   shaped as in dashboard_load.py; ANALYZE.
2. gunicorn on 127.0.0.1 as in production (5 worker processes, 2 x cores + 1, one request each:
   gthread with one thread; `--workers`, `--threads`), DEBUG off, Redis db 11 as cache
   (BENCH_REDIS_URL). Throttling stays on with generous rates (API_THROTTLE_USER=1000000/min and
   the log-in limits, see benchmarks/_load.py GENEROUS_LIMITS): the defaults (1200/min per user,
   10 log-ins/min per account) would refuse a load test that runs 20 sessions on 4 demo accounts.
3. Personas, as the demo accounts of region SE22: company members (demo-sme-a, demo-sme-b: a dairy and
   a greenhouse with streams and matches), the SE22 facilitator and the SE22 authority. Users 0..19
   are 8 members, 6 facilitators, 6 authorities, each with their own logged-in session. Visible stream
   ids for the detail requests are collected beforehand from each persona's own list answers. Every
   endpoint of the mix is requested once before the run and must answer 200.
4. Three phases, each user picking the next request of its persona's weighted mix (seeded RNG);
   any answer but 200 with a body is an error; p50/p95/p99 per group (lists, detail, dashboard) and
   per endpoint:
   - baseline: the same mix with one user at a time (each persona for a third of
     `--baseline-duration`, no think time): the latency without concurrency;
   - paced: 20 users, each waiting `--think` seconds (uniform, default 1-3 s, like locust's
     between(1, 3)) between requests, for `--warmup` (not counted) + `--duration` seconds;
   - saturated: 20 users back to back (closed loop, no think time), `--warmup` + `--duration`: the
     throughput limit of the machine; latency there is mostly queueing (Little's law: 20 users at
     X requests/s wait about 20/X s per request), so it says more about CPUs than about the code.
5. A second, in-process baseline: one stream list query of the member (kind=material, region=SE22,
   q=cardboard, count + first page) done naively (every visible stream loaded with its relations,
   filtered, sorted and paged in Python) versus the FilterSet's database query, median of 5.
Targets (issue #6, item 9): p95 < 150 ms for lists and detail, < 300 ms for the dashboard, 0 errors.
Only 127.0.0.1 is contacted; the test stops by itself. Writes benchmarks/results/api_load.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
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
    emit,
    gunicorn,
    machine,
    prepare_data,
    summarise,
    versions,
)

RESULTS = ROOT / "benchmarks" / "results" / "api_load.json"
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/symbiosis_loadbench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
PASSWORD = "loadbench-local-only"  # noqa: S105 (a scratch database on 127.0.0.1)
TARGETS_P95_MS = {"lists": 150.0, "detail": 150.0, "dashboard": 300.0}

MEMBERS = {"demo-sme-a": "demo-c-00001", "demo-sme-b": "demo-c-00002"}
WORDS = ("cardboard", "pallets", "whey", "heat", "sawdust", "plastic", "scrap", "grain")
CATEGORIES = ("MAT.PAPER", "MAT.PACK", "ENE.HEAT", "MAT.WOOD", "MAT.FOOD", "EXP")
KINDS = ("material", "energy", "water", "asset", "expertise")


def _mix(persona: str) -> list[tuple[int, str, str, object]]:
    """(weight, group, endpoint name, path or path maker) of one persona's requests. A path maker gets
    the rng and the persona's context (visible stream ids, own company id)."""
    r = REGION
    lists = [
        (3, "lists", "api streams kind+region+q",
         lambda g, c: f"/api/v1/streams/?kind=material&region={r}&q={g.choice(WORDS)}"),
        (2, "lists", "api streams direction+category+status",
         lambda g, c: f"/api/v1/streams/?direction={g.choice(('offer', 'need'))}&category={g.choice(CATEGORIES)}"
                      "&status=active"),
        (2, "lists", "api streams region+ordering+page",
         lambda g, c: f"/api/v1/streams/?region={r}&ordering=-updated_at&page={g.randint(1, 3)}"),
        (1, "lists", "api streams country+nace",
         lambda g, c: f"/api/v1/streams/?country=SE&nace={g.choice(('10', '10.5', '16', '25'))}"),
        (2, "lists", "page streams filtered",
         lambda g, c: f"/streams/?region={r}&kind={g.choice(KINDS)}" + (f"&q={g.choice(WORDS)}" if g.random() < .5
                                                                          else "")),
        (3, "lists", "api matches min_score+ordering",
         lambda g, c: "/api/v1/matches/?min_score=0.3&ordering=-score"
                      + (f"&region={r}" if persona != "member" else "")),
        (2, "lists", "api companies filtered",
         lambda g, c: g.choice((f"/api/v1/companies/?region={r}&is_sme=true", "/api/v1/companies/?country=SE&nace=10",
                                "/api/v1/companies/?q=AB&country=SE"))),
        (3, "detail", "api stream detail", lambda g, c: f"/api/v1/streams/{g.choice(c['stream_ids'])}/"),
        (2, "detail", "page stream detail", lambda g, c: f"/streams/{g.choice(c['stream_ids'])}/"),
    ]
    if persona == "member":
        return [*lists,
                (2, "lists", "page matches (suggested partners)", lambda g, c: "/matches/"),
                (1, "dashboard", "page company impact", lambda g, c: f"/companies/{c['company_id']}/impact/")]
    if persona == "facilitator":
        lists.append((2, "lists", "page matches (region list)",
                      lambda g, c: f"/matches/?region={r}&min_score={g.choice(('0.25', '0.5'))}"))
    return [*lists,
            (2, "dashboard", "page dashboard", lambda g, c: f"/dashboards/{r}/"),
            (2, "dashboard", "api dashboard", lambda g, c: f"/api/v1/dashboards/{r}/")]


def persona_of(i: int) -> tuple[str, str]:
    """User i's persona and account: 4 of every 10 members (alternating accounts), 3 facilitators,
    3 authorities."""
    k = i % 10
    if k < 4:
        return "member", ("demo-sme-a", "demo-sme-b")[k % 2]
    return ("facilitator", "demo-facilitator") if k < 7 else ("authority", "demo-authority")


def discover(base: str, username: str, persona: str) -> dict:
    """Ids of streams this user sees (from their own list answers) and, for members, their company."""
    s = Session(base).login(username, PASSWORD)
    ctx: dict = {"stream_ids": set()}
    paths = [f"/api/v1/streams/?region={REGION}&page_size=200", "/api/v1/streams/?page_size=200&page=2"]
    if persona == "member":
        status, _ms, body = s.fetch(f"/api/v1/companies/?external_ref={MEMBERS[username]}")
        ctx["company_id"] = json.loads(body)["results"][0]["id"]
        paths.append(f"/api/v1/streams/?company={ctx['company_id']}")
    for path in paths:
        status, _ms, body = s.fetch(path)
        if status != 200:
            raise RuntimeError(f"{username}: {path} answered {status}")
        ctx["stream_ids"] |= {row["id"] for row in json.loads(body)["results"]}
    ctx["stream_ids"] = sorted(ctx["stream_ids"])
    return ctx


def _choose(mix, rng):
    total = sum(w for w, *_ in mix)
    x = rng.random() * total
    for w, group, name, make in mix:
        x -= w
        if x < 0:
            return group, name, make
    return mix[-1][1:]


def load_phase(base: str, users: list[tuple[str, str]], contexts: dict, duration: float, warmup: float,
               seed: int, think: tuple[float, float] = (0.0, 0.0)) -> dict:
    sessions = [Session(base).login(username, PASSWORD) for _persona, username in users]
    mixes = {p: _mix(p) for p in ("member", "facilitator", "authority")}
    group_of: dict[str, str] = {}

    def pick(i, n, rng):
        persona, username = users[i]
        group, name, make = _choose(mixes[persona], rng)
        key = f"{persona}: {name}"
        group_of[key] = group
        return key, make(rng, contexts[username])

    results, errors, samples, elapsed = closed_loop(sessions, duration, pick, warmup=warmup, seed=seed, think=think)
    return {"results": results, "errors": errors, "samples": samples, "elapsed": elapsed, "group_of": group_of}


def report(phases: list[dict]) -> dict:
    """Per group and per endpoint, over one or more phases (the baseline has one per persona)."""
    results: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    samples: dict[str, list[str]] = defaultdict(list)
    group_of: dict[str, str] = {}
    elapsed = sum(p["elapsed"] for p in phases)
    for p in phases:
        group_of.update(p["group_of"])
        for k, v in p["results"].items():
            results[k] += v
        for k, v in p["errors"].items():
            errors[k] += v
        for k, v in p["samples"].items():
            samples[k] += v
    groups = {}
    for group in ("lists", "detail", "dashboard"):
        keys = [k for k, g in group_of.items() if g == group]
        groups[group] = summarise([ms for k in keys for ms in results[k]], sum(errors[k] for k in keys), elapsed)
    every = [ms for v in results.values() for ms in v]
    return {
        "groups": groups,
        "all": summarise(every, sum(errors.values()), elapsed),
        "endpoints": {k: {"group": group_of[k], **summarise(results[k], errors[k], elapsed)}
                      for k in sorted(group_of)},
        "error_samples": {k: v for k, v in samples.items() if v},
        "measured_s": round(elapsed, 1),
    }


def naive_list_baseline(username: str, word: str) -> dict:
    """One member's stream list (kind=material, region=SE22, q=word, first page of 50 with its count):
    the FilterSet's query versus loading every visible stream and filtering in Python."""
    from django.contrib.auth import get_user_model

    from streams.selectors import stream_list, stream_queryset

    user = get_user_model().objects.get(username=username)
    filters = {"kind": "material", "region": REGION, "q": word}

    def db():
        qs = stream_list(user=user, filters=filters).qs.order_by("-updated_at", "-pk")
        return qs.count(), [s.pk for s in qs[:50]]

    def naive():
        rows = [s for s in stream_queryset(user=user).prefetch_related(None)
                if s.kind == "material" and s.site.region.code == REGION
                and (word in s.title.lower() or word in (s.description or "").lower()
                     or word in s.category.name.lower())]
        rows.sort(key=lambda s: (s.updated_at, s.pk), reverse=True)
        return len(rows), [s.pk for s in rows[:50]]

    out = {}
    for name, fn in (("db_filterset_ms", db), ("naive_python_ms", naive)):
        times = []
        for _ in range(5):
            t = time.perf_counter()
            answer = fn()
            times.append((time.perf_counter() - t) * 1000.0)
        out[name] = round(statistics.median(times), 1)
        out[name.replace("_ms", "_count")] = answer[0]
    out["same_first_page"] = db()[1] == naive()[1]
    return out


def _in_child(db_url: str, redis_url: str, call: str) -> dict:
    """`call` (of this module) in a child process with Django on `db_url`: one process, one database."""
    code = (f"import json, sys; sys.path.insert(0, {str(ROOT)!r})\n"
            "from benchmarks._load import django_setup\n"
            f"django_setup({db_url!r}, {redis_url!r})\n"
            "from benchmarks.api_load import naive_list_baseline\n"
            f"print('RESULT ' + json.dumps({call}))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(next(line for line in out.stdout.splitlines() if line.startswith("RESULT "))[7:])


def run_size(size: int, args) -> dict:
    server_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    suffix = f"{size // 1000}k" if size % 1000 == 0 else str(size)
    db_url = f"{server_url}{suffix}"
    redis_url = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    data = prepare_data(db_url, redis_url, size, PASSWORD)
    users = [persona_of(i) for i in range(args.users)]
    with gunicorn(db_url, redis_url, workers=args.workers, threads=args.threads) as base:
        contexts = {u: discover(base, u, p) for p, u in set(users)}
        # Every endpoint once (also fills the caches of the dashboards): anything but 200 stops here.
        probe_rng = random.Random(0)
        for persona, username in set(users):
            s = Session(base).login(username, PASSWORD)
            for _w, _group, name, make in _mix(persona):
                path = make(probe_rng, contexts[username])
                status, ms, size_b = s.get(path)
                if status != 200 or not size_b:
                    raise RuntimeError(f"probe {persona} {name}: {path} answered {status}")
        single = [load_phase(base, [(p, u)], contexts, args.baseline_duration / 3, 2.0, seed=7)
                  for p, u in (("member", "demo-sme-a"), ("facilitator", "demo-facilitator"),
                               ("authority", "demo-authority"))]
        think = tuple(args.think)
        paced = report([load_phase(base, users, contexts, args.duration, args.warmup, seed=1, think=think)])
        saturated = report([load_phase(base, users, contexts, args.duration, args.warmup, seed=2)])
    naive = _in_child(db_url, redis_url, 'naive_list_baseline("demo-sme-a", "cardboard")')

    def verdict(load):
        return {g: {"p95_ms": TARGETS_P95_MS[g], "p95_measured_ms": load["groups"][g]["p95_ms"],
                    "met": load["groups"][g]["p95_ms"] < TARGETS_P95_MS[g] and load["groups"][g]["errors"] == 0}
                for g in TARGETS_P95_MS}

    targets = {"paced": verdict(paced), "saturated": verdict(saturated)}
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": data,
        "users": {f"{p}: {u}": sum(1 for x in users if x == (p, u)) for p, u in sorted(set(users))},
        "load_paced": {**paced, "think_time_s": list(think),
                       "note": f"{args.users} users, each waiting {think[0]:g}-{think[1]:g} s (uniform) between "
                               "requests, like locust's between()"},
        "load_saturated": {**saturated, "think_time_s": [0, 0],
                           "note": f"{args.users} users back to back (closed loop, no think time): the machine's "
                                   "throughput limit; latency is then mostly queueing (Little's law)"},
        "baseline_one_user": {
            **report(single),
            "note": "the same mix with a single user (no concurrency), each persona for a third of the time: "
                    "what 20 users add is queueing for the machine's CPUs",
        },
        "baseline_naive_list": {
            **naive,
            "note": "in-process, demo-sme-a's /api/v1/streams/?kind=material&region=SE22&q=cardboard query "
                    "(count + first 50 ids): FilterSet in the database vs every visible stream loaded with "
                    "its relations and filtered, sorted and paged in Python; median of 5, no HTTP",
        },
        "targets": targets,
        "targets_met": {phase: all(t["met"] for t in v.values()) for phase, v in targets.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0, help="measured seconds at 20 users")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds of load not counted")
    parser.add_argument("--think", type=float, nargs=2, default=[1.0, 3.0], metavar=("MIN", "MAX"),
                        help="think time of the paced phase, seconds")
    parser.add_argument("--baseline-duration", type=float, default=30.0, help="seconds of the one-user baseline")
    parser.add_argument("--workers", type=int, default=5, help="as production: 2 x cores + 1 (Dockerfile)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="print the results only")
    args = parser.parse_args()

    config = {
        "users": args.users, "duration_s": args.duration, "warmup_s": args.warmup,
        "phases": "one-user baseline; 20 users paced (--think); 20 users saturated (no think time)",
        "think_time_s": args.think, "baseline_duration_s": args.baseline_duration,
        "server": f"gunicorn gthread {args.workers} workers x {args.threads} threads, 127.0.0.1, DEBUG off",
        "throttling": "on, with generous rates (benchmarks/_load.py GENEROUS_LIMITS)",
        "client": "Python threads (urllib) on the same machine as the server and PostgreSQL",
        "personas": "users 0..19: 8 members (demo-sme-a/-b), 6 SE22 facilitators, 6 SE22 authorities",
        "mix": {p: [(w, g, n) for w, g, n, _ in _mix(p)] for p in ("member", "facilitator", "authority")},
    }
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    runs = dict(previous.get("runs", {}))
    for size in args.sizes:
        run = run_size(size, args)
        runs[str(size)] = {"command": "python benchmarks/api_load.py " + " ".join(sys.argv[1:]),
                           "machine": machine(), "config": config, **run}
    db = f"{os.environ.get('BENCH_DATABASE_URL', DEFAULT_DB)}{args.sizes[0] // 1000}k"
    result = {
        "benchmark": "api_load",
        "versions": versions(db),
        "targets_p95_ms": TARGETS_P95_MS,
        "summary": {
            size: {phase: {g: {k: run[phase]["groups"][g][k] for k in ("requests", "errors", "p50_ms", "p95_ms",
                                                                       "p99_ms")}
                           for g in TARGETS_P95_MS}
                   for phase in ("baseline_one_user", "load_paced", "load_saturated")}
            | {"targets_met": run["targets_met"]}
            for size, run in sorted(runs.items(), key=lambda kv: int(kv[0]))
        },
        "runs": runs,
    }
    emit(result, RESULTS, write=not args.no_write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
