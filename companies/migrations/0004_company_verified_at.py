from django.db import migrations, models
from django.db.models import F, Q

DEMO_PREFIX = "demo-c-"  # demo.planning.COMPANY_PREFIX, frozen here


def verify_vouched_companies(apps, schema_editor):
    """Companies a facilitator entered, and the demo's, were vouched for when they were created:
    verified since then. Self-registered companies wait for a facilitator (company_verify)."""
    Company = apps.get_model("companies", "Company")
    Company.objects.filter(
        Q(entered_by_facilitator=True) | Q(external_ref__startswith=DEMO_PREFIX), verified_at__isnull=True,
    ).update(verified_at=F("created_at"))


class Migration(migrations.Migration):

    dependencies = [
        ("companies", "0003_competitor_exclusion"),
    ]

    operations = [
        migrations.AddField(
            model_name="company",
            name="verified_at",
            field=models.DateTimeField(
                blank=True, help_text="Set when a facilitator or staff member has checked that the company is real.",
                null=True, verbose_name="verified at",
            ),
        ),
        migrations.RunPython(verify_vouched_companies, migrations.RunPython.noop),
    ]
