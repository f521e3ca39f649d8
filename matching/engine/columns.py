"""The full run's result as NumPy columns: numbers only, no per-match objects.

A full run keeps about ten matches per stream (a million at 100k streams). Building a
``MatchCandidate`` with its reason texts for each of them costs more than finding them, so
``rank_columns`` returns the same matches as ``rank_index`` as arrays: ids, score and its parts,
distance and the estimated impact figures (``impact_columns`` is ``impact.estimate_impact`` written
over arrays, operation by operation). Reasons and assumption texts depend only on the two streams and
these numbers; ``explain_declared`` / ``explain_prospective`` rebuild them for the few matches a page
shows. A test checks that columns, objects and explanations agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .candidates import CandidateIndex
from .config import EngineConfig
from .impact import UNITS, ImpactFactors, _model, _plan
from .prospective import prior_reason
from .scoring import PairScore, exchangeable_quantity, make_candidate, make_prospective_candidate
from .search import run_search
from .tables import StreamTable, rank_keys, top_k_mask, uniq_inverse
from .types import CompanySpec, MatchCandidate, StreamSpec

UNIT_CODES = tuple(sorted(set(UNITS.values()) | {"unit", "units"}))
_UNIT_INDEX = {u: i for i, u in enumerate(UNIT_CODES)}
COLUMNS = (
    "offer_id", "need_id", "source_company_id", "target_company_id", "prospective", "score",
    "compatibility", "distance", "volume_value", "availability", "distance_km", "exchangeable_yearly",
    "unit", "co2e_t", "eur_provider", "eur_receiver", "diverted_t", "transport_eur",
)


@dataclass
class MatchColumns:
    """Matches as parallel arrays, best first (the order of ``rank_index``). ``offer_id`` / ``need_id``
    are -1 where the side is absent (prospective); ``unit`` indexes ``UNIT_CODES``."""

    data: dict[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.data["score"])

    def __getitem__(self, key: str) -> np.ndarray:
        return self.data[key]

    @staticmethod
    def concat(parts: list[MatchColumns]) -> MatchColumns:
        if not parts:
            return MatchColumns(_empty())
        return MatchColumns({k: np.concatenate([p.data[k] for p in parts]) for k in COLUMNS})


def _empty() -> dict[str, np.ndarray]:
    ints = {"offer_id", "need_id", "source_company_id", "target_company_id", "unit"}
    return {k: np.zeros(0, dtype=np.int64 if k in ints else bool if k == "prospective" else np.float64)
            for k in COLUMNS}


# --- Impact over arrays ------------------------------------------------------------------------------

def _offer_key(s: StreamSpec) -> tuple:
    return (s.kind, s.value_class, s.disposal_route, s.ewc_codes, s.category, s.category_ancestors,
            s.disposal_cost_eur_per_unit is None)


def _need_key(s: StreamSpec) -> tuple:
    return (s.kind, s.value_class, s.category, s.category_ancestors, s.price_eur_per_unit is None)


def _plan_ids(table: StreamTable, key_of) -> tuple[np.ndarray, list[int]]:
    """Per row, the id of its impact-plan key; and one representative row per id."""
    seen: dict[tuple, int] = {}
    reps: list[int] = []
    ids = np.empty(table.n, dtype=np.int64)
    for i, s in enumerate(table.specs):
        k = key_of(s)
        j = seen.get(k)
        if j is None:
            j = seen[k] = len(reps)
            reps.append(i)
        ids[i] = j
    return ids, reps


def _quantity_case(qo: np.ndarray, qn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scoring.exchangeable_quantity`` over arrays: (quantity, case 0-3 selecting its note)."""
    po, pn = qo > 0.0, qn > 0.0
    q = np.where(po & pn, np.minimum(qo, qn), np.where(po, qo, np.where(pn, qn, 0.0)))
    case = np.where(po & pn, 0, np.where(po, 1, np.where(pn, 2, 3)))
    return q, case


_CASE_NOTES = tuple(exchangeable_quantity(*q)[1] for q in ((1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)))


def impact_columns(
    otab: StreamTable | None,
    ntab: StreamTable | None,
    oi: np.ndarray | None,
    ni: np.ndarray | None,
    *,
    distance_km: np.ndarray,
    substitution: np.ndarray,
    factors: ImpactFactors,
    config: EngineConfig,
    prospective: bool,
) -> dict[str, np.ndarray]:
    """``estimate_impact`` for many pairs at once. For a prospective side, pass its table and rows as
    None. Returns quantity, unit code, diverted, co2e, eur_provider, eur_receiver, transport_eur."""
    model = _model(factors)
    n = len(distance_km)
    if otab is not None and ntab is not None:
        q, case = _quantity_case(otab.qty[oi], ntab.qty[ni])
    else:
        anchor, rows = (otab, oi) if otab is not None else (ntab, ni)
        q, case = np.maximum(0.0, anchor.qty[rows]), np.full(n, -1)
    q = np.maximum(0.0, q)
    o_ids, o_reps = _plan_ids(otab, _offer_key) if otab is not None else (None, [])
    n_ids, n_reps = _plan_ids(ntab, _need_key) if ntab is not None else (None, [])
    ko = o_ids[oi] if otab is not None else np.zeros(n, dtype=np.int64)
    kn = n_ids[ni] if ntab is not None else np.zeros(n, dtype=np.int64)
    combo = (ko * (len(n_reps) + 1) + kn) * 5 + (case + 1)
    uniq, inv, _ = uniq_inverse(combo)
    m = len(uniq)
    material = np.zeros(m, dtype=bool)
    diverted_p = np.zeros(m, dtype=bool)
    disp_f, virgin_f, other1, other2 = (np.zeros(m) for _ in range(4))
    sewer = np.zeros(m, dtype=bool)
    energy = np.zeros(m, dtype=bool)
    default_price = np.full(m, np.nan)
    unit = np.zeros(m, dtype=np.int64)
    for j, code in enumerate(uniq.tolist()):
        c = code % 5 - 1
        rest = code // 5
        okey, nkey = divmod(rest, len(n_reps) + 1)
        offer = otab.specs[o_reps[okey]] if otab is not None else None
        need = ntab.specs[n_reps[nkey]] if ntab is not None else None
        notes = _CASE_NOTES[c] if c >= 0 else ()
        plan = _plan(offer, need, prospective, notes, model, config)
        material[j], diverted_p[j] = plan.material, plan.diverted
        disp_f[j], virgin_f[j] = plan.disposal_factor, plan.virgin_factor
        if isinstance(plan.other_factor, tuple):
            sewer[j] = True
            other1[j], other2[j] = plan.other_factor
        else:
            other1[j] = plan.other_factor
        energy[j] = (offer if offer is not None else need).kind == "energy"
        if plan.virgin_price_default is not None:
            default_price[j] = plan.virgin_price_default
        unit[j] = _UNIT_INDEX[plan.unit]
    mat, sew, en = material[inv], sewer[inv], energy[inv]
    road_km = distance_km * config.road_circuity
    transport_eur = np.where(mat, q * (config.handling_eur_per_t + config.transport_eur_per_tkm * road_km), 0.0)
    transport_co2 = q * road_km * config.road_co2e_kg_per_tkm / 1000.0
    diverted = np.where(mat & diverted_p[inv], q, 0.0)
    co2_mat = q * disp_f[inv] + q * substitution * virgin_f[inv] - transport_co2
    co2_sewer = q * other1[inv] + q * other2[inv]
    co2_energy = q * substitution * other1[inv]
    co2_other = q * other1[inv]
    co2e = np.where(mat, co2_mat, np.where(sew, co2_sewer, np.where(en, co2_energy, co2_other)))
    if otab is not None:
        price = otab.price[oi]
        asking = np.where(np.isnan(price) | (price == 0.0), 0.0, price)
        disp = otab.disposal[oi]
        eur_provider = q * (np.where(np.isnan(disp) | (disp == 0.0), 0.0, disp) + asking)
    else:
        asking = np.zeros(n)
        eur_provider = np.zeros(n)
    if ntab is not None:
        need_price = ntab.price[ni]
        virgin_price = np.where(np.isnan(need_price), 0.0, need_price)
    else:
        dp = default_price[inv]
        virgin_price = np.where(np.isnan(dp), 0.0, dp)
    eur_receiver = q * (virgin_price - asking) - transport_eur
    return {
        "exchangeable_yearly": q, "unit": unit[inv], "diverted_t": diverted, "co2e_t": co2e,
        "eur_provider": eur_provider, "eur_receiver": eur_receiver, "transport_eur": transport_eur,
    }


# --- Ranking into columns ----------------------------------------------------------------------------

def _declared_columns(index: CandidateIndex, sc: dict, rows: np.ndarray) -> dict[str, np.ndarray]:
    otab, ntab, cache = index.offers, index.needs, index.cache
    oi, ni = sc["oi"][rows], sc["ni"][rows]
    po, pn = otab.profile[oi], ntab.profile[ni]
    combo = po * (len(ntab.profiles) + 1) + pn
    u, inv, _ = uniq_inverse(combo)
    subst_u = np.ones(len(u))
    for j, code in enumerate(u.tolist()):
        a, b = divmod(code, len(ntab.profiles) + 1)
        rule = cache.get(otab.profiles[a], ntab.profiles[b]).rule
        if rule is not None:
            subst_u[j] = rule.factor
    d = sc["distance_km"][rows]
    impact = impact_columns(otab, ntab, oi, ni, distance_km=d, substitution=subst_u[inv],
                            factors=index.factors, config=index.config, prospective=False)
    return {
        "offer_id": otab.ids[oi], "need_id": ntab.ids[ni],
        "source_company_id": otab.company[oi], "target_company_id": ntab.company[ni],
        "prospective": np.zeros(len(rows), dtype=bool),
        **_parts(sc, rows), **impact,
    }


def _parts(sc: dict, rows: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "score": np.clip(sc["total"][rows], 0.0, 1.0),
        **{k: sc[k][rows] for k in ("compatibility", "distance", "volume_value", "availability", "distance_km")},
    }


def _prospective_columns(index: CandidateIndex, T: StreamTable, sc: dict, rows: np.ndarray, side: str):
    C = index.companies
    ai, ci = sc["ai"][rows], sc["ci"][rows]
    d = sc["distance_km"][rows]
    ones = np.ones(len(rows))
    absent = np.full(len(rows), -1, dtype=np.int64)
    if side == "offer":
        impact = impact_columns(T, None, ai, None, distance_km=d, substitution=ones,
                                factors=index.factors, config=index.config, prospective=True)
        ids = {"offer_id": T.ids[ai], "need_id": absent, "source_company_id": T.company[ai],
               "target_company_id": C.ids[ci]}
    else:
        impact = impact_columns(None, T, None, ai, distance_km=d, substitution=ones,
                                factors=index.factors, config=index.config, prospective=True)
        ids = {"offer_id": absent, "need_id": T.ids[ai], "source_company_id": C.ids[ci],
               "target_company_id": T.company[ai]}
    return {**ids, "prospective": np.ones(len(rows), dtype=bool), **_parts(sc, rows), **impact}


def rank_columns(
    index: CandidateIndex,
    *,
    keep=("offer", "need"),
    shard: tuple[int, int] | None = None,
    stats: dict | None = None,
    clock=None,
) -> MatchColumns:
    """The matches ``rank_index(index)`` returns, as columns in the same order.

    ``keep`` names the sides whose lists are computed: "offer" keeps each offer's top K declared
    matches and its prospective receivers; "need" each need's top K and its prospective providers.
    ``shard=(i, n)`` computes only the lists of the streams with ``id % n == i`` (searched from those
    streams, against every counterpart of the index); the union over ``i`` equals one run."""
    from .ranking import Laps, _order_keys, _partners, _prospective_rows  # shared with the object path

    laps = Laps(clock)
    lap, phases = laps.lap, laps.phases

    cfg = index.config
    otab, ntab = index.offers, index.needs
    own_o = own_n = None
    if shard is not None:
        i, n = shard
        own_o, own_n = otab.ids % n == i, ntab.ids % n == i
    track = tuple(s[0] for s in ("offer", "need") if s in keep)
    sc = run_search(index, index.batch_tasks(track, own=(own_o, own_n)), otab, ntab, track=track,
                    own=(own_o, own_n), stats=stats)
    lap("search")
    keys = rank_keys(sc["total"], cfg.score_decimals)
    none = np.zeros(len(keys), dtype=bool)
    top_o = top_k_mask(sc["oi"], keys, ntab.ids[sc["ni"]], cfg.top_k) if "offer" in keep else none
    top_n = top_k_mask(sc["ni"], keys, otab.ids[sc["oi"]], cfg.top_k) if "need" in keep else none.copy()
    if own_o is not None:
        top_o &= own_o[sc["oi"]]
        top_n &= own_n[sc["ni"]]
    rows = np.flatnonzero(top_o | top_n)
    lap("top_k")
    parts = [MatchColumns(_declared_columns(index, sc, rows))]
    if "offer" in keep:
        ro = np.flatnonzero(top_o)
        p, r = _prospective_rows(index, otab, _partners(otab.n, sc["oi"][ro], ntab.company[sc["ni"][ro]]),
                                 None if own_o is None else np.flatnonzero(own_o))
        if p is not None and len(r):
            parts.append(MatchColumns(_prospective_columns(index, otab, p, r, "offer")))
    if "need" in keep:
        rn = np.flatnonzero(top_n)
        p, r = _prospective_rows(index, ntab, _partners(ntab.n, sc["ni"][rn], otab.company[sc["oi"][rn]]),
                                 None if own_n is None else np.flatnonzero(own_n))
        if p is not None and len(r):
            parts.append(MatchColumns(_prospective_columns(index, ntab, p, r, "need")))
    lap("prospective_and_impact")
    out = MatchColumns.concat(parts)
    dec = cfg.score_decimals
    order = _order_keys([(rank_keys(out["score"], dec), out["prospective"].astype(np.int64), out["offer_id"],
                          out["need_id"], out["source_company_id"], out["target_company_id"])])
    out = MatchColumns({k: v[order] for k, v in out.data.items()})
    lap("order")
    if stats is not None:
        stats.update(declared_kept=len(rows), prospective_kept=len(out) - len(rows), matches=len(out))
        if clock:
            stats["phases_s"] = phases
    return out


# --- Explanations on read ----------------------------------------------------------------------------

def explain_declared(
    offer: StreamSpec, need: StreamSpec, ps: PairScore, *, index_cache, factors: ImpactFactors, config: EngineConfig
) -> MatchCandidate:
    """Reasons and impact of a stored declared match, from its two streams and stored numbers."""
    from .compat import Profile

    compat = index_cache.get(Profile.of(offer), Profile.of(need))
    return make_candidate(offer, need, ps, compat=compat, factors=factors, config=config)


def explain_prospective(
    stream: StreamSpec, company: CompanySpec, ps: PairScore, *, priors, factors: ImpactFactors, config: EngineConfig
) -> MatchCandidate:
    """Reasons and impact of a stored prospective match."""
    why = prior_reason(stream, company, priors) if priors is not None else ""
    return make_prospective_candidate(stream, company, ps, prior_reason=why, factors=factors, config=config)
