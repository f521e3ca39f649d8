"""DESIGN: "every read of confidential fields by a facilitator or staff member is recorded in an audit
log". One confidential.read event per response that showed them, with the streams' ids; nothing for
the stream's own company, and nothing when the fields stay hidden."""

import pytest

from audit.models import AuditEvent
from streams.choices import Visibility
from tests.factories import StreamFactory
from tests.matching.test_api import make_match

pytestmark = pytest.mark.django_db


@pytest.fixture
def secret_offer(company_a):
    return StreamFactory(site=company_a.sites.first(), direction="offer", title="Secret brine",
                         visibility=Visibility.ANONYMOUS, composition="NaCl 12 %")


@pytest.fixture
def secret_need(company_b):
    return StreamFactory(site=company_b.sites.first(), direction="need", title="Brine wanted",
                         visibility=Visibility.ANONYMOUS)


def reads():
    return list(AuditEvent.objects.filter(action="confidential.read").order_by("pk"))


def test_a_facilitator_opening_a_stream_of_their_region_is_recorded(web, api, facilitator, secret_offer):
    page = web(facilitator).get(f"/streams/{secret_offer.pk}/", HTTP_USER_AGENT="Firefox 200")
    assert page.status_code == 200 and b"NaCl 12 %" in page.content
    (event,) = reads()
    assert (event.actor, event.object_type, event.object_id) == (facilitator, "streams.stream", str(secret_offer.pk))
    assert event.detail["ids"] == [secret_offer.pk] and event.detail["count"] == 1
    assert event.detail["path"] == f"/streams/{secret_offer.pk}/" and event.user_agent == "Firefox 200"
    body = api(facilitator).get(f"/api/v1/streams/{secret_offer.pk}/").json()
    assert body["composition"] == "NaCl 12 %"
    assert len(reads()) == 2 and reads()[1].detail["method"] == "GET"


def test_a_list_that_shows_them_is_one_event_with_every_id(api, staff, secret_offer, secret_need):
    body = api(staff).get("/api/v1/streams/").json()
    shown = sorted(r["id"] for r in body["results"] if not r["confidential_hidden"])
    assert shown == sorted([secret_offer.pk, secret_need.pk])
    (event,) = reads()
    assert event.actor == staff and event.detail["ids"] == shown and event.detail["count"] == 2
    assert event.object_id == ""  # several streams: the ids are in the detail


def test_the_owner_and_viewers_who_do_not_see_them_leave_no_event(web, api, member, other_member, authority,
                                                                    facilitator_y, secret_offer):
    assert web(member).get(f"/streams/{secret_offer.pk}/").status_code == 200  # the owner's own data
    for user in (other_member, authority, facilitator_y, None):
        body = api(user).get("/api/v1/streams/").json()
        for row in body.get("results", []):
            assert row["composition"] is None
    assert api(other_member).get(f"/api/v1/streams/{secret_offer.pk}/").json()["composition"] is None
    assert reads() == []


def test_a_match_shown_to_the_region_s_facilitator_records_both_streams(web, api, facilitator, member,
                                                                        secret_offer, secret_need):
    match = make_match(secret_offer, secret_need)
    assert web(facilitator).get(f"/matches/{match.pk}/").status_code == 200
    (event,) = reads()
    assert event.actor == facilitator and event.detail["ids"] == sorted([secret_offer.pk, secret_need.pk])
    # A party sees its own side and, before both say yes, not the other's: nothing to record.
    assert api(member).get(f"/api/v1/matches/{match.pk}/").status_code == 200
    assert len(reads()) == 1


def test_staff_opening_a_stream_in_the_admin_is_recorded(web, staff, secret_offer):
    assert web(staff).get(f"/admin/streams/stream/{secret_offer.pk}/change/").status_code == 200
    (event,) = reads()
    assert event.actor == staff and event.detail["ids"] == [secret_offer.pk]


def test_a_refused_response_records_no_read(web, facilitator_y, company_a):
    private = StreamFactory(site=company_a.sites.first(), title="Private", visibility=Visibility.PRIVATE)
    assert web(facilitator_y).get(f"/streams/{private.pk}/").status_code == 404
    assert reads() == []


# --- exact sites (address, coordinates) of a company ---------------------------------------------------
# Every response that shows them: the company page, the API's site list and site (reads, and the site
# an update answers with) and the company's admin form with its site inline.
SITE_RESPONSES = {
    "company page": lambda c, site: c.get(f"/companies/{site.company_id}/"),
    "API site list": lambda c, site: c.get(f"/api/v1/sites/?company={site.company_id}"),
    "API site": lambda c, site: c.get(f"/api/v1/sites/{site.pk}/"),
    "API site update": lambda c, site: c.patch(f"/api/v1/sites/{site.pk}/", {"name": "Gate 2"},
                                               content_type="application/json"),
    "admin company form": lambda c, site: c.get(f"/admin/companies/company/{site.company_id}/change/"),
}


def site_reads():
    return [e for e in reads() if e.object_type == "companies.site"]


@pytest.mark.parametrize("surface", SITE_RESPONSES)
def test_a_company_s_exact_sites_shown_to_a_facilitator_or_staff_are_recorded(surface, web, facilitator, staff,
                                                                              company_a):
    site = company_a.sites.get()
    viewers = [staff] if surface.startswith("admin") else [facilitator, staff]
    for n, viewer in enumerate(viewers, start=1):
        assert SITE_RESPONSES[surface](web(viewer), site).status_code == 200
        assert len(site_reads()) == n, f"{surface} as {viewer}: {[e.detail for e in site_reads()]}"
        event = site_reads()[-1]
        assert (event.actor, event.object_id, event.detail["ids"]) == (viewer, str(site.pk), [site.pk])


def test_a_list_of_sites_is_one_event_with_every_id(web, staff, company_a, company_b):
    body = web(staff).get("/api/v1/sites/").json()
    shown = sorted(row["id"] for row in body["results"])
    assert set(shown) >= {company_a.sites.get().pk, company_b.sites.get().pk}
    (event,) = site_reads()
    assert event.detail["ids"] == shown and event.detail["count"] == len(shown) and event.object_id == ""


@pytest.mark.parametrize("surface", [s for s in SITE_RESPONSES if not s.startswith("admin")])
def test_the_company_s_own_members_and_viewers_without_the_sites_leave_no_site_read(surface, web, member,
                                                                                   other_member, company_a):
    site = company_a.sites.get()
    assert SITE_RESPONSES[surface](web(member), site).status_code == 200  # its own company's sites
    SITE_RESPONSES[surface](web(other_member), site)  # sees company A, never its sites
    assert site_reads() == []


def test_a_refused_site_response_records_no_read(web, facilitator, facilitator_y, company_a):
    site = company_a.sites.get()
    assert SITE_RESPONSES["API site"](web(facilitator_y), site).status_code == 404  # not their region
    assert SITE_RESPONSES["API site update"](web(facilitator_y), site).status_code == 404
    assert SITE_RESPONSES["company page"](web(facilitator_y), site).status_code == 404
    assert web(facilitator).patch(f"/api/v1/sites/{site.pk}/", {"latitude": 999},
                                  content_type="application/json").status_code == 400  # refused for its content
    assert site_reads() == []
