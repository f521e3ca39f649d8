"""Distances on the sphere, unit vectors for KD-trees, and the chord that matches a radius in km.

A KD-tree on 3-D unit vectors answers "everything within r km" exactly: the straight-line (chord)
distance between two points on the unit sphere grows monotonically with their great-circle distance,
so a ball query with the chord of r finds exactly the points within r (up to float rounding, which the
callers absorb with a tiny margin and an exact haversine filter afterwards).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius


def haversine_km(
    lat1: float, lon1: float, lat2: float, lon2: float, radius_km: float = EARTH_RADIUS_KM
) -> float:
    """Great-circle distance in km between two (lat, lon) points in degrees."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2) - math.radians(lon1)
    a = math.sin(dp / 2.0) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2.0) ** 2
    return 2.0 * radius_km * math.asin(math.sqrt(min(1.0, a)))


def haversine_km_array(lat1, lon1, lat2, lon2, radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Vectorised ``haversine_km`` (same operation order, so results agree to the last bits)."""
    p1 = np.radians(lat1)
    p2 = np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - np.radians(lon1)
    a = np.sin(dp / 2.0) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2.0) ** 2
    return 2.0 * radius_km * np.arcsin(np.sqrt(np.minimum(1.0, a)))


def unit_vectors(lat, lon) -> np.ndarray:
    """(n, 3) unit vectors for latitudes/longitudes in degrees."""
    lat = np.radians(np.asarray(lat, dtype=np.float64))
    lon = np.radians(np.asarray(lon, dtype=np.float64))
    cl = np.cos(lat)
    return np.column_stack((cl * np.cos(lon), cl * np.sin(lon), np.sin(lat)))


def chord_for_km(km, radius_km: float = EARTH_RADIUS_KM):
    """Chord length on the unit sphere for a great-circle distance in km (with a small safety margin).

    The margin only widens the query; callers filter the result by the exact haversine distance.
    """
    angle = np.minimum(np.asarray(km, dtype=np.float64) / radius_km, math.pi)
    return 2.0 * np.sin(angle / 2.0) * (1.0 + 1e-9) + 1e-12


def chord_to_km(chord, radius_km: float = EARTH_RADIUS_KM):
    """Inverse of ``chord_for_km`` without the margin (for reporting KD-tree distances)."""
    return 2.0 * radius_km * np.arcsin(np.minimum(1.0, np.asarray(chord, dtype=np.float64) / 2.0))


def build_tree(lat, lon) -> cKDTree | None:
    """A KD-tree on unit vectors, or None for an empty set."""
    if len(lat) == 0:
        return None
    return cKDTree(unit_vectors(lat, lon), balanced_tree=False, compact_nodes=False)


def pairs_within(tree_a: cKDTree, tree_b: cKDTree, max_km: float, radius_km: float = EARTH_RADIUS_KM):
    """All index pairs (i in a, j in b) whose points lie within ``max_km`` of each other (superset by
    a float margin). Returns two int64 arrays."""
    r = float(chord_for_km(max_km, radius_km))
    res = tree_a.sparse_distance_matrix(tree_b, r, output_type="ndarray")
    return res["i"].astype(np.int64), res["j"].astype(np.int64)
