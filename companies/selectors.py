"""Reads for companies and sites; every one starts from `visible_to(user)`."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from companies.filtersets import CompanyFilterSet, SiteFilterSet
from companies.models import Company, CompetitorExclusion, NaceCode, Site
from companies.roles import roles_for


def company_list(*, user, filters=None) -> QuerySet[Company]:
    qs = Company.objects.visible_to(user).select_related("nace")
    return CompanyFilterSet(filters or {}, queryset=qs, user=user).qs


def company_filterset(*, user, filters=None) -> CompanyFilterSet:
    """The company list page's FilterSet (its form and `.qs`): the same rules as `company_list`."""
    qs = Company.objects.visible_to(user).select_related("nace")
    return CompanyFilterSet(filters or {}, queryset=qs, user=user)


def verifiable_company_ids(*, user, company_ids) -> set[int]:
    """Which of `company_ids` `user` may verify (`can_verify_company`), in one query at most: for a
    list that shows their verification state only to those."""
    roles = roles_for(user)
    ids = set(company_ids)
    if roles.is_staff:
        return ids
    if not roles.facilitator_region_ids or not ids:
        return set()
    return set(Site.objects.filter(company_id__in=ids, region_id__in=roles.facilitator_region_ids)
               .values_list("company_id", flat=True).distinct())


def site_list(*, user, filters=None) -> QuerySet[Site]:
    qs = Site.objects.visible_to(user).select_related("region", "company")
    return SiteFilterSet(filters or {}, queryset=qs).qs


def companies_of(user) -> QuerySet[Company]:
    """Companies the user is a member of, for menus and forms."""
    return Company.objects.filter(pk__in=roles_for(user).company_ids).order_by("name")


def viewer_origin(user) -> tuple[float, float] | None:
    """Where distances are measured from for `user`: the first site of their first company."""
    ids = roles_for(user).company_ids
    if not ids:
        return None
    site = Site.objects.filter(company_id__in=ids).order_by("company__name", "pk").values_list(
        "latitude", "longitude"
    ).first()
    return tuple(site) if site else None


# --- Competitor exclusion ----------------------------------------------------------------------------

def exclusion_list(*, company: Company, user) -> QuerySet[CompetitorExclusion]:
    """A company's exclusions (who it hides from), for its admins: callers check the permission.
    `excluded_company_visible` says whether `user` may see the picked company now: only then does an
    answer carry its id (an exclusion must not reveal anything about a company one cannot see)."""
    visible = Company.objects.visible_to(user).filter(pk=OuterRef("excluded_company_id"))
    return (CompetitorExclusion.objects.filter(company=company).select_related("excluded_nace")
            .annotate(excluded_company_visible=Exists(visible)))


def exclusion_between(a_id: int, b_id: int) -> bool:
    """Whether either company excludes the other (by id, name or NACE code): such a pair is not
    introduced, not revealed, and the excluded side hears nothing about it."""
    return CompetitorExclusion.objects.filter(
        Q(company_id=a_id, company_id__in=CompetitorExclusion.objects.hiding_from([b_id]))
        | Q(company_id=b_id, company_id__in=CompetitorExclusion.objects.hiding_from([a_id]))
    ).exists()


def excluded_viewer_company_ids(viewer_company_ids: Iterable[int]) -> set[int]:
    """Ids of the companies that exclude at least one of `viewer_company_ids` (by id, name or NACE
    code), i.e. whose listings those viewers must not see. `Stream`/`Company.visible_to` use the same
    rule as a subquery (`CompetitorExclusion.objects.hiding_from`)."""
    ids = list(viewer_company_ids)
    if not ids:
        return set()
    return {row["company_id"] for row in CompetitorExclusion.objects.hiding_from(ids)}


def _in_list(column: str, ids: list[int]) -> tuple[str, list[int]]:
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", ids


def excluded_company_pairs(company_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """Unordered pairs `(min_id, max_id)` of companies that must never be matched with each other.

    A pair is in the set when either company excludes the other by a NACE code equal to or above
    the other's code (division "10" and group "10.5" cover class "10.51"): the sector is always
    shown, so refusing the pair reveals nothing. Exclusions of a company (picked or by name) are not
    here: the engine matches those pairs and `Match.objects.visible_to` hides them from the excluded
    company (dropping them would make the excluder's anonymous suggestions vanish, naming the company
    behind them). With `company_ids`, only pairs with at least one side in it are returned (the
    one-stream run passes its company). One query whatever the size: the NACE exclusions expanded to
    concrete companies by one join in the database.
    """
    ids = None if company_ids is None else sorted({int(i) for i in company_ids})
    if ids == []:
        return set()
    pairs: set[tuple[int, int]] = set()
    exclusion, nace, company = (m._meta.db_table for m in (CompetitorExclusion, NaceCode, Company))
    # Table names come from _meta; every value is a parameter.
    sql = (
        f"SELECT e.company_id, c.id FROM {exclusion} e "  # noqa: S608
        f"JOIN {nace} n ON n.id = e.excluded_nace_id "
        f"JOIN {nace} cn ON cn.revision = n.revision AND cn.code LIKE n.code || '%%' "
        f"JOIN {company} c ON c.nace_id = cn.id "
        f"WHERE c.id <> e.company_id"
    )
    params: list[int] = []
    if ids is not None:
        left, p1 = _in_list("e.company_id", ids)
        right, p2 = _in_list("c.id", ids)
        sql += f" AND ({left} OR {right})"
        params = p1 + p2
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pairs.update((min(a, b), max(a, b)) for a, b in cursor.fetchall())
    return pairs
