"""Reads for the regional dashboards, the open-data page and the company impact report.

Visibility: authorities and facilitators see the dashboards of their regions, staff of every
region; anybody else sees none (404). Open data is public. Every selector returns *published*
figures (`publish`: settled against the recorded bases, then `suppression.suppress`), so no format
can show what the k = 3 rule hides, and two publications of a cell never differ by fewer than 3
companies.

The computed dashboards are cached (Django's cache, Redis in production) per regions and language,
with the data version they were computed at (the newest stream history row, match, matching run,
realised exchange, company and site: index lookups in one statement). A changed version, or a
value older than DASHBOARD_CACHE_SECONDS (default 60 s; a match whose status changes in place does
not change the version), makes the next request recompute it while others are served the previous
value (see `_cached`).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from companies.models import Company, Region, Site
from companies.roles import roles_for
from dashboards import build
from dashboards.figures import Cell, Column, Dashboard, Row, Table
from dashboards.models import PublishedFigure
from dashboards.screening import screening_table
from dashboards.suppression import Basis, settle, suppress
from facilitation.models import RealisedExchange
from matching.choices import MatchStatus
from matching.models import Match, MatchingRun
from streams.models import Stream

CACHE_SECONDS = getattr(settings, "DASHBOARD_CACHE_SECONDS", 60)
STALE_FACTOR = 30  # a stale value may be served (while one request refreshes it) for 30 x CACHE_SECONDS
LOCK_SECONDS = 120
CACHE_PREFIX = "dashboards:v1"


# --- Visibility -------------------------------------------------------------------------------------

def dashboard_regions(user) -> QuerySet[Region]:
    """Regions whose dashboard `user` may see: their authority and facilitator regions; staff all."""
    roles = roles_for(user)
    if not roles.authenticated:
        return Region.objects.none()
    if roles.is_staff:
        return Region.objects.all()
    return Region.objects.filter(pk__in=roles.authority_region_ids | roles.facilitator_region_ids)


def dashboard_region(*, user, code: str) -> Region:
    """The region with `code` if `user` may see its dashboard, else 404."""
    region = dashboard_regions(user).filter(code=code).first()
    if region is None:
        raise Http404("No such region")
    return region


def report_companies(user) -> QuerySet[Company]:
    """Companies whose impact report `user` may read: their own, those with a site in a region they
    facilitate; staff all."""
    roles = roles_for(user)
    if not roles.authenticated:
        return Company.objects.none()
    if roles.is_staff:
        return Company.objects.all()
    ids = Site.objects.filter(region_id__in=roles.facilitator_region_ids).values("company_id")
    return Company.objects.filter(Q(pk__in=roles.company_ids) | Q(pk__in=ids))


# --- Cache ------------------------------------------------------------------------------------------

def data_version() -> str:
    """One cheap statement over primary-key and small-table maxima that changes when the data does."""
    q = connection.ops.quote_name
    parts = [
        (Stream.history.model._meta.db_table, "history_id"),
        (Match._meta.db_table, "id"),
        (MatchingRun._meta.db_table, "id"),
        (RealisedExchange._meta.db_table, "updated_at"),
        (Company._meta.db_table, "id"),
        (Site._meta.db_table, "id"),
    ]
    # Identifiers come from model metadata only (quoted); there are no values.
    sql = "SELECT " + ", ".join(f"(SELECT MAX({q(col)}) FROM {q(table)})" for table, col in parts)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return hashlib.sha1(repr(row).encode(), usedforsecurity=False).hexdigest()[:16]


# Per-process memories in front of the shared cache: the data version, checked at most once per
# VERSION_MEMO_SECONDS, and the values this process last served, so a warm request reads neither
# the database for the version nor Redis for ~100 kB of figures. Races between threads are benign.
_version_memo: list = [0.0, None]
_local: dict[str, tuple] = {}
LOCAL_ENTRIES = 128


def current_version() -> str:
    ttl = getattr(settings, "DASHBOARD_VERSION_MEMO_SECONDS", 1.0)
    now = time.monotonic()
    if ttl and _version_memo[1] is not None and now - _version_memo[0] < ttl:
        return _version_memo[1]
    version = data_version()
    _version_memo[:] = [now, version]
    return version


def _cached(kind: str, ids, compute):
    """Serve the computed figures from the cache (stale-while-revalidate).

    A cached value is fresh while the data version is unchanged and it is younger than
    CACHE_SECONDS. Otherwise the first request to take the lock recomputes it (so a single user
    sees a new stream at once) while concurrent requests keep serving the previous value: a busy
    page never recomputes twenty times, and a slow all-regions computation blocks one request only.
    """
    key = f"{CACHE_PREFIX}:{kind}:{get_language() or ''}:{','.join(map(str, ids))}"
    if len(key) > 200:
        key = f"{CACHE_PREFIX}:{kind}:{hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()}"
    version = current_version()
    local = _local.get(key)
    if local is not None and local[2] == version and time.time() - local[1] < CACHE_SECONDS:
        return local[0]
    hit = cache.get(key)
    locked = False
    if hit is not None:
        value, stamp, hit_version = hit
        if hit_version == version and time.time() - stamp < CACHE_SECONDS:
            _remember(key, hit)
            return value
        locked = cache.add(f"{key}:lock", 1, LOCK_SECONDS)
        if not locked:
            return value
    try:
        value = compute()
        entry = (value, time.time(), version)
        cache.set(key, entry, CACHE_SECONDS * STALE_FACTOR)
        _remember(key, entry)
    finally:
        if locked:
            cache.delete(f"{key}:lock")
    return value


def _remember(key: str, entry: tuple) -> None:
    if len(_local) >= LOCAL_ENTRIES:
        _local.clear()
    _local[key] = entry


def forget_cached() -> None:
    """Drop this process's memories (tests; the shared cache is cleared separately)."""
    _local.clear()
    _version_memo[:] = [0.0, None]


# --- Publication ------------------------------------------------------------------------------------

def publish(raw: dict[int, Dashboard]) -> dict[int, Dashboard]:
    """The raw dashboards of some regions (by region id), settled against what each cell was last
    published from (`suppression.settle`) and suppressed. The new bases are recorded before anything
    is returned, under a lock on the regions' rows, so every figure any format ever showed is a
    recorded basis and concurrent computations settle one after the other."""
    ids = sorted(raw)
    tables = sorted({t for d in raw.values() for t in d.tables})
    out = {}
    with transaction.atomic():
        # FOR NO KEY UPDATE: serialises publications of a region without blocking new sites in it.
        list(Region.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").values_list("pk"))
        previous: dict[int, dict] = {rid: {} for rid in ids}
        for f in PublishedFigure.objects.filter(region_id__in=ids, table__in=tables).order_by():
            previous[f.region_id][(f.table, f.row, f.column)] = Basis(f.value, f.companies, tuple(f.counts))
        rows = []
        for rid in ids:
            settled, changed = settle(raw[rid], previous[rid])
            rows += [
                PublishedFigure(region_id=rid, table=t, row=r, column=c, value=b.value, companies=b.companies,
                                counts=list(b.counts))
                for (t, r, c), b in changed.items()
            ]
            out[rid] = suppress(settled)
        PublishedFigure.objects.bulk_create(
            rows, batch_size=1000, update_conflicts=True, unique_fields=("region", "table", "row", "column"),
            update_fields=("value", "companies", "counts", "updated_at"),
        )
    return out


# --- Dashboards -------------------------------------------------------------------------------------

def compute_region_dashboard(region: Region) -> Dashboard:
    """A region's dashboard, suppressed, without the cache (the cache stores exactly this)."""
    from matching.services import engine_priors

    dashboard = publish({region.pk: build.region_full(region)})[region.pk]
    nearby_codes = dashboard.meta.get("nearby", [region.code])
    by_code = {r.code: r for r in Region.objects.filter(code__in=nearby_codes)}
    nearby = [by_code[c] for c in nearby_codes if c in by_code]
    screening = screening_table(dashboard, region, nearby, engine_priors())
    dashboard.tables["screening"] = suppress(Dashboard(scope={}, tables={"screening": screening})).tables["screening"]
    return dashboard


def region_dashboard(*, region: Region) -> Dashboard:
    """Every figure of one region's dashboard, suppressed (cached). Check visibility first with
    `dashboard_region`."""
    return _cached("region", [region.pk], lambda: compute_region_dashboard(region))


def region_artefact(*, region: Region, name: str, make):
    """Something made only from a region's suppressed dashboard (its rendered page body, its JSON),
    cached like the dashboard itself, so a warm request neither unpickles nor re-renders the
    figures. `make(dashboard)` must not depend on the user."""
    return _cached(f"artefact:{name}", [region.pk], lambda: make(region_dashboard(region=region)))


def region_summaries(*, regions) -> dict[str, Dashboard]:
    """Key-figure tables of several regions, suppressed, by region code (cached)."""
    regions = sorted(regions, key=lambda r: r.pk)

    def compute():
        return {d.scope["code"]: d for d in publish(build.summaries(regions)).values()}

    return _cached("summaries", [r.pk for r in regions], compute)


# The comparison columns: (key, label, table, row, column, unit). Each is one cell of a region's
# suppressed summary, so the comparison, the region pages and open data always agree.
def comparison_columns():
    return [
        ("companies", _("Companies"), "companies", "all", "companies", ""),
        ("smes", _("SMEs"), "companies", "sme", "companies", ""),
        ("offers", _("Active offers"), "listings", "offer", "streams", ""),
        ("needs", _("Active needs"), "listings", "need", "streams", ""),
        ("offered_t", _("Material offered, t/year"), "listings", "offer/material", "volume", "t"),
        ("needed_t", _("Material needed, t/year"), "listings", "need/material", "volume", "t"),
        ("unmatched_offered_t", _("Material offered without a match, t/year"), "listings", "offer/material",
         "unmatched_volume", "t"),
        ("offered_mwh", _("Energy offered, MWh/year"), "listings", "offer/energy", "volume", "MWh"),
        ("offered_m3", _("Water offered, m3/year"), "listings", "offer/water", "volume", "m3"),
        ("matches", _("Matches"), "funnel", "all", "matches", ""),
        ("implemented", _("Implemented exchanges"), "funnel", "implemented", "matches", ""),
        ("realised_co2e_t", _("Realised t CO2e/year"), "impact", "realised", "co2e_t", "t"),
        ("realised_eur", _("Realised EUR/year"), "impact", "realised", "eur", "EUR"),
        ("realised_diverted_t", _("Realised t diverted/year"), "impact", "realised", "diverted_t", "t"),
    ]


def comparison_table(summaries: dict[str, Dashboard], regions, *, key="comparison", title=None, caption=None) -> Table:
    """One row per region, columns from `comparison_columns`, cells copied (already suppressed)."""
    cols = comparison_columns()
    table = Table(
        key=key,
        title=title or _("Comparison of regions"),
        caption=caption or _("Key figures of your regions side by side. No totals: they could reveal hidden cells."),
        columns=[Column(c[0], c[1], unit=c[5], additive=False, fmt="qty" if c[5] else "int") for c in cols],
        rows=[],
    )
    for region in regions:
        dashboard = summaries.get(region.code)
        if dashboard is None:
            continue
        cells = {}
        for ckey, _label, tkey, rkey, col, _unit in cols:
            source = dashboard.cell((tkey, rkey, col))
            cells[ckey] = Cell(source.value, source.companies, source.suppressed) if source else Cell(None)
        table.add(Row(region.code, region.name, cells, attrs={
            "code": region.code, "country": region.country, "lat": region.latitude, "lon": region.longitude,
        }))
    return table


def region_comparison(*, regions) -> Table:
    regions = list(regions)
    return comparison_table(region_summaries(regions=regions), regions)


def open_data() -> Table:
    """Region-level statistics of every region, for everyone (suppressed like every dashboard)."""
    regions = list(Region.objects.order_by("country", "name"))
    return comparison_table(
        region_summaries(regions=regions), regions, key="open_data", title=_("Open data: regions"),
        caption=_(
            "Region-level statistics of the platform. Any figure built from fewer than 3 companies is "
            "suppressed (c), and so is a second figure wherever a total could reveal it."
        ),
    )


# --- Company impact report --------------------------------------------------------------------------

@dataclass
class ExchangeLine:
    match_id: int
    role: str  # "provider" or "receiver"
    own_stream: str
    category: str
    counterpart: str
    started_on: object
    quantity: float
    unit: str
    co2e_t: float
    diverted_t: float
    eur: float
    water_m3: float
    energy_mwh: float
    recorded: bool


@dataclass
class ImpactReport:
    company: Company
    lines: list[ExchangeLine] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    in_progress: int = 0


def company_impact_report(*, company: Company) -> ImpactReport:
    """The implemented exchanges of one company with their quantities, CO2e, landfill diversion and
    money (its own side). Figures come from the facilitator's RealisedExchange record where there is
    one, else from the match's estimate (marked). Two queries."""
    mine = Q(source_company=company) | Q(target_company=company)
    matches = (
        Match.objects.filter(mine, status=MatchStatus.IMPLEMENTED)
        .select_related(
            "realised", "offer__category", "need__category", "offer__site__region", "need__site__region",
            "source_company__nace", "target_company__nace",
        )
        .order_by("pk")
    )
    in_progress = Match.objects.filter(
        mine, status__in=(MatchStatus.APPROVED, MatchStatus.INTRODUCED, MatchStatus.NEGOTIATING)
    ).count()
    report = ImpactReport(company=company, in_progress=in_progress)
    for m in matches:
        provider = m.source_company_id == company.pk
        own, other = (m.offer, m.need) if provider else (m.need, m.offer)
        other_company = m.target_company if provider else m.source_company
        realised = getattr(m, "realised", None)
        counterpart = _("%(sector)s (NACE %(code)s)") % {
            "sector": other_company.nace.title, "code": other_company.nace.code,
        }
        if other is not None:
            counterpart += ", " + other.site.region.name
        stream = own or other
        if realised is not None:
            line = ExchangeLine(
                m.pk, "provider" if provider else "receiver", own.title if own else "",
                stream.category.name if stream else "", counterpart, realised.started_on,
                realised.quantity_yearly, realised.unit, realised.co2e_t, realised.diverted_t,
                realised.eur_provider if provider else realised.eur_receiver, realised.water_m3,
                realised.energy_mwh, True,
            )
        else:
            line = ExchangeLine(
                m.pk, "provider" if provider else "receiver", own.title if own else "",
                stream.category.name if stream else "", counterpart, None, m.exchangeable_yearly, m.unit,
                m.co2e_t, m.diverted_t, m.eur_provider if provider else m.eur_receiver,
                m.exchangeable_yearly if m.unit == "m3" else 0.0,
                m.exchangeable_yearly if m.unit == "MWh" else 0.0, False,
            )
        report.lines.append(line)
    for measure in ("co2e_t", "diverted_t", "eur", "water_m3", "energy_mwh"):
        report.totals[measure] = sum(getattr(line, measure) for line in report.lines)
    return report
