"""Plain records the matching engine takes and returns.

Everything here is a frozen dataclass with slots: the engine never mutates its inputs, and the Django
adapter (``matching/services.py``) builds these from ORM rows (``StreamSpec`` construction lives in
the adapter, never here).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

DIRECTIONS = ("offer", "need")
KINDS = ("material", "energy", "water", "asset", "expertise")
FORMS = ("solid", "granular", "powder", "sludge", "liquid", "gas", "mixed")
VALUE_CLASSES = (
    "heat",
    "steam",
    "energy_transportable",
    "water",
    "bulk_low",
    "medium",
    "high",
    "local_service",
)
DISPOSAL_ROUTES = ("landfill", "incineration", "energy_recovery", "recycling", "sewer", "other")
ALL_MONTHS = 0xFFF


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One offer or need, normalised to a yearly base unit.

    Units: t for material, MWh for energy, m3 for water, units or hours for asset and expertise.
    ``months`` is a 12-bit mask (bit 0 = January); 0 and 0xFFF both mean all year.
    ``temperature_c``: an offer's supply temperature, or a need's minimum.
    ``water_quality``: an ordinal class (higher = cleaner); a need gives its minimum.
    ``price_eur_per_unit``: an offer's asking price (negative = gate fee the provider pays), or what a
    need's owner pays today for the virgin input.
    ``excluded_company_ids`` / ``excluded_nace``: companies and NACE code prefixes ("10", "10.5",
    "1051") this stream's company will not be matched with; the engine also honours the reverse.
    """

    id: int
    company_id: int
    direction: str
    kind: str
    category: str
    category_ancestors: tuple[str, ...] = ()
    ewc_codes: tuple[str, ...] = ()
    quantity_yearly: float = 0.0
    lat: float = 0.0
    lon: float = 0.0
    months: int = 0
    temperature_c: float | None = None
    water_quality: int | None = None
    form: str | None = None
    hazardous: bool = False
    accepts_hazardous: bool = False
    price_eur_per_unit: float | None = None
    disposal_cost_eur_per_unit: float | None = None
    max_transport_km: float | None = None
    value_class: str = "medium"
    nace_division: str = ""
    disposal_route: str | None = None
    excluded_company_ids: frozenset[int] = frozenset()
    description: str = ""
    # Optional extras (defaults keep the adapter contract small).
    nace_class: str = ""
    category_name: str = ""
    excluded_nace: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class CompanySpec:
    """A company as a prospective counterpart: its sector and one representative location."""

    id: int
    nace_division: str
    nace_class: str
    lat: float
    lon: float
    excluded_company_ids: frozenset[int] = frozenset()
    excluded_nace: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    """The four parts of a match score and their product, each in [0, 1]."""

    compatibility: float
    distance: float
    volume_value: float
    availability: float
    total: float


@dataclass(frozen=True, slots=True)
class Impact:
    """Estimated yearly effect of one match. Money is EUR per year, CO2e in tonnes per year."""

    quantity_yearly: float
    unit: str
    diverted_t: float
    co2e_t: float
    eur_provider: float
    eur_receiver: float
    transport_eur: float
    assumptions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchCandidate:
    """A suggested match: an offer for a need, or a prospective counterpart company.

    ``source_company_id`` is always the providing side and ``target_company_id`` the receiving side.
    Prospective matches anchored on an offer have ``need_id=None`` (the target company listed no need);
    prospective matches anchored on a need have ``offer_id=None`` (the source company listed no offer).
    """

    offer_id: int | None
    need_id: int | None
    target_company_id: int
    source_company_id: int
    prospective: bool
    score: float
    parts: ScoreBreakdown
    reasons: tuple[str, ...]
    distance_km: float
    exchangeable_yearly: float
    impact: Impact


@dataclass(frozen=True, slots=True)
class SubstitutionRule:
    """Offers of ``offer_category`` (or below it) can serve needs for ``need_category`` (or below it).

    ``factor`` in (0, 1] is how well it substitutes; ``note`` is the plain-language sentence shown to
    users ("FGD gypsum can replace natural gypsum").
    """

    offer_category: str
    need_category: str
    factor: float
    source: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class ExchangeRecord:
    """One documented exchange (e.g. a MAESTRI row) used to learn sector priors.

    NACE codes are digit strings without dots ("2351", "011", "24"); several codes in one cell mean the
    company spans them, and the record's weight is split between them.
    """

    ewc_codes: tuple[str, ...]
    provider_nace: tuple[str, ...]
    receiver_nace: tuple[str, ...]
    weight: float = 1.0
    case: str = ""
    index: str = ""
    status: str = ""
    provider_name: str = ""
    receiver_name: str = ""
    description: str = ""
    country: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class PriorRule:
    """A curated prior: streams with an EWC code starting with ``ewc_prefix`` (2, 4 or 6 digits) are
    typically taken (``role="receiver"``) or produced (``role="provider"``) by ``nace`` (division or
    class digits). ``weight`` counts as that many recorded exchanges."""

    ewc_prefix: str
    nace: str
    role: str = "receiver"
    weight: float = 1.0
    source: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True)
class SectorPrior:
    """One learned distribution, for inspection: P(division | context) with its evidence count."""

    context: tuple[str, ...]
    total: float
    probabilities: tuple[tuple[str, float], ...] = field(default=())
