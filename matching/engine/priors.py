"""Sector priors for prospective matches: which sectors typically take (or produce) a stream.

Learned from documented exchanges (EWC code, provider NACE, receiver NACE) plus curated rules, with
hierarchical Dirichlet back-off: the distribution over receiver divisions for the most specific context
(the full EWC code) is smoothed towards the next more general one, down to the global distribution and
finally a uniform one:

    P_k(d) = (n_k(d) + beta * P_{k+1}(d)) / (N_k + beta)

Contexts, most general first: everything; category lineage (root to leaf, when the records carry
categories); EWC chapter; sub-chapter; code. A context without data is skipped. Description words seen in
the data refine the result as one more level (averaged over the words). The same tables, mirrored, give
"who typically produces this" for a need.

The counterpart's own NACE division (the provider's for an offer) is *not* a context by default: on the
MAESTRI exchanges, contexts such as "EWC chapter 10 from division 24" hold one or two exchanges each, and
letting them refine the EWC evidence made the leave-one-case-out ranking worse (division hit@5 0.69 with
them, 0.72 without, with the curated rules; chosen on the same queries, see ``benchmarks/match_quality.py
--nested`` and docs/matching.md). ``learn_priors(..., counterpart_division=True)`` restores them.
Everything is pure and deterministic.
"""

from __future__ import annotations

from .compat import normalise_ewc
from .prior_tables import (
    _contexts,
    _digits,
    _division_label,
    _Table,
    count_tables,
    describe_context,
    load_maestri_exchanges,
    load_prior_rules,
    split_codes,
    text_tokens,
)
from .types import PriorRule, SectorPrior

# The evidence is read and counted in prior_tables.py; its readers are part of this module's interface.
__all__ = [
    "DEFAULT_BACKOFF",
    "DEFAULT_COUNTERPART_DIVISION",
    "Priors",
    "describe_context",
    "learn_priors",
    "load_maestri_exchanges",
    "load_prior_rules",
    "split_codes",
    "text_tokens",
]

DEFAULT_BACKOFF = 2.0  # assumption: two pseudo-exchanges of the parent context; see module docstring.
# Measured, not assumed: the counterpart-division contexts lowered match quality (module docstring).
DEFAULT_COUNTERPART_DIVISION = False


class Priors:
    """Learned sector priors. Build with ``learn_priors``; read with the ``*_distribution`` methods."""

    def __init__(
        self,
        receiver: _Table,
        provider: _Table,
        backoff: float,
        names: dict[str, str] | None,
        counterpart_division: bool = DEFAULT_COUNTERPART_DIVISION,
    ):
        self._recv = receiver
        self._prov = provider
        self.backoff = float(backoff)
        self.counterpart_division = bool(counterpart_division)
        self.division_names = dict(names or {})
        vocab = set()
        for table in (receiver, provider):
            for counts in table.div.values():
                vocab.update(counts)
        self.divisions: tuple[str, ...] = tuple(sorted(vocab))
        self._has_categories = any(ctx[0] == "c" for t in (receiver, provider) for ctx in t.div)
        self._cache: dict[tuple, dict[str, float]] = {}
        self._class_cache: dict[tuple, dict[str, dict[str, float]]] = {}
        self._ctx_cache: dict[tuple, tuple] = {}
        self._chain_memo: dict[tuple, dict[str, float]] = {}
        self._class_memo: dict[tuple, dict[str, dict[str, float]]] = {}

    # --- distributions -------------------------------------------------------------------------
    def key_division(self, division: str) -> str:
        """The part of the counterpart's division the priors depend on: the division, or "" when the
        priors ignore it (then every division shares one cache entry)."""
        return division[:2] if self.counterpart_division else ""

    def _table(self, role: str) -> _Table:
        return self._recv if role == "receiver" else self._prov

    def _chain(self, role: str, contexts: tuple) -> dict[str, float]:
        """Back-off chain over ``contexts`` (general to specific, all with data), memoised per prefix:
        many streams share the general part of their chain."""
        key = (role, contexts)
        hit = self._chain_memo.get(key)
        if hit is not None:
            return hit
        vocab = self.divisions
        if not contexts:
            out = dict.fromkeys(vocab, 1.0 / len(vocab)) if vocab else {}
        else:
            prev = self._chain(role, contexts[:-1])
            counts = self._table(role).div[contexts[-1]]
            total = sum(counts.values())
            beta = self.backoff
            out = {d: (counts.get(d, 0.0) + beta * prev[d]) / (total + beta) for d in vocab}
        self._chain_memo[key] = out
        return out

    def _class_chain(self, role: str, contexts: tuple) -> dict[str, dict[str, float]]:
        """Class shares within each division along the chain, memoised per prefix like ``_chain``."""
        key = (role, contexts)
        hit = self._class_memo.get(key)
        if hit is not None:
            return hit
        if not contexts:
            out: dict[str, dict[str, float]] = {}
        else:
            prev = self._class_chain(role, contexts[:-1])
            table = self._table(role)
            ctx = contexts[-1]
            beta = self.backoff
            out = dict(prev)
            for div, counts in table.cls.get(ctx, {}).items():
                n_div = table.div[ctx][div]  # all exchanges to the division, with or without a class
                before = prev.get(div, {})
                out[div] = {
                    c: (counts.get(c, 0.0) + beta * before.get(c, 0.0)) / (n_div + beta)
                    for c in sorted(set(before) | set(counts))
                }
        self._class_memo[key] = out
        return out

    def _context_lists(self, ewc_codes, other_div, lineage, role) -> tuple[tuple[tuple, ...], ...]:
        """Per EWC code, the contexts (general to specific) that have data for this role."""
        other_div = self.key_division(other_div or "")
        key = (tuple(ewc_codes), other_div, tuple(lineage), role)
        hit = self._ctx_cache.get(key)
        if hit is None:
            side = "p" if role == "receiver" else "r"
            lin = tuple(lineage) if self._has_categories else ()
            codes = sorted({normalise_ewc(c) for c in ewc_codes if normalise_ewc(c)})
            raw = [_contexts(c, other_div, lin, side) for c in codes] or [
                _contexts(None, other_div, lin, side)
            ]
            table = self._table(role)
            hit = tuple(tuple(ctx for ctx in chain if ctx in table.div) for chain in raw)
            self._ctx_cache[key] = hit
        return hit

    def distribution(
        self,
        ewc_codes: tuple[str, ...],
        other_division: str = "",
        lineage: tuple[str, ...] = (),
        role: str = "receiver",
        tokens: tuple[str, ...] = (),
    ) -> dict[str, float]:
        """P(division) of the counterpart: receivers of a stream (``role='receiver'``, other_division =
        provider's) or providers (``role='provider'``, other_division = receiver's). Several EWC codes
        average their distributions. Description ``tokens`` (see ``text_tokens``) seen in the data
        refine it as one more back-off level each (averaged over the tokens)."""
        lists = self._context_lists(ewc_codes, other_division, lineage, role)
        if len(lists) == 1:
            base = self._chain(role, lists[0])
        else:
            key = (role, lists)
            base = self._cache.get(key)
            if base is None:
                dists = [self._chain(role, ctx) for ctx in lists]
                base = self._cache[key] = {
                    d: sum(dist[d] for dist in dists) / len(dists) for d in self.divisions
                }
        table = self._table(role)
        toks = tuple(t for t in tokens if ("w", t) in table.div)
        if not toks:
            return base
        key = (role, lists, toks)
        hit = self._cache.get(key)
        if hit is None:
            beta = self.backoff
            parts = []
            for t in toks:
                counts = table.div[("w", t)]
                total = sum(counts.values())
                parts.append(
                    {d: (counts.get(d, 0.0) + beta * base[d]) / (total + beta) for d in self.divisions}
                )
            hit = self._cache[key] = {d: sum(p[d] for p in parts) / len(parts) for d in self.divisions}
        return hit

    def receiver_distribution(self, ewc_codes, provider_division="", lineage=()) -> dict[str, float]:
        """P(receiver division | stream's EWC codes, provider division, category lineage)."""
        return self.distribution(tuple(ewc_codes), provider_division, tuple(lineage), "receiver")

    def provider_distribution(self, ewc_codes, receiver_division="", lineage=()) -> dict[str, float]:
        """P(provider division | need's accepted EWC codes, receiver division, category lineage)."""
        return self.distribution(tuple(ewc_codes), receiver_division, tuple(lineage), "provider")

    def class_shares(self, ewc_codes, other_division, lineage, role) -> dict[str, dict[str, float]]:
        """Smoothed share of each NACE class among its division's counterparts: {division: {class: q}}.

        Same back-off as the divisions, within each division, starting from 0 (a class never seen gets
        no bonus). Several EWC codes average their shares."""
        lists = self._context_lists(ewc_codes, other_division, lineage, role)
        if len(lists) == 1:
            return self._class_chain(role, lists[0])
        key = (role, lists)
        hit = self._class_cache.get(key)
        if hit is None:
            hit = {}
            for contexts in lists:
                for div, shares in self._class_chain(role, contexts).items():
                    acc = hit.setdefault(div, {})
                    for c, v in shares.items():
                        acc[c] = acc.get(c, 0.0) + v / len(lists)
            self._class_cache[key] = hit
        return hit

    def class_share(self, ewc_codes, other_division, lineage, role, division: str, nace_class: str) -> float:
        """Smoothed share of ``nace_class`` among the division's counterparts in this context (0..1)."""
        return (
            self.class_shares(ewc_codes, other_division, lineage, role)
            .get(division, {})
            .get(_digits(nace_class)[:4], 0.0)
        )

    # --- explanations --------------------------------------------------------------------------
    def explain(self, ewc_codes, other_division, lineage, role, division: str) -> str:
        """'4 of 6 recorded exchanges with EWC code 10 01 02 went to NACE division 23', using the most
        specific context that has evidence for the division."""
        table = self._table(role)
        best = None
        for contexts in self._context_lists(ewc_codes, other_division, lineage, role):
            for depth, ctx in enumerate(contexts):
                counts = table.div.get(ctx)
                if counts and counts.get(division, 0.0) > 0 and (best is None or depth > best[0]):
                    best = (depth, ctx, counts)
        label = _division_label(division, self.division_names)
        if best is None:
            return f"no recorded exchange links this stream to {label}"
        _, ctx, counts = best
        n, total = counts[division], sum(counts.values())
        verb = "went to" if role == "receiver" else "came from"
        text = f"{n:.3g} of {total:.3g} recorded exchanges {describe_context(ctx, self.division_names)} {verb} {label}"
        notes = table.curated.get(ctx, {}).get(division)
        if notes:
            text += f" (includes curated rule: {notes[0]})"
        return text

    def explain_text(self, tokens, role: str, division: str) -> str | None:
        """'3 of 4 recorded exchanges described as "slag" went to NACE division 23', for the description
        word with the largest share for the division, or None."""
        table = self._table(role)
        best = None
        for t in tokens:
            counts = table.div.get(("w", t))
            if counts and counts.get(division, 0.0) > 0:
                share = counts[division] / sum(counts.values())
                if best is None or share > best[0]:
                    best = (share, t, counts)
        if best is None:
            return None
        _, t, counts = best
        verb = "went to" if role == "receiver" else "came from"
        return (
            f'{counts[division]:.3g} of {sum(counts.values()):.3g} recorded exchanges described as "{t}" '
            f"{verb} {_division_label(division, self.division_names)}"
        )

    def sector_priors(self, role: str = "receiver") -> list[SectorPrior]:
        """All learned contexts with their raw (unsmoothed) distributions, for inspection."""
        out = []
        for ctx, counts in self._table(role).div.items():
            total = sum(counts.values())
            probs = tuple(sorted(((d, c / total) for d, c in counts.items()), key=lambda x: (-x[1], x[0])))
            out.append(SectorPrior(ctx, total, probs))
        return out


def learn_priors(
    exchanges,
    *,
    rules: tuple[PriorRule, ...] = (),
    backoff: float = DEFAULT_BACKOFF,
    division_names: dict[str, str] | None = None,
    counterpart_division: bool = DEFAULT_COUNTERPART_DIVISION,
) -> Priors:
    """Learn receiver and provider priors from exchange records and curated rules (pure, deterministic).

    A record's weight is split evenly over its EWC codes and over the combinations of its provider and
    receiver NACE codes. A curated rule adds ``weight`` pseudo-exchanges at its EWC prefix level.
    ``counterpart_division`` also conditions on the other party's division (see the module docstring).
    """
    recv, prov = count_tables(exchanges, rules, counterpart_division)
    return Priors(recv, prov, backoff, division_names, counterpart_division)
