"""Field-level rules: writable serializers and forms take only their own fields. Protected keys (owner
company, status, score, reviewer, timestamps, derived flags...) merged by Hypothesis into otherwise
valid payloads change nothing.

Decision: unknown keys are ignored, not refused (DRF's and Django's default), so the property is
"changes nothing": every protected column of the row, and of every other company's rows, is the
same after the request as before it (a create gets the values a plain create gets).
"""

from __future__ import annotations

import json

import pytest
from django.forms import ModelForm
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from companies.models import Company, Site
from matching.models import MatchingRun
from streams.forms import StreamForm
from streams.models import Stream
from tests.factories import StreamFactory, leaf_category
from tests.security.routes import form_data

PROTECTED_KEYS = (
    "id", "pk", "company", "company_id", "owner", "status", "score", "reviewer", "requested_by",
    "created_at", "updated_at", "entered_by_facilitator", "entered_by", "is_sme", "nace", "quantity_yearly",
    "base_unit", "confidential_hidden", "hazardous_from_ewc", "history", "is_staff", "user", "engine_version",
)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-1, max_value=10**9), st.text(max_size=12),
    st.sampled_from(["closed", "paused", "draft", "2001-01-01T00:00:00Z", "1.0", "staff"]),
    st.lists(st.integers(min_value=1, max_value=50), max_size=2),
)
# Columns no write endpoint may change, per model.
WATCHED = {
    Stream: ("id", "company_id", "status", "created_at", "entered_by_facilitator"),
    Company: ("id", "created_at", "entered_by_facilitator", "entered_by_id"),
    Site: ("id", "company_id", "created_at"),
}
SETTINGS = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def plausible(key: str, ids) -> st.SearchStrategy:
    """A value the field would accept if it were writable, so that a key that slipped through would
    really move the row (ids are the other company's, its site's and its member's)."""
    if key == "status":
        return st.sampled_from(["closed", "paused", "draft", "active", "approved", "rejected"])
    if key in ("created_at", "updated_at"):
        return st.sampled_from(["2001-01-01T00:00:00Z", "2001-01-01"])
    if key in ("entered_by_facilitator", "is_sme", "confidential_hidden", "hazardous_from_ewc", "is_staff"):
        return st.booleans()
    if key in ("score", "quantity_yearly"):
        return st.floats(min_value=0, max_value=1)
    if key in ("base_unit", "engine_version"):
        return st.sampled_from(["MWh", "hacked"])
    return st.sampled_from(ids) if ids else VALUES


def protected(keys=PROTECTED_KEYS, ids=()):
    """Some protected keys, each with a plausible value or junk."""
    return st.lists(st.sampled_from(keys), min_size=1, max_size=6, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({k: st.one_of(plausible(k, ids), VALUES) for k in chosen})
    )


def every_key(keys, ids) -> dict:
    """The explicit first example: every protected key at once, each with a plausible value."""
    return {k: FIXED.get(k, lambda ids: ids[0])(ids) for k in keys}


FIXED = {
    "status": lambda ids: "closed", "created_at": lambda ids: "2001-01-01T00:00:00Z",
    "updated_at": lambda ids: "2001-01-01T00:00:00Z", "score": lambda ids: 0.99,
    "quantity_yearly": lambda ids: 0.5, "base_unit": lambda ids: "MWh", "engine_version": lambda ids: "hacked",
    **{k: (lambda ids: True) for k in ("entered_by_facilitator", "is_sme", "confidential_hidden",
                                        "hazardous_from_ewc", "is_staff")},
}


def foreign_ids(company_b):
    site = company_b.sites.first()
    return [company_b.pk, site.pk] + list(company_b.memberships.values_list("user_id", flat=True))


def state(*companies):
    ids = [c.pk for c in companies]
    return {model: list(model.objects.filter(**{"pk__in" if model is Company else "company_id__in": ids})
                        .order_by("pk").values(*cols)) for model, cols in WATCHED.items()}


@pytest.fixture
def own_stream(member, company_a):
    return StreamFactory(site=company_a.sites.get())


def _stream_payload():
    return {"direction": "offer", "kind": "material", "title": "Sawdust", "category": leaf_category().code,
            "quantity": "10", "unit": "t", "period": "year"}


UPDATES = {
    "PATCH stream": lambda w: ("patch", f"/api/v1/streams/{w['stream'].pk}/", {"title": "Renamed"}),
    "PUT stream": lambda w: ("put", f"/api/v1/streams/{w['stream'].pk}/", _stream_payload()),
    "PATCH company": lambda w: ("patch", f"/api/v1/companies/{w['company'].pk}/", {"description": "New"}),
    "PUT company": lambda w: ("put", f"/api/v1/companies/{w['company'].pk}/",
                              {"name": "Alpha", "nace_code": "10.51", "country": "SE"}),
    "PATCH site": lambda w: ("patch", f"/api/v1/sites/{w['site'].pk}/", {"name": "North gate"}),
}


@pytest.mark.parametrize("endpoint", UPDATES)
def test_protected_keys_in_an_update_change_nothing(endpoint, api, member, other_member, company_a, company_b,
                                                    own_stream):
    client = api(member)
    world = {"stream": own_stream, "company": company_a, "site": company_a.sites.get()}

    @SETTINGS
    @given(extra=protected(ids=foreign_ids(company_b)))
    @example(extra=every_key(PROTECTED_KEYS, foreign_ids(company_b)))
    def run(extra):
        method, url, payload = UPDATES[endpoint](world)
        before = state(company_a, company_b)
        r = getattr(client, method)(url, {**extra, **payload}, format="json")
        assert r.status_code in (200, 400), (r.status_code, r.content[:300])
        assert state(company_a, company_b) == before

    run()


CREATES = {
    "stream": ("/api/v1/streams/", _stream_payload, Stream),
    "site": ("/api/v1/sites/", lambda: {"name": "Depot", "latitude": 55.6, "longitude": 13.0}, Site),
    "company": ("/api/v1/companies/", lambda: {"name": "Gamma AB", "nace_code": "10.51", "country": "SE"}, Company),
}


@pytest.mark.parametrize("kind", CREATES)
def test_protected_keys_in_a_create_change_nothing(kind, api, member, other_member, company_a, company_b):
    url, payload, model = CREATES[kind]
    client = api(member)
    if kind == "site":
        payload = (lambda make: lambda: {**make(), "company": company_a.pk})(payload)
    plain = client.post(url, payload(), format="json")
    assert plain.status_code == 201, plain.content
    cols = [c for c in WATCHED[model] if c not in ("id", "created_at")]
    expected = model.objects.filter(pk=plain.json()["id"]).values(*cols).get()
    keys = tuple(k for k in PROTECTED_KEYS if not (kind == "site" and k == "company"))

    @SETTINGS
    @given(extra=protected(keys, ids=foreign_ids(company_b)))
    @example(extra=every_key(keys, foreign_ids(company_b)))
    def run(extra):
        before = state(company_b)
        r = client.post(url, {**extra, **payload()}, format="json")
        assert r.status_code in (201, 400), (r.status_code, r.content[:300])
        assert state(company_b) == before
        if r.status_code == 201:
            row = model.objects.filter(pk=r.json()["id"]).values(*cols, "created_at").get()
            assert {c: row[c] for c in cols} == expected
            assert row["created_at"].year > 2001

    run()


def test_a_run_request_cannot_choose_its_requester_or_status(api, facilitator, other_member, company_b):
    client = api(facilitator)

    @SETTINGS
    @given(extra=protected(ids=foreign_ids(company_b)))
    @example(extra=every_key(PROTECTED_KEYS, foreign_ids(company_b)))
    def run(extra):
        r = client.post("/api/v1/matching-runs/", {**extra, "kind": "full"}, format="json")
        assert r.status_code in (202, 400), r.content[:300]
        if r.status_code == 202:
            run_row = MatchingRun.objects.get(pk=r.json()["id"])
            assert run_row.requested_by_id == facilitator.pk
            assert run_row.stream_id is None

    run()


# --- pages ---------------------------------------------------------------------------------------


def test_protected_keys_posted_to_the_stream_page_change_nothing(web, member, other_member, company_a, company_b,
                                                                own_stream):
    client: Client = web(member)
    sites = Site.objects.filter(company=company_a)
    base = form_data(StreamForm(instance=own_stream, sites=sites))
    base["site"] = str(own_stream.site_id)
    assert client.post(f"/streams/{own_stream.pk}/edit/", base).status_code == 302  # the base form is valid

    @SETTINGS
    @given(extra=protected(ids=foreign_ids(company_b)))
    @example(extra=every_key(PROTECTED_KEYS, foreign_ids(company_b)))
    def run(extra):
        before = state(company_a, company_b)
        posted = {**{k: json.dumps(v) if isinstance(v, list) else str(v) for k, v in extra.items()}, **base}
        r = client.post(f"/streams/{own_stream.pk}/edit/", posted)
        assert r.status_code in (200, 302)
        assert state(company_a, company_b) == before

    run()


def test_page_forms_name_their_fields():
    """ModelForms list their fields explicitly: no `__all__`, no `exclude`, no protected field."""
    import companies.forms
    import matching.forms
    import streams.forms

    forms = [obj for mod in (companies.forms, streams.forms, matching.forms) for obj in vars(mod).values()
             if isinstance(obj, type) and issubclass(obj, ModelForm) and obj is not ModelForm]
    assert forms
    for form in forms:
        fields = getattr(form._meta, "fields", None)
        assert fields not in (None, "__all__"), form
        assert not getattr(form._meta, "exclude", None), form
        assert not set(fields) & {"company", "status", "score", "created_at", "updated_at",
                                  "entered_by_facilitator", "reviewer", "requested_by"}, form
