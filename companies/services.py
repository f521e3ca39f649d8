"""Writes for companies, sites and memberships. Atomic, validated with full_clean() before saving."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from companies.choices import MembershipRole
from companies.models import Company, CompetitorExclusion, Membership, Region, Site, company_name_key
from companies.reference import nearest_region, resolve_nace
from companies.roles import forget_roles, roles_for

# Not external_ref: the import key is set only by an import, with its scope (company_create's
# `import_key`), never by the company itself (security review #18).
COMPANY_FIELDS = ("name", "country", "employees", "description", "website")
SITE_FIELDS = ("name", "address", "latitude", "longitude")


def _apply_nace(company: Company, nace_code: str | None) -> None:
    if nace_code is None:
        return
    nace, message = resolve_nace(str(nace_code))
    if nace is None:
        raise ValidationError({"nace_code": message})
    company.nace = nace
    company.nace_as_entered = str(nace_code).strip()


@transaction.atomic
def company_create(*, actor, name: str, nace_code: str, country: str,
                   entered_by_facilitator: bool | None = None, import_key: tuple[str, str] | None = None,
                   **data) -> Company:
    """Register a company. A member creating it becomes its admin; a facilitator enters it on
    behalf of an SME (marked as such) without becoming a member. `entered_by_facilitator`
    overrides the mark (an import run by staff is not a facilitator's entry). A company a
    facilitator enters is verified by that entry (`verified_at`); a self-registered one waits for
    `company_verify`. `import_key` is (import_scope, company_ref), given only by the importer
    (streams/importing/)."""
    roles = roles_for(actor)
    on_behalf = bool(data.pop("on_behalf", False)) or (roles.is_facilitator and not data.pop("join", False))
    if entered_by_facilitator is None:
        entered_by_facilitator = on_behalf
    company = Company(
        name=name, country=country, entered_by=actor if roles.authenticated else None,
        entered_by_facilitator=entered_by_facilitator,
        verified_at=timezone.now() if entered_by_facilitator else None,
        verified_by=actor if entered_by_facilitator and roles.authenticated else None,
    )
    for key in COMPANY_FIELDS:
        if key in data:
            setattr(company, key, data[key])
    if import_key is not None:
        company.import_scope, company.external_ref = import_key
    _apply_nace(company, nace_code)
    company.full_clean()
    company.save()
    if not on_behalf:
        Membership.objects.create(user=actor, company=company, role=MembershipRole.ADMIN)
        forget_roles(actor)
    return company


@transaction.atomic
def company_verify(*, company: Company, actor) -> Company:
    """A facilitator or staff member vouches for `company`: they checked that it is a real company
    (it counts in its regions' statistics once verified for DASHBOARD_MIN_COMPANY_AGE_DAYS). Callers
    check the permission (`can_verify_company`). Idempotent: the first verification's time and
    verifier are kept, since dashboards count from it; only a change is audited (`company.verify`)."""
    now = timezone.now()
    verifier = actor if roles_for(actor).authenticated else None
    # A conditional update: of two verifications at once, one sets the time and records the event.
    claimed = Company.objects.filter(pk=company.pk, verified_at__isnull=True).update(
        verified_at=now, verified_by=verifier, updated_at=now)
    if claimed:
        audit_record(action="company.verify", actor=verifier, obj=company, verified_at=now.isoformat())
    company.refresh_from_db(fields=["verified_at", "verified_by", "updated_at"])
    return company


@transaction.atomic
def company_unverify(*, company: Company, actor) -> Company:
    """Undo a verification: the company leaves every dashboard figure (at its next publication), and
    a later verification starts its waiting time again. Idempotent; only a change is audited
    (`company.unverify`, with the verification it undid)."""
    row = Company.objects.select_for_update().filter(pk=company.pk).values("verified_at", "verified_by_id").first()
    if row and row["verified_at"] is not None:
        Company.objects.filter(pk=company.pk).update(verified_at=None, verified_by=None, updated_at=timezone.now())
        audit_record(action="company.unverify", actor=actor if roles_for(actor).authenticated else None,
                     obj=company, was_verified_at=row["verified_at"].isoformat(),
                     was_verified_by=row["verified_by_id"])
    company.refresh_from_db(fields=["verified_at", "verified_by", "updated_at"])
    return company


@transaction.atomic
def company_update(*, company: Company, actor, nace_code: str | None = None, **data) -> Company:
    for key in COMPANY_FIELDS:
        if key in data:
            setattr(company, key, data[key])
    _apply_nace(company, nace_code)
    company.full_clean()
    company.save()
    return company


def _resolve_region(region, latitude, longitude, country) -> Region:
    if isinstance(region, Region):
        return region
    if region:
        found = Region.objects.filter(code__iexact=str(region).strip()).first() or Region.objects.filter(
            name__iexact=str(region).strip()
        ).first()
        if found is None:
            raise ValidationError({"region": _("Unknown region “%(r)s”.") % {"r": region}})
        return found
    if latitude is None or longitude is None:
        raise ValidationError({"region": _("Give a region or the site's coordinates.")})
    found = nearest_region(float(latitude), float(longitude), country)
    if found is None:
        raise ValidationError({"region": _("No region is configured; ask staff to load regions.")})
    return found


@transaction.atomic
def site_create(*, company: Company, actor, name: str, latitude: float, longitude: float, region=None, **data) -> Site:
    """Add a site; without a region, the nearest region of the company's country is taken."""
    site = Site(company=company, name=name, latitude=latitude, longitude=longitude)
    for key in SITE_FIELDS:
        if key in data:
            setattr(site, key, data[key])
    site.full_clean(exclude=("region",))
    site.region = _resolve_region(region, latitude, longitude, company.country)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def site_update(*, site: Site, actor, region=None, **data) -> Site:
    for key in SITE_FIELDS:
        if key in data:
            setattr(site, key, data[key])
    if region is not None:
        site.region = _resolve_region(region, site.latitude, site.longitude, site.company.country)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def company_onboard(*, actor, company: dict, site: dict) -> tuple[Company, Site]:
    """Register a company together with its first site: both or neither."""
    new_company = company_create(actor=actor, **company)
    new_site = site_create(company=new_company, actor=actor, **site)
    return new_company, new_site


@transaction.atomic
def membership_add(*, company: Company, user, role: str = MembershipRole.MEMBER) -> Membership:
    membership, _created = Membership.objects.update_or_create(user=user, company=company, defaults={"role": role})
    forget_roles(user)
    return membership


@transaction.atomic
def exclusion_add(*, company: Company, actor, excluded_company: Company | None = None,
                  excluded_name: str | None = None, nace_code: str | None = None) -> CompetitorExclusion:
    """`company` hides from a company it can see (`excluded_company`, picked by the caller among
    `Company.objects.visible_to`), from whichever company has or will have the name `excluded_name`,
    or from every company under a NACE code (a division, group or class, either revision; Rev. 2 is
    mapped to Rev. 2.1). Exactly one of the three.

    A name is stored, not looked up: the answer is the same whether or not a company of that name is
    registered, so excluding by name tells nothing about who is on the platform."""
    name = " ".join(str(excluded_name or "").split())
    if sum((excluded_company is not None, bool(name), bool(nace_code))) != 1:
        raise ValidationError(_("Choose either a company or a NACE code."))
    exclusion = CompetitorExclusion(company=company, created_by=actor if roles_for(actor).authenticated else None)
    if excluded_company is not None:
        if excluded_company.pk == company.pk:
            raise ValidationError({"excluded_company": _("A company cannot exclude itself.")})
        exclusion.excluded_company = excluded_company
        exclusion.excluded_name = excluded_company.name
    elif name:
        key = company_name_key(name)
        if key == company_name_key(company.name):
            raise ValidationError({"excluded_name": _("A company cannot exclude itself.")})
        exclusion.excluded_name, exclusion.excluded_name_key = name, key
    else:
        found, message = resolve_nace(str(nace_code))
        if found is None:
            raise ValidationError({"nace_code": message})
        exclusion.excluded_nace = found
    try:
        exclusion.full_clean()
    except ValidationError as exc:
        if "__all__" in getattr(exc, "error_dict", {}):
            raise ValidationError(_("This exclusion is already listed.")) from None
        raise
    exclusion.save()
    return exclusion


@transaction.atomic
def exclusion_remove(*, exclusion: CompetitorExclusion, actor) -> None:
    exclusion.delete()
