"""Engine inputs: the deployment's engine configuration, substitution rules and sector priors, and
stream and company rows converted to engine specs (`load_specs`, `load_companies`), each place taken as
the centre of its grid cell (`engine_place`)."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.db.models import Count, Max, Q

from companies.geo import grid_cell_centre
from companies.models import Site
from matching import engine
from matching.models import Match
from matching.signals import pair_penalties
from streams.choices import StreamStatus
from streams.models import ResourceCategory, Stream, SubstitutionRule
from streams.units import UNITS

_ROUTES = {"landfill", "incineration", "energy_recovery", "recycling", "sewer", "other"}


def impact_dict(imp: engine.Impact) -> dict:
    """An engine impact estimate as stored in `Match.impact`."""
    return {
        "quantity_yearly": imp.quantity_yearly, "unit": imp.unit, "diverted_t": imp.diverted_t,
        "co2e_t": imp.co2e_t, "eur_provider": imp.eur_provider, "eur_receiver": imp.eur_receiver,
        "transport_eur": imp.transport_eur, "assumptions": list(imp.assumptions),
    }


def engine_config() -> engine.EngineConfig:
    """The one engine configuration of this deployment (defaults documented in engine/config.py),
    with the pair penalties the apps above answer `matching.signals.pair_penalties` with (the
    facilitators' rejection penalties, facilitation/penalties.py)."""
    penalties = tuple(p for _, answer in pair_penalties.send(sender=Match) for p in answer)
    return engine.EngineConfig(pair_penalties=penalties)


def engine_rules() -> tuple[engine.SubstitutionRule, ...]:
    agg = SubstitutionRule.objects.aggregate(n=Max("pk"), c=Count("pk"))
    return _rules_cached((agg["n"], agg["c"]))


@lru_cache(maxsize=4)
def _rules_cached(key) -> tuple[engine.SubstitutionRule, ...]:
    rows = SubstitutionRule.objects.values_list("offer_category__code", "need_category__code", "factor", "source")
    return tuple(engine.SubstitutionRule(o, n, float(f), s) for o, n, f, s in rows.order_by("pk"))


@lru_cache(maxsize=1)
def engine_priors() -> engine.Priors:
    """Sector priors learned from the shipped MAESTRI exchanges plus curated rules."""
    exchanges = engine.load_maestri_exchanges()
    return engine.learn_priors(exchanges, rules=engine.load_prior_rules())


CATEGORY_CACHE_SECONDS = 300  # reference data: a renamed category reaches matching within this time


def cache_epoch() -> int:
    """The CATEGORY_CACHE_SECONDS window we are in: the per-process reference-data caches below are
    keyed by it, so an edited category or NACE code is read again in the next window."""
    return int(time.monotonic() // CATEGORY_CACHE_SECONDS)


class _Taxonomy(NamedTuple):
    info: dict[str, tuple[tuple[str, ...], str, str]]  # code -> (ancestor codes, value class, name)
    ids: dict[str, int]  # code -> primary key


def _taxonomy() -> _Taxonomy:
    """The category tree as matching reads it; cached per process and checked with one small query
    (a new or deleted category is seen at once, an edited one within CATEGORY_CACHE_SECONDS)."""
    agg = ResourceCategory.objects.aggregate(n=Max("pk"), c=Count("pk"))
    return _taxonomy_cached((cache_epoch(), agg["n"], agg["c"]))


@lru_cache(maxsize=1)
def _taxonomy_cached(_key: tuple) -> _Taxonomy:
    rows = list(ResourceCategory.objects.values_list("pk", "code", "value_class", "name"))
    return _Taxonomy(
        info={code: (ResourceCategory(code=code).ancestor_codes(), value_class, name) for _, code, value_class, name
              in rows},
        ids={code: pk for pk, code, _, _ in rows},
    )


SPEC_FIELDS = (
    "id", "company_id", "direction", "kind", "category__code", "quantity_yearly", "site__latitude",
    "site__longitude", "months", "temperature_c", "water_quality", "physical_form", "hazardous",
    "accepts_hazardous", "price_eur_per_unit", "disposal_cost_eur_per_unit", "max_transport_km",
    "company__nace__code", "disposal_route", "title", "valid_from", "valid_until", "unit",
)


def per_base_unit(value, unit: str, kind: str) -> float | None:
    """A price per listed unit as EUR per base unit (t, MWh, m3), as the engine takes it."""
    if value is None:
        return None
    factor = UNITS.get(kind, {}).get(unit)
    return float(value) / float(factor) if factor else float(value)


def load_specs(queryset, *, by_ids: bool = False, taxonomy: _Taxonomy | None = None) -> list[engine.StreamSpec]:
    """Convert stream rows to engine specs with two queries (rows, then their EWC codes).
    Competitor exclusions are not passed to the engine: every exclusion is applied where matches are
    read (`Match.objects.visible_to`), so that no exclusion changes which pairs the engine keeps (an
    excluder watching its suggestions vanish would learn its partners' companies or exact sectors).
    `by_ids` reads the EWC codes by the loaded ids (for a few hundred rows, and for a union queryset)
    instead of repeating the queryset as a subquery; `taxonomy` saves its check when the caller has it."""
    rows = list(queryset.values_list(*SPEC_FIELDS))
    ewc: dict[int, list[str]] = {}
    through = Stream.ewc_codes.through
    # By default a subquery rather than a list of ids: one statement however many streams.
    pks = [row[0] for row in rows] if by_ids else queryset.order_by().values("pk")
    if not by_ids or pks:
        for sid, code in through.objects.filter(stream_id__in=pks).values_list("stream_id", "ewccode__code"):
            ewc.setdefault(sid, []).append(code)
    cats = (taxonomy or _taxonomy()).info
    specs = []
    for (sid, company_id, direction, kind, cat, qty, lat, lon, months, temp, wq, form, haz, acc, price, disp,
         max_transport_km, nace, route, title, vfrom, vuntil, unit) in rows:
        ancestors, value_class, cat_name = cats.get(cat, ((), "medium", ""))
        lat, lon = engine_place(lat, lon)
        specs.append(engine.StreamSpec(
            id=sid, company_id=company_id, direction=direction, kind=kind, category=cat,
            category_ancestors=ancestors, ewc_codes=tuple(sorted(ewc.get(sid, ()))),
            quantity_yearly=float(qty or 0.0), lat=lat, lon=lon, months=months, temperature_c=temp,
            water_quality=wq, form=form or None, hazardous=haz, accepts_hazardous=acc,
            price_eur_per_unit=per_base_unit(price, unit, kind),
            disposal_cost_eur_per_unit=per_base_unit(disp, unit, kind), max_transport_km=max_transport_km,
            value_class=value_class or "medium", nace_division=nace[:2], nace_class=nace.replace(".", ""),
            disposal_route=(route if route in _ROUTES else ("other" if route else None)),
            description=title, category_name=cat_name, valid_from=vfrom, valid_until=vuntil,
        ))
    return specs


def load_companies(site_filter: Q | None = None) -> list[engine.CompanySpec]:
    """One representative location (the first site) per company, for prospective matching."""
    qs = Site.objects.order_by("company_id", "pk")
    if site_filter is not None:
        qs = qs.filter(site_filter)
    seen, out = set(), []
    for company_id, lat, lon, nace in qs.values_list("company_id", "latitude", "longitude", "company__nace__code"):
        if company_id in seen:
            continue
        seen.add(company_id)
        out.append(_company_spec(company_id, lat, lon, nace))
    return out


def engine_place(lat: float, lon: float) -> tuple[float, float]:
    """Where the engine takes a site to be: the centre of its grid cell (`LOCATION_GRID_KM`,
    companies/geo.py). Whether a pair is within its radius, its distance, parts and score then depend
    on the cells alone, so no one who creates or moves sites and watches which matches appear learns
    more of another site than its cell. SQL prefilters widen their boxes by one cell to stay supersets."""
    return grid_cell_centre(lat, lon, settings.LOCATION_GRID_KM)


def _company_spec(company_id: int, lat: float, lon: float, nace: str) -> engine.CompanySpec:
    lat, lon = engine_place(lat, lon)
    return engine.CompanySpec(id=company_id, nace_division=nace[:2], nace_class=nace.replace(".", ""), lat=lat,
                              lon=lon)


def matchable_streams():
    return Stream.objects.filter(status=StreamStatus.ACTIVE)
