"""Estimated yearly impact of a match: quantity, diversion, CO2e and money for both parties.

Emission factors come from ``matching/engine/data/impact_factors.csv`` (key, value, unit, source); transport
cost, road circuity and the road-freight emission factor come from ``EngineConfig`` so that the score and
the impact use the same transport model (a test keeps the CSV and the config equal). Every estimate
carries the assumptions it used, in plain language.

    CO2e avoided = avoided disposal + avoided virgin production (x substitution factor) - road transport
    EUR provider = quantity x (avoided disposal cost + asking price)        (a negative price is a gate fee)
    EUR receiver = quantity x (today's virgin price - asking price) - transport  (receiver pays transport)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .compat import lineage
from .config import EngineConfig
from .types import Impact, StreamSpec

DEFAULT_FACTORS_PATH = Path(__file__).resolve().parent / "data" / "impact_factors.csv"
UNITS = {"material": "t", "energy": "MWh", "water": "m3", "asset": "units", "expertise": "hours"}
DIVERTED_ROUTES = ("landfill", "incineration")


@dataclass(frozen=True, slots=True)
class ImpactFactors:
    """The shipped factor table: key -> (value, unit, source)."""

    rows: tuple[tuple[str, float, str, str], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "rows", tuple(sorted(self.rows)))

    def get(self, key: str) -> tuple[float, str] | None:
        """(value, source) for a key, or None."""
        for k, v, _unit, source in self.rows:
            if k == key:
                return v, source
        return None

    def as_dict(self) -> dict[str, float]:
        return {k: v for k, v, _u, _s in self.rows}


def load_impact_factors(path: str | Path | None = None) -> ImpactFactors:
    """Read the factor CSV; the default is the table the engine ships in ``data/``."""
    return _load(str(Path(path) if path else DEFAULT_FACTORS_PATH))


@lru_cache(maxsize=8)
def _load(path: str) -> ImpactFactors:
    rows = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            rows.append((row["key"].strip(), float(row["value"]), row["unit"].strip(), row["source"].strip()))
    return ImpactFactors(tuple(rows))


class _Model:
    """The factors as dictionaries, with memoised look-ups and assumption labels (per factor table)."""

    def __init__(self, factors: ImpactFactors):
        self.values = {k: (v, s) for k, v, _u, s in factors.rows}
        self._virgin: dict[tuple, tuple[float, str | None]] = {}
        self._labels: dict[str, str | None] = {}
        self.plans: dict[tuple, tuple] = {}

    def get(self, key: str):
        return self.values.get(key)

    def factor(self, key: str) -> tuple[float, str | None] | None:
        """(value, assumption label or None) for a key, or None if the table lacks it."""
        hit = self.values.get(key)
        if hit is None:
            return None
        label = self._labels.get(key)
        if key not in self._labels:
            label = self._labels[key] = _label(key, hit[1])
        return hit[0], label

    def virgin(self, offer: StreamSpec | None, need: StreamSpec | None) -> tuple[float, str | None]:
        ck = (
            offer.ewc_codes if offer is not None else None,
            (need.category, need.category_ancestors) if need is not None else None,
            (offer.category, offer.category_ancestors) if offer is not None else None,
            (need or offer).value_class,
        )
        hit = self._virgin.get(ck)
        if hit is None:
            value, key, source = virgin_factor(offer, need, self)
            hit = self._virgin[ck] = (value, _label(key or "virgin_co2e", source))
        return hit


_MODELS: dict[int, tuple[ImpactFactors, _Model]] = {}


def _model(factors: ImpactFactors) -> _Model:
    entry = _MODELS.get(id(factors))
    if entry is None or entry[0] is not factors:
        entry = _MODELS[id(factors)] = (factors, _Model(factors))
    return entry[1]


def _label(key: str, source: str) -> str | None:
    return f"{key}: {source}" if source.startswith("assumption") else None


def virgin_factor(offer: StreamSpec | None, need: StreamSpec | None, look: _Model):
    """t CO2e per unit of virgin production avoided: by the offer's EWC code, then the need's or offer's
    category lineage, then the value class. Returns (value, key, source)."""
    keys = []
    if offer is not None:
        keys += [f"virgin_co2e.ewc.{c}" for c in offer.ewc_codes]
    for s in (need, offer):
        if s is not None:
            keys += [f"virgin_co2e.category.{c}" for c in lineage(s.category, s.category_ancestors)]
    vc = (need or offer).value_class if (need or offer) is not None else "medium"
    keys.append(f"virgin_co2e.value_class.{vc}")
    for key in keys:
        hit = look.get(key)
        if hit is not None:
            return hit[0], key, hit[1]
    return 0.0, "", "assumption: no virgin production factor for this stream"


class _Plan(NamedTuple):
    """Everything about an impact estimate that does not depend on quantity, distance or prices."""

    material: bool
    diverted: bool
    disposal_factor: float
    virgin_factor: float
    other_factor: float  # energy: avoided per MWh; water: supply (+ treatment) per m3
    virgin_price_default: float | None  # prospective offer: assumed purchase price of the receiver
    unit: str
    assumptions: tuple[str, ...]


def _plan(
    offer: StreamSpec | None,
    need: StreamSpec | None,
    prospective: bool,
    notes: tuple[str, ...],
    model: _Model,
    config: EngineConfig,
) -> _Plan:
    key = (
        None
        if offer is None
        else (
            offer.kind,
            offer.value_class,
            offer.disposal_route,
            offer.ewc_codes,
            offer.category,
            offer.category_ancestors,
            offer.disposal_cost_eur_per_unit is None,
        ),
        None
        if need is None
        else (
            need.kind,
            need.value_class,
            need.category,
            need.category_ancestors,
            need.price_eur_per_unit is None,
        ),
        prospective,
        notes,
        id(config),
    )
    hit = model.plans.get(key)
    if hit is not None and hit[0] is config:
        return hit[1]
    anchor = offer if offer is not None else need
    kind = anchor.kind
    out: list[str] = list(notes)
    if prospective:
        out.append(_PROSPECTIVE_OFFER if offer is not None else _PROSPECTIVE_NEED)
    route = offer.disposal_route if offer is not None else None
    disposal_f = virgin_f = other_f = 0.0
    if kind == "material":
        out.append(_road_note(config.road_circuity))
        if route:
            hit_f = model.factor(_DISPOSAL_KEYS.get(route) or f"disposal_co2e.{route}")
            if hit_f is not None:
                disposal_f = hit_f[0]
                if hit_f[1]:
                    out.append(hit_f[1])
        else:
            out.append("disposal route not given: no avoided disposal counted")
        virgin_f, label = model.virgin(offer, need)
        if label:
            out.append(label)
    elif kind == "energy":
        hit_f = model.factor(
            _ENERGY_KEYS.get(anchor.value_class) or f"avoided_energy_co2e.{anchor.value_class}"
        )
        if hit_f is None:
            out.append("no avoided-energy factor for this energy type: CO2e not estimated")
        else:
            other_f = hit_f[0]
            if hit_f[1]:
                out.append(hit_f[1])
        out.append("pipe or connection cost not estimated")
    elif kind == "water":
        supply = model.get("water_supply_co2e_t_per_m3")
        other_f = supply[0] if supply else 0.0
        if route == "sewer":
            sewer = model.get("disposal_co2e.sewer")
            other_f = (other_f, sewer[0] if sewer else 0.0)
        out.append("pipe or connection cost not estimated")
    else:
        out.append("CO2e not estimated for equipment and expertise")
    if offer is not None and offer.disposal_cost_eur_per_unit is None:
        out.append("provider's disposal cost not given: not counted")
    default_price = None
    if need is not None and need.price_eur_per_unit is not None:
        pass
    elif need is None and offer is not None:
        default_price = config.default_value_for(offer.value_class) / 2.0
        out.append(_price_note(default_price, UNITS.get(kind, "unit")))
    else:
        out.append("receiver's current purchase price not given: not counted")
    plan = _Plan(
        kind == "material",
        kind == "material" and route in DIVERTED_ROUTES,
        disposal_f,
        virgin_f,
        other_f,
        default_price,
        UNITS.get(kind, "units"),
        _intern(tuple(out)),
    )
    if len(model.plans) > 100_000:
        model.plans.clear()
    model.plans[key] = (config, plan)
    return plan


def avoided_disposal_co2e_t(kind: str, route: str | None, quantity: float, factors: ImpactFactors) -> float:
    """The part of ``estimate_impact``'s CO2e that follows the provider's current disposal route (a
    confidential field): the avoided landfill, incineration, ... for material, the avoided sewer
    treatment for water sent to the sewer; 0 otherwise."""
    if not route:
        return 0.0
    model = _model(factors)
    q = max(0.0, float(quantity))
    if kind == "material":
        hit = model.factor(_DISPOSAL_KEYS.get(route) or f"disposal_co2e.{route}")
        return q * hit[0] if hit is not None else 0.0
    if kind == "water" and route == "sewer":
        sewer = model.get("disposal_co2e.sewer")
        return q * sewer[0] if sewer else 0.0
    return 0.0


def estimate_impact(
    offer: StreamSpec | None,
    need: StreamSpec | None,
    *,
    distance_km: float,
    exchangeable: float,
    substitution_factor: float,
    factors: ImpactFactors,
    config: EngineConfig,
    prospective: bool = False,
    notes: tuple[str, ...] = (),
) -> Impact:
    """Yearly impact of moving ``exchangeable`` base units from ``offer`` to ``need`` over ``distance_km``.

    Either side may be None for a prospective match (its data are then unknown and labelled so).
    ``notes`` are assumptions the caller made (listed first). The factor look-ups and assumption texts
    depend only on the streams' kinds, categories and routes and are memoised (``_plan``).
    """
    plan = _plan(offer, need, prospective, notes, _model(factors), config)
    q = max(0.0, float(exchangeable))
    diverted = co2e = transport_eur = 0.0
    if plan.material:
        road_km = distance_km * config.road_circuity
        transport_eur = q * (config.handling_eur_per_t + config.transport_eur_per_tkm * road_km)
        transport_co2 = q * road_km * config.road_co2e_kg_per_tkm / 1000.0
        if plan.diverted:
            diverted = q
        co2e = q * plan.disposal_factor + q * substitution_factor * plan.virgin_factor - transport_co2
    elif isinstance(plan.other_factor, tuple):  # water to sewer: supply and treatment avoided
        co2e = q * plan.other_factor[0]
        co2e += q * plan.other_factor[1]
    elif (offer if offer is not None else need).kind == "energy":
        co2e = q * substitution_factor * plan.other_factor
    else:
        co2e = q * plan.other_factor
    asking = (offer.price_eur_per_unit if offer is not None else None) or 0.0
    eur_provider = q * ((offer.disposal_cost_eur_per_unit or 0.0) + asking) if offer is not None else 0.0
    if need is not None and need.price_eur_per_unit is not None:
        virgin_price = need.price_eur_per_unit
    elif plan.virgin_price_default is not None:
        virgin_price = plan.virgin_price_default
    else:
        virgin_price = 0.0
    eur_receiver = q * (virgin_price - asking) - transport_eur
    return Impact(q, plan.unit, diverted, co2e, eur_provider, eur_receiver, transport_eur, plan.assumptions)


_DISPOSAL_KEYS = {
    r: f"disposal_co2e.{r}"
    for r in ("landfill", "incineration", "energy_recovery", "recycling", "sewer", "other")
}
_ENERGY_KEYS = {v: f"avoided_energy_co2e.{v}" for v in ("heat", "steam", "energy_transportable")}
_PROSPECTIVE_OFFER = "prospective: assumes the company could take the whole offer"
_PROSPECTIVE_NEED = "prospective: assumes a nearby producer could supply the whole need"
_INTERNED: dict[tuple[str, ...], tuple[str, ...]] = {}


def _intern(t: tuple[str, ...]) -> tuple[str, ...]:
    """Share identical assumption tuples between candidates (there are only a few distinct ones)."""
    return _INTERNED.setdefault(t, t) if len(_INTERNED) < 10_000 else t


@lru_cache(maxsize=64)
def _road_note(circuity: float) -> str:
    return f"road distance = {circuity:g} x straight line; the receiver pays transport"


@lru_cache(maxsize=256)
def _price_note(price: float, unit: str) -> str:
    return f"receiver's current purchase price assumed {price:g} EUR/{unit} (default for this value class)"
