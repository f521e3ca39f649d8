"""Normalising quantities to a yearly base unit per kind (no database)."""

from decimal import Decimal

import pytest

from streams.units import to_yearly_base, unit_fits_kind


@pytest.mark.parametrize(
    ("quantity", "unit", "period", "kind", "expected"),
    [
        (2, "t", "week", "material", 104.0),
        (500, "kg", "day", "material", 182.5),
        (20, "t", "month", "material", 240.0),
        (1, "GWh", "year", "energy", 1000.0),
        (3.6, "GJ", "year", "energy", 1.0),
        (250, "kWh", "day", "energy", 91.25),
        (1000, "l", "day", "water", 365.0),
        (2, "ML", "month", "water", 24000.0),
        (3, "day", "month", "expertise", 288.0),
        (40, "t", "once", "material", 40.0),
    ],
)
def test_it_normalises_to_yearly_base_units(quantity, unit, period, kind, expected):
    assert to_yearly_base(Decimal(str(quantity)), unit, period, kind) == pytest.approx(expected)


@pytest.mark.parametrize(("unit", "kind"), [("t", "energy"), ("MWh", "material"), ("m3", "material"), ("kg", "water")])
def test_units_that_do_not_fit_the_kind_are_rejected(unit, kind):
    assert not unit_fits_kind(unit, kind)
    with pytest.raises(ValueError):
        to_yearly_base(1, unit, "year", kind)


def test_unknown_quantity_stays_unknown():
    assert to_yearly_base(None, "t", "year", "material") is None
