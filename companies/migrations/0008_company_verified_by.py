"""Who verified a company (`Company.verified_by`). A company a facilitator entered was verified by
that entry: its verifier is whoever entered it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import F


def fill(apps, schema_editor):
    Company = apps.get_model("companies", "Company")
    Company.objects.filter(entered_by_facilitator=True, verified_at__isnull=False, verified_by__isnull=True).update(
        verified_by=F("entered_by"))


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0007_company_import_key_constraints'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='company',
            name='verified_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='verified by'),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
