"""The figures of a match that may be shown before an introduction, from coarsened inputs only.

A party sees its counterpart as a sector, a region and a banded distance. Every figure it is shown
before both sides said yes must be a function of what it may know: its own data, the public facts
of the other listing (category, quantity, months) and the banded distance. The engine's exact parts
are not: the distance part with the radius gives the exact distance, and the volume/value part holds
the unit value built from both parties' prices. So the shared parts are recomputed here:

- distance: ``1 - d / radius`` where d is the middle of the band's range within the radius
  (`band_distance`; the band is what the party is shown as "about N km");
- volume/value: the volume fit (from the public quantities) and, for material, the value ratio of the
  value class's default value against transport over the band, never a price;
- compatibility and availability are functions of public facts; they are rounded to whole percent;
- the total composes the shared parts exactly as the engine composes its parts.

The money a party is shown is its own side's, and the receiver's is counted before the provider's
asking price (see ``receiver_eur_before_price``). The CO2e shown to someone who does not know the
provider's side leaves out the avoided disposal (``route_blind_co2e_t``): it follows the provider's
current disposal route, a confidential field, and so does the tonnage kept from landfill or
incineration, which such a viewer is not shown. Pure Python, deterministic, no Django.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import EngineConfig
from .impact import ImpactFactors, avoided_disposal_co2e_t
from .scoring import compose, transport_per_unit, value_ratio, volume_fit, volume_value_part

# A distance part shown for a pair inside its radius never reads 0: the band may reach the radius.
MIN_SHARED_DISTANCE_PART = 0.05


def band_range(band_km: float) -> tuple[float, float]:
    """The distances shown as "about `band_km` km" (`streams.presentation.approximate_km`: 5 km steps
    below 50 km, 10 km steps to 200 km, then 50 km steps; "about 5 km" also covers 0-5 km)."""
    if band_km <= 5:
        return 0.0, 7.5
    if band_km < 50:
        return band_km - 2.5, band_km + 2.5
    if band_km == 50:
        return 47.5, 55.0
    if band_km < 200:
        return band_km - 5.0, band_km + 5.0
    if band_km == 200:
        return 195.0, 225.0
    return band_km - 25.0, band_km + 25.0


def band_distance(band_km: float, radius_km: float) -> float:
    """The distance the shared figures are computed at: the middle of the band's range that lies
    within the pair's radius (a suggested pair is never beyond it). A heat pair "about 5 km" apart
    within a 5 km radius is taken at 2.5 km, not at the radius."""
    lo, hi = band_range(band_km)
    if radius_km > 0:
        hi = min(hi, max(lo, radius_km))
    return (lo + hi) / 2.0


@dataclass(frozen=True)
class SharedParts:
    compatibility: float
    distance: float
    volume_value: float
    availability: float
    total: float


def _pct(value: float) -> float:
    return round(min(1.0, max(0.0, value)), 2)


def shared_parts(
    *,
    band_km: float,
    radius_km: float,
    compatibility: float,
    availability: float,
    is_material: bool,
    q_offer: float | None,
    q_need: float | None,
    value_class: str,
    prospective: bool,
    config: EngineConfig,
) -> SharedParts:
    """The four parts and the total as a party may see them (see the module docstring)."""
    d = band_distance(band_km, radius_km)
    if radius_km > 0:
        dist = max(MIN_SHARED_DISTANCE_PART, 1.0 - (d / radius_km) ** config.distance_decay_power)
    else:
        dist = 1.0
    fit, _, _ = volume_fit(q_offer or 0.0, q_need or 0.0, config)
    default_value = config.default_value_for(value_class)
    ratio = value_ratio(default_value, transport_per_unit(d, config))
    vv = volume_value_part(is_material, fit, ratio, config)
    c, d, v, a = _pct(compatibility), _pct(dist), _pct(vv), _pct(availability)
    total = compose(c, d, v, a, config) * (config.prospective_penalty if prospective else 1.0)
    return SharedParts(c, d, v, a, _pct(total))


def shared_transport_eur(quantity: float, distance_km: float, *, is_material: bool, config: EngineConfig) -> float:
    """Yearly road transport cost over `distance_km` (the band's, `band_distance`); 0 for what is not
    trucked."""
    if not is_material:
        return 0.0
    return max(0.0, quantity) * transport_per_unit(distance_km, config)


def receiver_eur_before_price(quantity: float, purchase_price: float, transport_eur: float) -> float:
    """The receiver's yearly money before the provider's asking price: the purchase it avoids at its own
    price, minus transport. The asking price is the provider's to tell at the introduction."""
    return max(0.0, quantity) * purchase_price - transport_eur


def route_blind_co2e_t(co2e_t: float, *, kind: str, route: str | None, quantity: float,
                       factors: ImpactFactors) -> float:
    """The engine's CO2e without the part that follows the provider's disposal route."""
    return co2e_t - avoided_disposal_co2e_t(kind, route, quantity, factors)
