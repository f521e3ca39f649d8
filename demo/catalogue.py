"""What the demo is made of, read from the CSV files in demo/data/: real industrial towns around the
Baltic Sea, the naming customs of their countries, and sector archetypes with their typical offers and
needs.

- towns.csv: town-centre coordinates, NUTS 2 region (companies/data/regions.csv), relative number of
  companies, and the sectors typical there (';'-separated keys).
- countries.csv: the legal form of a company, whether the trade comes first in its name ("Molkerei
  Hansen GmbH", "Mleczarnia Nowak Sp. z o.o."), common family names.
- brands.csv: made-up brand words for company names.
- sectors.csv: one archetype per NACE Rev. 2.1 class (size range, weight, whether it also lists the
  common streams); sector_names.csv: its trade noun in a country's language.
- stream_templates.csv: a sector's typical offers and needs (sector `*`: the common streams of almost
  any producer), quantities per year in `unit`, ranges as min/max columns, lists ';'-separated, using
  the shipped resource taxonomy (streams/data/resource_categories.csv) and List-of-Waste codes.

Numbers keep the type they are written in (`20` an int, `0.5` a float), as the planner draws from them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
OFFER, NEED = "offer", "need"
COMMON_SECTOR = "*"  # stream_templates.csv: the streams most producers have, whatever their sector


@dataclass(frozen=True)
class Town:
    name: str
    country: str
    latitude: float
    longitude: float
    region: str  # NUTS 2 code from companies/data/regions.csv
    weight: float = 1.0  # relative number of companies
    specialties: tuple[str, ...] = ()  # sector keys that are typical here


@dataclass(frozen=True)
class StreamTemplate:
    """A typical offer or need of a sector; quantities are per year in `unit`."""

    direction: str  # "offer" or "need"
    title: str
    category: str  # ResourceCategory.code
    quantity: tuple[float, float]
    unit: str = "t"
    ewc: tuple[str, ...] = ()  # offer: its code; need: the codes it accepts
    p: float = 1.0  # share of the sector's companies that list it
    temperature: tuple[float, float] | None = None
    carrier: str = ""
    price: tuple[float, float] | None = None  # EUR per unit; negative: gate fee paid by the provider
    disposal: str = ""
    disposal_cost: tuple[float, float] | None = None
    form: str = ""
    water_quality: int | None = None
    months: tuple[int, ...] = ()  # seasonal when given
    description: str = ""


@dataclass(frozen=True)
class Sector:
    key: str
    nace: str  # NACE Rev. 2.1 class
    noun: str  # for company names: "Dairy"
    employees: tuple[int, int]
    weight: float
    streams: tuple[StreamTemplate, ...]
    local: dict[str, str] = field(default_factory=dict)  # the noun in the country's language
    common: bool = True  # also lists the packaging, pallets and scrap most producers have

    def templates(self) -> tuple[StreamTemplate, ...]:
        """The sector's own streams, then the common ones it does not already list."""
        if not self.common:
            return self.streams
        own = {t.category for t in self.streams}
        return self.streams + tuple(t for t in COMMON_STREAMS if t.category not in own)

    def categories(self) -> set[str]:
        return {t.category for t in self.templates()}


def rows(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def number(cell: str) -> int | float:
    """A number as written: an int without a decimal point or exponent, else a float."""
    return float(cell) if any(ch in cell for ch in ".eE") else int(cell)


def listed(cell: str) -> tuple[str, ...]:
    return tuple(part for part in cell.split(";") if part)


def _span(row: dict[str, str], name: str) -> tuple | None:
    lo, hi = row[f"{name}_min"], row[f"{name}_max"]
    return (number(lo), number(hi)) if lo or hi else None


def _template(row: dict[str, str]) -> StreamTemplate:
    return StreamTemplate(
        direction=row["direction"], title=row["title"], category=row["category"], quantity=_span(row, "quantity"),
        unit=row["unit"], ewc=listed(row["ewc"]), p=float(row["p"]), temperature=_span(row, "temperature"),
        carrier=row["carrier"], price=_span(row, "price"), disposal=row["disposal"],
        disposal_cost=_span(row, "disposal_cost"), form=row["form"],
        water_quality=int(row["water_quality"]) if row["water_quality"] else None,
        months=tuple(int(m) for m in listed(row["months"])), description=row["description"],
    )


def _towns() -> tuple[Town, ...]:
    return tuple(
        Town(r["name"], r["country"], float(r["latitude"]), float(r["longitude"]), r["region"], float(r["weight"]),
             listed(r["specialties"]))
        for r in rows("towns.csv")
    )


def _sectors() -> tuple[tuple[StreamTemplate, ...], tuple[Sector, ...]]:
    templates: dict[str, list[StreamTemplate]] = {}
    for r in rows("stream_templates.csv"):
        templates.setdefault(r["sector"], []).append(_template(r))
    local: dict[str, dict[str, str]] = {}
    for r in rows("sector_names.csv"):
        local.setdefault(r["sector"], {})[r["country"]] = r["noun"]
    sectors = tuple(
        Sector(r["key"], r["nace"], r["noun"], (int(r["employees_min"]), int(r["employees_max"])), float(r["weight"]),
               tuple(templates.get(r["key"], ())), local.get(r["key"], {}), common=r["common"] == "yes")
        for r in rows("sectors.csv")
    )
    return tuple(templates.get(COMMON_SECTOR, ())), sectors


TOWNS: tuple[Town, ...] = _towns()
_COUNTRIES = rows("countries.csv")
LEGAL_FORM: dict[str, str] = {r["country"]: r["legal_form"] for r in _COUNTRIES}
FAMILY_NAMES: dict[str, tuple[str, ...]] = {r["country"]: listed(r["family_names"]) for r in _COUNTRIES}
NOUN_FIRST: frozenset[str] = frozenset(r["country"] for r in _COUNTRIES if r["noun_first"] == "yes")
BRANDS: tuple[str, ...] = tuple(r["brand"] for r in rows("brands.csv"))
# Side streams of almost any producer, whatever its sector; then the sector archetypes.
COMMON_STREAMS, SECTORS = _sectors()
SECTORS_BY_KEY: dict[str, Sector] = {s.key: s for s in SECTORS}
