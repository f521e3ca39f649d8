"""Import companies, sites and streams from a CSV or XLSX sheet (one stream per row).

Three steps, each usable on its own so that the command and the facilitator's upload page share them:

1. `parse_sheet(fileobj, filename)` reads the file into `SheetRow`s (strings only), refusing files that
   are too large, not UTF-8, or not really XLSX;
2. `validate_rows(rows)` checks every row against the reference data and the models' own field rules
   and returns an `ImportPlan`: what would be created, updated or left unchanged, plus every problem as
   a `RowError` (row as the user sees it, header = row 1; column; reason);
3. `apply_plan(plan, actor=...)` writes the plan in ONE transaction through the usual services
   (`company_create`, `site_create`, `stream_create`, ...) so that the same rules hold as everywhere else.

`import_file(...)` runs all three and writes nothing unless the whole file is valid. The format is
documented for users in docs/import-format.md; keep the two in step.

Keys: a company by `company_ref` (Company.external_ref) within the importer's scope (`ImportScope`), a
site by (company, `site_name`), a stream by (company, `stream_ref`) (Stream.external_ref), so
re-importing a sheet updates instead of duplicating. Only what the importer may edit is ever found:
anything else is answered exactly as if it did not exist, so the preview is no oracle.
A blank cell never erases data: on a new record the field takes its default, on an existing one it
keeps its value; company and site cells left blank on later rows of a company are taken from the
rows that fill them.
"""

from __future__ import annotations

import copy
import csv
import io
import math
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from companies.choices import Country
from companies.constants import PLATFORM_SCOPE
from companies.models import Company, Region, Site
from companies.permissions import can_edit_company
from companies.reference import nearest_region, normalise_nace_input, resolve_nace
from companies.roles import roles_for
from companies.services import company_create, company_update, site_create, site_update
from matching.hooks import defer_matching
from streams.choices import Direction, DisposalRoute, Period, StreamKind, Visibility
from streams.models import EwcCode, ResourceCategory, Stream
from streams.services import normalise_ewc, resolve_category, resolve_ewc_codes, stream_create, stream_update
from streams.units import BASE_UNIT, UNITS, unit_fits_kind

# --- Format --------------------------------------------------------------------------------------

COMPANY_COLUMNS = ("company_name", "nace_code", "country", "employees")
SITE_COLUMNS = ("site_name", "latitude", "longitude", "region")
STREAM_COLUMNS = (
    "stream_ref", "direction", "kind", "title", "description", "category", "ewc_code", "quantity", "unit",
    "period", "temperature_c", "hazardous", "price_eur_per_unit", "disposal_route",
    "disposal_cost_eur_per_unit", "visibility", "max_distance_km",
)
COLUMNS = ("company_ref", *COMPANY_COLUMNS, *SITE_COLUMNS, *STREAM_COLUMNS)

# A company's site when the sheet gives coordinates but no site name, and the company has none yet.
DEFAULT_SITE_NAME = "Main site"

# Defences against hostile or accidental monster files (the upload page relies on them too).
MAX_ROWS = 10_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
MAX_ZIP_MEMBERS = 1_000
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024  # a full 10 000-row sheet unpacks to about 20 MB
MAX_COMPRESSION_RATIO = 100  # spreadsheet XML packs 5-30:1; zip bombs 1000:1
MAX_RATIO_FREE_BYTES = 1024 * 1024  # small parts may pack as tightly as they like
MAX_SHEET_ROWS_READ = 50_000  # rows read from a worksheet, blank ones included
XML_PART_SUFFIXES = (".xml", ".rels", ".vml")
XML_SCAN_CHUNK = 64 * 1024

# Where a model field's error is shown in the sheet.
_COMPANY_FIELD_COLUMN = {"name": "company_name", "nace": "nace_code", "external_ref": "company_ref"}
_SITE_FIELD_COLUMN = {"name": "site_name"}
_STREAM_FIELD_COLUMN = {
    "external_ref": "stream_ref",
    "max_transport_km": "max_distance_km",
    "accepts_hazardous": "hazardous",
    "ewc_codes": "ewc_code",
    "quantity_yearly": "quantity",
}

_TRUE = {"yes", "y", "true", "t", "1", "x"}
_FALSE = {"no", "n", "false", "f", "0"}

_DIRECTION_ALIASES = {
    "offer": Direction.OFFER, "have": Direction.OFFER, "output": Direction.OFFER, "supply": Direction.OFFER,
    "need": Direction.NEED, "want": Direction.NEED, "input": Direction.NEED, "demand": Direction.NEED,
}
_PERIOD_ALIASES = {
    "daily": Period.DAY, "weekly": Period.WEEK, "monthly": Period.MONTH, "yearly": Period.YEAR,
    "annual": Period.YEAR, "annually": Period.YEAR, "a": Period.YEAR, "batch": Period.ONCE,
}
_UNIT_ALIASES = {
    "tonne": "t", "tonnes": "t", "ton": "t", "tons": "t",
    "m³": "m3", "cbm": "m3", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "megalitre": "ML", "megalitres": "ML", "megaliter": "ML", "megaliters": "ML",
    "units": "unit", "pcs": "unit", "pieces": "unit", "piece": "unit",
    "hour": "h", "hours": "h", "days": "day", "person-day": "day", "person-days": "day",
}

ProgressFn = Callable[[str, int, int], None]
"""progress(stage, done, total): called as rows are validated ("validate") and written ("write")."""


# --- Results ---------------------------------------------------------------------------------------

# --- Whose keys ------------------------------------------------------------------------------------

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


@dataclass(frozen=True)
class SheetRow:
    """One data row: its number as a spreadsheet shows it (header = 1) and its known cells as text."""

    number: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")


class SheetRows(list):
    """The rows of a sheet, plus the header's columns (known ones, and ignored ones for a warning)."""

    def __init__(self, rows: Iterable[SheetRow] = (), *, columns=(), ignored_columns=()):
        super().__init__(rows)
        self.columns = tuple(columns)
        self.ignored_columns = tuple(ignored_columns)


@dataclass(frozen=True)
class RowError:
    """A problem in the sheet: row as the user sees it (header = 1; None for the file as a whole)."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row is not None else "file"
        return f"{where}, {self.column or '-'}: {self.message}"


class SheetError(Exception):
    """The file cannot be read as a sheet at all (wrong type, encoding, size, missing columns)."""

    def __init__(self, message: str, *, row: int | None = None, column: str = ""):
        super().__init__(message)
        self.errors = [RowError(row, column, message)]


class ImportFailed(Exception):  # noqa: N818 (it is the outcome, not a programming error)
    """The plan had errors, or a service refused a row while writing; nothing was written."""

    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


CREATE, UPDATE, UNCHANGED = "created", "updated", "unchanged"
ENTITIES = ("companies", "sites", "streams")


def _empty_counts() -> dict[str, dict[str, int]]:
    return {entity: {CREATE: 0, UPDATE: 0, UNCHANGED: 0} for entity in ENTITIES}


@dataclass
class CompanyPlan:
    ref: str
    row: int
    company: Company | None  # the existing company, None when it is new
    fields: dict  # keyword arguments for company_create / company_update
    action: str = CREATE
    scope: str = ""  # a new company's import scope (ImportScope)


@dataclass
class SitePlan:
    company_ref: str
    name: str
    row: int
    site: Site | None
    fields: dict  # latitude, longitude
    region: Region | None = None  # set when it is new or changes
    action: str = CREATE


@dataclass
class StreamPlan:
    company_ref: str
    site_name: str
    ref: str
    row: int
    stream: Stream | None
    fields: dict  # keyword arguments for stream_create / stream_update
    ewc: list[EwcCode] | None = None  # None: keep the existing codes
    action: str = CREATE


@dataclass
class ImportPlan:
    """What applying the sheet would do, and everything wrong with it."""

    rows: int = 0
    companies: list[CompanyPlan] = field(default_factory=list)
    sites: list[SitePlan] = field(default_factory=list)
    streams: list[StreamPlan] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    scope: ImportScope | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, dict[str, int]]:
        """Predicted counts: {"companies": {"created": n, "updated": n, "unchanged": n}, ...}."""
        counts = _empty_counts()
        for entity, plans in (("companies", self.companies), ("sites", self.sites), ("streams", self.streams)):
            for p in plans:
                counts[entity][p.action] += 1
        return counts


@dataclass
class ImportResult:
    """The outcome of an import. `applied` is False on errors and on a dry run: nothing was written."""

    rows: int = 0
    applied: bool = False
    dry_run: bool = False
    counts: dict[str, dict[str, int]] = field(default_factory=_empty_counts)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    company_ids: list[int] = field(default_factory=list)  # the sheet's companies, once applied

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        verb = "would be" if not self.applied else "were"
        parts = [
            f"{entity}: {c[CREATE]} created, {c[UPDATE]} updated, {c[UNCHANGED]} unchanged"
            for entity, c in self.counts.items()
        ]
        head = f"{self.rows} row(s) read. " + ("Dry run, nothing written. " if self.dry_run else "")
        return head + f"Records that {verb} imported: " + "; ".join(parts) + "."


# --- 1. Parsing ------------------------------------------------------------------------------------

def _max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 5 * 1024 * 1024))


def _normalise_header(name) -> str:
    s = str(name or "").strip().lower().rstrip("*").strip()
    return "_".join(s.replace("-", " ").split())


def _cell_text(value, column: str) -> str:
    """A cell as text. Numbers come back without float noise; an EWC code typed as a number gets
    its leading zero back (Excel turns 020501 into 20501)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and column == "ewc_code" and float(value).is_integer():
        return f"{int(value):06d}"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return " ".join(str(value).split()) if column != "description" else str(value).strip()


def _build_rows(records: Iterable[tuple[int, list]]) -> SheetRows:
    """Turn (row number, cells) records into SheetRows: find the header, map known columns."""
    header: list[str] | None = None
    rows: list[SheetRow] = []
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for number, cells in records:
        if header is None:
            if not any(str(c).strip() for c in cells if c is not None):
                continue
            header = [_normalise_header(c) for c in cells[:MAX_COLUMNS]]
            for pos, name in enumerate(header):
                if not name:
                    continue
                if name in COLUMNS:
                    if name in positions:
                        raise SheetError(f"Column “{name}” appears twice in the header.", row=number, column=name)
                    positions[name] = pos
                else:
                    ignored.append(name)
            if "company_ref" not in positions:
                raise SheetError(
                    "The header has no “company_ref” column (the first non-empty row must name the columns; "
                    "see the template).",
                    row=number, column="company_ref",
                )
            continue
        values = {}
        for name, pos in positions.items():
            raw = cells[pos] if pos < len(cells) else None
            text = _cell_text(raw, name)
            if len(text) > MAX_CELL_CHARS:
                raise SheetError(f"A cell is longer than {MAX_CELL_CHARS} characters.", row=number, column=name)
            values[name] = text
        if not any(values.values()):
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetError(f"The sheet has more than {MAX_ROWS} rows; split it into smaller files.")
        rows.append(SheetRow(number=number, values=values))
    if header is None:
        raise SheetError("The sheet is empty.")
    return SheetRows(rows, columns=tuple(positions), ignored_columns=ignored)


def _read_csv(data: bytes) -> SheetRows:
    if data.startswith(b"PK\x03\x04"):
        raise SheetError("This file is an Excel workbook, not CSV: give it the .xlsx extension.")
    if b"\x00" in data:
        raise SheetError("This is not a text file. Save the sheet as “CSV UTF-8” or as .xlsx.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(
            f"The file is not UTF-8 text (byte {exc.start}). Save it as “CSV UTF-8 (comma delimited)” or as .xlsx."
        ) from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # The header decides the delimiter: Excel in many European locales writes ';'.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _build_rows((number, cells) for number, cells in enumerate(reader, start=1))
    except csv.Error as exc:
        raise SheetError(f"The CSV file is malformed: {exc}.") from None


def _check_xlsx_archive(data: bytes) -> None:
    """Refuse what is not really an XLSX workbook before openpyxl touches it.

    From the zip's central directory (nothing decompressed yet): a real workbook has
    `[Content_Types].xml` and `xl/workbook.xml`, no encrypted members, a bounded number of members,
    a bounded total unpacked size and no member that unpacks far beyond its packed size (zip bomb).
    Python's zipfile never inflates a member beyond the size the directory declares (and fails on a
    CRC mismatch), so these declared sizes bound all later work. Then every XML part is streamed once
    to refuse DTDs and entity declarations (billion laughs, XXE) and non-UTF-8 encodings: openpyxl
    parses through defusedxml anyway, this makes the refusal early, cheap and explicit.
    """
    if not data.startswith(b"PK\x03\x04"):
        hint = " It looks like an old .xls workbook: save it as .xlsx." if data.startswith(b"\xd0\xcf\x11\xe0") else ""
        raise SheetError("The file is not a real .xlsx workbook." + hint + " Save it as .xlsx or CSV UTF-8.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise SheetError("The file is a zip archive but not an .xlsx workbook.")
            if len(infos) > MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED:
                raise SheetError("The workbook unpacks to too much data (a “zip bomb”?); save just the import "
                                 "sheet.")
            for info in infos:
                if info.flag_bits & 0x1:
                    raise SheetError("The workbook is encrypted or password-protected; save it without a password.")
                if info.file_size > MAX_RATIO_FREE_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
                    info.compress_size, 1
                ):
                    raise SheetError("The workbook unpacks to far more data than its size (a “zip bomb”?); "
                                     "save just the import sheet.")
            for info in infos:
                if info.filename.lower().endswith(XML_PART_SUFFIXES):
                    _check_xml_part(archive, info)
    except SheetError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError):
        raise SheetError("The file is not a real .xlsx workbook (damaged archive).") from None


def _check_xml_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one XML part in chunks (bounded memory): no DOCTYPE or ENTITY declarations, UTF-8 only."""
    tail = b""
    first = True
    with archive.open(info) as member:
        while chunk := member.read(XML_SCAN_CHUNK):
            if first:
                first = False
                if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in chunk[:4]:
                    raise SheetError("The workbook has XML parts that are not UTF-8; save it again as .xlsx.")
            window = (tail + chunk).lower()
            if b"<!doctype" in window or b"<!entity" in window:
                raise SheetError("The workbook contains XML entity or DTD declarations, which are refused for "
                                 "safety. Save it again as .xlsx from a spreadsheet program.")
            tail = window[-16:]


def _workbook_error(exc: Exception) -> SheetError:
    """A readable error for a workbook openpyxl failed on; defusedxml refusals are named as such."""
    from defusedxml import DefusedXmlException

    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, DefusedXmlException):
            return SheetError("The workbook contains XML entity or DTD declarations, which are refused for "
                              "safety. Save it again as .xlsx from a spreadsheet program.")
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return SheetError(f"The workbook cannot be read ({type(exc).__name__}). Save it again as .xlsx.")


def _read_xlsx(data: bytes) -> SheetRows:
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    _check_xlsx_archive(data)
    if not DEFUSEDXML:  # pragma: no cover - only if someone uninstalls defusedxml or sets OPENPYXL_DEFUSEDXML
        raise SheetError("XLSX import is disabled: defusedxml is not active for openpyxl.")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged or hostile parts
        raise _workbook_error(exc) from None
    try:
        if not workbook.worksheets:
            raise SheetError("The workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        def records():
            rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
            for number, cells in enumerate(rows, start=1):
                if number > MAX_SHEET_ROWS_READ:
                    raise SheetError(f"The worksheet has more than {MAX_SHEET_ROWS_READ} rows (blank ones "
                                     "included); copy just the import rows into a new sheet.")
                yield number, list(cells)

        try:
            return _build_rows(records())
        except SheetError:
            raise
        except Exception as exc:
            raise _workbook_error(exc) from None
    finally:
        workbook.close()


def parse_sheet(fileobj, filename: str) -> SheetRows:
    """Read a CSV (UTF-8, `,` or `;` delimited) or XLSX file (first worksheet) into rows.

    Raises SheetError for a file that cannot be imported at all. Cells are returned as stripped text;
    blank rows are skipped but still counted, so row numbers match what a spreadsheet shows.
    """
    limit = _max_bytes()
    data = fileobj.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise SheetError(f"The file is larger than {limit // (1024 * 1024) or 1} MB.")
    if not data.strip():
        raise SheetError("The file is empty.")
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(data)
    if suffix == ".xls":
        raise SheetError("Old .xls workbooks are not supported: save the sheet as .xlsx or CSV UTF-8.")
    if suffix == ".ods":
        raise SheetError("OpenDocument sheets are not supported: save the sheet as .xlsx or CSV UTF-8.")
    if suffix:
        raise SheetError(f"Unsupported file type “{suffix}”: upload a .csv or .xlsx file.")
    return _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(data)


# --- 2. Validation ---------------------------------------------------------------------------------

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
        codes = [_ewc_text(c) for c in row.get("ewc_code").replace(",", ";").split(";") if c.strip()]
        malformed = [c for c in codes if not (normalise_ewc(c).isdigit() and len(normalise_ewc(c)) == 6)]
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
        ("max_transport_km", read("max_distance_km", lambda r: float(parse_number(r)))),
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


# --- 3. Writing ------------------------------------------------------------------------------------

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
    # One matching run for the whole sheet instead of one per stream.
    with defer_matching(), transaction.atomic():
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
