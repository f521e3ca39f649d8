"""What a given viewer sees of a match: one place for the pages, their partials and the API.

- Staff and facilitators of a region the match touches see everything (both companies, exact
  distance, both parties' money, transport cost, confidential stream fields).
- A party (member of the offer's or the need's company) sees its own side fully. The counterpart is
  named only when its listing is public; otherwise it is "sector (NACE), region, about N km away".
  The counterpart's price, disposal cost, composition, contaminants and site stay hidden until both
  parties have opted in (`Match.revealed_at`, see `matching/facilitation/transitions.py`): from then
  on each party sees the other's name and hidden fields (`revealed` below, and nowhere else).
- A party sees its own side's money only, rounded: the other side's money, the unit value the engine
  derives from both parties' prices and the exact distance would let it work out hidden numbers, so
  the reasons are reworded for it (see `_redact`).

Everything here reads only data that `matching.selectors.match_queryset` loaded: no queries.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.context import note_confidential_read
from companies.roles import roles_for
from matching.permissions import match_region_ids
from streams.choices import StreamStatus, Visibility
from streams.presentation import CONFIDENTIAL_FIELDS, approximate_km

PART_LABELS = {
    "compatibility": gettext_lazy("Compatibility"),
    "distance": gettext_lazy("Distance"),
    "volume_value": gettext_lazy("Volume and value"),
    "availability": gettext_lazy("Availability over the year"),
}
PART_HELP = {
    "compatibility": gettext_lazy("Category and waste code agree; temperature, quality and form fit."),
    "distance": gettext_lazy("Close enough for this kind of stream to travel."),
    "volume_value": gettext_lazy("How much of the need the offer covers, and its value against transport."),
    "availability": gettext_lazy("The months in which both sides overlap."),
}

# Engine wording (matching/engine/scoring.py) that a party must not see verbatim.
_EXACT_DISTANCE = re.compile(r"^(?:under 1 km|\d+(?:\.\d+)? km)(?=, within )")
_UNIT_VALUE = re.compile(r" against a value of about -?\d+ EUR/\S+?(?: \(value partly assumed: prices not given\))?$")
_DISPOSAL_FACTOR = re.compile(r"^disposal_co2e\.\w+:")
_PRIOR_MARK = "recorded exchange"


def estimate(value: float) -> float:
    """Round an estimate to two significant figures: 17 100 -> 17 000, 149.3 -> 150, 0.84 -> 0.84."""
    if not value or not math.isfinite(value):
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(value))))
    return float(round(value, digits))


def _redact(reason: str, approx_km: int) -> str:
    reason = _EXACT_DISTANCE.sub(f"about {approx_km} km", reason)
    return _UNIT_VALUE.sub("", reason)


@dataclass(frozen=True)
class Part:
    key: str
    label: str
    help: str
    value: float

    @property
    def percent(self) -> int:
        return round(self.value * 100)


@dataclass
class MatchSide:
    """The offer side (offer stream, source company) or need side (need stream, target company) of a
    match, as one viewer may see it. `stream` is None on the prospective side."""

    role: str
    stream: object
    company: object
    own: bool
    show_identity: bool
    show_confidential: bool
    stream_visible: bool
    distance_label: str

    @property
    def name(self) -> str | None:
        return self.company.name if self.show_identity else None

    @property
    def sector_label(self) -> str:
        nace = self.company.nace
        return _("%(sector)s (NACE %(code)s)") % {"sector": nace.title, "code": nace.code}

    @property
    def label(self) -> str:
        if self.show_identity:
            return self.company.name
        nace = self.company.nace
        return _("%(sector)s company (NACE %(code)s)") % {"sector": nace.title, "code": nace.code}

    @property
    def site(self):
        """The stream's site, or the prospective company's first site."""
        if self.stream is not None:
            return self.stream.site
        sites = list(self.company.sites.all())
        return sites[0] if sites else None

    @property
    def region(self):
        site = self.site
        return site.region if site is not None else None

    @property
    def region_label(self) -> str:
        region = self.region
        return region.name if region is not None else ""

    @property
    def exact_site(self):
        return self.site if self.show_confidential else None

    @property
    def description(self) -> str:
        """The counterpart in one line: "Dairy company (NACE 10.51), Sydsverige, about 15 km away"."""
        return ", ".join(p for p in (self.label, self.region_label, self.distance_label) if p)

    @property
    def confidential(self) -> dict | None:
        if not self.show_confidential or self.stream is None:
            return None
        return {f: getattr(self.stream, f) for f in CONFIDENTIAL_FIELDS}


@dataclass
class MatchView:
    """A match as one viewer may see it; build with `present_match`."""

    match: object
    full: bool
    offer: MatchSide
    need: MatchSide
    viewer_role: str | None
    reasons: list[str]

    # --- Sides ---
    @property
    def own(self) -> MatchSide | None:
        return {"offer": self.offer, "need": self.need}.get(self.viewer_role)

    @property
    def counterpart(self) -> MatchSide | None:
        return {"offer": self.need, "need": self.offer}.get(self.viewer_role)

    @property
    def sides(self) -> list[MatchSide]:
        return [self.offer, self.need]

    # --- Score ---
    @property
    def score_percent(self) -> int:
        return round(self.match.score * 100)

    @property
    def parts(self) -> list[Part]:
        raw = self.match.parts or {}
        return [
            Part(key, str(PART_LABELS[key]), str(PART_HELP[key]), float(raw.get(key, 0.0)))
            for key in PART_LABELS
        ]

    # --- Prospective ---
    @property
    def prospective(self) -> bool:
        return self.match.prospective

    @property
    def prospective_label(self) -> str:
        if not self.match.prospective:
            return ""
        if self.match.need_id is None:
            # The receiver is a company that has listed no need; is it the viewer's?
            if self.viewer_role == "need":
                return _("Companies like yours often use this")
            return _("Companies like these often use this")
        if self.viewer_role == "offer":
            return _("Companies like yours often produce this")
        return _("Companies like these often produce this")

    @property
    def sector_reason(self) -> str:
        return next((r for r in self.reasons if _PRIOR_MARK in r), "") if self.match.prospective else ""

    # --- Distance ---
    @property
    def distance_km(self) -> float | None:
        return round(self.match.distance_km, 1) if self.full else None

    @property
    def approx_distance_km(self) -> int:
        return approximate_km(self.match.distance_km)

    @property
    def distance_label(self) -> str:
        if self.full:
            return _("%(km)s km") % {"km": f"{self.match.distance_km:.1f}"}
        return _("about %(km)s km") % {"km": self.approx_distance_km}

    # --- Quantities and impact (estimates) ---
    def _figure(self, value: float) -> float:
        return round(value) if self.full else estimate(value)

    @property
    def exchangeable_yearly(self) -> float:
        return self.match.exchangeable_yearly

    @property
    def unit(self) -> str:
        return self.match.unit or (self.match.impact or {}).get("unit", "")

    @property
    def co2e_t(self) -> float:
        return round(self.match.co2e_t, 1) if self.full else estimate(self.match.co2e_t)

    @property
    def diverted_t(self) -> float:
        return round(self.match.diverted_t, 1) if self.full else estimate(self.match.diverted_t)

    @property
    def eur_per_year(self) -> float | None:
        """The viewer's own side's money per year: the provider's for the offer side, the receiver's
        for the need side. None for viewers who are not a party."""
        if self.viewer_role == "offer":
            return self._figure(self.match.eur_provider)
        if self.viewer_role == "need":
            return self._figure(self.match.eur_receiver)
        return None

    @property
    def eur_per_year_abs(self) -> float | None:
        return None if self.eur_per_year is None else abs(self.eur_per_year)

    @property
    def eur_provider(self) -> float | None:
        return self._figure(self.match.eur_provider) if self.full or self.viewer_role == "offer" else None

    @property
    def eur_receiver(self) -> float | None:
        return self._figure(self.match.eur_receiver) if self.full or self.viewer_role == "need" else None

    @property
    def transport_eur(self) -> float | None:
        return self._figure((self.match.impact or {}).get("transport_eur", 0.0)) if self.full else None

    @property
    def assumptions(self) -> list[str]:
        out = [str(a) for a in (self.match.impact or {}).get("assumptions", [])]
        if self.full or self.viewer_role == "offer":
            return out
        # The factor's note names the provider's disposal route, a confidential field.
        hidden = _("avoided disposal: a typical factor for the provider's current disposal route")
        return [hidden if _DISPOSAL_FACTOR.match(a) else a for a in out]


def _stream_visible(roles, stream) -> bool:
    """Whether `Stream.objects.visible_to` lets the viewer open this stream (computed, no query)."""
    if stream is None:
        return False
    return (
        roles.is_staff
        or stream.company_id in roles.company_ids
        or stream.site.region_id in roles.facilitator_region_ids
        or (stream.status == StreamStatus.ACTIVE and stream.visibility in (Visibility.PUBLIC, Visibility.ANONYMOUS))
    )


def present_match(match, *, user) -> MatchView:
    """Decide once what `user` sees of `match` (a row of `match_queryset`)."""
    roles = roles_for(user)
    full = roles.authenticated and (
        roles.is_staff or bool(roles.facilitator_region_ids & match_region_ids(match))
    )
    own_offer = match.source_company_id in roles.company_ids
    own_need = match.target_company_id in roles.company_ids
    viewer_role = "offer" if own_offer else "need" if own_need else None
    approx = approximate_km(match.distance_km)
    far = _("about %(km)s km away") % {"km": approx}
    exact = _("%(km)s km away") % {"km": f"{match.distance_km:.1f}"}

    # Double opt-in: both parties said yes, so each may see the other.
    revealed = viewer_role is not None and match.revealed_at is not None

    def side(role, stream, company, own):
        public = stream is not None and stream.visibility == Visibility.PUBLIC
        if full and not own and not revealed and stream is not None:
            note_confidential_read("streams.stream", stream.pk)  # shown to a facilitator or staff member
        return MatchSide(
            role=role, stream=stream, company=company, own=own,
            show_identity=full or own or public or revealed,
            show_confidential=full or own or revealed,
            stream_visible=_stream_visible(roles, stream),
            # A party reads the distance at the counterpart; anyone else once, at the need.
            distance_label="" if own or (viewer_role is None and role == "offer") else (exact if full else far),
        )

    reasons = [str(r) for r in (match.reasons or [])]
    if not full:
        reasons = [_redact(r, approx) for r in reasons]
    return MatchView(
        match=match,
        full=full,
        offer=side("offer", match.offer, match.source_company, own_offer),
        need=side("need", match.need, match.target_company, own_need),
        viewer_role=viewer_role,
        reasons=reasons,
    )
