"""The region dashboard in Debian's Chromium with no network: charts drawn, tables filled, the map
shows country outlines and aggregated markers, and no request leaves 127.0.0.1."""

import pytest

from tests.browser_support import ARTIFACTS, login, screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_the_dashboard_renders_charts_tables_and_an_offline_map(page, live_server, reference_data, dataset, authority):
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, "arne")
    page.goto(f"{live_server.url}/dashboards/SE22/")
    page.wait_for_selector("#chart-funnel[data-rendered]", timeout=10000)
    page.wait_for_selector("#dashboard-map[data-rendered^='countries:']", timeout=10000)

    # Every chart is drawn: Chart.js marked it, and its canvas has non-blank pixels.
    for key in ("kinds", "funnel", "impact", "trends"):
        canvas = page.locator(f"#chart-{key}")
        assert canvas.get_attribute("data-rendered"), key
        painted = page.evaluate(
            """(id) => { const c = document.getElementById(id); const d = c.getContext('2d')
                 .getImageData(0, 0, c.width, c.height).data; let n = 0;
                 for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; }""",
            f"chart-{key}",
        )
        assert painted > 500, key

    # The tables beside the charts have rows.
    assert page.locator("#table-funnel tbody tr").count() == 10
    assert page.locator("#table-kinds tbody tr").count() == 5
    assert page.locator("#table-trends tbody tr").count() == 13

    # The map: country outlines from the shipped GeoJSON and at least one aggregated marker.
    rendered = page.locator("#dashboard-map").get_attribute("data-rendered")
    countries = int(rendered.split(";")[0].split(":")[1])
    markers = int(rendered.split(";")[1].split(":")[1])
    assert countries >= 10
    assert page.locator("#dashboard-map path.country").count() >= 10
    assert markers >= 1
    assert page.locator("#dashboard-map .cell-marker").count() >= 1
    assert page.locator(".leaflet-tile").count() == 0  # no tile server

    screenshot(page, "dashboard_region")
    page.screenshot(path=str(ARTIFACTS / "dashboard_region_top.png"))
    page.locator("#map-title").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "dashboard_region_map.png"))
    assert page.external_requests == []
    assert page.js_errors == []
