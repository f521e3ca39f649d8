"""Reads for companies and sites; every one starts from `visible_to(user)`."""

from __future__ import annotations

from django.db.models import QuerySet

from companies.filtersets import CompanyFilterSet, SiteFilterSet
from companies.models import Company, Site
from companies.roles import roles_for


def company_list(*, user, filters=None) -> QuerySet[Company]:
    qs = Company.objects.visible_to(user).select_related("nace")
    return CompanyFilterSet(filters or {}, queryset=qs).qs


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
