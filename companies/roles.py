"""What a user is allowed to act as: company memberships, region roles, staff.

Computed once per user object and cached on it, so every `visible_to(user)` of one request shares
two small queries instead of repeating them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from companies.choices import MembershipRole, RegionRoleKind

_CACHE_ATTR = "_symbiosis_roles"


@dataclass(frozen=True)
class Roles:
    authenticated: bool = False
    is_staff: bool = False
    company_ids: frozenset[int] = field(default_factory=frozenset)
    admin_company_ids: frozenset[int] = field(default_factory=frozenset)
    facilitator_region_ids: frozenset[int] = field(default_factory=frozenset)
    authority_region_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_facilitator(self) -> bool:
        return bool(self.facilitator_region_ids)

    @property
    def is_authority(self) -> bool:
        return bool(self.authority_region_ids)


ANONYMOUS = Roles()


def roles_for(user) -> Roles:
    """Return the (cached) roles of `user`; anonymous and inactive users get no roles."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    # Through the user's reverse relations (Membership.user, RegionRole.user): companies.models uses
    # roles_for, so this module does not import the models.
    memberships = list(user.memberships.values_list("company_id", "role"))
    region_roles = list(user.region_roles.values_list("region_id", "role"))
    roles = Roles(
        authenticated=True,
        is_staff=bool(user.is_staff),
        company_ids=frozenset(c for c, _ in memberships),
        admin_company_ids=frozenset(c for c, r in memberships if r == MembershipRole.ADMIN),
        facilitator_region_ids=frozenset(r for r, k in region_roles if k == RegionRoleKind.FACILITATOR),
        authority_region_ids=frozenset(r for r, k in region_roles if k == RegionRoleKind.AUTHORITY),
    )
    setattr(user, _CACHE_ATTR, roles)
    return roles


def forget_roles(user) -> None:
    """Drop the cached roles, after a membership or region role of `user` changed."""
    if user is not None and hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)
