"""Every page works on a closed intranet and under a strict Content-Security-Policy: no external
hosts in src/href/action, no inline scripts, event handlers or style attributes, and every static
file a page or template refers to exists."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from streams.models import ResourceCategory
from tests.factories import StreamFactory

pytestmark = pytest.mark.django_db

LOCAL_HOSTS = {"testserver", "localhost", "127.0.0.1", "[::1]"}
URL_ATTR = re.compile(r"""\b(?:src|href|action|hx-get|hx-post|srcset|poster|data)\s*=\s*["']([^"']*)["']""", re.I)
EXTERNAL = re.compile(r"^(?:https?:)?//([^/:?#]+)", re.I)
STATIC_PREFIX = "/" + settings.STATIC_URL.lstrip("/")
STATIC_REF = re.compile(r"""["'(]""" + re.escape(STATIC_PREFIX) + r"""([^"')?#]+)""")
TEMPLATE_STATIC = re.compile(r"""\{%\s*static\s+["']([^"']+)["']\s*%\}""")
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"


@pytest.fixture
def pages(company_a, member, company_b):
    category, _ = ResourceCategory.objects.get_or_create(
        code="MAT.PAGETEST.SAWDUST",
        defaults={"kind": "material", "name": "Pagetest sawdust and shavings", "level": 2, "is_leaf": True},
    )
    own = StreamFactory(site=company_a.sites.first(), category=category, title="Own whey")
    other = StreamFactory(site=company_b.sites.first(), category=category, title="Other sawdust")
    own.title = "Own whey, sweet"
    own.save()  # gives the detail page a history to show
    return {
        member: [
            "/", "/streams/", "/streams/?kind=material&q=whey", "/streams/mine/", "/streams/new/",
            f"/streams/{own.pk}/", f"/streams/{other.pk}/", f"/streams/{own.pk}/edit/",
            f"/companies/{company_a.pk}/", f"/companies/{company_a.pk}/edit/",
            f"/companies/{company_a.pk}/sites/new/", "/companies/onboard/", "/accounts/password_change/",
            "/streams/options/units/?kind=energy", "/streams/options/categories/?kind=material&category_q=saw",
        ],
        None: [
            "/", "/accounts/login/", "/accounts/signup/", "/accounts/password_reset/",
            "/accounts/password_reset/done/", "/accounts/reset/MQ/bad-token/",
            "/companies/nace-options/?q=dairy",
        ],
    }


def rendered(web, pages):
    for user, paths in pages.items():
        client = web(user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, path
            yield path, response.content.decode()


def test_no_page_refers_to_an_external_host(web, pages):
    for path, html in rendered(web, pages):
        for url in URL_ATTR.findall(html):
            match = EXTERNAL.match(url.strip())
            assert match is None or match.group(1).lower() in LOCAL_HOSTS, f"{path} refers to {url}"


def test_no_page_has_inline_scripts_handlers_or_styles(web, pages):
    for path, html in rendered(web, pages):
        for tag in re.findall(r"<script\b[^>]*>", html, re.I):
            assert "src=" in tag, f"inline script on {path}"
        assert not re.search(r"<style\b", html, re.I), path
        assert not re.search(r"""\s(?:style|on[a-z]+)\s*=\s*["']""", html, re.I), path
        assert "javascript:" not in html.lower(), path


def test_every_page_has_a_language_a_viewport_and_a_skip_link(web, pages):
    for path, html in rendered(web, pages):
        if "<html" not in html:
            continue  # htmx partials
        assert re.search(r'<html lang="[a-z-]+"', html), path
        assert 'name="viewport"' in html, path
        assert 'href="#main"' in html, path


def test_every_static_file_a_page_refers_to_exists(web, pages):
    seen = set()
    for _path, html in rendered(web, pages):
        seen.update(STATIC_REF.findall(html))
    assert {"css/app.css", "js/app.js", "vendor/htmx/htmx.min.js"} <= seen
    for name in seen:
        assert finders.find(name), f"missing static file {name}"


def test_every_static_tag_in_the_templates_names_an_existing_file():
    names = set()
    for template in TEMPLATES_DIR.rglob("*.html"):
        names.update(TEMPLATE_STATIC.findall(template.read_text(encoding="utf-8")))
    assert names
    for name in names:
        assert finders.find(name), f"{{% static '{name}' %}} names a missing file"


def test_the_stylesheet_and_scripts_load_nothing_from_elsewhere():
    for name in ("css/app.css", "js/app.js"):
        text = Path(finders.find(name)).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), name
        assert "@import" not in text, name
    assert Path(finders.find("vendor/htmx/LICENSE")).exists()
