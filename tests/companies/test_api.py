"""Companies, sites, regions and NACE codes through the API."""

import pytest

from companies.models import Company, Membership, Site

pytestmark = pytest.mark.django_db


def company_payload(**over):
    data = {"name": "Gamma Greenhouse AB", "nace_code": "01.13", "country": "SE", "employees": 12}
    data.update(over)
    return data


def test_reference_endpoints_are_public_and_searchable(api):
    client = api(None)
    body = client.get("/api/v1/nace-codes/", {"q": "1051", "revision": "2.1"}).json()
    assert [r["code"] for r in body["results"]] == ["10.51"]
    assert client.get("/api/v1/regions/", {"country": "FI"}).json()["count"] == 5
    assert client.get("/api/v1/nace-codes/", {"q": "dairy"}).json()["count"] >= 2


def test_a_new_company_makes_its_creator_admin(api, django_user_model):
    user = django_user_model.objects.create_user("gert", password="x")
    response = api(user).post("/api/v1/companies/", company_payload(), format="json")
    assert response.status_code == 201, response.content
    company = Company.objects.get(pk=response.json()["id"])
    assert company.is_sme is True
    assert Membership.objects.get(user=user, company=company).role == "admin"


def test_a_nace_rev2_code_without_dots_is_mapped_to_rev21(api, member):
    response = api(member).post("/api/v1/companies/", company_payload(nace_code="1051"), format="json")
    assert response.status_code == 201
    assert response.json()["nace"]["code"] == "10.51"


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"nace_code": "99.99"}, "nace_code"),
        ({"nace_code": "banana"}, "nace_code"),
        ({"country": "XX"}, "country"),
        ({"employees": -3}, "employees"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_company_input_is_a_400_naming_the_field(api, member, override, field):
    before = Company.objects.count()
    response = api(member).post("/api/v1/companies/", company_payload(**override), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Company.objects.count() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [({"latitude": 91}, "latitude"), ({"longitude": -181}, "longitude"), ({"region": "ZZ11"}, "region")],
)
def test_bad_site_input_is_a_400_naming_the_field(api, member, company_a, override, field):
    data = {"company": company_a.pk, "name": "New plant", "latitude": 55.6, "longitude": 13.0}
    data.update(override)
    response = api(member).post("/api/v1/sites/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_site_without_region_gets_the_nearest_region_of_its_country(api, member, company_a):
    data = {"company": company_a.pk, "name": "Umeå depot", "latitude": 63.83, "longitude": 20.26}
    response = api(member).post("/api/v1/sites/", data, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["region"] == "SE33"


def test_sites_of_other_companies_are_404(api, other_member, company_a):
    site = company_a.sites.first()
    assert api(other_member).get(f"/api/v1/sites/{site.pk}/").status_code == 404
    assert site.pk not in {r["id"] for r in api(other_member).get("/api/v1/sites/").json()["results"]}
    response = api(other_member).post(
        "/api/v1/sites/", {"company": company_a.pk, "name": "x", "latitude": 1, "longitude": 1}, format="json"
    )
    assert response.status_code == 400
    assert Site.objects.filter(company=company_a).count() == 1


def test_companies_without_public_listings_are_hidden_from_other_companies(api, other_member, company_a):
    assert api(other_member).get(f"/api/v1/companies/{company_a.pk}/").status_code == 404


def test_members_cannot_change_a_company_they_only_see(api, member, other_member, company_a):
    from tests.factories import StreamFactory

    StreamFactory(site=company_a.sites.first(), visibility="public")
    client = api(other_member)
    assert client.get(f"/api/v1/companies/{company_a.pk}/").status_code == 200
    assert client.patch(f"/api/v1/companies/{company_a.pk}/", {"name": "Pwned"}, format="json").status_code == 403


def test_facilitator_sees_companies_of_their_region_only(api, facilitator, facilitator_y, company_a, company_y):
    assert {r["id"] for r in api(facilitator).get("/api/v1/companies/").json()["results"]} >= {company_a.pk}
    assert company_a.pk not in {r["id"] for r in api(facilitator_y).get("/api/v1/companies/").json()["results"]}


def test_a_facilitator_who_enters_a_company_can_read_it_and_add_its_first_site(api, facilitator, facilitator_y,
                                                                                 member):
    """Found by the chained fuzzing (POST /companies/ -> GET /companies/{id}/ answered 404): a company a
    facilitator entered on an SME's behalf has no site yet, so no region rule let them see it or add the
    site; it was an orphan. Until it has a site, the facilitator who entered it (only) may."""
    client = api(facilitator)
    created = client.post("/api/v1/companies/", company_payload(), format="json")
    assert created.status_code == 201, created.content
    company_id = created.json()["id"]
    assert created.json()["entered_by_facilitator"] is True
    assert client.get(f"/api/v1/companies/{company_id}/").status_code == 200
    assert client.patch(f"/api/v1/companies/{company_id}/", {"employees": 30}, format="json").status_code == 200
    for other in (facilitator_y, member):
        assert api(other).get(f"/api/v1/companies/{company_id}/").status_code == 404
    site = client.post("/api/v1/sites/", {"company": company_id, "name": "Greenhouse", "latitude": 55.7,
                                          "longitude": 13.2, "region": "SE22"}, format="json")
    assert site.status_code == 201, site.content
    # From now on the region rule applies: the facilitator of SE22 keeps it, others still do not see it.
    assert client.get(f"/api/v1/companies/{company_id}/").status_code == 200
    assert api(facilitator_y).get(f"/api/v1/companies/{company_id}/").status_code == 404
