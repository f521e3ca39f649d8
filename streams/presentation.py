"""What a given viewer may see of a stream: one place for pages, partials, API and exports."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from audit.context import note_confidential_read
from companies.anonymity import Label, hidden_label
from companies.geo import grid_distance_km
from companies.roles import roles_for
from streams.permissions import can_see_confidential, can_see_identity

CONFIDENTIAL_FIELDS = (
    "price_eur_per_unit",
    "disposal_route",
    "disposal_cost_eur_per_unit",
    "composition",
    "contaminants",
)


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
    def anonymous(self) -> Label | None:
        """What is shown of a company the viewer may not be told: its k-anonymous sector and area
        (companies/anonymity.py). None when the company is shown."""
        if self.show_identity:
            return None
        if not hasattr(self, "_label"):
            self._label = hidden_label(self.stream.site, self.stream.company)
        return self._label

    @property
    def company_label(self) -> str:
        if self.show_identity:
            return self.stream.company.name
        return self.anonymous.company_label

    @property
    def region_label(self) -> str:
        if self.show_identity:
            return self.stream.site.region.name
        return self.anonymous.area_name

    @property
    def sector(self) -> dict:
        """{"code", "title"} of the sector shown (the company's own, or its label's)."""
        if self.show_identity:
            nace = self.stream.company.nace
            return {"code": nace.code, "title": nace.title}
        return {"code": self.anonymous.sector_code, "title": self.anonymous.sector_title}

    @property
    def region(self) -> dict:
        """{"code", "name"} of the area shown: the region, or for a hidden company its label's area
        (a region, a country code, or "" for the whole Baltic Sea region)."""
        if self.show_identity:
            region = self.stream.site.region
            return {"code": region.code, "name": region.name}
        return {"code": self.anonymous.area_code, "name": self.anonymous.area_name}

    @property
    def distance_label(self) -> str:
        if self.approx_distance_km is None:
            return ""
        return _("about %(km)s km away") % {"km": self.approx_distance_km}


def present(stream, *, user, origin: tuple[float, float] | None) -> StreamView:
    km = None
    if origin is not None:
        # Between grid cells (companies/geo.py): moving one's own site reveals nothing finer than a cell.
        site = (stream.site.latitude, stream.site.longitude)
        km = approximate_km(grid_distance_km(tuple(origin), site, settings.LOCATION_GRID_KM))
    confidential = can_see_confidential(user, stream)
    if confidential and stream.company_id not in roles_for(user).company_ids:
        note_confidential_read("streams.stream", stream.pk)  # shown to a facilitator or staff member
    return StreamView(
        stream=stream,
        show_identity=can_see_identity(user, stream),
        show_confidential=confidential,
        approx_distance_km=km,
    )
