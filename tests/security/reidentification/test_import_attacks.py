"""Attacks on the workshop import (security review #18, findings 4 and 9), each played through the
product's own API, pages and command.

4: a company admin gives its company the reference a facilitator's sheet will use ("C-001" is the
   template's style) and so receives the real company's name and private streams at the next import.
9: the preview answers questions about companies and streams the importer may not see: their names
   in errors, and "unchanged" against "updated" confirming a guessed confidential value.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError

from companies.models import Company
from companies.roles import forget_roles
from streams.importing import COLUMNS, import_file
from streams.models import PendingImport, Stream
from tests.factories import SiteFactory, StreamFactory, region

pytestmark = pytest.mark.django_db

HEADER = ",".join(COLUMNS)
IMPORTS = "/api/v1/imports/"


def row(ref, *, name="", nace="", country="", site="", lat="", lon="", region_code="", stream="", direction="",
        kind="", title="", category="", quantity="", unit="", price="", route="", cost="", visibility=""):
    cells = dict.fromkeys(COLUMNS, "")
    cells.update({
        "company_ref": ref, "company_name": name, "nace_code": nace, "country": country, "site_name": site,
        "latitude": lat, "longitude": lon, "region": region_code, "stream_ref": stream, "direction": direction,
        "kind": kind, "title": title, "category": category, "quantity": quantity, "unit": unit,
        "price_eur_per_unit": price, "disposal_route": route, "disposal_cost_eur_per_unit": cost,
        "visibility": visibility,
    })
    return ",".join(cells[c] for c in COLUMNS)


def csv_bytes(rows) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


# The real company of the workshop, with a private stream: price, disposal route and cost.
VICTIM_ROWS = [
    row("C-001", name="Lunds Mejeri AB", nace="10.51", country="SE", site="Mejeri Lund", lat="55.7217",
        lon="13.2162", region_code="SE22", stream="S-001", direction="offer", kind="material",
        title="Whey from cheese making", category="MAT.FOOD.WHEY", quantity="1500", unit="t", price="5",
        route="sewer", cost="28", visibility="private"),
]


def api_preview(api, user, rows) -> dict:
    response = api(user).post(IMPORTS, {"sheet": SimpleUploadedFile("workshop.csv", csv_bytes(rows))},
                              format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    return {k: body[k] for k in ("rows", "counts", "errors", "warnings", "can_commit")}


def page_commit(web, user, rows, capture) -> PendingImport:
    client = web(user)
    response = client.post("/streams/import/", {"sheet": SimpleUploadedFile("workshop.csv", csv_bytes(rows))})
    assert response.status_code == 302, response.content
    pending = PendingImport.objects.filter(user=user).latest("pk")
    with capture(execute=True):
        client.post(f"/streams/import/{pending.token}/commit/")
    pending.refresh_from_db()
    return pending


# --- Finding 4: taking over a workshop company through its reference ------------------------------

def test_a_company_admin_cannot_give_its_company_an_import_reference_through_the_api(api, member, company_a):
    response = api(member).patch(f"/api/v1/companies/{company_a.pk}/", {"external_ref": "C-001"}, format="json")

    assert response.status_code in (200, 400)
    company_a.refresh_from_db()
    assert company_a.external_ref is None


def test_a_company_that_claims_a_workshop_reference_does_not_receive_the_import(
        api, web, member, company_a, facilitator, django_capture_on_commit_callbacks):
    # The attacker claims the guessable reference, then the facilitator imports the workshop sheet.
    api(member).patch(f"/api/v1/companies/{company_a.pk}/", {"external_ref": "C-001"}, format="json")

    pending = page_commit(web, facilitator, VICTIM_ROWS, django_capture_on_commit_callbacks)

    assert pending.status == "done", pending.result
    company_a.refresh_from_db()
    assert company_a.name == "Alpha Dairy AB" and not company_a.streams.exists()
    victim = Company.objects.get(name="Lunds Mejeri AB")
    assert victim.pk != company_a.pk and victim.entered_by == facilitator
    assert Stream.objects.get(external_ref="S-001").company == victim
    assert pending.result["company_ids"] == [victim.pk]


def test_a_reference_a_company_gave_itself_before_the_fix_is_never_matched(tmp_path, company_a, facilitator):
    # Data from before the fix: the admin's reference is still stored (the migration left it unscoped).
    Company.objects.filter(pk=company_a.pk).update(external_ref="C-001")
    sheet = tmp_path / "workshop.csv"
    sheet.write_bytes(csv_bytes(VICTIM_ROWS))

    call_command("import_streams", str(sheet), "--as", facilitator.username, stdout=io.StringIO(),
                 stderr=io.StringIO())

    company_a.refresh_from_db()
    assert company_a.name == "Alpha Dairy AB" and not company_a.streams.exists()
    assert Stream.objects.get(external_ref="S-001").company.name == "Lunds Mejeri AB"


def test_another_regions_facilitator_cannot_take_over_a_reference(
        api, web, facilitator, facilitator_y, django_capture_on_commit_callbacks):
    # facilitator_y (FI1B) imports their own C-001 first; the SE22 facilitator's C-001 is another company.
    ypsilon = [row("C-001", name="Ypsilon Oy", nace="24.51", country="FI", site="Ypsilon Vantaa", lat="60.29",
                   lon="25.04", region_code="FI1B")]
    assert page_commit(web, facilitator_y, ypsilon, django_capture_on_commit_callbacks).status == "done"

    pending = page_commit(web, facilitator, VICTIM_ROWS, django_capture_on_commit_callbacks)

    assert pending.status == "done", pending.result
    assert Company.objects.get(import_scope="region:FI1B", external_ref="C-001").name == "Ypsilon Oy"
    assert Company.objects.get(import_scope="region:SE22", external_ref="C-001").name == "Lunds Mejeri AB"


# --- Finding 9: the preview as an oracle ------------------------------------------------------------

def facilitator_imports(user, rows):
    result = import_file(io.BytesIO(csv_bytes(rows)), "earlier.csv", actor=user, entered_by_facilitator=True)
    assert result.ok, result.errors


@pytest.fixture
def moved_away(api, facilitator, staff):
    """A company the SE22 facilitators imported as C-777 whose only site has since moved to FI1B: out of
    their reach, so for them it must be as if C-777 did not exist."""
    facilitator_imports(facilitator, [row("C-777", name="Ypsilon Oy", nace="24.51", country="SE",
                                          site="Ypsilon Lund", lat="55.70", lon="13.19", region_code="SE22")])
    company = Company.objects.get(name="Ypsilon Oy")
    moved = api(staff).patch(f"/api/v1/sites/{company.sites.get().pk}/",
                             {"latitude": 60.29, "longitude": 25.04, "region": "FI1B"}, format="json")
    assert moved.status_code == 200, moved.content
    forget_roles(facilitator)
    return company


def _sheet_for(ref):
    return [row(ref, name="Guess AB", nace="10.51", country="SE", site="Guess Lund", lat="55.70", lon="13.19",
                region_code="SE22")]


def _answers(channel, api, tmp_path, user, rows):
    """What the importer learns from each channel: the preview's content, or the command's report."""
    if channel == "api":
        return api_preview(api, user, rows)
    sheet = tmp_path / "guess.csv"
    sheet.write_bytes(csv_bytes(rows))
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_streams", str(sheet), "--dry-run", "--as", user.username, stdout=out, stderr=err)
    except CommandError as exc:
        err.write(str(exc))
    return out.getvalue() + err.getvalue()


@pytest.mark.parametrize("channel", ["api", "command"])
def test_a_company_outside_the_importers_reach_answers_like_a_reference_that_does_not_exist(
        channel, api, tmp_path, facilitator, moved_away):
    hidden = _answers(channel, api, tmp_path, facilitator, _sheet_for("C-777"))
    absent = _answers(channel, api, tmp_path, facilitator, _sheet_for("C-778"))

    assert "Ypsilon" not in str(hidden)
    assert str(hidden).replace("C-777", "C-778") == str(absent)


def test_the_preview_page_does_not_name_a_company_outside_the_importers_reach(web, facilitator, moved_away):
    client = web(facilitator)
    location = client.post("/streams/import/", {"sheet": SimpleUploadedFile(
        "guess.csv", csv_bytes(_sheet_for("C-777")))})["Location"]
    page = client.get(location).content.decode()

    assert "Ypsilon" not in page and "Import everything" in page
    actions = page.replace("</td>", "<").replace("\n", "")
    assert 'data-label="Action">created<' in actions and 'data-label="Action">updated<' not in actions


def test_unchanged_does_not_confirm_a_guessed_price_of_a_stream_the_importer_may_not_see(api, facilitator):
    # A company the SE22 facilitators imported, with a second plant in FI1B; that plant's private stream
    # (price 12) is not the SE22 facilitator's to see or change.
    facilitator_imports(facilitator, [row("C-500", name="Two Plants AB", nace="10.51", country="SE",
                                          site="Plant Lund", lat="55.70", lon="13.19", region_code="SE22")])
    company = Company.objects.get(name="Two Plants AB")
    finnish = SiteFactory(company=company, name="Plant Vantaa", latitude=60.29, longitude=25.04,
                          region=region("FI1B"))
    StreamFactory(site=finnish, external_ref="S-9", price_eur_per_unit=12, visibility="private")

    def guess(price):
        return api_preview(api, facilitator, [row("C-500", site="Plant Vantaa", stream="S-9", price=price)])

    right, wrong = guess("12"), guess("13")

    assert right == wrong
    assert right["counts"]["streams"]["unchanged"] == 0 and not right["can_commit"]
