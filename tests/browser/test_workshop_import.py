"""A facilitator imports a workshop sheet from the browser: a row error in the preview, a fixed sheet,
the commit, and the companies and streams marked as entered by a facilitator."""

import pytest

from companies.models import Company
from streams.models import Stream
from tests.browser_support import login, screenshot
from tests.streams.test_import_page import HEADER, ROWS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sheet(rows):
    return {"name": "workshop.csv", "mimeType": "text/csv", "buffer": ("\n".join([HEADER, *rows]) + "\n").encode()}


def test_a_facilitator_fixes_a_sheet_and_imports_it(page, live_server, facilitator):
    login(page, live_server, "fiona")
    page.get_by_role("link", name="Import sheet").click()
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Excel template (.xlsx)").count() == 1

    broken = [ROWS[0], ROWS[1].replace("MWh", "t"), ROWS[2]]
    page.set_input_files("input[name=sheet]", sheet(broken))
    page.get_by_role("button", name="Check the sheet").click()
    page.wait_for_load_state()
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 1
    cells = errors.first.locator("td")
    assert [cells.nth(0).inner_text(), cells.nth(1).inner_text()] == ["3", "unit"]
    assert "not a unit for energy" in cells.nth(2).inner_text()
    assert page.get_by_role("button", name="Import everything").count() == 0
    screenshot(page, "import_preview_errors")

    page.get_by_role("link", name="Upload a corrected sheet").click()
    page.wait_for_load_state()
    page.set_input_files("input[name=sheet]", sheet(ROWS))
    page.get_by_role("button", name="Check the sheet").click()
    page.wait_for_load_state()
    assert page.locator("#import-errors").count() == 0
    page.get_by_role("button", name="Import everything").click()
    page.wait_for_load_state()
    page.locator("#imported-companies").wait_for()
    companies = page.locator("#imported-companies li")
    assert companies.count() == 2
    assert "entered by facilitator" in companies.first.inner_text()
    screenshot(page, "import_done")

    assert Company.objects.filter(external_ref__startswith="W-", entered_by_facilitator=True).count() == 2
    assert Stream.objects.filter(entered_by_facilitator=True, entered_by=facilitator).count() == 3

    page.get_by_role("link", name="Lunds Mejeri AB").click()
    page.wait_for_load_state()
    assert page.get_by_text("entered by facilitator").count() == 1
    assert page.external_requests == []
    assert page.js_errors == []
