"""The move of facilitation's and the dashboards' models out of matching keeps every row: a populated
database migrates back to the state before the move (models in matching) and forward again, and the
rows, their ids and their content types (with the permissions on them) survive both ways."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dashboards.models import PublishedFigure
from facilitation.models import MatchEvent, MatchMessage, MatchNote, Notification, RealisedExchange
from matching.models import Match
from streams.choices import Direction
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, UserFactory, region

# Unapplying the new apps' migrations unapplies matching 0011 (it depends on them) as well.
BEFORE = [("matching", "0010_published_figure"), ("facilitation", None), ("dashboards", None)]
MOVED = {
    "facilitation": ("realisedexchange", "matchevent", "matchnote", "matchmessage", "notification"),
    "dashboards": ("publishedfigure",),
}


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor.migrate(targets).apps


def _leaf_targets():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _populate():
    user = UserFactory(username="fiona")
    a, b = CompanyFactory(name="Alpha AB"), CompanyFactory(name="Beta AB")
    se = region("SE22")
    offer = StreamFactory(site=SiteFactory(company=a, region=se))
    need = StreamFactory(site=SiteFactory(company=b, region=se), direction=Direction.NEED)
    match = Match.objects.create(offer=offer, need=need, source_company=a, target_company=b, score=0.5,
                                 distance_km=3, engine_version="test")
    rows = {
        "realisedexchange": RealisedExchange.objects.create(
            match=match, started_on=datetime.date(2026, 1, 1), quantity_yearly=40, unit="t", recorded_by=user),
        "matchevent": MatchEvent.objects.create(match=match, actor=user, actor_role="facilitator", action="review",
                                                from_status="suggested", to_status="under_review"),
        "matchnote": MatchNote.objects.create(match=match, author=user, text="call them on Monday"),
        "matchmessage": MatchMessage.objects.create(match=match, author=user, author_role="facilitator", text="hello"),
        "notification": Notification.objects.create(user=user, match=match, text="a new match"),
        "publishedfigure": PublishedFigure.objects.create(region=se, table="t", row="r", column="c", value=7,
                                                          companies=3, counts=[3]),
    }
    return {name: row.pk for name, row in rows.items()}


def _content_types(app_label):
    return dict(ContentType.objects.filter(app_label=app_label).values_list("model", "pk"))


@pytest.mark.django_db(transaction=True)
def test_moved_models_keep_their_rows_and_content_types_both_ways(reference_data):
    leaf = _leaf_targets()
    ids = _populate()
    types = {app: _content_types(app) for app in MOVED}
    assert all(set(types[app]) >= set(models) for app, models in MOVED.items())
    permissions = set(Permission.objects.filter(content_type__app_label__in=MOVED).values_list("pk", "content_type"))
    assert permissions
    try:
        old = _migrate(BEFORE)
        # Before the move the models are matching's, over the same tables, with the same rows.
        for name, pk in ids.items():
            assert old.get_model("matching", name).objects.filter(pk=pk).exists(), name
        assert old.get_model("matching", "RealisedExchange").objects.get(pk=ids["realisedexchange"]).match_id
        assert not _content_types("facilitation") and not _content_types("dashboards")
        back = _content_types("matching")
        for app, models in MOVED.items():
            assert {m: back[m] for m in models} == types[app]  # the same content type rows, relabelled
        for app in MOVED:
            with pytest.raises(LookupError):
                old.get_model(app, MOVED[app][0])
    finally:
        new = _migrate(leaf)
    for app, models in MOVED.items():
        for name in models:
            assert new.get_model(app, name).objects.filter(pk=ids[name]).exists(), name
            with pytest.raises(LookupError):
                new.get_model("matching", name)
        assert _content_types(app) == types[app]
    assert set(Permission.objects.filter(content_type__app_label__in=MOVED).values_list("pk", "content_type")) \
        == permissions
    assert RealisedExchange.objects.get(pk=ids["realisedexchange"]).quantity_yearly == 40
    assert PublishedFigure.objects.get(pk=ids["publishedfigure"]).value == 7
