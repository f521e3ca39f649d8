"""The service that moves a match: under a row lock, it checks the move against the one table of
allowed moves (`matching.moves.ALLOWED`: which move from which status, by whom), records it as a
`MatchEvent` and notifies the people concerned.

Pages, the API and bulk actions all call `match_transition`; nothing else writes `Match.status`
(except the matching run, which only creates and retires *suggested* matches, and
`matches_withdraw_for_stream` below, which calls `match_transition` as the system).

    suggested -> under_review -> approved -> introduced -> negotiating -> implemented
    rejected (facilitator, with a reason), declined (a party), withdrawn (a stream closed)

Double opt-in: a party's `accept` ("interested") or `decline` ("not interested") is recorded on the
match. Before an introduction, both parties' yes reveals them to each other and moves the match to
*introduced*; after a facilitator's introduction, both parties' acceptance reveals them. One no
declines the match, and nothing is revealed.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from facilitation.models import MatchEvent
from matching.choices import MatchAction as A
from matching.choices import MatchStatus as S
from matching.choices import OptIn, RejectionReason
from matching.models import Match
from matching.moves import ALLOWED, PARTY, actor_role, role_may_make


class TransitionError(Exception):
    """A refused move. `status` is the HTTP status the API answers with: 400 bad input, 403 not
    yours to make, 409 not allowed from the match's current status."""

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadInput(TransitionError):
    status = 400


class NotPermitted(TransitionError):
    status = 403


class IllegalMove(TransitionError):
    status = 409


def _lock(match_id: int) -> Match:
    # select_related cannot be combined with FOR UPDATE over nullable joins, so lock the row alone
    # and read the related rows (for the permission check) afterwards.
    match = Match.objects.select_for_update().filter(pk=match_id).first()
    if match is None:
        raise Match.DoesNotExist
    return match


def _after_lock(match: Match) -> None:
    """A seam for the concurrency test (it sleeps here to widen the race window)."""


@transaction.atomic
def match_transition(*, match_id: int, actor, action: str, reason_code: str = "", comment: str = "",
                     system: bool = False) -> Match:
    """Make `action` on the match under a row lock, record a `MatchEvent` and notify on commit.
    Raises `TransitionError` (nothing changes) when the move is not allowed. The caller has
    already checked that `actor` may see the match (404 otherwise)."""
    if action not in ALLOWED:
        raise BadInput(_("Unknown action “%(action)s”.") % {"action": action})
    move = ALLOWED[action]
    match = _lock(match_id)
    _after_lock(match)
    role = "system" if system else actor_role(actor, match)
    if not system and not role_may_make(role, move):
        raise NotPermitted(_("You may not %(action)s this match.") % {"action": A(action).label.lower()})
    if match.status not in move.sources:
        raise IllegalMove(
            _("A match that is “%(status)s” cannot be moved with “%(action)s”.")
            % {"status": S(match.status).label, "action": A(action).label}
        )
    if action == A.REJECT and reason_code not in RejectionReason.values:
        raise BadInput(_("Say why the match is rejected (a reason code)."))
    if action != A.REJECT:
        reason_code = ""
    if action in (A.NEGOTIATE, A.IMPLEMENT) and not match.revealed:
        raise IllegalMove(_("Both companies must accept the introduction first."))
    excluded = _pair_excluded(match)
    if action == A.INTRODUCE and excluded:
        # Only facilitators and staff get here (parties were refused above): they see both sides and
        # may know the exclusion, a party must not learn of it from an answer.
        raise IllegalMove(_("One of the two companies excludes the other (competitor exclusion): "
                            "this pair cannot be introduced."))
    before = match.status
    now = timezone.now()
    if move.by == PARTY:
        _answer(match, role, OptIn.YES if action == A.ACCEPT else OptIn.NO, now)
    to = move.to if move.to is not None else _after_yes(match, now, excluded=excluded)
    match.status = to
    match.full_clean()
    match.save()
    event = MatchEvent(match=match, actor=None if system else actor, actor_role=role, action=action,
                       from_status=before, to_status=to, reason_code=reason_code, comment=comment.strip(), at=now)
    event.full_clean()
    event.save()
    from facilitation.notify import notify_event

    notify_event(match=match, event=event)
    return match


def _answer(match: Match, role: str, answer: str, now) -> None:
    if role == "offer":
        match.provider_response, match.provider_answered_at = answer, now
    else:
        match.receiver_response, match.receiver_answered_at = answer, now


def _pair_excluded(match: Match) -> bool:
    from companies.selectors import exclusion_between

    return exclusion_between(match.source_company_id, match.target_company_id)


def _after_yes(match: Match, now, *, excluded: bool = False) -> str:
    """Both yes: reveal, and a not yet introduced match counts as introduced (they opted in).
    Never for a pair one side excludes: the excluded side said yes before the exclusion (it no longer
    sees the match), and the excluder must see what it sees while the other has not answered."""
    if excluded:
        return match.status
    if match.provider_response == OptIn.YES and match.receiver_response == OptIn.YES:
        match.revealed_at = match.revealed_at or now
        return S.INTRODUCED
    return match.status


def matches_withdraw_for_stream(stream_id: int) -> int:
    """A closed stream withdraws its matches that are being worked on or that a party answered (as
    the system). Unanswered suggestions are left to the next matching run, which retires them."""
    from django.db.models import Q

    worked = ~Q(status=S.SUGGESTED) | ~Q(provider_response="") | ~Q(receiver_response="")
    ids = list(
        Match.objects.filter(Q(offer_id=stream_id) | Q(need_id=stream_id), worked,
                             status__in=ALLOWED[A.WITHDRAW].sources)
        .values_list("pk", flat=True)
    )
    for pk in ids:
        match_transition(match_id=pk, actor=None, action=A.WITHDRAW, comment=_("The listing was closed."),
                         system=True)
    return len(ids)
