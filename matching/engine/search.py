"""Exact top-K search over the blocks, without enumerating every pair within the radius.

Listing every pair of a block within the transport radius grows quadratically with the density of
streams (a 1000 km radius for valuable material covers the whole Baltic region). Only each stream's
``top_k`` matter, so the search is best-first:

- Every blocking key has an evidence *level*: the largest compatibility a pair can get from it
  (category 1.0, EWC code 1.0, sub-chapter 0.8, offer broader 0.6, a rule its factor, chapter 0.35).
  A pair's compatibility never exceeds the level of the best key it shares, so blocks are searched in
  descending level and a pair is always found by its best block first.
- Within a block, each anchor (an offer looking for needs, or a need looking for offers) asks the
  counterpart KD-tree for its k nearest members, k = 16, 32, 64, ...; after each round every pair found
  is scored exactly, and the anchor stops as soon as even a perfect pair at the k-th distance could not
  reach its current K-th best score:

      level ** w_compatibility * (1 - (d_k / R) ** p) ** w_distance  <  K-th best  (or < min_score)

  (volume/value and availability are at most 1). Members further away are no better, so the search is
  exact, and the anchor skips a block outright when the level alone cannot reach its K-th best.
Both directions are searched, so every pair that is in the top K of its offer or of its need is found.
"""

from __future__ import annotations

import numpy as np

from .geo import chord_for_km, chord_to_km
from .tables import StreamTable, rank_keys, score_declared, uniq

K0 = 16  # first k of the k-nearest rounds


class TopKeys:
    """The K best rank keys per anchor (-1 = empty slot), updated in bulk."""

    def __init__(self, n: int, k: int):
        self.k = k
        self.keys = np.full((n, k), -1, dtype=np.int64)

    def push(self, rows: np.ndarray, keys: np.ndarray) -> None:
        if len(rows) == 0:
            return
        k = self.k
        aff = uniq(rows)
        g = np.concatenate([np.repeat(aff, k), rows])
        v = np.concatenate([self.keys[aff].ravel(), keys])
        order = np.lexsort((-v, g))
        g, v = g[order], v[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
        sel = rank < k
        self.keys[g[sel], rank[sel]] = v[sel]

    def theta(self, rows) -> np.ndarray:
        """K-th best rank key (-1 while fewer than K pairs are known)."""
        return self.keys[rows, -1]


class _Task:
    """One block searched from one side: anchors, their radius bound, the counterpart tree."""

    __slots__ = ("anchors", "members", "tree", "rmax", "side")

    def __init__(self, anchors, members, tree, rmax, side):
        self.anchors, self.members, self.tree, self.rmax, self.side = anchors, members, tree, rmax, side


def _merge(parts: list[dict]) -> dict:
    keys = ("oi", "ni", "compatibility", "distance", "volume_value", "availability", "total", "distance_km")
    if not parts:
        return {k: (np.zeros(0, dtype=np.int64) if k in ("oi", "ni") else np.zeros(0)) for k in keys}
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def run_search(index, tasks_by_level, otab: StreamTable, ntab: StreamTable, *, track=("o", "n"), stats=None) -> dict:
    """Search the tasks level by level; returns the scored pairs that can still be in a top K.

    ``tasks_by_level`` is [(level, [_Task, ...]), ...] in descending level. Anchors of side "o" index
    ``otab`` and their members index ``ntab``; side "n" the other way round. ``track`` names the sides
    whose top K is kept (``match_one`` tracks only the new stream's side). ``stats`` (a dict) receives
    the number of pairs found and scored.
    """
    cfg = index.config
    K, dec = cfg.top_k, cfg.score_decimals
    min_key = int(np.floor(cfg.min_score * 10.0**dec + 0.5))
    top = {side: TopKeys(otab.n if side == "o" else ntab.n, K) for side in track}
    n_found = n_scored = 0
    seen = np.zeros(0, dtype=np.int64)
    kept: list[dict] = []
    width = max(1, ntab.n)
    R = cfg.earth_radius_km
    p = cfg.distance_decay_power
    for level, tasks in tasks_by_level:
        bound_c = level**cfg.w_compatibility
        if bound_c < cfg.min_score or bound_c <= 0.0:
            break
        level_key = int(np.floor(bound_c * 10.0**dec + 0.5))
        k = K0
        open_tasks = tasks
        while open_tasks:
            found_o, found_n, checks = [], [], []
            for t in open_tasks:
                th = top[t.side].theta(t.anchors)
                alive = ~(level_key < th)
                anchors, rmax = t.anchors[alive], t.rmax[alive]
                if len(anchors) == 0:
                    continue
                table = otab if t.side == "o" else ntab
                n_members = len(t.members)
                kk = min(k, n_members)
                ub = float(chord_for_km(float(rmax.max()), R))
                dd, ii = t.tree.query(table.xyz[anchors], k=kk, distance_upper_bound=ub)
                dd = dd.reshape(len(anchors), kk)
                ii = ii.reshape(len(anchors), kk)
                valid = ii < n_members
                rows = np.repeat(anchors, kk)[valid.ravel()]
                cols = t.members[ii[valid]]
                if t.side == "o":
                    found_o.append(rows)
                    found_n.append(cols)
                else:
                    found_o.append(cols)
                    found_n.append(rows)
                if kk < n_members:
                    full = valid[:, -1]
                    dk = chord_to_km(np.where(full, dd[:, -1], 0.0), R)
                    cand = full & (dk <= rmax)
                    if cand.any():
                        checks.append((t, anchors[cand], dk[cand], rmax[cand]))
            if found_o:
                oi = np.concatenate(found_o)
                ni = np.concatenate(found_n)
                n_found += len(oi)
                code = uniq(oi * width + ni)
                if len(seen):
                    pos = np.minimum(np.searchsorted(seen, code), len(seen) - 1)
                    code = code[seen[pos] != code]
                seen = np.sort(np.concatenate([seen, code]), kind="stable")
                oi, ni = code // width, code % width
                n_scored += len(oi)
                base = index.base_compat(otab, ntab, oi, ni)
                sc = score_declared(otab, ntab, oi, ni, base, cfg)
                ok = sc["total"] >= cfg.min_score
                sc = {key: v[ok] for key, v in sc.items()}
                keys = rank_keys(sc["total"], dec)
                for side in track:
                    top[side].push(sc["oi"] if side == "o" else sc["ni"], keys)
                kept.append(sc)
            # Which anchors go on to the next round (see module docstring)?
            next_tasks = []
            for t, anchors, dk, rmax in checks:
                with np.errstate(divide="ignore", invalid="ignore"):
                    dist_ub = np.where(rmax > 0.0, np.maximum(0.0, 1.0 - (dk / np.where(rmax > 0, rmax, 1.0)) ** p), 0.0)
                bound = bound_c * dist_ub**cfg.w_distance
                bkey = rank_keys(bound, dec)
                go = (bkey >= min_key) & ~(bkey < top[t.side].theta(anchors))
                if go.any():
                    next_tasks.append(_Task(anchors[go], t.members, t.tree, rmax[go], t.side))
            open_tasks = next_tasks
            k *= 2
            kept = [_prune(_merge(kept), top, dec)] if kept else kept
    if stats is not None:
        stats["pairs_found"] = stats.get("pairs_found", 0) + n_found
        stats["pairs_scored"] = stats.get("pairs_scored", 0) + n_scored
    return _merge(kept)


def _prune(sc: dict, top: dict, dec: int) -> dict:
    """Drop pairs that can no longer be in the top K of their offer or of their need."""
    if len(sc["oi"]) == 0:
        return sc
    keys = rank_keys(sc["total"], dec)
    keep = np.zeros(len(keys), dtype=bool)
    for side, tk in top.items():
        keep |= keys >= tk.theta(sc["oi"] if side == "o" else sc["ni"])
    return {k: v[keep] for k, v in sc.items()}
