"""Isolation matrix: every URL pattern x every persona x every verb, against another tenant's objects.

The routes come from the URL resolver, not from a hand-written list, and each must be classified in
`tests/security/routes.py`; see that module for the kinds and the rules each kind is held to.
Decision for anonymous visitors: a foreign object must answer exactly like an id that does not exist
(same status, same redirect target with the id swapped), so pages may send them to the login page and
the API may answer 401 without leaking whether the object exists. Signed-in personas get a 404.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass
from urllib.parse import quote, urlencode

import pytest
from django.conf import settings
from django.db import transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from companies.models import Company, Site
from companies.roles import roles_for
from matching.models import Match, MatchingRun
from streams.models import Stream
from tests.security.routes import ROUTES, Route
from tests.security.world import build_world

PERSONAS = ("anon", "admin_a", "member_a", "member_b", "facilitator_x", "facilitator_y", "authority", "staff")
MISSING = {"pk": "987654321", "code": "ZZ99", "token": "no-such-upload-token"}
KEY_OF = {"region": "code", "upload": "token"}  # slots addressed by another field than pk
GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>")
WRITE_BODY = {"title": "PWNED", "name": "PWNED", "description": "PWNED", "status": "closed", "kind": "full"}


@dataclass(frozen=True)
class Pattern:
    key: str           # the name in ROUTES (namespace:name), or the namespace of an unnamed pattern
    route: str         # the full pattern, prefixes joined
    kwargs: tuple[str, ...]
    methods: tuple[str, ...]

    @property
    def api(self) -> bool:
        return self.route.startswith("api/")

    def url(self, values: dict) -> str:
        def sub(m):
            return str(values[m.group(1) or m.group(2)])

        path = GROUP.sub(sub, self.route)
        return "/" + path.replace("^", "").replace("$", "").replace("/?", "/").replace("\\.", ".")


def _methods(callback) -> tuple[str, ...]:
    """The verbs a view answers: a DRF viewset's mapped actions, else the View's handlers."""
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:
        return ("get",)
    actions = getattr(callback, "actions", None)
    allowed = set(cls.http_method_names)
    found = set(actions) if actions else {m for m in allowed if hasattr(cls, m)}
    if "get" in found:
        found.add("head")
    found.add("options")
    return tuple(sorted(found & allowed))


def walk(resolver=None, prefix="", ns=None):
    for p in (resolver or get_resolver()).url_patterns:
        if isinstance(p, URLResolver):
            inner = f"{ns}:{p.namespace}" if ns and p.namespace else (p.namespace or ns)
            yield from walk(p, prefix + str(p.pattern), inner)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            key = (f"{ns}:{p.name}" if ns else p.name) if p.name else ns
            if (ns == "admin" or (ns or "").startswith("admin:")) and key not in ROUTES:
                key = "admin"  # one entry for the whole admin; a named admin route may override it
            kwargs = tuple(a or b for a, b in GROUP.findall(route))
            yield Pattern(key or f"<unnamed {route}>", route, kwargs, _methods(p.callback))


PATTERNS = list(walk())


@pytest.mark.django_db  # only so that the suite's session fixtures find a test database when run alone
def test_every_route_is_classified():
    unclassified = sorted({p.key for p in PATTERNS if p.key not in ROUTES})
    assert not unclassified, f"Classify these routes in tests/security/routes.py: {unclassified}"
    stale = sorted(set(ROUTES) - {p.key for p in PATTERNS})
    assert not stale, f"Routes classified but gone from the URLconf: {stale}"


# --- the world, built once per module ------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once inside a transaction that is rolled back at the end; each test runs in a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture
def clients(world, db):
    made = {}
    for name in PERSONAS:
        c = Client()
        if world.personas[name] is not None:
            c.force_login(world.personas[name])
        made[name] = c
    return made


def body_text(response) -> str:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:2] == b"PK":  # xlsx: the strings live in the zipped XML parts
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml"))
    return content.decode("utf-8", "replace")


def request(client, pattern: Pattern, method: str, url: str, data=None):
    if method in ("get", "head", "options", "delete"):
        return getattr(client, method)(url)
    if pattern.api:
        return getattr(client, method)(url, data=json.dumps(data or {}), content_type="application/json")
    if method == "post":
        return client.post(url, data or {})
    return getattr(client, method)(url, data=json.dumps(data or {}), content_type="application/json")


def leaks(world, persona: str, text: str) -> list[str]:
    return [t.marker for t in world.foreign_tenants(persona) if t.marker in text]


def _variants(route: Route, pattern: Pattern) -> list[dict]:
    """Fixed kwargs: format=json for DRF suffix patterns; every alternative of `extra` (fmt=csv|xlsx...)."""
    base = {"format": "json"} if "format" in pattern.kwargs else {}
    out = [base]
    for name, choices in route.extra.items():
        out = [{**v, name: c} for v in out for c in choices]
    return out


def _where(persona, method, url):
    return f"{persona} {method.upper()} {url}"


# --- the matrix ------------------------------------------------------------------------------------


def _fillings(world, persona: str, route: Route, obj) -> list[dict]:
    """The parent kwarg of a nested route: the object's own company, then each of the persona's."""
    if not route.parent:
        return [{}]
    own = sorted(roles_for(world.personas[persona]).company_ids)
    return [{route.parent: pk} for pk in dict.fromkeys([obj.company_id, *own])]


def _object_kwarg(pattern: Pattern, route: Route) -> str:
    (kwarg,) = [k for k in pattern.kwargs if k not in ("format", route.parent, *route.extra)]
    return kwarg


def _swap(location: str, missing_url: str, url: str) -> str:
    """The missing id's redirect with its URL (plain or quoted, as in `?next=`) swapped for the real one."""
    return location.replace(missing_url, url).replace(quote(missing_url, safe=""), quote(url, safe=""))


def sent_to_log_in(pattern: Pattern, r) -> bool:
    """Anonymous visitors: a page sends them to log in, the API answers 401 (TokenAuthentication first)."""
    if pattern.api:
        return r.status_code == 401
    return r.status_code == 302 and r["Location"].startswith(resolve_url(settings.LOGIN_URL))


def check_object(world, clients, pattern: Pattern, route: Route) -> list[str]:
    problems = []
    kwarg = _object_kwarg(pattern, route)
    key = KEY_OF.get(route.slot, "pk")
    for variant in _variants(route, pattern):
        for persona in PERSONAS:
            client = clients[persona]
            for obj in world.foreign_objects(persona, route.slot):
                value = getattr(obj, key)
                for parent in _fillings(world, persona, route, obj):
                    url = pattern.url({**variant, **parent, kwarg: value})
                    missing_url = pattern.url({**variant, **parent, kwarg: MISSING[key]})
                    for method in pattern.methods:
                        before = [t.snapshot() for t in world.tenants.values()]
                        r = request(client, pattern, method, url, WRITE_BODY)
                        after = [t.snapshot() for t in world.tenants.values()]
                        ref = request(client, pattern, method, missing_url, WRITE_BODY)
                        where = _where(persona, method, url)
                        if before != after:
                            problems.append(f"{where}: changed a foreign tenant's rows")
                        if r.status_code != ref.status_code:
                            problems.append(f"{where}: {r.status_code}, but {ref.status_code} for a missing id")
                        elif r.get("Location", "") != _swap(ref.get("Location", ""), missing_url, url):
                            problems.append(f"{where}: redirects elsewhere than for a missing id")
                        # Under a company of the persona's own, its admin must get the 404; a plain member is
                        # refused (403) by the company's rules before the object is looked up.
                        expected = (404,)
                        if route.parent and parent[route.parent] != obj.company_id:
                            admin = parent[route.parent] in roles_for(world.personas[persona]).admin_company_ids
                            expected = (404,) if admin else (403,)
                        if persona != "anon" and method != "options" and r.status_code not in expected:
                            problems.append(f"{where}: {r.status_code}, expected {' or '.join(map(str, expected))}")
                        if persona == "anon" and not sent_to_log_in(pattern, r):
                            problems.append(f"{where}: {r.status_code} for an anonymous visitor, expected "
                                            f"{'401' if pattern.api else 'the login page'}")
                        if found := leaks(world, persona, body_text(r)):
                            problems.append(f"{where}: body shows {found}")
    return problems


READS = ("get", "head", "options")
SUCCESS = (200, 201, 202, 204, 302)


def names_a_field(response) -> bool:
    """A 400 says which input is wrong: a JSON object with a key besides `detail`, or a form's error list."""
    text = body_text(response)
    if response.get("Content-Type", "").startswith("application/json"):
        data = json.loads(text or "null")
        return isinstance(data, dict) and any(k != "detail" and v for k, v in data.items())
    return 'class="errorlist' in text


def judge_write(where: str, r, write, done: bool) -> list[str]:
    """A write by someone who may make it, judged on its content: a success shows in the database, a
    400 names the field it refuses, a 409 (not allowed from the object's state) changes nothing."""
    if write is None:
        return [f"{where}: {r.status_code}; say in routes.py what this write does (writes=)"]
    if r.status_code in SUCCESS:
        return [] if done else [f"{where}: {r.status_code}, but the database does not show it ({write.what})"]
    if r.status_code == 400:
        return [f"{where}: 400 {msg}" for ok, msg in ((names_a_field(r), "names no field"),
                                                       (not done, "and wrote anyway")) if not ok]
    if r.status_code == 409:
        return [] if not done else [f"{where}: 409, but it wrote anyway"]
    return [f"{where}: {r.status_code}, expected a success, 400 or 409"]


def judge_junk(where: str, client, pattern: Pattern, method: str, url: str) -> list[str]:
    """Junk (WRITE_BODY) from someone who may write is refused for its content, never for who they
    are (no 401/403/404) and never with a 5xx, and a 400 names the field it refuses."""
    with transaction.atomic():
        r = request(client, pattern, method, url, WRITE_BODY)
        transaction.set_rollback(True)
    if r.status_code not in (*SUCCESS, 400, 409):
        return [f"{where} with junk: {r.status_code}, expected a success, 400 or 409"]
    return [f"{where} with junk: 400 names no field"] if r.status_code == 400 and not names_a_field(r) else []


def _opens(route: Route, obj) -> dict[str, int]:
    opens = route.opens(obj) if callable(route.opens) else route.opens
    return {"staff": 200, **opens}


def _allowed_cases(world, clients, route: Route) -> list[tuple]:
    """(who, client, object, expected status): staff and the tenant's insiders the route names, for every
    object of the slot (an upload is foreign to staff and checked above); a persona with a role in a
    region gets that region's routes."""
    logged_in = {}

    def client_for(user):
        if user.pk not in logged_in:
            logged_in[user.pk] = Client()
            logged_in[user.pk].force_login(user)
        return logged_in[user.pk]

    cases = []
    for tenant in world.tenants.values():
        for o in tenant.objects()[route.slot]:
            want = _opens(route, o)
            if o not in world.foreign_objects("staff", route.slot):
                cases.append(("staff", clients["staff"], o, want["staff"]))
            cases += [(f"{role} of {tenant.key}", client_for(user), o, want[role])
                      for role, user in tenant.insiders.items() if role in want]
    if route.slot == "region":
        cases += [(p, clients[p], r, 200) for p in PERSONAS if p != "staff" for r in world.own_regions(p)]
    return cases


def check_allowed(world, clients, pattern: Pattern, route: Route) -> list[str]:
    """The other side of the matrix: who MAY open a tenant's object gets it, and who sees it but may
    not use this route is refused (403). A write is sent inside a savepoint that is rolled back, with
    the body routes.py gives for it, and is judged on what it did to the database. This also proves
    that the URLs the matrix builds name real objects: a 404 for everybody would otherwise pass."""
    problems, succeeded, attempted = [], set(), set()
    kwarg = _object_kwarg(pattern, route)
    key = KEY_OF.get(route.slot, "pk")
    for variant in _variants(route, pattern):
        for who, client, obj, want in _allowed_cases(world, clients, route):
            parent = {route.parent: obj.company_id} if route.parent else {}
            url = pattern.url({**variant, **parent, kwarg: getattr(obj, key)})
            for method in pattern.methods:
                write = route.writes.get(method)
                with transaction.atomic():
                    r = request(client, pattern, method, url, write.body(obj) if write else WRITE_BODY)
                    done = bool(write and write.done(obj))
                    transaction.set_rollback(True)
                where = _where(who, method, url)
                if method == "options" and want == 403:
                    continue  # a page's OPTIONS lists the verbs without asking who may use them
                if want == 403 or method in READS:
                    if r.status_code != want:
                        problems.append(f"{where}: {r.status_code}, expected {want}")
                    if done:
                        problems.append(f"{where}: refused, but the write shows in the database")
                else:
                    attempted.add(method)
                    problems += judge_write(where, r, write, done)
                    succeeded |= {method} if r.status_code in SUCCESS and done else set()
                    problems += judge_junk(where, client, pattern, method, url)
                if route.aggregate and (found := [t.marker for t in world.tenants.values()
                                                  if t.marker in body_text(r)]):
                    problems.append(f"{where}: aggregates only, but the body shows {found}")
    if never := sorted(attempted - succeeded):
        problems.append(f"{pattern.route}: no {never} succeeded for anyone who may make it; is its body valid?")
    return problems


def foreign_filters(world, persona: str) -> str:
    """A query string naming another tenant's objects in the filters lists commonly take: a filter must
    narrow what the persona may see, never widen it."""
    tenants = world.foreign_tenants(persona)
    if not tenants:
        return ""
    t = tenants[0]
    return urlencode({
        "company": t.company.pk, "site": t.site.pk, "stream": t.private_stream.pk, "offer": t.private_stream.pk,
        "region": t.region.code, "status": "draft", "visibility": "private", "q": "private offer",
    })


def check_listing(world, clients, pattern: Pattern, route: Route, values: dict | None = None) -> list[str]:
    problems = []
    for variant in _variants(route, pattern):
        base = pattern.url({**variant, **(values or {})})
        for persona, query in ((p, q) for p in PERSONAS for q in ("", foreign_filters(world, p))):
            url = f"{base}?{query}" if query else base
            r = clients[persona].get(url)
            where = _where(persona, "get", url)
            if r.status_code >= 500:
                problems.append(f"{where}: {r.status_code}")
            text = body_text(r)
            if found := leaks(world, persona, text):
                problems.append(f"{where}: body shows {found}")
            if route.slot and r.get("Content-Type", "").startswith("application/json") and r.status_code == 200:
                foreign = {o.pk for o in world.foreign_objects(persona, route.slot)}
                ids = {row.get("id") for row in json.loads(text).get("results", [])}
                if ids & foreign:
                    problems.append(f"{where}: lists foreign ids {sorted(ids & foreign)}")
                # Staff see everything: the unfiltered list holds every tenant's rows of the slot.
                every = {o.pk for t in world.tenants.values() for o in t.objects()[route.slot]}
                if persona == "staff" and not query and not every <= ids:
                    problems.append(f"{where}: staff's list lacks {sorted(every - ids)}")
            elif persona == "staff" and route.slot and r.status_code != 200:
                problems.append(f"{where}: {r.status_code}, expected staff to get the list")
    return problems


def _counts():
    return [m.objects.count() for m in (Company, Site, Stream, Match, MatchingRun)]


def check_creates(world, clients, pattern: Pattern, route: Route) -> list[str]:
    problems = check_listing(world, clients, pattern, route)
    url = pattern.url({"format": "json"} if "format" in pattern.kwargs else {})
    for persona in PERSONAS:
        for tenant in world.foreign_tenants(persona):
            for make in route.bodies:
                before, snap = _counts(), [t.snapshot() for t in world.tenants.values()]
                r = request(clients[persona], pattern, "post", url, make(tenant))
                where = _where(persona, "post", url) + f" {make(tenant)}"
                if _counts() != before or snap != [t.snapshot() for t in world.tenants.values()]:
                    problems.append(f"{where}: {r.status_code} and wrote rows pointing at a foreign object")
                if r.status_code >= 500:
                    problems.append(f"{where}: {r.status_code}")
                # The API says no in so many words; pages may re-render the form or redirect with a message.
                elif pattern.api and r.status_code not in (400, 401, 403, 404):
                    problems.append(f"{where}: {r.status_code}, expected a refusal (400, 401, 403 or 404)")
                if found := leaks(world, persona, body_text(r)):
                    problems.append(f"{where}: body shows {found}")
    return problems


def check_staff_admin(world, clients, pattern: Pattern, route: Route) -> list[str]:
    values = {"object_id": world.tenants["B"].company.pk, "app_label": "companies", "content_type_id": 1, "id": world.personas["admin_a"].pk,
              "url": "nowhere/"}
    url = pattern.url(values)
    problems = []
    for persona in PERSONAS:
        r = clients[persona].get(url)
        sent_to_login = r.status_code == 302 and r["Location"].startswith("/admin/login/")
        if persona == "staff":  # a superuser: refused only where the route says so, never sent to log in
            refused = r.status_code == 403
            if sent_to_login or r.status_code >= 500 or refused != (route.staff.get("get") == 403):
                problems.append(f"{_where(persona, 'get', url)}: {r.status_code} {r.get('Location', '')}")
            continue
        if not sent_to_login and r.status_code != 404:
            problems.append(f"{_where(persona, 'get', url)}: {r.status_code} {r.get('Location', '')}")
        if found := leaks(world, persona, body_text(r)):
            problems.append(f"{_where(persona, 'get', url)}: body shows {found}")
    return problems


def _sample(world, route: Route) -> dict:
    return {k: (v(world) if callable(v) else v) for k, v in route.sample.items()}


@pytest.mark.parametrize("pattern", [p for p in PATTERNS if p.key in ROUTES], ids=lambda p: p.route)
def test_no_route_lets_a_persona_reach_another_tenant(pattern, world, clients):
    route = ROUTES[pattern.key]
    if route.kind == "object":
        problems = check_object(world, clients, pattern, route) + check_allowed(world, clients, pattern, route)
    elif route.kind == "creates":
        problems = check_creates(world, clients, pattern, route)
    elif route.kind == "staff_admin":
        problems = check_staff_admin(world, clients, pattern, route)
    else:  # public and listing: scanned as every persona
        values = {"format": "json", **_sample(world, route)}
        problems = check_listing(world, clients, pattern, route, values)
    assert not problems, "\n".join(problems)
