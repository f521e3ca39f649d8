"""PublishedFigure moves here from matching with its data: the table keeps its name
(`matching_publishedfigure`), only Django's state and the content type change.
matching/migrations/0011 removes it from matching's state after this one."""

import django.db.models.deletion
from django.db import migrations, models

MODELS = ('publishedfigure',)


def _relabel(apps, old: str, new: str) -> None:
    """Move the content types (and so their permissions and any row that points at them) of MODELS
    from app label `old` to `new`; a type that already exists under `new` is left alone."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = ContentType.objects.filter(app_label=new, model__in=MODELS).values_list("model", flat=True)
    ContentType.objects.filter(app_label=old, model__in=MODELS).exclude(model__in=list(taken)).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, "matching", "dashboards")


def backwards(apps, schema_editor):
    _relabel(apps, "dashboards", "matching")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("matching", "0010_published_figure"),
        ("companies", "0008_company_verified_by"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        # The tables exist already (created by matching's migrations) and keep their names
        # (Meta.db_table): only Django's state moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='PublishedFigure',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('table', models.CharField(max_length=32)),
                        ('row', models.CharField(max_length=255)),
                        ('column', models.CharField(max_length=32)),
                        ('value', models.JSONField(null=True)),
                        ('companies', models.PositiveIntegerField()),
                        ('counts', models.JSONField(default=list)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('region', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='companies.region')),
                    ],
                    options={
                        'db_table': 'matching_publishedfigure',
                        'ordering': ('region', 'table', 'row', 'column'),
                        'constraints': [models.UniqueConstraint(fields=('region', 'table', 'row', 'column'), name='publishedfigure_unique_cell')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
