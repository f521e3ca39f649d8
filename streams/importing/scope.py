"""Whose keys an import finds: the importer's scope of company references."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from companies.constants import PLATFORM_SCOPE
from companies.models import Company, Region, Site
from companies.permissions import can_edit_company
from companies.roles import roles_for
from streams.models import Stream


def region_scope(region: Region) -> str:
    return f"region:{region.code}"


@dataclass(frozen=True)
class ImportScope:
    """Where an importer's company_refs live, and what an import may find at all (security review #18).

    A reference is the importer's own key, never one a company gave itself: only imports set
    Company.external_ref, together with its `import_scope`. A facilitator's references belong to the
    regions they facilitate (`region:SE22`, shared by that region's facilitators; a new company takes
    the region of its first site on the sheet); staff, the system (`import_streams` without --as) and
    anyone else share `platform`. A company_ref is looked up only in the importer's scopes and only
    among companies the importer may edit, their sites only among those the importer may see and
    their streams only among those the importer may edit. Everything else is treated as absent.
    """

    actor: object
    scopes: tuple[str, ...]
    by_region: bool  # a facilitator (not staff): new companies take their site's region scope

    @classmethod
    def of(cls, actor) -> ImportScope:
        roles = roles_for(actor)
        if roles.is_facilitator and not roles.is_staff:
            codes = Region.objects.filter(pk__in=roles.facilitator_region_ids).values_list("code", flat=True)
            return cls(actor, tuple(sorted(f"region:{code}" for code in codes)), True)
        return cls(actor, (PLATFORM_SCOPE,), False)

    def may_edit(self, company: Company) -> bool:
        return self.actor is None or can_edit_company(self.actor, company)

    def companies(self, refs: Iterable[str]):
        qs = Company.objects.filter(import_scope__in=self.scopes, external_ref__in=list(refs))
        if self.actor is not None:
            qs = qs.filter(pk__in=Company.objects.visible_to(self.actor).order_by().values("pk"))
        return [c for c in qs.select_related("nace").order_by("pk") if self.may_edit(c)]

    def sites(self):
        return Site.objects.visible_to(self.actor) if self.actor is not None else Site.objects.all()

    def streams(self):
        return Stream.objects.editable_by(self.actor) if self.actor is not None else Stream.objects.all()
