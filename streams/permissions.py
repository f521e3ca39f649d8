"""Who may change a stream and who may see its identity and confidential fields.

Confidential fields (price, disposal cost, composition, contaminants, exact site) are for the owning
company, facilitators of the stream's region and staff. The double opt-in of the facilitation issue
will widen this for introduced partners, here and nowhere else.
"""

from __future__ import annotations

from django.db.models import Q

from companies.roles import roles_for


def can_edit_stream(user, stream) -> bool:
    roles = roles_for(user)
    if not roles.authenticated:
        return False
    return (
        roles.is_staff
        or stream.company_id in roles.company_ids
        or stream.site.region_id in roles.facilitator_region_ids
    )


def can_see_confidential(user, stream) -> bool:
    return can_edit_stream(user, stream)


def can_see_identity(user, stream) -> bool:
    from streams.choices import Visibility

    return stream.visibility == Visibility.PUBLIC or can_see_confidential(user, stream)


def confidential_q(user) -> Q:
    """The database twin of `can_see_confidential`: streams whose company, confidential fields and
    import reference `user` may see. Filters on those (company, reference) apply only within it, so a
    filter cannot name the company behind an anonymous listing or match a hidden reference."""
    roles = roles_for(user)
    if not roles.authenticated:
        return Q(pk__in=[])
    if roles.is_staff:
        return Q()
    q = Q(company_id__in=roles.company_ids)
    if roles.facilitator_region_ids:
        q |= Q(site__region_id__in=roles.facilitator_region_ids)
    return q


def identity_q(user) -> Q:
    """The database twin of `can_see_identity`: streams whose company `user` may be told."""
    from streams.choices import Visibility

    return Q(visibility=Visibility.PUBLIC) | confidential_q(user)


def can_import_sheets(user) -> bool:
    """The workshop import page: facilitators (for their regions) and staff."""
    roles = roles_for(user)
    return roles.is_facilitator or roles.is_staff
