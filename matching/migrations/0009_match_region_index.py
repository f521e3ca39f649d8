"""The region index of matches (PostgreSQL): MatchRegion rows kept by triggers.

A facilitator's list of their region's matches, best score first, read the region's match rows
through three index scans and then the heap: at 100k streams some 31,000 rows on 10,000 pages for
every page of the list (68-120 ms, docs/matching.md "Lists of a region's matches"). MatchRegion holds
one row per (match, region) of `matching.models.in_regions_q`'s default definition, with the score and
status, so that list (and the review queue) is one index-only range scan on (region, score DESC, match)
INCLUDE (status).

It is derived data that decides what a facilitator sees, so PostgreSQL keeps it, not Python:

* after INSERT on matching_match: the regions of the new rows (statement-level, transition table;
  a full run's bulk insert turns it off and calls `matching_matchregion_add_missing()` after its
  insert, with the list index dropped, see matching/finalise.py);
* after UPDATE of score, status, offer_id, need_id or target_company_id: those rows again;
* after DELETE: their rows go;
* after UPDATE of site_id on streams_stream: the matches of the streams that moved;
* after INSERT, UPDATE of region_id or company_id, or DELETE on companies_site: the matches of the
  streams at those sites and the prospective matches (no need) of those sites' companies.

Races: the insert trigger locks the streams, their sites and the prospective target companies FOR
SHARE before it reads their regions, so a concurrent move of a stream or site (an UPDATE, which takes
a conflicting row lock) waits for it, and its own refresh then sees the new matches; the site
triggers lock the sites' companies FOR NO KEY UPDATE before they refresh, which waits for a
concurrent insert of prospective matches of those companies (and that insert waits for them). Each
statement of a trigger function takes a new snapshot (READ COMMITTED), so what it reads after a lock
wait is what was committed.

`tests/matching/test_region_index.py` checks the table against the definition after every kind of
write. On SQLite (the no-setup development mode) the table stays empty and is never read.
"""

import django.db.models.deletion
from django.db import migrations, models

ON = "TRUE"


def _regions_of(matches: str, where: str = ON) -> str:
    """SELECT (match id, region id, score, status) of the matches `matches` (aliased m) that satisfy `where`:
    the regions of the offer's and the need's site and, without a need, of the target company's
    sites (`in_regions_q` without prospective sources)."""
    return f"""
        SELECT m.id, t.region_id, m.score, m.status FROM {matches}
            JOIN streams_stream s ON s.id = m.offer_id JOIN companies_site t ON t.id = s.site_id WHERE {where}
        UNION
        SELECT m.id, t.region_id, m.score, m.status FROM {matches}
            JOIN streams_stream s ON s.id = m.need_id JOIN companies_site t ON t.id = s.site_id WHERE {where}
        UNION
        SELECT m.id, t.region_id, m.score, m.status FROM {matches}
            JOIN companies_site t ON t.company_id = m.target_company_id WHERE m.need_id IS NULL AND {where}"""


def _lock(matches: str, where: str = ON) -> str:
    """Lock FOR SHARE, in id order, what decides the regions of those matches: their streams, the
    streams' sites and the target companies of matches without a need."""
    streams = f"SELECT m.offer_id FROM {matches} WHERE {where} UNION SELECT m.need_id FROM {matches} WHERE {where}"
    return f"""
    PERFORM 1 FROM streams_stream s WHERE s.id IN ({streams}) ORDER BY s.id FOR SHARE OF s;
    PERFORM 1 FROM companies_site t
        WHERE t.id IN (SELECT s.site_id FROM streams_stream s WHERE s.id IN ({streams})) ORDER BY t.id FOR SHARE OF t;
    PERFORM 1 FROM companies_company c
        WHERE c.id IN (SELECT m.target_company_id FROM {matches} WHERE m.need_id IS NULL AND {where})
        ORDER BY c.id FOR SHARE OF c;"""


BY_IDS = "m.id = ANY(ids)"
# A match's columns that decide its region rows.
DECIDING = "(n.score, n.status, n.offer_id, n.need_id, n.target_company_id) IS DISTINCT FROM " \
           "(o.score, o.status, o.offer_id, o.need_id, o.target_company_id)"

# The functions (0012_region_index_private_elsewhere.py replaces them and restores these on reverse),
# the triggers, and the first fill.
FUNCTIONS_SQL = f"""
-- A full run's bulk insert (matching/finalise.py) turns the insert trigger off for its one statement,
-- then adds the rows of every match that has none: the trigger would first capture the million
-- inserted rows whole in a transition table and deduplicate the sides with a UNION. Here each match's
-- two stream regions come from one pass, the need's only where it differs from the offer's, and only
-- a prospective target company's sites need a DISTINCT. The caller holds the locks: finalise locks
-- every stream, its site and every company of the result FOR SHARE first (`_lock_references`).
CREATE OR REPLACE FUNCTION matching_matchregion_add_missing() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    added bigint;
BEGIN
    CREATE TEMPORARY TABLE matching_matchregion_new ON COMMIT DROP AS
        SELECT m.id, m.score, m.status, m.need_id, m.target_company_id,
               os.region_id AS offer_region, ns.region_id AS need_region
        FROM matching_match m
        LEFT JOIN streams_stream so ON so.id = m.offer_id LEFT JOIN companies_site os ON os.id = so.site_id
        LEFT JOIN streams_stream sn ON sn.id = m.need_id LEFT JOIN companies_site ns ON ns.id = sn.site_id
        WHERE NOT EXISTS (SELECT 1 FROM matching_matchregion r WHERE r.match_id = m.id);
    INSERT INTO matching_matchregion (match_id, region_id, score, status)
        SELECT n.id, n.offer_region, n.score, n.status FROM matching_matchregion_new n
        WHERE n.offer_region IS NOT NULL
        UNION ALL
        SELECT n.id, n.need_region, n.score, n.status FROM matching_matchregion_new n
        WHERE n.need_region IS NOT NULL AND n.need_region IS DISTINCT FROM n.offer_region
        UNION ALL
        SELECT DISTINCT n.id, t.region_id, n.score, n.status FROM matching_matchregion_new n
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
    INSERT INTO matching_matchregion (match_id, region_id, score, status) {_regions_of("matching_match m", BY_IDS)}
        ORDER BY 1, 2;
END $$;

CREATE OR REPLACE FUNCTION matching_matchregion_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_lock("new_rows m")}
        INSERT INTO matching_matchregion (match_id, region_id, score, status) {_regions_of("new_rows m")} ORDER BY 1, 2;
    ELSE
        PERFORM matching_matchregion_refresh(ARRAY(
            SELECT n.id FROM new_rows n JOIN old_rows o ON o.id = n.id WHERE {DECIDING}));
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION matching_matchregion_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        -- Not TRUNCATE: a statement that truncates both tables (Django's flush) holds this one open.
        DELETE FROM matching_matchregion;
    ELSE
        DELETE FROM matching_matchregion r USING old_rows o WHERE r.match_id = o.id;
    END IF;
    RETURN NULL;
END $$;

-- A stream moved to another site: its matches' regions again.
CREATE OR REPLACE FUNCTION matching_matchregion_stream_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM matching_matchregion_refresh(ARRAY(
        SELECT m.id FROM matching_match m WHERE m.offer_id = NEW.id
        UNION SELECT m.id FROM matching_match m WHERE m.need_id = NEW.id));
    RETURN NULL;
END $$;

-- A site was added, moved to another region or company, or removed: the matches of its streams and
-- the prospective matches (no need) of its company, old and new.
CREATE OR REPLACE FUNCTION matching_matchregion_site_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sites bigint[];
    companies bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        sites := ARRAY[NEW.id];
        companies := ARRAY[NEW.company_id];
    ELSIF TG_OP = 'DELETE' THEN
        sites := ARRAY[OLD.id];
        companies := ARRAY[OLD.company_id];
    ELSE
        sites := ARRAY[NEW.id];
        companies := ARRAY[OLD.company_id, NEW.company_id];
    END IF;
    -- Waits for a transaction that is writing prospective matches of these companies (it holds them
    -- FOR SHARE), and makes one that starts now wait for this one.
    PERFORM 1 FROM companies_company c WHERE c.id = ANY(companies) ORDER BY c.id FOR NO KEY UPDATE OF c;
    PERFORM matching_matchregion_refresh(ARRAY(
        SELECT m.id FROM matching_match m JOIN streams_stream s ON s.id = m.offer_id WHERE s.site_id = ANY(sites)
        UNION SELECT m.id FROM matching_match m JOIN streams_stream s ON s.id = m.need_id WHERE s.site_id = ANY(sites)
        UNION SELECT m.id FROM matching_match m WHERE m.need_id IS NULL AND m.target_company_id = ANY(companies)));
    RETURN NULL;
END $$;
"""

TRIGGERS_SQL = """
CREATE TRIGGER matching_matchregion_insert AFTER INSERT ON matching_match
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION matching_matchregion_write();
CREATE TRIGGER matching_matchregion_update AFTER UPDATE ON matching_match
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION matching_matchregion_write();
CREATE TRIGGER matching_matchregion_delete AFTER DELETE ON matching_match
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION matching_matchregion_delete();
CREATE TRIGGER matching_matchregion_truncate AFTER TRUNCATE ON matching_match
    FOR EACH STATEMENT EXECUTE FUNCTION matching_matchregion_delete();
CREATE TRIGGER matching_matchregion_stream_moved AFTER UPDATE OF site_id ON streams_stream
    FOR EACH ROW WHEN (OLD.site_id IS DISTINCT FROM NEW.site_id)
    EXECUTE FUNCTION matching_matchregion_stream_moved();
CREATE TRIGGER matching_matchregion_site_added_or_removed AFTER INSERT OR DELETE ON companies_site
    FOR EACH ROW EXECUTE FUNCTION matching_matchregion_site_changed();
CREATE TRIGGER matching_matchregion_site_moved AFTER UPDATE OF region_id, company_id ON companies_site
    FOR EACH ROW WHEN (OLD.region_id IS DISTINCT FROM NEW.region_id OR OLD.company_id IS DISTINCT FROM NEW.company_id)
    EXECUTE FUNCTION matching_matchregion_site_changed();
"""

FILL_SQL = f"""
INSERT INTO matching_matchregion (match_id, region_id, score, status) {_regions_of("matching_match m")} ORDER BY 1, 2;
ANALYZE matching_matchregion;
"""

CREATE_SQL = FUNCTIONS_SQL + TRIGGERS_SQL + FILL_SQL

DROP_SQL = """
DROP TRIGGER IF EXISTS matching_matchregion_insert ON matching_match;
DROP TRIGGER IF EXISTS matching_matchregion_update ON matching_match;
DROP TRIGGER IF EXISTS matching_matchregion_delete ON matching_match;
DROP TRIGGER IF EXISTS matching_matchregion_truncate ON matching_match;
DROP TRIGGER IF EXISTS matching_matchregion_stream_moved ON streams_stream;
DROP TRIGGER IF EXISTS matching_matchregion_site_added_or_removed ON companies_site;
DROP TRIGGER IF EXISTS matching_matchregion_site_moved ON companies_site;
DROP FUNCTION IF EXISTS matching_matchregion_site_changed();
DROP FUNCTION IF EXISTS matching_matchregion_stream_moved();
DROP FUNCTION IF EXISTS matching_matchregion_delete();
DROP FUNCTION IF EXISTS matching_matchregion_write();
DROP FUNCTION IF EXISTS matching_matchregion_refresh(bigint[]);
DROP FUNCTION IF EXISTS matching_matchregion_add_missing();
"""


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_SQL, params=None)


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0003_competitor_exclusion'),
        ('matching', '0008_score_parts_as_columns'),
        ('streams', '0003_pending_import'),
    ]

    operations = [
        migrations.CreateModel(
            name='MatchRegion',
            fields=[
                ('pk', models.CompositePrimaryKey('match', 'region', blank=True, editable=False, primary_key=True, serialize=False)),
                ('score', models.FloatField()),
                ('status', models.CharField(choices=[('suggested', 'Suggested'), ('under_review', 'Under review'), ('approved', 'Approved'), ('introduced', 'Introduced'), ('negotiating', 'Negotiating'), ('implemented', 'Implemented'), ('rejected', 'Rejected'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], max_length=14)),
                ('match', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='matching.match')),
                ('region', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='companies.region')),
            ],
            options={
                'indexes': [models.Index(fields=['region', '-score', 'match'], include=('status',), name='matchregion_list_idx')],
            },
        ),
        migrations.RunPython(_create, _drop),
    ]
