"""Reads for matches and matching runs: start from `visible_to(user)`, then the FilterSet.

Every row carries what `matching.presentation.MatchView` needs (both streams with their sites,
regions and categories, both companies with their sector and, for prospective sides, their sites), so
that pages and serializers run a fixed number of queries however many matches they show.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    Window,
)
from django.db.models.functions import RowNumber

from companies.models import Site
from companies.roles import roles_for
from core.pagination import IdsFirst as BaseIdsFirst
from matching import disclosure_sql
from matching.choices import MatchStatus, RunKind
from matching.explain import explained
from matching.filtersets import MatchFilterSet, MatchingRunFilterSet
from matching.forms import DEFAULT_MATCH_ORDERING, ordering_terms
from matching.models import PART_FIELDS, Match, MatchingRun, MatchRegion, private_elsewhere_q
from matching.permissions import can_run_matching
from streams.choices import StreamStatus
from streams.models import Stream

_STREAM_RELATED = ("site", "site__region", "category")
MATCH_RELATED = (
    "offer", *(f"offer__{r}" for r in _STREAM_RELATED),
    "need", *(f"need__{r}" for r in _STREAM_RELATED),
    "source_company", "source_company__nace", "target_company", "target_company__nace",
)
# How many matches each of an SME's streams shows on "Suggested partners" before "show all".
TOP_PER_STREAM = 5
# With one stream chosen, its matches are all shown up to this many (the API pages through all).
ONE_STREAM_LIMIT = 100


def _load_matches(ids) -> QuerySet[Match]:
    # Visible by construction: the ids come from a scoped, filtered query.
    return match_queryset_unscoped(Match.objects.filter(pk__in=ids))


class IdsFirst(BaseIdsFirst):
    """`core.pagination.IdsFirst` for a queryset from `match_queryset`: a page's rows are loaded
    by primary key with everything their presentation needs."""

    def __init__(self, qs: QuerySet[Match]):
        super().__init__(qs, load=_load_matches)


# Filters the region index can answer; any other filter with a value sends a list the general way.
_REGION_INDEX_FILTERS = frozenset({"region", "min_score", "status", "ordering"})


def region_list_region(*, user, cleaned: dict) -> int | None:
    """The region whose matches make up `user`'s match list under the validated filters `cleaned`,
    when the list can be read from the region index (`MatchRegion`); otherwise None.

    That is a facilitator of exactly one region X with no company of their own, not staff, listing
    best score first with at most a minimum score, statuses and the region filter X. Then the list is
    exactly the index's rows of X less `private_elsewhere_q([X])`: `visible_to` gives such a user
    `in_regions_q([X])` less the same, and `in_regions_q([X])` is what
    the index holds, and both the region filter X and the review queue's scope (`whole_match_q`, the
    same condition with prospective sources) contain it, so they remove nothing. Any other user,
    filter or order (several regions, a company member, staff, another region's filter) takes the
    general query. PostgreSQL only: elsewhere the index is empty."""
    if connection.vendor != "postgresql":
        return None
    roles = roles_for(user)
    if not roles.authenticated or roles.is_staff or roles.company_ids or len(roles.facilitator_region_ids) != 1:
        return None
    (region_id,) = roles.facilitator_region_ids
    chosen = cleaned.get("region")
    if chosen is not None and chosen.pk != region_id:
        return None
    if any(value not in (None, "", [], ()) for name, value in cleaned.items() if name not in _REGION_INDEX_FILTERS):
        return None
    if ordering_terms(cleaned.get("ordering")) != [*DEFAULT_MATCH_ORDERING, "pk"]:
        return None
    return region_id


def match_pages(qs: QuerySet[Match], *, user, filterset: MatchFilterSet) -> BaseIdsFirst:
    """What a paginator pages through for the filtered match list `qs`: the matches `user` may see
    (`visible_to`, or the review queue's narrower `visible_to` and `whole_match_q`) under `filterset`'s
    filters, i.e. `filterset.qs` or the API's filtered queryset. A facilitator's region list best
    score first comes from the region index (one index-only range scan for the count and the first
    ids; see `region_list_region` for when), any other list from `qs` itself."""
    region_id = region_list_region(user=user, cleaned=filterset.form.cleaned_data) if filterset.is_valid() else None
    if region_id is None:
        return IdsFirst(qs)
    cleaned = filterset.form.cleaned_data
    # `visible_to`'s exception for private listings elsewhere. The index flags the rows with a private
    # side outside the region (`private_elsewhere`, whatever the answer; a partial index holds them);
    # only those (some 800 of 39,000 at 100k streams) are looked up in the match table, by primary key
    # with their sides (`joined`), and the few hidden ones left out through a hashed NOT IN: the list
    # stays one index-only scan. A condition tested on every row instead (NOT (flag AND EXISTS ...))
    # is costed by the planner as if the subquery ran for every row, which switches JIT on (a second
    # per query at 100k streams; docs/matching.md).
    hidden = MatchRegion.objects.filter(
        Exists(Match.objects.filter(private_elsewhere_q([region_id], joined=True), pk=OuterRef("match_id"))),
        region_id=region_id, private_elsewhere=True,
    ).values("match_id")
    rows = MatchRegion.objects.filter(region_id=region_id).exclude(match_id__in=hidden)
    if cleaned.get("min_score") is not None:
        rows = rows.filter(score__gte=cleaned["min_score"])
    if cleaned.get("status"):
        rows = rows.filter(status__in=cleaned["status"])
    return BaseIdsFirst(rows.order_by("-score", "match_id"), load=_load_matches, id_field="match_id")


def _sites():
    return Site.objects.select_related("region").order_by("pk")


def match_queryset_unscoped(qs: QuerySet[Match] | None = None) -> QuerySet[Match]:
    """`qs` (all matches by default) with everything their presentation needs. Callers scope it."""
    return (
        explained(Match.objects.all() if qs is None else qs)
        .select_related(*MATCH_RELATED)
        .prefetch_related(
            Prefetch("source_company__sites", queryset=_sites()),
            Prefetch("target_company__sites", queryset=_sites()),
        )
    )


def match_queryset(*, user) -> QuerySet[Match]:
    """The matches `user` may see, with everything their presentation needs."""
    return match_queryset_unscoped(Match.objects.visible_to(user))


def match_list(*, user, filters=None) -> MatchFilterSet:
    """The filterset over the matches `user` may see; `.qs` is the ordered list, `.form` the form."""
    return MatchFilterSet(filters or {}, queryset=match_queryset(user=user), user=user)


def stream_matches(*, user, stream: Stream, filters=None) -> MatchFilterSet:
    """Matches of one stream (as offer or need) that `user` may see. The caller has already checked
    that the stream itself is visible (404 otherwise)."""
    qs = match_queryset(user=user).filter(Q(offer=stream) | Q(need=stream))
    return MatchFilterSet(filters or {}, queryset=qs, user=user)


@dataclass
class PartnerGroup:
    """One of the viewer's own streams with its best matches (`stream` is None for prospective
    suggestions made to the company itself, which have no stream on its side)."""

    stream: Stream | None
    matches: list[Match] = field(default_factory=list)
    total: int = 0
    redundancy: object = None  # Redundancy, filled by the page

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.matches))


@dataclass
class SuggestedPartners:
    filterset: MatchFilterSet
    groups: list[PartnerGroup]
    streams: list[Stream]  # all of the viewer's companies' streams, for the stream filter


def partner_groups(*, user, filters=None) -> SuggestedPartners:
    """"Suggested partners" of an SME: its own streams, each with its top matches under the filters
    (all of them, up to a limit, when one stream is chosen). Without filters every active stream of
    the company is listed, also those without matches yet."""
    filters = filters or {}
    filterset = match_list(user=user, filters=filters)
    company_ids = roles_for(user).company_ids
    qs = filterset.qs.filter(Q(source_company_id__in=company_ids) | Q(target_company_id__in=company_ids))
    cleaned = filterset.form.cleaned_data  # validated by `.qs`; invalid filters are left out
    own_stream = Case(When(source_company_id__in=company_ids, then=F("offer_id")), default=F("need_id"))
    terms = disclosure_sql.ordering(user, ordering_terms(cleaned.get("ordering")))
    limit = ONE_STREAM_LIMIT if cleaned.get("stream") else TOP_PER_STREAM
    rows = list(
        qs.annotate(
            own_stream_id=own_stream,
            rank=Window(RowNumber(), partition_by=[own_stream], order_by=terms),
            stream_total=Window(Count("pk"), partition_by=[own_stream]),
        )
        .filter(rank__lte=limit)
        .order_by(*terms)
    )
    streams = list(
        Stream.objects.filter(company_id__in=company_ids).select_related("category").order_by("title", "pk")
    )
    unfiltered = not any(v for k, v in filters.items() if k not in ("ordering", "page"))
    wanted = {r.own_stream_id for r in rows}
    groups = {
        s.pk: PartnerGroup(stream=s)
        for s in streams
        if s.pk in wanted or (unfiltered and s.status == StreamStatus.ACTIVE)
    }
    for row in rows:
        group = groups.get(row.own_stream_id)
        if group is None:  # prospective suggestions to the company itself
            group = groups.setdefault(None, PartnerGroup(stream=None))
        group.matches.append(row)
        group.total = row.stream_total
    return SuggestedPartners(filterset=filterset, groups=list(groups.values()), streams=streams)


def run_list(*, user, filters=None) -> QuerySet[MatchingRun]:
    """Runs `user` may follow: staff all; facilitators the runs they started and every full run;
    everyone else none."""
    qs = MatchingRun.objects.select_related("stream", "requested_by")
    roles = roles_for(user)
    if not can_run_matching(user):
        qs = qs.none()
    elif not roles.is_staff:
        qs = qs.filter(Q(requested_by=user) | Q(kind=RunKind.FULL))
    return MatchingRunFilterSet(filters or {}, queryset=qs).qs


# --- Export -----------------------------------------------------------------------------------------

EXPORT_KEYS = (
    "offer_id", "offer_ref", "need_id", "need_ref", "source_company_id", "source_company_ref",
    "target_company_id", "target_company_ref", "rank", "score", "parts", "prospective", "distance_km", "impact",
)
_EXPORT_IMPACT_COLUMNS = ("exchangeable_yearly", "unit", "co2e_t", "diverted_t", "eur_provider", "eur_receiver")
_EXPORT_IMPACT_KEYS = ("quantity_yearly", "unit", "co2e_t", "diverted_t", "eur_provider", "eur_receiver")


def match_export_rows():
    """Every match, for operators (`manage.py export_matches`; no user scope): a dict per match with the
    keys of EXPORT_KEYS, its rank within the offer (or within the need for need-anchored prospects)."""
    anchor_is_need = Case(When(offer_id__isnull=True, then=F("need_id")), default=Value(0), output_field=IntegerField())
    qs = (
        Match.objects.annotate(
            rank=Window(RowNumber(), partition_by=[F("offer_id"), anchor_is_need], order_by=[F("score").desc(), F("pk")])
        )
        .values_list(
            "offer_id", "offer__external_ref", "need_id", "need__external_ref", "source_company_id",
            "source_company__external_ref", "target_company_id", "target_company__external_ref", "rank", "score",
            *PART_FIELDS.values(), "prospective", "distance_km", *_EXPORT_IMPACT_COLUMNS,
        )
        .order_by("offer_id", "need_id", "rank")
    )
    head = EXPORT_KEYS[:EXPORT_KEYS.index("parts")]  # the columns before the parts, read as they are
    p = len(head)
    tail = EXPORT_KEYS[p + 1:-1]  # prospective, distance_km
    q = p + len(PART_FIELDS)
    for row in qs.iterator(chunk_size=5000):
        out = dict(zip(head, row[:p], strict=True))
        out["parts"] = dict(zip(PART_FIELDS, row[p:q], strict=True))
        out.update(zip(tail, row[q:q + len(tail)], strict=True))
        # Impact figures from the row's columns (full runs store numbers only; see matching/explain.py).
        out["impact"] = dict(zip(_EXPORT_IMPACT_KEYS, row[q + len(tail):], strict=True))
        yield out


# --- Alternative partners of a stream ------------------------------------------------------------

# A partner counts as a viable alternative from this score on (assumption: the "worth a look" band).
VIABLE_SCORE = 0.3
# "2-3 partners on either end": fewer live partners than this for a stream earns the nudge.
RECOMMENDED_PARTNERS = 2


@dataclass(frozen=True)
class Redundancy:
    alternatives: int  # viable partner companies the stream has among its live matches
    committed: int  # partner companies it is negotiating with or exchanging with

    @property
    def nudge(self) -> bool:
        return self.committed == 1 and self.alternatives < RECOMMENDED_PARTNERS + 1


def stream_redundancy(stream_ids) -> dict[int, Redundancy]:
    """Per stream: how many distinct partner companies are viable alternatives, and how many it
    already depends on. One query for any number of streams."""
    ids = list(stream_ids)
    if not ids:
        return {}
    live = Match.objects.active().filter(score__gte=VIABLE_SCORE)
    committed = Q(status__in=(MatchStatus.NEGOTIATING, MatchStatus.IMPLEMENTED))
    out = {}
    for side, partner in (("offer_id", "target_company"), ("need_id", "source_company")):
        rows = (
            live.filter(**{f"{side}__in": ids}).values(side)
            .annotate(n=Count(partner, distinct=True), c=Count(partner, distinct=True, filter=committed))
        )
        for r in rows:
            out[r[side]] = Redundancy(alternatives=r["n"], committed=r["c"])
    return out
