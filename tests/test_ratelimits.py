"""Abuse limits: log-in, sign-up and password reset (per address and per account) and the API
throttles answer 429, and let the client in again once the window has passed."""

import time
import types

import pytest
from rest_framework.throttling import SimpleRateThrottle

from streams.choices import Direction
from tests.conftest import PASSWORD
from tests.factories import leaf_category

pytestmark = [pytest.mark.django_db, pytest.mark.ratelimit]


@pytest.fixture
def clock(monkeypatch):
    """Both limiters' clocks, moved forward by the test (real time stays as it is)."""
    import django_ratelimit.core as core

    now = [time.time()]
    monkeypatch.setattr(core, "time", types.SimpleNamespace(time=lambda: now[0]))
    monkeypatch.setattr(SimpleRateThrottle, "timer", lambda self: now[0])

    def advance(seconds):
        now[0] += seconds

    return advance


def _login(client, username, password="wrong", ip="192.0.2.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_log_in_attempts_for_one_account_are_limited_and_recover(settings, client, member, clock):
    settings.RATELIMIT_AUTH_ACCOUNT = "3/m"
    for i in range(3):  # from different addresses: the account's own counter decides
        assert _login(client, "alice", ip=f"192.0.2.{i}").status_code == 200
    refused = _login(client, "Alice ", password=PASSWORD, ip="192.0.2.9")
    assert refused.status_code == 429
    assert b"Too many attempts" in refused.content and refused["Retry-After"] == "60"
    assert "_auth_user_id" not in client.session  # even the right password is not tried
    assert _login(client, "bob", ip="192.0.2.9").status_code == 200  # another account is not affected
    clock(61)
    assert _login(client, "alice", password=PASSWORD).status_code == 302


def test_log_in_attempts_from_one_address_are_limited_across_accounts(settings, client, clock):
    settings.RATELIMIT_AUTH_IP = "3/m"
    for name in ("a", "b", "c"):
        assert _login(client, name).status_code == 200
    assert _login(client, "d").status_code == 429
    assert _login(client, "d", ip="198.51.100.1").status_code == 200
    clock(61)
    assert _login(client, "e").status_code == 200


def test_the_admin_log_in_form_is_limited_too(settings, client, clock):
    settings.RATELIMIT_AUTH_ACCOUNT = "2/m"
    for _ in range(2):
        client.post("/admin/login/", {"username": "root", "password": "x"})
    assert client.post("/admin/login/", {"username": "root", "password": "x"}).status_code == 429


def test_sign_up_is_limited_per_address_and_recovers(settings, client, clock):
    settings.RATELIMIT_AUTH_IP = "2/m"
    for i in range(2):
        assert client.post("/accounts/signup/", {"username": f"new{i}"}).status_code == 200  # form errors
    assert client.post("/accounts/signup/", {"username": "new3"}).status_code == 429
    assert client.get("/accounts/signup/").status_code == 200  # reading the form is not limited
    clock(61)
    assert client.post("/accounts/signup/", {"username": "new4"}).status_code == 200


def test_password_reset_is_limited_per_e_mail_and_recovers(settings, client, member, mailoutbox, clock):
    settings.RATELIMIT_AUTH_ACCOUNT = "2/m"
    for i in range(2):
        response = client.post("/accounts/password_reset/", {"email": member.email}, REMOTE_ADDR=f"192.0.2.{i}")
        assert response.status_code == 302
    assert client.post("/accounts/password_reset/", {"email": member.email.upper()}).status_code == 429
    assert len(mailoutbox) == 2
    clock(61)
    assert client.post("/accounts/password_reset/", {"email": member.email}).status_code == 302


def test_the_api_throttles_anonymous_callers_and_recovers(settings, api, clock):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "anon": "3/min"}
    client = api()
    assert [client.get("/api/v1/regions/").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/api/v1/regions/")
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    clock(61)
    assert client.get("/api/v1/regions/").status_code == 200


def test_the_api_throttles_each_user_separately(settings, api, member, other_member, clock):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "user": "3/min"}
    alice = api(member)
    assert [alice.get("/api/v1/streams/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert api(other_member).get("/api/v1/streams/").status_code == 200
    clock(61)
    assert alice.get("/api/v1/streams/").status_code == 200


def test_stream_writes_have_their_own_scope_and_reads_stay_free(settings, api, member, clock):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "stream_writes": "2/min"}
    client = api(member)
    payload = {"direction": Direction.OFFER, "kind": "material", "title": "Offcuts",
               "category": leaf_category("material").code, "quantity": "5", "unit": "t", "period": "year"}
    codes = [client.post("/api/v1/streams/", {**payload, "title": f"Offcuts {i}"}, format="json").status_code
             for i in range(3)]
    assert codes == [201, 201, 429]
    assert client.get("/api/v1/streams/").status_code == 200
    clock(61)
    assert client.post("/api/v1/streams/", {**payload, "title": "Offcuts 9"}, format="json").status_code == 201


def test_starting_matching_runs_through_the_api_is_limited(settings, api, staff, clock):
    settings.API_THROTTLE_RATES = {**settings.API_THROTTLE_RATES, "matching_runs": "1/hour"}
    client = api(staff)
    assert client.post("/api/v1/matching-runs/", {"kind": "full"}, format="json").status_code == 202
    assert client.post("/api/v1/matching-runs/", {"kind": "full"}, format="json").status_code == 429
    assert client.get("/api/v1/matching-runs/").status_code == 200
