"""Reads of facilitation: the review queue and the pipeline board, a match's timeline, notes and
thread as one viewer may see them, regulatory flags, notifications."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils.translation import gettext as _

from companies.roles import roles_for
from facilitation.models import MatchEvent, MatchMessage, MatchNote, Notification
from facilitation.services import STAFF_ROLES, can_see_notes, can_use_thread
from matching.choices import MatchStatus as S
from matching.filtersets import MatchFilterSet
from matching.forms import ordering_terms
from matching.models import Match
from matching.moves import actor_role
from matching.permissions import whole_match_q
from matching.selectors import match_queryset
from streams.choices import RegulatoryStatus

# The queue opens on the matches that wait for a facilitator.
QUEUE_DEFAULT_STATUSES = (S.SUGGESTED, S.UNDER_REVIEW)
PIPELINE_COLUMNS = (S.UNDER_REVIEW, S.APPROVED, S.INTRODUCED, S.NEGOTIATING, S.IMPLEMENTED)
# Cards a pipeline column shows; the rest of the column is one click away in the review queue (a region
# of a 100k-stream installation can hold thousands of matches in work).
PIPELINE_CARDS = 50



def may_facilitate(user) -> bool:
    roles = roles_for(user)
    return roles.authenticated and (roles.is_staff or roles.is_facilitator)


def review_queue(*, user, filters=None) -> MatchFilterSet:
    """Matches in the facilitator's regions (all for staff) under the queue's filters."""
    qs = match_queryset(user=user).filter(pk__in=Match.objects.filter(whole_match_q(user)).values("pk"))
    return MatchFilterSet(filters or {}, queryset=qs, user=user)


@dataclass
class PipelineColumn:
    status: str
    label: str
    matches: list[Match]
    total: int  # matches in this column under the filters; `matches` holds the first PIPELINE_CARDS

    @property
    def more(self) -> int:
        return self.total - len(self.matches)


def pipeline_board(*, user, filters=None) -> tuple[MatchFilterSet, list[PipelineColumn]]:
    """The pipeline: a column per status, under the same filters and in the same order as the queue,
    each with its first `PIPELINE_CARDS` matches and its total (the rest are a link to the queue)."""
    filterset = review_queue(user=user, filters=filters)
    terms = ordering_terms(filterset.form.cleaned_data.get("ordering") if filterset.is_valid() else None)
    rows = list(
        filterset.qs.filter(status__in=PIPELINE_COLUMNS).select_related("realised")
        .annotate(rank=Window(RowNumber(), partition_by=[F("status")], order_by=terms),
                  column_total=Window(Count("pk"), partition_by=[F("status")]))
        .filter(rank__lte=PIPELINE_CARDS)
        .order_by(*terms)
    )
    columns = []
    for status in PIPELINE_COLUMNS:
        cards = [m for m in rows if m.status == status]
        columns.append(PipelineColumn(status, str(S(status).label), cards, cards[0].column_total if cards else 0))
    return filterset, columns


@dataclass(frozen=True)
class TimelineEntry:
    at: object
    action_label: str
    from_label: str
    to_label: str
    who: str
    reason: str
    comment: str


def match_timeline(*, user, match: Match) -> list[TimelineEntry]:
    """Every move of the match. Facilitators see who and why; a party sees what happened, "you" for
    its own moves and roles (never names) for the others', and no facilitator comments."""
    role = actor_role(user, match)
    full = role in STAFF_ROLES
    out = []
    for e in MatchEvent.objects.filter(match=match).select_related("actor"):
        if full:
            who = e.actor.get_username() if e.actor else _("system")
        elif e.actor_role == role:
            who = _("your company")
        elif e.actor_role in ("offer", "need"):
            who = _("the other company")
        elif e.actor_role == "system":
            who = _("system")
        else:
            who = _("a facilitator")
        out.append(TimelineEntry(
            at=e.at, action_label=e.get_action_display(), from_label=e.get_from_status_display(),
            to_label=e.get_to_status_display(), who=who,
            reason=e.get_reason_code_display() if full and e.reason_code else "",
            comment=e.comment if full else "",
        ))
    return out


def match_notes(*, user, match: Match) -> list[MatchNote] | None:
    """None when the viewer may not see notes (companies)."""
    if not can_see_notes(user, match):
        return None
    return list(MatchNote.objects.filter(match=match).select_related("author"))


def match_thread(*, user, match: Match) -> list[MatchMessage] | None:
    """None when the viewer may not read the thread."""
    if not can_use_thread(user, match):
        return None
    return list(MatchMessage.objects.filter(match=match).select_related("author"))


def message_author_label(message: MatchMessage) -> str:
    return message.author.get_username() if message.author else _("(deleted user)")


@dataclass(frozen=True)
class Flag:
    code: str
    text: str


def regulatory_flags(match: Match) -> list[Flag]:
    """Information for the facilitator and the parties, never a ruling: hazardous or mirror-entry
    EWC codes, the offer's regulatory status, and exchanges across a border."""
    flags = []
    offer = match.offer
    if offer is not None:
        codes = list(offer.ewc_codes.all())
        for code in codes:
            if code.is_hazardous:
                flags.append(Flag("hazardous", _("EWC %(code)s is hazardous waste: permits and handling rules apply.")
                                  % {"code": code.display_code}))
            elif code.is_mirror:
                flags.append(Flag("mirror", _("EWC %(code)s is a mirror entry: whether it is hazardous depends on "
                                              "its analysis.") % {"code": code.display_code}))
        status_text = {
            RegulatoryStatus.WASTE: _("Listed as waste: the receiver may need a waste permit, and the waste "
                                      "framework rules apply until it reaches end-of-waste status."),
            RegulatoryStatus.BY_PRODUCT: _("Listed as a by-product: check that the by-product conditions "
                                           "(certain further use, no further processing beyond normal "
                                           "industrial practice, lawful use) are met."),
            RegulatoryStatus.END_OF_WASTE: _("Listed as end-of-waste: keep the evidence that the end-of-waste "
                                             "criteria are met."),
            RegulatoryStatus.UNKNOWN: _("The regulatory status (waste, by-product, end-of-waste) is not known yet."),
        }.get(offer.regulatory_status)
        if status_text:
            flags.append(Flag(f"status_{offer.regulatory_status}", status_text))
    a, b = match.source_company.country, match.target_company.country
    if a and b and a != b:
        flags.append(Flag("cross_border", _("Exchange between %(a)s and %(b)s: transfrontier shipment rules "
                                            "may apply.") % {"a": a, "b": b}))
    return flags


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("match")
