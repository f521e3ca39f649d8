"""Score composition (scalar reference) and the plain-language reasons shown to users.

The vectorised path in ``tables.py`` mirrors these formulas operation by operation; the tests check
that both agree (``naive_rank`` uses only the functions here).

Parts, each in [0, 1]:
- compatibility = base evidence (see ``compat.py``) x form factor x factors for unstated limits;
- distance = 1 - (d / R) ** p within the radius R (0 at the radius, no candidate beyond);
- volume/value = for material 0.5 x volume fit + 0.5 x value / (value + transport cost per tonne),
  the value being the value class's typical value (``typical_value``: prices are confidential and stay
  out of every score); otherwise the volume fit (pipes and services are not costed per tonne);
- availability = share of the need's months in which the offer is available.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

from .compat import CompatCache, CompatResult, Profile, constraint_factor, streams_excluded
from .config import VALUE_CLASS_LABELS, EngineConfig
from .geo import haversine_km
from .impact import UNITS, ImpactFactors, estimate_impact
from .types import ALL_MONTHS, CompanySpec, MatchCandidate, ScoreBreakdown, StreamSpec

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
POPCOUNT = tuple(bin(i).count("1") for i in range(ALL_MONTHS + 1))


# --- parts (scalar reference) -------------------------------------------------------------------
def norm_months(mask: int) -> int:
    """0 and 0xFFF both mean all year."""
    mask = int(mask) & ALL_MONTHS
    return ALL_MONTHS if mask == 0 else mask


def availability_part(offer_months: int, need_months: int) -> float:
    """Share of the need's months in which the offer is available."""
    o, n = norm_months(offer_months), norm_months(need_months)
    return POPCOUNT[o & n] / POPCOUNT[n]


def pair_radius(offer: StreamSpec | None, need: StreamSpec | None, config: EngineConfig) -> tuple[float, str]:
    """Transport radius in km and where it comes from ('stream' limit or the 'class' default).

    The smallest stream max_transport_km given wins; otherwise the default for the offer's value class (the need's
    when there is no offer)."""
    given = [s.max_transport_km for s in (offer, need) if s is not None and s.max_transport_km is not None]
    if given:
        return float(min(given)), "stream"
    anchor = offer if offer is not None else need
    return config.radius_for(anchor.value_class), "class"


def distance_part(d: float, radius: float, config: EngineConfig) -> float | None:
    """1 - (d / R) ** p inside the radius; None beyond it."""
    if radius <= 0.0:
        return 1.0 if d <= 0.0 else None
    if d > radius:
        return None
    return max(0.0, 1.0 - (d / radius) ** config.distance_decay_power)


def volume_fit(
    q_offer: float, q_need: float, config: EngineConfig
) -> tuple[float, float | None, float | None]:
    """(fit, share of the need covered, share of the offer absorbed); neutral when a quantity is missing."""
    if q_offer > 0.0 and q_need > 0.0:
        cov = min(1.0, q_offer / q_need)
        absorb = min(1.0, q_need / q_offer)
        return config.coverage_weight * cov + (1.0 - config.coverage_weight) * absorb, cov, absorb
    return config.unknown_volume_fit, None, None


def typical_value(value_class: str, config: EngineConfig) -> float:
    """Value per base unit the score takes for a stream of `value_class` (EUR): the class's typical
    value, never a party's price or disposal cost. Prices are confidential until the introduction and
    a score built from them would reveal them through the ranking (which pairs are suggested, and in
    which order); they count in each party's own money figures (``impact.py``)."""
    return config.default_value_for(value_class)


def transport_per_unit(d: float, config: EngineConfig) -> float:
    """Road transport cost per tonne over a straight-line distance (handling + per t-km x circuity)."""
    return config.handling_eur_per_t + config.transport_eur_per_tkm * config.road_circuity * d


def value_ratio(value: float, transport: float) -> float:
    total = value + transport
    return value / total if total > 0.0 else 1.0


def volume_value_part(is_material: bool, fit: float, ratio: float, config: EngineConfig) -> float:
    if is_material:
        return config.volume_fit_share * fit + (1.0 - config.volume_fit_share) * ratio
    return fit


def compose(c: float, dist: float, vv: float, av: float, config: EngineConfig) -> float:
    """Weighted geometric composition; the weights are exponents (see ``config.py``)."""
    return (
        c**config.w_compatibility
        * dist**config.w_distance
        * vv**config.w_volume_value
        * av**config.w_availability
    )


class PairScore(NamedTuple):
    """Scalar score of one pair with its parts (a NamedTuple: cheap to build in bulk)."""

    compatibility: float
    distance: float
    volume_value: float
    availability: float
    total: float
    distance_km: float


def score_parts(
    offer: StreamSpec, need: StreamSpec, cache: CompatCache, config: EngineConfig
) -> PairScore | None:
    """The reference score of an offer for a need, or None when a hard constraint fails, nothing is
    compatible, or the need lies at or beyond the radius."""
    base = cache.get(Profile.of(offer), Profile.of(need)).score
    if base <= 0.0 or streams_excluded(offer, need):
        return None
    factor, _ = constraint_factor(offer, need, config)
    if factor <= 0.0:
        return None
    compat = min(1.0, base * factor)
    d = haversine_km(offer.lat, offer.lon, need.lat, need.lon, config.earth_radius_km)
    radius, _src = pair_radius(offer, need, config)
    dist = distance_part(d, radius, config)
    if dist is None:
        return None
    fit, _, _ = volume_fit(offer.quantity_yearly, need.quantity_yearly, config)
    ratio = value_ratio(typical_value(offer.value_class, config), transport_per_unit(d, config))
    vv = volume_value_part(offer.kind == "material", fit, ratio, config)
    av = availability_part(offer.months, need.months)
    total = compose(compat, dist, vv, av, config)
    if total <= 0.0:
        return None
    return PairScore(compat, dist, vv, av, total, d)


def prospective_parts(
    stream: StreamSpec, company: CompanySpec, evidence: float, config: EngineConfig
) -> PairScore | None:
    """Reference score of a prospective counterpart company for an offer (a receiver) or a need (a
    provider). ``evidence`` is the sector prior (see ``prospective.py``); the volume is unknown."""
    if evidence <= 0.0:
        return None
    compat = 1.0 - math.exp(-evidence / config.prior_scale)
    d = haversine_km(stream.lat, stream.lon, company.lat, company.lon, config.earth_radius_km)
    radius = float(stream.max_transport_km) if stream.max_transport_km is not None else config.radius_for(stream.value_class)
    dist = distance_part(d, radius, config)
    if dist is None:
        return None
    fit = config.unknown_volume_fit
    if stream.direction == "offer":
        av = availability_part(stream.months, ALL_MONTHS)
    else:
        av = availability_part(ALL_MONTHS, stream.months)
    ratio = value_ratio(typical_value(stream.value_class, config), transport_per_unit(d, config))
    vv = volume_value_part(stream.kind == "material", fit, ratio, config)
    total = compose(compat, dist, vv, av, config) * config.prospective_penalty
    if total <= 0.0:
        return None
    return PairScore(compat, dist, vv, av, total, d)


def rank_key(score: float, decimals: int) -> int:
    """Integer ranking key: scores equal after rounding tie, and ties are broken by ids."""
    return int(math.floor(score * 10.0**decimals + 0.5))


# --- reasons ------------------------------------------------------------------------------------
_TEXTS: dict[str, str] = {}


def _shared(text: str) -> str:
    """One shared copy of each reason text: a full run creates about a million candidates whose
    reasons repeat ("12 km, within the 100 km radius ..."), so sharing keeps memory down."""
    hit = _TEXTS.get(text)
    if hit is None:
        if len(_TEXTS) > 500_000:
            _TEXTS.clear()
        _TEXTS[text] = hit = text
    return hit


@lru_cache(maxsize=4096)
def format_months(mask: int) -> str:
    """12-bit mask -> 'May-Sep' or 'Jan, Mar'; a run across New Year is written 'Nov-Feb'. Runs are
    listed by their first month."""
    mask = norm_months(mask)
    if mask == ALL_MONTHS:
        return "all year"
    on = [bool(mask >> i & 1) for i in range(12)]
    runs = []
    for m in range(12):
        if on[m] and not on[(m - 1) % 12]:  # a run starts here
            end = m
            while on[(end + 1) % 12]:
                end = (end + 1) % 12
            runs.append(MONTHS[m] if end == m else f"{MONTHS[m]}-{MONTHS[end]}")
    return ", ".join(runs)


def _km(d: float) -> str:
    if d < 1.0:
        return "under 1 km"
    return f"{d:.1f} km" if d < 10.0 else f"{d:.0f} km"


def distance_reason(d: float, radius: float, source: str, value_class: str) -> str:
    if source == "stream":
        return _shared(f"{_km(d)}, within the {radius:g} km limit set for this stream")
    label = VALUE_CLASS_LABELS.get(value_class, value_class)
    return _shared(f"{_km(d)}, within the {radius:g} km radius for {label}")


def volume_reasons(q_offer: float, q_need: float, unit: str, config: EngineConfig) -> list[str]:
    _, cov, absorb = volume_fit(q_offer, q_need, config)
    if cov is None:
        missing = "the offer's" if q_offer <= 0.0 else "the need's"
        return [f"quantity not given ({missing}): volume fit assumed neutral"]
    out = [_shared(f"covers {cov * 100:.0f} % of the need")]
    if absorb < 1.0:
        out.append(_shared(f"the need takes {absorb * 100:.0f} % of the offer"))
    return out


def value_reason(value_class: str, d: float, unit: str, config: EngineConfig) -> str:
    t = transport_per_unit(d, config)
    label = VALUE_CLASS_LABELS.get(value_class, value_class)
    value = typical_value(value_class, config)
    return _shared(f"transport about {t:.0f} EUR/{unit} against a typical value of about {value:.0f} EUR/{unit} "
                   f"for {label}")


@lru_cache(maxsize=65536)
def availability_reason(offer_months: int, need_months: int) -> str:
    o, n = norm_months(offer_months), norm_months(need_months)
    if o == ALL_MONTHS and n == ALL_MONTHS:
        return "available all year"
    overlap = o & n
    if overlap == 0:
        return "no overlapping months"
    if overlap == n:
        return f"available in all months needed: {format_months(n)}"
    return f"available in overlapping months: {format_months(overlap)}"


def exchangeable_quantity(q_offer: float, q_need: float) -> tuple[float, tuple[str, ...]]:
    if q_offer > 0.0 and q_need > 0.0:
        return min(q_offer, q_need), ()
    if q_offer > 0.0:
        return q_offer, ("need quantity not given: assumes the whole offer",)
    if q_need > 0.0:
        return q_need, ("offer quantity not given: assumes the whole need",)
    return 0.0, ("quantities not given: no quantity estimated",)


def _impact(offer, need, d, q, subst, notes, factors, config, prospective):
    return estimate_impact(
        offer,
        need,
        distance_km=d,
        exchangeable=q,
        substitution_factor=subst,
        factors=factors,
        config=config,
        prospective=prospective,
        notes=notes,
    )


def make_candidate(
    offer: StreamSpec,
    need: StreamSpec,
    ps: PairScore,
    *,
    compat: CompatResult,
    factors: ImpactFactors,
    config: EngineConfig,
) -> MatchCandidate:
    """Assemble a declared match with its reasons and impact from already computed parts."""
    unit = UNITS.get(offer.kind, "units")
    reasons = list(compat.reasons)
    if (
        offer.hazardous
        or need.temperature_c is not None
        or need.water_quality is not None
        or need.form is not None
    ):
        reasons += constraint_factor(offer, need, config)[1]
    radius, src = pair_radius(offer, need, config)
    reasons.append(distance_reason(ps.distance_km, radius, src, offer.value_class))
    reasons += volume_reasons(offer.quantity_yearly, need.quantity_yearly, unit, config)
    if offer.kind == "material":
        reasons.append(value_reason(offer.value_class, ps.distance_km, unit, config))
    reasons.append(availability_reason(offer.months, need.months))
    q, notes = exchangeable_quantity(offer.quantity_yearly, need.quantity_yearly)
    subst = compat.rule.factor if compat.rule is not None else 1.0
    impact = _impact(offer, need, ps.distance_km, q, subst, notes, factors, config, False)
    return MatchCandidate(  # positional: about a million of these are built in a full run
        offer.id,
        need.id,
        need.company_id,
        offer.company_id,
        False,
        ps.total,
        ScoreBreakdown(ps.compatibility, ps.distance, ps.volume_value, ps.availability, ps.total),
        tuple(reasons),
        ps.distance_km,
        impact.quantity_yearly,
        impact,
    )


def make_prospective_candidate(
    stream: StreamSpec,
    company: CompanySpec,
    ps: PairScore,
    *,
    prior_reason: str,
    factors: ImpactFactors,
    config: EngineConfig,
) -> MatchCandidate:
    """Assemble a prospective match: an offer with a likely receiving company, or a need with a likely
    providing company."""
    is_offer = stream.direction == "offer"
    unit = UNITS.get(stream.kind, "units")
    radius, src = pair_radius(stream if is_offer else None, None if is_offer else stream, config)
    reasons = [
        "companies like these often use this" if is_offer else "companies like these often produce this",
        prior_reason,
        distance_reason(ps.distance_km, radius, src, stream.value_class),
    ]
    if stream.kind == "material":
        reasons.append(value_reason(stream.value_class, ps.distance_km, unit, config))
    months = stream.months
    if norm_months(months) != ALL_MONTHS:
        reasons.append(
            _shared(f"available {format_months(months)}" if is_offer else f"needed {format_months(months)}")
        )
    q = max(0.0, stream.quantity_yearly)
    impact = _impact(
        stream if is_offer else None,
        None if is_offer else stream,
        ps.distance_km,
        q,
        1.0,
        (),
        factors,
        config,
        True,
    )
    return MatchCandidate(
        offer_id=stream.id if is_offer else None,
        need_id=None if is_offer else stream.id,
        target_company_id=company.id if is_offer else stream.company_id,
        source_company_id=stream.company_id if is_offer else company.id,
        prospective=True,
        score=ps.total,
        parts=ScoreBreakdown(ps.compatibility, ps.distance, ps.volume_value, ps.availability, ps.total),
        reasons=tuple(reasons),
        distance_km=ps.distance_km,
        exchangeable_yearly=impact.quantity_yearly,
        impact=impact,
    )


def candidate_sort_key(c: MatchCandidate, decimals: int):
    """Deterministic total order of the final result: best first, declared before prospective."""
    return (
        -rank_key(c.score, decimals),
        c.prospective,
        -1 if c.offer_id is None else c.offer_id,
        -1 if c.need_id is None else c.need_id,
        c.source_company_id,
        c.target_company_id,
    )
