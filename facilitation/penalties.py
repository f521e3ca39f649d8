"""Facilitator feedback into matching: a category pair that facilitators reject again and again for
the same reason is scored down.

Rule: when matches of offers in category O for needs in category N have been rejected at least
`REJECTION_PENALTY_THRESHOLD` times with the same reason, and that reason is about the materials
(`PENALISING_REASONS`), the engine multiplies the compatibility of exactly that pair by
`REJECTION_PENALTY_FACTOR` (once per pair, however many reasons qualify) and says so in the reasons.
The rules are computed from the recorded rejection events at each run, so they are always current
and staff see the same list (the "Rejection penalties" page) with the counts that produced them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F

from facilitation.models import MatchEvent
from matching.choices import MatchAction, RejectionReason

# Three independent rejections for the same reason is a pattern, not chance (assumption).
REJECTION_PENALTY_THRESHOLD = 3
# Compatibility is multiplied by this; 0.6 pushes a pair below equal alternatives without hiding it.
REJECTION_PENALTY_FACTOR = 0.6
# Reasons about the category pair itself; distance, volume or commerce say nothing about the pair.
PENALISING_REASONS = (RejectionReason.NOT_COMPATIBLE, RejectionReason.QUALITY, RejectionReason.REGULATORY)


@dataclass(frozen=True)
class PenaltyRule:
    offer_category: str
    offer_category_name: str
    need_category: str
    need_category_name: str
    reason_code: str
    rejections: int
    factor: float = REJECTION_PENALTY_FACTOR

    @property
    def reason_label(self) -> str:
        return str(RejectionReason(self.reason_code).label)


def rejection_penalty_rules() -> list[PenaltyRule]:
    """The active rules, one per (offer category, need category, reason), with their counts."""
    rows = (
        MatchEvent.objects.filter(
            action=MatchAction.REJECT, reason_code__in=PENALISING_REASONS,
            match__offer__isnull=False, match__need__isnull=False,
        )
        .values(
            o=F("match__offer__category__code"), on=F("match__offer__category__name"),
            n=F("match__need__category__code"), nn=F("match__need__category__name"), reason=F("reason_code"),
        )
        .annotate(count=Count("match", distinct=True))
        .filter(count__gte=REJECTION_PENALTY_THRESHOLD)
        .order_by("-count", "o", "n", "reason")
    )
    return [PenaltyRule(r["o"], r["on"], r["n"], r["nn"], r["reason"], r["count"]) for r in rows]


def engine_pair_penalties() -> tuple[tuple[str, str, float, str], ...]:
    """The rules as the engine takes them: (offer category, need category, factor, reason text)."""
    pairs: dict[tuple[str, str], list[PenaltyRule]] = {}
    for rule in rejection_penalty_rules():
        pairs.setdefault((rule.offer_category, rule.need_category), []).append(rule)
    out = []
    for (o, n), rules in sorted(pairs.items()):
        why = ", ".join(f"{r.rejections}x {r.reason_label.lower()}" for r in rules)
        note = f"scored down: facilitators rejected this category pair repeatedly ({why})"
        out.append((o, n, REJECTION_PENALTY_FACTOR, note))
    return tuple(out)
