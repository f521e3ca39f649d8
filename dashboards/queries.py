"""Database aggregation for the dashboards: one query per block of figures, grouped by region, so one
region and all regions cost the same number of queries.

Counting *distinct companies* is what the k = 3 rule needs. For listings that is COUNT(DISTINCT
company). A match involves two companies (provider and receiver), so match blocks take the union of
both sides: the ORM builds the per-side rows and one SQL statement around them counts distinct
companies over `source UNION ALL target`. Everything here runs on PostgreSQL and on SQLite.

A match belongs to the regions of its listed streams: the offer's site and the need's site. A
prospective match (an offer and a company that has listed no need, or the reverse) belongs to the
region of its one listing: dashboards aggregate listed flows, and looking the unlisted side up
through every site of its company would cost a scan of the prospective matches per region (see
docs/dashboards.md). A match with both sides in one region counts once there.

Only the data of counting companies is used (`suppression.counting_companies`: verified, and on the
platform for a while): their sites, their streams, and matches whose two companies both count. A
stream is matched only by a match whose other company counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Floor, TruncMonth

from companies.models import Site
from dashboards.suppression import counting_companies
from matching.choices import MatchStatus
from matching.models import Match
from streams.choices import Direction, StreamStatus
from streams.models import Stream

CLOSED = (MatchStatus.REJECTED, MatchStatus.DECLINED, MatchStatus.WITHDRAWN)
OPEN = (
    MatchStatus.SUGGESTED, MatchStatus.UNDER_REVIEW, MatchStatus.APPROVED, MatchStatus.INTRODUCED,
    MatchStatus.NEGOTIATING,
)
# Streams and matches created before the trend window are counted in one "earlier" bucket, so that
# the buckets add up to the published totals (and complementary suppression can protect them).
EARLIER = datetime(1970, 1, 1, tzinfo=UTC)
EARLIER_DATE = date(1970, 1, 1)
CELL_DEGREES = 0.25


def _counted():
    """The counting companies' ids, as a subquery."""
    return counting_companies().order_by().values("pk")


def _run(sql: str, params: Iterable) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _compiled(qs: QuerySet) -> tuple[str, tuple]:
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


# --- Companies --------------------------------------------------------------------------------------

def companies_by_region(region_ids) -> dict[int, dict]:
    """Companies with a site in the region, and how many of them are SMEs."""
    rows = (
        Site.objects.filter(region_id__in=region_ids, company_id__in=_counted()).order_by().values("region_id")
        .annotate(
            companies=Count("company", distinct=True),
            smes=Count("company", distinct=True, filter=Q(company__is_sme=True)),
        )
    )
    return {r["region_id"]: r for r in rows}


# --- Listings ---------------------------------------------------------------------------------------

def _matched_expression():
    """True when an active stream has a live (not rejected/declined/withdrawn) match with a listed
    counterpart: an offer matched to a need, or a need matched to an offer. Prospective suggestions
    (a sector that typically takes the stream) do not count: nobody has listed the counterpart."""
    as_offer = Match.objects.filter(offer=OuterRef("pk"), need__isnull=False, target_company_id__in=_counted()
                                    ).exclude(status__in=CLOSED)
    as_need = Match.objects.filter(need=OuterRef("pk"), offer__isnull=False, source_company_id__in=_counted()
                                   ).exclude(status__in=CLOSED)
    return Case(
        When(Q(direction=Direction.OFFER) & Exists(as_offer), then=Value(1)),
        When(Q(direction=Direction.NEED) & Exists(as_need), then=Value(1)),
        default=Value(0),
    )


def listings(region_ids) -> list[dict]:
    """Active streams by region at three levels (direction; direction and kind; direction, kind and
    category): streams, yearly volume in the kind's base unit, distinct companies, and the same split
    into matched and unmatched streams. One statement."""
    inner = (
        Stream.objects.filter(status=StreamStatus.ACTIVE, site__region_id__in=region_ids,
                              company_id__in=_counted()).order_by()
        .annotate(matched=_matched_expression())
        .values(
            rid=F("site__region_id"), dir=F("direction"), knd=F("kind"), cat=F("category_id"),
            cid=F("company_id"), qty=F("quantity_yearly"), mt=F("matched"),
        )
    )
    sql, params = _compiled(inner)
    measures = (
        "COUNT(*), SUM(qty), COUNT(DISTINCT cid), "
        "SUM(CASE WHEN mt = 1 THEN 0 ELSE 1 END), SUM(CASE WHEN mt = 1 THEN 0 ELSE qty END), "
        "COUNT(DISTINCT CASE WHEN mt = 1 THEN NULL ELSE cid END), "
        "COUNT(DISTINCT CASE WHEN mt = 1 THEN cid ELSE NULL END)"
    )
    statement = (
        f"WITH s AS ({sql}) "  # noqa: S608 (ORM-compiled SQL; values are bound parameters)
        f"SELECT 3, rid, dir, knd, cat, {measures} FROM s GROUP BY rid, dir, knd, cat "
        f"UNION ALL SELECT 2, rid, dir, knd, NULL, {measures} FROM s GROUP BY rid, dir, knd "
        f"UNION ALL SELECT 1, rid, dir, NULL, NULL, {measures} FROM s GROUP BY rid, dir"
    )
    out = []
    for level, rid, direction, kind, cat, n, qty, comp, um_n, um_qty, um_comp, m_comp in _run(statement, params):
        qty = float(qty or 0.0)
        um_qty = float(um_qty or 0.0)
        out.append({
            "level": level, "region_id": rid, "direction": direction, "kind": kind, "category_id": cat,
            "streams": n, "volume": qty, "companies": comp,
            "unmatched_streams": um_n, "unmatched_volume": um_qty, "unmatched_companies": um_comp,
            "matched_streams": n - um_n, "matched_volume": qty - um_qty, "matched_companies": m_comp,
        })
    return out


def stream_trends(region_id: int, start: datetime) -> list[dict]:
    """Active streams of one region by direction and month created (before `start`: EARLIER)."""
    bucket = Case(
        When(created_at__lt=start, then=Value(EARLIER)), default=TruncMonth("created_at"),
        output_field=DateTimeField(),
    )
    return list(
        Stream.objects.filter(status=StreamStatus.ACTIVE, site__region_id=region_id, company_id__in=_counted())
        .order_by()
        .annotate(bucket=bucket).values("direction", "bucket")
        .annotate(streams=Count("pk"), companies=Count("company", distinct=True))
    )


def map_cells(region_id: int) -> tuple[list[dict], list[dict]]:
    """Sites and active streams of one region, aggregated to grid cells of CELL_DEGREES."""
    sites = (
        Site.objects.filter(region_id=region_id, company_id__in=_counted()).order_by()
        .annotate(cy=Floor(F("latitude") / CELL_DEGREES), cx=Floor(F("longitude") / CELL_DEGREES))
        .values("cy", "cx").annotate(sites=Count("pk"), companies=Count("company", distinct=True))
    )
    offer, need = Q(direction=Direction.OFFER), Q(direction=Direction.NEED)
    streams = (
        Stream.objects.filter(status=StreamStatus.ACTIVE, site__region_id=region_id, company_id__in=_counted())
        .order_by()
        .annotate(cy=Floor(F("site__latitude") / CELL_DEGREES), cx=Floor(F("site__longitude") / CELL_DEGREES))
        .values("cy", "cx")
        .annotate(
            offers=Count("pk", filter=offer), offer_companies=Count("company", distinct=True, filter=offer),
            needs=Count("pk", filter=need), need_companies=Count("company", distinct=True, filter=need),
        )
    )
    return list(sites), list(streams)


# --- Matches ----------------------------------------------------------------------------------------

def _sides(base: QuerySet, region_ids, fields: dict) -> list[QuerySet]:
    """One queryset per way a match can belong to a region, each giving the same columns:
    rid, mid, src, tgt, then `fields` (group keys and measures)."""
    paths = (
        (Q(offer__isnull=False), "offer__site__region_id"),
        (Q(need__isnull=False), "need__site__region_id"),
    )
    parts = []
    for condition, path in paths:
        qs = (
            base.filter(condition, source_company_id__in=_counted(), target_company_id__in=_counted())
            .order_by().annotate(rid=F(path)).filter(rid__in=list(region_ids))
            .values("rid", mid=F("pk"), src=F("source_company_id"), tgt=F("target_company_id"), **fields)
        )
        parts.append(qs)
    return parts


def match_aggregate(base: QuerySet, region_ids, *, groups: dict | None = None,
                    sums: dict | None = None) -> list[dict]:
    """Matches of `base` per region (and per `groups` keys): count, distinct companies over both
    sides, and the sums of `sums`. One statement; a match in a region counts once there."""
    groups, sums = groups or {}, sums or {}
    # Aliases get a prefix: an annotation may not take a model field's name ("status", "co2e_t").
    groups = {f"g_{k}": v for k, v in groups.items()}
    sums = {f"s_{k}": v for k, v in sums.items()}
    parts = _sides(base, region_ids, {**groups, **sums})
    compiled = [_compiled(p) for p in parts]
    union = " UNION ".join(sql for sql, _ in compiled)
    params = [p for _, ps in compiled for p in ps]
    keys = ["rid", *groups]
    key_list = ", ".join(keys)
    sum_list = "".join(f", SUM({s})" for s in sums)
    join_on = " AND ".join(f"a.{k} = c.{k}" for k in keys)
    statement = (
        f"WITH mr AS ({union}) "  # noqa: S608 (ORM-compiled SQL and fixed identifiers; values are bound)
        f"SELECT a.*, c.companies FROM "
        f"(SELECT {key_list}, COUNT(*) AS n{sum_list} FROM mr GROUP BY {key_list}) a JOIN "
        f"(SELECT {key_list}, COUNT(DISTINCT cid) AS companies FROM "
        f"(SELECT {key_list}, src AS cid FROM mr UNION ALL SELECT {key_list}, tgt AS cid FROM mr) x "
        f"GROUP BY {key_list}) c ON {join_on}"
    )
    out = []
    for row in _run(statement, params):
        item = {k.removeprefix("g_"): v for k, v in zip(keys, row[: len(keys)], strict=True)}
        item["matches"] = row[len(keys)]
        for i, name in enumerate(sums):
            item[name.removeprefix("s_")] = float(row[len(keys) + 1 + i] or 0.0)
        item["companies"] = row[-1]
        item["region_id"] = item.pop("rid")
        out.append(item)
    return out


def best_open_suggestions() -> QuerySet:
    """Open, non-prospective matches, one per offer (its best-scoring; ties to the lower id): the
    estimated impact counts each offer once, however many needs it was suggested for. Written as
    NOT EXISTS a better one, so it is evaluated only for the matches of the regions asked for."""
    candidates = Match.objects.filter(
        status__in=OPEN, prospective=False, offer__isnull=False, need__isnull=False,
    )
    better = candidates.filter(offer_id=OuterRef("offer_id")).filter(
        Q(score__gt=OuterRef("score")) | Q(score=OuterRef("score"), pk__lt=OuterRef("pk"))
    )
    return candidates.filter(~Exists(better))


IMPACT_SUMS_ESTIMATED = {
    "eur": F("eur_provider") + F("eur_receiver"),
    "co2e_t": F("co2e_t"),
    "diverted_t": F("diverted_t"),
    "water_m3": Case(When(unit="m3", then=F("exchangeable_yearly")), default=Value(0.0), output_field=FloatField()),
    "energy_mwh": Case(When(unit="MWh", then=F("exchangeable_yearly")), default=Value(0.0),
                       output_field=FloatField()),
}
IMPACT_SUMS_REALISED = {
    "eur": F("realised__eur_provider") + F("realised__eur_receiver"),
    "co2e_t": F("realised__co2e_t"),
    "diverted_t": F("realised__diverted_t"),
    "water_m3": F("realised__water_m3"),
    "energy_mwh": F("realised__energy_mwh"),
}


def funnel(region_ids) -> tuple[list[dict], list[dict]]:
    """Matches by region and status, and all matches by region."""
    base = Match.objects.all()
    return (
        match_aggregate(base, region_ids, groups={"status": F("status")}),
        match_aggregate(base, region_ids),
    )


def impact(region_ids) -> tuple[list[dict], list[dict]]:
    """Estimated impact of the open suggestions (best per offer) and realised impact of implemented
    exchanges with a recorded RealisedExchange, by region."""
    estimated = match_aggregate(best_open_suggestions(), region_ids, sums=IMPACT_SUMS_ESTIMATED)
    realised = match_aggregate(
        Match.objects.filter(status=MatchStatus.IMPLEMENTED, realised__isnull=False), region_ids,
        sums=IMPACT_SUMS_REALISED,
    )
    return estimated, realised


def match_trends(region_id: int, start: datetime, start_date: date) -> tuple[list[dict], list[dict]]:
    """Matches of one region by month created, and realised exchanges by month started."""
    created = Case(
        When(created_at__lt=start, then=Value(EARLIER)), default=TruncMonth("created_at"),
        output_field=DateTimeField(),
    )
    started = Case(
        When(realised__started_on__lt=start_date, then=Value(EARLIER_DATE)),
        default=TruncMonth("realised__started_on"), output_field=DateField(),
    )
    return (
        match_aggregate(Match.objects.all(), [region_id], groups={"bucket": created}),
        match_aggregate(
            Match.objects.filter(status=MatchStatus.IMPLEMENTED, realised__isnull=False), [region_id],
            groups={"bucket": started},
        ),
    )


def flows(region_id: int) -> list[dict]:
    """Live matches between listed streams that touch the region, by (provider region, receiver region)."""
    base = Match.objects.filter(offer__isnull=False, need__isnull=False).exclude(status__in=CLOSED)
    return match_aggregate(
        base, [region_id], groups={"pa": F("offer__site__region_id"), "pb": F("need__site__region_id")},
    )


# --- Sector screening -------------------------------------------------------------------------------

def unmatched_ewc_codes(region_id: int) -> list[tuple[str, int, str]]:
    """(direction, category id, EWC code) of the region's active unmatched streams."""
    through = Stream.ewc_codes.through
    streams = (
        Stream.objects.filter(status=StreamStatus.ACTIVE, site__region_id=region_id, company_id__in=_counted())
        .annotate(matched=_matched_expression()).filter(matched=0).values("pk")
    )
    return list(
        through.objects.filter(stream_id__in=streams).order_by()
        .values_list("stream__direction", "stream__category_id", "ewccode__code").distinct()
    )


def companies_by_division(region_ids, divisions) -> list[dict]:
    """Distinct companies per (region, NACE division) for the given divisions."""
    q = Q()
    for division in divisions:
        q |= Q(company__nace__code__startswith=f"{division}.")
    if not divisions:
        return []
    from django.db.models.functions import Substr

    return list(
        Site.objects.filter(q, region_id__in=region_ids, company_id__in=_counted()).order_by()
        .annotate(division=Substr("company__nace__code", 1, 2))
        .values("region_id", "division").annotate(companies=Count("company", distinct=True))
    )
