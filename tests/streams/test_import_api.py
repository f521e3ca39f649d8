"""The workshop import through the API: isolation, preview, commit, another user's upload, hostile files."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from companies.models import Company
from streams.models import PendingImport, Stream
from tests.streams.test_hostile_files import zeros_member
from tests.streams.test_import_page import HEADER, ROWS

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/imports/"


def sheet(rows, name="workshop.csv"):
    return SimpleUploadedFile(name, ("\n".join([HEADER, *rows]) + "\n").encode(), content_type="text/csv")


@pytest.mark.parametrize(("persona", "code"), [
    ("anon", 403), ("member", 403), ("other_member", 403), ("authority", 403), ("facilitator", 201),
    ("facilitator_y", 201), ("staff", 201),
])
def test_api_isolation(api, request, persona, code):
    response = api(request.getfixturevalue(persona)).post(IMPORTS, {"sheet": sheet(ROWS)}, format="multipart")
    assert response.status_code in ((401, 403) if code == 403 and persona == "anon" else (code,))
    assert not Company.objects.filter(external_ref__startswith="W-").exists()


def test_upload_preview_and_commit(api, facilitator, django_capture_on_commit_callbacks,
                                   django_assert_max_num_queries):
    client = api(facilitator)
    created = client.post(IMPORTS, {"sheet": sheet(ROWS)}, format="multipart")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["can_commit"] and body["errors"] == [] and body["counts"]["streams"]["created"] == 3
    token = body["token"]
    with django_assert_max_num_queries(20):
        assert client.get(f"{IMPORTS}{token}/").json()["status"] == "pending"
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"{IMPORTS}{token}/commit/")
    assert started.status_code == 202
    done = client.get(f"{IMPORTS}{token}/").json()
    assert done["status"] == "done" and done["result"]["counts"]["companies"]["created"] == 2
    assert Stream.objects.filter(entered_by_facilitator=True, entered_by=facilitator).count() == 3


def test_the_preview_reports_every_row_error(api, facilitator):
    bad = [ROWS[0].replace("020501", "999999"), ROWS[1].replace("MWh", "t"), ROWS[2]]
    body = api(facilitator).post(IMPORTS, {"sheet": sheet(bad)}, format="multipart").json()
    assert not body["can_commit"]
    assert [(e["row"], e["column"]) for e in body["errors"]] == [(2, "ewc_code"), (3, "unit")]


def test_another_users_upload_is_a_404(api, facilitator, facilitator_y, staff):
    token = api(facilitator).post(IMPORTS, {"sheet": sheet(ROWS)}, format="multipart").json()["token"]
    for user in (facilitator_y, staff):
        assert api(user).get(f"{IMPORTS}{token}/").status_code == 404
        assert api(user).post(f"{IMPORTS}{token}/commit/").status_code == 404
    assert PendingImport.objects.get().status == "pending"


def test_hostile_uploads_are_refused_quickly(api, facilitator, settings):
    client = api(facilitator)
    payload = SimpleUploadedFile("b.xlsx", zeros_member(400))
    started = time.perf_counter()
    bomb = client.post(IMPORTS, {"sheet": payload}, format="multipart")
    assert time.perf_counter() - started < 2
    assert bomb.status_code == 400 and "zip bomb" in bomb.json()["sheet"][0]
    settings.IMPORT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.csv", HEADER.encode() + b"\n" + b"W-9,x\n" * 300_000)
    refused = client.post(IMPORTS, {"sheet": big}, format="multipart")
    assert refused.status_code == 400 and "larger than 1 MB" in refused.json()["sheet"][0]
    assert not PendingImport.objects.exists()
