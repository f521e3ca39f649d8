"""Playing the attacker against the per-account log-in limits (issue #18, finding 10).

Django's log-in form applies NFKC to the username (`UsernameField`), so the full-width
"ｄｅｍｏ-ｓｍｅ" signs in as "demo-sme". Were the per-account counter keyed on the raw text, every
look-alike spelling would get a fresh allowance of guesses for the same account."""

import pytest

from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.ratelimit]

FULL_WIDTH = "ｄｅｍｏ-ｓｍｅ"  # NFKC: "demo-sme"


@pytest.fixture
def demo(db):
    return UserFactory(username="demo-sme", is_staff=True)


def _guess(client, url, username, password="wrong", ip="192.0.2.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("url", ["/accounts/login/", "/admin/login/"])
def test_a_full_width_username_shares_the_accounts_log_in_limit(settings, client, demo, url):
    settings.RATELIMIT_AUTH_ACCOUNT = "3/m"
    for i, spelling in enumerate(("demo-sme", "DEMO-SME", "demo-sme ")):  # spread over addresses
        assert _guess(client, url, spelling, ip=f"192.0.2.{i}").status_code == 200
    # The attacker switches to the look-alike, from a fresh address, with the right password.
    attempt = _guess(client, url, FULL_WIDTH, password=PASSWORD, ip="198.51.100.7")
    assert attempt.status_code == 429, f"{url}: the look-alike got its own counter ({attempt.status_code})"
    assert "_auth_user_id" not in client.session


def test_a_look_alike_e_mail_shares_the_password_reset_limit(settings, client, demo, mailoutbox):
    settings.RATELIMIT_AUTH_ACCOUNT = "2/m"
    for i in range(2):
        sent = client.post("/accounts/password_reset/", {"email": demo.email}, REMOTE_ADDR=f"192.0.2.{i}")
        assert sent.status_code == 302
    look_alike = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in demo.email.upper())
    attempt = client.post("/accounts/password_reset/", {"email": look_alike}, REMOTE_ADDR="198.51.100.7")
    assert attempt.status_code == 429
