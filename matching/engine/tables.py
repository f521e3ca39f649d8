"""Column arrays of streams and the vectorised score (mirrors ``scoring.py`` operation by operation)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .compat import Profile, streams_excluded
from .config import EngineConfig
from .geo import haversine_km_array, unit_vectors
from .scoring import POPCOUNT, norm_months, typical_value
from .types import FORMS, StreamSpec

FORM_CODES = {None: 0, **{f: i + 1 for i, f in enumerate(FORMS)}}
_POP = np.asarray(POPCOUNT, dtype=np.float64)
_NAN = float("nan")


def _opt(values) -> np.ndarray:
    return np.asarray([_NAN if v is None else float(v) for v in values], dtype=np.float64)


class StreamTable:
    """Streams as NumPy columns plus their specs and compatibility profiles."""

    def __init__(self, specs: list[StreamSpec], config: EngineConfig):
        self.specs = list(specs)
        s = self.specs
        self.n = len(s)
        self.ids = np.asarray([x.id for x in s], dtype=np.int64)
        self.company = np.asarray([x.company_id for x in s], dtype=np.int64)
        self.lat = np.asarray([x.lat for x in s], dtype=np.float64)
        self.lon = np.asarray([x.lon for x in s], dtype=np.float64)
        self.xyz = unit_vectors(self.lat, self.lon) if self.n else np.zeros((0, 3))
        self.qty = np.asarray([x.quantity_yearly for x in s], dtype=np.float64)
        self.months = np.asarray([norm_months(x.months) for x in s], dtype=np.int64)
        self.temp = _opt(x.temperature_c for x in s)
        self.wq = _opt(x.water_quality for x in s)
        self.form = np.asarray([FORM_CODES.get(x.form, 0) for x in s], dtype=np.int64)
        self.haz = np.asarray([x.hazardous for x in s], dtype=bool)
        self.acc = np.asarray([x.accepts_hazardous for x in s], dtype=bool)
        self.price = _opt(x.price_eur_per_unit for x in s)
        self.disposal = _opt(x.disposal_cost_eur_per_unit for x in s)
        self.max_transport_km = _opt(x.max_transport_km for x in s)
        self.class_radius = np.asarray([config.radius_for(x.value_class) for x in s], dtype=np.float64)
        self.typical_value = np.asarray([typical_value(x.value_class, config) for x in s], dtype=np.float64)
        self.material = np.asarray([x.kind == "material" for x in s], dtype=bool)
        self.is_offer = np.asarray([x.direction == "offer" for x in s], dtype=bool)
        self.has_excl = np.asarray([bool(x.excluded_company_ids or x.excluded_nace) for x in s], dtype=bool)
        profiles: dict[Profile, int] = {}
        idx = []
        for x in s:
            p = Profile.of(x)
            idx.append(profiles.setdefault(p, len(profiles)))
        self.profiles = list(profiles)
        self.profile = np.asarray(idx, dtype=np.int64)


@lru_cache(maxsize=16)
def form_table(config: EngineConfig) -> np.ndarray:
    """(8, 8) form factors indexed by FORM_CODES (0 = not given)."""
    forms = [None, *FORMS]
    t = np.zeros((len(forms), len(forms)))
    for i, a in enumerate(forms):
        for j, b in enumerate(forms):
            t[i, j] = config.form_factor(a, b)
    return t


def score_declared(
    otab: StreamTable,
    ntab: StreamTable,
    oi: np.ndarray,
    ni: np.ndarray,
    base: np.ndarray,
    config: EngineConfig,
) -> dict[str, np.ndarray]:
    """Vectorised ``scoring.score_parts`` for pairs (otab[oi], ntab[ni]) with base compatibility ``base``.

    Returns the surviving pairs and their parts as arrays (keys: oi, ni, compatibility, distance,
    volume_value, availability, total, distance_km).
    """
    keep = (base > 0.0) & (otab.company[oi] != ntab.company[ni])
    special = np.flatnonzero(keep & (otab.has_excl[oi] | ntab.has_excl[ni]))
    for k in special:
        if streams_excluded(otab.specs[oi[k]], ntab.specs[ni[k]]):
            keep[k] = False
    oi, ni, base = oi[keep], ni[keep], base[keep]

    # Hard constraints and limits, multiplied in the same order as compat.constraint_factor.
    unk = config.unknown_constraint_factor
    ot, nt = otab.temp[oi], ntab.temp[ni]
    need_t = ~np.isnan(nt)
    drop = otab.haz[oi] & ~ntab.acc[ni]
    factor = np.ones(len(oi))
    factor = factor * np.where(need_t & np.isnan(ot), unk, 1.0)
    drop |= need_t & ~np.isnan(ot) & (ot < nt)
    ow, nw = otab.wq[oi], ntab.wq[ni]
    need_w = ~np.isnan(nw)
    factor = factor * np.where(need_w & np.isnan(ow), unk, 1.0)
    drop |= need_w & ~np.isnan(ow) & (ow < nw)
    ff = form_table(config)[otab.form[oi], ntab.form[ni]]
    drop |= ff <= 0.0
    factor = factor * ff
    keep = ~drop
    oi, ni, base, factor = oi[keep], ni[keep], base[keep], factor[keep]
    compat = np.minimum(1.0, base * factor)

    d = haversine_km_array(otab.lat[oi], otab.lon[oi], ntab.lat[ni], ntab.lon[ni], config.earth_radius_km)
    om, nm = otab.max_transport_km[oi], ntab.max_transport_km[ni]
    radius = np.where(
        np.isnan(om) & np.isnan(nm), otab.class_radius[oi], np.fmin(om, nm)
    )  # fmin ignores a NaN on one side
    pos = radius > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.where(
            pos, np.maximum(0.0, 1.0 - (d / np.where(pos, radius, 1.0)) ** config.distance_decay_power), 1.0
        )
    inside = np.where(pos, d <= radius, d <= 0.0)

    qo, qn = otab.qty[oi], ntab.qty[ni]
    both = (qo > 0.0) & (qn > 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = np.minimum(1.0, qo / np.where(both, qn, 1.0))
        absorb = np.minimum(1.0, qn / np.where(both, qo, 1.0))
    cw = config.coverage_weight
    fit = np.where(both, cw * cov + (1.0 - cw) * absorb, config.unknown_volume_fit)

    value = otab.typical_value[oi]  # never a price (scoring.typical_value)
    transport = config.handling_eur_per_t + config.transport_eur_per_tkm * config.road_circuity * d
    tot = value + transport
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(tot > 0.0, value / np.where(tot > 0.0, tot, 1.0), 1.0)
    share = config.volume_fit_share
    vv = np.where(otab.material[oi], share * fit + (1.0 - share) * ratio, fit)

    o_m, n_m = otab.months[oi], ntab.months[ni]
    av = _POP[o_m & n_m] / _POP[n_m]

    total = (
        compat**config.w_compatibility
        * dist**config.w_distance
        * vv**config.w_volume_value
        * av**config.w_availability
    )
    keep = inside & (total > 0.0)
    return {
        "oi": oi[keep],
        "ni": ni[keep],
        "compatibility": compat[keep],
        "distance": dist[keep],
        "volume_value": vv[keep],
        "availability": av[keep],
        "total": total[keep],
        "distance_km": d[keep],
    }


def uniq(a: np.ndarray) -> np.ndarray:
    """Sorted unique values. Sort-based: ``np.unique`` on int64 is hash-based (and far slower) in
    NumPy 2.x."""
    a = np.sort(np.asarray(a), kind="stable")
    if len(a) == 0:
        return a
    return a[np.r_[True, a[1:] != a[:-1]]]


def uniq_inverse(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted unique values, inverse indices, counts), sort-based."""
    a = np.asarray(a)
    order = np.argsort(a, kind="stable")
    s = a[order]
    if len(s) == 0:
        return s, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    first = np.r_[True, s[1:] != s[:-1]]
    group = np.cumsum(first) - 1
    inv = np.empty(len(a), dtype=np.int64)
    inv[order] = group
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(s)])
    return s[first], inv, counts


def rank_keys(total: np.ndarray, decimals: int) -> np.ndarray:
    """Vectorised ``scoring.rank_key``."""
    return np.floor(total * 10.0**decimals + 0.5).astype(np.int64)


def top_k_mask(group: np.ndarray, keys: np.ndarray, tiebreak: np.ndarray, k: int) -> np.ndarray:
    """True for the k best rows of each group (higher key first, then lower tiebreak id)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort((tiebreak, -keys, group))
    g = group[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    lengths = np.diff(np.r_[starts, n])
    rank = np.arange(n) - np.repeat(starts, lengths)
    mask = np.zeros(n, dtype=bool)
    mask[order[rank < k]] = True
    return mask
