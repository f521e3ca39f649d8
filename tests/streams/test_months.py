"""The month mask of a stream: the one set of conversions the apps use (streams/months.py)."""

import pytest

from matching.engine import ALL_MONTHS as ENGINE_ALL_MONTHS
from streams.months import ALL_MONTHS, mask_from_months, months_from_mask


def test_bit_zero_is_january_and_bit_eleven_december():
    assert mask_from_months([1]) == 0b1
    assert mask_from_months([12]) == 1 << 11
    assert months_from_mask(0b1000_0000_0101) == [1, 3, 12]


@pytest.mark.parametrize("months", [[1], [6, 7, 8], [12, 1], list(range(1, 12))])
def test_months_survive_the_round_trip_in_calendar_order(months):
    assert months_from_mask(mask_from_months(months)) == sorted(months)


def test_no_months_means_all_year():
    assert mask_from_months([]) == ALL_MONTHS
    assert mask_from_months(None) == ALL_MONTHS
    assert months_from_mask(ALL_MONTHS) == list(range(1, 13))
    assert months_from_mask(0) == []


def test_months_given_as_text_or_twice_count_once():
    assert mask_from_months(["6", "7", 7]) == 0b110_0000


def test_the_engine_reads_the_same_mask():
    assert ENGINE_ALL_MONTHS == ALL_MONTHS == 0xFFF
