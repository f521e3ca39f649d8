"""An SME lists a by-product from a phone-sized browser, and another SME finds it, anonymised."""

import pytest

from streams.models import Stream
from tests.browser_support import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_sme_lists_an_offer_and_another_sme_finds_it_without_the_name(page, live_server, member, other_member):
    login(page, live_server, "alice")
    page.goto(f"{live_server.url}/streams/new/")
    page.check("input[name=direction][value=offer]")
    page.check("input[name=kind][value=material]")
    page.get_by_label("Title").fill("Whey from cheese making")
    page.fill("#category-search", "whey")
    page.wait_for_timeout(800)  # htmx narrows the category list
    page.locator("select[name=category]").select_option(label="Whey and dairy residues")
    page.fill("input[name=quantity]", "20")
    page.locator("select[name=unit]").select_option("t")
    page.locator("select[name=period]").select_option("month")
    screenshot(page, "stream_form")
    page.get_by_role("button", name="Publish the listing").click()
    page.wait_for_load_state()
    stream = Stream.objects.get(title="Whey from cheese making")
    assert stream.quantity_yearly == 240.0
    assert stream.visibility == "anonymous"

    page.context.clear_cookies()
    login(page, live_server, "bob")
    page.goto(f"{live_server.url}/streams/?q=whey")
    assert page.get_by_text("Whey from cheese making").count() >= 1
    body = page.content()
    assert "Alpha Dairy" not in body
    assert "Alpha Lund" not in body
    screenshot(page, "browse_anonymous")
    assert page.external_requests == []
    assert page.js_errors == []
