"""Reasons and impact notes of stored matches, rebuilt on read.

A full run stores numbers only (score, parts, distance, impact figures): writing a million rows of
reason texts would cost more than finding the matches. The texts depend only on the two streams (or
the stream and the prospective company) and those numbers, so the pure engine rebuilds them for the
rows a page, API response or export actually shows (``engine.columns.explain_*``; a test checks they
equal what the object path builds). Rows that carry stored reasons (one-stream runs) keep them.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.db.models.query import ModelIterable

from matching import engine
from matching.engine import CompatCache, PairScore, explain_declared, explain_prospective
from matching.services import (
    engine_config,
    engine_priors,
    engine_rules,
    impact_dict,
    load_companies,
    load_specs,
)
from streams.models import Stream


def _pair_score(m) -> PairScore:
    p = m.parts or {}
    return PairScore(
        float(p.get("compatibility", 0.0)), float(p.get("distance", 0.0)), float(p.get("volume_value", 0.0)),
        float(p.get("availability", 0.0)), float(m.score), float(m.distance_km),
    )


def explain_matches(matches: Iterable) -> None:
    """Fill ``reasons`` and ``impact`` of matches stored without them (in memory; nothing is saved).
    Three queries for any number of matches: streams, their EWC codes, prospective companies."""
    todo = [m for m in matches if not m.reasons]
    if not todo:
        return
    stream_ids = {i for m in todo for i in (m.offer_id, m.need_id) if i is not None}
    specs = {s.id: s for s in load_specs(Stream.objects.filter(pk__in=stream_ids))}
    company_ids = {m.target_company_id if m.need_id is None else m.source_company_id for m in todo if m.prospective}
    companies = {c.id: c for c in load_companies(Q(company_id__in=company_ids))} if company_ids else {}
    config, factors = engine_config(), engine.load_impact_factors()
    cache = CompatCache(engine_rules(), config)
    priors = engine_priors() if company_ids else None
    for m in todo:
        ps = _pair_score(m)
        if not m.prospective:
            offer, need = specs.get(m.offer_id), specs.get(m.need_id)
            if offer is None or need is None:
                continue
            c = explain_declared(offer, need, ps, index_cache=cache, factors=factors, config=config)
        else:
            anchor = specs.get(m.offer_id if m.need_id is None else m.need_id)
            company = companies.get(m.target_company_id if m.need_id is None else m.source_company_id)
            if anchor is None or company is None:
                continue
            c = explain_prospective(anchor, company, ps, priors=priors, factors=factors, config=config)
        m.reasons = list(c.reasons)
        m.impact = impact_dict(c.impact)


class ExplainedModelIterable(ModelIterable):
    """Model instances of a Match queryset, with reasons and impact notes filled in per batch."""

    def __iter__(self):
        rows = list(super().__iter__())
        explain_matches(rows)
        yield from rows


def explained(queryset):
    """`queryset` (of matches) whose rows come with reasons and impact notes (rebuilt on read for
    full-run rows, which store numbers only). For pages, API and exports, not for bulk work."""
    qs = queryset._chain()
    qs._iterable_class = ExplainedModelIterable
    return qs
