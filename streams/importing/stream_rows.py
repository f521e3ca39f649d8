"""Validating one stream row (step 2, streams): its plan, or its errors."""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError

from streams.choices import Direction, DisposalRoute, Period, StreamKind, Visibility
from streams.ewc import is_ewc_code, split_ewc_codes
from streams.importing.cells import (
    _Bad,
    _choice,
    _clean_fields,
    _Errors,
    _ewc_text,
    _Lookups,
    parse_bool,
    parse_number,
    parse_unit,
)
from streams.importing.format import (
    _DIRECTION_ALIASES,
    _PERIOD_ALIASES,
    _STREAM_FIELD_COLUMN,
)
from streams.importing.plan import (
    CREATE,
    UNCHANGED,
    UPDATE,
    RowError,
    SheetRow,
    SitePlan,
    StreamPlan,
)
from streams.models import EwcCode, Stream
from streams.units import BASE_UNIT, UNITS, unit_fits_kind


def _validate_stream(row: SheetRow, company_ref: str, site_plan: SitePlan, stream: Stream | None,
                     lookups: _Lookups, errors: _Errors, warnings: list[RowError]) -> StreamPlan | None:
    """Check one stream row; return its plan, or None when the row has errors (they are in `errors`)."""
    n = row.number
    before = len(errors.items)

    def read(column, parse):
        raw = row.get(column)
        if not raw:
            return None
        try:
            return parse(raw)
        except _Bad as exc:
            errors.add(n, column, exc)
            return None

    direction = read("direction", lambda r: _choice(r, Direction.choices, _DIRECTION_ALIASES, "direction"))
    if not row.get("direction") and stream is None:
        errors.add(n, "direction", "Required: offer or need.")
    direction = direction or (stream.direction if stream else None)
    kind = read("kind", lambda r: _choice(r, StreamKind.choices, what="kind"))
    title = " ".join(row.get("title").split())
    if not title and stream is None:
        errors.add(n, "title", "Required: a short name for the stream, e.g. “Whey from cheese making”.")

    category = None
    if row.get("category"):
        try:
            category = lookups.category(row.get("category"))
        except ValidationError as exc:
            errors.add_validation(n, exc, {}, "category")

    ewc: list[EwcCode] | None = None
    if row.get("ewc_code"):
        codes = [_ewc_text(c) for c in split_ewc_codes(row.get("ewc_code"))]
        malformed = [c for c in codes if not is_ewc_code(c)]
        if malformed:
            errors.add(n, "ewc_code", f"“{malformed[0]}” is not an EWC code (six digits, e.g. 02 05 01).")
        elif direction == Direction.OFFER and len(codes) > 1:
            errors.add(n, "ewc_code", "An offer has one EWC code; list several (separated by ;) only on a need.")
        else:
            try:
                ewc = lookups.ewc_codes(codes)
            except ValidationError as exc:
                errors.add_validation(n, exc, {}, "ewc_code")
    ewc_changed = ewc is not None and (
        stream is None or {e.pk for e in ewc} != {e.pk for e in stream.ewc_codes.all()}
    )
    # Without a category the EWC map decides; on an existing stream only when its codes change, so that
    # a category refined on the page survives a re-import of the same sheet.
    if category is None and ewc and not row.get("category") and ewc_changed:
        category = ewc[0].category
    effective_category = category or (stream.category if stream else None)
    if kind is None and not row.get("kind"):
        kind = category.kind if category else (stream.kind if stream else None)
    if effective_category is None:
        if not errors.has(n, "category") and not errors.has(n, "ewc_code"):
            errors.add(n, "category", "Required: a category code or name, or an EWC code (the EWC map decides).")
    elif kind and effective_category.kind != kind and not errors.has(n, "kind"):
        errors.add(n, "category", f"“{effective_category.code}” is a {effective_category.kind} category, "
                                  f"but the stream is {kind}.")
    if ewc and kind and kind != StreamKind.MATERIAL:
        errors.add(n, "ewc_code", "EWC codes apply to material streams only.")

    quantity = read("quantity", lambda r: parse_number(r, places=3))
    if quantity is not None and quantity <= 0:
        errors.add(n, "quantity", f"“{row.get('quantity')}” is not a quantity: it must be greater than zero.")
    unit = read("unit", parse_unit)
    if not row.get("unit"):
        if stream is not None:
            unit = stream.unit
        elif row.get("quantity"):
            errors.add(n, "unit", "Required with a quantity (e.g. t, MWh, m3).")
        elif kind:
            unit = BASE_UNIT.get(kind)
    if unit and kind and not unit_fits_kind(unit, kind) and not errors.has(n, "kind"):
        fitting = ", ".join(UNITS.get(kind, {}))
        errors.add(n, "unit", f"“{unit}” is not a unit for {kind} streams (use {fitting}).")

    hazardous = read("hazardous", parse_bool)
    data: dict = {"external_ref": row.get("stream_ref")}
    for key, value in (
        ("direction", direction),
        ("kind", kind),
        ("title", title or None),
        ("description", row.get("description") or None),
        ("quantity", quantity),
        ("unit", unit),
        ("period", read("period", lambda r: _choice(r, Period.choices, _PERIOD_ALIASES, "period"))),
        ("temperature_c", read("temperature_c", lambda r: float(parse_number(r)))),
        ("price_eur_per_unit", read("price_eur_per_unit", lambda r: parse_number(r, places=2))),
        ("disposal_route", read("disposal_route", lambda r: _choice(r, DisposalRoute.choices, what="disposal route"))),
        ("disposal_cost_eur_per_unit", read("disposal_cost_eur_per_unit", lambda r: parse_number(r, places=2))),
        ("visibility", read("visibility", lambda r: _choice(r, Visibility.choices, what="visibility"))),
        ("max_transport_km", read("max_transport_km", lambda r: float(parse_number(r)))),
    ):
        if value is not None:
            data[key] = value
    if hazardous is not None:
        data["hazardous" if direction == Direction.OFFER else "accepts_hazardous"] = hazardous

    candidate = copy.copy(stream) if stream is not None else Stream()
    for key, value in data.items():
        if key != "hazardous":
            setattr(candidate, key, value)
    _clean_fields(candidate, set(data) - {"hazardous"}, n, _STREAM_FIELD_COLUMN, errors)
    if len(errors.items) != before:
        return None
    candidate.category = effective_category
    try:
        candidate.clean()  # unit vs kind, category vs kind, quantity > 0: the model's cross-field rules
    except ValidationError as exc:
        errors.add_validation(n, exc, _STREAM_FIELD_COLUMN)
        return None

    offer = direction == Direction.OFFER
    if offer and ewc and any(e.is_hazardous for e in ewc) and hazardous is False:
        warnings.append(RowError(n, "hazardous", f"EWC {ewc[0].display_code} is a hazardous entry: the offer is "
                                                 "marked hazardous."))
    if stream is None:
        if category is not None:
            data["category"] = category
        return StreamPlan(company_ref, site_plan.name, data["external_ref"], n, None, data, ewc, CREATE)

    changed = {k: v for k, v in data.items() if k != "hazardous" and getattr(stream, k) != v}
    if category is not None and category.pk != stream.category_id:
        changed["category"] = category
    hazard_changed = False
    if offer:
        if ewc is not None:
            expected = any(e.is_hazardous for e in ewc) or bool(hazardous)
        else:
            expected = stream.hazardous if hazardous is None else hazardous
        hazard_changed = expected != stream.hazardous
        if hazardous is not None:
            changed["hazardous"] = hazardous
    moved = site_plan.site is None or site_plan.site.pk != stream.site_id
    action = UPDATE if (set(changed) - {"hazardous"}) or hazard_changed or ewc_changed or moved else UNCHANGED
    return StreamPlan(company_ref, site_plan.name, data["external_ref"], n, stream, changed, ewc, action)
