"""The figures of a match for a viewer who does not know both sides (see `matching.presentation`).

Computed from what such a viewer may know (`matching/engine/disclosure.py`): the distance band, the
public quantities, the value class's typical value, the sides' own money. The engine's stored figures
are corrected only by parts that depend on public facts and on the band (transport), and by the
avoided disposal, which follows the provider's confidential disposal route and is left out for a
viewer who does not know the provider's side.
"""

from __future__ import annotations

from dataclasses import dataclass

from matching.engine import (
    EngineConfig,
    SharedParts,
    band_distance,
    load_impact_factors,
    receiver_eur_before_price,
    route_blind_co2e_t,
    shared_parts,
    shared_transport_eur,
    transport_per_unit,
)
from matching.services import per_base_unit
from streams.choices import StreamKind

# Radii, typical values and transport rates: the deployment's engine configuration differs from the
# defaults only by the facilitators' pair penalties, which the shared figures do not use.
CONFIG = EngineConfig()


@dataclass(frozen=True)
class SharedFigures:
    parts: SharedParts
    at_km: float  # the distance the figures are computed at (`band_distance`)
    transport_eur: float
    receiver_eur: float  # before the provider's asking price
    transport_per_unit_eur: float
    co2e_t: float  # over the band; without the avoided disposal unless the provider's side is known
    diverted_t: float | None  # None unless the provider's side is known


def radius_km(match, config: EngineConfig = CONFIG) -> float:
    """The pair's transport radius as the engine takes it (`engine.scoring.pair_radius`)."""
    given = [s.max_transport_km for s in (match.offer, match.need) if s is not None and s.max_transport_km is not None]
    if given:
        return float(min(given))
    anchor = match.offer if match.offer is not None else match.need
    return config.radius_for(anchor.category.value_class or "medium")


def shared_figures(match, band_km: int, *, knows_offer: bool, config: EngineConfig = CONFIG) -> SharedFigures:
    offer, need = match.offer, match.need
    anchor = offer if offer is not None else need
    material = anchor.kind == StreamKind.MATERIAL
    radius = radius_km(match, config)
    parts = shared_parts(
        band_km=band_km, radius_km=radius, compatibility=match.compatibility,
        availability=match.availability_part, is_material=material,
        # A prospective pair has one listed quantity: the engine takes its volume fit as unknown.
        q_offer=None if match.prospective else offer.quantity_yearly,
        q_need=None if match.prospective else need.quantity_yearly,
        value_class=anchor.category.value_class or "medium", prospective=match.prospective, config=config,
    )
    q = match.exchangeable_yearly or 0.0
    at = band_distance(band_km, radius)
    transport = shared_transport_eur(q, at, is_material=material, config=config)
    exact_transport = float((match.impact or {}).get("transport_eur", 0.0) or 0.0)
    asking = (per_base_unit(offer.price_eur_per_unit, offer.unit, offer.kind) if offer is not None else None) or 0.0
    # eur_receiver = q * (purchase price - asking) - exact transport: add back what is not the receiver's.
    purchase = match.eur_receiver + exact_transport + q * asking
    receiver = receiver_eur_before_price(q, purchase / q if q else 0.0, transport)
    co2e = match.co2e_t
    if material:  # the trucks' CO2e over the band instead of the exact distance
        co2e += q * config.road_circuity * config.road_co2e_kg_per_tkm / 1000 * (match.distance_km - at)
    if not knows_offer and offer is not None:
        co2e = route_blind_co2e_t(co2e, kind=offer.kind, route=offer.disposal_route or None, quantity=q,
                                  factors=load_impact_factors())
    return SharedFigures(
        parts=parts, at_km=at, transport_eur=transport, receiver_eur=receiver,
        transport_per_unit_eur=transport_per_unit(at, config), co2e_t=co2e,
        diverted_t=match.diverted_t if knows_offer else None,
    )
