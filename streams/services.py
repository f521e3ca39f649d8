"""Writes for streams: create, update, change status. Atomic and validated before saving."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from audit.services import audit_record
from companies.models import Company, Site
from companies.roles import roles_for
from streams.choices import Direction, StreamKind, StreamStatus
from streams.ewc import normalise_ewc
from streams.models import STREAM_FIELDS, EwcCode, ResourceCategory, Stream, check_site
from streams.signals import send_stream_changed


def resolve_ewc_codes(codes: Iterable) -> list[EwcCode]:
    """EWC rows for codes given as '100102', '10 01 02' or '10 01 02*'; unknown codes are a field error."""
    wanted, objs = [], []
    for c in codes or ():
        if isinstance(c, EwcCode):
            objs.append(c)
        elif str(c).strip():
            wanted.append(normalise_ewc(c))
    if wanted:
        found = {e.code: e for e in EwcCode.objects.filter(code__in=wanted)}
        unknown = [c for c in wanted if c not in found]
        if unknown:
            raise ValidationError({"ewc_codes": _("Unknown EWC code(s): %(codes)s.") % {"codes": ", ".join(unknown)}})
        objs.extend(found[c] for c in dict.fromkeys(wanted))
    return objs


def resolve_category(category) -> ResourceCategory | None:
    if category is None or isinstance(category, ResourceCategory):
        return category
    value = str(category).strip()
    if not value:
        return None
    found = ResourceCategory.objects.filter(code__iexact=value).first() or ResourceCategory.objects.filter(
        name__iexact=value
    ).first()
    if found is None:
        raise ValidationError({"category": _("Unknown category “%(c)s”.") % {"c": value}})
    return found


def _default_site(company: Company) -> Site:
    site = company.sites.order_by("pk").first()
    if site is None:
        raise ValidationError({"site": _("Add a site for this company first.")})
    return site


def _apply(stream: Stream, data: dict, ewc: list[EwcCode] | None) -> None:
    for key in STREAM_FIELDS:
        if key in data:
            value = data[key]
            if value is None and key in ("description", "composition", "contaminants", "energy_carrier",
                                         "physical_form", "disposal_route"):
                value = ""
            setattr(stream, key, value)
    if "category" in data:
        stream.category = resolve_category(data["category"])
    if stream.category_id is None and ewc:
        # The EWC map decides the category when none is given.
        stream.category = ewc[0].category
    if not stream.kind and stream.category_id:
        stream.kind = stream.category.kind
    if ewc is not None and stream.direction == Direction.OFFER:
        stream.hazardous = any(e.is_hazardous for e in ewc) or bool(data.get("hazardous", False))
    elif "hazardous" in data and stream.direction == Direction.OFFER and stream.pk:
        # Without new codes the stored codes still decide; the flag can only add a hazard.
        stream.hazardous = bool(data["hazardous"]) or stream.ewc_codes.filter(is_hazardous=True).exists()
    elif "hazardous" in data and stream.direction == Direction.OFFER:
        stream.hazardous = bool(data["hazardous"])
    if ewc and stream.kind and stream.kind != StreamKind.MATERIAL:
        raise ValidationError({"ewc_codes": _("EWC codes apply to material streams only.")})


def _validate(stream: Stream) -> None:
    if stream.category_id is None:
        raise ValidationError({"category": _("Choose a category (or give an EWC code).")})
    stream.full_clean()


def _stream_changed(stream: Stream) -> None:
    """Tell the apps above (matching) in this transaction; see streams/signals.py."""
    send_stream_changed(stream.pk, closed=stream.status == StreamStatus.CLOSED)


@transaction.atomic
def stream_create(*, company: Company, actor, site: Site | None = None, ewc_codes=None,
                  entered_by_facilitator: bool | None = None, **data) -> Stream:
    """List an offer or a need. Needs at most six fields: direction, kind, title, category (or EWC
    code), quantity and unit; the site defaults to the company's first site."""
    site = site or _default_site(company)
    check_site(site, company.pk)
    roles = roles_for(actor)
    if entered_by_facilitator is None:
        entered_by_facilitator = roles.is_facilitator and company.pk not in roles.company_ids
    stream = Stream(
        company=company,
        site=site,
        entered_by=actor if roles.authenticated else None,
        entered_by_facilitator=entered_by_facilitator,
    )
    ewc = resolve_ewc_codes(ewc_codes) if ewc_codes is not None else []
    _apply(stream, data, ewc)
    _validate(stream)
    stream.save()
    if ewc:  # a new stream has no codes to replace
        stream.ewc_codes.set(ewc)
    audit_record(action="stream.create", actor=actor, obj=stream, company_id=company.pk, title=stream.title)
    _stream_changed(stream)
    return stream


@transaction.atomic
def stream_update(*, stream: Stream, actor, site: Site | None = None, ewc_codes=None, **data) -> Stream:
    """Change a stream; its matching is refreshed after commit."""
    stream = Stream.objects.select_for_update().get(pk=stream.pk)
    if site is not None:
        check_site(site, stream.company_id)
        stream.site = site
    ewc = resolve_ewc_codes(ewc_codes) if ewc_codes is not None else None
    _apply(stream, data, ewc)
    _validate(stream)
    stream.save()
    if ewc is not None:
        stream.ewc_codes.set(ewc)
    changed = sorted(data) + (["site"] if site is not None else []) + (["ewc_codes"] if ewc is not None else [])
    audit_record(action="stream.update", actor=actor, obj=stream, fields=changed)
    _stream_changed(stream)
    return stream


ALLOWED_STATUS_MOVES = {
    StreamStatus.DRAFT: {StreamStatus.ACTIVE, StreamStatus.CLOSED},
    StreamStatus.ACTIVE: {StreamStatus.PAUSED, StreamStatus.CLOSED},
    StreamStatus.PAUSED: {StreamStatus.ACTIVE, StreamStatus.CLOSED},
    StreamStatus.CLOSED: {StreamStatus.ACTIVE},
}


@transaction.atomic
def stream_set_status(*, stream: Stream, actor, status: str) -> Stream:
    """Publish, pause, close or reopen a stream."""
    stream = Stream.objects.select_for_update().get(pk=stream.pk)
    if status == stream.status:
        return stream
    if status not in ALLOWED_STATUS_MOVES.get(stream.status, set()):
        raise ValidationError(
            {"status": _("A %(old)s stream cannot become %(new)s.") % {"old": stream.status, "new": status}}
        )
    old = stream.status
    stream.status = status
    stream.save(update_fields=["status", "updated_at"])
    audit_record(action="stream.status", actor=actor, obj=stream, old=old, new=status)
    _stream_changed(stream)
    return stream
