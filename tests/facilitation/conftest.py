"""Facilitation fixtures: the matching world of tests/matching (A's whey offer matched with B's and
C's needs in SE22, and a Finnish pair in FI1B) and helpers to move a match."""

import pytest

from facilitation.transitions import match_transition
from tests.matching.test_api import build_world


@pytest.fixture
def world(company_a, company_b, company_y):
    return build_world(company_a, company_b, company_y)


def move(match, user, action, **kw):
    return match_transition(match_id=match.pk, actor=user, action=action, **kw)


def reveal(match, facilitator, member, other_member):
    """Approve, introduce, and both parties accept: the match is revealed."""
    move(match, facilitator, "approve")
    move(match, facilitator, "introduce")
    move(match, member, "accept")
    return move(match, other_member, "accept")
