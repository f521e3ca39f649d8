"""The plain figures a dashboard is made of: tables of rows of cells, each cell with the number of
companies it is built from. Selectors build them, `suppression.suppress` hides what must be hidden,
and every format (page, API, CSV, XLSX, GeoJSON, open data) renders the suppressed result.

No Django model is touched here: these are data, safe to cache and to pickle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Authority dashboards suppress any cell built from fewer than 3 companies (DESIGN.md, Confidentiality).
MIN_COMPANIES = 3

PRIMARY = "primary"
COMPLEMENTARY = "complementary"

Address = tuple[str, str, str]  # (table key, row key, column key)


@dataclass
class Cell:
    """One figure and the number of distinct companies whose data it is built from."""

    value: float | int | None
    companies: int = 0
    suppressed: str = ""  # "", PRIMARY or COMPLEMENTARY (the reason is never published)

    @property
    def applicable(self) -> bool:
        return self.value is not None or bool(self.suppressed)

    @property
    def public_value(self):
        """What every format publishes: the value, or None when suppressed."""
        return None if self.suppressed else self.value

    @property
    def public_companies(self):
        return None if self.suppressed else self.companies


@dataclass
class Column:
    """A measure of a table. `unit` "row" means the row's own unit (attrs["unit"]), as for volumes of
    different kinds. Non-additive columns (company counts) are never differenced against a total.
    Hidden columns are derivable from shown ones (e.g. matched volume = volume - unmatched volume):
    they take part in suppression exactly like shown ones, but no format prints them."""

    key: str
    label: str
    unit: str = ""
    additive: bool = True
    shown: bool = True
    fmt: str = "int"  # int, qty, money


@dataclass
class Row:
    key: str
    label: str
    cells: dict[str, Cell]
    parent: str | None = None  # key of the row that is this row's total in the same table
    level: int = 0
    attrs: dict[str, Any] = field(default_factory=dict)

    def cell(self, column: str) -> Cell | None:
        return self.cells.get(column)


@dataclass
class Table:
    key: str
    title: str
    caption: str
    columns: list[Column]
    rows: list[Row]
    note: str = ""

    def __post_init__(self) -> None:
        self._index = {r.key: r for r in self.rows}

    def row(self, key: str) -> Row | None:
        return self._index.get(key)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        self._index[row.key] = row
        return row

    @property
    def shown_columns(self) -> list[Column]:
        return [c for c in self.columns if c.shown]

    def children(self, key: str | None) -> list[Row]:
        return [r for r in self.rows if r.parent == key]

    def __setstate__(self, state):  # keep the index after unpickling from the cache
        self.__dict__.update(state)
        self._index = {r.key: r for r in self.rows}


@dataclass
class Link:
    """A sum that crosses tables or columns: parent = sum of children (same measure). Suppression treats
    it like a total row with its detail rows, so the parent cannot be differenced to recover a child."""

    parent: Address
    children: list[Address]


@dataclass
class Dashboard:
    """Every figure of one scope (a region, or all regions for open data), as tables plus the sums
    that link them."""

    scope: dict[str, Any]
    tables: dict[str, Table]
    links: list[Link] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    suppressed: bool = False

    def cell(self, address: Address) -> Cell | None:
        table = self.tables.get(address[0])
        row = table.row(address[1]) if table else None
        return row.cell(address[2]) if row else None

    def table(self, key: str) -> Table | None:
        return self.tables.get(key)
