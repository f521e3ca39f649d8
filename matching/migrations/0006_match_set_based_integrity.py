"""Match references checked per statement instead of per row (PostgreSQL).

A full run inserts or updates up to a million Match rows in one statement. PostgreSQL's foreign keys
check each row with its own query (RI triggers): measured at 10k streams, 2.2 s of a 3.6 s insert of
80,564 rows. The references of Match (offer, need, source and target company) are declared with
db_constraint=False and enforced instead by statement-level triggers with transition tables, which
give the same guarantee with one set-based query per statement:

* after INSERT or UPDATE on matching_match, every referenced stream and company row is locked
  FOR KEY SHARE (as the foreign-key check does) and must exist, else the statement fails with
  SQLSTATE 23503 (foreign_key_violation, an IntegrityError in Django);
* at the commit of a transaction that deleted streams or companies, no Match may still reference a
  deleted row (23503 again; a deferred row trigger, as Django's foreign keys are deferred, since
  the ORM's cascade may delete a stream before the matches that point at it). The ORM removes the
  dependent matches (on_delete=CASCADE), so this only fires on a delete that bypasses it, or one
  that races with a run writing matches for that row: the delete waits for the run's row lock, then
  sees its committed rows and fails at commit, as it would with a foreign key. Deletes are rare;
  the check is two index probes per deleted row.

`run` is provenance only (SET_NULL through the ORM, never looked up by run): no check, no index.
The staging rows (MatchCandidate) are scratch data: no per-row check either.
On SQLite (the no-setup development mode) there is no check; the ORM cascades as before.
Tests: tests/matching/test_integrity.py.
"""

import django.db.models.deletion
from django.db import migrations, models


CHECK_SQL = """
CREATE OR REPLACE FUNCTION matching_match_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    wanted bigint;
    found bigint;
BEGIN
    WITH ids AS MATERIALIZED (
        SELECT offer_id AS id FROM new_rows WHERE offer_id IS NOT NULL
        UNION SELECT need_id FROM new_rows WHERE need_id IS NOT NULL
    ), locked AS (
        SELECT s.id FROM streams_stream s WHERE s.id IN (SELECT id FROM ids) FOR KEY SHARE OF s
    )
    SELECT (SELECT count(*) FROM ids), (SELECT count(*) FROM locked) INTO wanted, found;
    IF found < wanted THEN
        RAISE EXCEPTION 'matching_match references a stream that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    WITH ids AS MATERIALIZED (
        SELECT source_company_id AS id FROM new_rows UNION SELECT target_company_id FROM new_rows
    ), locked AS (
        SELECT c.id FROM companies_company c WHERE c.id IN (SELECT id FROM ids) FOR KEY SHARE OF c
    )
    SELECT (SELECT count(*) FROM ids), (SELECT count(*) FROM locked) INTO wanted, found;
    IF found < wanted THEN
        RAISE EXCEPTION 'matching_match references a company that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION matching_match_parent_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'streams_stream' THEN
        IF EXISTS (SELECT 1 FROM matching_match m WHERE m.offer_id = OLD.id)
           OR EXISTS (SELECT 1 FROM matching_match m WHERE m.need_id = OLD.id) THEN
            RAISE EXCEPTION 'a deleted stream is still referenced by matching_match'
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM matching_match m WHERE m.source_company_id = OLD.id)
          OR EXISTS (SELECT 1 FROM matching_match m WHERE m.target_company_id = OLD.id) THEN
        RAISE EXCEPTION 'a deleted company is still referenced by matching_match'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER matching_match_refs_insert AFTER INSERT ON matching_match
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION matching_match_check_refs();
CREATE TRIGGER matching_match_refs_update AFTER UPDATE ON matching_match
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION matching_match_check_refs();
-- Deferred to commit, like Django's foreign keys: the ORM's cascade may delete a stream before the
-- matches that point at it (it does not order deletes along nullable references).
CREATE CONSTRAINT TRIGGER matching_match_refs_stream_delete AFTER DELETE ON streams_stream
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION matching_match_parent_deleted();
CREATE CONSTRAINT TRIGGER matching_match_refs_company_delete AFTER DELETE ON companies_company
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION matching_match_parent_deleted();
"""

DROP_SQL = """
DROP TRIGGER IF EXISTS matching_match_refs_insert ON matching_match;
DROP TRIGGER IF EXISTS matching_match_refs_update ON matching_match;
DROP TRIGGER IF EXISTS matching_match_refs_stream_delete ON streams_stream;
DROP TRIGGER IF EXISTS matching_match_refs_company_delete ON companies_company;
DROP FUNCTION IF EXISTS matching_match_check_refs();
DROP FUNCTION IF EXISTS matching_match_parent_deleted();
"""


def _create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CHECK_SQL, params=None)


def _drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0003_competitor_exclusion'),
        ('matching', '0005_explained_on_read'),
        ('streams', '0003_pending_import'),
    ]

    operations = [
        migrations.AlterField(
            model_name='match',
            name='need',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='matches_as_need', to='streams.stream'),
        ),
        migrations.AlterField(
            model_name='match',
            name='offer',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='matches_as_offer', to='streams.stream'),
        ),
        migrations.AlterField(
            model_name='match',
            name='run',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='matching.matchingrun'),
        ),
        migrations.AlterField(
            model_name='match',
            name='source_company',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='companies.company'),
        ),
        migrations.AlterField(
            model_name='match',
            name='target_company',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='companies.company'),
        ),
        migrations.AlterField(
            model_name='matchcandidate',
            name='run',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='matching.matchingrun'),
        ),
        migrations.RunPython(_create, _drop),
    ]
