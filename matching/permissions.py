"""Who may see what of a match, and who may start matching runs.

Seeing a match at all is `Match.objects.visible_to(user)`. Within a visible match, facilitators of a
region the match touches and staff see everything (they work the review queue); a party sees its own
side fully and the counterpart as the confidentiality rules allow (see `matching/presentation.py`).
The double opt-in of the facilitation issue will widen the counterpart view here and nowhere else.
"""

from __future__ import annotations

from django.db.models import Q
from rest_framework.permissions import SAFE_METHODS, BasePermission

from companies.roles import roles_for
from matching.models import in_regions_q


def side_region_ids(stream, company) -> set[int]:
    """The regions of one side of a match: its stream's site, or every site of a prospective company
    (the side without a stream). Uses only prefetched data."""
    if stream is not None:
        return {stream.site.region_id}
    return {site.region_id for site in company.sites.all()}


def match_region_ids(match) -> set[int]:
    """Regions a match touches: the regions of both its sides (`side_region_ids`)."""
    return side_region_ids(match.offer, match.source_company) | side_region_ids(match.need, match.target_company)


def sees_whole_match(user, match) -> bool:
    """Staff, and facilitators of a region the match touches, see both parties' full data."""
    roles = roles_for(user)
    if not roles.authenticated:
        return False
    if roles.is_staff:
        return True
    return bool(roles.facilitator_region_ids & match_region_ids(match))


def whole_match_q(user) -> Q:
    """The database twin of `sees_whole_match`, for filters that must not reveal hidden names."""
    roles = roles_for(user)
    if roles.is_staff:
        return Q()
    ids = roles.facilitator_region_ids
    if not ids:
        return Q(pk__in=[])
    # The offer's or need's site, or a company's site on the side without a stream (no joins).
    return in_regions_q(ids, prospective_sources=True)


def can_run_matching(user) -> bool:
    """Staff and facilitators may start runs and follow their progress."""
    roles = roles_for(user)
    return roles.authenticated and (roles.is_staff or roles.is_facilitator)


class CanRunMatching(BasePermission):
    """Reads for every signed-in user (the list is filtered by `run_list`, other runs are 404);
    starting a run only for staff and facilitators."""

    message = "Only facilitators and staff can start matching runs."

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or can_run_matching(request.user)
