"""The plan of a demo, pure (no database): which companies, sites and streams it holds.

Deterministic from `random.Random`: the same seed gives the same companies, and company *i* is the same
whatever the total size, so a larger demo extends a smaller one. Sites sit in industrial zones a few km
around real industrial towns; every company belongs to a sector archetype whose typical offers and needs
it lists (demo/catalogue.py). Companies 1 and 2 are the showcase pair the demo users belong to
(demo/data/showcase_*.csv): a dairy in Lund whose warm water fits the greenhouse 2 km away.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

from demo.catalogue import (
    BRANDS,
    FAMILY_NAMES,
    LEGAL_FORM,
    NOUN_FIRST,
    SECTORS,
    SECTORS_BY_KEY,
    TOWNS,
    Sector,
    StreamTemplate,
    Town,
    rows,
)
from demo.catalogue import number as read_number
from streams.months import mask_from_months

COMPANY_PREFIX = "demo-c-"
DEFAULT_COMPANIES = 300


@dataclass
class PlannedStream:
    ref: str
    template: StreamTemplate
    site_index: int
    values: dict


@dataclass
class PlannedCompany:
    number: int
    ref: str
    name: str
    sector: Sector
    country: str
    employees: int
    sites: list[tuple[str, float, float, str]]  # name, latitude, longitude, region code
    streams: list[PlannedStream]
    entered_by_facilitator: bool = False


def _round_sig(x: float, digits: int = 2) -> float:
    if x <= 0:
        return x
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def _jitter(rng: random.Random, lat: float, lon: float, km: float) -> tuple[float, float]:
    """A point about `km` (one standard deviation) from (lat, lon), never more than 3 sigma away."""
    dx, dy = (max(-3.0, min(3.0, rng.gauss(0, 1))) * km for _ in range(2))
    return (round(lat + dy / 111.0, 5), round(lon + dx / (111.0 * math.cos(math.radians(lat))), 5))


@functools.lru_cache(maxsize=1024)
def industrial_zones(town: Town, seed: int) -> tuple[tuple[float, float], ...]:
    """One to three industrial areas within a few km of the town centre: sites cluster around them."""
    rng = random.Random(f"{seed}:zones:{town.name}")
    return tuple(_jitter(rng, town.latitude, town.longitude, 1.5) for _ in range(rng.randint(1, 3)))


def _company_name(rng: random.Random, sector: Sector, town: Town) -> str:
    noun = sector.local.get(town.country, sector.noun)
    style = rng.random()
    if style < 0.4:
        prefix = town.name
    elif style < 0.75:
        prefix = rng.choice(FAMILY_NAMES[town.country])
    else:
        prefix = rng.choice(BRANDS)
    core = f"{noun} {prefix}" if town.country in NOUN_FIRST else f"{prefix} {noun}"
    return f"{core} {LEGAL_FORM[town.country]}"


def _stream_values(rng: random.Random, t: StreamTemplate) -> dict:
    """Field values of one stream drawn from its template (category and EWC codes resolved later)."""
    yearly = _log_uniform(rng, *t.quantity)
    if t.unit == "unit" or t.quantity[1] <= 20:
        yearly = max(1, round(yearly))
    period = "year"
    quantity = _round_sig(yearly)
    if t.unit not in ("unit", "h") and rng.random() < 0.2:
        period = "month"
        quantity = _round_sig(yearly / 12)
    values = {
        "direction": t.direction,
        "title": t.title,
        "description": t.description,
        "quantity": quantity,
        "unit": t.unit,
        "period": period,
        "energy_carrier": t.carrier,
        "physical_form": t.form,
        "water_quality": t.water_quality,
        "provenance": rng.choices(("estimate", "measured", "lab"), (70, 25, 5))[0],
        "status": rng.choices(("active", "draft", "paused"), (90, 5, 5))[0],
        "visibility": rng.choices(("anonymous", "public", "private"), (55, 35, 10))[0],
    }
    if t.temperature:
        values["temperature_c"] = round(rng.uniform(*t.temperature))
    if t.months:
        values["availability"] = "seasonal"
        values["months"] = mask_from_months(t.months)
    if t.price:
        values["price_eur_per_unit"] = round(rng.uniform(*t.price), 1 if abs(t.price[1]) < 10 else 0)
    if t.direction == "offer":
        if t.disposal:
            values["disposal_route"] = t.disposal
        if t.disposal_cost:
            values["disposal_cost_eur_per_unit"] = round(rng.uniform(*t.disposal_cost), 1)
        if t.ewc:
            values["regulatory_status"] = rng.choices(("waste", "by_product", "unknown"), (60, 30, 10))[0]
        else:
            values["regulatory_status"] = rng.choices(("by_product", "product", "unknown"), (50, 20, 30))[0]
        if rng.random() < 0.3 and t.unit not in ("unit", "h"):
            values["quantity_min"] = _round_sig(quantity * 0.8)
            values["quantity_max"] = _round_sig(quantity * 1.2)
    if rng.random() < 0.15:
        values["max_transport_km"] = float(rng.choice((5, 10, 15)) if t.category.startswith("ENE.")
                                           else rng.choice((50, 100, 150, 300)))
    return values


def plan_company(number: int, *, seed: int = 42) -> PlannedCompany:
    """Company `number` (1-based) of the demo: the same for a given seed whatever the total size."""
    if number in SHOWCASE:
        return _showcase(number)
    rng = random.Random(f"{seed}:company:{number}")
    # Regions take turns, so even a small demo spans every region and country; within a region the
    # larger industrial towns get more companies.
    regions = _region_order(seed)
    region = regions[(number - 1) % len(regions)]
    towns = [t for t in TOWNS if t.region == region]
    town = rng.choices(towns, [t.weight for t in towns])[0]
    weights = [s.weight * (6 if s.key in town.specialties else 1) for s in SECTORS]
    sector = rng.choices(SECTORS, weights)[0]
    employees = round(_log_uniform(rng, *sector.employees))
    zones = industrial_zones(town, seed)
    sites = []
    lat, lon = _jitter(rng, *rng.choice(zones), 0.7)
    noun = sector.local.get(town.country, sector.noun)
    sites.append((f"{noun} {town.name}", lat, lon, town.region))
    if rng.random() < 0.08:
        other = rng.choice(towns)
        lat2, lon2 = _jitter(rng, *rng.choice(industrial_zones(other, seed)), 0.7)
        name2 = f"{noun} {other.name}" if other is not town else f"{noun} {town.name} 2"
        sites.append((name2, lat2, lon2, other.region))
    streams: list[PlannedStream] = []
    if rng.random() >= 0.04:  # a few companies have registered but listed nothing yet
        for t in sector.templates():
            if rng.random() < t.p:
                k = len(streams) + 1
                streams.append(PlannedStream(
                    ref=f"demo-s-{number:05d}-{k}", template=t, site_index=rng.randrange(len(sites)),
                    values=_stream_values(rng, t),
                ))
    return PlannedCompany(
        number=number, ref=f"{COMPANY_PREFIX}{number:05d}", name=_company_name(rng, sector, town), sector=sector,
        country=town.country, employees=employees, sites=sites, streams=streams,
        entered_by_facilitator=rng.random() < 0.2,
    )


def _region_order(seed: int) -> list[str]:
    regions = sorted({t.region for t in TOWNS})
    random.Random(f"{seed}:regions").shuffle(regions)
    return regions


# The showcase pair, as written in demo/data/showcase_*.csv (the same whatever the seed). A stream's
# `template` is the index of its sector's own stream it lists; an empty cell leaves the field unset.
SHOWCASE = {int(r["number"]): r for r in rows("showcase_companies.csv")}
_SHOWCASE_STREAMS = rows("showcase_streams.csv")
_SHOWCASE_KEYS = ("company", "ref", "template", "site")
_NUMERIC = frozenset({"quantity", "price_eur_per_unit", "disposal_cost_eur_per_unit", "temperature_c"})


def _showcase_value(key: str, cell: str):
    if key == "months":
        return mask_from_months(int(m) for m in cell.split(";"))
    return read_number(cell) if key in _NUMERIC else cell


def _showcase(company_number: int) -> PlannedCompany:
    row = SHOWCASE[company_number]
    sector = SECTORS_BY_KEY[row["sector"]]
    streams = [
        PlannedStream(s["ref"], sector.streams[int(s["template"])], int(s["site"]), {
            k: _showcase_value(k, v) for k, v in s.items() if k not in _SHOWCASE_KEYS and v != ""
        })
        for s in _SHOWCASE_STREAMS if int(s["company"]) == company_number
    ]
    return PlannedCompany(
        number=company_number, ref=f"{COMPANY_PREFIX}{company_number:05d}", name=row["name"], sector=sector,
        country=row["country"], employees=int(row["employees"]),
        sites=[(row["site"], float(row["latitude"]), float(row["longitude"]), row["region"])], streams=streams,
    )


def plan(*, streams: int | None, seed: int = 42) -> list[PlannedCompany]:
    """The companies of a demo: DEFAULT_COMPANIES of them, or as many as it takes to list exactly
    `streams` streams (the last company's list is cut short; the two showcase companies always come)."""
    companies: list[PlannedCompany] = []
    if streams is None:
        return [plan_company(n, seed=seed) for n in range(1, DEFAULT_COMPANIES + 1)]
    total, number = 0, 0
    # The showcase pair always exists: the demo users belong to it.
    while total < streams or number < len(SHOWCASE):
        number += 1
        company = plan_company(number, seed=seed)
        company.streams = company.streams[: streams - total]
        total += len(company.streams)
        companies.append(company)
    return companies
