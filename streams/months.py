"""The months a stream is available, stored as a 12-bit mask: bit m-1 set for month m (bit 0 = January).

0 and ALL_MONTHS both mean all year (a stream that is not seasonal). These are the conversions of the
apps; the engine keeps its own pure copy of the mask rules (matching/engine/types.py, scoring.py)
because it imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Iterable

ALL_MONTHS = 0xFFF


def months_from_mask(mask: int) -> list[int]:
    """The months (1-12) whose bit is set, in calendar order."""
    return [m for m in range(1, 13) if mask & (1 << (m - 1))]


def mask_from_months(months: Iterable) -> int:
    """The mask of the months given (numbers or their text, 1-12); none given means all year."""
    mask = 0
    for m in months or ():
        mask |= 1 << (int(m) - 1)
    return mask or ALL_MONTHS
