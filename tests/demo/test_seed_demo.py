"""The demo region: believable, spread over the Baltic Sea, sector-consistent, idempotent, with demo users."""

import csv
import io
import math
from pathlib import Path

import pytest
from django.core.management import call_command

import companies
from companies.models import Company, Site
from companies.roles import roles_for
from demo import catalogue, planning, services
from streams.models import Stream
from streams.units import BASE_UNIT
from tests.factories import CompanyFactory

REGIONS_CSV = Path(companies.__file__).resolve().parent / "data" / "regions.csv"


def seed(*args):
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def km(lat1, lon1, lat2, lon2):
    dy = (lat2 - lat1) * 111.0
    dx = (lon2 - lon1) * 111.0 * math.cos(math.radians(lat1))
    return math.hypot(dx, dy)


# --- The data itself (no database) ---------------------------------------------------------------------

def test_towns_sit_in_known_regions_of_their_country():
    with open(REGIONS_CSV, encoding="utf-8") as fh:
        regions = {r["code"]: r for r in csv.DictReader(fh)}
    for town in catalogue.TOWNS:
        assert town.region in regions, town
        assert regions[town.region]["country"] == town.country, town
        for key in town.specialties:
            assert key in catalogue.SECTORS_BY_KEY, (town.name, key)
    assert len({t.region for t in catalogue.TOWNS}) >= 8
    assert len({t.country for t in catalogue.TOWNS}) >= 6


def test_each_sector_has_its_own_nace_class_and_the_typical_streams():
    assert len({s.nace for s in catalogue.SECTORS}) == len(catalogue.SECTORS)

    def always(key, direction):
        return {t.category for t in catalogue.SECTORS_BY_KEY[key].streams if t.direction == direction and t.p == 1}

    assert "MAT.FOOD.WHEY" in always("dairy", "offer")
    assert {"MAT.WOOD.BARK", "MAT.WOOD.SAWDUST"} <= always("sawmill", "offer")
    assert {"MAT.SLAG.OTHER", "ENE.HEAT.MT"} <= always("foundry", "offer")
    assert {"ENE.HEAT.MT", "MAT.GAS.CO2"} <= always("greenhouse", "need")
    assert {"MAT.ASH.FLY", "MAT.GYP.FGD"} <= always("cement", "need")


def test_the_plan_is_deterministic_and_a_larger_demo_extends_a_smaller_one():
    small = planning.plan(streams=120, seed=7)
    again = planning.plan(streams=120, seed=7)
    large = planning.plan(streams=600, seed=7)

    assert [(c.name, c.sites, [s.values for s in c.streams]) for c in small] == [
        (c.name, c.sites, [s.values for s in c.streams]) for c in again
    ]
    assert sum(len(c.streams) for c in small) == 120
    assert [c.name for c in small] == [c.name for c in large[: len(small)]]
    assert [c.name for c in planning.plan(streams=120, seed=8)] != [c.name for c in small]
    tiny = planning.plan(streams=1)
    assert [c.ref for c in tiny] == ["demo-c-00001", "demo-c-00002"]  # the demo users' companies
    assert sum(len(c.streams) for c in tiny) == 1
    default = planning.plan(streams=None)
    assert len(default) == planning.DEFAULT_COMPANIES and 900 <= sum(len(c.streams) for c in default) <= 1200


def test_sites_cluster_within_a_few_km_of_their_town():
    towns = {t.name: t for t in catalogue.TOWNS}
    for company in planning.plan(streams=2000, seed=42):
        for name, lat, lon, _region in company.sites:
            town = next(t for t in towns.values() if name.endswith(t.name) or name.endswith(f"{t.name} 2"))
            assert km(town.latitude, town.longitude, lat, lon) < 12, (name, lat, lon)


# --- Seeding the database -------------------------------------------------------------------------------

@pytest.mark.django_db
def test_a_small_run_builds_a_believable_region_whose_streams_fit_their_sectors():

    seed("--streams", "300")

    streams = Stream.objects.filter(company__external_ref__startswith=planning.COMPANY_PREFIX)
    assert streams.count() == 300
    sites = Site.objects.filter(company__external_ref__startswith=planning.COMPANY_PREFIX)
    assert sites.values("region").distinct().count() >= 8
    assert sites.values("region__country").distinct().count() >= 6
    by_nace = {s.nace: s for s in catalogue.SECTORS}
    for stream in streams.select_related("company__nace", "category"):
        sector = by_nace[stream.company.nace.code]
        assert stream.category.code in sector.categories(), (sector.key, stream.title, stream.category.code)
        assert stream.kind == stream.category.kind
        assert stream.base_unit == BASE_UNIT[stream.kind]
        assert stream.quantity_yearly is not None and stream.quantity_yearly > 0
    assert streams.filter(company__nace__code="10.51", direction="offer", category__code="MAT.FOOD.WHEY",
                          ewc_codes__code="020501").exists()
    for site in sites:  # clustered around real towns
        assert min(km(t.latitude, t.longitude, site.latitude, site.longitude) for t in catalogue.TOWNS) < 12
    company = Company.objects.get(external_ref="demo-c-00001")
    assert company.nace.code == "10.51" and company.is_sme
    assert Stream.history.filter(company_id=company.pk).count() == company.streams.count()


@pytest.mark.django_db
def test_rerunning_does_not_duplicate_and_reset_removes_only_demo_rows():
    outsider = CompanyFactory(name="Not A Demo AB")

    seed("--streams", "150")
    counts = (Company.objects.count(), Site.objects.count(), Stream.objects.count())
    out = seed("--streams", "150")

    assert (Company.objects.count(), Site.objects.count(), Stream.objects.count()) == counts
    assert "created 0 companies, 0 sites, 0 streams" in out

    seed("--streams", "100", "--reset")
    assert Stream.objects.count() == 100
    assert Company.objects.filter(pk=outsider.pk).exists()


@pytest.mark.django_db
def test_demo_users_have_the_right_roles_and_a_matching_pair(settings):
    settings.DEBUG = False

    out = seed("--streams", "100")

    from django.contrib.auth import get_user_model

    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo-")}
    assert set(users) == {u for u, _ in services.DEMO_USERS}
    a, b = Company.objects.get(external_ref="demo-c-00001"), Company.objects.get(external_ref="demo-c-00002")
    assert roles_for(users["demo-sme-a"]).admin_company_ids == {a.pk}
    assert roles_for(users["demo-sme-b"]).admin_company_ids == {b.pk}
    site_a, site_b = a.sites.get(), b.sites.get()
    assert site_a.region == site_b.region and site_a.region.code == services.DEMO_REGION
    assert roles_for(users["demo-facilitator"]).facilitator_region_ids == {site_a.region_id}
    assert roles_for(users["demo-authority"]).authority_region_ids == {site_a.region_id}
    assert roles_for(users["demo-staff"]).is_staff
    # The dairy's warm water fits the greenhouse's heat need: same category, hot enough, 2 km away.
    offer = a.streams.get(direction="offer", kind="energy")
    need = b.streams.get(direction="need", kind="energy")
    assert offer.category == need.category and offer.temperature_c >= need.temperature_c
    assert km(site_a.latitude, site_a.longitude, site_b.latitude, site_b.longitude) < 3
    # Outside DEBUG nothing is printed and nobody can log in with a known password.
    assert "password" not in out.split("Demo users exist")[0]
    assert not users["demo-sme-a"].has_usable_password()


@pytest.mark.django_db
def test_logins_are_printed_in_debug_or_on_request(settings):
    from django.contrib.auth import get_user_model

    settings.DEBUG = True
    out = seed("--streams", "20")
    assert f"password: {services.DEMO_PASSWORD}" in out and "demo-facilitator" in out
    assert get_user_model().objects.get(username="demo-sme-a").check_password(services.DEMO_PASSWORD)

    settings.DEBUG = False
    out = seed("--streams", "20", "--print-logins")
    password = out.split("password: ")[1].split()[0]
    assert password != services.DEMO_PASSWORD
    assert get_user_model().objects.get(username="demo-staff").check_password(password)
