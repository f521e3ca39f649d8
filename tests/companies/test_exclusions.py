"""Competitor exclusion: who hides from whom, listing visibility (pages, API,
company pages), and the page and API where a company's admins manage the list."""

import pytest
from django.core.exceptions import ValidationError

from companies.models import Company, CompetitorExclusion
from companies.selectors import excluded_viewer_company_ids
from companies.services import exclusion_add
from streams.choices import Visibility
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    SiteFactory,
    StreamFactory,
    UserFactory,
    nace,
    region,
)

pytestmark = pytest.mark.django_db


def company(name, code="10.51", region_code="SE22"):
    c = CompanyFactory(name=name, nace=nace(code))
    SiteFactory(company=c, name=f"{name} plant", region=region(region_code))
    return c


# --- Who hides from whom -----------------------------------------------------------------------------

def test_an_exclusion_hides_the_excluder_from_the_excluded_only():
    """Picked, by name or by a NACE code equal to or above the other's (division "10" and group "10.5"
    cover class "10.51"): the excluded companies do not see the excluder; the excluder's own view is
    not narrowed here (see `Match.objects.visible_to` for its matches). The engine gets no exclusion:
    it pairs everyone, and visibility decides who reads what."""
    dairy = company("Dairy", "10.51")
    cheese = company("Cheese", "10.51")
    bakery = company("Bakery", "10.71")
    sawmill = company("Sawmill", "16.11")
    greenhouse = company("Greenhouse", "01.13")

    exclusion_add(company=sawmill, actor=None, excluded_company=greenhouse)  # picked
    exclusion_add(company=bakery, actor=None, excluded_name="  sawMILL ")  # by name
    exclusion_add(company=dairy, actor=None, nace_code="10.5")  # a group: both dairies, not the bakery
    exclusion_add(company=greenhouse, actor=None, nace_code="C16")  # a division, written with its section

    assert excluded_viewer_company_ids([cheese.pk]) == {dairy.pk}
    assert excluded_viewer_company_ids([dairy.pk]) == set()
    assert excluded_viewer_company_ids([bakery.pk]) == set()
    assert excluded_viewer_company_ids([greenhouse.pk]) == {sawmill.pk}
    assert excluded_viewer_company_ids([sawmill.pk]) == {bakery.pk, greenhouse.pk}  # by name, by NACE


def test_an_exclusion_is_a_company_or_a_nace_code_once():
    a, b = company("A"), company("B")
    exclusion_add(company=a, actor=None, excluded_company=b)
    with pytest.raises(ValidationError, match="already listed"):
        exclusion_add(company=a, actor=None, excluded_company=b)
    with pytest.raises(ValidationError):
        exclusion_add(company=a, actor=None, excluded_company=b, nace_code="10")
    with pytest.raises(ValidationError):
        exclusion_add(company=a, actor=None, excluded_company=a)
    with pytest.raises(ValidationError):
        exclusion_add(company=a, actor=None, nace_code="C")  # a section is too wide: give a division
    exclusion_add(company=a, actor=None, excluded_name="Some  Rival AB")
    with pytest.raises(ValidationError, match="already listed"):
        exclusion_add(company=a, actor=None, excluded_name="ｓｏｍｅ rival ab")  # same name, other spelling
    with pytest.raises(ValidationError, match="itself"):
        exclusion_add(company=a, actor=None, excluded_name=" a ")
    assert CompetitorExclusion.objects.count() == 2


# --- Visibility ----------------------------------------------------------------------------------------

@pytest.fixture
def rival_world(company_a, company_b, member, other_member):
    """Company A (alice) excludes company B (bob) by NACE code; both list public and anonymous offers."""
    listings = {
        "a_public": StreamFactory(site=company_a.sites.get(), visibility=Visibility.PUBLIC, title="A public"),
        "a_anon": StreamFactory(site=company_a.sites.get(), visibility=Visibility.ANONYMOUS, title="A anon"),
        "b_public": StreamFactory(site=company_b.sites.get(), visibility=Visibility.PUBLIC, title="B public"),
    }
    exclusion_add(company=company_a, actor=member, nace_code=company_b.nace.code[:2])
    return listings


def test_an_excluded_competitor_never_sees_the_listings(web, api, other_member, rival_world, company_a):
    bob_web, bob_api = web(other_member), api(other_member)
    page = bob_web.get("/streams/").content.decode()
    assert "A public" not in page and "A anon" not in page and "B public" in page
    for key in ("a_public", "a_anon"):
        stream = rival_world[key]
        assert bob_web.get(f"/streams/{stream.pk}/").status_code == 404
        assert bob_api.get(f"/api/v1/streams/{stream.pk}/").status_code == 404
    titles = {r["title"] for r in bob_api.get("/api/v1/streams/", {"page_size": 100}).json()["results"]}
    assert titles == {"B public"}
    # nor the company itself, though it has a public listing
    assert bob_web.get(f"/companies/{company_a.pk}/").status_code == 404
    assert bob_api.get(f"/api/v1/companies/{company_a.pk}/").status_code == 404
    assert not Company.objects.visible_to(other_member).filter(pk=company_a.pk).exists()


def test_the_excluding_company_facilitators_and_staff_still_see_everything(api, member, facilitator, staff,
                                                                            rival_world):
    for user in (member, facilitator, staff):
        titles = {r["title"] for r in api(user).get("/api/v1/streams/", {"page_size": 100}).json()["results"]}
        assert titles == {"A public", "A anon", "B public"}, user


def test_removing_the_exclusion_shows_the_listings_again(api, member, other_member, rival_world):
    CompetitorExclusion.objects.all().delete()
    titles = {r["title"] for r in api(other_member).get("/api/v1/streams/", {"page_size": 100}).json()["results"]}
    assert titles == {"A public", "A anon", "B public"}


def test_visibility_filter_adds_no_query(api, other_member, rival_world, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        assert api(other_member).get("/api/v1/streams/").status_code == 200


# --- Page -------------------------------------------------------------------------------------------------

def test_a_company_admin_adds_and_removes_exclusions_on_the_page(web, member, company_a, company_b):
    client = web(member)
    url = f"/companies/{company_a.pk}/exclusions/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"company_name": "beta  sawmill ab"})
    assert response.status_code == 302
    response = client.post(url, {"nace_code": "16.1"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "beta sawmill ab" in page and "NACE 16.1" in page  # the name as the admin gave it
    assert "Beta Sawmill AB" not in page  # nothing read from the company B, which alice cannot see
    exclusion = CompetitorExclusion.objects.get(excluded_name_key="beta sawmill ab")
    assert exclusion.created_by == member
    assert client.post(f"{url}{exclusion.pk}/delete/").status_code == 302
    assert list(CompetitorExclusion.objects.values_list("excluded_nace__code", flat=True)) == ["16.1"]


def test_the_page_reports_bad_input(web, member, company_a):
    client = web(member)
    url = f"/companies/{company_a.pk}/exclusions/"
    assert "itself" in client.post(url, {"company_name": company_a.name.upper()}).content.decode()
    assert "not a NACE code" in client.post(url, {"nace_code": "xyz"}).content.decode()
    assert "either a company or a NACE code" in client.post(url, {}).content.decode()
    assert not CompetitorExclusion.objects.exists()


def test_the_search_lists_only_companies_the_admin_can_see(web, member, company_a, company_b):
    StreamFactory(site=company_b.sites.get(), visibility=Visibility.PUBLIC)
    hidden = company("Beta Hidden AB")
    page = web(member).get(f"/companies/{company_a.pk}/exclusions/", {"q": "beta"}).content.decode()
    assert "Beta Sawmill AB" in page and hidden.name not in page


def test_an_id_of_a_company_the_admin_cannot_see_reveals_nothing(web, api, member, company_a, company_y):
    url = f"/companies/{company_a.pk}/exclusions/"
    page = web(member).post(url, {"company": company_y.pk}).content.decode()
    assert "cannot be found" in page and company_y.name not in page
    response = api(member).post(f"/api/v1/companies/{company_a.pk}/exclusions/", {"excluded_company": company_y.pk},
                                format="json")
    assert response.status_code == 400 and company_y.name not in response.content.decode()
    # by its name it can be excluded; the answer is the name as given, and no id
    by_name = api(member).post(f"/api/v1/companies/{company_a.pk}/exclusions/", {"company_name": "ypsilon oy"},
                               format="json")
    assert by_name.status_code == 201
    assert by_name.json()["excluded_company"] is None and by_name.json()["excluded_company_name"] == "ypsilon oy"
    assert list(CompetitorExclusion.objects.values_list("excluded_name_key", flat=True)) == ["ypsilon oy"]
    assert excluded_viewer_company_ids([company_y.pk]) == {company_a.pk}  # it applies to Ypsilon


def test_the_api_answers_both_kinds_of_exclusion_as_its_schema_says(api, member, company_a, company_b):
    """Found by the chained fuzzing: a NACE exclusion answered `excluded_company_name: null` (and a company
    exclusion `excluded_nace: null`) where the schema promised a string (an object)."""
    from drf_spectacular.generators import SchemaGenerator

    StreamFactory(site=company_b.sites.get(), visibility=Visibility.PUBLIC)  # so that alice can see B
    url = f"/api/v1/companies/{company_a.pk}/exclusions/"
    client = api(member)
    by_company = client.post(url, {"excluded_company": company_b.pk}, format="json").json()
    by_code = client.post(url, {"nace_code": "1611"}, format="json").json()
    assert by_company["excluded_nace"] is None and by_code["excluded_company_name"] is None
    schema = SchemaGenerator().get_schema(request=None, public=True)
    fields = schema["components"]["schemas"]["CompetitorExclusion"]["properties"]
    assert fields["excluded_nace"].get("nullable") and fields["excluded_company_name"].get("nullable")


@pytest.mark.parametrize(("persona", "code"), [
    ("other_member", 404), ("facilitator_y", 404), ("facilitator", 403), ("authority", 404), ("staff", 200),
])
def test_exclusions_page_isolation(web, request, company_a, member, persona, code):
    user = request.getfixturevalue(persona)
    exclusion = exclusion_add(company=company_a, actor=member, nace_code="16")
    client = web(user)
    assert client.get(f"/companies/{company_a.pk}/exclusions/").status_code == code
    delete = client.post(f"/companies/{company_a.pk}/exclusions/{exclusion.pk}/delete/")
    assert delete.status_code == (302 if code == 200 else code)


def test_a_plain_member_of_the_company_gets_a_403(web, api, company_a):
    plain = MembershipFactory(company=company_a, user=UserFactory(username="mo"), role="member").user
    assert web(plain).get(f"/companies/{company_a.pk}/exclusions/").status_code == 403
    assert api(plain).get(f"/api/v1/companies/{company_a.pk}/exclusions/").status_code == 403


def test_anonymous_visitors_must_log_in(web, api, company_a):
    assert web(None).get(f"/companies/{company_a.pk}/exclusions/").status_code == 302
    assert api(None).get(f"/api/v1/companies/{company_a.pk}/exclusions/").status_code in (401, 403)


def test_the_page_runs_a_fixed_number_of_queries(web, member, company_a, django_assert_max_num_queries):
    client = web(member)
    url = f"/companies/{company_a.pk}/exclusions/"
    for i in range(5):
        exclusion_add(company=company_a, actor=member, excluded_company=company(f"Rival {i}"))
    exclusion_add(company=company_a, actor=member, nace_code="16")
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


# --- API ---------------------------------------------------------------------------------------------------

def test_the_api_lists_adds_and_removes(api, member, company_a, company_b, django_assert_max_num_queries):
    StreamFactory(site=company_b.sites.get(), visibility=Visibility.PUBLIC)  # so that alice can see B
    client = api(member)
    url = f"/api/v1/companies/{company_a.pk}/exclusions/"
    created = client.post(url, {"excluded_company": company_b.pk}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["excluded_company_name"] == "Beta Sawmill AB"
    by_code = client.post(url, {"nace_code": "1611"}, format="json")
    assert by_code.status_code == 201 and by_code.json()["excluded_nace"]["code"] == "16.11"
    assert client.post(url, {"nace_code": "1611"}, format="json").status_code == 400
    assert client.post(url, {}, format="json").status_code == 400
    with django_assert_max_num_queries(6):
        body = client.get(url).json()
    assert len(body) == 2
    assert client.delete(f"{url}{created.json()['id']}/").status_code == 204
    assert [e["excluded_nace"]["code"] for e in client.get(url).json()] == ["16.11"]


@pytest.mark.parametrize(("persona", "code"), [
    ("other_member", 404), ("facilitator_y", 404), ("facilitator", 403), ("authority", 404), ("staff", 200),
])
def test_the_api_isolation(api, request, company_a, member, persona, code):
    user = request.getfixturevalue(persona)
    exclusion = exclusion_add(company=company_a, actor=member, nace_code="16")
    client = api(user)
    url = f"/api/v1/companies/{company_a.pk}/exclusions/"
    assert client.get(url).status_code == code
    assert client.post(url, {"nace_code": "01"}, format="json").status_code == (201 if code == 200 else code)
    assert client.delete(f"{url}{exclusion.pk}/").status_code == (204 if code == 200 else code)


# --- Matches ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("excluder", ["a_by_nace_labelled", "a_by_nace_coarse", "b_by_name", "b_by_name_a_public"])
def test_an_excluded_competitor_never_sees_the_match(api, web, member, other_member, facilitator, staff,
                                                     company_a, company_b, company_y, excluder):
    """Even a match computed before the exclusion: the excluded company never sees it (list, detail
    page, API). The excluder loses it only where it learns nothing: a partner whose name its listing on
    the match already shows, or, for a NACE exclusion, whose label already shows a sector under the
    code. Facilitators and staff still see it."""
    from tests.factories import verified_peers
    from tests.matching.test_api import build_world

    if excluder == "a_by_nace_labelled":  # with B, 3 verified companies share B's class and region
        verified_peers(company_b.nace.code, "SE22")

    a_visibility = Visibility.PUBLIC if excluder == "b_by_name_a_public" else Visibility.ANONYMOUS
    world = build_world(company_a, company_b, company_y, a_visibility=a_visibility)
    match_ids = {r["id"] for r in api(other_member).get("/api/v1/matches/").json()["results"]}
    assert world.ab.pk in match_ids  # visible before the exclusion

    if excluder == "a_by_nace_labelled":  # B's label shows its class: hiding it from A tells A nothing
        exclusion_add(company=company_a, actor=member, nace_code=company_b.nace.code)
        hidden_from, still_sees = (other_member, member), ()
    elif excluder == "a_by_nace_coarse":  # B's label is coarser than its class: A keeps the match
        exclusion_add(company=company_a, actor=member, nace_code=company_b.nace.code)
        hidden_from, still_sees = (other_member,), (member,)
    elif excluder == "b_by_name":  # A's offer is anonymous: B keeps the match, A loses it
        exclusion_add(company=company_b, actor=other_member, excluded_name=company_a.name)
        hidden_from, still_sees = (member,), (other_member,)
    else:  # A's offer is public, so B sees the name: hiding it from B tells B nothing
        exclusion_add(company=company_b, actor=other_member, excluded_name=company_a.name)
        hidden_from, still_sees = (other_member, member), ()

    for user in hidden_from:
        client = api(user)
        listed = {r["id"] for r in client.get("/api/v1/matches/", {"page_size": 100}).json()["results"]}
        assert world.ab.pk not in listed
        assert client.get(f"/api/v1/matches/{world.ab.pk}/").status_code == 404
        assert web(user).get(f"/matches/{world.ab.pk}/").status_code == 404
    for user in still_sees:
        assert api(user).get(f"/api/v1/matches/{world.ab.pk}/").status_code == 200
        assert web(user).get(f"/matches/{world.ab.pk}/").status_code == 200
    # A's match with C: C has the same NACE code as B, so the NACE exclusion hides it too where C's label
    # shows the class; the named one not
    a_sees = {r["id"] for r in api(member).get("/api/v1/matches/").json()["results"]}
    assert (world.ac.pk in a_sees) == (excluder != "a_by_nace_labelled")
    for user in (facilitator, staff):
        assert api(user).get(f"/api/v1/matches/{world.ab.pk}/").status_code == 200


def test_the_engine_pairs_a_sector_exclusion_and_visibility_hides_it_from_the_excluded(
        api, member, other_member, company_a, company_b, company_y):
    """Dropping the pair would make A's suggestion vanish at the next run, telling A that its partner
    is under the code although its label shows only a wider sector."""
    from tests.matching.test_api import build_world

    exclusion_add(company=company_a, actor=member, nace_code=company_b.nace.code)
    world = build_world(company_a, company_b, company_y)
    assert api(member).get(f"/api/v1/matches/{world.ab.pk}/").status_code == 200
    assert api(other_member).get(f"/api/v1/matches/{world.ab.pk}/").status_code == 404


def test_the_engine_pairs_a_named_exclusion_and_visibility_hides_it_from_the_excluded(
        api, member, other_member, company_a, company_b, company_y):
    """Dropping the pair would make A's anonymous suggestion vanish at the next run (naming B)."""
    from tests.matching.test_api import build_world

    exclusion_add(company=company_a, actor=member, excluded_company=company_b)
    world = build_world(company_a, company_b, company_y)  # B's need is anonymous
    assert api(member).get(f"/api/v1/matches/{world.ab.pk}/").status_code == 200
    assert api(other_member).get(f"/api/v1/matches/{world.ab.pk}/").status_code == 404
