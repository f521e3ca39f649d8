"""A facilitator's region list read from the region index (`matching.selectors.match_pages`):
EXPLAIN ANALYZE of its count-and-ids query, and the API list timed in one process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/symbiosis_loadbench100k \\
        .venv/bin/python benchmarks/region_list.py [--user demo-facilitator] [--min-score 0.3] [--runs 5]

Reads a seeded scratch database (e.g. the load tests' `symbiosis_loadbench100k`); writes nothing but
the session of the Django test client. Prints the plan of the last run, the query's execution times
and the second and later timings of GET /api/v1/matches/?min_score=...&ordering=-score&region=<the
user's region> (the first warms the caches).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user", default="demo-facilitator")
    parser.add_argument("--min-score", default="0.3")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "symbiosis.settings")
    os.environ.setdefault("DEBUG", "false")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.db.models import Count, Window
    from django.test import Client

    from companies.models import Region
    from companies.roles import roles_for
    from matching.selectors import match_list, match_pages

    user = get_user_model().objects.get(username=args.user)
    (region_id,) = roles_for(user).facilitator_region_ids
    code = Region.objects.get(pk=region_id).code
    filters = {"min_score": args.min_score, "ordering": "-score", "region": code}
    filterset = match_list(user=user, filters=filters)
    pages = match_pages(filterset.qs, user=user, filterset=filterset)
    assert pages.id_field == "match_id", "not the region index's fast path"
    qs = pages.qs.annotate(total_rows=Window(Count(pages.id_field))).values_list(pages.id_field, "total_rows")
    sql, params = qs[: pages.AHEAD].query.sql_with_params()
    times = []
    with connection.cursor() as cur:
        for _ in range(args.runs):
            cur.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = [row[0] for row in cur.fetchall()]
            times.append(float(plan[-1].split(":")[1].split()[0]))
    print("\n".join(plan))
    print(f"region {code} (id {region_id}), count and first {pages.AHEAD} ids: execution "
          + ", ".join(f"{t:.1f}" for t in times) + " ms")

    client = Client()
    client.force_login(user)
    timings = []
    for _ in range(max(2, args.runs)):
        start = time.perf_counter()
        response = client.get("/api/v1/matches/", filters, HTTP_HOST="127.0.0.1")
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    print(f"GET /api/v1/matches/ {filters}: count {response.json()['count']}, "
          + ", ".join(f"{t:.0f}" for t in timings[1:]) + " ms (after a first request of "
          + f"{timings[0]:.0f} ms)")


if __name__ == "__main__":
    main()
