"""Account and company pages: landing page, sign-up, log in and out, password reset, onboarding,
company detail and edit, and adding a site, as each persona sees them."""

import re

import pytest
from django.contrib.auth import get_user_model

from companies.models import Company, Membership, Site
from streams.choices import Visibility
from streams.models import ResourceCategory
from tests.conftest import PASSWORD
from tests.factories import StreamFactory, UserFactory

pytestmark = pytest.mark.django_db

ONBOARD = "/companies/onboard/"


def company_url(company, suffix=""):
    return f"/companies/{company.pk}/{suffix}"


@pytest.fixture
def newcomer(db):
    return UserFactory(username="nina")


@pytest.fixture
def a_public_stream(company_a):
    category, _ = ResourceCategory.objects.get_or_create(
        code="MAT.PAGETEST.SAWDUST",
        defaults={"kind": "material", "name": "Pagetest sawdust and shavings", "level": 2, "is_leaf": True},
    )
    return StreamFactory(site=company_a.sites.first(), category=category, title="Public whey",
                         visibility=Visibility.PUBLIC)


def onboarding_data(**over):
    data = {
        "company-name": "Gamma Greenhouse AB", "company-nace_code": "01.13", "company-country": "SE",
        "company-employees": "12",
        "site-name": "Main greenhouse", "site-address": "Växthusvägen 3",
        "site-latitude": "55.70", "site-longitude": "13.19", "site-region": "",
    }
    data.update(over)
    return data


# --- Landing page and accounts ----------------------------------------------------------------------


def test_the_landing_page_says_what_the_platform_does(web, member):
    for user in (None, member):
        html = web(user).get("/").content.decode()
        assert "surplus heat" in html
        assert "anonymous by default" in html


def test_the_landing_page_offers_sign_up_to_visitors_and_listing_to_members(web, member, newcomer):
    assert 'href="/accounts/signup/"' in web(None).get("/").content.decode()
    assert 'href="/streams/new/"' in web(member).get("/").content.decode()
    assert f'href="{ONBOARD}"' in web(newcomer).get("/").content.decode()


def test_the_navigation_adapts_to_roles(web, member, facilitator, staff):
    anon = web(None).get("/").content.decode()
    assert "/streams/mine/" not in anon
    own = web(member).get("/").content.decode()
    assert "/streams/mine/" in own
    assert "/api/docs/" in own
    assert "/admin/" not in own
    assert ONBOARD in web(facilitator).get("/").content.decode()
    assert "/admin/" in web(staff).get("/").content.decode()


def test_sign_up_creates_the_account_logs_in_and_leads_to_onboarding(web):
    client = web(None)
    response = client.post("/accounts/signup/", {
        "username": "sven", "email": "sven@example.test",
        "password1": "a long enough passphrase", "password2": "a long enough passphrase",
    })
    assert response.status_code == 302
    assert response["Location"] == ONBOARD
    user = get_user_model().objects.get(username="sven")
    assert user.email == "sven@example.test"
    assert client.get(ONBOARD).status_code == 200


def test_sign_up_refuses_a_taken_email_and_mismatched_passwords(web, member):
    response = web(None).post("/accounts/signup/", {
        "username": "sven", "email": member.email,
        "password1": "a long enough passphrase", "password2": "something else entirely",
    })
    assert response.status_code == 200
    assert {"email", "password2"} <= set(response.context["form"].errors)
    assert not get_user_model().objects.filter(username="sven").exists()


def test_log_in_lands_on_the_home_page_and_log_out_is_a_post(web, member):
    client = web(None)
    page = client.get("/accounts/login/").content.decode()
    assert re.search(r'<input type="hidden" name="next" value="/">', page)
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/", {"next": "/"})
    assert response.status_code == 302
    assert client.get("/streams/").status_code == 302


def test_a_wrong_password_is_an_error_on_the_login_page(web, member):
    response = web(None).post("/accounts/login/", {"username": "alice", "password": "nope", "next": "/"})
    assert response.status_code == 200
    assert "alert" in response.content.decode()


def test_a_password_reset_sends_an_email_with_a_working_link(web, member, mailoutbox):
    client = web(None)
    response = client.post("/accounts/password_reset/", {"email": member.email})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [member.email]
    assert "Reset your Symbiosis password" in mail.subject
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.body).group(1)
    response = client.get(link, follow=True)
    assert response.status_code == 200
    assert "Choose a new password" in response.content.decode()


# --- Onboarding -------------------------------------------------------------------------------------


def test_anonymous_visitors_must_log_in_to_onboard(web):
    response = web(None).get(ONBOARD)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_onboarding_creates_company_site_and_admin_membership(web, newcomer):
    response = web(newcomer).post(ONBOARD, onboarding_data())
    assert response.status_code == 302
    assert response["Location"] == "/streams/new/"
    company = Company.objects.get(name="Gamma Greenhouse AB")
    assert company.nace.code == "01.13"
    site = Site.objects.get(company=company)
    assert site.name == "Main greenhouse"
    assert site.region.code == "SE22"  # nearest to Lund
    assert Membership.objects.get(user=newcomer, company=company).role == "admin"


def test_onboarding_maps_a_rev2_code_without_dots(web, newcomer):
    assert web(newcomer).post(ONBOARD, onboarding_data(**{"company-nace_code": "1051"})).status_code == 302
    assert Company.objects.get(name="Gamma Greenhouse AB").nace.code == "10.51"


@pytest.mark.parametrize("code", ["99.99", "banana", "1"])
def test_a_bad_nace_code_is_a_field_error_and_writes_nothing(web, newcomer, code):
    counts = (Company.objects.count(), Site.objects.count(), Membership.objects.count())
    response = web(newcomer).post(ONBOARD, onboarding_data(**{"company-nace_code": code}))
    assert response.status_code == 200
    assert "nace_code" in response.context["company_form"].errors
    assert (Company.objects.count(), Site.objects.count(), Membership.objects.count()) == counts


def test_bad_coordinates_are_field_errors_of_the_site(web, newcomer):
    response = web(newcomer).post(ONBOARD, onboarding_data(**{"site-latitude": "91"}))
    assert response.status_code == 200
    assert "latitude" in response.context["site_form"].errors
    assert not Company.objects.filter(name="Gamma Greenhouse AB").exists()


def test_a_facilitator_onboards_a_company_on_its_behalf(web, facilitator):
    response = web(facilitator).post(ONBOARD, onboarding_data())
    company = Company.objects.get(name="Gamma Greenhouse AB")
    assert response["Location"] == company_url(company)
    assert company.entered_by_facilitator is True
    assert not Membership.objects.filter(user=facilitator).exists()


def test_nace_suggestions_come_as_options(web):
    html = web(None).get("/companies/nace-options/", {"company-nace_code": "1051"}).content.decode()
    assert '<option value="10.51">' in html
    assert web(None).get("/companies/nace-options/", {"q": ""}).content.decode().strip() == ""


# --- Company detail, edit, sites ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "code"),
    [("member", 200), ("facilitator", 200), ("staff", 200), ("other_member", 404), ("facilitator_y", 404),
     ("authority", 404)],
)
def test_a_company_page_is_a_404_for_those_who_may_not_see_the_company(web, request, company_a, persona, code):
    assert web(request.getfixturevalue(persona)).get(company_url(company_a)).status_code == code


def test_anonymous_visitors_must_log_in_to_see_a_company(web, company_a):
    assert web(None).get(company_url(company_a)).status_code == 302


def test_a_public_listing_makes_the_company_visible_but_not_its_sites(web, other_member, a_public_stream):
    company = a_public_stream.company
    response = web(other_member).get(company_url(company))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Public whey" in html
    assert "Alpha Lund" not in html
    assert response.context["sites"] == []


def test_members_and_facilitators_see_the_sites(web, member, facilitator, company_a):
    for user in (member, facilitator):
        assert "Alpha Lund" in web(user).get(company_url(company_a)).content.decode()


@pytest.mark.parametrize(
    ("persona", "code"),
    [("member", 200), ("facilitator", 200), ("staff", 200), ("other_member", 403), ("authority", 403),
     ("facilitator_y", 403)],
)
def test_editing_a_visible_company_needs_the_right_to_edit_it(web, request, a_public_stream, persona, code):
    company = a_public_stream.company
    client = web(request.getfixturevalue(persona))
    assert client.get(company_url(company, "edit/")).status_code == code
    assert client.get(company_url(company, "sites/new/")).status_code == code


def test_editing_an_invisible_company_is_a_404(web, other_member, company_a):
    client = web(other_member)
    assert client.get(company_url(company_a, "edit/")).status_code == 404
    assert client.post(company_url(company_a, "sites/new/"), {"name": "x"}).status_code == 404


def test_a_company_admin_edits_the_company(web, member, company_a):
    response = web(member).post(company_url(company_a, "edit/"), {
        "name": "Alpha Dairy Group AB", "nace_code": "10.51", "country": "SE", "employees": "300",
        "description": "", "website": "",
    })
    assert response.status_code == 302
    company_a.refresh_from_db()
    assert company_a.name == "Alpha Dairy Group AB"
    assert company_a.is_sme is False


def test_a_bad_nace_code_on_edit_is_a_field_error(web, member, company_a):
    response = web(member).post(company_url(company_a, "edit/"), {
        "name": "Alpha Dairy AB", "nace_code": "99.99", "country": "SE",
    })
    assert response.status_code == 200
    assert "nace_code" in response.context["form"].errors


def test_a_company_admin_adds_a_site_in_the_nearest_region(web, member, company_a):
    data = {"name": "Stockholm depot", "latitude": "59.33", "longitude": "18.06"}
    response = web(member).post(company_url(company_a, "sites/new/"), data)
    assert response.status_code == 302
    assert Site.objects.get(company=company_a, name="Stockholm depot").region.code == "SE11"
    duplicate = web(member).post(company_url(company_a, "sites/new/"), data)
    assert duplicate.status_code == 200
    assert duplicate.context["form"].errors
