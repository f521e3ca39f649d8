"""Verifying a company (it counts in dashboards once verified for a while): who may verify and undo it,
on the company page and in the API, what each persona sees of it, the "not yet verified" filter, and
the audit trail.

Company B (SE22) publishes a public listing, so company A's admin, the FI1B facilitator and the SE22
authority see it and are refused (403); company Y (FI1B) publishes nothing, so those who do not act
for it get a 404."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AuditEvent
from companies.models import Company
from companies.services import company_unverify, company_verify
from dashboards.suppression import counting_companies
from streams.choices import Visibility
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, region

pytestmark = pytest.mark.django_db

PERSONAS = ("member", "other_member", "facilitator", "facilitator_y", "authority", "staff", "anon")
# Verifying company B (SE22): 200/302 for those who may, 403 for those who see it but may not.
MAY_VERIFY_B = {"facilitator", "staff"}
BADGE = 'badge--warn">Not verified'


@pytest.fixture
def listed_b(company_b):
    """Company B with a public listing: every signed-in persona sees it."""
    StreamFactory(site=company_b.sites.get(), visibility=Visibility.PUBLIC)
    return company_b


@pytest.fixture
def people(member, other_member, facilitator, facilitator_y, authority, staff):
    return {"member": member, "other_member": other_member, "facilitator": facilitator,
            "facilitator_y": facilitator_y, "authority": authority, "staff": staff, "anon": None}


def events(company, action):
    return AuditEvent.objects.filter(action=action, object_type="companies.company", object_id=str(company.pk))


# --- The service ---------------------------------------------------------------------------------------

def test_verify_records_who_and_when_once_and_audits_the_change(listed_b, facilitator, staff):
    company_verify(company=listed_b, actor=facilitator)
    listed_b.refresh_from_db()
    first = listed_b.verified_at
    assert first is not None and listed_b.verified_by == facilitator
    assert events(listed_b, "company.verify").get().actor == facilitator

    company_verify(company=listed_b, actor=staff)  # idempotent: the first verification stays
    listed_b.refresh_from_db()
    assert (listed_b.verified_at, listed_b.verified_by) == (first, facilitator)
    assert events(listed_b, "company.verify").count() == 1


def test_unverify_clears_it_and_audits_what_it_undid(listed_b, facilitator, staff):
    company_verify(company=listed_b, actor=facilitator)
    company_unverify(company=listed_b, actor=staff)
    listed_b.refresh_from_db()
    assert listed_b.verified_at is None and listed_b.verified_by is None
    event = events(listed_b, "company.unverify").get()
    assert event.actor == staff and event.detail["was_verified_by"] == facilitator.pk

    company_unverify(company=listed_b, actor=staff)  # nothing to undo: no second event
    assert events(listed_b, "company.unverify").count() == 1


def test_a_verified_company_counts_in_dashboards_after_the_minimum_age(listed_b, facilitator, settings):
    Company.objects.filter(pk=listed_b.pk).update(created_at=timezone.now() - timedelta(days=400))
    later = timezone.now() + timedelta(days=settings.DASHBOARD_MIN_COMPANY_AGE_DAYS + 1)
    assert not counting_companies(now=later).filter(pk=listed_b.pk).exists()
    company_verify(company=listed_b, actor=facilitator)
    assert not counting_companies().filter(pk=listed_b.pk).exists()  # not yet: the waiting time
    assert counting_companies(now=later).filter(pk=listed_b.pk).exists()
    company_unverify(company=listed_b, actor=facilitator)
    assert not counting_companies(now=later).filter(pk=listed_b.pk).exists()


def test_a_company_a_facilitator_enters_is_verified_by_them(facilitator):
    from companies.services import company_create

    company = company_create(actor=facilitator, name="Gamma AB", nace_code="10.51", country="SE")
    assert company.verified_at is not None and company.verified_by == facilitator


# --- The page ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("verb", ["verify", "unverify"])
def test_page_verify_and_undo_by_persona(web, people, listed_b, persona, verb):
    if verb == "unverify":
        company_verify(company=listed_b, actor=people["staff"])
    before = Company.objects.values("verified_at").get(pk=listed_b.pk)
    r = web(people[persona]).post(f"/companies/{listed_b.pk}/{verb}/")
    after = Company.objects.values("verified_at").get(pk=listed_b.pk)
    if persona == "anon":
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
        assert after == before
    elif persona in MAY_VERIFY_B:
        assert r.status_code == 302 and r["Location"] == f"/companies/{listed_b.pk}/"
        assert (after["verified_at"] is not None) == (verb == "verify")
    else:
        assert r.status_code == 403
        assert after == before


@pytest.mark.parametrize("persona", ["member", "other_member", "facilitator", "authority"])
def test_page_verify_of_a_company_one_cannot_see_is_404(web, people, company_y, persona):
    for verb in ("verify", "unverify"):
        assert web(people[persona]).post(f"/companies/{company_y.pk}/{verb}/").status_code == 404
    assert Company.objects.get(pk=company_y.pk).verified_at is None


def test_page_verify_needs_the_csrf_token(people, listed_b):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(people["facilitator"])
    assert client.post(f"/companies/{listed_b.pk}/verify/").status_code == 403
    assert Company.objects.get(pk=listed_b.pk).verified_at is None


def test_the_facilitator_of_the_other_region_verifies_its_companies(web, people, company_y):
    assert web(people["facilitator_y"]).post(f"/companies/{company_y.pk}/verify/").status_code == 302
    assert Company.objects.get(pk=company_y.pk).verified_by == people["facilitator_y"]


def test_company_page_offers_verification_then_shows_who_verified(web, people, listed_b):
    client = web(people["facilitator"])
    page = client.get(f"/companies/{listed_b.pk}/").content.decode()
    assert "Verify this company" in page and "you checked it is a real company" in page
    assert f'action="/companies/{listed_b.pk}/verify/"' in page and "csrfmiddlewaretoken" in page
    client.post(f"/companies/{listed_b.pk}/verify/")
    page = client.get(f"/companies/{listed_b.pk}/").content.decode()
    assert "Verified on" in page and "by fiona" in page and "Undo verification" in page
    assert "Verify this company" not in page


def test_members_see_their_own_companys_state_in_plain_words(web, people, listed_b):
    page = web(people["other_member"]).get(f"/companies/{listed_b.pk}/").content.decode()
    assert "not verified yet" in page and "left out of the region's statistics" in page
    assert "Verify this company" not in page
    company_verify(company=listed_b, actor=people["facilitator"])
    page = web(people["other_member"]).get(f"/companies/{listed_b.pk}/").content.decode()
    assert "Your company was verified on" in page and "Undo verification" not in page


@pytest.mark.parametrize("persona", ["member", "facilitator_y", "authority"])
def test_others_who_see_the_company_see_nothing_of_its_verification(web, people, listed_b, persona):
    page = web(people[persona]).get(f"/companies/{listed_b.pk}/").content.decode()
    assert 'id="verification-title"' not in page and "Not verified" not in page


# --- The API -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("verb", ["verify", "unverify"])
def test_api_verify_and_undo_by_persona(api, people, listed_b, persona, verb):
    if verb == "unverify":
        company_verify(company=listed_b, actor=people["staff"])
    before = Company.objects.values("verified_at").get(pk=listed_b.pk)
    r = api(people[persona]).post(f"/api/v1/companies/{listed_b.pk}/{verb}/")
    after = Company.objects.values("verified_at").get(pk=listed_b.pk)
    expected = 401 if persona == "anon" else 200 if persona in MAY_VERIFY_B else 403
    assert r.status_code == expected
    if expected == 200:
        assert r.json()["id"] == listed_b.pk and r.json()["verified"] is (verb == "verify")
        assert (after["verified_at"] is not None) == (verb == "verify")
    else:
        assert after == before


def test_api_verify_answers_who_verified(api, people, listed_b):
    body = api(people["facilitator"]).post(f"/api/v1/companies/{listed_b.pk}/verify/").json()
    assert body["verified"] is True and body["verified_by"] == "fiona" and body["verified_at"]


@pytest.mark.parametrize("persona", ["member", "other_member", "facilitator", "authority"])
def test_api_verify_of_a_company_one_cannot_see_is_404(api, people, company_y, persona):
    for verb in ("verify", "unverify"):
        assert api(people[persona]).post(f"/api/v1/companies/{company_y.pk}/{verb}/").status_code == 404
    assert Company.objects.get(pk=company_y.pk).verified_at is None


def test_api_refusals_are_audited(api, people, listed_b, company_y):
    api(people["member"]).post(f"/api/v1/companies/{listed_b.pk}/verify/")
    api(people["member"]).post(f"/api/v1/companies/{company_y.pk}/verify/")
    refused = AuditEvent.objects.filter(action="access.refused", actor=people["member"])
    assert sorted(refused.values_list("detail__status", flat=True)) == [403, 404]


# --- The list and its filter ---------------------------------------------------------------------------

def _unverified_ids(client, url="/api/v1/companies/?unverified=true"):
    return sorted(row["id"] for row in client.get(url).json()["results"])


def test_not_yet_verified_filter_lists_the_facilitators_own_regions_only(api, people, company_a, listed_b,
                                                                         company_y):
    StreamFactory(site=company_y.sites.get(), visibility=Visibility.PUBLIC)  # visible to all, not SE22's
    company_verify(company=company_a, actor=people["staff"])
    assert _unverified_ids(api(people["facilitator"])) == [listed_b.pk]
    assert _unverified_ids(api(people["facilitator_y"])) == [company_y.pk]
    assert _unverified_ids(api(people["staff"])) == sorted([listed_b.pk, company_y.pk])
    assert _unverified_ids(api(people["facilitator"]), "/api/v1/companies/?unverified=false") == [company_a.pk]


@pytest.mark.parametrize("persona", ["member", "other_member", "authority"])
def test_not_yet_verified_filter_tells_others_nothing(api, people, listed_b, persona):
    client = api(people[persona])
    assert _unverified_ids(client) == []
    assert _unverified_ids(client, "/api/v1/companies/?unverified=false") == []


def test_list_page_and_api_agree_on_the_filter(web, api, people, company_a, listed_b):
    page = web(people["facilitator"]).get("/companies/?unverified=true")
    assert sorted(c.pk for c, _ in page.context["rows"]) == _unverified_ids(api(people["facilitator"]))


def test_list_page_badges_unverified_companies_for_facilitators_and_staff_only(web, people, company_a, listed_b):
    company_verify(company=company_a, actor=people["staff"])
    for persona in ("facilitator", "staff"):
        page = web(people[persona]).get("/companies/")
        assert {c.pk: badge for c, badge in page.context["rows"]}[listed_b.pk] is True
        html = page.content.decode()
        assert html.count(BADGE) == 1 and 'name="unverified"' in html  # B's badge only: A is verified
    # The FI1B facilitator may verify neither: no badge, but the filter (for their own region's companies).
    html = web(people["facilitator_y"]).get("/companies/").content.decode()
    assert "Beta Sawmill AB" in html and BADGE not in html and 'name="unverified"' in html
    for persona in ("member", "authority"):
        html = web(people[persona]).get("/companies/").content.decode()
        assert "Beta Sawmill AB" in html and "Not verified" not in html and 'name="unverified"' not in html
    assert web(None).get("/companies/").status_code == 302


def test_list_page_queries_do_not_grow_with_rows(web, people, company_a):
    client = web(people["facilitator"])

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/companies/").status_code == 200
        return len(ctx.captured_queries)

    client.get("/companies/")
    small = count()
    for n in range(12):
        SiteFactory(company=CompanyFactory(name=f"Extra {n} AB"), region=region("SE22"))
    assert count() == small
