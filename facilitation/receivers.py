"""Facilitation's answers to matching's signals (connected in `FacilitationConfig.ready()`)."""

from __future__ import annotations

from facilitation.penalties import engine_pair_penalties
from facilitation.transitions import matches_withdraw_for_stream


def withdraw_matches_of_closed_stream(sender, *, stream_id: int, **kwargs) -> None:
    """A closed stream withdraws its matches that people are working on (in the closing transaction)."""
    matches_withdraw_for_stream(stream_id)


def rejection_pair_penalties(sender, **kwargs) -> tuple[tuple[str, str, float, str], ...]:
    """The facilitators' rejection penalties, as the engine's configuration takes them."""
    return engine_pair_penalties()
