"""The import key's constraints, in their own migration: after 0004 updated rows (PostgreSQL does not
alter a table with pending trigger events in the same transaction)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("companies", "0006_company_import_scope"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="company",
            constraint=models.UniqueConstraint(condition=models.Q(("import_scope", ""), _negated=True), fields=("import_scope", "external_ref"), name="company_unique_import_key", violation_error_message="Another company already has this company_ref."),
        ),
        migrations.AddConstraint(
            model_name="company",
            constraint=models.CheckConstraint(condition=models.Q(("import_scope", ""), ("external_ref__isnull", False), _connector="OR"), name="company_import_scope_has_ref"),
        ),
    ]
