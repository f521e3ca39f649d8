"""The region index of matches carries `private_elsewhere` (PostgreSQL).

A one-region facilitator's list leaves out the matches with a private listing outside their region
that has not said yes (`matching.models.private_elsewhere_q`). Read from the region index, that was an
anti-join against the match table: at 100k streams it read the million-row table for every list
(about 0.5 s) to hide some 800 of the region's 39,000 rows. The flag marks the row (match m, region X)
when a side of m is a PRIVATE stream at a site whose region is not X, whatever its answer (answers
change often and are checked on the flagged rows only). A partial index holds a region's flagged rows,
so the list stays one index-only range scan less the flagged rows whose answer the match table says
hides them (`matching.selectors.match_pages`).

The flag depends on a stream's visibility and its site's region: the functions that build rows
(0009's, replaced here with the flag computed in the same statements) and a new trigger AFTER UPDATE
OF visibility on streams_stream, which refreshes that stream's matches as a move to another site does
(same function, same locks: the UPDATE's row lock waits for a writer holding the stream FOR SHARE).
Reverse: 0009's functions, without the trigger, then the column goes. On SQLite nothing (the table
stays empty there and is never read).
"""

from importlib import import_module

from django.db import migrations, models

region_index = import_module("matching.migrations.0009_match_region_index")
BY_IDS, DECIDING, ON, _lock = region_index.BY_IDS, region_index.DECIDING, region_index.ON, region_index._lock



def _private_elsewhere(region: str) -> str:
    """A side of match m is a private stream at a site outside region `region` (whatever its answer)."""
    return f"""EXISTS (SELECT 1 FROM streams_stream p JOIN companies_site q ON q.id = p.site_id
                WHERE p.id IN (m.offer_id, m.need_id) AND p.visibility = 'private'
                AND q.region_id IS DISTINCT FROM {region})"""

COLUMNS = "(match_id, region_id, score, status, private_elsewhere)"


def _regions_of(matches: str, where: str = ON) -> str:
    """0009's `_regions_of` with the flag: SELECT (match id, region id, score, status, private
    elsewhere) of the matches `matches` (aliased m) that satisfy `where`."""
    row = f"m.id, t.region_id, m.score, m.status, {_private_elsewhere('t.region_id')}"
    return f"""
        SELECT {row} FROM {matches}
            JOIN streams_stream s ON s.id = m.offer_id JOIN companies_site t ON t.id = s.site_id WHERE {where}
        UNION
        SELECT {row} FROM {matches}
            JOIN streams_stream s ON s.id = m.need_id JOIN companies_site t ON t.id = s.site_id WHERE {where}
        UNION
        SELECT {row} FROM {matches}
            JOIN companies_site t ON t.company_id = m.target_company_id WHERE m.need_id IS NULL AND {where}"""


def _flag(region: str) -> str:
    """The flag of a row of matching_matchregion_new n in region `region`."""
    return f"""(n.offer_private AND n.offer_region IS DISTINCT FROM {region})
               OR (n.need_private AND n.need_region IS DISTINCT FROM {region})"""


FUNCTIONS_SQL = f"""
-- As in 0009, with each side's visibility copied along with its region.
CREATE OR REPLACE FUNCTION matching_matchregion_add_missing() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    CREATE TEMPORARY TABLE matching_matchregion_new ON COMMIT DROP AS
        SELECT m.id, m.score, m.status, m.need_id, m.target_company_id,
               os.region_id AS offer_region, ns.region_id AS need_region,
               so.visibility IS NOT DISTINCT FROM 'private' AS offer_private,
               sn.visibility IS NOT DISTINCT FROM 'private' AS need_private
        FROM matching_match m
        LEFT JOIN streams_stream so ON so.id = m.offer_id LEFT JOIN companies_site os ON os.id = so.site_id
        LEFT JOIN streams_stream sn ON sn.id = m.need_id LEFT JOIN companies_site ns ON ns.id = sn.site_id
        WHERE NOT EXISTS (SELECT 1 FROM matching_matchregion r WHERE r.match_id = m.id);
    INSERT INTO matching_matchregion {COLUMNS}
        SELECT n.id, n.offer_region, n.score, n.status, {_flag("n.offer_region")} FROM matching_matchregion_new n
        WHERE n.offer_region IS NOT NULL
        UNION ALL
        SELECT n.id, n.need_region, n.score, n.status, {_flag("n.need_region")} FROM matching_matchregion_new n
        WHERE n.need_region IS NOT NULL AND n.need_region IS DISTINCT FROM n.offer_region
        UNION ALL
        SELECT DISTINCT n.id, t.region_id, n.score, n.status, {_flag("t.region_id")} FROM matching_matchregion_new n
        JOIN companies_site t ON t.company_id = n.target_company_id
        WHERE n.need_id IS NULL AND t.region_id IS DISTINCT FROM n.offer_region;
    GET DIAGNOSTICS added = ROW_COUNT;
    DROP TABLE matching_matchregion_new;
    RETURN added;
END $$;

CREATE OR REPLACE FUNCTION matching_matchregion_refresh(ids bigint[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF cardinality(ids) = 0 THEN
        RETURN;
    END IF;
    DELETE FROM matching_matchregion WHERE match_id = ANY(ids);
    {_lock("matching_match m", BY_IDS)}
    INSERT INTO matching_matchregion {COLUMNS} {_regions_of("matching_match m", BY_IDS)}
        ORDER BY 1, 2;
END $$;

CREATE OR REPLACE FUNCTION matching_matchregion_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_lock("new_rows m")}
        INSERT INTO matching_matchregion {COLUMNS} {_regions_of("new_rows m")} ORDER BY 1, 2;
    ELSE
        PERFORM matching_matchregion_refresh(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {DECIDING}));
    END IF;
    RETURN NULL;
END $$;
"""

# A stream turned private or no longer private: its matches' rows again (the function a move to another
# site runs; stream_moved and site_changed build their rows through matching_matchregion_refresh).
TRIGGER_SQL = """
CREATE TRIGGER matching_matchregion_stream_visibility AFTER UPDATE OF visibility ON streams_stream
    FOR EACH ROW WHEN (OLD.visibility IS DISTINCT FROM NEW.visibility)
    EXECUTE FUNCTION matching_matchregion_stream_moved();
"""

# The column was added false: set it where the definition says true (the rows of matches with a
# private side, in a statement that locks them against concurrent writers like the triggers do).
BACKFILL_SQL = f"""
UPDATE matching_matchregion r SET private_elsewhere = TRUE FROM matching_match m
    WHERE m.id = r.match_id AND {_private_elsewhere("r.region_id")};
ANALYZE matching_matchregion;
"""

REVERSE_SQL = """
DROP TRIGGER IF EXISTS matching_matchregion_stream_visibility ON streams_stream;
""" + region_index.FUNCTIONS_SQL


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTIONS_SQL + TRIGGER_SQL + BACKFILL_SQL, params=None)


def _reverse(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVERSE_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('matching', '0011_move_to_facilitation_and_dashboards'),
        ('streams', '0005_trigram_search'),
    ]

    operations = [
        migrations.AddField(
            model_name='matchregion',
            name='private_elsewhere',
            field=models.BooleanField(default=False),
            preserve_default=False,
        ),
        migrations.RunPython(_forward, _reverse),
        # After the backfill: its updates then maintain the table's other indexes only.
        migrations.AddIndex(
            model_name='matchregion',
            index=models.Index(condition=models.Q(('private_elsewhere', True)), fields=['region', 'match'],
                               name='matchregion_private_idx'),
        ),
    ]
