"""Stream pages as each persona sees them: visibility (404), editing rights (403), confidentiality,
the stream form, and the query budget of the list page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from streams.choices import StreamStatus, Visibility
from streams.models import EwcCode, ResourceCategory, Stream
from tests.factories import StreamFactory

pytestmark = pytest.mark.django_db

LIST = "/streams/"
MINE = "/streams/mine/"
NEW = "/streams/new/"


def detail(stream):
    return f"/streams/{stream.pk}/"


def edit(stream):
    return f"/streams/{stream.pk}/edit/"


def status(stream):
    return f"/streams/{stream.pk}/status/"


# --- Fixtures: the taxonomy may or may not be loaded yet, so tests bring their own categories ---


@pytest.fixture
def sawdust(db):
    category, _ = ResourceCategory.objects.get_or_create(
        code="MAT.PAGETEST.SAWDUST",
        defaults={"kind": "material", "name": "Pagetest sawdust and shavings", "level": 2, "is_leaf": True},
    )
    return category


@pytest.fixture
def heat(db):
    category, _ = ResourceCategory.objects.get_or_create(
        code="NRG.PAGETEST.HEAT",
        defaults={"kind": "energy", "name": "Pagetest low-temperature heat", "level": 2, "is_leaf": True},
    )
    return category


@pytest.fixture
def fly_ash(sawdust):
    ewc, _ = EwcCode.objects.get_or_create(
        code="100102",
        defaults={
            "description": "coal fly ash", "chapter_title": "wastes from thermal processes",
            "sub_chapter_title": "power stations", "entry_type": "AN", "category": sawdust,
        },
    )
    return ewc


def make_stream(company, sawdust, **kw):
    return StreamFactory(site=company.sites.first(), category=sawdust, **kw)


@pytest.fixture
def a_anonymous(company_a, sawdust):
    return make_stream(company_a, sawdust, title="Whey from cheese making", visibility=Visibility.ANONYMOUS)


@pytest.fixture
def a_private(company_a, sawdust):
    return make_stream(company_a, sawdust, title="Secret brine", visibility=Visibility.PRIVATE)


@pytest.fixture
def a_draft(company_a, sawdust):
    return make_stream(company_a, sawdust, title="Draft offer", status=StreamStatus.DRAFT)


@pytest.fixture
def a_public(company_a, sawdust):
    return make_stream(company_a, sawdust, title="Public sawdust", visibility=Visibility.PUBLIC)


@pytest.fixture
def y_private(company_y, sawdust):
    return make_stream(company_y, sawdust, title="Finnish private", visibility=Visibility.PRIVATE)


@pytest.fixture
def everything(a_anonymous, a_private, a_draft, a_public, y_private):
    return {s.title: s for s in (a_anonymous, a_private, a_draft, a_public, y_private)}


def listed_ids(response):
    assert response.status_code == 200
    return {row.stream.pk for row in response.context["rows"]}


# --- Anonymous visitors ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [LIST, MINE, NEW])
def test_anonymous_visitors_are_sent_to_log_in_from_every_stream_page(web, path):
    response = web(None).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_anonymous_visitors_are_sent_to_log_in_from_detail_edit_and_status(web, a_anonymous):
    client = web(None)
    for response in (client.get(detail(a_anonymous)), client.get(edit(a_anonymous)),
                     client.post(status(a_anonymous), {"status": "paused"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    a_anonymous.refresh_from_db()
    assert a_anonymous.status == StreamStatus.ACTIVE


# --- Browse: who sees what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("member", {"Whey from cheese making", "Secret brine", "Draft offer", "Public sawdust"}),
        ("other_member", {"Whey from cheese making", "Public sawdust"}),
        ("facilitator", {"Whey from cheese making", "Secret brine", "Draft offer", "Public sawdust"}),
        ("facilitator_y", {"Whey from cheese making", "Public sawdust", "Finnish private"}),
        ("authority", {"Whey from cheese making", "Public sawdust"}),
        ("staff", {"Whey from cheese making", "Secret brine", "Draft offer", "Public sawdust", "Finnish private"}),
    ],
)
def test_the_list_shows_each_persona_exactly_the_streams_it_may_see(web, request, everything, persona, expected):
    user = request.getfixturevalue(persona)
    assert listed_ids(web(user).get(LIST)) == {everything[t].pk for t in expected}


def test_an_anonymous_listing_hides_company_and_confidential_data_from_other_companies(
    web, other_member, a_anonymous
):
    client = web(other_member)
    for path in (LIST, detail(a_anonymous)):
        html = client.get(path).content.decode()
        assert "Whey from cheese making" in html
        assert "Alpha Dairy AB" not in html
        assert "Alpha Lund" not in html
        assert "secret recipe" not in html
        assert "EUR per" not in html
        assert "km away" in html


@pytest.mark.parametrize("persona", ["member", "facilitator", "staff"])
def test_the_company_its_facilitators_and_staff_see_identity_and_confidential_fields(
    web, request, a_anonymous, persona
):
    client = web(request.getfixturevalue(persona))
    assert "Alpha Dairy AB" in client.get(LIST).content.decode()
    html = client.get(detail(a_anonymous)).content.decode()
    assert "Alpha Dairy AB" in html
    assert "Alpha Lund" in html
    assert "secret recipe 42% lignin" in html
    assert "12.00 EUR per t" in html
    assert "45.00 EUR per t" in html


def test_a_public_listing_names_the_company_but_keeps_prices_hidden(web, other_member, a_public):
    html = web(other_member).get(detail(a_public)).content.decode()
    assert "Alpha Dairy AB" in html
    assert "secret recipe" not in html
    assert "EUR per" not in html


def test_the_list_page_uses_the_same_filterset_as_the_api(web, api, other_member, company_a, company_b, sawdust, heat):
    for i in range(4):
        make_stream(company_a, sawdust, title=f"Sawdust lot {i}")
        make_stream(company_b, sawdust, title=f"Planer shavings {i}", direction="need")
        StreamFactory(site=company_b.sites.first(), kind="energy", category=heat, unit="MWh", title=f"Heat {i}")
    make_stream(company_a, sawdust, title="Hidden lot", visibility=Visibility.PRIVATE)
    for query in ({}, {"kind": "material"}, {"direction": "need"}, {"q": "lot"}, {"q": "heat", "region": "SE22"},
                  {"category": "MAT.PAGETEST", "direction": "offer"}):
        page_ids = [row.stream.pk for row in web(other_member).get(LIST, query).context["rows"]]
        api_ids = [r["id"] for r in api(other_member).get("/api/v1/streams/", query).json()["results"]]
        assert page_ids == api_ids, query
        assert page_ids, query


def test_the_list_page_runs_a_fixed_number_of_queries_whatever_the_number_of_streams(
    web, member, company_b, sawdust, django_assert_max_num_queries
):
    client = web(member)

    def count(n):
        Stream.objects.all().delete()
        for i in range(n):
            make_stream(company_b, sawdust, title=f"Offer {i}")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(LIST, {"kind": "material"})
        assert len(response.context["rows"]) == min(n, 25)
        return len(ctx.captured_queries)

    count(3)  # the label table of hidden companies is read once per data version, then cached
    assert count(3) == count(30)
    # session, user, 2 x roles, region choices, count, origin, page, EWC prefetch, label table version
    with django_assert_max_num_queries(10):
        client.get(LIST)


def test_my_streams_runs_a_fixed_number_of_queries_whatever_the_number_of_streams(
    web, member, company_a, sawdust
):
    client = web(member)

    def count(n):
        Stream.objects.all().delete()
        for i in range(n):
            make_stream(company_a, sawdust, title=f"Offer {i}", status=StreamStatus.PAUSED if i % 2 else "active")
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(MINE)
        assert len(response.context["rows"]) == min(n, 25)
        return len(ctx.captured_queries)

    assert count(3) == count(30)


def test_htmx_filter_requests_get_only_the_results(web, member, a_anonymous):
    response = web(member).get(LIST, {"q": "whey"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "Whey from cheese making" in html
    assert "<html" not in html
    assert "HX-Request" in response["Vary"]


def test_the_list_paginates_by_25(web, member, company_b, sawdust):
    for i in range(27):
        make_stream(company_b, sawdust, title=f"Offer {i}")
    client = web(member)
    assert len(client.get(LIST).context["rows"]) == 25
    assert len(client.get(LIST, {"page": 2}).context["rows"]) == 2


# --- Detail -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "stream", "code"),
    [
        ("member", "a_private", 200),
        ("member", "a_draft", 200),
        ("member", "y_private", 404),
        ("other_member", "a_anonymous", 200),
        ("other_member", "a_public", 200),
        ("other_member", "a_private", 404),
        ("other_member", "a_draft", 404),
        ("facilitator", "a_private", 200),
        ("facilitator", "y_private", 404),
        ("facilitator_y", "y_private", 200),
        ("facilitator_y", "a_private", 404),
        ("facilitator_y", "a_anonymous", 200),
        ("authority", "a_private", 404),
        ("authority", "a_anonymous", 200),
        ("staff", "a_private", 200),
        ("staff", "y_private", 200),
    ],
)
def test_the_detail_page_is_a_404_for_streams_a_persona_may_not_see(web, request, persona, stream, code):
    target = request.getfixturevalue(stream)
    assert web(request.getfixturevalue(persona)).get(detail(target)).status_code == code


def test_the_history_of_changes_is_shown_only_to_those_who_may_edit(web, member, other_member, a_anonymous):
    a_anonymous.title = "Whey, sweet"
    a_anonymous.save()
    own = web(member).get(detail(a_anonymous)).content.decode()
    assert "History of changes" in own
    assert "title" in own
    assert "History of changes" not in web(other_member).get(detail(a_anonymous)).content.decode()


# --- Edit and status --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "stream", "code"),
    [
        ("member", "a_anonymous", 200),
        ("member", "a_private", 200),
        ("other_member", "a_anonymous", 403),
        ("other_member", "a_private", 404),
        ("other_member", "a_draft", 404),
        ("facilitator", "a_private", 200),
        ("facilitator", "y_private", 404),
        ("facilitator_y", "a_private", 404),
        ("facilitator_y", "a_anonymous", 403),
        ("facilitator_y", "y_private", 200),
        ("authority", "a_anonymous", 403),
        ("authority", "a_private", 404),
        ("staff", "y_private", 200),
    ],
)
def test_the_edit_page_is_404_when_invisible_and_403_when_not_editable(web, request, persona, stream, code):
    target = request.getfixturevalue(stream)
    client = web(request.getfixturevalue(persona))
    assert client.get(edit(target)).status_code == code
    if code != 200:
        assert client.post(edit(target), {"title": "hijack"}).status_code == code
        target.refresh_from_db()
        assert target.title != "hijack"


@pytest.mark.parametrize(
    ("persona", "stream", "code"),
    [
        ("other_member", "a_anonymous", 403),
        ("other_member", "a_private", 404),
        ("other_member", "a_draft", 404),
        ("facilitator_y", "a_private", 404),
        ("facilitator_y", "a_anonymous", 403),
        ("authority", "a_public", 403),
    ],
)
def test_a_status_change_is_refused_with_404_or_403(web, request, persona, stream, code):
    target = request.getfixturevalue(stream)
    before = target.status
    response = web(request.getfixturevalue(persona)).post(status(target), {"status": "closed"})
    assert response.status_code == code
    target.refresh_from_db()
    assert target.status == before


@pytest.mark.parametrize("persona", ["member", "facilitator", "staff"])
def test_those_who_may_edit_can_pause_close_and_reopen(web, request, a_anonymous, persona):
    client = web(request.getfixturevalue(persona))
    for new in ("paused", "active", "closed", "active"):
        response = client.post(status(a_anonymous), {"status": new, "next": MINE})
        assert response.status_code == 302
        assert response["Location"] == MINE
        a_anonymous.refresh_from_db()
        assert a_anonymous.status == new


def test_an_impossible_status_move_is_reported_not_applied(web, member, a_draft):
    response = web(member).post(status(a_draft), {"status": "paused"}, follow=True)
    a_draft.refresh_from_db()
    assert a_draft.status == StreamStatus.DRAFT
    assert "cannot become" in response.content.decode()


def test_the_status_view_accepts_only_post_and_never_redirects_off_site(web, member, a_anonymous):
    client = web(member)
    assert client.get(status(a_anonymous)).status_code == 405
    response = client.post(status(a_anonymous), {"status": "paused", "next": "https://evil.example/"})
    assert response["Location"] == detail(a_anonymous)


def test_my_streams_lists_own_streams_in_every_status_with_their_buttons(web, member, everything):
    response = web(member).get(MINE)
    ids = {s.pk for s, _moves in response.context["rows"]}
    assert ids == {everything[t].pk for t in ("Whey from cheese making", "Secret brine", "Draft offer",
                                               "Public sawdust")}
    html = response.content.decode()
    assert 'value="paused"' in html
    assert 'value="closed"' in html
    assert "Finnish private" not in html


def test_my_streams_is_empty_for_people_without_a_company(web, facilitator, a_anonymous):
    response = web(facilitator).get(MINE)
    assert response.status_code == 200
    assert response.context["rows"] == []


# --- The stream form ------------------------------------------------------------------------------


def form_data(category, **over):
    data = {
        "direction": "offer", "kind": "material", "title": "Oak sawdust", "category": category.pk,
        "quantity": "3", "unit": "t", "period": "week", "visibility": "anonymous",
        "availability": "continuous", "provenance": "estimate", "regulatory_status": "unknown",
    }
    data.update(over)
    return data


@pytest.mark.parametrize(
    ("persona", "code"),
    [("member", 200), ("other_member", 200), ("facilitator", 200), ("staff", 200)],
)
def test_the_create_page_opens_for_everyone_who_may_list_streams(web, request, persona, code, company_a, sawdust):
    assert web(request.getfixturevalue(persona)).get(NEW).status_code == code


@pytest.mark.parametrize("persona", ["authority", "facilitator_y"])
def test_people_without_a_site_to_list_for_are_sent_to_onboarding(web, request, persona):
    response = web(request.getfixturevalue(persona)).get(NEW)
    assert response.status_code == 302
    assert response["Location"] == "/companies/onboard/"


def test_a_first_offer_needs_only_the_essential_fields(web, member, company_a, sawdust):
    data = {"direction": "offer", "kind": "material", "title": "Oak sawdust", "category": sawdust.pk,
            "quantity": "3", "unit": "t", "period": "year", "visibility": "anonymous",
            "availability": "continuous", "provenance": "estimate", "regulatory_status": "unknown"}
    response = web(member).post(NEW, data)
    stream = Stream.objects.get(title="Oak sawdust")
    assert response.status_code == 302
    assert response["Location"] == detail(stream)
    assert stream.company == company_a
    assert stream.site == company_a.sites.first()
    assert stream.quantity_yearly == 3.0
    assert stream.status == StreamStatus.ACTIVE
    assert stream.entered_by == member


def test_a_first_offer_asks_for_at_most_six_required_fields(web, member, sawdust):
    form = web(member).get(NEW).context["form"]
    to_fill = {name for name, field in form.fields.items()
               if field.required and form[name].value() in (None, "", [])}
    # Everything else is optional or comes prefilled (period per year, the site, anonymous visibility).
    assert to_fill == {"direction", "kind", "title", "category", "quantity", "unit"}


def test_the_form_rejects_a_unit_that_does_not_fit_the_kind(web, member, heat):
    response = web(member).post(NEW, form_data(heat, kind="energy", unit="t", title="Heat in tonnes"))
    assert response.status_code == 200
    assert "unit" in response.context["form"].errors
    assert not Stream.objects.filter(title="Heat in tonnes").exists()


def test_the_form_rejects_a_category_of_another_kind(web, member, heat):
    response = web(member).post(NEW, form_data(heat, title="Odd one"))
    assert "category" in response.context["form"].errors
    assert not Stream.objects.filter(title="Odd one").exists()


def test_the_form_takes_ewc_codes_as_text_and_months_as_checkboxes(web, member, sawdust, fly_ash):
    data = form_data(sawdust, ewc_codes="10 01 02", availability="seasonal", months=["6", "7", "8"])
    assert web(member).post(NEW, data).status_code == 302
    stream = Stream.objects.get(title="Oak sawdust")
    assert list(stream.ewc_codes.values_list("code", flat=True)) == ["100102"]
    assert stream.month_list == [6, 7, 8]


def test_an_unknown_ewc_code_is_a_field_error_from_the_service(web, member, sawdust):
    response = web(member).post(NEW, form_data(sawdust, ewc_codes="99 99 99"))
    assert response.status_code == 200
    assert "ewc_codes" in response.context["form"].errors
    assert not Stream.objects.filter(title="Oak sawdust").exists()


def test_a_seasonal_stream_without_months_is_a_field_error(web, member, sawdust):
    response = web(member).post(NEW, form_data(sawdust, availability="seasonal"))
    assert "months" in response.context["form"].errors


def test_a_member_cannot_list_for_a_site_of_another_company(web, member, company_b, sawdust):
    response = web(member).post(NEW, form_data(sawdust, site=company_b.sites.first().pk))
    assert response.status_code == 200
    assert "site" in response.context["form"].errors
    assert not Stream.objects.exists()


def test_a_facilitator_chooses_the_company_by_its_site_and_the_stream_is_marked(
    web, facilitator, company_a, company_b, sawdust
):
    site = company_b.sites.first()
    form = web(facilitator).get(NEW).context["form"]
    assert {c[0].value for c in form.fields["site"].choices} >= {company_a.sites.first().pk, site.pk}
    response = web(facilitator).post(NEW, form_data(sawdust, site=site.pk))
    assert response.status_code == 302
    stream = Stream.objects.get(title="Oak sawdust")
    assert stream.company == company_b
    assert stream.entered_by_facilitator is True


def test_editing_changes_the_stream_and_keeps_history(web, member, a_anonymous, sawdust):
    client = web(member)
    form = client.get(edit(a_anonymous)).context["form"]
    assert form.initial["site"] == a_anonymous.site_id
    response = client.post(edit(a_anonymous), form_data(sawdust, title="Whey, sweet", quantity="7"))
    assert response.status_code == 302
    a_anonymous.refresh_from_db()
    assert a_anonymous.title == "Whey, sweet"
    assert a_anonymous.history.count() >= 2


def test_the_unit_options_follow_the_kind(web, member):
    html = web(member).get("/streams/options/units/", {"kind": "energy", "unit": "t"}).content.decode()
    assert 'value="MWh" selected' in html
    assert 'value="t"' not in html


def test_the_category_search_suggests_categories_of_the_kind(web, member, sawdust, heat):
    client = web(member)
    html = client.get("/streams/options/categories/", {"kind": "material", "category_q": "pagetest"}).content.decode()
    assert sawdust.name in html
    assert heat.name not in html
    html = client.get("/streams/options/categories/", {"kind": "energy", "category_q": "pagetest"}).content.decode()
    assert heat.name in html
    assert sawdust.name not in html
