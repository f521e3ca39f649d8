"""Reads for companies and sites; every one starts from `visible_to(user)`."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Q, QuerySet

from companies.filtersets import CompanyFilterSet, SiteFilterSet
from companies.models import Company, CompetitorExclusion, Site
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
