"""Writes for streams: create, update, change status. Atomic and validated before saving."""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from companies.models import Company, Site
from companies.roles import roles_for
from streams.choices import Direction, StreamKind, StreamStatus
from streams.models import EwcCode, PendingImport, ResourceCategory, Stream

PROGRESS_EVERY_SECONDS = 0.5
MAX_STORED_ERRORS = 500

STREAM_FIELDS = (
    "external_ref", "direction", "kind", "title", "description", "quantity", "unit", "period",
    "quantity_min", "quantity_max", "availability", "months", "energy_carrier", "temperature_c",
    "water_quality", "physical_form", "composition", "contaminants", "provenance", "regulatory_status",
    "accepts_hazardous", "price_eur_per_unit", "disposal_route", "disposal_cost_eur_per_unit",
    "max_transport_km", "valid_from", "valid_until", "visibility",
)


def normalise_ewc(code: str) -> str:
    return str(code).replace(" ", "").replace("*", "").strip()


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


def _schedule_matching(stream: Stream) -> None:
    from matching.hooks import stream_changed

    stream_changed(stream.pk, closed=stream.status == StreamStatus.CLOSED)


@transaction.atomic
def stream_create(*, company: Company, actor, site: Site | None = None, ewc_codes=None,
                  entered_by_facilitator: bool | None = None, **data) -> Stream:
    """List an offer or a need. Needs at most six fields: direction, kind, title, category (or EWC
    code), quantity and unit; the site defaults to the company's first site."""
    site = site or _default_site(company)
    if site.company_id != company.pk:
        raise ValidationError({"site": _("The site belongs to another company.")})
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
    _schedule_matching(stream)
    return stream


@transaction.atomic
def stream_update(*, stream: Stream, actor, site: Site | None = None, ewc_codes=None, **data) -> Stream:
    """Change a stream; its matching is refreshed after commit."""
    stream = Stream.objects.select_for_update().get(pk=stream.pk)
    if site is not None:
        if site.company_id != stream.company_id:
            raise ValidationError({"site": _("The site belongs to another company.")})
        stream.site = site
    ewc = resolve_ewc_codes(ewc_codes) if ewc_codes is not None else None
    _apply(stream, data, ewc)
    _validate(stream)
    stream.save()
    if ewc is not None:
        stream.ewc_codes.set(ewc)
    changed = sorted(data) + (["site"] if site is not None else []) + (["ewc_codes"] if ewc is not None else [])
    audit_record(action="stream.update", actor=actor, obj=stream, fields=changed)
    _schedule_matching(stream)
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
    _schedule_matching(stream)
    return stream


# --- Workshop import (the upload page; the sheet format lives in streams/importing.py) -------------

def pending_imports_sweep() -> int:
    """Delete uploads older than IMPORT_PENDING_HOURS that were never committed."""
    cutoff = timezone.now() - timedelta(hours=settings.IMPORT_PENDING_HOURS)
    return PendingImport.objects.filter(created_at__lt=cutoff).delete()[0]


@transaction.atomic
def pending_import_create(*, user, filename: str, content: bytes) -> PendingImport:
    """Keep an uploaded sheet for its preview and commit, bound to `user` by a random token."""
    pending_imports_sweep()
    pending = PendingImport(user=user, filename=filename[-255:], content=content, size=len(content),
                            sha256=hashlib.sha256(content).hexdigest())
    pending.full_clean()
    pending.save()
    return pending


def _progress_key(pending_id: int) -> str:
    return f"import-progress:{pending_id}"


def pending_import_progress(pending: PendingImport) -> dict:
    """{"stage": "validate" | "write", "done": n, "total": n} of a running import (from the cache: the
    import writes in one transaction, so the database cannot show progress before it commits)."""
    return cache.get(_progress_key(pending.pk)) or {"stage": "validate", "done": 0, "total": 0}


@transaction.atomic
def pending_import_start(*, pending: PendingImport) -> bool:
    """Claim the upload for its commit (once) and run it as a Celery task after this transaction."""
    from streams.tasks import import_sheet_task

    claimed = PendingImport.objects.filter(pk=pending.pk, status=PendingImport.Status.PENDING).update(
        status=PendingImport.Status.RUNNING
    )
    if claimed:
        pending.status = PendingImport.Status.RUNNING
        transaction.on_commit(lambda: import_sheet_task.delay(pending.pk))
    return bool(claimed)


def pending_import_run(*, pending_id: int):
    """Apply a claimed upload all or nothing (streams.importing.import_file) as the user who uploaded
    it: a facilitator's companies and streams are marked as entered by a facilitator. Stores the
    outcome on the row; an imported file's bytes are dropped. Returns the ImportResult (or None)."""
    from streams.importing import import_file

    pending = PendingImport.objects.filter(pk=pending_id, status=PendingImport.Status.RUNNING).select_related(
        "user").first()
    if pending is None:
        return None
    actor = pending.user
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done == total or now - last[0] > PROGRESS_EVERY_SECONDS:
            last[0] = now
            cache.set(_progress_key(pending.pk), {"stage": stage, "done": done, "total": total}, 3600)

    content = bytes(pending.content)
    try:
        result = import_file(io.BytesIO(content), pending.filename, actor=actor,
                             entered_by_facilitator=roles_for(actor).is_facilitator, progress=progress)
    except Exception:  # a bug must not leave the page spinning; the task's retry is not wanted here
        pending.status = PendingImport.Status.FAILED
        pending.result = {"errors": [{"row": None, "column": "", "message": _("The import failed unexpectedly; "
                                                                              "nothing was written.")}]}
        pending.finished_at = timezone.now()
        pending.save(update_fields=["status", "result", "finished_at"])
        raise
    outcome = {
        "summary": result.summary(),
        "counts": result.counts,
        "errors": [{"row": e.row, "column": e.column, "message": e.message} for e in result.errors[:MAX_STORED_ERRORS]],
        "error_count": len(result.errors),
    }
    if result.applied:
        # The companies this import wrote, not every company with one of the sheet's references: a
        # reference is a key only within the importer's scope.
        outcome["company_ids"] = result.company_ids
        pending.content = b""
    pending.status = PendingImport.Status.DONE if result.applied else PendingImport.Status.FAILED
    pending.result = outcome
    pending.finished_at = timezone.now()
    pending.save(update_fields=["status", "result", "content", "finished_at"])
    cache.delete(_progress_key(pending.pk))
    return result
