"""Does this offer fit this need? Category, EWC code and substitution evidence, and hard constraints.

Compatibility is the best of the available evidence:
- EWC: the offer's code is among the need's accepted codes (exact), or shares the sub-chapter (first 4
  digits) or the chapter (first 2 digits);
- category: equal, the need's category is a parent of the offer's (the need is broader), or the offer's
  is a parent of the need's (the offer is broader);
- a substitution rule whose offer category is on the offer's lineage and whose need category is on the
  need's lineage (lineage = the category and its ancestors), with the rule's factor.
Category and EWC evidence require the same kind; a substitution rule may cross kinds because a curator
wrote it down explicitly.

It is then multiplied by the form factor and by a factor for limits a need sets that the offer does not
state. Hard constraints (no candidate at all): same company, excluded companies or NACE codes either way,
supply temperature below the need's minimum, water quality below the need's minimum, hazardous waste to a
need that does not accept it, incompatible physical form.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import FORM_NOTES, EngineConfig
from .types import CompanySpec, StreamSpec, SubstitutionRule


def format_ewc(code: str) -> str:
    """'100202' -> '10 02 02'; partial codes ('1002', '10') format the same way."""
    code = code.strip()
    return " ".join(code[i : i + 2] for i in range(0, len(code), 2))


def normalise_ewc(code: str) -> str:
    """Keep the digits of an EWC code ('10 02 02*' -> '100202')."""
    return "".join(ch for ch in str(code) if ch.isdigit())


def lineage(category: str, ancestors: tuple[str, ...]) -> tuple[str, ...]:
    """The category followed by its ancestors, nearest first."""
    return (category, *ancestors) if category else tuple(ancestors)


@dataclass(frozen=True, slots=True)
class Profile:
    """The part of a stream that decides category/EWC compatibility; many streams share one profile."""

    kind: str
    category: str
    ancestors: tuple[str, ...]
    ewc_codes: tuple[str, ...]
    category_name: str = ""

    @classmethod
    def of(cls, s: StreamSpec) -> Profile:
        return cls(s.kind, s.category, tuple(s.category_ancestors), tuple(s.ewc_codes), s.category_name)


@dataclass(frozen=True, slots=True)
class CompatResult:
    """Base compatibility of two profiles (before form and constraint factors)."""

    score: float
    reasons: tuple[str, ...] = ()
    rule: SubstitutionRule | None = None


NO_MATCH = CompatResult(0.0)


def _label(p: Profile) -> str:
    return p.category_name or p.category


def ewc_evidence(offer_codes: tuple[str, ...], need_codes: tuple[str, ...], config: EngineConfig):
    """Best EWC agreement: (score, reason) or (0, '')."""
    if not offer_codes or not need_codes:
        return 0.0, ""
    best = (0.0, "")
    for oc in offer_codes:
        for nc in need_codes:
            if oc == nc:
                return config.ewc_exact, f"same EWC code {format_ewc(oc)}"
            if oc[:4] == nc[:4]:
                cand = (config.ewc_subchapter, f"same EWC sub-chapter {format_ewc(oc[:4])}")
            elif oc[:2] == nc[:2]:
                cand = (config.ewc_chapter, f"same EWC chapter {format_ewc(oc[:2])}")
            else:
                continue
            if cand[0] > best[0]:
                best = cand
    return best


def category_evidence(o: Profile, n: Profile, config: EngineConfig):
    """Category agreement for the same kind: (score, reason) or (0, '')."""
    if o.kind != n.kind or not o.category or not n.category:
        return 0.0, ""
    if o.category == n.category:
        return config.category_equal, f"same category {_label(o)}"
    if n.category in o.ancestors:
        return config.category_need_broader, f"the need accepts any {_label(n)}; this is {_label(o)}"
    if o.category in n.ancestors:
        return (
            config.category_offer_broader,
            f"the offer ({_label(o)}) is broader than the need ({_label(n)}): check the exact type",
        )
    return 0.0, ""


def rule_evidence(o: Profile, n: Profile, rules: tuple[SubstitutionRule, ...]):
    """Best applicable substitution rule: (factor, reason, rule) or (0, '', None)."""
    ol = set(lineage(o.category, o.ancestors))
    nl = set(lineage(n.category, n.ancestors))
    best: SubstitutionRule | None = None
    for r in rules:
        if r.offer_category in ol and r.need_category in nl:
            key = (-r.factor, r.offer_category, r.need_category, r.source)
            if best is None or key < (-best.factor, best.offer_category, best.need_category, best.source):
                best = r
    if best is None:
        return 0.0, "", None
    note = best.note or f"{best.offer_category} can replace {best.need_category}"
    source = f", source: {best.source}" if best.source else ""
    return float(best.factor), f"{note} (factor {best.factor:g}{source})", best


def profile_compat(
    o: Profile, n: Profile, rules: tuple[SubstitutionRule, ...], config: EngineConfig
) -> CompatResult:
    """Base compatibility of an offer profile with a need profile: the best evidence, reasons sorted by
    strength (strongest first)."""
    evidence = []
    if o.kind == n.kind:
        s, why = ewc_evidence(o.ewc_codes, n.ewc_codes, config)
        if s > 0:
            evidence.append((s, 0, why))
        s, why = category_evidence(o, n, config)
        if s > 0:
            evidence.append((s, 1, why))
    s, why, rule = rule_evidence(o, n, rules)
    if s > 0:
        evidence.append((s, 2, why))
    if not evidence:
        return NO_MATCH
    evidence.sort(key=lambda e: (-e[0], e[1]))
    return _penalised(
        CompatResult(min(1.0, max(e[0] for e in evidence)), tuple(e[2] for e in evidence), rule), o, n, config
    )


def _penalised(result: CompatResult, o: Profile, n: Profile, config: EngineConfig) -> CompatResult:
    """Apply a facilitator-feedback penalty for this exact category pair, with its reason."""
    penalty = config.pair_penalty(o.category, n.category)
    if penalty is None:
        return result
    factor, note = penalty
    return CompatResult(result.score * factor, (*result.reasons, note), result.rule)


class CompatCache:
    """Memoises ``profile_compat`` per (offer profile, need profile); shared by the fast and naive paths."""

    def __init__(self, rules: tuple[SubstitutionRule, ...], config: EngineConfig):
        self.rules = tuple(rules)
        self.config = config
        self._cache: dict[tuple[Profile, Profile], CompatResult] = {}

    def get(self, o: Profile, n: Profile) -> CompatResult:
        key = (o, n)
        hit = self._cache.get(key)
        if hit is None:
            hit = profile_compat(o, n, self.rules, self.config)
            self._cache[key] = hit
        return hit


def nace_excluded(patterns: frozenset[str], division: str, nace_class: str) -> bool:
    """True if a NACE exclusion pattern ('10', '10.5', '1051') covers the counterpart's sector."""
    if not patterns:
        return False
    code = (nace_class or division).replace(".", "")
    return any(code.startswith(p.replace(".", "")) for p in patterns if p)


def excluded(
    a_company: int,
    a_excl: frozenset[int],
    a_nace_excl: frozenset[str],
    a_div: str,
    a_class: str,
    b_company: int,
    b_excl: frozenset[int],
    b_nace_excl: frozenset[str],
    b_div: str,
    b_class: str,
) -> bool:
    """Same company, or either side excludes the other by company id or NACE code."""
    if a_company == b_company:
        return True
    if b_company in a_excl or a_company in b_excl:
        return True
    return nace_excluded(a_nace_excl, b_div, b_class) or nace_excluded(b_nace_excl, a_div, a_class)


def streams_excluded(offer: StreamSpec, need: StreamSpec) -> bool:
    return excluded(
        offer.company_id,
        offer.excluded_company_ids,
        offer.excluded_nace,
        offer.nace_division,
        offer.nace_class,
        need.company_id,
        need.excluded_company_ids,
        need.excluded_nace,
        need.nace_division,
        need.nace_class,
    )


def stream_company_excluded(stream: StreamSpec, company: CompanySpec) -> bool:
    return excluded(
        stream.company_id,
        stream.excluded_company_ids,
        stream.excluded_nace,
        stream.nace_division,
        stream.nace_class,
        company.id,
        company.excluded_company_ids,
        company.excluded_nace,
        company.nace_division,
        company.nace_class,
    )


def constraint_factor(offer: StreamSpec, need: StreamSpec, config: EngineConfig):
    """Hard constraints and softer limits between an offer and a need.

    Returns (factor, reasons); factor 0 means a hard constraint failed (reasons then say which).
    """
    reasons: list[str] = []
    factor = 1.0
    if offer.hazardous and not need.accepts_hazardous:
        return 0.0, ("hazardous waste, and the need does not accept hazardous input",)
    if offer.hazardous:
        reasons.append("hazardous waste: the receiver accepts it (permits and waste rules apply)")
    if need.temperature_c is not None:
        if offer.temperature_c is None:
            factor *= config.unknown_constraint_factor
            reasons.append(
                f"the need requires at least {need.temperature_c:g} °C; supply temperature not given"
            )
        elif offer.temperature_c < need.temperature_c:
            return 0.0, (
                f"supply {offer.temperature_c:g} °C is below the required {need.temperature_c:g} °C",
            )
        else:
            reasons.append(f"supply {offer.temperature_c:g} °C meets the required {need.temperature_c:g} °C")
    if need.water_quality is not None:
        if offer.water_quality is None:
            factor *= config.unknown_constraint_factor
            reasons.append(
                f"the need requires water quality class {need.water_quality}; offer's class not given"
            )
        elif offer.water_quality < need.water_quality:
            return 0.0, (
                f"water quality class {offer.water_quality} is below the required {need.water_quality}",
            )
        else:
            reasons.append(
                f"water quality class {offer.water_quality} meets the required {need.water_quality}"
            )
    ff = config.form_factor(offer.form, need.form)
    if ff <= 0.0:
        return 0.0, (f"form {offer.form} cannot serve a need for {need.form}",)
    if ff < 1.0:
        factor *= ff
        if offer.form is None:
            reasons.append(f"the need asks for {need.form} material; the offer's form is not given")
        else:
            note = FORM_NOTES.get(f"{offer.form}->{need.form}") or (
                FORM_NOTES["mixed"]
                if offer.form == "mixed"
                else f"{offer.form} for a {need.form} need needs processing"
            )
            reasons.append(f"{note} (factor {ff:g})")
    return factor, tuple(reasons)
