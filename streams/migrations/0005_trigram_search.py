# Trigram indexes for the `q` search of streams (`StreamFilterSet.search`: title or description
# contains the words, any case), on PostgreSQL only. Django's `icontains` is `UPPER(col) LIKE
# UPPER('%word%')`, so the indexes are on UPPER(col). They stay outside the model state: SQLite (the
# development database) has no GIN indexes, and a table that SQLite rebuilds gets the model state's
# indexes again. pg_trgm is a trusted extension: the database's owner may create it. Not Django's
# TrigramExtension operation: its reverse queries pg_extension on SQLite too, and would drop an
# extension that other tables may use; going back drops just these indexes.

from django.db import migrations

INDEXES = {"stream_title_trgm_idx": "title", "stream_description_trgm_idx": "description"}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, column in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON streams_stream USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("streams", "0004_list_indexes"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
