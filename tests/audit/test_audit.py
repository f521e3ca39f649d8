"""The audit trail: who, what, when (UTC), from where; staff only; not editable through the app."""

import datetime

import pytest
from django.db import IntegrityError, InternalError, transaction

from audit.models import AuditEvent
from audit.services import audit_record
from matching.choices import MatchStatus
from matching.models import Match
from streams.choices import StreamStatus, Visibility
from streams.services import stream_create, stream_set_status, stream_update
from tests.conftest import PASSWORD
from tests.factories import StreamFactory, leaf_category

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_stream(company_a):
    return StreamFactory(site=company_a.sites.first(), title="Secret brine", visibility=Visibility.PRIVATE)


@pytest.fixture
def anonymous_stream(company_a):
    return StreamFactory(site=company_a.sites.first(), title="Whey", visibility=Visibility.ANONYMOUS)


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def test_stream_create_update_and_status_changes_are_recorded_by_the_services(member, company_a):
    stream = stream_create(company=company_a, actor=member, direction="offer", kind="material", title="Chips",
                           category=leaf_category("material"), quantity=5, unit="t", period="year")
    stream_update(stream=stream, actor=member, title="Wood chips")
    stream_set_status(stream=stream, actor=member, status=StreamStatus.PAUSED)
    (created,), (updated,), (status,) = events("stream.create"), events("stream.update"), events("stream.status")
    for event in (created, updated, status):
        assert event.actor == member and event.actor_repr == "alice"
        assert (event.object_type, event.object_id) == ("streams.stream", str(stream.pk))
        assert event.at.utcoffset() == datetime.timedelta(0)
    assert updated.detail["fields"] == ["title"]
    assert status.detail == {"old": "active", "new": "paused"}


def test_a_stream_deleted_by_any_path_is_recorded(anonymous_stream):
    pk = anonymous_stream.pk
    anonymous_stream.delete()
    (event,) = events("stream.delete")
    assert event.object_id == str(pk) and event.detail["title"] == "Whey"


def test_the_web_and_api_record_where_a_change_came_from(api, web, member, anonymous_stream):
    web(member).post(f"/streams/{anonymous_stream.pk}/status/", {"status": "paused"},
                     HTTP_USER_AGENT="Firefox 200", REMOTE_ADDR="203.0.113.7")
    (event,) = events("stream.status")
    assert (event.ip, event.user_agent, event.actor) == ("203.0.113.7", "Firefox 200", member)
    response = api(member).patch(f"/api/v1/streams/{anonymous_stream.pk}/", {"title": "Sweet whey"},
                                 format="json", REMOTE_ADDR="198.51.100.4")
    assert response.status_code == 200, response.content
    (event,) = events("stream.update")
    assert (event.ip, event.actor) == ("198.51.100.4", member)


def test_a_failed_login_is_recorded_with_the_name_tried_and_the_address(client, member):
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="192.0.2.9")
    (event,) = events("auth.login_failed")
    assert event.detail == {"username": "alice"} and event.ip == "192.0.2.9" and event.actor is None
    assert "wrong" not in str(event.detail)
    client.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert len(events("auth.login_failed")) == 1


def test_behind_a_trusted_proxy_the_forwarded_address_is_recorded(settings, client, member):
    settings.TRUSTED_PROXY_COUNT = 1
    client.post("/accounts/login/", {"username": "alice", "password": "wrong"}, REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.10")
    assert events("auth.login_failed")[0].ip == "192.0.2.10"  # the proxy's entry, not the client's claim


def test_a_match_status_change_is_recorded(company_a, company_b, member):
    offer = StreamFactory(site=company_a.sites.first())
    need = StreamFactory(site=company_b.sites.first(), direction="need", category=offer.category)
    match = Match.objects.create(offer=offer, need=need, source_company=company_a, target_company=company_b,
                                 score=0.5, distance_km=10, engine_version="t")
    match.score = 0.6
    match.save()
    assert events("match.transition") == []
    match.status = MatchStatus.UNDER_REVIEW
    match.save()
    (event,) = events("match.transition")
    assert event.detail == {"old": "suggested", "new": "under_review"}
    assert event.object_id == str(match.pk)


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/streams/{pk}/", 404),
        ("/streams/{pk}/edit/", 404),
        ("/api/v1/streams/{pk}/", 404),
    ],
)
def test_probing_another_companys_invisible_stream_is_recorded(web, api, other_member, private_stream, path, code):
    url = path.format(pk=private_stream.pk)
    client = api(other_member) if url.startswith("/api/") else web(other_member)
    assert client.get(url, REMOTE_ADDR="192.0.2.44").status_code == code
    (event,) = events("access.refused")
    assert event.actor == other_member and event.ip == "192.0.2.44"
    assert (event.object_type, event.object_id) == ("streams.stream", str(private_stream.pk))
    assert event.detail["status"] == 404


@pytest.mark.parametrize("path", ["/streams/{pk}/edit/", "/api/v1/streams/{pk}/"])
def test_changing_a_visible_but_foreign_stream_is_recorded_as_a_403(web, api, other_member, anonymous_stream, path):
    url = path.format(pk=anonymous_stream.pk)
    if url.startswith("/api/"):
        response = api(other_member).patch(url, {"title": "hijack"}, format="json")
    else:
        response = web(other_member).post(url, {"title": "hijack"})
    assert response.status_code == 403
    (event,) = events("access.refused")
    assert event.detail["status"] == 403 and event.actor == other_member
    assert event.object_id == str(anonymous_stream.pk)


def test_a_missing_object_or_an_own_object_leaves_no_refusal(web, member, private_stream):
    assert web(member).get("/streams/999999/").status_code == 404
    assert web(member).get(f"/streams/{private_stream.pk}/").status_code == 200
    assert events("access.refused") == []


def test_only_staff_see_the_audit_page_and_it_filters(web, staff, member, facilitator):
    audit_record(action="stream.create", actor=member, object_type="streams.stream", object_id=1)
    audit_record(action="auth.login_failed", username="mallory")
    assert web(member).get("/audit/").status_code == 403
    assert web(facilitator).get("/audit/").status_code == 403
    assert web(None).get("/audit/").status_code == 302
    page = web(staff).get("/audit/?action=auth")
    assert page.status_code == 200
    assert [e.action for e in page.context["object_list"]] == ["auth.login_failed"]


def test_the_admin_offers_no_way_to_add_change_or_delete_events(web, staff, member):
    event = audit_record(action="stream.create", actor=member)
    client = web(staff)
    assert client.get("/admin/audit/auditevent/").status_code == 200
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    client.post(f"/admin/audit/auditevent/{event.pk}/change/", {"action": "forged"})
    assert client.post(f"/admin/audit/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    event.refresh_from_db()
    assert event.action == "stream.create"


@pytest.mark.parametrize("operation", ["update", "delete"])
def test_the_database_rejects_changing_or_deleting_an_event(member, operation):
    event = audit_record(action="stream.create", actor=member)
    with pytest.raises((InternalError, IntegrityError)), transaction.atomic():
        if operation == "update":
            AuditEvent.objects.filter(pk=event.pk).update(action="forged")
        else:
            AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == "stream.create"


def test_deleting_a_user_keeps_their_events(member):
    audit_record(action="stream.create", actor=member)
    member.delete()
    assert AuditEvent.objects.get().actor_repr == "alice"


def test_an_api_action_refused_with_403_is_recorded(api, member):
    response = api(member).post("/api/v1/matching-runs/", {"kind": "full"}, format="json")
    assert response.status_code == 403, response.content
    (event,) = events("access.refused")
    assert event.actor == member and event.detail["status"] == 403 and event.detail["method"] == "POST"
    assert event.object_type == "matching.matchingrun"
