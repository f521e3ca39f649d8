"""Writing the demo to the database: `seed()` builds the planned demo (demo/planning.py), `reset()`
removes it, `set_demo_passwords()` gives the demo users a password.

Rows are written with bulk_create in batches (companies, sites, streams with their history rows,
and the Stream.ewc_codes through table), so 100k streams build in minutes on PostgreSQL. Because
bulk_create skips save() and clean(), the derived fields are filled here: Company.is_sme and name_key and
Stream.quantity_yearly / base_unit through Stream.normalise(). Stream history rows are created with
simple_history's bulk_create_with_history ("Demo data" as the change reason); matching is not
triggered: run the matching engine after seeding.

Demo rows are recognisable by external_ref: companies `demo-c-00001` (in the import scope "platform", as
if imported by the system), streams `demo-s-<n>-<k>`.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from companies.constants import PLATFORM_SCOPE, SME_MAX_EMPLOYEES
from demo.catalogue import SECTORS, TOWNS
from demo.planning import COMPANY_PREFIX, plan

# Known password for development only (settings.DEBUG); elsewhere a random one is set and printed.
DEMO_PASSWORD = "baltic-demo-2026"  # noqa: S105
DEMO_REGION = "SE22"
DEMO_USERS = (
    # username, description
    ("demo-sme-a", "admin of Lunds Mejeri AB (offers whey and warm water)"),
    ("demo-sme-b", "admin of Lund Greens AB (needs heat and CO2), 2 km away"),
    ("demo-facilitator", f"facilitator of {DEMO_REGION}"),
    ("demo-authority", f"regional authority of {DEMO_REGION}"),
    ("demo-staff", "staff (and Django admin)"),
)

BATCH = 2000  # rows per INSERT
COMPANY_CHUNK = 500  # companies planned, written and reported per step

ProgressFn = Callable[[str, int, int], None]
DECIMAL_FIELDS = ("quantity", "quantity_min", "quantity_max", "price_eur_per_unit", "disposal_cost_eur_per_unit")


class DemoDataError(Exception):
    """The database lacks what the demo builds on (regions, NACE, resource taxonomy)."""


def _reference_data():
    from companies.models import NaceCode, Region
    from streams.models import EwcCode, ResourceCategory

    regions = {r.code: r for r in Region.objects.all()}
    nace = {n.code: n for n in NaceCode.objects.filter(revision="2.1", level=4)}
    categories = {c.code: c for c in ResourceCategory.objects.all()}
    ewc = {e.code: e for e in EwcCode.objects.all()}
    missing = []
    if not categories or not ewc:
        raise DemoDataError("The resource taxonomy (categories, EWC codes) is not loaded: run `manage.py migrate`.")
    for town in TOWNS:
        if town.region not in regions:
            missing.append(f"region {town.region}")
    for sector in SECTORS:
        if sector.nace not in nace:
            missing.append(f"NACE {sector.nace}")
        for t in sector.templates():
            if t.category not in categories:
                missing.append(f"category {t.category}")
            missing.extend(f"EWC {c}" for c in t.ewc if c not in ewc)
    if missing:
        raise DemoDataError("Reference data missing for the demo: " + ", ".join(sorted(set(missing))))
    return regions, nace, categories, ewc


def _batches(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i: i + size]


@contextlib.contextmanager
def _no_deletion_history() -> Iterator[None]:
    """Deletes inside write no history rows: simple_history reads SIMPLE_HISTORY_ENABLED at each
    signal, and would otherwise insert one row per deleted stream, only for `reset` to delete it with
    the seeded history. Meant for the `seed_demo --reset` command's own process."""
    unset = object()
    before = getattr(settings, "SIMPLE_HISTORY_ENABLED", unset)
    settings.SIMPLE_HISTORY_ENABLED = False
    try:
        yield
    finally:
        if before is unset:
            del settings.SIMPLE_HISTORY_ENABLED
        else:
            settings.SIMPLE_HISTORY_ENABLED = before


def reset() -> dict[str, int]:
    """Delete every demo company (with its sites, streams, memberships, their history) and demo user."""
    from django.contrib.auth import get_user_model

    from companies.models import Company
    from streams.models import Stream

    with transaction.atomic():
        company_ids = list(Company.objects.filter(import_scope=PLATFORM_SCOPE, external_ref__startswith=COMPANY_PREFIX)
                           .values_list("pk", flat=True))
        streams = Stream.objects.filter(company_id__in=company_ids)
        Stream.ewc_codes.through.objects.filter(stream__company_id__in=company_ids).delete()
        # Deleting demo rows needs no history of the deletion; the seeded history goes with them.
        with _no_deletion_history():
            n_streams = streams.delete()[0]
        Stream.history.model.objects.filter(company_id__in=company_ids).delete()
        n_companies = Company.objects.filter(pk__in=company_ids).delete()[0]
        get_user_model().objects.filter(username__in=[u for u, _ in DEMO_USERS]).delete()
    return {"companies": len(company_ids), "deleted_rows": n_streams + n_companies}


def seed(*, streams: int | None, seed: int = 42, progress: ProgressFn | None = None) -> dict[str, int]:
    """Build the demo region (idempotent: rows that exist by external_ref are left alone).

    Returns counts of what was created. Raises DemoDataError when reference data is missing.
    """
    from simple_history.utils import bulk_create_with_history

    from companies.models import Company, Site, company_name_key
    from streams.models import Stream

    regions, nace, categories, ewc = _reference_data()
    planned = plan(streams=streams, seed=seed)
    total_streams = sum(len(c.streams) for c in planned)
    created = {"companies": 0, "sites": 0, "streams": 0}
    done = 0

    with transaction.atomic():
        for chunk in _batches(planned, COMPANY_CHUNK):
            refs = [c.ref for c in chunk]
            existing = dict(Company.objects.filter(import_scope=PLATFORM_SCOPE, external_ref__in=refs)
                            .values_list("external_ref", "pk"))
            new_companies = [
                Company(
                    name=c.name, name_key=company_name_key(c.name), nace=nace[c.sector.nace], nace_as_entered=c.sector.nace, country=c.country,
                    employees=c.employees, is_sme=c.employees <= SME_MAX_EMPLOYEES, external_ref=c.ref,
                    import_scope=PLATFORM_SCOPE,
                    entered_by_facilitator=c.entered_by_facilitator,
                    description=f"Demo company ({c.sector.noun.lower()}, NACE {c.sector.nace}).",
                )
                for c in chunk if c.ref not in existing
            ]
            Company.objects.bulk_create(new_companies)
            # The demo's companies were entered by the platform a year ago: verified and old enough
            # for the dashboards to count them (docs/dashboards.md, "Who counts toward k").
            joined = timezone.now() - timedelta(days=365)
            Company.objects.filter(pk__in=[c.pk for c in new_companies]).update(created_at=joined, verified_at=joined)
            created["companies"] += len(new_companies)
            company_pk = {**existing, **{c.external_ref: c.pk for c in new_companies}}

            site_keys = {
                (company_pk[c.ref], name): None for c in chunk for (name, *_rest) in c.sites
            }
            for pk, company_id, name in Site.objects.filter(company_id__in=company_pk.values()).values_list(
                "pk", "company_id", "name"
            ):
                if (company_id, name) in site_keys:
                    site_keys[(company_id, name)] = pk
            new_sites = [
                Site(company_id=company_pk[c.ref], name=name, latitude=lat, longitude=lon, region=regions[region],
                     address="")
                for c in chunk for (name, lat, lon, region) in c.sites
                if site_keys[(company_pk[c.ref], name)] is None
            ]
            Site.objects.bulk_create(new_sites)
            created["sites"] += len(new_sites)
            for s in new_sites:
                site_keys[(s.company_id, s.name)] = s.pk

            existing_streams = set(
                Stream.objects.filter(company_id__in=company_pk.values(), external_ref__isnull=False)
                .values_list("company_id", "external_ref")
            )
            new_streams, codes = [], []
            for c in chunk:
                cid = company_pk[c.ref]
                for ps in c.streams:
                    if (cid, ps.ref) in existing_streams:
                        continue
                    t = ps.template
                    category = categories[t.category]
                    values = {k: Decimal(str(v)) if k in DECIMAL_FIELDS and v is not None else v
                              for k, v in ps.values.items()}
                    stream = Stream(
                        company_id=cid, site_id=site_keys[(cid, c.sites[ps.site_index][0])], external_ref=ps.ref,
                        kind=category.kind, category=category,
                        entered_by_facilitator=c.entered_by_facilitator, **values,
                    )
                    stream_ewc = [ewc[code] for code in t.ewc]
                    if t.direction == "offer":
                        stream.hazardous = any(e.is_hazardous for e in stream_ewc)
                    stream.normalise()
                    new_streams.append(stream)
                    codes.append(stream_ewc)
            for part, part_codes in zip(_batches(new_streams, BATCH), _batches(codes, BATCH), strict=True):
                bulk_create_with_history(part, Stream, batch_size=BATCH, default_change_reason="Demo data")
                Stream.ewc_codes.through.objects.bulk_create([
                    Stream.ewc_codes.through(stream_id=s.pk, ewccode_id=e.pk)
                    for s, stream_ewc in zip(part, part_codes, strict=True) for e in stream_ewc
                ])
                created["streams"] += len(part)
            done += sum(len(c.streams) for c in chunk)
            if progress is not None:
                progress("streams", done, total_streams)
        _demo_users(regions)
    created["regions"] = len({s[3] for c in planned for s in c.sites})
    created["countries"] = len({c.country for c in planned})
    return created


def _demo_users(regions) -> None:
    """The demo users and their roles (idempotent). Passwords are set by `set_demo_passwords`."""
    from django.contrib.auth import get_user_model

    from companies.choices import MembershipRole, RegionRoleKind
    from companies.models import Company, RegionRole
    from companies.services import membership_add

    User = get_user_model()  # noqa: N806
    users = {}
    for username, _ in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.test"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        users[username] = user
    staff = users["demo-staff"]
    if not (staff.is_staff and staff.is_superuser):
        staff.is_staff = staff.is_superuser = True
        staff.save(update_fields=["is_staff", "is_superuser"])
    for username, number in (("demo-sme-a", 1), ("demo-sme-b", 2)):
        company = Company.objects.get(import_scope=PLATFORM_SCOPE, external_ref=f"{COMPANY_PREFIX}{number:05d}")
        membership_add(company=company, user=users[username], role=MembershipRole.ADMIN)
    region = regions[DEMO_REGION]
    RegionRole.objects.get_or_create(user=users["demo-facilitator"], region=region, role=RegionRoleKind.FACILITATOR)
    RegionRole.objects.get_or_create(user=users["demo-authority"], region=region, role=RegionRoleKind.AUTHORITY)


def set_demo_passwords(password: str | None = None) -> str:
    """Give every demo user the same password (a random one unless given) and return it."""
    from django.contrib.auth import get_user_model

    password = password or secrets.token_urlsafe(12)
    for user in get_user_model().objects.filter(username__in=[u for u, _ in DEMO_USERS]):
        user.set_password(password)
        user.save(update_fields=["password"])
    return password
