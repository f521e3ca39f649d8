"""Who may change what: predicates shared by pages and the API, plus DRF permission classes."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from companies.roles import roles_for


def can_edit_company(user, company) -> bool:
    """Staff, the company's admins, and facilitators of a region where it has a site (or who entered it
    and it has no site yet: they add the first one)."""
    roles = roles_for(user)
    if not roles.authenticated:
        return False
    if roles.is_staff or company.pk in roles.admin_company_ids:
        return True
    if roles.facilitator_region_ids:
        if company.entered_by_facilitator and company.entered_by_id == user.pk and not company.sites.exists():
            return True
        return company.sites.filter(region_id__in=roles.facilitator_region_ids).exists()
    return False


def can_act_for_company(user, company) -> bool:
    """May list and edit streams for `company`: any member, facilitators of its regions, staff."""
    roles = roles_for(user)
    if not roles.authenticated:
        return False
    if roles.is_staff or company.pk in roles.company_ids:
        return True
    if roles.facilitator_region_ids:
        return company.sites.filter(region_id__in=roles.facilitator_region_ids).exists()
    return False


def can_verify_company(user, company) -> bool:
    """May vouch that `company` is real (`company_verify`) or undo it: staff, and facilitators of a
    region where it has a site. Never its members as such, nor authorities: a company must not lift
    itself into the statistics."""
    roles = roles_for(user)
    if not roles.authenticated:
        return False
    if roles.is_staff:
        return True
    if roles.facilitator_region_ids:
        return company.sites.filter(region_id__in=roles.facilitator_region_ids).exists()
    return False


def can_manage_exclusions(user, company) -> bool:
    """Who a company hides from is itself confidential: its admins and staff only."""
    roles = roles_for(user)
    return roles.authenticated and (roles.is_staff or company.pk in roles.admin_company_ids)


class ObjectEditPermission(BasePermission):
    """Reads follow the view's visible queryset (invisible is 404); writes need `can_edit(user, obj)`."""

    message = "You can see this object but not change it."

    def __init__(self, predicate):
        self.predicate = predicate

    def __call__(self):
        return self

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        if request.method in SAFE_METHODS:
            return True
        return self.predicate(request.user, obj)
