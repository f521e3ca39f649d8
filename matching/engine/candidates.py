"""Candidate generation without comparing all pairs: blocking keys, then a spatial index per block.

An offer and a need become candidates only if they share a blocking key:

    offer emits                        need emits                        covers
    ("d", kind, c) for c in lineage    ("d", kind, category)             equal category, need broader
    ("u", kind, category)              ("u", kind, a) for a in ancestors offer broader
    ("r", i) if rule i's offer cat     ("r", i) if rule i's need cat     substitution rule i
        is on the offer's lineage          is on the need's lineage
    ("e6", kind, EWC code)             ("e6", kind, accepted code)       same EWC code
    ("e4", kind, EWC sub-chapter)      ("e4", kind, sub-chapter)         same EWC sub-chapter
    ("e2", kind, EWC chapter)          ("e2", kind, chapter)             same EWC chapter

so every pair with a non-zero base compatibility (see ``compat.py``) shares a key, and its
compatibility never exceeds the *level* of the best key it shares (``key_level``). Within a block a
KD-tree on unit vectors finds the nearest counterparts; ``search.py`` turns that into an exact top-K
search, and the exact radius, hard constraints and scores are applied by ``tables.score_declared``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from scipy.spatial import cKDTree

from .compat import CompatCache, Profile, lineage
from .config import EngineConfig
from .impact import ImpactFactors, load_impact_factors
from .search import _Task
from .tables import StreamTable, uniq_inverse
from .types import StreamSpec, SubstitutionRule


def is_valid(s: StreamSpec, as_of: date | None) -> bool:
    """A stream takes part if ``as_of`` is None or lies within its validity dates."""
    if as_of is None:
        return True
    return (s.valid_from is None or s.valid_from <= as_of) and (
        s.valid_until is None or as_of <= s.valid_until
    )


class _RuleLookup:
    def __init__(self, rules: tuple[SubstitutionRule, ...]):
        self.by_offer: dict[str, list[int]] = {}
        self.by_need: dict[str, list[int]] = {}
        for i, r in enumerate(rules):
            self.by_offer.setdefault(r.offer_category, []).append(i)
            self.by_need.setdefault(r.need_category, []).append(i)


def offer_keys(p: Profile, rl: _RuleLookup) -> set[tuple]:
    keys: set[tuple] = {("d", p.kind, c) for c in lineage(p.category, p.ancestors)}
    if p.category:
        keys.add(("u", p.kind, p.category))
    for c in lineage(p.category, p.ancestors):
        keys.update(("r", i) for i in rl.by_offer.get(c, ()))
    keys.update(_ewc_keys(p))
    return keys


def _ewc_keys(p: Profile) -> set[tuple]:
    keys: set[tuple] = set()
    for code in p.ewc_codes:
        if len(code) >= 6:
            keys.add(("e6", p.kind, code[:6]))
        if len(code) >= 4:
            keys.add(("e4", p.kind, code[:4]))
        if len(code) >= 2:
            keys.add(("e2", p.kind, code[:2]))
    return keys


def key_level(key: tuple, rules: tuple[SubstitutionRule, ...], config: EngineConfig) -> float:
    """The largest compatibility a pair can draw from sharing this key."""
    tag = key[0]
    if tag == "d":
        return max(config.category_equal, config.category_need_broader)
    if tag == "u":
        return config.category_offer_broader
    if tag == "r":
        return float(rules[key[1]].factor)
    return {"e6": config.ewc_exact, "e4": config.ewc_subchapter, "e2": config.ewc_chapter}[tag]


def need_keys(p: Profile, rl: _RuleLookup) -> set[tuple]:
    keys: set[tuple] = set()
    if p.category:
        keys.add(("d", p.kind, p.category))
    keys.update(("u", p.kind, a) for a in p.ancestors)
    for c in lineage(p.category, p.ancestors):
        keys.update(("r", i) for i in rl.by_need.get(c, ()))
    keys.update(_ewc_keys(p))
    return keys


class _Blocks:
    """Members of each blocking key for one side, split into radius groups, with lazily built KD-trees.

    A pair's radius is the smaller stream max_transport_km given, else the offer's class radius. Splitting a
    block's members into those that set their own max_transport_km and (for offers) by value class keeps the
    radius bound of a search tight: one need with a 200 km limit must not widen the search of every
    heat offer in its block."""

    def __init__(self, table: StreamTable, keys_of, by_class: bool):
        per_key: dict[tuple, list[int]] = {}
        profile_keys = [keys_of(p) for p in table.profiles]
        members_by_profile: dict[int, list[int]] = {}
        for i, pi in enumerate(table.profile.tolist()):
            members_by_profile.setdefault(pi, []).append(i)
        for pi, members in members_by_profile.items():
            for key in profile_keys[pi]:
                per_key.setdefault(key, []).extend(members)
        self.table = table
        self.members = {k: np.asarray(sorted(v), dtype=np.int64) for k, v in per_key.items()}
        self.profile_keys = profile_keys
        self.by_class = by_class
        self._groups: dict[tuple, list[tuple[tuple, np.ndarray, float]]] = {}
        self._trees: dict[tuple, cKDTree] = {}

    def groups(self, key: tuple) -> list[tuple[tuple, np.ndarray, float]]:
        """[(group label, member indices, largest radius a member can bring)] for a key.

        Groups: members with their own max_transport_km (bound = the largest of them), and the others (bound =
        their class radius, split by class when ``by_class``; 0 otherwise, meaning "the anchor's")."""
        hit = self._groups.get(key)
        if hit is None:
            idx = self.members[key]
            own = self.table.max_transport_km[idx]
            has = ~np.isnan(own)
            hit = []
            if has.any():
                hit.append((("own",), idx[has], float(own[has].max())))
            rest = idx[~has]
            if len(rest):
                if self.by_class:
                    radius = self.table.class_radius[rest]
                    for r in sorted(set(radius.tolist())):
                        hit.append((("class", r), rest[radius == r], float(r)))
                else:
                    hit.append((("rest",), rest, 0.0))
            self._groups[key] = hit
        return hit

    def tree(self, key: tuple, label: tuple, members: np.ndarray) -> cKDTree:
        t = self._trees.get((key, label))
        if t is None:
            t = cKDTree(self.table.xyz[members])
            self._trees[(key, label)] = t
        return t


class CandidateIndex:
    """Streams (and companies) prepared once so that ranking everything, or matching one new stream,
    only touches plausible pairs.

    Build it from the existing active streams; ``match_one(new_stream, index)`` then matches a new or
    changed stream in milliseconds. Inputs are sorted by id, so the result never depends on input order.
    """

    def __init__(
        self,
        streams,
        *,
        config: EngineConfig | None = None,
        rules: tuple[SubstitutionRule, ...] = (),
        companies=(),
        priors=None,
        factors: ImpactFactors | None = None,
        as_of: date | None = None,
    ):
        from .prospective import CompanyIndex  # local import: prospective imports this module's helpers

        self.config = config or EngineConfig()
        self.rules = tuple(rules)
        self.priors = priors
        self.factors = factors or load_impact_factors()
        self.as_of = as_of
        streams = [s for s in streams if is_valid(s, as_of)]
        ids = [s.id for s in streams]
        if len(set(ids)) != len(ids):
            raise ValueError("stream ids must be unique")
        for s in streams:
            if s.direction not in ("offer", "need"):
                raise ValueError(f"stream {s.id}: direction must be 'offer' or 'need', not {s.direction!r}")
        offers = sorted((s for s in streams if s.direction == "offer"), key=lambda s: s.id)
        needs = sorted((s for s in streams if s.direction == "need"), key=lambda s: s.id)
        self.offers = StreamTable(offers, self.config)
        self.needs = StreamTable(needs, self.config)
        self.cache = CompatCache(self.rules, self.config)
        self._rl = _RuleLookup(self.rules)
        self.offer_blocks = _Blocks(self.offers, lambda p: offer_keys(p, self._rl), by_class=True)
        self.need_blocks = _Blocks(self.needs, lambda p: need_keys(p, self._rl), by_class=False)
        self.companies = CompanyIndex(sorted(companies, key=lambda c: c.id), self.config)

    # --- compatibility of many pairs ---------------------------------------------------------
    def base_compat(self, otab: StreamTable, ntab: StreamTable, oi: np.ndarray, ni: np.ndarray) -> np.ndarray:
        """Base compatibility per pair, computed once per distinct (offer profile, need profile)."""
        if len(oi) == 0:
            return np.zeros(0)
        code = otab.profile[oi] * max(1, len(ntab.profiles)) + ntab.profile[ni]
        uniq, inv, _ = uniq_inverse(code)
        npf = max(1, len(ntab.profiles))
        vals = np.fromiter(
            (self.cache.get(otab.profiles[c // npf], ntab.profiles[c % npf]).score for c in uniq.tolist()),
            dtype=np.float64,
            count=len(uniq),
        )
        return vals[inv]

    def warm(self) -> None:
        """Build every KD-tree now (``match_one`` then never pays for a lazy build)."""
        for blocks in (self.offer_blocks, self.need_blocks):
            for key in blocks.members:
                for label, members, _bound in blocks.groups(key):
                    blocks.tree(key, label, members)
        for si in range(len(self.companies.sectors)):
            self.companies.tree(si)

    def declared_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(offer rows, need rows) of every pair that can be in the top K of its offer or of its need.

        Kept for callers of the first engine version (which listed all pairs within the radius); the
        search now scores while it looks, so prefer ``rank_index(index, stats=..., clock=...)``, which
        also reports the time per phase."""
        from .search import run_search

        sc = run_search(self, self.batch_tasks(), self.offers, self.needs)
        return sc["oi"], sc["ni"]

    # --- search tasks -----------------------------------------------------------------------
    def _level(self, key: tuple) -> float:
        return min(1.0, key_level(key, self.rules, self.config))

    def batch_tasks(self, sides=("o", "n"), own=(None, None)) -> list[tuple[float, list[_Task]]]:
        """Tasks for searching every block from ``sides`` (both by default), grouped by level
        (descending). Searching from one side finds the exact top K of that side's anchors.
        ``own`` = (offer mask, need mask), either None for all: only those rows are anchors."""
        ob, nb = self.offer_blocks, self.need_blocks
        own_o, own_n = own
        by_level: dict[float, list[_Task]] = {}
        for key in sorted(set(ob.members) & set(nb.members), key=repr):
            level = self._level(key)
            tasks = by_level.setdefault(level, [])
            om, nm = ob.members[key], nb.members[key]
            if own_o is not None:
                om = om[own_o[om]]
            if own_n is not None:
                nm = nm[own_n[nm]]
            if "o" in sides and len(om):
                tasks += self._tasks_for(om, self.offers, "o", key)
            if "n" in sides and len(nm):
                tasks += self._tasks_for(nm, self.needs, "n", key)
        return sorted(by_level.items(), key=lambda kv: -kv[0])

    def _tasks_for(self, anchors: np.ndarray, table: StreamTable, side: str, key: tuple) -> list[_Task]:
        """Tasks of ``anchors`` (rows of ``table``, all on ``side``) against each counterpart group of
        ``key``, with the tightest radius bound per anchor: the anchor's own max_transport_km if it sets one,
        else what the group allows (see ``_Blocks.groups``)."""
        blocks = self.need_blocks if side == "o" else self.offer_blocks
        own = table.max_transport_km[anchors]
        tasks = []
        for label, members, bound in blocks.groups(key):
            # An offer anchor: needs with their own max_transport_km bring that limit, the others the offer's class
            # radius. A need anchor: offers bring their own limit or their class radius (= the group's).
            other = table.class_radius[anchors] if side == "o" and label[0] != "own" else bound
            rmax = np.where(np.isnan(own), other, own).astype(np.float64)
            tasks.append(_Task(anchors, members, blocks.tree(key, label, members), rmax, side))
        return tasks

    def stream_tasks(self, stream: StreamSpec, table: StreamTable) -> list[tuple[float, list[_Task]]]:
        """Tasks for one stream (row 0 of the one-row ``table``) against the index."""
        p = Profile.of(stream)
        keys = offer_keys(p, self._rl) if stream.direction == "offer" else need_keys(p, self._rl)
        blocks = self.need_blocks if stream.direction == "offer" else self.offer_blocks
        side = "o" if stream.direction == "offer" else "n"
        anchor = np.zeros(1, dtype=np.int64)
        by_level: dict[float, list[_Task]] = {}
        for key in sorted(keys, key=repr):
            if key in blocks.members:
                by_level.setdefault(self._level(key), []).extend(self._tasks_for(anchor, table, side, key))
        return sorted(by_level.items(), key=lambda kv: -kv[0])
