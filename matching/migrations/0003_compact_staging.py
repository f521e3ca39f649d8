# The staging table holds scratch rows of running full runs only; it is recreated with the compact
# numeric layout (rows of a run in progress during the upgrade are lost; that run is re-queued).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("matching", "0002_realised_exchange"),
    ]

    operations = [
        migrations.DeleteModel(name="MatchCandidate"),
        migrations.CreateModel(
            name="MatchCandidate",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("shard", models.IntegerField()),
                ("offer_id", models.BigIntegerField()),
                ("need_id", models.BigIntegerField()),
                ("source_company_id", models.BigIntegerField()),
                ("target_company_id", models.BigIntegerField()),
                ("prospective", models.BooleanField(default=False)),
                ("score", models.FloatField()),
                ("compatibility", models.FloatField()),
                ("distance_part", models.FloatField()),
                ("volume_value_part", models.FloatField()),
                ("availability_part", models.FloatField()),
                ("distance_km", models.FloatField()),
                ("exchangeable_yearly", models.FloatField()),
                ("unit", models.SmallIntegerField()),
                ("co2e_t", models.FloatField()),
                ("eur_provider", models.FloatField()),
                ("eur_receiver", models.FloatField()),
                ("diverted_t", models.FloatField()),
                ("run", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="matching.matchingrun")),
            ],
            options={
                "ordering": ("run", "shard", "pk"),
                "indexes": [models.Index(fields=["run", "shard"], name="matchcand_run_shard_idx")],
            },
        ),
    ]


def _unlogged(apps, schema_editor):
    # Scratch rows need no write-ahead log: after a database crash PostgreSQL empties the table, and
    # the run is re-queued from its MatchingRun row. Skipping the WAL halves the staging time.
    if schema_editor.connection.vendor == "postgresql":
        table = apps.get_model("matching", "MatchCandidate")._meta.db_table
        schema_editor.execute(f"ALTER TABLE {schema_editor.quote_name(table)} SET UNLOGGED")


Migration.operations.append(migrations.RunPython(_unlogged, migrations.RunPython.noop))
