"""Injection and scripting: a corpus of XSS payloads (tests/security/xss_payloads.txt) stored in every
text field a page, partial, API answer or export renders, requested as the owner, the counterpart and
the facilitator. A payload must never come back raw in HTML, JSON must be served as JSON, and a CSV or
XLSX cell must never start a formula.

Payloads are written with `QuerySet.update()`, bypassing form and service validation, as an import,
the admin or an old row could store them: the escaping on the way out is what is tested.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from companies.models import Company, Region, Site
from facilitation.models import MatchEvent, MatchMessage, MatchNote, Notification
from matching.models import Match, MatchingRun
from streams.models import ResourceCategory, Stream
from tests.security.world import build_world

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text().splitlines() if line.strip()]
VIEWERS = ("admin_a", "member_b", "facilitator_x")  # owner, counterpart, facilitator
JSON_SCRIPT = re.compile(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', re.S)
FORMULA_START = re.compile(r"^(=|\+|@|\t|\r|-(?![\d.]))")


def test_the_corpus_has_at_least_twenty_payloads():
    assert len(PAYLOADS) >= 20


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


def _fit(model, field, value):
    return value[: model._meta.get_field(field).max_length or None]


def store(world, payload: str) -> None:
    """The payload in every free-text field of A's and B's rows and of the shared reference rows."""
    tenant = world.tenants["B"]
    a = world.personas["admin_a"].memberships.get().company
    companies = [a.pk, tenant.company.pk, tenant.partner.pk]
    for model, fields in (
        (Company, ("name", "description")),
        (Site, ("name", "address")),
        (Stream, ("title", "description", "composition", "contaminants")),
    ):
        key = "pk__in" if model is Company else "company_id__in"
        model.objects.filter(**{key: companies}).update(**{f: _fit(model, f, payload) for f in fields})
    for company in companies:  # external_ref is unique per company: one stream each
        first = Stream.objects.filter(company_id=company).order_by("pk").first()
        Stream.objects.filter(pk=first.pk).update(external_ref=_fit(Stream, "external_ref", payload))
    # Public listings, so the counterpart sees them too.
    Stream.objects.filter(company_id__in=companies).update(visibility="public", status="active")
    Match.objects.filter(source_company_id__in=companies).update(reasons=[payload])
    # Facilitation texts: the match's timeline comment, a private note, a message and notifications.
    match = tenant.match
    MatchEvent.objects.create(match=match, actor_role="facilitator", action="review", from_status=match.status,
                              to_status=match.status, comment=payload)
    MatchNote.objects.create(match=match, text=payload)
    MatchMessage.objects.create(match=match, author_role="facilitator", text=payload)
    for user in (world.personas["facilitator_x"], world.personas["member_b"]):
        Notification.objects.create(user=user, match=match, text=_fit(Notification, "text", payload))
    MatchingRun.objects.filter(pk=tenant.run.pk).update(message=_fit(MatchingRun, "message", payload),
                                                        error=payload)
    Region.objects.filter(pk=tenant.region.pk).update(name=_fit(Region, "name", payload))
    ResourceCategory.objects.filter(pk=tenant.private_stream.category_id).update(
        name=_fit(ResourceCategory, "name", payload))
    cache.clear()  # dashboards cache rendered bodies by data version; render them anew


def urls(world) -> list[str]:
    t = world.tenants["B"]
    a = world.personas["admin_a"].memberships.get().company
    own = Stream.objects.filter(company=a).first()
    out = [
        reverse("companies:home"), reverse("streams:stream_list"), reverse("streams:my_streams"),
        reverse("matching:match_list"), reverse("matching:run_list"), reverse("dashboards:index"),
        reverse("dashboards:open_data"), reverse("streams:stream_create"),
        reverse("dashboards:region", args=[t.region.code]),
        reverse("companies:company_detail", args=[a.pk]), reverse("companies:company_edit", args=[a.pk]),
        reverse("companies:company_detail", args=[t.company.pk]),
        reverse("dashboards:company_impact", args=[a.pk]), reverse("dashboards:company_impact", args=[t.company.pk]),
        reverse("streams:stream_detail", args=[own.pk]), reverse("streams:stream_edit", args=[own.pk]),
        reverse("streams:stream_detail", args=[t.private_stream.pk]),
        reverse("matching:match_detail", args=[t.match.pk]),
        reverse("matching:run_detail", args=[t.run.pk]), reverse("matching:run_progress", args=[t.run.pk]),
        "/api/v1/companies/", "/api/v1/streams/", "/api/v1/sites/", "/api/v1/matches/",
        f"/api/v1/streams/{t.private_stream.pk}/", f"/api/v1/dashboards/{t.region.code}/",
        reverse("matching:review_queue"), reverse("matching:pipeline"), reverse("matching:notification_list"),
        reverse("matching:match_thread", args=[t.match.pk]), "/api/v1/notifications/",
        f"/api/v1/matches/{t.match.pk}/events/", f"/api/v1/matches/{t.match.pk}/notes/",
        f"/api/v1/matches/{t.match.pk}/messages/", reverse("companies:exclusion_list", args=[a.pk]),
    ]
    for fmt in ("csv", "xlsx", "geojson"):
        out.append(reverse("dashboards:export", args=[t.region.code, fmt]))
        out.append(reverse("dashboards:open_data_export", args=[fmt]))
    return out


def problems_in(response, payload: str, where: str) -> list[str]:
    ctype = response.get("Content-Type", "")
    body = response.content
    found = []
    if ctype.startswith("text/html"):
        text = body.decode()
        # json_script data blocks are inert unless they can close their <script>: json_script escapes
        # < > &, so check that and then leave the data out of the markup checks.
        for data in JSON_SCRIPT.findall(text):
            if "<" in data:
                found.append(f"{where}: a JSON data block holds a raw '<': {data[:80]!r}")
        text = JSON_SCRIPT.sub("", text)
        if payload in text:
            at = text.index(payload)
            found.append(f"{where}: the payload comes back unescaped: ...{text[max(0, at - 80):at + 40]!r}")
        # Rendered as a template, payload 21 reverses its word: a string no page shows otherwise (a number
        # such as 1337+1 can be an object id on the page).
        if "tpljin" in text and "nijlpt" in payload:
            found.append(f"{where}: the payload was rendered as a template")
        if re.search(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", text, re.I):
            found.append(f"{where}: a javascript: URL in an attribute")
    elif "csv" in ctype:
        for row in csv.reader(io.StringIO(body.decode())):
            found += [f"{where}: CSV cell starts a formula: {c[:40]!r}" for c in row if FORMULA_START.match(c)]
    elif "spreadsheet" in ctype:
        wb = load_workbook(io.BytesIO(body))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                found += [f"{where}: XLSX formula {c.value!r}" for c in row if c.data_type == "f"]
    elif response.status_code == 200 and not (
        ctype.startswith(("application/json", "application/geo+json", "application/vnd.oai")) or body == b""
    ):
        found.append(f"{where}: served as {ctype!r}")
    return found


@pytest.mark.parametrize("payload", PAYLOADS, ids=[f"payload{i + 1}" for i in range(len(PAYLOADS))])
def test_stored_payloads_never_come_back_unescaped(payload, world, db):
    store(world, payload)
    problems = []
    for persona in VIEWERS:
        client = Client()
        client.force_login(world.personas[persona])
        for url in urls(world):
            r = client.get(url)
            if r.status_code >= 500:
                problems.append(f"{persona} GET {url}: {r.status_code}")
            problems += problems_in(r, payload, f"{persona} GET {url}")
    assert not problems, "\n".join(problems)
