"""Prospective matches: companies that listed nothing but whose sector typically takes (or produces)
such a stream - the cold start.

For an offer, every company sector (NACE division, class) gets an evidence value

    evidence = P(division | EWC codes, provider division, category, description words)
               x (1 + g * share of the class within the division) / (1 + g)

from the learned priors (``priors.py``); sectors below ``min_prior`` are dropped and the
``prospective_max_sectors`` strongest are kept. The compatibility part is 1 - exp(-evidence / scale),
so stronger evidence always ranks higher. Within one sector every company has the same evidence, so its
score only falls with distance: a k-nearest query per sector finds the best companies exactly (ties at
the cut are resolved by a ball query). Needs are handled the same way with the provider priors.
Companies that already appear in the anchor's own top K of declared matches are left out (the declared
match is shown instead), as are the anchor's own company and excluded companies.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .compat import lineage, nace_excluded, stream_company_excluded
from .config import EngineConfig
from .geo import chord_for_km, haversine_km_array, unit_vectors
from .priors import text_tokens
from .tables import _POP, StreamTable, uniq, uniq_inverse
from .types import ALL_MONTHS, CompanySpec, StreamSpec

# Sectors with at most this many companies are scanned instead of queried. Every scanned pair is scored
# in full, so scanning pays only for sectors about as small as the k a query would ask for (k >= 6):
# at 10k streams, scanning sectors of up to 64 companies scored 750k pairs to keep 17k.
SMALL_SECTOR = 8


def prior_key(stream: StreamSpec, priors=None) -> tuple:
    """What the sector priors of a stream depend on: role, EWC codes, own division (only when ``priors``
    use it, see ``Priors.key_division``), category lineage and description words."""
    role = "receiver" if stream.direction == "offer" else "provider"
    div = stream.nace_division[:2] if priors is None else priors.key_division(stream.nace_division)
    return (
        role,
        tuple(stream.ewc_codes),
        div,
        lineage(stream.category, stream.category_ancestors),
        text_tokens(stream.description),
    )


class CompanyIndex:
    """Companies grouped by sector (division, 4-digit class) with a KD-tree per sector."""

    def __init__(self, companies: list[CompanySpec], config: EngineConfig):
        self.config = config
        self.specs = list(companies)
        ids = [c.id for c in self.specs]
        if len(set(ids)) != len(ids):
            raise ValueError("company ids must be unique")
        self.n = len(self.specs)
        self.ids = np.asarray(ids, dtype=np.int64)
        self.pos = {cid: i for i, cid in enumerate(ids)}
        self.lat = np.asarray([c.lat for c in self.specs], dtype=np.float64)
        self.lon = np.asarray([c.lon for c in self.specs], dtype=np.float64)
        self.xyz = unit_vectors(self.lat, self.lon) if self.n else np.zeros((0, 3))
        sectors: dict[tuple[str, str], list[int]] = {}
        for i, c in enumerate(self.specs):
            sectors.setdefault(sector_of(c), []).append(i)
        self.sectors = sorted(sectors)
        self.members = [np.asarray(sectors[s], dtype=np.int64) for s in self.sectors]
        self.sector = np.zeros(self.n, dtype=np.int64)
        for si, m in enumerate(self.members):
            self.sector[m] = si
        self.nace_excluders = np.asarray(
            [sum(1 for i in m if self.specs[i].excluded_nace) for m in self.members], dtype=np.int64
        )
        self.excluded_by: dict[int, list[int]] = {}
        for i, c in enumerate(self.specs):
            for other in c.excluded_company_ids:
                self.excluded_by.setdefault(other, []).append(i)
        self.flagged = np.asarray([bool(c.excluded_nace) for c in self.specs], dtype=bool)
        self._trees: dict[int, cKDTree] = {}
        self._top: dict[tuple, list[tuple[int, float]]] = {}

    def tree(self, si: int) -> cKDTree:
        t = self._trees.get(si)
        if t is None:
            t = cKDTree(self.xyz[self.members[si]])
            self._trees[si] = t
        return t

    def top_sectors(self, stream: StreamSpec, priors) -> list[tuple[int, float]]:
        """The strongest sectors for a stream: [(sector index, evidence)], best first."""
        key = prior_key(stream, priors)
        hit = self._top.get(key)
        if hit is None:
            hit = top_sectors(key, self.sectors, priors, self.config)
            self._top[key] = hit
        return hit


def sector_of(c: CompanySpec) -> tuple[str, str]:
    return nace_sector(c.nace_division, c.nace_class)


def nace_sector(nace_division: str, nace_class: str) -> tuple[str, str]:
    """The sector key (division, 4-digit class) of a company's NACE division and class."""
    div = "".join(ch for ch in nace_division if ch.isdigit())[:2]
    cls = "".join(ch for ch in nace_class if ch.isdigit())[:4]
    return div, cls


def top_sectors(
    key: tuple, sectors: list[tuple[str, str]], priors, config: EngineConfig
) -> list[tuple[int, float]]:
    """Evidence per sector for a prior key; keep those with P(division) >= min_prior, strongest first."""
    role, codes, other, lin, toks = key
    dist = priors.distribution(codes, other, lin, role, toks)
    shares = priors.class_shares(codes, other, lin, role)
    g = config.class_weight
    scored = []
    for si, (div, cls) in enumerate(sectors):
        p = dist.get(div, 0.0)
        if p < config.min_prior or p <= 0.0:
            continue
        q = shares.get(div, {}).get(cls, 0.0) if cls else 0.0
        scored.append((-(p * (1.0 + g * q) / (1.0 + g)), div, cls, si))
    scored.sort()
    return [(si, -neg) for neg, _d, _c, si in scored[: config.prospective_max_sectors]]


def prospective_divisions(stream: StreamSpec, priors, config: EngineConfig) -> frozenset[str]:
    """The NACE divisions that can hold a prospective counterpart of `stream` (P(division) at least
    ``min_prior``). Companies of other divisions never become one, so an adapter may leave them out
    before building the company index; the result is the same."""
    if priors is None or not config.prospective_companies:
        return frozenset()
    role, codes, other, lin, toks = prior_key(stream, priors)
    dist = priors.distribution(codes, other, lin, role, toks)
    return frozenset(d for d, p in dist.items() if p >= config.min_prior and p > 0.0)


def prospective_sectors(
    stream: StreamSpec, present, priors, config: EngineConfig
) -> frozenset[tuple[str, str]]:
    """Of the company sectors `present` (keys as `nace_sector` gives them), those a prospective
    counterpart of `stream` can come from: the ones `CompanyIndex.top_sectors` picks from exactly these
    sectors. Companies of the other sectors never become one, so an adapter that has the candidate
    companies' sectors may leave those companies out before building the index; the picked sectors stay
    the strongest of what is left, so the result is the same."""
    if priors is None or not config.prospective_companies:
        return frozenset()
    ordered = sorted(set(present))
    return frozenset(ordered[si] for si, _ in top_sectors(prior_key(stream, priors), ordered, priors, config))


def skip_companies(stream: StreamSpec, declared_partners, cindex: CompanyIndex) -> set[int]:
    """Company indices never suggested for this anchor: own, excluded either way, declared partners."""
    out = set()
    for cid in (stream.company_id, *stream.excluded_company_ids, *declared_partners):
        i = cindex.pos.get(cid)
        if i is not None:
            out.add(i)
    out.update(cindex.excluded_by.get(stream.company_id, ()))
    return out


def prospective_pairs(
    T: StreamTable,
    anchors: np.ndarray,
    skips: list[set[int]],
    cindex: CompanyIndex,
    priors,
    config: EngineConfig,
):
    """Candidate (anchor, company) pairs with their evidence: for each anchor and each of its top
    sectors, the companies that can make its top ``prospective_top_k``. Exact (see module docstring)."""
    P = config.prospective_top_k
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    if P <= 0 or cindex.n == 0 or priors is None or len(anchors) == 0:
        return empty
    # (anchor, sector, evidence) for every anchor's top sectors, grouped by prior key.
    groups: dict[tuple, list[int]] = {}
    for a in anchors.tolist():
        groups.setdefault(prior_key(T.specs[a], priors), []).append(a)
    A, S, E = [], [], []
    for rows in groups.values():
        tops = cindex.top_sectors(T.specs[rows[0]], priors)
        if not tops:
            continue
        arr = np.asarray(rows, dtype=np.int64)
        A.append(np.repeat(arr, len(tops)))
        S.append(np.tile(np.asarray([si for si, _ in tops], dtype=np.int64), len(arr)))
        E.append(np.tile(np.asarray([ev for _, ev in tops]), len(arr)))
    if not A:
        return empty
    A, S, E = np.concatenate(A), np.concatenate(S), np.concatenate(E)
    # A stream that excludes whole NACE codes skips those sectors.
    flagged = np.flatnonzero(T.has_excl[A])
    if len(flagged):
        drop = [
            i
            for i in flagged.tolist()
            if T.specs[A[i]].excluded_nace
            and nace_excluded(T.specs[A[i]].excluded_nace, *cindex.sectors[S[i]])
        ]
        if drop:
            keep = np.ones(len(A), dtype=bool)
            keep[drop] = False
            A, S, E = A[keep], S[keep], E[keep]
    if len(A) == 0:
        return empty
    # k per (anchor, sector): enough to survive the skipped companies of that sector.
    n_sec = max(1, len(cindex.sectors))
    skip_a = np.asarray([a for a in anchors.tolist() for _ in skips[a]], dtype=np.int64)
    skip_c = np.asarray([c for a in anchors.tolist() for c in skips[a]], dtype=np.int64)
    skip_codes, _, skip_counts = uniq_inverse(skip_a * n_sec + cindex.sector[skip_c])
    codes = A * n_sec + S
    pos = np.clip(np.searchsorted(skip_codes, codes), 0, max(0, len(skip_codes) - 1))
    in_skip = (skip_codes[pos] == codes) if len(skip_codes) else np.zeros(len(codes), dtype=bool)
    K = P + 1 + cindex.nace_excluders[S] + np.where(in_skip, skip_counts[pos] if len(skip_codes) else 0, 0)

    out_a, out_c, out_e = [], [], []
    R = config.earth_radius_km
    order = np.lexsort((A, S))
    A, S, E, K = A[order], S[order], E[order], K[order]
    bounds = np.flatnonzero(np.r_[True, S[1:] != S[:-1], True])
    for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        si = int(S[lo])
        members = cindex.members[si]
        arr_a, arr_e, arr_k = A[lo:hi], E[lo:hi], K[lo:hi]
        if len(members) <= SMALL_SECTOR:
            # Small sector: every member is a candidate (the exact filter comes later).
            out_a.append(np.repeat(arr_a, len(members)))
            out_c.append(np.tile(members, len(arr_a)))
            out_e.append(np.repeat(arr_e, len(members)))
            continue
        own = T.max_transport_km[arr_a]
        radius = np.where(np.isnan(own), T.class_radius[arr_a], own)
        tree = cindex.tree(si)
        for k in uniq(arr_k).tolist():
            sel = np.flatnonzero(arr_k == k)
            kk = min(int(k), len(members))
            ub = float(chord_for_km(float(np.max(radius[sel])), R))
            dd, ii = tree.query(T.xyz[arr_a[sel]], k=kk, distance_upper_bound=ub)
            dd = dd.reshape(len(sel), kk)
            ii = ii.reshape(len(sel), kk)
            valid = ii < len(members)
            tie = np.zeros(len(sel), dtype=bool)
            if kk >= 2:
                tie = valid[:, -1] & (dd[:, -1] == dd[:, -2])
            plain = valid & ~tie[:, None]
            out_a.append(np.repeat(arr_a[sel], kk)[plain.ravel()])
            out_c.append(members[ii[plain]])
            out_e.append(np.repeat(arr_e[sel], kk)[plain.ravel()])
            for row in np.flatnonzero(tie).tolist():
                # A tie at the cut: take everyone at that distance so ids decide, as in the reference.
                a = int(arr_a[sel[row]])
                got = np.asarray(
                    tree.query_ball_point(T.xyz[a], dd[row, -1] * (1 + 1e-12) + 1e-15), dtype=np.int64
                )
                out_a.append(np.full(len(got), a, dtype=np.int64))
                out_c.append(members[got])
                out_e.append(np.full(len(got), arr_e[sel[row]]))
    if not out_a:
        return empty
    return np.concatenate(out_a), np.concatenate(out_c), np.concatenate(out_e)


def score_prospective(
    T: StreamTable,
    C: CompanyIndex,
    ai: np.ndarray,
    ci: np.ndarray,
    ev: np.ndarray,
    skips: list[set[int]],
    config: EngineConfig,
) -> dict[str, np.ndarray]:
    """Vectorised ``scoring.prospective_parts`` for (anchor, company) pairs; drops skipped pairs."""
    skip_codes = np.asarray(sorted(a * C.n + c for a in uniq(ai).tolist() for c in skips[a]), dtype=np.int64)
    codes = ai * C.n + ci
    if len(skip_codes):
        pos = np.minimum(np.searchsorted(skip_codes, codes), len(skip_codes) - 1)
        keep = skip_codes[pos] != codes
    else:
        keep = np.ones(len(codes), dtype=bool)
    for k in np.flatnonzero(keep & (C.flagged[ci] | T.has_excl[ai])).tolist():
        if stream_company_excluded(T.specs[int(ai[k])], C.specs[int(ci[k])]):
            keep[k] = False
    ai, ci, ev = ai[keep], ci[keep], ev[keep]
    compat = 1.0 - np.exp(-ev / config.prior_scale)
    d = haversine_km_array(T.lat[ai], T.lon[ai], C.lat[ci], C.lon[ci], config.earth_radius_km)
    own = T.max_transport_km[ai]
    radius = np.where(np.isnan(own), T.class_radius[ai], own)
    pos = radius > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.where(
            pos, np.maximum(0.0, 1.0 - (d / np.where(pos, radius, 1.0)) ** config.distance_decay_power), 1.0
        )
    inside = np.where(pos, d <= radius, d <= 0.0)
    fit = np.full(len(ai), config.unknown_volume_fit)
    is_offer = T.is_offer[ai]
    value = T.typical_value[ai]  # never a price (scoring.typical_value)
    transport = config.handling_eur_per_t + config.transport_eur_per_tkm * config.road_circuity * d
    tot = value + transport
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(tot > 0.0, value / np.where(tot > 0.0, tot, 1.0), 1.0)
    share = config.volume_fit_share
    vv = np.where(T.material[ai], share * fit + (1.0 - share) * ratio, fit)
    m = T.months[ai]
    av = np.where(is_offer, _POP[m & ALL_MONTHS] / _POP[ALL_MONTHS], _POP[ALL_MONTHS & m] / _POP[m])
    total = (
        compat**config.w_compatibility
        * dist**config.w_distance
        * vv**config.w_volume_value
        * av**config.w_availability
    ) * config.prospective_penalty
    keep = inside & (total > 0.0)
    return {
        "ai": ai[keep],
        "ci": ci[keep],
        "evidence": ev[keep],
        "compatibility": compat[keep],
        "distance": dist[keep],
        "volume_value": vv[keep],
        "availability": av[keep],
        "total": total[keep],
        "distance_km": d[keep],
    }


def prior_reason(stream: StreamSpec, company: CompanySpec, priors) -> str:
    role, codes, other, lin, toks = prior_key(stream, priors)
    div = sector_of(company)[0]
    text = priors.explain(codes, other, lin, role, div)
    words = priors.explain_text(toks, role, div)
    return f"{text}; {words}" if words else text
