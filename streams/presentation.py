"""What a given viewer may see of a stream: one place for pages, partials, API and exports."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from audit.context import note_confidential_read
from companies.roles import roles_for
from streams.permissions import can_see_confidential, can_see_identity

CONFIDENTIAL_FIELDS = (
    "price_eur_per_unit",
    "disposal_route",
    "disposal_cost_eur_per_unit",
    "composition",
    "contaminants",
)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(min(1.0, math.sqrt(a)))


def approximate_km(km: float) -> int:
    """Round a distance so that it does not pinpoint a site: 5 km steps up to 50 km, then 10, then 50."""
    if km < 5:
        return 5
    if km < 50:
        return int(5 * round(km / 5))
    if km < 200:
        return int(10 * round(km / 10))
    return int(50 * round(km / 50))


@dataclass
class StreamView:
    """A stream as one viewer may see it."""

    stream: object
    show_identity: bool
    show_confidential: bool
    approx_distance_km: int | None

    @property
    def company_label(self) -> str:
        s = self.stream
        if self.show_identity:
            return s.company.name
        return _("%(sector)s company (NACE %(code)s)") % {"sector": s.company.nace.title, "code": s.company.nace.code}

    @property
    def region_label(self) -> str:
        return self.stream.site.region.name

    @property
    def distance_label(self) -> str:
        if self.approx_distance_km is None:
            return ""
        return _("about %(km)s km away") % {"km": self.approx_distance_km}


def present(stream, *, user, origin: tuple[float, float] | None) -> StreamView:
    km = None
    if origin is not None:
        km = approximate_km(haversine_km(origin[0], origin[1], stream.site.latitude, stream.site.longitude))
    confidential = can_see_confidential(user, stream)
    if confidential and stream.company_id not in roles_for(user).company_ids:
        note_confidential_read("streams.stream", stream.pk)  # shown to a facilitator or staff member
    return StreamView(
        stream=stream,
        show_identity=can_see_identity(user, stream),
        show_confidential=confidential,
        approx_distance_km=km,
    )
