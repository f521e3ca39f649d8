"""Facilitation's models move here from matching with their data: the tables keep their names
(`matching_realisedexchange`, `matching_matchevent`, ...), only Django's state and the content types
change. matching/migrations/0011 removes them from matching's state after this one."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MODELS = ('realisedexchange', 'matchevent', 'matchnote', 'matchmessage', 'notification')


def _relabel(apps, old: str, new: str) -> None:
    """Move the content types (and so their permissions and any row that points at them) of MODELS
    from app label `old` to `new`; a type that already exists under `new` is left alone."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    taken = ContentType.objects.filter(app_label=new, model__in=MODELS).values_list("model", flat=True)
    ContentType.objects.filter(app_label=old, model__in=MODELS).exclude(model__in=list(taken)).update(app_label=new)


def forwards(apps, schema_editor):
    _relabel(apps, "matching", "facilitation")


def backwards(apps, schema_editor):
    _relabel(apps, "facilitation", "matching")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("matching", "0010_published_figure"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist already (created by matching's migrations) and keep their names
        # (Meta.db_table): only Django's state moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='MatchNote',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('text', models.TextField(max_length=5000, verbose_name='note')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('author', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('match', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notes', to='matching.match')),
                    ],
                    options={
                        'db_table': 'matching_matchnote',
                        'ordering': ('-created_at', '-pk'),
                    },
                ),
                migrations.CreateModel(
                    name='MatchEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('actor_role', models.CharField(help_text='facilitator, staff, offer, need or system', max_length=12)),
                        ('action', models.CharField(choices=[('review', 'Start review'), ('approve', 'Approve'), ('reject', 'Reject'), ('introduce', 'Introduce'), ('accept', 'Interested'), ('decline', 'Not interested'), ('negotiate', 'Start negotiating'), ('implement', 'Record as implemented'), ('withdraw', 'Withdraw')], max_length=10)),
                        ('from_status', models.CharField(choices=[('suggested', 'Suggested'), ('under_review', 'Under review'), ('approved', 'Approved'), ('introduced', 'Introduced'), ('negotiating', 'Negotiating'), ('implemented', 'Implemented'), ('rejected', 'Rejected'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], max_length=14)),
                        ('to_status', models.CharField(choices=[('suggested', 'Suggested'), ('under_review', 'Under review'), ('approved', 'Approved'), ('introduced', 'Introduced'), ('negotiating', 'Negotiating'), ('implemented', 'Implemented'), ('rejected', 'Rejected'), ('declined', 'Declined'), ('withdrawn', 'Withdrawn')], max_length=14)),
                        ('reason_code', models.CharField(blank=True, choices=[('not_compatible', 'Materials do not fit'), ('quality', 'Quality or contaminants'), ('regulatory', 'Regulatory obstacle'), ('distance', 'Too far apart'), ('volume', 'Quantities do not fit'), ('commercial', 'Not viable commercially'), ('duplicate', 'Already partners or duplicate'), ('other', 'Other')], max_length=16)),
                        ('comment', models.TextField(blank=True)),
                        ('at', models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('match', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='matching.match')),
                    ],
                    options={
                        'db_table': 'matching_matchevent',
                        'ordering': ('at', 'pk'),
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('action', 'reject'), _negated=True), models.Q(('reason_code', ''), _negated=True), _connector='OR'), name='matchevent_reject_has_reason')],
                    },
                ),
                migrations.CreateModel(
                    name='MatchMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('author_role', models.CharField(max_length=12)),
                        ('text', models.TextField(max_length=5000, verbose_name='message')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('author', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('match', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='matching.match')),
                    ],
                    options={
                        'db_table': 'matching_matchmessage',
                        'ordering': ('created_at', 'pk'),
                        'constraints': [models.CheckConstraint(condition=models.Q(('text', ''), _negated=True), name='matchmessage_not_empty')],
                    },
                ),
                migrations.CreateModel(
                    name='Notification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('text', models.CharField(max_length=300)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('read_at', models.DateTimeField(blank=True, null=True)),
                        ('match', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='matching.match')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'matching_notification',
                        'ordering': ('-created_at', '-pk'),
                        'indexes': [models.Index(fields=['user', '-created_at'], name='notification_user_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='RealisedExchange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('started_on', models.DateField(verbose_name='started on')),
                        ('quantity_yearly', models.FloatField(verbose_name='real quantity per year')),
                        ('unit', models.CharField(max_length=8)),
                        ('co2e_t', models.FloatField(default=0, verbose_name='t CO2e avoided per year')),
                        ('diverted_t', models.FloatField(default=0, verbose_name='t diverted from landfill or incineration per year')),
                        ('eur_provider', models.FloatField(default=0, verbose_name='EUR per year, provider')),
                        ('eur_receiver', models.FloatField(default=0, verbose_name='EUR per year, receiver')),
                        ('water_m3', models.FloatField(default=0, verbose_name='m3 water per year')),
                        ('energy_mwh', models.FloatField(default=0, verbose_name='MWh per year')),
                        ('note', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('match', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='realised', to='matching.match')),
                        ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'matching_realisedexchange',
                        'ordering': ('-started_on', 'pk'),
                        'constraints': [models.CheckConstraint(condition=models.Q(('quantity_yearly__gt', 0)), name='realised_quantity_gt_0')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(forwards, backwards),
    ]
