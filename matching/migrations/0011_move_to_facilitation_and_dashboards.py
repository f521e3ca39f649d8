"""Facilitation's models (RealisedExchange, MatchEvent, MatchNote, MatchMessage, Notification) and
the dashboards' PublishedFigure now belong to the apps `facilitation` and `dashboards`, whose
0001 migrations take them over with their tables. Here they leave matching's state; the database
is not touched."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("matching", "0010_published_figure"),
        ("facilitation", "0001_initial"),
        ("dashboards", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="MatchEvent"),
                migrations.DeleteModel(name="MatchMessage"),
                migrations.DeleteModel(name="MatchNote"),
                migrations.DeleteModel(name="Notification"),
                migrations.DeleteModel(name="PublishedFigure"),
                migrations.DeleteModel(name="RealisedExchange"),
            ],
            database_operations=[],
        ),
    ]
