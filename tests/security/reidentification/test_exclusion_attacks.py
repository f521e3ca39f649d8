"""Playing the attacker against competitor exclusion (issue #18, findings 1b and 5).

Alice (`member`, admin of Alpha Dairy AB) wants to learn who is behind companies she cannot see and
behind her anonymous match partners. Beta Sawmill AB (`company_b`) has no public listing, so
`/api/v1/companies/<B>/` is a 404 for her; its need for whey is anonymous."""

import pytest

from facilitation.models import Notification
from matching.choices import RunKind, RunStatus
from matching.models import MatchingRun
from matching.services import matching_run_full
from streams.choices import Visibility
from tests.factories import StreamFactory

pytestmark = pytest.mark.django_db


def _exclusions_url(company):
    return f"/api/v1/companies/{company.pk}/exclusions/"


def test_excluding_by_name_does_not_hand_out_the_id_of_a_company_one_cannot_see(api, web, member, company_a,
                                                                               company_b):
    """Finding 1b: the id in the answer opened `/api/v1/streams/?company=<id>` (its anonymous listings)."""
    client = api(member)
    assert client.get(f"/api/v1/companies/{company_b.pk}/").status_code == 404  # B is hidden from her
    created = client.post(_exclusions_url(company_a), {"company_name": "beta SAWMILL ab"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["excluded_company"] is None, "the answer names the hidden company's id"
    assert created.json()["excluded_company_name"] == "beta SAWMILL ab"  # as she typed it
    listed = client.get(_exclusions_url(company_a)).json()
    assert [(e["excluded_company"], e["excluded_company_name"]) for e in listed] == [(None, "beta SAWMILL ab")]
    # nor the registered spelling on the page
    page = web(member).get(f"/companies/{company_a.pk}/exclusions/").content.decode()
    assert "beta SAWMILL ab" in page and company_b.name not in page


def test_the_answer_to_a_name_is_the_same_whether_or_not_such_a_company_exists(api, web, member, company_a,
                                                                              company_b):
    """Finding 1b: "no company of that name" (400) against 201 told who is registered."""
    client = api(member)
    answers = {}
    for name in (company_b.name, "Nonexistent Sawmill AB"):
        response = client.post(_exclusions_url(company_a), {"company_name": name}, format="json")
        body = response.json()
        answers[name] = (response.status_code, sorted(body), body.get("excluded_company"),
                         body.get("excluded_company_name") == name)
    assert answers[company_b.name] == answers["Nonexistent Sawmill AB"], answers
    pages = [web(member).post(f"/companies/{company_a.pk}/exclusions/", {"company_name": name}).status_code
             for name in ("Beta Sawmill", "Nonexistent Mill AB")]
    assert pages == [302, 302]


def _view(client):
    """What alice sees of her suggestions: each one's streams and how its sides are labelled."""
    rows = client.get("/api/v1/matches/", {"page_size": 100}).json()["results"]
    return sorted((r["offer"]["label"], r["need"]["label"], r["need"]["description"], r["score"]) for r in rows)


@pytest.mark.parametrize("kind", ["company_name", "excluded_company"])
def test_adding_and_removing_an_exclusion_does_not_name_an_anonymous_partner(api, member, other_member, company_a,
                                                                            company_b, company_y, kind):
    """Finding 5: alice excludes "Beta Sawmill AB"; if her suggestion with an anonymous partner vanishes
    (now, or after the next matching run), that partner is Beta. Her view must not change at all."""
    from tests.matching.test_api import build_world

    world = build_world(company_a, company_b, company_y)  # alice's whey offer, B's anonymous need
    client = api(member)
    before = _view(client)
    assert len(before) == 2 and not any(company_b.name in str(row) for row in before)  # B is not named
    if kind == "excluded_company":  # B is visible to her through another, public listing
        StreamFactory(site=company_b.sites.get(), visibility=Visibility.PUBLIC, direction="offer", title="Bark")
        before = _view(client)
    body = {"company_name": company_b.name} if kind == "company_name" else {"excluded_company": company_b.pk}
    created = client.post(_exclusions_url(company_a), body, format="json")
    assert created.status_code == 201, created.content
    assert _view(client) == before, "the anonymous partner's match vanished: it is the excluded company"
    assert client.get(f"/api/v1/matches/{world.ab.pk}/").status_code == 200
    # The next nightly run must not drop the pair either (a delayed oracle).
    matching_run_full(run=MatchingRun.objects.create(kind=RunKind.FULL, shards_total=1, status=RunStatus.RUNNING))
    assert _view(client) == before, "the next matching run dropped the pair: it is the excluded company"
    # Beta, the excluded company, does not see the match while the exclusion stands.
    ab = world.ab.__class__.objects.get(offer=world.a_offer, need=world.b_need)
    assert api(other_member).get(f"/api/v1/matches/{ab.pk}/").status_code == 404
    assert client.delete(f"{_exclusions_url(company_a)}{created.json()['id']}/").status_code == 204
    assert _view(client) == before
    assert api(other_member).get(f"/api/v1/matches/{ab.pk}/").status_code == 200


@pytest.mark.parametrize("code", ["class", "group"])
def test_a_sector_exclusion_finer_than_the_partners_label_does_not_place_it(api, member, other_member, company_a,
                                                                           company_b, company_y, code):
    """Beta's anonymous need is labelled at a wide sector (too few verified companies share its class
    in the region). Alice excludes NACE codes one by one; if her suggestion vanishes (now, or after the
    next matching run), Beta's code lies under the one she excluded, finer than its label shows."""
    from companies.anonymity import hidden_label
    from tests.matching.test_api import build_world

    world = build_world(company_a, company_b, company_y)
    client = api(member)
    before = _view(client)
    shown = hidden_label(world.b_need.site, company_b).sector_code
    exact = company_b.nace.code
    probe = exact if code == "class" else exact[:4]
    assert shown != exact and not shown.startswith(probe), (shown, probe)  # the label is coarser
    created = client.post(_exclusions_url(company_a), {"nace_code": probe}, format="json")
    assert created.status_code == 201, created.content
    assert _view(client) == before, "the suggestion vanished: the partner is under the excluded code"
    matching_run_full(run=MatchingRun.objects.create(kind=RunKind.FULL, shards_total=1, status=RunStatus.RUNNING))
    assert _view(client) == before, "the next matching run dropped the pair: the partner is under the code"
    ab = world.ab.__class__.objects.get(offer=world.a_offer, need=world.b_need)
    assert api(other_member).get(f"/api/v1/matches/{ab.pk}/").status_code == 404  # Beta is kept away


def test_a_party_cannot_learn_the_exclusion_from_the_answers_to_its_moves(api, member, other_member, facilitator,
                                                                          company_a, company_b, company_y, mailoutbox,
                                                                          django_capture_on_commit_callbacks):
    """Beta said yes before alice excluded it by name. Alice's yes must neither reveal the pair (the
    match would then vanish for her) nor notify Beta; the facilitator is told why it cannot introduce."""
    from tests.matching.test_api import build_world

    world = build_world(company_a, company_b, company_y)
    path = f"/api/v1/matches/{world.ab.pk}/transition/"
    assert api(other_member).post(path, {"action": "accept"}, format="json").status_code == 200
    assert api(member).post(_exclusions_url(company_a), {"company_name": company_b.name},
                            format="json").status_code == 201
    mailoutbox.clear()
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        answer = api(member).post(path, {"action": "accept"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["revealed"] is False and answer.json()["need"]["company"] is None
    assert api(member).get(f"/api/v1/matches/{world.ab.pk}/").status_code == 200
    assert not Notification.objects.filter(user=other_member, match_id=world.ab.pk).exists()
    assert "bob@example.test" not in [m.to[0] for m in mailoutbox]
    client = api(facilitator)
    assert client.post(path, {"action": "approve"}, format="json").status_code == 200
    refused = client.post(path, {"action": "introduce"}, format="json")
    assert refused.status_code == 409 and "excludes" in refused.json()["detail"], refused.content
