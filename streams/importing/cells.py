"""Reading cells for validation: numbers, yes/no, choices, units, codes; values merged over a
company's rows; cached reference lookups; the models' own field rules."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.core.exceptions import ValidationError

from companies.choices import Country
from companies.models import Region
from companies.reference import nearest_region, normalise_nace_input, resolve_nace
from streams.ewc import normalise_ewc
from streams.importing.format import (
    _FALSE,
    _TRUE,
    _UNIT_ALIASES,
    COLUMNS,
    STREAM_COLUMNS,
)
from streams.importing.plan import (
    RowError,
    SheetRow,
)
from streams.models import EwcCode, ResourceCategory
from streams.services import resolve_category, resolve_ewc_codes
from streams.units import UNITS


class _Errors:
    """Collects at most one error per (row, column): the first reason is the most specific."""

    def __init__(self):
        self.items: dict[tuple[int | None, str], RowError] = {}

    def add(self, row: int | None, column: str, message) -> None:
        self.items.setdefault((row, column), RowError(row, column, str(message)))

    def add_validation(self, row: int, exc: ValidationError, columns: dict[str, str], default: str = "") -> None:
        if hasattr(exc, "error_dict"):
            for name, errors in exc.message_dict.items():
                column = columns.get(name, name if name in COLUMNS else default)
                for message in errors:
                    self.add(row, column, message)
        else:
            for message in exc.messages:
                self.add(row, default, message)

    def has(self, row: int, column: str) -> bool:
        return (row, column) in self.items

    def sorted(self) -> list[RowError]:
        return sorted(self.items.values(), key=lambda e: (e.row or 0, COLUMNS.index(e.column) if e.column in COLUMNS else -1))


class _Bad(Exception):  # noqa: N818 (internal signal)
    """A cell that cannot be read; the message is shown against its column."""


def _ewc_text(raw: str) -> str:
    """An EWC code as typed; a five-digit code lost its leading zero in a spreadsheet (020501 -> 20501)."""
    code = normalise_ewc(raw)
    return "0" + code if code.isdigit() and len(code) == 5 else raw.strip()


def _nace_text(raw: str) -> str:
    """A NACE code as typed; "1.13" is 01.13 after a spreadsheet dropped the leading zero."""
    s = raw.strip()
    head, dot, tail = s.partition(".")
    return f"0{s}" if dot and len(head) == 1 and head.isdigit() and tail.isdigit() else s


def parse_number(raw: str, *, places: int | None = None) -> Decimal:
    """'1 234,5', '1.234,5', '1,234.5' and '1234.5' are all 1234.5; a lone comma is a decimal comma."""
    s = raw.strip()
    for ch in (" ", "\u00a0", "\u202f", "'", "’"):
        s = s.replace(ch, "")
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif s.count(",") == 1:
        s = s.replace(",", ".")
    elif s.count(",") > 1:
        s = s.replace(",", "")
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise _Bad(f"“{raw}” is not a number.") from None
    if not value.is_finite():
        raise _Bad(f"“{raw}” is not a number.")
    if places is not None:
        try:
            value = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
        except InvalidOperation:
            raise _Bad(f"“{raw}” is too large.") from None
    return value


def parse_bool(raw: str) -> bool:
    s = raw.strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise _Bad(f"“{raw}” is not yes/no (accepted: yes, no, true, false, 1, 0).")


def _choice(raw: str, choices, aliases: dict | None = None, what: str = "value") -> str:
    s = raw.strip().lower()
    for value, label in choices:
        if s == str(value).lower() or s == str(label).lower():
            return value
    if aliases and s in aliases:
        return aliases[s]
    accepted = ", ".join(str(v) for v, _label in choices if v)
    raise _Bad(f"Unknown {what} “{raw}” (accepted: {accepted}).")


def parse_country(raw: str) -> str:
    return _choice(raw, Country.choices, what="country")


def parse_unit(raw: str) -> str:
    s = raw.strip()
    all_units = {u for units in UNITS.values() for u in units}
    if s in all_units:
        return s
    lower = s.lower()
    if lower in _UNIT_ALIASES:
        return _UNIT_ALIASES[lower]
    # Case-insensitive match, except that "ml" could be millilitres or megalitres: make them say.
    matches = [u for u in all_units if u.lower() == lower]
    if len(matches) == 1 and lower != "ml":
        return matches[0]
    raise _Bad(f"Unknown unit “{raw}” (accepted: {', '.join(sorted(all_units))}).")


def _canonical(column: str, raw: str) -> str:
    """The form in which two cells of the same company or site are compared for conflicts."""
    if column == "nace_code":
        return normalise_nace_input(_nace_text(raw))
    try:
        if column == "country":
            return parse_country(raw)
        if column in ("latitude", "longitude", "employees"):
            return str(parse_number(raw).normalize())
    except _Bad:
        return raw
    if column in ("site_name", "company_name"):
        return " ".join(raw.split())
    return raw.strip().lower() if column == "region" else raw


class _Merged:
    """Values of one company (or site) gathered over its rows: the first non-blank cell wins and a
    different non-blank cell on a later row is a conflict."""

    def __init__(self, columns: tuple[str, ...], what: str):
        self.columns = columns
        self.what = what
        self.values: dict[str, str] = {}
        self.source_row: dict[str, int] = {}
        self.rows: list[int] = []

    def add(self, row: SheetRow, errors: _Errors) -> None:
        self.rows.append(row.number)
        for column in self.columns:
            raw = row.get(column)
            if not raw:
                continue
            if column not in self.values:
                self.values[column] = raw
                self.source_row[column] = row.number
            elif _canonical(column, raw) != _canonical(column, self.values[column]):
                errors.add(
                    row.number, column,
                    f"“{raw}” conflicts with “{self.values[column]}” on row {self.source_row[column]} "
                    f"for the same {self.what}; leave it blank or make them equal.",
                )

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def row_of(self, column: str) -> int:
        return self.source_row.get(column, self.rows[0])


class _Lookups:
    """Cached reference lookups, so a sheet with 1000 rows asks about each code once."""

    def __init__(self):
        self.nace: dict[str, tuple] = {}
        self.regions: dict[str, Region | None] = {}
        self.categories: dict[str, ResourceCategory | ValidationError] = {}
        self.ewc: dict[tuple[str, ...], list[EwcCode] | ValidationError] = {}
        self.nearest: dict[tuple, Region | None] = {}

    def resolve_nace(self, raw: str):
        key = normalise_nace_input(raw)
        if key not in self.nace:
            self.nace[key] = resolve_nace(raw)
        return self.nace[key]

    def region(self, raw: str) -> Region | None:
        key = raw.strip().lower()
        if key not in self.regions:
            self.regions[key] = (
                Region.objects.filter(code__iexact=raw.strip()).first()
                or Region.objects.filter(name__iexact=raw.strip()).first()
            )
        return self.regions[key]

    def nearest_region(self, latitude: float, longitude: float, country: str | None) -> Region | None:
        key = (round(latitude, 4), round(longitude, 4), country)
        if key not in self.nearest:
            self.nearest[key] = nearest_region(latitude, longitude, country)
        return self.nearest[key]

    def category(self, raw: str) -> ResourceCategory:
        key = raw.strip().lower()
        if key not in self.categories:
            try:
                self.categories[key] = resolve_category(raw)
            except ValidationError as exc:
                self.categories[key] = exc
        found = self.categories[key]
        if isinstance(found, ValidationError):
            raise found
        return found

    def ewc_codes(self, codes: list[str]) -> list[EwcCode]:
        key = tuple(codes)
        if key not in self.ewc:
            try:
                self.ewc[key] = resolve_ewc_codes(codes)  # in the order given: the first decides the category
            except ValidationError as exc:
                self.ewc[key] = exc
        found = self.ewc[key]
        if isinstance(found, ValidationError):
            raise found
        return found


def _is_stream_row(row: SheetRow) -> bool:
    return any(row.get(c) for c in STREAM_COLUMNS)


def _clean_fields(instance, names: Iterable[str], row: int, columns: dict[str, str], errors: _Errors) -> None:
    """Run the model's own field rules (lengths, ranges, choices) on `names` only, exactly as the
    service will when it saves; fields already reported or not given are left out."""
    names = set(names)
    exclude = [f.name for f in instance._meta.fields if f.name not in names]
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        errors.add_validation(row, exc, columns)
