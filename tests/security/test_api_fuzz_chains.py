"""Chained (stateful) fuzzing: schemathesis state machines follow the OpenAPI links that
`core.api.add_links` declares, so generated calls build on each other's answers: create a stream,
change its status, read its matches, PATCH it; create a company, add a site, list a stream there;
exclude a competitor, read and delete the exclusion; move a match, then write a note or a message.

Each chain runs as the admin of company A and as the SE22 facilitator, with the checks of
test_api_fuzz.py plus schemathesis' two stateful checks (a created object can be read; a deleted one
cannot) and a tenant check of our own: whatever a chain created or changed, a member of a company that
has no part in it cannot read it (404), unless it is an active listing, which it then sees without its
confidential fields.

Reproducible and bounded: Hypothesis is derandomized, every chain has at most FUZZ_CHAIN_STEPS steps
and each persona runs FUZZ_CHAIN_SCENARIOS chains, each inside a savepoint that is rolled back when the
chain ends (the whole module also runs in the rolled-back transaction of `fuzz_world`). A failing step
is recorded with the chain that led to it and the chain goes on; each persona's test then fails with
its distinct failures. The last test prints the steps per persona and asserts floors of chained steps
and of distinct links followed, so the chaining cannot silently stop.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from companies.models import CompetitorExclusion, Membership, NaceCode, Region, Site
from streams.choices import StreamStatus, Visibility
from streams.models import ResourceCategory, Stream
from streams.units import UNITS
from tests.security.fuzzing import APP, CHECKS

SCENARIOS = int(os.environ.get("FUZZ_CHAIN_SCENARIOS", "50"))
STEPS = int(os.environ.get("FUZZ_CHAIN_STEPS", "25"))
# Floors per persona (a run at the defaults has about 390-470 chained steps over 57-62 distinct links):
# steps whose input came from an earlier answer through a link, and links followed to a 2xx answer.
MIN_CHAINED = int(os.environ.get("FUZZ_CHAIN_MIN_STEPS", "250"))
MIN_LINKS = int(os.environ.get("FUZZ_CHAIN_MIN_LINKS", "30"))
PERSONAS = ("member_a", "facilitator")

STEP_COUNT: Counter = Counter()  # persona -> every request of a chain
CHAINED: Counter = Counter()  # persona -> requests whose input a link filled in
CHAINED_OK: Counter = Counter()  # persona -> of those, answered 2xx
LINKS_OK: dict[str, Counter] = {p: Counter() for p in PERSONAS}  # persona -> "source -> target" answered 2xx
TENANT_CHECKS: Counter = Counter()  # persona -> outsider reads made
STATUSES: Counter = Counter()  # (persona, operation, status code)
# persona -> distinct failure -> its first report. A failing step is recorded and its chain goes on, so
# that Hypothesis draws the same steps whatever the server answers (a failure that stopped the chain
# would make the next chain with the same start draw differently, which Hypothesis rejects as flaky).
FAILURES: dict[str, dict[str, str]] = {p: {} for p in PERSONAS}

# Only the links the schema declares: no links inferred by schemathesis, so the chains are the API's own.
CONFIG = SchemathesisConfig.from_dict({"phases": {"stateful": {"inference": {"algorithms": []}}}})
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", APP, config=CONFIG)
CHAIN_CHECKS = [*CHECKS, schemathesis.checks.use_after_free, schemathesis.checks.ensure_resource_availability]

# Random data almost never names objects that exist or real reference codes, so nearly every create
# would be refused and no chain would start from one. A generated body is therefore kept as it is, or
# takes a random subset of REAL_FIELDS from KNOWN (the world's ids, real codes; a dict sets several
# fields: a stream's kind with a category and unit of that kind), or is replaced by one of the valid
# MINIMAL bodies. Links still override what they carry.
STREAM_FIELDS = {"company": "companies", "site": "sites", "category": "kinds"}
COMPANY_FIELDS = {"nace_code": "nace", "country": "countries", "website": "websites"}
REAL_FIELDS = {
    ("POST", "/api/v1/streams/"): STREAM_FIELDS,
    ("PUT", "/api/v1/streams/{id}/"): STREAM_FIELDS,
    ("PATCH", "/api/v1/streams/{id}/"): STREAM_FIELDS,
    ("POST", "/api/v1/sites/"): {"company": "companies", "region": "regions"},
    ("POST", "/api/v1/companies/"): COMPANY_FIELDS,
    ("PUT", "/api/v1/companies/{id}/"): COMPANY_FIELDS,
    ("POST", "/api/v1/matching-runs/"): {"stream": "streams"},
}
MINIMAL = {
    ("POST", "/api/v1/streams/"): "stream_bodies",
    ("POST", "/api/v1/sites/"): "site_bodies",
    ("POST", "/api/v1/companies/"): "company_bodies",
    ("POST", "/api/v1/companies/{company_pk}/exclusions/"): "exclusion_bodies",
    ("POST", "/api/v1/matching-runs/"): "run_bodies",
}
KNOWN: dict[str, list] = {}


def _merged(body: dict, values: dict) -> dict:
    for name, value in values.items():
        body = {**body, **(value if isinstance(value, dict) else {name: value})}
    return body


@SCHEMA.hook
def flatmap_body(context, body):
    key = (context.operation.method.upper(), context.operation.path)
    if not isinstance(body, dict) or (key not in REAL_FIELDS and key not in MINIMAL):
        return st.just(body)
    options = [st.just(body)]
    if key in REAL_FIELDS:
        values = {name: st.sampled_from(KNOWN[k]) for name, k in REAL_FIELDS[key].items()}
        options.append(st.fixed_dictionaries({}, optional=values).map(lambda real: _merged(body, real)))
    if key in MINIMAL:
        options.append(st.sampled_from(KNOWN[MINIMAL[key]]))
    return st.one_of(options)


@SCHEMA.hook
def flatmap_query(context, query):
    """Half of the reads go without filters, so that a list has a first row for the next step."""
    if context.operation.method.upper() != "GET":
        return st.just(query)
    return st.sampled_from([query, {}])


def know_the_world(ids: dict) -> None:
    kinds = [
        {"kind": str(kind), "category": category.code, "unit": next(iter(UNITS[kind]))}
        for kind in UNITS
        for category in ResourceCategory.objects.filter(is_leaf=True, kind=kind).order_by("code")[:3]
    ]
    nace = list(NaceCode.objects.filter(level=4).order_by("code").values_list("code", flat=True)[:200:20])
    KNOWN.update(
        companies=ids["companies"], sites=ids["sites"], streams=ids["streams"],
        kinds=kinds, countries=["SE", "FI"], websites=["", "https://example.com/"], nace=nace,
        regions=["SE22", *Region.objects.order_by("code").values_list("code", flat=True)[:3]],
        stream_bodies=[{"direction": direction, "title": "Sawdust", "site": site, **kind}
                       for direction in ("offer", "need") for site in ids["sites"] for kind in kinds[::3]],
        site_bodies=[{"company": company, "name": "Plant", "latitude": 55.7, "longitude": 13.2}
                     for company in ids["companies"]],
        company_bodies=[{"name": "Gamma AB", "nace_code": code, "country": "SE"} for code in nace],
        exclusion_bodies=[*({"excluded_company": c} for c in ids["companies"]), *({"nace_code": n} for n in nace)],
        run_bodies=[{"kind": "full"}, *({"kind": "stream", "stream": s} for s in ids["streams"])],
    )


# Answers that create or change an object -> the detail operation an outsider tries to read it with.
DETAIL = {
    "/api/v1/streams/": "GET /api/v1/streams/{id}/",
    "/api/v1/streams/{id}/": "GET /api/v1/streams/{id}/",
    "/api/v1/streams/{id}/status/": "GET /api/v1/streams/{id}/",
    "/api/v1/sites/": "GET /api/v1/sites/{id}/",
    "/api/v1/sites/{id}/": "GET /api/v1/sites/{id}/",
    "/api/v1/companies/": "GET /api/v1/companies/{id}/",
    "/api/v1/companies/{id}/": "GET /api/v1/companies/{id}/",
    "/api/v1/companies/{company_pk}/exclusions/": "GET /api/v1/companies/{company_pk}/exclusions/{id}/",
    "/api/v1/matching-runs/": "GET /api/v1/matching-runs/{id}/",
    "/api/v1/matches/{id}/notes/": "GET /api/v1/matches/{id}/notes/",
}


def _is_listed(stream: Stream, viewer_company_ids) -> bool:
    """An active public or anonymous listing of a company that does not hide from the viewer."""
    hidden = CompetitorExclusion.objects.hiding_from(viewer_company_ids).filter(pk=stream.company_id).exists()
    return (stream.status == StreamStatus.ACTIVE and stream.visibility in (Visibility.PUBLIC, Visibility.ANONYMOUS)
            and not hidden)


class TenantLeak(AssertionError):
    pass


def machine_for(persona: str, tokens: dict, users: dict):
    headers = {"Authorization": f"Token {tokens[persona]}"}

    class Chains(SCHEMA.as_state_machine()):
        def setup(self):
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def step(self, input):
            STEP_COUNT[persona] += 1
            chained = input.transition is not None and input.is_applied
            CHAINED[persona] += chained
            output = super().step(input)
            STATUSES[persona, input.case.operation.label, output.response.status_code] += 1
            if chained and 200 <= output.response.status_code < 300:
                CHAINED_OK[persona] += 1
                parent = self.recorder.cases[input.transition.parent_id].value
                LINKS_OK[persona][f"{parent.operation.label} -> {input.case.operation.label}"] += 1
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                case.validate_response(response, checks=CHAIN_CHECKS, headers=headers, recorder=self.recorder)
                if 200 <= response.status_code < 300 and case.method in ("POST", "PUT", "PATCH"):
                    self.outsider_cannot_read(case, response)
            except (FailureGroup, AssertionError) as exc:
                kinds = sorted({getattr(e, "title", type(e).__name__) for e in getattr(exc, "exceptions", [exc])})
                steps = []  # the chain so far, with each step's answer
                for case_id, node in self.recorder.cases.items():
                    answer = self.recorder.find_response(case_id=case_id)
                    steps.append(f"{node.value.method} {node.value.formatted_path} "
                                 f"{answer.status_code if answer else '(this step)'}")
                FAILURES[persona].setdefault(f"{case.operation.label}: {', '.join(kinds)}",
                                             "chain: " + " -> ".join(steps) + f"\n{exc}")

        def outsider_cannot_read(self, case, response):
            """A member of a company with no part in the object reads it: 404 (or only a listing)."""
            label = DETAIL.get(case.operation.path)
            if label is None:
                return
            params = dict(case.path_parameters or {})
            if "id" not in params:  # a create: the new object's id (a note is read in its match's thread)
                params["id"] = response.json()["id"]
            owner = _owner_company(label, params)
            outsider = "member_b" if Membership.objects.filter(user=users["member_a"], company_id=owner).exists() \
                else "member_a"
            read = SCHEMA.find_operation_by_label(label).Case(path_parameters=params)
            answer = read.call(headers={"Authorization": f"Token {tokens[outsider]}"})
            read.validate_response(answer, checks=CHECKS)
            TENANT_CHECKS[persona] += 1
            status, where = answer.status_code, f"{outsider} GET {read.formatted_path} after {persona} " \
                f"{case.method} {case.formatted_path}"
            outsider_companies = Membership.objects.filter(user=users[outsider]).values_list("company_id", flat=True)
            if label == "GET /api/v1/streams/{id}/" and _is_listed(Stream.objects.get(pk=params["id"]),
                                                                   outsider_companies):
                if status == 200 and not answer.json()["confidential_hidden"]:
                    raise TenantLeak(f"{where}: confidential fields of another company's listing shown")
                return
            if label == "GET /api/v1/companies/{id}/" and any(
                _is_listed(s, outsider_companies) and s.visibility == Visibility.PUBLIC
                for s in Stream.objects.filter(company_id=owner)
            ):
                return
            allowed = (403, 404) if label.endswith(("/exclusions/{id}/", "/notes/")) else (404,)
            if status not in allowed:
                raise TenantLeak(f"{where}: {status}, expected {' or '.join(map(str, allowed))}")

    Chains.__name__ = f"Chains_{persona}"
    return Chains


def _owner_company(label: str, params: dict) -> int | None:
    if "company_pk" in params:
        return params["company_pk"]
    if label.startswith("GET /api/v1/companies/"):
        return params["id"]
    if label.startswith("GET /api/v1/streams/"):
        return Stream.objects.filter(pk=params["id"]).values_list("company_id", flat=True).first()
    if label.startswith("GET /api/v1/sites/"):
        return Site.objects.filter(pk=params["id"]).values_list("company_id", flat=True).first()
    return None


@pytest.mark.parametrize("persona", PERSONAS)
def test_chained_calls_keep_the_schema_and_the_tenants_apart(persona, fuzz_world, db):
    tokens, ids = fuzz_world
    users = {name: Token.objects.get(key=key).user for name, key in tokens.items() if key}
    know_the_world(ids)
    machine = machine_for(persona, tokens, users)
    machine.run(settings=settings(
        max_examples=SCENARIOS, stateful_step_count=STEPS, derandomize=True, database=None, deadline=None,
        suppress_health_check=list(HealthCheck), phases=[Phase.generate],
    ))
    failures = list(FAILURES[persona].values())
    assert not failures, f"{len(failures)} distinct failures as {persona}; the first ones:\n\n" + "\n\n".join(
        failures[:5])


def test_the_chains_went_deep_enough(capsys):
    if not STEP_COUNT:
        pytest.skip("the chained fuzz tests did not run in this session")
    with capsys.disabled():
        for p in PERSONAS:
            print(f"\nchained fuzzing as {p}: {STEP_COUNT[p]} requests, {CHAINED[p]} chained steps "
                  f"({CHAINED_OK[p]} answered 2xx), {TENANT_CHECKS[p]} outsider reads; "
                  f"{len(LINKS_OK[p])} links followed to a 2xx answer:")
            for link, n in sorted(LINKS_OK[p].items()):
                print(f"  {n:4} {link}")
            if os.environ.get("FUZZ_CHAIN_VERBOSE"):
                for (q, label, code), n in sorted(STATUSES.items()):
                    if q == p:
                        print(f"      {label}: {code} x{n}")
    short = {p: CHAINED[p] for p in PERSONAS if CHAINED[p] < MIN_CHAINED}
    assert not short, f"personas with fewer than {MIN_CHAINED} chained steps: {short}"
    narrow = {p: len(LINKS_OK[p]) for p in PERSONAS if len(LINKS_OK[p]) < MIN_LINKS}
    assert not narrow, f"personas that followed fewer than {MIN_LINKS} distinct links to a 2xx answer: {narrow}"
