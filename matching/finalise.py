"""Swapping a full run's staged result into Match: SQL, in one transaction.

PostgreSQL applies the difference: the run's staged rows (deduplicated: a declared pair in the top
K of both its offer and its need comes from two shards) are compared with the current suggestions,
so suggestions that are no longer found are retired, changed ones are updated in place and new ones
inserted. Matches a facilitator already works on, and suggestions a party has answered, are never
touched. A nightly rerun on
mostly unchanged data then writes only what changed, and the Match ids of unchanged suggestions
stay stable. SQLite (the no-setup development mode) retires all suggestions and inserts the new set.

A first run into an (almost) empty Match table follows PostgreSQL's bulk-load advice ("Populating a
Database"): every index but the primary key is dropped (the partial unique ones too), the rows
inserted and the indexes rebuilt, inside the same transaction (readers wait for it), and the
insert trigger that checks Match's references is off for that statement, as the references were
locked and checked set-wise beforehand (`_lock_references`, which runs on every path). The region
index (`MatchRegion`) is filled after the insert by `matching_matchregion_add_missing()`, with its
insert trigger off (no million-row transition table) and its primary key and list index dropped and
rebuilt too; at 100k streams that is about 7 s of the finalise (docs/matching.md). Building
an index from sorted rows is several times cheaper than a million random insertions into it
(measured at 100k streams: 29 s for the insert with every index, 19 s with the rebuild). Sorts and
hashes of the run get `work_mem` for this transaction only, so a million rows sort in memory.

Only identifiers from model metadata and module constants are formatted into the SQL; every value
(status, version, run id, unit names) is a bound parameter.
"""

from __future__ import annotations

from django.db import connection

from matching import engine
from matching.choices import MatchStatus
from matching.engine import UNIT_CODES
from matching.models import PART_FIELDS, Match, MatchCandidate, MatchRegion

MATCH = Match._meta.db_table
REGION_INDEX = MatchRegion._meta.db_table
STAGE = MatchCandidate._meta.db_table
KEY = ("offer_id", "need_id", "source_company_id", "target_company_id")
NUMBERS = ("score", "distance_km", "exchangeable_yearly", "co2e_t", "eur_provider", "eur_receiver", "diverted_t")
# `MatchQuerySet.retirable()` in SQL: a suggestion a party has answered is kept, like a match in work.
UNANSWERED = "m.provider_response = '' AND m.receiver_response = ''"
# The score parts: the same columns in the staging table and in Match.
PART_COLUMNS = tuple(PART_FIELDS.values())


def _units_case(column: str) -> str:
    return f"CASE {column} " + " ".join("WHEN %s THEN %s" for _ in UNIT_CODES) + " ELSE '' END"


def _unit_params() -> list:
    return [v for i, u in enumerate(UNIT_CODES) for v in (i, u)]


def _joins(m: str, f: str) -> str:
    return " AND ".join(
        [f"{f}.offer_id = COALESCE({m}.offer_id, -1)", f"{f}.need_id = COALESCE({m}.need_id, -1)",
         f"{f}.source_company_id = {m}.source_company_id", f"{f}.target_company_id = {m}.target_company_id"]
    )


def _unique_key(t: str, staged: bool) -> list[str]:
    """The columns of Match's unique constraints, one expression each, for a staged row (-1 for an
    absent side) or a Match row (NULL): (offer, need) of a declared match, (offer, target company)
    of a prospective receiver, (need, source company) of a prospective provider."""
    o, n = (f"{t}.offer_id", f"{t}.need_id") if staged else (f"COALESCE({t}.offer_id, -1)", f"COALESCE({t}.need_id, -1)")
    return [o, n, f"CASE WHEN {n} = -1 THEN {t}.target_company_id ELSE -1 END",
            f"CASE WHEN {o} = -1 THEN {t}.source_company_id ELSE -1 END"]


def _unique_joins(m: str, f: str) -> str:
    return " AND ".join(f"{a} = {b}" for a, b in zip(_unique_key(f, True), _unique_key(m, False), strict=True))


def _insert_sql(source: str, where: str = "", ordered: bool = True,
                on_conflict: bool = True) -> str:
    """INSERT of Match rows from `source`, in key order (offer first: the unique indexes lead with
    it) unless the source is already stored in that order (`ordered=False` skips the sort)."""
    order = "ORDER BY f.offer_id, f.need_id, f.source_company_id, f.target_company_id" if ordered else ""
    cols = ("offer_id, need_id, source_company_id, target_company_id, prospective, score, "
            f"{', '.join(PART_COLUMNS)}, reasons, "
            "distance_km, exchangeable_yearly, unit, impact, co2e_t, eur_provider, eur_receiver, diverted_t, "
            "status, stream_changed, engine_version, run_id, created_at, updated_at")
    return f"""
        INSERT INTO {MATCH} ({cols})
        SELECT NULLIF(f.offer_id, -1), NULLIF(f.need_id, -1), f.source_company_id, f.target_company_id,
               f.prospective, f.score, {", ".join(f"f.{c}" for c in PART_COLUMNS)}, '[]', f.distance_km,
               f.exchangeable_yearly, {_units_case("f.unit")}, '{{}}', f.co2e_t, f.eur_provider,
               f.eur_receiver, f.diverted_t, %s, false, %s, %s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP
        FROM {source} f {where}
        {order}
        {"ON CONFLICT DO NOTHING" if on_conflict else ""}"""


# Match's columns the finalise joins and filters on: the statistics the planner needs after a bulk
# load (analysing the JSON columns too would take twice as long).
PLANNED = (*KEY, "status", "provider_response", "receiver_response", "score")
# Memory for this transaction's sorts and hashes (a million staged rows) and index rebuilds.
WORK_MEM, MAINTENANCE_WORK_MEM = "256MB", "512MB"
# Bulk path when Match holds fewer rows than this share of the rows to write.
BULK_BELOW = 0.2


def _droppable_indexes(cur, table: str = MATCH) -> list[tuple[str, str]]:
    """(name, CREATE INDEX statement) of `table`'s indexes that back no constraint: every index but the
    primary key (which the foreign keys of events, notes and messages depend on). The partial unique
    indexes are among them: the bulk insert cannot conflict (its rows are distinct on their unique
    columns, rows already in Match are left out by those columns, and the table is locked), and
    rebuilding a unique index checks uniqueness again."""
    cur.execute("""
        SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
        ORDER BY c.relname""", [table])
    return list(cur.fetchall())


# Match's insert triggers that the bulk path turns off for its one insert: the reference check (the
# references were locked and checked just before) and the region index, which it fills afterwards with
# `matching_matchregion_add_missing()` (matching/migrations/0009_match_region_index.py).
BULK_OFF_TRIGGERS = ("matching_match_refs_insert", "matching_matchregion_insert")


_REFERENCES = (  # (table, staged columns that point at it, "no such row" value)
    ("streams_stream", ("offer_id", "need_id"), -1),
    ("companies_company", ("source_company_id", "target_company_id"), None),
)


def _lock_references(cur) -> int:
    """Lock every stream and company the result refers to, and the streams' sites, FOR SHARE (a
    concurrent delete waits for this transaction, then fails on Match's delete check, as with a
    foreign key; a stream or site that moves, or a company that gains a site, waits too, so the
    region index this transaction writes sees where they are), and drop result rows whose stream or
    company was deleted after the shards loaded it. One query per table; returns the number of rows
    dropped."""
    dropped = 0
    for table, columns, absent in _REFERENCES:
        ids = " UNION ".join(
            f"SELECT {c} FROM matching_final" + (f" WHERE {c} <> {absent}" if absent is not None else "")
            for c in columns)
        cur.execute(f"""
            WITH ids AS MATERIALIZED ({ids}),
            locked AS (SELECT t.id FROM {table} t WHERE t.id IN (SELECT * FROM ids) FOR SHARE OF t)
            SELECT * FROM ids EXCEPT SELECT id FROM locked""")
        missing = [r[0] for r in cur.fetchall()]
        if missing:
            cur.execute(f"DELETE FROM matching_final WHERE {' OR '.join(f'{c} = ANY(%s)' for c in columns)}",
                        [missing] * len(columns))
            dropped += cur.rowcount
    cur.execute("""
        SELECT 1 FROM companies_site t WHERE t.id IN (
            SELECT s.site_id FROM streams_stream s WHERE s.id IN (
                SELECT offer_id FROM matching_final UNION SELECT need_id FROM matching_final))
        FOR SHARE OF t""")
    return dropped


def _postgresql(cur, run_id: int) -> dict[str, int]:
    suggested = str(MatchStatus.SUGGESTED)
    cur.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
    cur.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_WORK_MEM}'")
    cur.execute("DROP TABLE IF EXISTS matching_final")  # two runs finalised in one transaction (tests)
    # Distinct on the unique constraints' columns (the same as the key, as a stream's company decides
    # the source or target), so the result can never conflict with itself.
    ukey = ", ".join(_unique_key("s", True))
    cur.execute(f"""
        CREATE TEMPORARY TABLE matching_final ON COMMIT DROP AS
        SELECT DISTINCT ON ({ukey}) * FROM {STAGE} s WHERE run_id = %s
        ORDER BY {ukey}, s.source_company_id, s.target_company_id""", [run_id])
    final_rows = cur.rowcount
    cur.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {MATCH})")
    if cur.fetchone()[0]:  # the first run: nothing to retire or update, no join to plan
        return _insert_all(cur, run_id, final_rows)
    cur.execute(f"ANALYZE matching_final ({', '.join(KEY)})")
    dropped = _lock_references(cur)
    # Suggestions no longer found: their ids, deleted through the ORM so related rows follow the
    # models' on_delete rules.
    cur.execute(f"""
        SELECT m.id FROM {MATCH} m WHERE m.status = %s AND {UNANSWERED}
        AND NOT EXISTS (SELECT 1 FROM matching_final f WHERE {_joins("m", "f")})""", [suggested])
    gone = [r[0] for r in cur.fetchall()]
    retired = 0
    for i in range(0, len(gone), 20000):
        retired += Match.objects.filter(pk__in=gone[i:i + 20000]).delete()[1].get(Match._meta.label, 0)
    changed = " OR ".join(
        [f"m.{c} IS DISTINCT FROM f.{c}" for c in (*NUMBERS, *PART_COLUMNS)]
        + ["m.engine_version IS DISTINCT FROM %s", "m.reasons::text <> '[]'"]
    )
    cur.execute(f"""
        UPDATE {MATCH} m SET score = f.score, {", ".join(f"{c} = f.{c}" for c in PART_COLUMNS)},
            reasons = '[]', impact = '{{}}', distance_km = f.distance_km,
            exchangeable_yearly = f.exchangeable_yearly, unit = {_units_case("f.unit")}, co2e_t = f.co2e_t,
            eur_provider = f.eur_provider, eur_receiver = f.eur_receiver, diverted_t = f.diverted_t,
            engine_version = %s, run_id = %s, updated_at = CURRENT_TIMESTAMP
        FROM matching_final f
        WHERE m.status = %s AND {UNANSWERED} AND {_joins("m", "f")} AND ({changed})""",
                [*_unit_params(), engine.ENGINE_VERSION, run_id, suggested, engine.ENGINE_VERSION])
    updated = cur.rowcount
    cur.execute(f"SELECT count(*) FROM {MATCH}")
    bulk = cur.fetchone()[0] < BULK_BELOW * final_rows
    counts = _insert(cur, run_id, bulk, dropped)
    return {**counts, "retired": retired, "updated": updated}


def _insert_all(cur, run_id: int, final_rows: int) -> dict[str, int]:
    """The first run: Match was empty, so nothing is retired or updated. A suggestion a one-stream run
    commits meanwhile stays: the insert leaves out rows that conflict with it by their unique columns."""
    dropped = _lock_references(cur)
    return {**_insert(cur, run_id, bulk=final_rows > 0, dropped=dropped), "retired": 0, "updated": 0}


def _insert(cur, run_id: int, bulk: bool, dropped: int) -> dict[str, int]:
    """Insert the rows of matching_final that Match does not hold yet; with `bulk`, into a table
    without its indexes (dropped before, rebuilt after, in this transaction)."""
    suggested = str(MatchStatus.SUGGESTED)
    rebuild = [*_droppable_indexes(cur), *_droppable_indexes(cur, REGION_INDEX)] if bulk else []
    region_key = None
    if rebuild:
        # The region index's primary key backs no foreign key: it is rebuilt too (0.8 s less at 100k).
        cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'p'", [REGION_INDEX])
        region_key = cur.fetchone()
        # DDL refuses to run while this transaction has deferred trigger events on the table (the
        # retirement above queues foreign-key checks of the rows that pointed at retired matches).
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        for trigger in BULK_OFF_TRIGGERS:
            cur.execute(f"ALTER TABLE {MATCH} DISABLE TRIGGER {trigger}")
    for name, _ in rebuild:
        cur.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    if region_key:
        cur.execute(f"ALTER TABLE {REGION_INDEX} DROP CONSTRAINT {connection.ops.quote_name(region_key[0])}")
    cur.execute(
        # matching_final was written in key order (DISTINCT ON ... ORDER BY key): no second sort. In the
        # bulk path the table is locked (DROP INDEX) and rows conflicting with a kept match are left out
        # by their unique columns: no speculative insertion (ON CONFLICT costs half again as much).
        _insert_sql("matching_final",
                    f"WHERE NOT EXISTS (SELECT 1 FROM {MATCH} m WHERE {_joins('m', 'f')})" if not rebuild else
                    f"WHERE NOT EXISTS (SELECT 1 FROM {MATCH} m WHERE {_unique_joins('m', 'f')})",
                    ordered=False, on_conflict=not rebuild),
        [*_unit_params(), suggested, engine.ENGINE_VERSION, run_id],
    )
    inserted = cur.rowcount
    if rebuild:
        cur.execute("SELECT matching_matchregion_add_missing()")
    if region_key:
        cur.execute(f"ALTER TABLE {REGION_INDEX} ADD CONSTRAINT {connection.ops.quote_name(region_key[0])} "
                    f"{region_key[1]}")
    for _, definition in rebuild:
        cur.execute(definition)
    if rebuild:
        for trigger in BULK_OFF_TRIGGERS:
            cur.execute(f"ALTER TABLE {MATCH} ENABLE TRIGGER {trigger}")
        # Fresh statistics for the planner: with the stale ones of an empty table, the next run's
        # joins against a million rows would be planned as nested loops.
        cur.execute(f"ANALYZE {MATCH} ({', '.join(PLANNED)})")
        cur.execute(f"ANALYZE {REGION_INDEX}")
    cur.execute("SELECT count(*), count(*) FILTER (WHERE prospective) FROM matching_final")
    kept, prospective = cur.fetchone()
    return {"matches": kept, "prospective": prospective, "inserted": inserted, "indexes_rebuilt": len(rebuild),
            "dropped_deleted_references": dropped}


def _portable(cur, run_id: int) -> dict[str, int]:
    suggested = str(MatchStatus.SUGGESTED)
    retired = Match.objects.retirable().delete()[1].get(Match._meta.label, 0)
    cur.execute(_insert_sql(STAGE, "WHERE f.run_id = %s"),
                [*_unit_params(), suggested, engine.ENGINE_VERSION, run_id, run_id])
    kept = Match.objects.filter(run_id=run_id).count()
    prospective = Match.objects.filter(run_id=run_id, prospective=True).count()
    return {"matches": kept, "prospective": prospective, "retired": retired, "inserted": kept}


def apply_staged(run_id: int) -> dict[str, int]:
    """Swap the run's staged rows into Match (inside the caller's transaction); returns counts."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            return _postgresql(cur, run_id)
        return _portable(cur, run_id)
