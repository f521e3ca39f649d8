"""Content-Security-Policy: every HTML page carries it, and scripts may only come from our own files."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from matching.models import Match
from tests.factories import StreamFactory

pytestmark = pytest.mark.django_db


def _parameterless_paths(resolver=None, prefix=""):
    """Every URL of the project that takes no argument (the pages one can simply GET)."""
    for p in (resolver or get_resolver()).url_patterns:
        route = prefix + str(p.pattern)
        if "<" in route or "(?P" in route or "^" in route.lstrip("^") or "\\" in route:
            continue
        if isinstance(p, URLResolver):
            yield from _parameterless_paths(p, route)
        elif isinstance(p, URLPattern):
            yield "/" + route.lstrip("^").rstrip("$")


def _directives(header):
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


def assert_strict_csp(response):
    header = response["Content-Security-Policy"]
    directives = _directives(header)
    script = directives.get("script-src", directives.get("default-src"))
    assert script == ["'self'"], header
    assert "'unsafe-inline'" not in header and "'unsafe-eval'" not in header
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    html = response.content.decode()
    # The page itself keeps to the policy: no inline script, no inline handler, no style attribute.
    # (json_script data blocks, type="application/json", are data, not script)
    assert not re.search(r"<script(?![^>]*\b(src=|type=\"application/json\"))[^>]*>", html), "inline <script>"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r"\sstyle=", html), "style attribute"


@pytest.fixture
def objects(company_a, company_b, staff):
    offer = StreamFactory(site=company_a.sites.first())
    need = StreamFactory(site=company_b.sites.first(), direction="need", category=offer.category)
    match = Match.objects.create(offer=offer, need=need, source_company=company_a, target_company=company_b,
                                 score=0.5, distance_km=10, engine_version="t")
    return [f"/streams/{offer.pk}/", f"/streams/{offer.pk}/edit/", f"/companies/{company_a.pk}/",
            f"/companies/{company_a.pk}/edit/", f"/matches/{match.pk}/", f"/companies/{company_a.pk}/sites/new/",
            "/admin/streams/stream/", f"/admin/streams/stream/{offer.pk}/change/", "/api/docs/?lang=en"]


def test_every_html_page_a_staff_member_can_get_has_a_strict_policy(staff, objects):
    from django.test import Client

    client = Client(raise_request_exception=False)  # e.g. the admin's autocomplete needs parameters
    client.force_login(staff)
    checked = []
    for path in [*sorted(set(_parameterless_paths())), *objects]:
        response = client.get(path)
        if response.status_code != 200 or not response["Content-Type"].startswith("text/html"):
            continue
        assert_strict_csp(response)
        checked.append(path)
    assert len(checked) >= 25, checked
    assert {"/", "/streams/", "/matches/", "/audit/", "/api/docs/?lang=en"} <= set(checked)


def test_anonymous_pages_and_error_pages_have_the_policy_too(client):
    for path in ("/accounts/login/", "/accounts/signup/", "/accounts/password_reset/", "/no/such/page/"):
        response = client.get(path)
        assert_strict_csp(response)


def test_json_api_answers_carry_the_policy(api, member):
    assert "Content-Security-Policy" in api(member).get("/api/v1/streams/")
