"""Every URL pattern of the project, classified once for the isolation matrix.

`tests/security/test_isolation_matrix.py` walks `get_resolver()`; a route whose name (or, for
unnamed patterns, namespace) is missing here fails the matrix with its name listed. To classify a
new route add ONE line to `ROUTES`, e.g.::

    "facilitation:note_detail": obj("match"),          # /facilitation/notes/<pk>/ of a match
    "audit-log-list": listing(),                       # API list: no foreign marker in the body

Kinds:

- ``public()``      no tenant data (home, login, open data, reference codes); still scanned for leaks.
- ``listing()``     a list or page that shows many rows: for every persona, no foreign tenant's
                    marker appears in the body, and (JSON) no foreign id in the results.
- ``obj(slot)``     a route whose URL kwarg names one object: it is filled with every foreign object
                    of `slot` (company, site, stream, match, run, region, upload, exclusion) and EVERY
                    verb the view accepts must answer exactly like an id that does not exist (404 for
                    signed-in personas; the login redirect or 401 for anonymous ones), leaving the
                    tenant's rows unchanged. `parent="pk"` names the kwarg of the company that owns
                    the object: it is filled with the object's own company AND with each company of
                    the persona, so `/companies/<mine>/exclusions/<theirs>/` is tried too.
                    Who MAY open a tenant's object gets it: `opens` maps a role (staff, or an insider
                    of the tenant: admin, member, partner, facilitator; see world.Tenant.insiders) to
                    200 or 403, as a dict or as a function of the object. Staff get 200 unless `opens`
                    says otherwise; other roles are checked where named. 200: reads answer 200 and
                    each write verb sends its `writes` body, and a success must show in the database
                    (`sets`, `adds`, `deletes`), a 400 must name a field, a 409 must change nothing.
                    403: every verb but OPTIONS is refused and writes nothing. Personas with a role in
                    a region get 200 on its routes. `aggregate=True`: no single company's marker in
                    the body for anyone, staff and the region's own roles included.
- ``creates(...)``  a collection that creates rows: a listing, plus POSTs whose body points at a
                    foreign object must create nothing.
- ``staff_admin()`` Django admin: every non-staff persona is sent to the admin login; staff are never
                    sent there, never get a 5xx, and get a 403 only where `staff=403` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils import timezone

from companies.forms import CompanyForm
from companies.models import Company, CompetitorExclusion, Site
from facilitation.models import MatchMessage, MatchNote, RealisedExchange
from streams.forms import StreamForm


@dataclass(frozen=True)
class Route:
    kind: str
    slot: str | None = None
    # Fixed kwargs (format=json, fmt=csv...): each value is a tuple of alternatives, all requested.
    extra: dict = field(default_factory=dict)
    # For creates(): bodies as callables of a foreign tenant, e.g. lambda t: {"company": t.company.pk}.
    bodies: tuple = ()
    # For obj(): the kwarg naming the company that owns the object (nested routes).
    parent: str | None = None
    # For obj(): who of the object's tenant gets it (200) or is refused (403), by role; staff get 200
    # unless it says otherwise. A dict, or a function of the object.
    opens: dict | Callable = field(default_factory=dict)
    # For obj(): by verb, the write that someone who may make it sends, and how its effect shows.
    writes: dict = field(default_factory=dict)
    # For staff_admin(): the status a superuser gets where the admin refuses even them.
    staff: dict = field(default_factory=dict)
    # For obj(): aggregates only, so no tenant's marker for anyone who may open it.
    aggregate: bool = False
    # Sample kwargs for public object routes (reference data).
    sample: dict = field(default_factory=dict)
    api: bool = False


def public(**sample) -> Route:
    return Route("public", sample=sample)


def listing(ids: str | None = None, **extra) -> Route:
    """`ids`: the slot whose foreign ids must not appear in a JSON list's `results[*].id`."""
    return Route("listing", slot=ids, extra=extra)


def obj(slot: str, *, parent: str | None = None, opens: dict | Callable | None = None, aggregate: bool = False,
        writes: dict | None = None, **extra) -> Route:
    return Route("object", slot=slot, extra=extra, parent=parent, opens=opens or {}, writes=writes or {},
                 aggregate=aggregate)


@dataclass(frozen=True)
class Write:
    """A write by someone who may make it: the body it sends (a function of the object) and `done`,
    which reads the database afresh and says whether the write shows there."""

    body: Callable
    done: Callable
    what: str


def _body(base, values):
    return lambda o: {**(base(o) if base else {}), **values}


def sets(*, form: Callable | None = None, body: dict | None = None, **values) -> Write:
    """The object's own columns become `values`. `form(obj)` gives the rest of a valid form or PUT;
    `body` is sent instead of `values` where the input is not the column (an action)."""
    return Write(_body(form, body if body is not None else values),
                 lambda o: type(o).objects.filter(pk=o.pk, **values).exists(), f"sets {values}")


def adds(model, fk: str, *, body: dict | None = None, **values) -> Write:
    """A row of `model` pointing at the object through `fk`, with `values`."""
    return Write(_body(None, body if body is not None else values),
                 lambda o: model.objects.filter(**{fk: o}, **values).exists(),
                 f"adds a {model._meta.model_name} {values}")


def deletes() -> Write:
    return Write(lambda o: {}, lambda o: not type(o).objects.filter(pk=o.pk).exists(), "deletes it")


def creates(*bodies, ids: str | None = None) -> Route:
    return Route("creates", slot=ids, bodies=bodies)


def staff_admin(staff: int | None = None) -> Route:
    """`staff`: the status a superuser gets where the admin refuses even them (read-only models)."""
    return Route("staff_admin", staff={"get": staff} if staff else {})


FMT = ("csv", "xlsx", "geojson")
_STREAM_BODY = {"direction": "offer", "kind": "material", "title": "stolen", "category": "MAT", "quantity": 1,
                "unit": "t", "period": "year"}


def thread(match) -> dict:
    """A match's thread opens once both companies said yes: then both parties, the region's facilitator
    and staff read and write it. Before that it is closed to all of them (docs/facilitation.md)."""
    return dict.fromkeys(("staff", "admin", "member", "partner", "facilitator"), 200 if match.revealed else 403)


# Who a company hides from is itself confidential: its admins and staff only; a plain member and the
# region's facilitator see the company but are refused its exclusions.
EXCLUSIONS = {"admin": 200, "member": 403, "facilitator": 403}

# Verifying a company (it counts in dashboards): facilitators of its regions and staff; its own members
# see it and are refused.
VERIFIERS = {"admin": 403, "member": 403, "facilitator": 200}


def _verified_first(company) -> dict:
    """An undo shows only on a verified company: verify it inside the write's savepoint first (the
    world's companies are not verified), so a refused undo leaves it verified and an allowed one not."""
    Company.objects.filter(pk=company.pk).update(verified_at=timezone.now())
    return {}


VERIFY = Write(lambda c: {}, lambda c: Company.objects.filter(pk=c.pk, verified_at__isnull=False).exists(),
               "verifies it")
UNVERIFY = Write(_verified_first, lambda c: Company.objects.filter(pk=c.pk, verified_at__isnull=True).exists(),
                 "unverifies it")


def form_data(form) -> dict:
    """What a browser would post for an unchanged form."""
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = value if isinstance(value, list) else ("on" if value is True else str(value))
    return data


def _stream_form(stream) -> dict:
    sites = Site.objects.filter(company_id=stream.company_id)
    return {**form_data(StreamForm(instance=stream, sites=sites)), "site": str(stream.site_id)}


RENAME_COMPANY = sets(name="Renamed by staff")
RENAME_SITE = sets(name="Renamed site")
RETITLE = sets(title="Retitled")
CLOSE = sets(status="closed")
WITHDRAW = sets(body={"action": "withdraw"}, status="withdrawn")  # allowed from every open status and after
NOTE = adds(MatchNote, "match", text="A note")
MESSAGE = adds(MatchMessage, "match", text="A message")
REALISED = adds(RealisedExchange, "match", body={"started_on": "2024-01-05", "quantity_yearly": 7}, quantity_yearly=7)
EXCLUDE = adds(CompetitorExclusion, "company", body={"nace_code": "01"}, excluded_nace__code="01")

ROUTES: dict[str, Route] = {
    # --- pages ---------------------------------------------------------------------------------
    "companies:home": listing(),
    "companies:signup": public(),
    "companies:company_onboard": public(),
    "companies:nace_options": public(),
    "companies:company_list": listing(),
    "companies:company_detail": obj("company"),
    "companies:company_verify": obj("company", opens=VERIFIERS, writes={"post": VERIFY}),
    "companies:company_unverify": obj("company", opens=VERIFIERS, writes={"post": UNVERIFY}),
    "companies:company_edit": obj("company", writes={"post": sets(form=lambda c: form_data(CompanyForm(instance=c)),
                                                                  name="Renamed by staff")}),
    "companies:site_create": obj("company", writes={"post": adds(
        Site, "company", body={"name": "New site", "latitude": 55.6, "longitude": 13.0}, name="New site")}),
    "streams:stream_list": listing(),
    "streams:my_streams": listing(),
    "streams:stream_create": creates(lambda t: {**_STREAM_BODY, "site": t.site.pk}),
    "streams:unit_options": public(),
    "streams:category_options": public(),
    "streams:stream_detail": obj("stream"),
    "streams:stream_edit": obj("stream", writes={"post": sets(form=_stream_form, title="Retitled")}),
    "streams:stream_status": obj("stream", writes={"post": CLOSE}),
    "matching:match_list": listing(),
    "matching:match_detail": obj("match"),
    "matching:match_transition": obj("match", writes={"post": WITHDRAW}),
    "matching:match_note_create": obj("match", writes={"post": NOTE}),
    "matching:match_thread": obj("match", opens=thread, writes={"post": MESSAGE}),
    "matching:realised_record": obj("match", writes={"post": REALISED}),
    "matching:review_queue": listing(),
    "matching:queue_bulk": creates(lambda t: {"ids": [t.match.pk], "action": "review"}),
    "matching:pipeline": listing(),
    "matching:notification_list": listing(),
    "matching:penalty_list": listing(),
    "companies:exclusion_list": obj("company", opens=EXCLUSIONS, writes={"post": EXCLUDE}),
    "companies:exclusion_delete": obj("exclusion", parent="pk", opens=EXCLUSIONS, writes={"post": deletes()}),
    "streams:import_upload": listing(),
    "streams:import_template": public(fmt="csv"),
    "streams:import_preview": obj("upload"),
    "streams:import_commit": obj("upload"),
    "audit:event_list": listing(),
    "matching:run_list": listing(),
    "matching:run_start": creates(lambda t: {"kind": "stream", "stream": t.private_stream.pk}),
    "matching:run_detail": obj("run"),
    "matching:run_progress": obj("run"),
    "dashboards:index": listing(),
    "dashboards:region": obj("region", aggregate=True),
    "dashboards:export": obj("region", aggregate=True, fmt=FMT),
    "dashboards:open_data": listing(),
    "dashboards:open_data_export": listing(fmt=FMT),
    "dashboards:company_impact": obj("company"),
    # --- accounts (django.contrib.auth) -----------------------------------------------------------
    "login": public(),
    "logout": public(),
    "password_change": public(),
    "password_change_done": public(),
    "password_reset": public(),
    "password_reset_done": public(),
    "password_reset_confirm": public(uidb64="MQ", token="set-password"),
    "password_reset_complete": public(),
    # --- API -----------------------------------------------------------------------------------
    "company-list": listing(ids="company"),
    "company-detail": obj("company", writes={
        "patch": RENAME_COMPANY,
        "put": sets(form=lambda c: {"nace_code": c.nace.code, "country": c.country}, name="Renamed by staff"),
    }),
    "company-verify": obj("company", opens=VERIFIERS, writes={"post": VERIFY}),
    "company-unverify": obj("company", opens=VERIFIERS, writes={"post": UNVERIFY}),
    "site-list": creates(
        lambda t: {"company": t.company.pk, "name": "stolen", "latitude": 55.6, "longitude": 13.0}, ids="site",
    ),
    "site-detail": obj("site", writes={
        "patch": RENAME_SITE, "put": sets(form=lambda s: {"latitude": s.latitude, "longitude": s.longitude},
                                          name="Renamed site"),
    }),
    "region-list": public(),
    "region-detail": public(pk=lambda w: w.tenants["B"].region.pk),
    "nace-code-list": public(),
    "nace-code-detail": public(pk=lambda w: w.tenants["B"].company.nace_id),
    "ewc-code-list": public(),
    "ewc-code-detail": public(code="020101"),
    "category-list": public(),
    "category-detail": public(code=lambda w: w.tenants["B"].private_stream.category.code),
    "stream-list": creates(
        lambda t: {**_STREAM_BODY, "site": t.site.pk},
        lambda t: {**_STREAM_BODY, "company": t.company.pk},
        ids="stream",
    ),
    "stream-detail": obj("stream", writes={
        "patch": RETITLE, "put": sets(form=lambda s: {**_STREAM_BODY, "category": s.category.code}, title="Retitled"),
    }),
    "stream-matches": obj("stream"),
    "stream-set-status": obj("stream", writes={"post": CLOSE}),
    "match-list": listing(ids="match"),
    "match-detail": obj("match"),
    "match-transition": obj("match", writes={"post": WITHDRAW}),
    "match-events": obj("match"),
    "match-notes": obj("match", writes={"post": NOTE}),
    "match-messages": obj("match", opens=thread, writes={"post": MESSAGE}),
    "match-realised": obj("match", writes={"post": REALISED}),
    "notification-list": listing(),
    "company-exclusion-list": obj("company", opens=EXCLUSIONS, writes={"post": EXCLUDE}),
    "company-exclusion-detail": obj("exclusion", parent="company_pk", opens=EXCLUSIONS,
                                    writes={"delete": deletes()}),
    "import-create": listing(),
    "import-detail": obj("upload"),
    "import-commit": obj("upload"),
    "matching-run-list": creates(lambda t: {"kind": "stream", "stream": t.private_stream.pk}, ids="run"),
    "matching-run-detail": obj("run"),
    "dashboards_api:list": listing(),
    "dashboards_api:region": obj("region", aggregate=True),
    "dashboards_api:open_data": listing(),
    "schema": public(),
    "api_docs": public(),
    # --- Django admin: every pattern of the "admin" namespace ---------------------------------------
    "admin": staff_admin(),
    # The audit trail is append-only: not even a superuser adds or deletes an event in the admin.
    "admin:audit_auditevent_add": staff_admin(staff=403),
    "admin:audit_auditevent_delete": staff_admin(staff=403),
    "admin:autocomplete": staff_admin(staff=403),  # Django refuses it without its query parameters
    "admin:login": public(),
    "admin:logout": public(),
}
