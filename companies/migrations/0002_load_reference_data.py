"""Load NACE Rev. 2 / Rev. 2.1 with their correspondence, and the Baltic Sea regions (idempotent)."""

from django.db import migrations


def load(apps, schema_editor):
    from companies.reference import load_nace, load_regions

    load_nace(apps.get_model("companies", "NaceCode"), apps.get_model("companies", "NaceCorrespondence"))
    load_regions(apps.get_model("companies", "Region"))


class Migration(migrations.Migration):
    dependencies = [("companies", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
