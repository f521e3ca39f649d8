"""Dashboards, exports, API and open data as each persona sees them: isolation between regions,
suppressed cells absent from every format, bounded queries, and the company impact report."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from companies.models import Region
from dashboards.selectors import forget_cached
from facilitation.models import RealisedExchange
from matching.choices import MatchStatus
from matching.models import Match
from tests.dashboards.conftest import PROBE_SUM, PROBE_VOLUMES, establish, plant_probe
from tests.factories import MembershipFactory, RegionRoleFactory, StreamFactory, UserFactory, region

pytestmark = [pytest.mark.django_db]

PAGES = ("/dashboards/{code}/", "/dashboards/{code}/export.csv", "/dashboards/{code}/export.xlsx",
         "/dashboards/{code}/export.geojson")
API = "/api/v1/dashboards/{code}/"


@pytest.fixture
def small_world(company_a, company_b, company_y):
    """Enough for access tests: a few streams in SE22 and FI1B."""
    for company in (company_a, company_b, company_y):
        StreamFactory(site=company.sites.first())
    return True


# --- Access -----------------------------------------------------------------------------------------

def test_an_authority_sees_its_region_and_gets_404_for_others(web, api, authority, small_world):
    client = web(authority)
    for path in PAGES:
        assert client.get(path.format(code="SE22")).status_code == 200, path
        assert client.get(path.format(code="FI1B")).status_code == 404, path
        assert client.get(path.format(code="NOPE")).status_code == 404, path
    assert api(authority).get(API.format(code="SE22")).status_code == 200
    assert api(authority).get(API.format(code="FI1B")).status_code == 404
    listing = api(authority).get("/api/v1/dashboards/").json()
    assert [r["code"] for r in listing["results"]] == ["SE22"]
    assert "comparison" not in listing


def test_a_facilitator_of_another_region_sees_nothing_of_this_one(web, api, facilitator_y, small_world):
    assert web(facilitator_y).get("/dashboards/SE22/").status_code == 404
    assert web(facilitator_y).get("/dashboards/FI1B/").status_code == 200
    assert api(facilitator_y).get(API.format(code="SE22")).status_code == 404
    html = web(facilitator_y).get("/dashboards/").content.decode()
    assert "/dashboards/FI1B/" in html and "/dashboards/SE22/" not in html


def test_members_without_a_region_role_get_404(web, api, member, small_world):
    for path in PAGES:
        assert web(member).get(path.format(code="SE22")).status_code == 404, path
    assert api(member).get(API.format(code="SE22")).status_code == 404
    assert api(member).get("/api/v1/dashboards/").json()["results"] == []
    assert web(member).get("/dashboards/").status_code == 200  # explains who dashboards are for


def test_anonymous_visitors_log_in_first_but_open_data_is_public(web, api, small_world):
    for path in (*PAGES, "/dashboards/"):
        response = web(None).get(path.format(code="SE22"))
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/"), path
    assert api(None).get(API.format(code="SE22")).status_code in (401, 403)
    assert api(None).get("/api/v1/dashboards/").status_code in (401, 403)
    assert web(None).get("/open-data/").status_code == 200
    for fmt in ("csv", "xlsx", "geojson"):
        assert web(None).get(f"/open-data/export.{fmt}").status_code == 200
    assert api(None).get("/api/v1/open-data/").status_code == 200


def test_staff_see_every_region_and_a_comparison(web, api, staff, small_world):
    assert web(staff).get("/dashboards/FI1B/").status_code == 200
    body = api(staff).get("/api/v1/dashboards/").json()
    assert body["count"] == Region.objects.count()
    assert len(body["comparison"]["rows"]) == Region.objects.count()
    html = web(staff).get("/dashboards/").content.decode()
    assert 'id="table-comparison"' in html and 'id="chart-comparison"' in html


def test_someone_with_two_regions_gets_the_comparison(web, authority, small_world):
    RegionRoleFactory(user=authority, region=region("FI1B"), role="facilitator")
    html = web(authority).get("/dashboards/").content.decode()
    assert "/dashboards/SE22/" in html and "/dashboards/FI1B/" in html
    assert 'id="table-comparison"' in html


def test_an_unknown_export_format_is_404(web, authority, small_world):
    assert web(authority).get("/dashboards/SE22/export.pdf").status_code == 404


# --- Suppression in every format ----------------------------------------------------------------------

def _number_forms(value: float) -> list[str]:
    """How a number could appear in any format: raw, rounded, grouped."""
    forms = {repr(value), str(value), f"{value:.1f}", f"{value:.2f}", f"{round(value):d}", f"{round(value):,d}",
             f"{round(value):,d}".replace(",", " "), f"{round(value):,d}".replace(",", "\u202f"),
             f"{round(value):,d}".replace(",", "\xa0")}
    return sorted(forms)


def _probe_absent(text: str):
    for value in (PROBE_SUM, *PROBE_VOLUMES):
        for form in _number_forms(value):
            assert form not in text, f"{form} ({value}) leaked"


def _xlsx_text(content: bytes) -> str:
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return "\n".join(
        "\t".join("" if v is None else str(v) for v in row) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
    )


def test_a_category_of_two_companies_never_shows_its_value_in_any_format(web, api, authority, dataset):
    client = web(authority)
    page = client.get("/dashboards/SE22/").content.decode()
    assert "Sawdust" in page  # the category is listed, its figures are not
    _probe_absent(page)
    _probe_absent(json.dumps(api(authority).get(API.format(code="SE22")).json()))
    _probe_absent(client.get("/dashboards/SE22/export.csv").content.decode())
    _probe_absent(_xlsx_text(client.get("/dashboards/SE22/export.xlsx").content))
    _probe_absent(client.get("/dashboards/SE22/export.geojson").content.decode())
    _probe_absent(web(None).get("/open-data/").content.decode())
    _probe_absent(json.dumps(api(None).get("/api/v1/open-data/").json()))
    _probe_absent(web(None).get("/open-data/export.csv").content.decode())
    _probe_absent(_xlsx_text(web(None).get("/open-data/export.xlsx").content))

    rows = list(csv.DictReader(io.StringIO(client.get("/dashboards/SE22/export.csv").content.decode())))
    probe = [r for r in rows if r["row_key"] == "offer/material/MAT.WOOD.SAWDUST"]
    assert probe and all(r["suppressed"] == "1" and r["value"] == "" and r["companies"] == "" for r in probe)

    cells = api(authority).get(API.format(code="SE22")).json()["tables"]["listings"]["rows"]
    probe = next(r for r in cells if r["key"] == "offer/material/MAT.WOOD.SAWDUST")
    assert all(c["suppressed"] and c["value"] is None and c["companies"] is None for c in probe["cells"].values())


def test_the_kind_total_cannot_be_differenced_to_recover_the_hidden_category(api, authority, dataset):
    rows = api(authority).get(API.format(code="SE22")).json()["tables"]["listings"]["rows"]
    for column in ("volume", "streams", "unmatched_volume", "unmatched_streams"):
        total = next(r for r in rows if r["key"] == "offer/material")["cells"][column]
        kids = [r["cells"][column] for r in rows if r["parent"] == "offer/material"]
        hidden = [c for c in kids if c["suppressed"]]
        if total["suppressed"] or not hidden:
            continue
        # At least two hidden details: total minus the shown ones is never one hidden cell.
        assert len(hidden) >= 2, column
        remainder = total["value"] - sum(c["value"] for c in kids if not c["suppressed"])
        assert remainder != pytest.approx(PROBE_SUM), column


def test_the_map_never_places_a_cell_of_fewer_than_three_companies(web, authority, dataset):
    geo = json.loads(web(authority).get("/dashboards/SE22/export.geojson").content)
    cells = [f for f in geo["features"] if f["properties"]["kind"] == "cell"]
    assert cells
    assert all(f["properties"]["companies"] >= 3 for f in cells)
    # The probe sites (two companies, a cell of their own) are nowhere on the map.
    for f in cells:
        lon, lat = f["geometry"]["coordinates"]
        assert not (55.5 <= lat < 55.75 and 13.25 <= lon < 13.5 and f["properties"]["companies"] < 3)
    page = web(authority).get("/dashboards/SE22/").content.decode()
    assert "Probe site" not in page and "55.52" not in page


def test_suppressed_cells_render_as_c_with_an_explanation(web, authority, dataset):
    html = web(authority).get("/dashboards/SE22/").content.decode()
    rows = re.findall(r"<tr class=\"level-2\">\s*<th scope=\"row\">Sawdust[^<]*</th>(.*?)</tr>", html, re.S)
    assert len(rows) == 2, "the probe is in the supply table and in the listings table"
    assert [r.count('class="num suppressed"') for r in rows] == [2, 5]
    assert "fewer than 3 companies" in html


def test_pages_use_no_inline_scripts_styles_or_external_hosts(web, authority, staff, dataset):
    for client, path in ((web(authority), "/dashboards/SE22/"), (web(staff), "/dashboards/"),
                         (web(None), "/open-data/")):
        html = client.get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html, re.I):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not re.search(r"<style\b", html, re.I)
        assert not re.search(r"""\s(?:style|on[a-z]+)\s*=\s*["']""", html, re.I)
        assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)


def test_exports_neutralise_spreadsheet_formulas(web, authority, dataset):
    from streams.models import ResourceCategory

    ResourceCategory.objects.filter(code="WAT.PROC.CONDENSATE").update(name="=HYPERLINK(\"x\")")
    cache.clear()
    forget_cached()
    text = web(authority).get("/dashboards/SE22/export.csv").content.decode()
    assert "'=HYPERLINK" in text
    assert ",=HYPERLINK" not in text


# --- Query budget and cache -----------------------------------------------------------------------------

def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return len(ctx.captured_queries)


def test_the_dashboard_page_runs_a_bounded_number_of_queries(web, authority, dataset):
    client = web(authority)
    cold = _queries(client, "/dashboards/SE22/")
    warm = _queries(client, "/dashboards/SE22/")
    cache.clear()
    forget_cached()
    # More rows do not mean more queries (the new companies count, so cells change and are recorded).
    for _ in range(5):
        plant_probe(region_code="SE22")
    establish()
    cache.clear()
    forget_cached()
    assert _queries(client, "/dashboards/SE22/") == cold
    assert cold <= 31  # 30, plus recording what the cells were published from
    assert warm <= 6  # session, user, roles (2), region, data version


def test_the_cache_follows_new_data(web, authority, dataset):
    client = web(authority)
    first = client.get("/api/v1/dashboards/SE22/").json()
    before = next(r for r in first["tables"]["companies"]["rows"] if r["key"] == "all")["cells"]["companies"]["value"]
    plant_probe(region_code="SE22")  # two more companies, twice: figures move by 3 companies or more
    plant_probe(region_code="SE22")
    establish()
    second = client.get("/api/v1/dashboards/SE22/").json()
    after = next(r for r in second["tables"]["companies"]["rows"] if r["key"] == "all")["cells"]["companies"]["value"]
    assert after == before + 4


# --- Company impact report --------------------------------------------------------------------------

@pytest.fixture
def exchange(company_a, company_b):
    offer = StreamFactory(site=company_a.sites.first(), title="Whey for feed")
    need = StreamFactory(site=company_b.sites.first(), direction="need", title="Feed input")
    match = Match.objects.create(
        offer=offer, need=need, source_company=company_a, target_company=company_b, score=0.8, distance_km=12,
        exchangeable_yearly=100, unit="t", co2e_t=10, eur_provider=1000, eur_receiver=500, diverted_t=100,
        status=MatchStatus.IMPLEMENTED, engine_version="test",
    )
    RealisedExchange.objects.create(
        match=match, started_on=date(2026, 3, 1), quantity_yearly=80, unit="t", co2e_t=8.5, diverted_t=80,
        eur_provider=900, eur_receiver=400,
    )
    estimated = Match.objects.create(
        offer=StreamFactory(site=company_a.sites.first(), title="Sludge"), need=None, source_company=company_a,
        target_company=company_b, score=0.5, distance_km=12, exchangeable_yearly=50, unit="t", co2e_t=2,
        eur_provider=100, eur_receiver=50, diverted_t=50, status=MatchStatus.IMPLEMENTED, engine_version="test",
        prospective=True,
    )
    return match, estimated


def test_the_impact_report_lists_exchanges_with_their_own_side(web, member, other_member, exchange):
    match, estimated = exchange
    company = match.source_company
    html = web(member).get(f"/companies/{company.pk}/impact/").content.decode()
    assert "Whey for feed" in html and "Sludge" in html
    assert "900" in html and "8.5" in html  # recorded figures, provider's money
    assert "estimate" in html and "recorded" in html
    assert "Beta Sawmill" not in html  # the counterpart by sector and region only
    assert "10.5" in html  # total CO2e: 8.5 recorded + 2 estimated
    receiver = web(other_member).get(f"/companies/{match.target_company.pk}/impact/").content.decode()
    assert "400" in receiver and "receives" in receiver


def test_the_impact_report_is_for_the_company_its_facilitators_and_staff(web, member, other_member, facilitator,
                                                                         facilitator_y, authority, staff, exchange):
    company = exchange[0].source_company
    path = f"/companies/{company.pk}/impact/"
    assert web(member).get(path).status_code == 200
    assert web(facilitator).get(path).status_code == 200
    assert web(staff).get(path).status_code == 200
    assert web(other_member).get(path).status_code == 404
    assert web(facilitator_y).get(path).status_code == 404
    assert web(authority).get(path).status_code == 404
    assert web(None).get(path).status_code == 302


def test_a_new_member_of_another_company_cannot_read_the_report(web, company_y, exchange):
    outsider = MembershipFactory(user=UserFactory(username="olle"), company=company_y).user
    assert web(outsider).get(f"/companies/{exchange[0].source_company.pk}/impact/").status_code == 404
