"""Competitor exclusion by name (issue #18): a company's `name_key` (what a by-name exclusion
matches), and on the exclusion the name as given (`excluded_name`, the only name its list shows) and
the normalised name it applies to (`excluded_name_key`). Existing exclusions keep their company and
get its current name as the shown name."""

from django.conf import settings
from django.db import migrations, models


def fill(apps, schema_editor):
    from companies.models import company_name_key

    Company = apps.get_model("companies", "Company")
    Exclusion = apps.get_model("companies", "CompetitorExclusion")
    batch = []
    for company in Company.objects.only("pk", "name").iterator(chunk_size=5000):
        company.name_key = company_name_key(company.name)
        batch.append(company)
        if len(batch) == 5000:
            Company.objects.bulk_update(batch, ["name_key"])
            batch = []
    Company.objects.bulk_update(batch, ["name_key"])
    rows = list(Exclusion.objects.filter(excluded_company__isnull=False).select_related("excluded_company"))
    for row in rows:
        row.excluded_name = row.excluded_company.name
    Exclusion.objects.bulk_update(rows, ["excluded_name"])


class Migration(migrations.Migration):

    dependencies = [
        ('companies', '0004_company_verified_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='competitorexclusion',
            options={'ordering': ('company', 'excluded_nace__code', 'excluded_name', 'pk'), 'verbose_name': 'competitor exclusion'},
        ),
        migrations.RemoveConstraint(
            model_name='competitorexclusion',
            name='exclusion_company_xor_nace',
        ),
        migrations.AddField(
            model_name='company',
            name='name_key',
            field=models.CharField(db_index=True, default='', editable=False, max_length=200),
        ),
        migrations.AddField(
            model_name='competitorexclusion',
            name='excluded_name',
            field=models.CharField(blank=True, default='', max_length=200, verbose_name='excluded company name'),
        ),
        migrations.AddField(
            model_name='competitorexclusion',
            name='excluded_name_key',
            field=models.CharField(blank=True, editable=False, max_length=200, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='competitorexclusion',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('excluded_company__isnull', False), ('excluded_name_key__isnull', True), ('excluded_nace__isnull', True)), models.Q(('excluded_company__isnull', True), ('excluded_name_key__isnull', False), ('excluded_nace__isnull', True)), models.Q(('excluded_company__isnull', True), ('excluded_name_key__isnull', True), ('excluded_nace__isnull', False)), _connector='OR'), name='exclusion_one_target'),
        ),
        migrations.AddConstraint(
            model_name='competitorexclusion',
            constraint=models.UniqueConstraint(condition=models.Q(('excluded_name_key__isnull', False)), fields=('company', 'excluded_name_key'), name='exclusion_unique_name'),
        ),
    ]
