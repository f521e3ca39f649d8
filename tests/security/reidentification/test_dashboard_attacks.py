"""Finding 8 of the security review: sign-up must not defeat the small-cell rule (k = 3) of the
authority dashboards and open data. Each test plays one attacker through the product's own pages and
API: it reads the figures, acts (signs up a company and lists one private stream, or moves its own
stream), reads them again and tries to compute the other companies' figure by subtracting its own.

The victims are two established companies (verified long ago) offering the same material in a
region where nobody else lists anything: every cell they make is built from 2 companies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from companies.models import Company
from dashboards.selectors import forget_cached
from streams.choices import Direction, StreamKind, Visibility
from tests.factories import (
    CompanyFactory,
    RegionRoleFactory,
    SiteFactory,
    StreamFactory,
    UserFactory,
    leaf_category,
    region,
)

pytestmark = pytest.mark.django_db

REGION = "SE22"
CATEGORY = "MAT.WOOD.SAWDUST"
VICTIM_TONNES = (4321.5, 3456.25)
VICTIMS_SUM = sum(VICTIM_TONNES)  # what the attacker is after
OWN_TONNES = 1000.0
PASSWORD = "correct horse battery staple 8"


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    settings.DASHBOARD_VERSION_MEMO_SECONDS = 0
    cache.clear()
    forget_cached()
    yield
    cache.clear()
    forget_cached()


def _establish(companies, *, days=400):
    then = timezone.now() - timedelta(days=days)
    Company.objects.filter(pk__in=[c.pk for c in companies]).update(verified_at=then, created_at=then)


@pytest.fixture
def victims(db):
    """Two sawmills, verified a year ago, each offering sawdust privately in SE22."""
    category = leaf_category(code=CATEGORY)
    companies = []
    for i, tonnes in enumerate(VICTIM_TONNES):
        company = CompanyFactory(name=f"Victim Sawmill {i} AB")
        site = SiteFactory(company=company, name=f"Mill {i}", latitude=55.52 + i * 0.01, longitude=13.31,
                           region=region(REGION))
        StreamFactory(site=site, direction=Direction.OFFER, kind=StreamKind.MATERIAL, category=category,
                      quantity=tonnes, unit="t", period="year", visibility=Visibility.PRIVATE)
        companies.append(company)
    _establish(companies)
    return companies


@pytest.fixture
def authority_reader(db):
    """Whoever reads the region's dashboard; an authority might itself be the one who signs up."""
    return RegionRoleFactory(user=UserFactory(username="auditor"), region=region(REGION), role="authority").user


def _sign_up_with_one_listing(web, api, *, username="mallory", tonnes=OWN_TONNES) -> Company:
    """A brand-new account, company and site (the sign-up and onboarding pages), then one private
    sawdust offer through the API."""
    client = web(None)
    response = client.post("/accounts/signup/", {
        "username": username, "email": f"{username}@example.test", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post("/companies/onboard/", {
        "company-name": f"{username.title()} Trading AB", "company-nace_code": "46.73", "company-country": "SE",
        "company-employees": "3", "site-name": "Yard", "site-latitude": "55.60", "site-longitude": "13.00",
        "site-region": str(region(REGION).pk),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    company = Company.objects.get(name=f"{username.title()} Trading AB")
    user = company.memberships.get().user
    payload = {"direction": "offer", "kind": "material", "title": "Sawdust", "category": CATEGORY,
               "quantity": str(tonnes), "unit": "t", "period": "year", "visibility": "private"}
    response = api(user).post("/api/v1/streams/", payload, format="json")
    assert response.status_code == 201, response.content
    return company


def _open_data_row(api) -> dict:
    rows = api(None).get("/api/v1/open-data/").json()["table"]["rows"]
    return next(r for r in rows if r["key"] == REGION)["cells"]


def _dashboard_cells(api, reader) -> list[dict]:
    """Every cell of the region's dashboard (API), with its address."""
    body = api(reader).get(f"/api/v1/dashboards/{REGION}/").json()
    out = []
    for tkey, table in body["tables"].items():
        for row in table["rows"]:
            for col, cell in row["cells"].items():
                out.append({"address": (tkey, row["key"], col), **cell})
    return out


def _recoverable(values, own: float) -> list:
    """The published values from which the victims' sum follows, directly or by subtracting the
    attacker's own figure."""
    return [v for v in values if v is not None and (
        v == pytest.approx(VICTIMS_SUM, abs=0.01) or v - own == pytest.approx(VICTIMS_SUM, abs=0.01))]


def _cells_by_address(cells) -> dict:
    return {c["address"]: c for c in cells}


# --- A fresh sign-up ---------------------------------------------------------------------------------

# The attacker reads only after it listed: the cell has never been published before, so nothing but
# who counts toward k stands between it and the figure.

def test_a_fresh_sign_up_does_not_lift_the_open_data_cell_it_joins(web, api, victims):
    _sign_up_with_one_listing(web, api)
    after = _open_data_row(api)

    assert _recoverable([c["value"] for c in after.values()], OWN_TONNES) == []
    assert after["offered_t"]["suppressed"]


def test_a_fresh_sign_up_does_not_lift_the_dashboard_category_it_joins(web, api, victims, authority_reader):
    _sign_up_with_one_listing(web, api)
    after = _dashboard_cells(api, authority_reader)

    assert _recoverable([c["value"] for c in after], OWN_TONNES) == []
    # The CSV export shows the same figures.
    text = web(authority_reader).get(f"/dashboards/{REGION}/export.csv").content.decode()
    assert f"{VICTIMS_SUM + OWN_TONNES}" not in text and f"{VICTIMS_SUM + OWN_TONNES:.3f}".rstrip("0") not in text


def test_a_fresh_sign_up_learns_nothing_from_publications_before_and_after_it_changes_its_stream(
        web, api, victims, authority_reader):
    """Differencing two publications: the attacker reads, doubles its own listing, reads again.
    Any figure that moves must move by nothing the attacker did not put in."""
    company = _sign_up_with_one_listing(web, api)
    first = _cells_by_address(_dashboard_cells(api, authority_reader))
    assert _recoverable([c["value"] for c in first.values()], OWN_TONNES) == []
    stream = company.streams.get()
    user = company.memberships.get().user
    response = api(user).patch(f"/api/v1/streams/{stream.pk}/", {"quantity": str(2 * OWN_TONNES)}, format="json")
    assert response.status_code == 200, response.content
    second = _cells_by_address(_dashboard_cells(api, authority_reader))

    for address, cell in second.items():
        old = first.get(address, {}).get("value")
        assert _recoverable([cell["value"]], 2 * OWN_TONNES) == [], address
        if old is not None and cell["value"] is not None:
            assert cell["value"] == old, f"{address} moved with the attacker's own edit"


# --- An established company (verified, old enough) ------------------------------------------------

def test_an_established_company_cannot_lift_a_published_two_company_cell_by_listing_into_it(
        web, api, victims, authority_reader):
    """The attacker waited out the minimum age and got verified, then lists into a cell that has
    been published (hidden) with 2 companies: the next publication must not show 3."""
    attacker = CompanyFactory(name="Patient Mallory AB")
    site = SiteFactory(company=attacker, name="Depot", latitude=55.61, longitude=13.01, region=region(REGION))
    _establish([attacker])
    before = _cells_by_address(_dashboard_cells(api, authority_reader))
    assert before[("listings", f"offer/material/{CATEGORY}", "volume")]["suppressed"]

    StreamFactory(site=site, direction=Direction.OFFER, kind=StreamKind.MATERIAL, category=leaf_category(code=CATEGORY),
                  quantity=OWN_TONNES, unit="t", period="year", visibility=Visibility.PRIVATE)
    after = _dashboard_cells(api, authority_reader)
    assert _recoverable([c["value"] for c in after], OWN_TONNES) == []
    assert _recoverable([c["value"] for c in _open_data_row(api).values()], OWN_TONNES) == []
