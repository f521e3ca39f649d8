"""Load the resource taxonomy, the 842 EWC codes and the substitution rules (idempotent)."""

from django.db import migrations


def load(apps, schema_editor):
    from streams.reference import load_taxonomy

    load_taxonomy(
        apps.get_model("streams", "ResourceCategory"),
        apps.get_model("streams", "EwcCode"),
        apps.get_model("streams", "SubstitutionRule"),
    )


class Migration(migrations.Migration):
    dependencies = [("streams", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
