"""Distances between sites, and the grid that keeps a shown distance from pinning a site.

A distance shown to someone who may not see a site ("about 20 km away") is measured between the
centres of the grid cells that hold the two sites (`LOCATION_GRID_KM`, 1 km by default), then banded.
Moving one's own site, or adding sites, changes the answer only where one's own site crosses a cell
border: whoever watches where the figure flips learns at most which cell the other site lies in,
never where in it (docs/security.md, "Anonymity").

`haversine_km` here is the one great-circle distance of the apps. The engine keeps its own pure copy
(matching/engine/geo.py, with a vectorised twin) because it imports nothing of the project.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return EARTH_RADIUS_KM * 2 * math.asin(min(1.0, math.sqrt(a)))


def grid_cell_centre(lat: float, lon: float, cell_km: float) -> tuple[float, float]:
    """The centre of the cell of about `cell_km` x `cell_km` that holds (lat, lon): rows of equal
    latitude height, each cut into cells of equal width at the row's middle latitude."""
    if cell_km <= 0:
        return lat, lon
    dlat = cell_km / KM_PER_DEGREE
    row = math.floor(lat / dlat)
    centre_lat = (row + 0.5) * dlat
    dlon = cell_km / (KM_PER_DEGREE * max(0.01, math.cos(math.radians(centre_lat))))
    centre_lon = (math.floor(lon / dlon) + 0.5) * dlon
    return centre_lat, centre_lon


def grid_distance_km(a: tuple[float, float], b: tuple[float, float], cell_km: float) -> float:
    """Distance between the centres of the cells of `a` and `b`."""
    (lat1, lon1), (lat2, lon2) = grid_cell_centre(*a, cell_km), grid_cell_centre(*b, cell_km)
    return haversine_km(lat1, lon1, lat2, lon2)
