"""What an import reads and would do: sheet rows, row errors, the plan of creates and updates,
and the outcome."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from companies.models import Company, Region, Site
from streams.importing.scope import ImportScope
from streams.models import EwcCode, Stream


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
