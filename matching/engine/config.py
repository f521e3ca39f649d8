"""Every tunable number of the matching engine, in one place.

Each default says where it comes from, or is marked ``# assumption:`` when it is a judgement call that
a facilitator or a later calibration should revisit. The score is a product of four parts:

    total = compatibility ** w_compatibility * distance ** w_distance
            * volume_value ** w_volume_value * availability ** w_availability

so a zero in any part (incompatible, at the radius, no overlapping month) gives zero, and the weights are
exponents: 0.5 means "counts as a square root", i.e. with half the influence of a full part.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ENGINE_VERSION = "engine-1.1.0"  # 1.1: sector priors no longer condition on the counterpart division


def _frozen(d: dict) -> tuple:
    """Mappings are stored as sorted tuples of pairs so the config stays hashable and immutable."""
    return tuple(sorted(d.items()))


# Transport radius per value class, km. A stream's own max_transport_km overrides it.
DEFAULT_RADIUS_KM = _frozen(
    {
        # assumption: DESIGN.md "heat: a few km"; low-temperature excess heat pipelines between firms are
        # rarely economic beyond ~5 km unless flows are large.
        "heat": 5.0,
        # assumption: steam loses pressure and heat fast; industrial steam exchanges are usually within
        # one park (~2 km).
        "steam": 2.0,
        # assumption: fuels, biogas in grid, pellets and similar carriers travel like medium-value goods.
        "energy_transportable": 300.0,
        # assumption: DESIGN.md "water: tens of km".
        "water": 30.0,
        # issue #matching / DESIGN.md: "low-value bulk: about 100 km".
        "bulk_low": 100.0,
        # assumption: between bulk and valuable material.
        "medium": 250.0,
        # assumption: DESIGN.md "valuable material: hundreds" of km. Beyond ~500 km a regional
        # facilitator network rarely brokers an exchange, and longer trades are ordinary commerce.
        "high": 500.0,
        # assumption: equipment sharing, logistics capacity and expertise are local services.
        "local_service": 50.0,
    }
)

# Typical value per base unit of a value class (avoided disposal cost + avoided purchase price), EUR: the
# value the score weighs against transport (prices stay out of scores), and the money figures' default
# where a party gave no price.
DEFAULT_VALUE_EUR_PER_UNIT = _frozen(
    {
        "bulk_low": 10.0,  # assumption: aggregates, ashes, slags are worth ~5-15 EUR/t delivered.
        "medium": 80.0,  # assumption
        "high": 400.0,  # assumption
        "energy_transportable": 40.0,  # assumption: EUR per MWh of fuel.
        "heat": 25.0,  # assumption: EUR per MWh of heat.
        "steam": 30.0,  # assumption: EUR per MWh of steam.
        "water": 1.5,  # assumption: EUR per m3 (supply + treatment avoided).
        "local_service": 50.0,  # assumption: EUR per unit/hour.
    }
)

VALUE_CLASS_LABELS: dict[str, str] = {
    "heat": "heat",
    "steam": "steam",
    "energy_transportable": "transportable energy",
    "water": "water",
    "bulk_low": "low-value bulk",
    "medium": "medium-value material",
    "high": "valuable material",
    "local_service": "local services",
}

# Physical form compatibility, offer form -> need form -> factor. Absent pairs are 0 (hard constraint).
# assumption: factors reflect the effort to convert (milling, pressing, dewatering, sorting).
_SOLIDS = ("solid", "granular", "powder")
FORM_FACTORS = _frozen(
    {
        **{(a, b): (1.0 if a == b else 0.8) for a in _SOLIDS for b in _SOLIDS},
        ("granular", "powder"): 0.9,
        ("powder", "granular"): 0.9,
        ("sludge", "sludge"): 1.0,
        ("sludge", "liquid"): 0.7,
        ("liquid", "sludge"): 0.7,
        ("sludge", "solid"): 0.5,
        ("sludge", "granular"): 0.5,
        ("sludge", "powder"): 0.4,
        ("liquid", "liquid"): 1.0,
        ("gas", "gas"): 1.0,
        ("mixed", "mixed"): 1.0,
        **{("mixed", b): 0.6 for b in (*_SOLIDS, "sludge")},
        **{(a, "mixed"): 0.9 for a in (*_SOLIDS, "sludge")},
    }
)

FORM_NOTES: dict[str, str] = {
    "sludge->liquid": "sludge for a liquid need needs dilution or separation",
    "liquid->sludge": "liquid for a sludge need needs thickening",
    "sludge->solid": "sludge for a solid need needs dewatering and drying",
    "sludge->granular": "sludge for a granular need needs dewatering and drying",
    "sludge->powder": "sludge for a powder need needs drying and milling",
    "mixed": "mixed material needs sorting first",
}


@dataclass(frozen=True, slots=True)
class EngineConfig:
    """Weights, radii and factors of the matching engine. Pass a modified copy to change behaviour."""

    # --- score composition (exponents of the four parts) ---
    w_compatibility: float = 1.0  # assumption: a partial substitute caps the whole match.
    w_distance: float = 1.0  # assumption: the distance part already decays to 0 at the radius.
    w_volume_value: float = 0.5  # assumption: volumes are often estimates; half influence.
    w_availability: float = 0.5  # assumption: storable streams tolerate partial month overlap.

    # --- compatibility levels ---
    ewc_exact: float = 1.0  # same List-of-Waste code: same material by definition.
    ewc_subchapter: float = 0.8  # assumption: same process origin (e.g. 10 01 combustion residues).
    ewc_chapter: float = 0.35  # assumption: same industry family only.
    category_equal: float = 1.0
    category_need_broader: float = 0.9  # assumption: a need for "wood" accepts "sawdust".
    category_offer_broader: float = 0.6  # assumption: "wood" may not be the "sawdust" asked for.
    unknown_constraint_factor: float = 0.9  # assumption: need sets a limit the offer does not state.
    form_factors: tuple = FORM_FACTORS

    # --- distance ---
    radius_km: tuple = DEFAULT_RADIUS_KM
    default_radius_km: float = 100.0  # assumption: unknown value class treated as bulk.
    # distance part = 1 - (d / R) ** power, 0 at the radius. assumption: linear (power 1) like the
    # transport cost itself, and easy to explain ("12 km of a 100 km radius: 0.88"); a power of 2 would
    # make distance hardly matter in the first half of the radius.
    distance_decay_power: float = 1.0
    earth_radius_km: float = 6371.0088  # IUGG mean Earth radius.

    # --- volume / value ---
    coverage_weight: float = 0.6  # assumption: covering the need matters more than absorbing the offer.
    unknown_volume_fit: float = 0.5  # assumption: neutral when a quantity is missing.
    volume_fit_share: float = 0.5  # assumption: volume/value = 0.5 * volume fit + 0.5 * value ratio.
    default_value_eur_per_unit: tuple = DEFAULT_VALUE_EUR_PER_UNIT
    # Road transport cost. assumption: EU full-truckload rates of ~1.3-1.8 EUR per vehicle-km for ~20 t
    # payload plus empty returns give ~0.08-0.12 EUR per t-km; matching/engine/data/impact_factors.csv holds the
    # same figure for impact estimates.
    transport_eur_per_tkm: float = 0.10
    handling_eur_per_t: float = 2.0  # assumption: loading and unloading per tonne.
    # Road distance / straight-line distance. assumption within the range reported for European road
    # networks by Ballou, Rahardja & Sakai (2002), Transportation Research Part A 36(9).
    road_circuity: float = 1.3
    # Defra/DECC (2012) GHG conversion factors, freight: articulated HGV, UK average laden.
    road_co2e_kg_per_tkm: float = 0.103

    # --- ranking ---
    top_k: int = 10  # per offer and per need (union kept).
    min_score: float = 0.05  # assumption: below this a facilitator would not look at it.
    score_decimals: int = 12  # scores are compared after rounding so tiny float noise cannot reorder.
    # The exact top-K search (search.py) may look at every counterpart within the distance that could
    # still qualify; in very dense blocks that is thousands per stream. With a cap, a stream looks at
    # most at the nearest `max_scan_per_block` counterparts per block after its threshold is known, so a
    # farther pair can be missed when more than that many qualify. None = always exact.
    # assumption: 256 keeps the 1k/10k benchmark top-K identical to the all-pairs reference.
    max_scan_per_block: int | None = 256

    # --- prospective matches ---
    prospective_penalty: float = 0.8  # assumption: ranks below a declared need of equal quality.
    prospective_top_k: int = 5  # per offer (receiving companies) and per need (providing companies).
    prospective_max_sectors: int = 8  # assumption: look at the 8 most likely NACE (division, class).
    min_prior: float = 0.02  # assumption: sectors below 2 % probability are not suggested.
    # Prospective compatibility = 1 - exp(-evidence / prior_scale): grows with the sector evidence and
    # never saturates, so stronger evidence always ranks higher. assumption: a sector that takes a quarter
    # of the known exchanges of such a stream gets 0.63, one that takes half gets 0.86.
    prior_scale: float = 0.25
    class_weight: float = 1.0  # assumption: the NACE class can halve a division's prior at most.
    prospective_companies: bool = True

    # --- facilitator feedback ---
    # (offer category, need category, factor, note): compatibility of exactly this category pair is
    # multiplied by factor. Built by the adapter from repeated facilitator rejections
    # (facilitation/penalties.py); empty by default.
    pair_penalties: tuple = ()

    # Derived lookups, filled in __post_init__ (not part of equality or hashing).
    _radius: dict = field(init=False, repr=False, compare=False, hash=False)
    _value: dict = field(init=False, repr=False, compare=False, hash=False)
    _forms: dict = field(init=False, repr=False, compare=False, hash=False)
    _penalties: dict = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        for name in ("radius_km", "default_value_eur_per_unit", "form_factors"):
            value = getattr(self, name)
            if isinstance(value, dict):  # accept a plain dict from callers, store it frozen
                object.__setattr__(self, name, _frozen(value))
        object.__setattr__(self, "_radius", dict(self.radius_km))
        object.__setattr__(self, "_value", dict(self.default_value_eur_per_unit))
        object.__setattr__(self, "_forms", dict(self.form_factors))
        object.__setattr__(self, "_penalties", {(o, n): (float(f), note) for o, n, f, note in self.pair_penalties})
        if self.top_k < 1 or self.prospective_top_k < 0:
            raise ValueError("top_k must be >= 1 and prospective_top_k >= 0")

    def pair_penalty(self, offer_category: str, need_category: str) -> tuple[float, str] | None:
        """(factor, note) when facilitators keep rejecting this category pair, else None."""
        return self._penalties.get((offer_category, need_category))

    def radius_for(self, value_class: str) -> float:
        """Default transport radius (km) for a value class."""
        return float(self._radius.get(value_class, self.default_radius_km))

    def default_value_for(self, value_class: str) -> float:
        """Typical value per base unit (EUR) of a value class (see DEFAULT_VALUE_EUR_PER_UNIT)."""
        return float(self._value.get(value_class, self._value.get("medium", 80.0)))

    def form_factor(self, offer_form: str | None, need_form: str | None) -> float:
        """How well an offer's physical form serves a need's; 0 is a hard mismatch, None is unknown."""
        if need_form is None:
            return 1.0
        if offer_form is None:
            return self.unknown_constraint_factor
        return float(self._forms.get((offer_form, need_form), 0.0))
