"""The moves of a match: which move is allowed from which status and by whom (the one table,
`ALLOWED`), the viewer's role on a match, and the moves a viewer may make now (for buttons and the
API's `actions`). The service that makes a move is `facilitation.transitions.match_transition`.
"""

from __future__ import annotations

from dataclasses import dataclass

from companies.roles import roles_for
from matching.choices import MatchAction as A
from matching.choices import MatchStatus as S
from matching.choices import OptIn
from matching.models import Match
from matching.permissions import sees_whole_match

FACILITATOR, PARTY, SYSTEM = "facilitator", "party", "system"
OPEN = (S.SUGGESTED, S.UNDER_REVIEW, S.APPROVED)


@dataclass(frozen=True)
class Move:
    """An allowed move: from which statuses, to which (None: decided by the opt-in rule), by whom."""

    sources: tuple[str, ...]
    to: str | None
    by: str


# The allowed moves, in one place. `to=None` means the status follows from the opt-in answers.
ALLOWED: dict[str, Move] = {
    A.REVIEW: Move((S.SUGGESTED,), S.UNDER_REVIEW, FACILITATOR),
    A.APPROVE: Move((S.SUGGESTED, S.UNDER_REVIEW), S.APPROVED, FACILITATOR),
    A.REJECT: Move((S.SUGGESTED, S.UNDER_REVIEW, S.APPROVED), S.REJECTED, FACILITATOR),
    A.INTRODUCE: Move((S.APPROVED,), S.INTRODUCED, FACILITATOR),
    A.ACCEPT: Move((*OPEN, S.INTRODUCED), None, PARTY),
    A.DECLINE: Move((*OPEN, S.INTRODUCED), S.DECLINED, PARTY),
    A.NEGOTIATE: Move((S.INTRODUCED,), S.NEGOTIATING, FACILITATOR),
    A.IMPLEMENT: Move((S.INTRODUCED, S.NEGOTIATING), S.IMPLEMENTED, FACILITATOR),
    A.WITHDRAW: Move((*OPEN, S.INTRODUCED, S.NEGOTIATING), S.WITHDRAWN, SYSTEM),
}


def actor_role(user, match: Match) -> str | None:
    """"facilitator" (staff or a facilitator of a region the match touches), "offer" or "need" (a
    member of that side's company), or None."""
    roles = roles_for(user)
    if sees_whole_match(user, match):
        return "staff" if roles.is_staff else FACILITATOR
    if match.source_company_id in roles.company_ids:
        return "offer"
    if match.target_company_id in roles.company_ids:
        return "need"
    return None


def allowed_actions(user, match: Match) -> list[str]:
    """The moves `user` may make on `match` now, for buttons (the service checks again)."""
    role = actor_role(user, match)
    out = []
    for action, move in ALLOWED.items():
        if match.status not in move.sources or not role_may_make(role, move):
            continue
        if move.by == PARTY and _own_answer(match, role) == OptIn.YES and action == A.ACCEPT:
            continue
        if action in (A.NEGOTIATE, A.IMPLEMENT) and not match.revealed:
            continue
        out.append(action)
    return out


def role_may_make(role: str | None, move: Move) -> bool:
    if move.by == PARTY:
        return role in ("offer", "need")
    return role in (FACILITATOR, "staff")  # facilitator moves; staff and facilitators may withdraw too


def _own_answer(match: Match, role: str | None) -> str:
    return {"offer": match.provider_response, "need": match.receiver_response}.get(role, "")
