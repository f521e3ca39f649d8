"""Writing a plan (step 3) in one transaction through the services, and the whole import:
parse, validate, apply, all or nothing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from companies.models import Company, Site
from companies.services import company_create, company_update, site_create, site_update
from streams.importing.cells import (
    _Errors,
)
from streams.importing.format import (
    _COMPANY_FIELD_COLUMN,
    _SITE_FIELD_COLUMN,
    _STREAM_FIELD_COLUMN,
    ProgressFn,
)
from streams.importing.plan import (
    CREATE,
    UPDATE,
    CompanyPlan,
    ImportFailed,
    ImportPlan,
    ImportResult,
    RowError,
    SheetError,
    _empty_counts,
)
from streams.importing.scope import (
    ImportScope,
)
from streams.importing.sheet import (
    parse_sheet,
)
from streams.importing.validation import (
    validate_rows,
)
from streams.services import stream_create, stream_update
from streams.signals import defer_stream_changes


def _failed(row: int, exc: ValidationError, columns: dict[str, str], default: str) -> ImportFailed:
    errors = _Errors()
    errors.add_validation(row, exc, columns, default)
    return ImportFailed(errors.sorted())


_MEANWHILE = "Another import registered “{ref}” since the check; import the sheet again to update it."


def _take_import_key(plan: CompanyPlan, scope: ImportScope) -> None:
    """Make room for a new company's (scope, reference). The check found no company the importer may
    edit under it; if one holds it now, it was registered since (a row error). If one the importer may
    not edit holds it (it left the scope's regions), the key stays with the scope and goes to the new
    company: the old one keeps its data but is no longer an import key, so the outcome is the same as
    for a reference that never existed."""
    if not plan.scope:
        return
    holder = Company.objects.select_for_update().filter(import_scope=plan.scope, external_ref=plan.ref).first()
    if holder is None:
        return
    if scope.may_edit(holder):
        raise ImportFailed([RowError(plan.row, "company_ref", _MEANWHILE.format(ref=plan.ref))])
    Company.objects.filter(pk=holder.pk).update(import_scope="")


def apply_plan(plan: ImportPlan, *, actor, entered_by_facilitator: bool = False,
               progress: ProgressFn | None = None) -> ImportResult:
    """Write a valid plan in one transaction through the company, site and stream services.

    Raises ImportFailed (and writes nothing) if the plan has errors or a service refuses a row; the
    refusal is reported against that row. Imported companies are entered on behalf of their owners:
    the actor does not become a member.
    """
    if plan.errors:
        raise ImportFailed(plan.errors)
    counts = _empty_counts()
    total = len(plan.companies) + len(plan.sites) + len(plan.streams)
    done = 0

    def tick():
        nonlocal done
        done += 1
        if progress is not None:
            progress("write", done, total)

    scope = plan.scope or ImportScope.of(actor)
    # One event for the whole sheet after it commits (one matching run) instead of one per stream.
    with defer_stream_changes(), transaction.atomic():
        companies: dict[str, Company] = {}
        for p in plan.companies:
            try:
                if p.action == CREATE:
                    _take_import_key(p, scope)
                    company = company_create(actor=actor, on_behalf=True, import_key=(p.scope, p.ref),
                                             entered_by_facilitator=entered_by_facilitator, **p.fields)
                elif p.action == UPDATE:
                    company = company_update(company=p.company, actor=actor, **p.fields)
                else:
                    company = p.company
            except ValidationError as exc:
                raise _failed(p.row, exc, {**_COMPANY_FIELD_COLUMN, "nace_code": "nace_code"}, "company_ref") from None
            except IntegrityError:  # the same key registered by a concurrent import since the check
                raise ImportFailed([RowError(p.row, "company_ref", _MEANWHILE.format(ref=p.ref))]) from None
            companies[p.ref] = company
            counts["companies"][p.action] += 1
            tick()

        sites: dict[tuple[str, str], Site] = {}
        for p in plan.sites:
            company = companies[p.company_ref]
            try:
                if p.action == CREATE:
                    site = site_create(company=company, actor=actor, name=p.name, region=p.region, **p.fields)
                elif p.action == UPDATE:
                    site = site_update(site=p.site, actor=actor, region=p.region, **p.fields)
                else:
                    site = p.site
            except ValidationError as exc:
                raise _failed(p.row, exc, _SITE_FIELD_COLUMN, "site_name") from None
            sites[(p.company_ref, p.name)] = site
            counts["sites"][p.action] += 1
            tick()

        for p in plan.streams:
            company = companies[p.company_ref]
            site = sites.get((p.company_ref, p.site_name))
            try:
                if p.action == CREATE:
                    stream_create(company=company, actor=actor, site=site, ewc_codes=p.ewc,
                                           entered_by_facilitator=entered_by_facilitator, **p.fields)
                elif p.action == UPDATE:
                    moved = site if site is not None and site.pk != p.stream.site_id else None
                    stream_update(stream=p.stream, actor=actor, site=moved, ewc_codes=p.ewc, **p.fields)
            except ValidationError as exc:
                raise _failed(p.row, exc, _STREAM_FIELD_COLUMN, "stream_ref") from None
            counts["streams"][p.action] += 1
            tick()

    return ImportResult(rows=plan.rows, applied=True, counts=counts, warnings=list(plan.warnings),
                        company_ids=[c.pk for c in companies.values()])


def preview_file(fileobj, filename: str, *, actor=None) -> ImportPlan:
    """Parse and validate a sheet without writing: the plan, with a file-level problem (wrong type,
    too large, zip bomb ...) as its only error. The upload page shows this before the commit."""
    try:
        rows = parse_sheet(fileobj, filename)
    except SheetError as exc:
        return ImportPlan(errors=exc.errors)
    return validate_rows(rows, actor=actor)


def import_file(fileobj, filename: str, *, actor=None, entered_by_facilitator: bool = False,
                dry_run: bool = False, progress: ProgressFn | None = None) -> ImportResult:
    """Parse, validate and (unless `dry_run` or anything is wrong) apply a sheet: all or nothing."""
    try:
        rows = parse_sheet(fileobj, filename)
    except SheetError as exc:
        return ImportResult(errors=exc.errors, dry_run=dry_run)
    plan = validate_rows(rows, actor=actor, progress=progress)
    if not plan.ok or dry_run:
        return ImportResult(rows=plan.rows, dry_run=dry_run, counts=plan.counts(), errors=plan.errors,
                            warnings=plan.warnings)
    try:
        return apply_plan(plan, actor=actor, entered_by_facilitator=entered_by_facilitator, progress=progress)
    except ImportFailed as exc:
        return ImportResult(rows=plan.rows, counts=plan.counts(), errors=exc.errors, warnings=plan.warnings)
