"""What a given viewer sees of a match: one place for the pages, their partials and the API.

One rule, per side of the match: a viewer *knows* a side when it is staff, a member of that side's
company, a facilitator of that side's region (the stream's site; for a prospective company, any of
its sites), or a party of a match both companies said yes to (`Match.revealed_at`, see
`facilitation/transitions.py`). A known side shows its company and its confidential fields;
an unknown side shows its company only when its listing is public, and otherwise "sector (NACE),
area, about N km away", the sector and area generalised until 3 companies share them
(`companies/anonymity.py`).

A viewer who knows both sides (staff; a facilitator of both regions; the parties after the
introduction) sees the engine's exact figures. Anyone else sees the *shared* figures
(`matching/engine/disclosure.py`): the distance banded, the parts and the score recomputed from the
band, the public quantities and the value class's default value, and money only for the sides it
knows, the receiver's counted before the provider's asking price. So no combination of what a party
or a facilitator of one side reads gives the other side's price or exact distance; reasons that state
them are reworded (see `_redact`). A facilitator who enters a far-reaching need in its own region thus
learns no more about the other region's company than an SME would.

Everything here reads only data that `matching.selectors.match_queryset` loaded, and the label
table of hidden companies (`companies.anonymity`: one small query per request, cached).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.context import note_confidential_read
from companies.anonymity import Label, hidden_label
from companies.roles import roles_for
from matching.engine import SharedParts
from matching.permissions import side_region_ids
from matching.shared_figures import SharedFigures, shared_figures
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

# Engine wording (matching/engine/scoring.py) that only a viewer of both sides may see verbatim.
_EXACT_DISTANCE = re.compile(r"^(?:under 1 km|\d+(?:\.\d+)? km)(?=, within )")
# Transport is over the exact distance; the typical value that follows is public. A reason written
# before scores left prices out carries a value built from both parties' prices: it is dropped.
_TRANSPORT_VALUE = re.compile(
    r"^transport about -?\d+ EUR/(\S+?)(?P<typical> against a typical value of .*)?"
    r"(?: against a value of about -?\d+ EUR/\S+?(?: \(value partly assumed: prices not given\))?)?$"
)
# Assumption notes of the engine (matching/engine/impact.py) that tell a side's confidential fields.
_PROVIDER_NOTE = re.compile(r"^(?:disposal_co2e\.\w+:|disposal route not given|provider's disposal cost not given)")
_RECEIVER_NOTE = re.compile(r"^receiver's current purchase price not given")
_PRIOR_MARK = "recorded exchange"


def estimate(value: float) -> float:
    """Round an estimate to two significant figures: 17 100 -> 17 000, 149.3 -> 150, 0.84 -> 0.84."""
    if not value or not math.isfinite(value):
        return 0.0
    digits = 1 - int(math.floor(math.log10(abs(value))))
    return float(round(value, digits))


def _redact(reason: str, approx_km: int, transport_per_unit_eur: float) -> str:
    """A reason as someone who does not know both sides may read it: the distance banded, transport
    over the band."""
    reason = _EXACT_DISTANCE.sub(f"about {approx_km} km", reason)
    return _TRANSPORT_VALUE.sub(
        lambda m: f"transport about {transport_per_unit_eur:.0f} EUR/{m.group(1)}{m.group('typical') or ''}", reason
    )


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
    def anonymous(self) -> Label | None:
        """The k-anonymous sector and area of a side whose company is hidden (companies/anonymity.py)."""
        if self.show_identity or self.site is None:
            return None
        if not hasattr(self, "_label"):
            self._label = hidden_label(self.site, self.company)
        return self._label

    @property
    def sector_label(self) -> str:
        if self.anonymous is not None:
            return self.anonymous.sector_label or _("not shown")
        nace = self.company.nace
        return _("%(sector)s (NACE %(code)s)") % {"sector": nace.title, "code": nace.code}

    @property
    def sector(self) -> dict:
        if self.anonymous is not None:
            return {"code": self.anonymous.sector_code, "title": self.anonymous.sector_title}
        return {"code": self.company.nace.code, "title": self.company.nace.title}

    @property
    def label(self) -> str:
        if self.show_identity:
            return self.company.name
        if self.anonymous is not None:
            return self.anonymous.company_label
        return _("A company")

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
        if self.anonymous is not None:
            return self.anonymous.area_name
        region = self.region
        return region.name if region is not None else ""

    @property
    def area(self) -> dict | None:
        """{"code", "name"} of the area shown: the region, or a hidden company's label's area."""
        if self.anonymous is not None:
            return {"code": self.anonymous.area_code, "name": self.anonymous.area_name}
        region = self.region
        return {"code": region.code, "name": region.name} if region is not None else None

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
    figures: SharedFigures | None = None  # for a viewer who does not know both sides

    @property
    def shared(self) -> SharedParts | None:
        return self.figures.parts if self.figures is not None else None

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
    def score(self) -> float:
        """The engine's score for a viewer of both sides, the shared score for anyone else."""
        return self.match.score if self.full else self.shared.total

    @property
    def score_percent(self) -> int:
        return round(self.score * 100)

    @property
    def parts(self) -> list[Part]:
        if self.full:
            raw = self.match.parts or {}
        else:
            sp = self.shared
            raw = {"compatibility": sp.compatibility, "distance": sp.distance, "volume_value": sp.volume_value,
                   "availability": sp.availability}
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
        """Exact for a viewer of both sides; otherwise with the trucks over the band and, unless the
        viewer knows the provider's side, without the avoided disposal (it follows the provider's
        confidential disposal route; `matching.shared_figures`)."""
        if self.full:
            return round(self.match.co2e_t, 1)
        return estimate(self.figures.co2e_t)

    @property
    def diverted_t(self) -> float | None:
        """Tonnes kept from landfill or incineration: the provider's disposal route tells whether
        there are any, so only a viewer who knows the provider's side is shown them."""
        if self.full:
            return round(self.match.diverted_t, 1)
        return None if self.figures.diverted_t is None else estimate(self.figures.diverted_t)

    @property
    def eur_per_year(self) -> float | None:
        """The viewer's own side's money per year: the provider's for the offer side, the receiver's
        for the need side. None for viewers who are not a party."""
        if self.viewer_role == "offer":
            return self.eur_provider
        if self.viewer_role == "need":
            return self.eur_receiver
        return None

    @property
    def eur_per_year_abs(self) -> float | None:
        return None if self.eur_per_year is None else abs(self.eur_per_year)

    @property
    def eur_provider(self) -> float | None:
        """The provider's money is its own prices times the public quantity: shown to whoever knows
        the offer side."""
        return self._figure(self.match.eur_provider) if self.offer.show_confidential else None

    @property
    def eur_receiver(self) -> float | None:
        """Exact for a viewer of both sides; for one who knows only the need side, counted before the
        provider's asking price (`receiver_before_price`)."""
        if self.full:
            return self._figure(self.match.eur_receiver)
        return estimate(self.figures.receiver_eur) if self.need.show_confidential else None

    @property
    def receiver_before_price(self) -> bool:
        return not self.full and self.eur_receiver is not None

    @property
    def transport_eur(self) -> float | None:
        if self.full:
            return self._figure((self.match.impact or {}).get("transport_eur", 0.0))
        if self.offer.show_confidential or self.need.show_confidential:
            return estimate(self.figures.transport_eur)
        return None

    @property
    def assumptions(self) -> list[str]:
        out = [str(a) for a in (self.match.impact or {}).get("assumptions", [])]
        if not self.offer.show_confidential:
            # These notes tell the provider's disposal route and whether it gave a disposal cost.
            out = [a for a in out if not _PROVIDER_NOTE.match(a)]
            if self.match.offer_id is not None:
                out.append(_("avoided disposal and tonnes kept from landfill are counted once both companies "
                             "said yes: they depend on the provider's current disposal route"))
        if not self.need.show_confidential:
            out = [a for a in out if not _RECEIVER_NOTE.match(a)]  # whether the receiver gave a price
        if not self.full:
            out.append(_("distance, transport and score from the rounded distance; the provider's asking "
                         "price counts once both companies said yes"))
        return out


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
    own_offer = match.source_company_id in roles.company_ids
    own_need = match.target_company_id in roles.company_ids
    viewer_role = "offer" if own_offer else "need" if own_need else None
    # Double opt-in: both parties said yes, so each may see the other.
    revealed = viewer_role is not None and match.revealed_at is not None

    def knows(stream, company, own) -> bool:
        return roles.authenticated and (
            roles.is_staff or own or revealed
            or bool(roles.facilitator_region_ids & side_region_ids(stream, company))
        )

    knows_offer = knows(match.offer, match.source_company, own_offer)
    knows_need = knows(match.need, match.target_company, own_need)
    full = knows_offer and knows_need
    approx = approximate_km(match.distance_km)
    far = _("about %(km)s km away") % {"km": approx}
    exact = _("%(km)s km away") % {"km": f"{match.distance_km:.1f}"}

    def side(role, stream, company, own, known):
        public = stream is not None and stream.visibility == Visibility.PUBLIC
        if known and not own and not revealed and stream is not None:
            note_confidential_read("streams.stream", stream.pk)  # shown to a facilitator or staff member
        return MatchSide(
            role=role, stream=stream, company=company, own=own,
            show_identity=known or public,
            show_confidential=known,
            stream_visible=_stream_visible(roles, stream),
            # A party reads the distance at the counterpart; anyone else once, at the need.
            distance_label="" if own or (viewer_role is None and role == "offer") else (exact if full else far),
        )

    reasons = [str(r) for r in (match.reasons or [])]
    view = MatchView(
        match=match,
        full=full,
        offer=side("offer", match.offer, match.source_company, own_offer, knows_offer),
        need=side("need", match.need, match.target_company, own_need, knows_need),
        viewer_role=viewer_role,
        reasons=reasons,
    )
    if not full:
        view.figures = shared_figures(match, approx, knows_offer=knows_offer)
        view.reasons = [_redact(r, approx, view.figures.transport_per_unit_eur) for r in reasons]
    return view
