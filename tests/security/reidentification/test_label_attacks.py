"""Attacks on the sector and area shown of an anonymous listing (issue #18, companies/anonymity.py).

Before the k-anonymous label, an anonymous listing showed its company's exact NACE class and NUTS-2
region, which on the demo fit fewer than 3 companies for every listing; the `nace`, `region` and
`country` filters then confirmed the same exact values. Each test here plays one attack through the
API or the pages, as company B's member (bob) against company A's anonymous listing, and failed
before the label:

- the ladder: the label shows the finest step that 3 counted companies share (the owner plus
  verified companies), keeping the region as long as it can;
- a sybil: unverified companies with the same code and region do not make the group look big;
- filters: `?nace=`, `?region=`, `?country=` on streams and `?region=` on matches find a hidden
  listing only by what its label shows;
- pages and API show the same label.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from matching.models import Match
from streams.choices import Visibility
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, leaf_category, nace, region

pytestmark = pytest.mark.django_db

STREAMS = "/api/v1/streams/"
MATCHES = "/api/v1/matches/"


def company_at(code: str, region_code: str, *, verified: bool = True, name: str | None = None):
    extra = {"name": name} if name else {}
    company = CompanyFactory(nace=nace(code), verified_at=timezone.now() if verified else None, **extra)
    SiteFactory(company=company, region=region(region_code))
    return company


@pytest.fixture
def listing(company_a):
    """Alpha Dairy AB (NACE 10.51, Sydsverige SE22, not verified): an anonymous offer."""
    return StreamFactory(site=company_a.sites.first(), direction="offer", title="Sweet whey",
                         visibility=Visibility.ANONYMOUS, category=leaf_category(code="MAT.FOOD.WHEY"))


def shown(api, user, stream) -> tuple[str, str, str]:
    body = api(user).get(f"{STREAMS}{stream.pk}/").json()
    return body["sector"]["code"], body["region"]["code"], body["region"]["name"]


def found(api, user, stream, **params) -> bool:
    ids = [r["id"] for r in api(user).get(STREAMS, {"page_size": 500, **params}).json()["results"]]
    return stream.pk in ids


# --- The ladder -----------------------------------------------------------------------------------

LADDER = [
    # (verified peers (code, region), expected (sector code, area code))
    ([("10.51", "SE22"), ("10.51", "SE22")], ("10.51", "SE22")),
    ([("10.52", "SE22"), ("10.51", "SE22")], ("10.5", "SE22")),
    ([("10.11", "SE22"), ("10.72", "SE22")], ("10", "SE22")),
    ([("20.11", "SE22"), ("25.11", "SE22")], ("C", "SE22")),
    ([("38.21", "SE22"), ("46.11", "SE22")], ("", "SE22")),
    # Alone in its region: the country, at the finest sector 3 share there.
    ([("10.51", "SE21"), ("10.51", "SE11")], ("10.51", "SE")),
    ([("10.52", "SE21"), ("38.21", "SE11")], ("", "SE")),
    # Alone in its country: everywhere.
    ([("10.51", "FI1B"), ("10.51", "DK01")], ("10.51", "")),
]


@pytest.mark.parametrize(("peers", "expected"), LADDER, ids=[f"{s or 'none'}@{a or 'all'}" for _p, (s, a) in LADDER])
def test_the_label_is_the_finest_step_three_counted_companies_share(api, other_member, listing, peers, expected):
    for code, region_code in peers:
        company_at(code, region_code)
    sector, area, _name = shown(api, other_member, listing)
    assert (sector, area) == expected


def test_a_platform_with_the_owner_alone_shows_neither_sector_nor_area(api, other_member, listing):
    sector, area, name = shown(api, other_member, listing)
    assert (sector, area) == ("", "")
    assert name == "the Baltic Sea region"


def test_unverified_sybils_do_not_make_a_group_look_big(api, other_member, listing):
    # Two made-up dairies signed up in Sydsverige: the class and region would then fit "3" companies.
    company_at("10.51", "SE22", verified=False, name="Sybil One AB")
    company_at("10.51", "SE22", verified=False, name="Sybil Two AB")
    assert shown(api, other_member, listing)[:2] == ("", "")
    # Once a facilitator verified them they count.
    from companies.models import Company

    Company.objects.filter(name__startswith="Sybil").update(verified_at=timezone.now())
    assert shown(api, other_member, listing)[:2] == ("10.51", "SE22")


def test_the_owner_and_facilitators_see_the_exact_sector_and_region(api, member, facilitator, listing):
    for user in (member, facilitator):
        assert shown(api, user, listing)[:2] == ("10.51", "SE22")


# --- Filters no finer than the label ------------------------------------------------------------


def test_the_nace_filter_does_not_select_a_listing_finer_than_its_label(api, other_member, listing):
    company_at("10.11", "SE22")
    company_at("10.72", "SE22")
    assert shown(api, other_member, listing)[:2] == ("10", "SE22")
    assert found(api, other_member, listing, nace="10")
    assert not found(api, other_member, listing, nace="10.5")
    assert not found(api, other_member, listing, nace="10.51")
    assert not found(api, other_member, listing, nace="1051")


def test_the_region_filter_does_not_select_a_listing_labelled_by_its_country(api, web, other_member, listing):
    company_at("10.51", "SE21")
    company_at("10.51", "SE11")
    assert shown(api, other_member, listing)[:2] == ("10.51", "SE")
    assert not found(api, other_member, listing, region="SE22")
    assert found(api, other_member, listing, country="SE")
    assert found(api, other_member, listing, nace="10.51")
    page = web(other_member).get("/streams/", {"region": "SE22"})
    assert f'href="/streams/{listing.pk}/"' not in page.content.decode()


def test_the_country_filter_does_not_select_a_listing_labelled_everywhere(api, other_member, listing):
    assert shown(api, other_member, listing)[:2] == ("", "")
    assert not found(api, other_member, listing, country="SE")
    assert not found(api, other_member, listing, region="SE22")
    assert not found(api, other_member, listing, nace="10")


def test_the_match_region_filter_does_not_place_a_hidden_side_finer_than_its_label(
    api, other_member, company_b, listing
):
    """B's need in Finland matched with A's offer, which is labelled "in Sweden": `?region=SE22`
    would say A's listing is in Sydsverige."""
    from tests.matching.test_api import make_match

    company_at("10.51", "SE21")
    company_at("10.51", "SE11")
    fi_site = SiteFactory(company=company_b, name="Beta Vantaa", region=region("FI1B"), latitude=60.29, longitude=25.04)
    need = StreamFactory(site=fi_site, direction="need", title="Whey for feed", category=listing.category)
    match = make_match(listing, need)
    body = api(other_member).get(f"{MATCHES}{match.pk}/").json()
    assert (body["offer"]["sector"]["code"], body["offer"]["region"]["code"]) == ("10.51", "SE")
    assert "Sydsverige" not in body["offer"]["description"]
    ids = [r["id"] for r in api(other_member).get(MATCHES, {"region": "SE22"}).json()["results"]]
    assert match.pk not in ids
    ids = [r["id"] for r in api(other_member).get(MATCHES, {"region": "FI1B"}).json()["results"]]
    assert match.pk in ids  # by the viewer's own side
    assert Match.objects.filter(pk=match.pk).exists()


# --- One label everywhere -----------------------------------------------------------------------


def test_pages_and_api_show_the_same_label(api, web, other_member, company_b, listing):
    from tests.matching.test_api import make_match

    company_b.nace = nace("16.11")  # a sawmill: the viewer's own side shows no 10.51
    company_b.save()
    company_at("10.52", "SE22")
    company_at("10.52", "SE22")
    need = StreamFactory(site=company_b.sites.first(), direction="need", title="Whey for feed",
                         category=listing.category)
    match = make_match(listing, need)
    body = api(other_member).get(f"{STREAMS}{listing.pk}/").json()
    assert body["sector"] == {"code": "10.5", "title": "Manufacture of dairy products and edible ice"}
    assert body["region"] == {"code": "SE22", "name": "Sydsverige"}
    label = "Manufacture of dairy products and edible ice company (NACE 10.5)"
    for url in ("/streams/", f"/streams/{listing.pk}/", f"/matches/{match.pk}/"):
        html = web(other_member).get(url).content.decode()
        assert label in html, url
        assert "NACE 10.51" not in html, url
    side = api(other_member).get(f"{MATCHES}{match.pk}/").json()["offer"]
    assert side["label"] == label
    assert side["sector"] == body["sector"] and side["region"] == body["region"]
    assert side["description"].startswith(f"{label}, Sydsverige")
