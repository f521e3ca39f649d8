"""Writes of facilitation: private notes, the message thread, realised exchanges and bulk moves.
Moves of a match go through `transitions.match_transition` only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from facilitation.models import MatchMessage, MatchNote, RealisedExchange
from facilitation.notify import facilitator_users, notify, party_users
from facilitation.transitions import NotPermitted, TransitionError, match_transition
from matching.choices import MatchAction as A
from matching.choices import MatchStatus as S
from matching.models import Match
from matching.moves import actor_role

STAFF_ROLES = ("facilitator", "staff")
# A billion tonnes (MWh, m3...) a year: more than any one exchange, and far from the float overflow that a
# larger figure causes when it scales the match's EUR and CO2e estimates.
REALISED_MAX_YEARLY = 1e9


def can_see_notes(user, match: Match) -> bool:
    """Notes are for facilitators of the match's regions and staff; companies never see them."""
    return actor_role(user, match) in STAFF_ROLES


def can_use_thread(user, match: Match) -> bool:
    """The thread opens once both companies are revealed to each other; then both parties, the
    facilitators of the match's regions and staff read and write it. Nobody else."""
    return match.revealed and actor_role(user, match) is not None


@transaction.atomic
def match_note_create(*, match: Match, author, text: str) -> MatchNote:
    """A facilitator's private note."""
    if not can_see_notes(author, match):
        raise NotPermitted(_("Only facilitators of this match's region can write notes."))
    note = MatchNote(match=match, author=author, text=text.strip())
    note.full_clean()
    note.save()
    return note


@transaction.atomic
def match_message_create(*, match: Match, author, text: str) -> MatchMessage:
    """A message in the match's thread; the other participants are notified (in the app, by e-mail)."""
    if not can_use_thread(author, match):
        raise NotPermitted(_("Messages open once both companies have accepted the introduction."))
    message = MatchMessage(match=match, author=author, author_role=actor_role(author, match), text=text.strip())
    message.full_clean()
    message.save()
    notify(users=[*party_users(match), *facilitator_users(match)], match=match, exclude=author,
           text=_("Match #%(n)s: a new message.") % {"n": match.pk})
    return message


def _scale(value: float, factor: float) -> float:
    return round(value * factor, 3)


@transaction.atomic
def realised_exchange_record(*, match_id: int, actor, started_on: dt.date, quantity_yearly: float,
                             note: str = "") -> RealisedExchange:
    """Record (or correct) the real exchange of a match and mark it implemented. The realised impact
    is the match's estimated impact scaled by the real yearly quantity against the estimated one."""
    match = Match.objects.select_for_update().get(pk=match_id)
    if actor_role(actor, match) not in STAFF_ROLES:
        raise NotPermitted(_("Only facilitators of this match's region can record an exchange."))
    if not 0 < quantity_yearly <= REALISED_MAX_YEARLY:
        raise ValidationError({"quantity_yearly": _("Enter a yearly quantity above 0 and at most %(max)s.")
                               % {"max": f"{REALISED_MAX_YEARLY:,.0f}"}})
    if match.status != S.IMPLEMENTED:
        match = match_transition(match_id=match.pk, actor=actor, action=A.IMPLEMENT,
                                 comment=_("Exchange recorded from %(date)s.") % {"date": started_on})
    estimated = match.exchangeable_yearly or 0.0
    factor = quantity_yearly / estimated if estimated > 0 else 1.0
    impact = match.impact or {}
    realised = RealisedExchange.objects.filter(match=match).first() or RealisedExchange(match=match)
    realised.started_on = started_on
    realised.quantity_yearly = quantity_yearly
    realised.unit = match.unit or impact.get("unit", "") or "t"
    realised.co2e_t = _scale(match.co2e_t, factor)
    realised.diverted_t = _scale(match.diverted_t, factor)
    realised.eur_provider = _scale(match.eur_provider, factor)
    realised.eur_receiver = _scale(match.eur_receiver, factor)
    realised.water_m3 = quantity_yearly if realised.unit == "m3" else 0.0
    realised.energy_mwh = quantity_yearly if realised.unit == "MWh" else 0.0
    realised.recorded_by = actor
    realised.note = note.strip()
    realised.full_clean()
    realised.save()
    return realised


@dataclass
class BulkResult:
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def match_bulk_transition(*, match_ids, actor, action: str, reason_code: str = "", comment: str = "") -> BulkResult:
    """The same move on many matches, each in its own transaction: one refused match does not undo
    the others. The caller passes only ids of matches `actor` can see."""
    result = BulkResult()
    for pk in match_ids:
        try:
            match_transition(match_id=pk, actor=actor, action=action, reason_code=reason_code, comment=comment)
        except TransitionError as exc:
            result.refused.append((pk, exc.message))
        else:
            result.done.append(pk)
    return result
