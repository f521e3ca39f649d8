"""Turn the aggregated rows of `queries` into the tables of a dashboard (before suppression).

Each figure appears in exactly one table; sums that cross tables or columns are declared as links
(`figures.Link`) so that suppression protects them like a total row. Numbers are rounded only when
presented: the tables hold what the database added up.
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from companies.geo import haversine_km
from companies.models import Region
from dashboards import queries
from dashboards.figures import Cell, Column, Dashboard, Link, Row, Table
from matching.choices import MatchStatus
from streams.choices import Direction, StreamKind
from streams.models import ResourceCategory
from streams.units import BASE_UNIT

FUNNEL = (
    MatchStatus.SUGGESTED, MatchStatus.UNDER_REVIEW, MatchStatus.APPROVED, MatchStatus.INTRODUCED,
    MatchStatus.NEGOTIATING, MatchStatus.IMPLEMENTED, MatchStatus.REJECTED, MatchStatus.DECLINED,
    MatchStatus.WITHDRAWN,
)
TREND_MONTHS = 12
IMPACT_MEASURES = ("eur", "co2e_t", "diverted_t", "water_m3", "energy_mwh")


def _count(n: int, companies: int) -> Cell:
    return Cell(value=int(n or 0), companies=int(companies or 0))


def _qty(v: float | None, companies: int) -> Cell:
    # Rounded to 0.001 so that the same sum added up in another order (another query) reads the same.
    return Cell(value=round(float(v or 0.0), 3), companies=int(companies or 0))


def trend_start(today: date | None = None) -> tuple[datetime, date, list[str]]:
    """The first instant of the trend window (TREND_MONTHS months up to the current one) and the
    month keys ("2025-03") of the window, oldest first."""
    today = today or timezone.localdate()
    y, m = today.year, today.month
    months = []
    for _i in range(TREND_MONTHS):
        months.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    months.reverse()
    first = date.fromisoformat(months[0] + "-01")
    start = timezone.make_aware(datetime(first.year, first.month, 1))
    return start, first, months


def _month_key(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        value = value.date()
    if value <= queries.EARLIER_DATE:
        return "earlier"
    return f"{value.year:04d}-{value.month:02d}"


# --- Tables -----------------------------------------------------------------------------------------

def companies_table(row: dict | None) -> Table:
    total = (row or {}).get("companies", 0)
    smes = (row or {}).get("smes", 0)
    col = "companies"
    return Table(
        key="companies",
        title=_("Companies"),
        caption=_("Companies with a site in the region, by size (SME: under 250 employees)."),
        columns=[Column(col, _("Companies"))],
        rows=[
            Row("all", _("All companies"), {col: _count(total, total)}),
            Row("sme", _("SMEs"), {col: _count(smes, smes)}, parent="all", level=1),
            Row("large", _("Larger companies"), {col: _count(total - smes, total - smes)}, parent="all", level=1),
        ],
    )


LISTING_COLUMNS = (
    ("streams", "companies"), ("volume", "companies"), ("unmatched_streams", "unmatched_companies"),
    ("unmatched_volume", "unmatched_companies"), ("matched_streams", "matched_companies"),
    ("matched_volume", "matched_companies"),
)


def listings_table(rows: list[dict], categories: dict[int, tuple[str, str]]) -> tuple[Table, list[Link]]:
    """Active listings: direction > kind > category, with the unmatched share of each."""
    table = Table(
        key="listings",
        title=_("Active listings"),
        caption=_(
            "Active offers and needs by kind and category: listings, yearly volume in the kind's base unit, "
            "and the part with no live match to a listed counterpart (unmatched)."
        ),
        columns=[
            Column("streams", _("Listings")),
            Column("volume", _("Yearly volume"), unit="row", fmt="qty"),
            Column("unmatched_streams", _("Unmatched listings")),
            Column("unmatched_volume", _("Unmatched yearly volume"), unit="row", fmt="qty"),
            Column("matched_streams", _("Matched listings"), shown=False),
            Column("matched_volume", _("Matched yearly volume"), unit="row", fmt="qty", shown=False),
            Column("companies", _("Companies"), additive=False),
        ],
        rows=[],
    )
    by_key = {}
    for r in rows:
        if r["level"] == 1:
            key = r["direction"]
        elif r["level"] == 2:
            key = f"{r['direction']}/{r['kind']}"
        else:
            key = f"{r['direction']}/{r['kind']}/{categories.get(r['category_id'], ('?', ''))[0]}"
        by_key[key] = r

    def cells(r: dict | None, *, volumes: bool) -> dict[str, Cell]:
        r = r or {}
        out = {}
        for col, comp in LISTING_COLUMNS:
            if col.endswith("volume") and not volumes:
                continue
            maker = _qty if col.endswith("volume") else _count
            out[col] = maker(r.get(col, 0), r.get(comp, 0))
        out["companies"] = _count(r.get("companies", 0), r.get("companies", 0))
        return out

    direction_labels = {Direction.OFFER: _("Offers"), Direction.NEED: _("Needs")}
    for direction in (Direction.OFFER, Direction.NEED):
        table.add(Row(direction, str(direction_labels[direction]), cells(by_key.get(direction), volumes=False),
                      attrs={"direction": direction}))
        for kind in StreamKind:
            key = f"{direction}/{kind}"
            table.add(Row(
                key, str(kind.label), cells(by_key.get(key), volumes=True), parent=direction, level=1,
                attrs={"direction": direction, "kind": kind.value, "unit": BASE_UNIT[kind]},
            ))
            cats = sorted(
                (k for k in by_key if k.startswith(key + "/")),
                key=lambda k: -(by_key[k]["volume"] or 0.0),
            )
            for ckey in cats:
                r = by_key[ckey]
                code, name = categories.get(r["category_id"], ("?", "?"))
                table.add(Row(
                    ckey, name, cells(r, volumes=True), parent=key, level=2,
                    attrs={"direction": direction, "kind": kind.value, "unit": BASE_UNIT[kind], "category": code},
                ))
    links = []
    for row in table.rows:
        links.append(Link(("listings", row.key, "streams"),
                          [("listings", row.key, "unmatched_streams"), ("listings", row.key, "matched_streams")]))
        if "volume" in row.cells:
            links.append(Link(("listings", row.key, "volume"),
                              [("listings", row.key, "unmatched_volume"), ("listings", row.key, "matched_volume")]))
    return table, links


def funnel_table(by_status: list[dict], total: list[dict]) -> Table:
    counts = {r["status"]: r for r in by_status}
    all_row = total[0] if total else {}
    labels = dict(MatchStatus.choices)
    table = Table(
        key="funnel",
        title=_("Match funnel"),
        caption=_("Suggested matches touching the region by status, from suggestion to implemented exchange."),
        columns=[Column("matches", _("Matches")), Column("companies", _("Companies"), additive=False)],
        rows=[Row("all", _("All matches"), {
            "matches": _count(all_row.get("matches", 0), all_row.get("companies", 0)),
            "companies": _count(all_row.get("companies", 0), all_row.get("companies", 0)),
        })],
    )
    for status in FUNNEL:
        r = counts.get(status, {})
        table.add(Row(status, str(labels[status]), {
            "matches": _count(r.get("matches", 0), r.get("companies", 0)),
            "companies": _count(r.get("companies", 0), r.get("companies", 0)),
        }, parent="all", level=1, attrs={"status": status}))
    return table


def impact_table(estimated: list[dict], realised: list[dict]) -> Table:
    def row(key, label, r):
        comp = r.get("companies", 0)
        cells = {m: _qty(r.get(m, 0.0), comp) for m in IMPACT_MEASURES}
        cells["companies"] = _count(comp, comp)
        return Row(key, label, cells)

    return Table(
        key="impact",
        title=_("Impact per year"),
        caption=_(
            "Estimated impact of the open suggestions (each offer counted once, with its best suggestion) "
            "and realised impact of implemented exchanges as recorded by facilitators."
        ),
        columns=[
            Column("eur", _("EUR per year (both parties)"), unit="EUR", fmt="money"),
            Column("co2e_t", _("t CO2e avoided per year"), unit="t", fmt="qty"),
            Column("diverted_t", _("t diverted from landfill or incineration per year"), unit="t", fmt="qty"),
            Column("water_m3", _("m3 water per year"), unit="m3", fmt="qty"),
            Column("energy_mwh", _("MWh per year"), unit="MWh", fmt="qty"),
            Column("companies", _("Companies"), additive=False),
        ],
        rows=[
            row("estimated", _("Estimated, open suggestions"), estimated[0] if estimated else {}),
            row("realised", _("Realised, implemented exchanges"), realised[0] if realised else {}),
        ],
    )


def trends_table(months: list[str], streams: list[dict], created: list[dict], started: list[dict]) -> tuple[
        Table, list[Link]]:
    table = Table(
        key="trends",
        title=_("Trends by month"),
        caption=_(
            "Active listings by the month they were created, matches by the month they were suggested, and "
            "exchanges by the month they started. The first row adds up everything before the period."
        ),
        columns=[
            Column("offers", _("New offers")), Column("needs", _("New needs")),
            Column("suggestions", _("New matches")), Column("started", _("Exchanges started")),
        ],
        rows=[],
    )
    keys = ["earlier", *months]
    cells: dict[str, dict[str, Cell]] = {k: {c.key: Cell(0, 0) for c in table.columns} for k in keys}
    for r in streams:
        key = _month_key(r["bucket"])
        if key in cells:
            col = "offers" if r["direction"] == Direction.OFFER else "needs"
            cells[key][col] = _count(r["streams"], r["companies"])
    for rows, col in ((created, "suggestions"), (started, "started")):
        for r in rows:
            key = _month_key(r["bucket"])
            if key in cells:
                cells[key][col] = _count(r["matches"], r["companies"])
    for key in keys:
        label = _("Before %(month)s") % {"month": months[0]} if key == "earlier" else key
        table.add(Row(key, label, cells[key], attrs={"month": "" if key == "earlier" else key}))
    links = [
        Link(("listings", Direction.OFFER, "streams"), [("trends", k, "offers") for k in keys]),
        Link(("listings", Direction.NEED, "streams"), [("trends", k, "needs") for k in keys]),
        Link(("funnel", "all", "matches"), [("trends", k, "suggestions") for k in keys]),
    ]
    return table, links


def map_table(sites: list[dict], streams: list[dict]) -> tuple[Table, list[Link]]:
    table = Table(
        key="map",
        title=_("Sites and listings on the map"),
        caption=_(
            "Sites and active listings aggregated to grid cells of %(deg)s°; a cell built from fewer than 3 "
            "companies is not drawn."
        ) % {"deg": queries.CELL_DEGREES},
        columns=[
            Column("companies", _("Companies"), additive=False), Column("sites", _("Sites"), additive=False),
            Column("offers", _("Active offers")), Column("needs", _("Active needs")),
        ],
        rows=[],
    )
    stream_cells = {(r["cy"], r["cx"]): r for r in streams}
    for s in sorted(sites, key=lambda r: (-r["cy"], r["cx"])):
        cy, cx = int(s["cy"]), int(s["cx"])
        st = stream_cells.get((s["cy"], s["cx"]), {})
        lat = round((cy + 0.5) * queries.CELL_DEGREES, 4)
        lon = round((cx + 0.5) * queries.CELL_DEGREES, 4)
        table.add(Row(
            f"{cy}:{cx}", f"{lat:.3f}, {lon:.3f}",
            {
                "companies": _count(s["companies"], s["companies"]),
                "sites": _count(s["sites"], s["companies"]),
                "offers": _count(st.get("offers", 0), st.get("offer_companies", 0)),
                "needs": _count(st.get("needs", 0), st.get("need_companies", 0)),
            },
            attrs={"lat": lat, "lon": lon},
        ))
    keys = [r.key for r in table.rows]
    links = [
        Link(("listings", Direction.OFFER, "streams"), [("map", k, "offers") for k in keys]),
        Link(("listings", Direction.NEED, "streams"), [("map", k, "needs") for k in keys]),
    ]
    return table, links


def flows_table(rows: list[dict], regions: dict[int, Region]) -> Table:
    table = Table(
        key="flows",
        title=_("Flows between regions"),
        caption=_("Live matches between listed offers and needs that touch the region, by provider and receiver region."),
        columns=[Column("matches", _("Matches")), Column("companies", _("Companies"), additive=False)],
        rows=[],
    )
    for r in sorted(rows, key=lambda r: (-r["matches"], r["pa"], r["pb"])):
        a, b = regions.get(r["pa"]), regions.get(r["pb"])
        if a is None or b is None:
            continue
        table.add(Row(
            f"{a.code}>{b.code}", _("%(a)s to %(b)s") % {"a": a.name, "b": b.name},
            {"matches": _count(r["matches"], r["companies"]), "companies": _count(r["companies"], r["companies"])},
            attrs={"from": a.code, "to": b.code, "from_lat": a.latitude, "from_lon": a.longitude,
                   "to_lat": b.latitude, "to_lon": b.longitude},
        ))
    return table


# --- Assembly ---------------------------------------------------------------------------------------

def category_names() -> dict[int, tuple[str, str]]:
    return {pk: (code, name) for pk, code, name in ResourceCategory.objects.values_list("pk", "code", "name")}


def region_scope(region: Region) -> dict:
    return {"code": region.code, "name": region.name, "country": region.country,
            "latitude": region.latitude, "longitude": region.longitude}


def summaries(regions: list[Region]) -> dict[int, Dashboard]:
    """The key-figure tables (companies, listings, funnel, impact) of several regions at once: one
    query per block whatever the number of regions."""
    ids = [r.pk for r in regions]
    companies = queries.companies_by_region(ids)
    listing_rows = queries.listings(ids)
    by_status, totals = queries.funnel(ids)
    estimated, realised = queries.impact(ids)
    cats = category_names()
    out = {}
    for region in regions:
        rid = region.pk

        def mine(rows, rid=rid):
            return [r for r in rows if r["region_id"] == rid]

        listings, links = listings_table(mine(listing_rows), cats)
        tables = {
            "companies": companies_table(companies.get(rid)),
            "listings": listings,
            "funnel": funnel_table(mine(by_status), mine(totals)),
            "impact": impact_table(mine(estimated), mine(realised)),
        }
        out[rid] = Dashboard(scope=region_scope(region), tables=tables, links=links,
                             meta={"generated_at": timezone.now().isoformat(timespec="seconds")})
    return out


def region_full(region: Region, *, today: date | None = None) -> Dashboard:
    """Every table of one region's dashboard (before suppression; the screening table comes after,
    because it depends on which unmatched categories may be shown)."""
    dashboard = summaries([region])[region.pk]
    start, start_date, months = trend_start(today)
    created, started = queries.match_trends(region.pk, start, start_date)
    trends, trend_links = trends_table(months, queries.stream_trends(region.pk, start), created, started)
    sites, streams = queries.map_cells(region.pk)
    cells, map_links = map_table(sites, streams)
    regions = {r.pk: r for r in Region.objects.all()}
    dashboard.tables["trends"] = trends
    dashboard.tables["map"] = cells
    dashboard.tables["flows"] = flows_table(queries.flows(region.pk), regions)
    dashboard.links += trend_links + map_links
    dashboard.meta["months"] = months
    dashboard.meta["nearby"] = [r.code for r in nearby_regions(region, regions.values())]
    return dashboard


NEARBY_KM = 300  # assumption: the reach of low-value bulk material, about 100 km, from anywhere in a region


def nearby_regions(region: Region, regions, *, limit: int = 6) -> list[Region]:
    """The region and up to `limit - 1` others whose centre lies within NEARBY_KM of its centre."""
    if region.latitude is None or region.longitude is None:
        return [region]
    others = []
    for r in regions:
        if r.pk == region.pk or r.latitude is None or r.longitude is None:
            continue
        km = haversine_km(region.latitude, region.longitude, r.latitude, r.longitude)
        if km <= NEARBY_KM:
            others.append((km, r.code, r))
    return [region, *(r for _, _, r in sorted(others)[: limit - 1])]
