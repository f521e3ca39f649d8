"""Validating a sheet (step 2): companies, sites and streams against the reference data and the
models' own rules, into an ImportPlan with every problem."""

from __future__ import annotations

import copy
from collections.abc import Iterable

from companies.constants import PLATFORM_SCOPE
from companies.models import Company, Site
from companies.roles import roles_for
from streams.importing.cells import (
    _Bad,
    _clean_fields,
    _Errors,
    _is_stream_row,
    _Lookups,
    _Merged,
    _nace_text,
    parse_country,
    parse_number,
)
from streams.importing.format import (
    _COMPANY_FIELD_COLUMN,
    _SITE_FIELD_COLUMN,
    COMPANY_COLUMNS,
    DEFAULT_SITE_NAME,
    SITE_COLUMNS,
    ProgressFn,
)
from streams.importing.plan import (
    CREATE,
    UNCHANGED,
    UPDATE,
    CompanyPlan,
    ImportPlan,
    RowError,
    SheetRow,
    SitePlan,
    StreamPlan,
)
from streams.importing.scope import (
    ImportScope,
    region_scope,
)
from streams.importing.stream_rows import (
    _validate_stream,
)


def _validate_companies(groups, existing, lookups, errors, warnings) -> dict[str, CompanyPlan]:
    plans: dict[str, CompanyPlan] = {}
    for ref, merged in groups.items():
        first_row = merged.rows[0]
        company = existing.get(ref)
        fields: dict = {}
        nace_obj = None
        name = " ".join(merged.get("company_name").split())
        if name:
            fields["name"] = name
        elif company is None:
            errors.add(first_row, "company_name", "Required for a new company.")
        nace_raw = _nace_text(merged.get("nace_code"))
        if nace_raw:
            nace_obj, note = lookups.resolve_nace(nace_raw)
            if nace_obj is None:
                errors.add(merged.row_of("nace_code"), "nace_code", note)
            else:
                fields["nace_code"] = nace_raw
                if note:
                    warnings.append(RowError(merged.row_of("nace_code"), "nace_code", note))
        elif company is None:
            errors.add(first_row, "nace_code", "Required for a new company (NACE code, e.g. 10.51).")
        country_raw = merged.get("country")
        if country_raw:
            try:
                fields["country"] = parse_country(country_raw)
            except _Bad as exc:
                errors.add(merged.row_of("country"), "country", exc)
        elif company is None:
            errors.add(first_row, "country", "Required for a new company (two letters, e.g. SE).")
        employees_raw = merged.get("employees")
        if employees_raw:
            try:
                value = parse_number(employees_raw)
                if value != value.to_integral_value() or value < 0:
                    raise _Bad(f"“{employees_raw}” is not a whole number of employees.")
                fields["employees"] = int(value)
            except _Bad as exc:
                errors.add(merged.row_of("employees"), "employees", exc)

        candidate = copy.copy(company) if company is not None else Company(external_ref=ref)
        checked = {"external_ref"}
        for key in ("name", "country", "employees"):
            if key in fields:
                setattr(candidate, key, fields[key])
                checked.add(key)
        _clean_fields(candidate, checked, first_row, _COMPANY_FIELD_COLUMN, errors)

        if company is None:
            plans[ref] = CompanyPlan(ref=ref, row=first_row, company=None, fields=fields, action=CREATE)
            continue
        changed = {k: v for k, v in fields.items() if k in ("name", "country", "employees") and getattr(company, k) != v}
        if nace_obj is not None and nace_obj.pk != company.nace_id:
            changed["nace_code"] = fields["nace_code"]
        plans[ref] = CompanyPlan(
            ref=ref, row=first_row, company=company, fields=changed, action=UPDATE if changed else UNCHANGED
        )
    return plans


def _site_key(row: SheetRow, default_names: dict[str, str]) -> str:
    return " ".join(row.get("site_name").split()) or default_names[row.get("company_ref")]


def _validate_sites(rows, companies, existing_sites, default_names, lookups, errors) -> dict[tuple, SitePlan]:
    merged: dict[tuple[str, str], _Merged] = {}
    for row in rows:
        ref = row.get("company_ref")
        if not ref or not (any(row.get(c) for c in SITE_COLUMNS) or _is_stream_row(row)):
            continue
        key = (ref, _site_key(row, default_names))
        merged.setdefault(key, _Merged(SITE_COLUMNS, "site")).add(row, errors)

    plans: dict[tuple, SitePlan] = {}
    for (ref, name), m in merged.items():
        first_row = m.rows[0]
        site = existing_sites.get((ref, name))
        company_plan = companies[ref]
        country = company_plan.fields.get("country") or (company_plan.company.country if company_plan.company else None)
        coords: dict[str, float] = {}
        for column, bound in (("latitude", 90), ("longitude", 180)):
            raw = m.get(column)
            if not raw:
                if site is None:
                    errors.add(
                        first_row, column,
                        f"Required for the new site “{name}” (decimal degrees, e.g. 55.70 and 13.19)."
                        if m.get("site_name")
                        else "Required: this company has no site yet (give site_name, latitude and longitude).",
                    )
                continue
            try:
                value = float(parse_number(raw))
                if not -bound <= value <= bound:
                    raise _Bad(f"{raw} is not a {column}: it must lie between -{bound} and {bound} degrees.")
                coords[column] = value
            except _Bad as exc:
                errors.add(m.row_of(column), column, exc)
        region = None
        region_raw = m.get("region")
        if region_raw:
            region = lookups.region(region_raw)
            if region is None:
                errors.add(m.row_of("region"), "region",
                           f"Unknown region “{region_raw}” (give a NUTS code such as SE22, or its name).")
        candidate = copy.copy(site) if site is not None else Site(name=name)
        for k, v in coords.items():
            setattr(candidate, k, v)
        _clean_fields(candidate, {"name", *coords}, m.row_of("site_name"), _SITE_FIELD_COLUMN, errors)

        moved = site is not None and any(getattr(site, k) != v for k, v in coords.items())
        if region is None and not region_raw and len(coords) == 2 and (site is None or moved):
            # As site_create does: without a region, the nearest region centre in the company's country.
            region = lookups.nearest_region(coords["latitude"], coords["longitude"], country)
            if region is None:
                errors.add(first_row, "region", "No region is configured; ask staff to load regions.")
        if site is None:
            plans[(ref, name)] = SitePlan(ref, name, first_row, None, coords, region, CREATE)
            continue
        coords = {k: v for k, v in coords.items() if getattr(site, k) != v}
        if region is not None and region.pk == site.region_id:
            region = None
        action = UPDATE if coords or region is not None else UNCHANGED
        plans[(ref, name)] = SitePlan(ref, name, first_row, site, coords, region, action)
    return plans


def _check_facilitated_regions(companies, sites, region_ids, errors) -> None:
    """A facilitator records companies and sites only in the regions they facilitate."""
    with_site = set()
    for (ref, _name), plan in sites.items():
        with_site.add(ref)
        if plan.region is not None and plan.region.pk not in region_ids:
            errors.add(plan.row, "region", f"{plan.region.name} ({plan.region.code}) is not a region you facilitate: "
                                         "ask a facilitator of that region to import this site.")
    for ref, plan in companies.items():
        if plan.action == CREATE and ref not in with_site:
            errors.add(plan.row, "site_name", "A new company needs a site in a region you facilitate "
                                              "(site_name, latitude, longitude).")


def validate_rows(rows: Iterable[SheetRow], *, actor=None, progress: ProgressFn | None = None) -> ImportPlan:
    """Check every row and return the plan; `plan.errors` lists every problem (row, column, reason).

    Reads the database (existing companies, sites, streams, reference data) but writes nothing. With
    an `actor`, existing companies the actor may not edit are errors (the upload page passes one).
    """
    ignored = getattr(rows, "ignored_columns", ())
    rows = list(rows)
    errors = _Errors()
    warnings = [RowError(1, column, "Unknown column, ignored.") for column in ignored]
    total = len(rows)
    if total == 0:
        errors.add(None, "", "The sheet has a header but no data rows.")

    groups: dict[str, _Merged] = {}
    for row in rows:
        ref = row.get("company_ref")
        if not ref:
            errors.add(row.number, "company_ref", "Required: your reference for the company, e.g. C-001.")
            continue
        groups.setdefault(ref, _Merged(COMPANY_COLUMNS, "company_ref")).add(row, errors)

    # Only companies in the importer's scopes that they may edit are found; any other company with the
    # same reference is treated as absent (no name, no "unchanged" that would confirm a guess).
    scope = ImportScope.of(actor)
    existing: dict[str, Company] = {}
    for company in scope.companies(groups):
        if company.external_ref in existing:
            other = existing[company.external_ref]
            errors.add(groups[company.external_ref].rows[0], "company_ref",
                       f"“{company.external_ref}” is the reference of two companies you may edit ({other.name} and "
                       f"{company.name}); ask staff to change one of them in the admin.")
            continue
        existing[company.external_ref] = company
    lookups = _Lookups()
    companies = _validate_companies(groups, existing, lookups, errors, warnings)

    existing_sites: dict[tuple[str, str], Site] = {}
    first_db_site: dict[str, str] = {}
    for site in scope.sites().filter(company__in=list(existing.values())).select_related("company").order_by("pk"):
        existing_sites[(site.company.external_ref, site.name)] = site
        first_db_site.setdefault(site.company.external_ref, site.name)
    default_names: dict[str, str] = {}
    for row in rows:
        ref = row.get("company_ref")
        if ref and ref not in default_names and " ".join(row.get("site_name").split()):
            default_names[ref] = " ".join(row.get("site_name").split())
    for ref in groups:
        default_names.setdefault(ref, first_db_site.get(ref, DEFAULT_SITE_NAME))
    sites = _validate_sites(rows, companies, existing_sites, default_names, lookups, errors)
    roles = roles_for(actor)
    if roles.is_facilitator and not roles.is_staff:
        _check_facilitated_regions(companies, sites, roles.facilitator_region_ids, errors)
    for ref, plan in companies.items():
        if plan.action != CREATE:
            continue
        if scope.by_region:  # the region of its first site (one the facilitator facilitates, checked above)
            region = next((p.region for (r, _n), p in sites.items() if r == ref and p.region is not None), None)
            plan.scope = region_scope(region) if region is not None else ""
        else:
            plan.scope = PLATFORM_SCOPE

    existing_streams = {
        (s.company.external_ref, s.external_ref): s
        for s in scope.streams().filter(company__in=list(existing.values()), external_ref__isnull=False)
        .select_related("company", "category").prefetch_related("ewc_codes")
    }
    streams: list[StreamPlan] = []
    seen_refs: dict[tuple[str, str], int] = {}
    for done, row in enumerate(rows, start=1):
        ref = row.get("company_ref")
        if ref and _is_stream_row(row):
            stream_ref = row.get("stream_ref")
            if not stream_ref:
                errors.add(row.number, "stream_ref", "Required on a stream row: your reference for the stream, "
                                                     "e.g. S-001 (it makes re-imports update instead of duplicate).")
            elif (ref, stream_ref) in seen_refs:
                errors.add(row.number, "stream_ref", f"Same company_ref and stream_ref as row {seen_refs[(ref, stream_ref)]}.")
            else:
                seen_refs[(ref, stream_ref)] = row.number
                plan = _validate_stream(
                    row, ref, sites[(ref, _site_key(row, default_names))],
                    existing_streams.get((ref, stream_ref)), lookups, errors, warnings,
                )
                if plan is not None:
                    streams.append(plan)
        if progress is not None:
            progress("validate", done, total)

    return ImportPlan(
        rows=total,
        companies=list(companies.values()),
        sites=list(sites.values()),
        streams=streams,
        errors=errors.sorted(),
        warnings=sorted(warnings, key=lambda e: (e.row or 0, e.column)),
        scope=scope,
    )
