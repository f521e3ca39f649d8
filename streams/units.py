"""Units per stream kind and their normalisation to a yearly base quantity.

Each kind has one base unit (t, MWh, m3, unit, h); a stream's quantity is stored as entered and
also as `quantity_yearly` in the base unit, which is what matching and dashboards add up. A unit
that does not belong to the stream's kind is rejected: tonnes of heat are a data error, not a
conversion.
"""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from streams.choices import Period, StreamKind

BASE_UNIT = {
    StreamKind.MATERIAL: "t",
    StreamKind.ENERGY: "MWh",
    StreamKind.WATER: "m3",
    StreamKind.ASSET: "unit",
    StreamKind.EXPERTISE: "h",
}

# unit -> factor to the kind's base unit
UNITS: dict[str, dict[str, Decimal]] = {
    StreamKind.MATERIAL: {"t": Decimal(1), "kg": Decimal("0.001")},
    StreamKind.ENERGY: {
        "MWh": Decimal(1),
        "kWh": Decimal("0.001"),
        "GWh": Decimal(1000),
        "GJ": Decimal(1) / Decimal("3.6"),
        "MJ": Decimal(1) / Decimal(3600),
    },
    StreamKind.WATER: {"m3": Decimal(1), "l": Decimal("0.001"), "ML": Decimal(1000)},
    StreamKind.ASSET: {"unit": Decimal(1)},
    # A working day of know-how or staff time counts 8 hours.
    StreamKind.EXPERTISE: {"h": Decimal(1), "day": Decimal(8)},
}

UNIT_LABELS = {
    "t": _("tonnes (t)"),
    "kg": _("kilograms (kg)"),
    "MWh": _("megawatt-hours (MWh)"),
    "kWh": _("kilowatt-hours (kWh)"),
    "GWh": _("gigawatt-hours (GWh)"),
    "GJ": _("gigajoules (GJ)"),
    "MJ": _("megajoules (MJ)"),
    "m3": _("cubic metres (m³)"),
    "l": _("litres (l)"),
    "ML": _("megalitres (ML)"),
    "unit": _("units (pieces, places)"),
    "h": _("hours"),
    "day": _("person-days (8 h)"),
}

ALL_UNITS = sorted({u for units in UNITS.values() for u in units})

# Periods per year. A plant that reports "per day" is taken to run all year (365 days): the
# conservative reading for availability is the stream's months and min/max, not the period.
PERIOD_PER_YEAR = {
    Period.DAY: Decimal(365),
    Period.WEEK: Decimal(52),
    Period.MONTH: Decimal(12),
    Period.YEAR: Decimal(1),
    Period.ONCE: Decimal(1),
}


def unit_fits_kind(unit: str, kind: str) -> bool:
    return unit in UNITS.get(kind, {})


def to_yearly_base(quantity: Decimal | float | int | None, unit: str, period: str, kind: str) -> float | None:
    """Quantity per year in the kind's base unit; None when the quantity is unknown.

    >>> to_yearly_base(Decimal(2), "t", "week", "material")
    104.0
    """
    if quantity is None:
        return None
    if not unit_fits_kind(unit, kind):
        raise ValueError(f"unit {unit!r} does not fit kind {kind!r}")
    q = Decimal(str(quantity)) * UNITS[kind][unit] * PERIOD_PER_YEAR[period]
    return float(round(q, 6))


def units_for_kind(kind: str) -> list[tuple[str, str]]:
    return [(u, str(UNIT_LABELS[u])) for u in UNITS.get(kind, {})]
