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
    return (s.valid_from is None or s.valid_from <= as_of) and (s.valid_until is None or as_of <= s.valid_until)


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
    """Members of each blocking key for one side, with lazily built KD-trees."""

    def __init__(self, table: StreamTable, keys_of):
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
        self._trees: dict[tuple, cKDTree] = {}
        self._max_own_km: dict[tuple, float] = {}

    def tree(self, key: tuple) -> cKDTree:
        t = self._trees.get(key)
        if t is None:
            t = cKDTree(self.table.xyz[self.members[key]])
            self._trees[key] = t
        return t

    def max_own_km(self, key: tuple) -> float:
        """Largest max_km any member sets (0 if none): it can widen a pair's radius."""
        v = self._max_own_km.get(key)
        if v is None:
            mk = self.table.max_km[self.members[key]]
            v = float(np.nanmax(mk)) if np.any(~np.isnan(mk)) else 0.0
            self._max_own_km[key] = v
        return v

    def max_offer_bound(self, key: tuple) -> float:
        """Largest radius an offer member can bring: its own max_km, else its class radius."""
        idx = self.members[key]
        own = self.table.max_km[idx]
        return float(np.max(np.where(np.isnan(own), self.table.class_radius[idx], own)))


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
        self.offer_blocks = _Blocks(self.offers, lambda p: offer_keys(p, self._rl))
        self.need_blocks = _Blocks(self.needs, lambda p: need_keys(p, self._rl))
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
                blocks.tree(key)
        for si in range(len(self.companies.sectors)):
            self.companies.tree(si)

    # --- search tasks -----------------------------------------------------------------------
    def _level(self, key: tuple) -> float:
        return min(1.0, key_level(key, self.rules, self.config))

    def batch_tasks(self) -> list[tuple[float, list[_Task]]]:
        """Tasks for searching every block from both sides, grouped by level (descending)."""
        ob, nb = self.offer_blocks, self.need_blocks
        by_level: dict[float, list[_Task]] = {}
        for key in sorted(set(ob.members) & set(nb.members), key=repr):
            om, nm = ob.members[key], nb.members[key]
            level = self._level(key)
            own_o = self.offers.max_km[om]
            r_o = np.where(np.isnan(own_o), np.maximum(self.offers.class_radius[om], nb.max_own_km(key)), own_o)
            own_n = self.needs.max_km[nm]
            r_n = np.where(np.isnan(own_n), ob.max_offer_bound(key), own_n)
            by_level.setdefault(level, []).extend(
                [_Task(om, nm, nb.tree(key), r_o, "o"), _Task(nm, om, ob.tree(key), r_n, "n")]
            )
        return sorted(by_level.items(), key=lambda kv: -kv[0])

    def stream_tasks(self, stream: StreamSpec) -> list[tuple[float, list[_Task]]]:
        """Tasks for one stream (anchor row 0 of a one-row table) against the index."""
        p = Profile.of(stream)
        anchor = np.zeros(1, dtype=np.int64)
        by_level: dict[float, list[_Task]] = {}
        if stream.direction == "offer":
            keys, blocks, side = offer_keys(p, self._rl), self.need_blocks, "o"
        else:
            keys, blocks, side = need_keys(p, self._rl), self.offer_blocks, "n"
        for key in sorted(keys, key=repr):
            members = blocks.members.get(key)
            if members is None:
                continue
            if stream.max_km is not None:
                r = float(stream.max_km)
            elif side == "o":
                r = max(self.config.radius_for(stream.value_class), blocks.max_own_km(key))
            else:
                r = blocks.max_offer_bound(key)
            by_level.setdefault(self._level(key), []).append(
                _Task(anchor, members, blocks.tree(key), np.asarray([r]), side)
            )
        return sorted(by_level.items(), key=lambda kv: -kv[0])
