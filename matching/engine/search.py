"""Exact top-K search over the blocks, without enumerating every pair within the radius.

Listing every pair of a block within the transport radius grows quadratically with the density of
streams (a 1000 km radius for valuable material covers the whole Baltic region). Only each stream's
``top_k`` matter, so the search is best-first:

- Every blocking key has an evidence *level*: the largest compatibility a pair can get from it
  (category 1.0, EWC code 1.0, sub-chapter 0.8, offer broader 0.6, a rule its factor, chapter 0.35).
  A pair's compatibility never exceeds the level of the best key it shares, so blocks are searched in
  descending level: a pair is always met first in its best block, and later blocks only need to bound
  the pairs whose best block they are.
- Within a block, each anchor (an offer looking for needs, or a need looking for offers) takes its 16,
  64, 256, ... nearest counterparts until it knows K pairs; all are scored exactly and update the
  anchor's K-th best score. Then the anchor only needs counterparts whose *upper bound* can still reach
  that K-th best:

      level ** w_compatibility * (1 - (d / R) ** p) ** w_distance  >=  K-th best (and >= min_score)

  (volume/value and availability are at most 1), i.e. those within a distance d* that follows from the
  K-th best; one ball query of radius d* returns them. An anchor whose K-th best already beats the level
  skips the block outright.
Both directions are searched, so every pair that is in the top K of its offer or of its need is found,
and the result equals the all-pairs reference.
"""

from __future__ import annotations

from itertools import chain

import numpy as np

from .geo import chord_for_km, chord_to_km
from .tables import StreamTable, rank_keys, score_declared, uniq

K0 = 16  # nearest counterparts taken first, to learn a threshold (x4 per round while unknown)
PRUNE_EVERY = 1_000_000  # scored rows accumulated before the kept pairs are pruned again


class TopKeys:
    """The K best (rank key, counterpart) per anchor; a counterpart is counted once."""

    def __init__(self, n: int, k: int):
        self.k = k
        self.keys = np.full((n, k), -1, dtype=np.int64)
        self.counters = np.full((n, k), -1, dtype=np.int64)

    def push(self, rows: np.ndarray, keys: np.ndarray, counters: np.ndarray) -> None:
        """Merge new (anchor, rank key, counterpart) entries; the entries of one call are distinct
        pairs, and a pair already held for its anchor is not counted twice."""
        if len(rows) == 0:
            return
        # Only entries at least as good as the current K-th best can change anything.
        useful = keys >= self.keys[rows, -1]
        if not useful.all():
            rows, keys, counters = rows[useful], keys[useful], counters[useful]
        dup = (self.counters[rows] == counters[:, None]).any(axis=1)
        if dup.any():
            rows, keys, counters = rows[~dup], keys[~dup], counters[~dup]
        if len(rows) == 0:
            return
        k = self.k
        aff = uniq(rows)
        old_k, old_c = self.keys[aff].ravel(), self.counters[aff].ravel()
        filled = old_c >= 0
        g = np.concatenate([np.repeat(aff, k)[filled], rows])
        v = np.concatenate([old_k[filled], keys])
        c = np.concatenate([old_c[filled], counters])
        # One stable sort on (anchor, key descending): keys are < 2**40, anchors < 2**23.
        order = np.argsort(g * (1 << 40) + ((1 << 40) - 1 - v), kind="stable")
        g, v, c = g[order], v[order], c[order]
        starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
        rank = np.arange(len(g)) - np.repeat(starts, np.diff(np.r_[starts, len(g)]))
        sel = rank < k
        self.keys[aff] = -1
        self.counters[aff] = -1
        self.keys[g[sel], rank[sel]] = v[sel]
        self.counters[g[sel], rank[sel]] = c[sel]

    def theta(self, rows) -> np.ndarray:
        """K-th best rank key (-1 while fewer than K pairs are known)."""
        return self.keys[rows, -1]


class _Task:
    """One block searched from one side: anchors, their radius bound, the counterpart tree."""

    __slots__ = ("anchors", "members", "tree", "rmax", "side")

    def __init__(self, anchors, members, tree, rmax, side):
        self.anchors, self.members, self.tree, self.rmax, self.side = anchors, members, tree, rmax, side


_KEYS = ("oi", "ni", "compatibility", "distance", "volume_value", "availability", "total", "distance_km")


def _merge(parts: list[dict]) -> dict:
    if not parts:
        return {k: (np.zeros(0, dtype=np.int64) if k in ("oi", "ni") else np.zeros(0)) for k in _KEYS}
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in _KEYS}


class _Search:
    def __init__(self, index, otab: StreamTable, ntab: StreamTable, track, own=(None, None), clock=None):
        self.index, self.otab, self.ntab = index, otab, ntab
        self.clock, self.scoring_s = clock, 0.0
        cfg = self.cfg = index.config
        self.dec = cfg.score_decimals
        self.min_key = int(np.floor(cfg.min_score * 10.0**self.dec + 0.5))
        self.top = {side: TopKeys(otab.n if side == "o" else ntab.n, cfg.top_k) for side in track}
        # Per side, the rows whose top K is wanted (None: all). A pair only useful to another row's list
        # is neither counted nor kept.
        self.own = {"o": own[0], "n": own[1]}
        self.width = max(1, ntab.n)
        self.kept: list[dict] = []
        self.pending = 0
        self.n_found = self.n_scored = self.n_capped = 0
        self.pending_pairs: list[tuple[np.ndarray, np.ndarray]] = []

    def score(self, oi: np.ndarray, ni: np.ndarray) -> None:
        """Score pairs exactly, update the top K of the tracked sides, keep the useful ones."""
        if len(oi) == 0:
            return
        self.n_scored += len(oi)
        base = self.index.base_compat(self.otab, self.ntab, oi, ni)
        t0 = self.clock() if self.clock else 0.0
        sc = score_declared(self.otab, self.ntab, oi, ni, base, self.cfg)
        if self.clock:
            self.scoring_s += self.clock() - t0
        ok = sc["total"] >= self.cfg.min_score
        sc = {key: v[ok] for key, v in sc.items()}
        if len(sc["oi"]) == 0:
            return
        keys = rank_keys(sc["total"], self.dec)
        useful = np.zeros(len(keys), dtype=bool)
        for side, tk in self.top.items():
            rows, counters = (sc["oi"], sc["ni"]) if side == "o" else (sc["ni"], sc["oi"])
            mine = self.own[side]
            if mine is None:
                tk.push(rows, keys, counters)
                useful |= keys >= tk.theta(rows)
            else:
                m = mine[rows]
                tk.push(rows[m], keys[m], counters[m])
                useful |= m & (keys >= tk.theta(rows))
        if not useful.all():
            sc = {key: v[useful] for key, v in sc.items()}
        self.kept.append(sc)
        self.pending += len(sc["oi"])
        if self.pending >= PRUNE_EVERY:
            self.prune()

    def prune(self) -> None:
        """Deduplicate the kept pairs and drop those that can no longer be in a top K."""
        sc = _merge(self.kept)
        self.pending = 0
        if len(sc["oi"]) == 0:
            self.kept = []
            return
        code = sc["oi"] * self.width + sc["ni"]
        order = np.argsort(code, kind="stable")
        code = code[order]
        first = order[np.r_[True, code[1:] != code[:-1]]]
        sc = {k: v[first] for k, v in sc.items()}
        keys = rank_keys(sc["total"], self.dec)
        keep = np.zeros(len(keys), dtype=bool)
        for side, tk in self.top.items():
            rows = sc["oi"] if side == "o" else sc["ni"]
            mine = self.own[side]
            keep |= (keys >= tk.theta(rows)) if mine is None else (mine[rows] & (keys >= tk.theta(rows)))
        self.kept = [{k: v[keep] for k, v in sc.items()}]

    def theta_score(self, side: str, anchors: np.ndarray) -> np.ndarray:
        """The lowest score that can still enter each anchor's top K (min_score while it has < K)."""
        th = self.top[side].theta(anchors)
        floor = (th.astype(np.float64) - 1.0) / 10.0**self.dec  # a little below: the search stays exact
        return np.where(th >= 0, np.maximum(floor, self.cfg.min_score), self.cfg.min_score)

    def run_task(self, t: _Task, level: float) -> None:
        """Search one block from one side: k-nearest rounds (k = 16, 64, 256, ...) while an anchor has
        fewer than K pairs, then one last round out to the distance its K-th best still allows. A
        generator: it pauses once after its first round, whose pairs the caller scores with those of
        the other blocks of the level (``flush``).

        Each round only scores counterparts at least as far as the previous round's k-th neighbour (the
        nearer ones were scored; one at exactly that distance may be scored twice, which is harmless)."""
        cfg = self.cfg
        bound_c = level**cfg.w_compatibility
        level_key = int(np.floor(bound_c * 10.0**self.dec + 0.5))
        alive = ~(level_key < self.top[t.side].theta(t.anchors))
        anchors, rmax = t.anchors[alive], t.rmax[alive]
        if len(anchors) == 0:
            return
        table = self.otab if t.side == "o" else self.ntab
        R = cfg.earth_radius_km
        n_members = len(t.members)
        prev = np.full(len(anchors), -1.0)  # chord of the previous round's k-th neighbour
        cap = cfg.max_scan_per_block
        k = K0
        first = True
        while len(anchors):
            kk = min(k, n_members)
            ub = float(chord_for_km(float(rmax.max()), R))
            dd, ii = t.tree.query(table.xyz[anchors], k=kk, distance_upper_bound=ub)
            dd = dd.reshape(len(anchors), kk)
            ii = ii.reshape(len(anchors), kk)
            valid = ii < n_members
            new = valid & (dd >= prev[:, None])
            rows, cols = np.repeat(anchors, kk)[new.ravel()], t.members[ii[new]]
            self.n_found += len(rows)
            if first:
                # The first round of every block of a level is scored together (fewer, larger calls).
                self.pending_pairs.append((rows, cols) if t.side == "o" else (cols, rows))
                yield
                first = False
            else:
                self._score_side(t.side, rows, cols)
            if kk == n_members:
                return
            # Anchors whose k-th neighbour exists within their radius may have more to find.
            full = valid[:, -1]
            dk = chord_to_km(np.where(full, dd[:, -1], 0.0), R)
            more = np.flatnonzero(full & (dk <= rmax))
            anchors, rmax, dk, prev = anchors[more], rmax[more], dk[more], dd[more, -1]
            if len(anchors) == 0:
                return
            need = self.theta_score(t.side, anchors)
            # Largest distance at which level ** wc * (1 - (d / R) ** p) ** wd can still reach `need`.
            with np.errstate(divide="ignore", invalid="ignore"):
                u = (need / bound_c) ** (1.0 / cfg.w_distance) if cfg.w_distance > 0 else np.zeros(len(need))
                u = np.where(need > 0.0, u, 0.0)
                dstar = np.minimum(rmax, rmax * np.maximum(0.0, 1.0 - u) ** (1.0 / cfg.distance_decay_power))
            go = (u <= 1.0) & (dstar >= dk)  # beyond the k-th neighbour something may still qualify
            if cap is not None and kk >= cap:
                self.n_capped += int(go.sum())  # approximate from here on: see EngineConfig
                return
            known = self.top[t.side].theta(anchors) >= 0
            last = np.flatnonzero(go & known)
            if len(last):
                self._final_round(t, table, anchors[last], dstar[last], prev[last], cap)
            # Anchors with fewer than K pairs so far look further, four times as many at a time.
            again = np.flatnonzero(go & ~known)
            anchors, rmax, prev = anchors[again], rmax[again], prev[again]
            k = k * 4 if cap is None else min(k * 4, cap)

    def _final_round(self, t: _Task, table: StreamTable, anchors, dstar, prev, cap) -> None:
        """Everything within d* of each anchor and not nearer than ``prev`` (with a scan cap, at most
        the nearest ``cap`` of them)."""
        R = self.cfg.earth_radius_km
        hits = t.tree.query_ball_point(table.xyz[anchors], chord_for_km(dstar, R), return_sorted=False)
        lengths = np.fromiter(map(len, hits), dtype=np.int64, count=len(hits))
        flat = np.fromiter(chain.from_iterable(hits), dtype=np.int64, count=int(lengths.sum()))
        rows = np.repeat(anchors, lengths)
        cols = t.members[flat]
        other = self.ntab if t.side == "o" else self.otab
        chord = np.sqrt(((table.xyz[rows] - other.xyz[cols]) ** 2).sum(axis=1))
        if cap is not None and lengths.max(initial=0) > cap:
            # Keep the nearest `cap` per anchor (rows are grouped by anchor already).
            grp = np.repeat(np.arange(len(anchors)), lengths)
            order = np.lexsort((chord, grp))
            starts = np.r_[0, np.cumsum(lengths)[:-1]]
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order)) - np.repeat(starts, lengths)
            self.n_capped += int(np.count_nonzero(lengths > cap))
            near = rank < cap
            rows, cols, chord, lengths_prev = (
                rows[near],
                cols[near],
                chord[near],
                np.repeat(prev, lengths)[near],
            )
        else:
            lengths_prev = np.repeat(prev, lengths)
        new = chord >= lengths_prev * (1.0 - 1e-12)
        self._score_side(t.side, rows[new], cols[new])
        self.n_found += int(new.sum())

    def flush(self) -> None:
        """Score the pairs collected from first rounds, once each."""
        if not self.pending_pairs:
            return
        oi = np.concatenate([p[0] for p in self.pending_pairs])
        ni = np.concatenate([p[1] for p in self.pending_pairs])
        self.pending_pairs = []
        code = uniq(oi * self.width + ni)
        self.score(code // self.width, code % self.width)

    def _score_side(self, side: str, rows: np.ndarray, cols: np.ndarray) -> None:
        if side == "o":
            self.score(rows, cols)
        else:
            self.score(cols, rows)


def run_search(
    index, tasks_by_level, otab: StreamTable, ntab: StreamTable, *, track=("o", "n"), own=(None, None), stats=None,
    clock=None,
) -> dict:
    """Search the tasks level by level; returns the scored pairs that can still be in a top K
    (deduplicated).

    ``tasks_by_level`` is [(level, [_Task, ...]), ...] in descending level. Anchors of side "o" index
    ``otab`` and their members index ``ntab``; side "n" the other way round. ``track`` names the sides
    whose top K is kept (``match_one`` tracks only the new stream's side); ``own`` = (offer rows mask,
    need rows mask), either None for all, limits that to some rows of a side. ``stats`` (a dict) receives
    the number of pairs found and scored; with a ``clock`` (a callable returning seconds, passed in by a
    benchmark) also the seconds spent scoring pairs exactly under ``stats["scoring_s"]``.
    """
    s = _Search(index, otab, ntab, track, own, clock)
    for level, tasks in tasks_by_level:
        if level**s.cfg.w_compatibility < s.cfg.min_score or level <= 0.0:
            break
        runs = [s.run_task(t, level) for t in tasks]
        started = [r for r in runs if next(r, StopIteration) is not StopIteration]
        s.flush()
        for r in started:
            for _ in r:
                pass
    s.prune()
    if stats is not None:
        stats["pairs_found"] = stats.get("pairs_found", 0) + s.n_found
        stats["pairs_scored"] = stats.get("pairs_scored", 0) + s.n_scored
        stats["anchors_capped"] = stats.get("anchors_capped", 0) + s.n_capped
        if clock:
            stats["scoring_s"] = stats.get("scoring_s", 0.0) + s.scoring_s
    return _merge(s.kept)
