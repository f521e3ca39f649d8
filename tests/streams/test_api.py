"""The stream API as each persona sees it: visibility, confidentiality, validation, query counts."""

import pytest

from streams.choices import StreamStatus, Visibility
from streams.models import Stream
from tests.factories import StreamFactory, leaf_category, verified_peers

pytestmark = pytest.mark.django_db

URL = "/api/v1/streams/"


@pytest.fixture
def a_anonymous(company_a):
    return StreamFactory(site=company_a.sites.first(), title="Whey from cheese making", visibility=Visibility.ANONYMOUS)


@pytest.fixture
def a_private(company_a):
    return StreamFactory(site=company_a.sites.first(), title="Secret brine", visibility=Visibility.PRIVATE)


@pytest.fixture
def a_draft(company_a):
    return StreamFactory(site=company_a.sites.first(), title="Draft offer", status=StreamStatus.DRAFT)


@pytest.fixture
def a_public(company_a):
    return StreamFactory(site=company_a.sites.first(), title="Public sawdust", visibility=Visibility.PUBLIC)


@pytest.fixture
def y_private(company_y):
    return StreamFactory(site=company_y.sites.first(), title="Finnish private", visibility=Visibility.PRIVATE)


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_anonymous_users_get_401_or_403_on_streams(api, a_anonymous):
    assert api(None).get(URL).status_code in (401, 403)
    assert api(None).get(f"{URL}{a_anonymous.pk}/").status_code in (401, 403)


def test_member_sees_own_streams_in_every_status(api, member, a_anonymous, a_private, a_draft):
    assert ids(api(member).get(URL)) == {a_anonymous.pk, a_private.pk, a_draft.pk}


def test_other_company_sees_only_listed_streams(api, other_member, a_anonymous, a_private, a_draft, a_public):
    assert ids(api(other_member).get(URL)) == {a_anonymous.pk, a_public.pk}


@pytest.mark.parametrize("which", ["a_private", "a_draft"])
def test_it_answers_404_for_streams_another_company_may_not_see(api, other_member, which, request):
    stream = request.getfixturevalue(which)
    assert api(other_member).get(f"{URL}{stream.pk}/").status_code == 404
    assert api(other_member).patch(f"{URL}{stream.pk}/", {"title": "x"}, format="json").status_code == 404


def test_it_answers_403_for_visible_streams_another_company_may_not_change(api, other_member, a_anonymous):
    client = api(other_member)
    assert client.patch(f"{URL}{a_anonymous.pk}/", {"title": "hijack"}, format="json").status_code == 403
    assert client.post(f"{URL}{a_anonymous.pk}/status/", {"status": "closed"}, format="json").status_code == 403
    a_anonymous.refresh_from_db()
    assert a_anonymous.title == "Whey from cheese making"
    assert a_anonymous.status == StreamStatus.ACTIVE


def test_anonymous_listing_hides_identity_and_confidential_fields(api, other_member, a_anonymous):
    verified_peers("10.51", "SE22")  # with the owner, 3 dairies in Sydsverige: the label keeps both
    body = api(other_member).get(f"{URL}{a_anonymous.pk}/").json()
    assert body["company"] is None
    assert body["site"] is None
    assert body["price_eur_per_unit"] is None
    assert body["disposal_cost_eur_per_unit"] is None
    assert body["composition"] is None
    assert body["confidential_hidden"] is True
    assert body["sector"]["code"] == "10.51"
    assert body["region"]["code"] == "SE22"
    # Lund to Malmö is about 17 km, shown rounded.
    assert body["approx_distance_km"] in (15, 20)
    assert "Alpha" not in str(body)


def test_public_listing_shows_company_but_not_price(api, other_member, a_public):
    body = api(other_member).get(f"{URL}{a_public.pk}/").json()
    assert body["company"]["name"] == "Alpha Dairy AB"
    assert body["price_eur_per_unit"] is None
    assert body["composition"] is None


@pytest.mark.parametrize("persona", ["member", "facilitator", "staff"])
def test_owner_facilitator_and_staff_see_everything(api, persona, request, a_private):
    user = request.getfixturevalue(persona)
    body = api(user).get(f"{URL}{a_private.pk}/").json()
    assert body["company"]["name"] == "Alpha Dairy AB"
    assert body["price_eur_per_unit"] == "12.00"
    assert body["composition"] == "secret recipe 42% lignin"


def test_facilitator_of_another_region_sees_no_private_streams(api, facilitator_y, facilitator, a_private, y_private):
    assert ids(api(facilitator_y).get(URL)) == {y_private.pk}
    assert api(facilitator_y).get(f"{URL}{a_private.pk}/").status_code == 404
    assert api(facilitator).get(f"{URL}{y_private.pk}/").status_code == 404


def test_authority_sees_listed_streams_without_confidential_fields(api, authority, a_anonymous, a_private):
    client = api(authority)
    assert ids(client.get(URL)) == {a_anonymous.pk}
    assert client.get(f"{URL}{a_anonymous.pk}/").json()["price_eur_per_unit"] is None


def _payload(**over):
    data = {
        "direction": "offer",
        "kind": "material",
        "title": "Whey",
        "category": leaf_category("material").code,
        "quantity": "20",
        "unit": "t",
        "period": "month",
    }
    data.update(over)
    return data


def test_member_lists_an_offer_with_six_fields_and_it_is_normalised(api, member, company_a):
    response = api(member).post(URL, _payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["quantity_yearly"] == 240.0
    assert body["base_unit"] == "t"
    assert body["visibility"] == "anonymous"
    stream = Stream.objects.get(pk=body["id"])
    assert stream.company == company_a
    assert stream.site == company_a.sites.first()
    assert stream.history.count() == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"unit": "MWh"}, "unit"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-5"}, "quantity"),
        ({"ewc_codes": ["999999"]}, "ewc_codes"),
        ({"category": "NOPE"}, "category"),
        ({"kind": "energy", "unit": "t"}, "unit"),
        ({"direction": "sideways"}, "direction"),
        ({"months": [13]}, "months"),
        ({"max_transport_km": -1}, "max_transport_km"),
        ({"quantity_min": "10", "quantity_max": "5"}, "quantity_max"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, member, company_a, override, field):
    before = Stream.objects.count()
    response = api(member).post(URL, _payload(**override), format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Stream.objects.count() == before


def test_protected_fields_sent_by_a_client_change_nothing(api, member, other_member, company_b, a_anonymous):
    response = api(member).patch(
        f"{URL}{a_anonymous.pk}/",
        {"status": "closed", "hazardous": True, "quantity_yearly": 1, "created_at": "2000-01-01T00:00:00Z",
         "company": company_b.pk, "title": "Renamed"},
        format="json",
    )
    assert response.status_code == 200, response.content
    a_anonymous.refresh_from_db()
    assert a_anonymous.title == "Renamed"
    assert a_anonymous.status == StreamStatus.ACTIVE
    assert a_anonymous.company.name == "Alpha Dairy AB"
    assert a_anonymous.quantity_yearly == 100.0


def test_a_member_cannot_list_a_stream_on_another_companys_site(api, member, company_b):
    response = api(member).post(URL, _payload(site=company_b.sites.first().pk), format="json")
    assert response.status_code == 400
    assert "site" in response.json()


def test_status_moves_are_checked(api, member, a_anonymous):
    client = api(member)
    assert client.post(f"{URL}{a_anonymous.pk}/status/", {"status": "paused"}, format="json").status_code == 200
    assert client.post(f"{URL}{a_anonymous.pk}/status/", {"status": "closed"}, format="json").status_code == 200
    response = client.post(f"{URL}{a_anonymous.pk}/status/", {"status": "paused"}, format="json")
    assert response.status_code == 400
    assert "status" in response.json()


def test_facilitator_lists_a_stream_on_behalf_of_an_sme(api, facilitator, company_a):
    response = api(facilitator).post(URL, _payload(company=company_a.pk), format="json")
    assert response.status_code == 201, response.content
    assert Stream.objects.get(pk=response.json()["id"]).entered_by_facilitator is True


def test_filters_narrow_the_list(api, member, a_anonymous, a_private, company_a):
    heat = StreamFactory(site=company_a.sites.first(), kind="energy", unit="MWh", title="Waste heat 60C")
    client = api(member)
    assert ids(client.get(URL, {"kind": "energy"})) == {heat.pk}
    assert ids(client.get(URL, {"visibility": "private"})) == {a_private.pk}
    assert ids(client.get(URL, {"q": "whey"})) == {a_anonymous.pk}
    assert ids(client.get(URL, {"region": "FI1B"})) == set()
    assert client.get(URL, {"region": "XX99"}).status_code == 400


def test_the_list_uses_a_constant_number_of_queries(api, member, company_a, django_assert_max_num_queries):
    for _ in range(3):
        StreamFactory(site=company_a.sites.first())
    client = api(member)
    client.get(URL)  # warm caches that are not per-request (content types)
    with django_assert_max_num_queries(8) as small:
        client.get(URL)
    for _ in range(30):
        StreamFactory(site=company_a.sites.first())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(URL).json()["results"]) == 33
