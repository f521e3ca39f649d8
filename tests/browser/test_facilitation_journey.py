"""The facilitation journey in Debian's Chromium: two SMEs list a by-product and a need, the match
reaches the facilitator's queue, is approved and introduced, both SMEs accept, identities are
revealed, they exchange a message, and the facilitator records the exchange as implemented. And the
negative journey: a declined suggestion never reveals identities."""

import pytest

from facilitation.models import RealisedExchange
from matching.models import Match
from tests.browser_support import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def list_stream(page, live_server, *, direction, title, search="whey"):
    page.goto(f"{live_server.url}/streams/new/")
    page.check(f"input[name=direction][value={direction}]")
    page.check("input[name=kind][value=material]")
    page.get_by_label("Title").fill(title)
    page.fill("#category-search", search)
    page.wait_for_timeout(800)  # htmx narrows the category list
    page.locator("select[name=category]").select_option(label="Whey and dairy residues")
    page.fill("input[name=quantity]", "20")
    page.locator("select[name=unit]").select_option("t")
    page.locator("select[name=period]").select_option("month")
    page.get_by_role("button", name="Publish the listing").click()
    page.wait_for_load_state()


def as_user(page, live_server, username):
    page.context.clear_cookies()
    login(page, live_server, username)


def press(page, name):
    page.get_by_role("button", name=name, exact=True).click()
    page.wait_for_load_state()


def two_smes_listed(page, live_server):
    login(page, live_server, "alice")
    list_stream(page, live_server, direction="offer", title="Whey from cheese making")
    as_user(page, live_server, "bob")
    list_stream(page, live_server, direction="need", title="Whey for pig feed")
    return Match.objects.get(offer__title="Whey from cheese making", need__title="Whey for pig feed")


def test_the_whole_facilitation_journey(page, live_server, member, other_member, facilitator):
    match = two_smes_listed(page, live_server)

    as_user(page, live_server, "fiona")
    page.get_by_role("link", name="Review queue").click()
    page.wait_for_load_state()
    page.get_by_role("link", name=f"Open #{match.pk}").click()
    page.wait_for_load_state()
    assert "Alpha Dairy" in page.content() and "Beta Sawmill" in page.content()  # facilitators see both
    press(page, "Approve")
    press(page, "Introduce")
    screenshot(page, "facilitation_introduced")

    as_user(page, live_server, "alice")
    page.goto(f"{live_server.url}/matches/notifications/")
    page.get_by_role("link", name=f"Match #{match.pk}: a facilitator suggests an introduction").click()
    page.wait_for_load_state()
    assert "Beta Sawmill" not in page.content()
    press(page, "Accept the introduction")
    assert "Beta Sawmill" not in page.content()  # one yes reveals nothing

    as_user(page, live_server, "bob")
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    assert "Alpha Dairy" not in page.content()
    press(page, "Accept the introduction")
    assert "Alpha Dairy AB" in page.content() and "Alpha Lund" in page.content()
    page.get_by_role("textbox", name="Message").fill("Can you deliver 20 t in May?")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Can you deliver 20 t in May?").wait_for()
    screenshot(page, "facilitation_thread")

    as_user(page, live_server, "alice")
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    assert "Beta Sawmill AB" in page.content()
    assert page.get_by_text("Can you deliver 20 t in May?").count() == 1

    as_user(page, live_server, "fiona")
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    page.get_by_role("link", name="Record the exchange").click()
    page.wait_for_load_state()
    page.get_by_label("Exchange started on").fill("2026-05-01")
    page.get_by_label("Real quantity per year").fill("180")
    press(page, "Record as implemented")
    assert "Exchange running since" in page.content()
    page.goto(f"{live_server.url}/matches/pipeline/")
    assert page.locator("#col-implemented").count() == 1
    screenshot(page, "facilitation_pipeline")
    match.refresh_from_db()
    assert match.status == "implemented" and RealisedExchange.objects.get(match=match).quantity_yearly == 180
    assert page.external_requests == [] and page.js_errors == []


def test_a_declined_suggestion_never_reveals_identities(page, live_server, member, other_member):
    match = two_smes_listed(page, live_server)
    as_user(page, live_server, "alice")
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    press(page, "Interested")
    as_user(page, live_server, "bob")
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    press(page, "Not interested")
    assert "Alpha Dairy" not in page.content() and "Alpha Lund" not in page.content()
    as_user(page, live_server, "alice")
    page.goto(f"{live_server.url}/matches/{match.pk}/")
    assert "Beta Sawmill" not in page.content() and "Beta Malmö" not in page.content()
    assert page.get_by_role("button", name="Interested").count() == 0
    match.refresh_from_db()
    assert match.status == "declined" and match.revealed_at is None
    assert page.external_requests == [] and page.js_errors == []
