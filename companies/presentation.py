"""What a viewer's reading of a company leaves behind: exact sites (address, coordinates) are
confidential, so showing them to anyone but the site's own company (a facilitator of its region or a
staff member, the only others `Site.visible_to` lets through) is an audited read (`confidential.read`)."""

from __future__ import annotations

from collections.abc import Iterable

from audit.context import note_confidential_read
from companies.roles import roles_for


def note_site_reads(user, sites: Iterable) -> None:
    """Record that this response shows `sites` exactly; the viewer's own companies' sites are not recorded."""
    own = roles_for(user).company_ids
    for site in sites:
        if site.company_id not in own:
            note_confidential_read("companies.site", site.pk)
