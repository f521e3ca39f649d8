"""Where one stream's counterparts can be: SQL prefilters (the blocking keys it shares with them, and
bounding boxes of the engine's pair radius) that load a superset of the streams the engine could pair
with it, and the companies a full run could make its prospective counterparts."""

from __future__ import annotations

import math
from functools import lru_cache

from django.conf import settings
from django.db.models import Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Cos, Greatest, Least, Radians

import matching.services.specs as specs
from companies.models import NaceCode, Site
from matching import engine
from matching.engine import nace_sector, prospective_divisions, prospective_sectors
from matching.services.specs import (
    _company_spec,
    _Taxonomy,
    load_specs,
    matchable_streams,
)
from streams.choices import Direction
from streams.models import EwcCode, Stream


def _counterpart_filter(spec: engine.StreamSpec, rules: tuple[engine.SubstitutionRule, ...],
                        taxonomy: _Taxonomy) -> tuple[list[int], Q | None]:
    """The blocking keys `spec` shares with its counterparts (same rules as engine/candidates.py):
    the ids of the categories they may have (from the cached taxonomy, so the database reads the
    category index of a few hundred rows rather than every stream of the kind), and a filter for the
    streams that share an EWC chapter with it (None without codes). Each is queried on its own, so
    each stays indexable; the union of the two is the candidate set."""
    lineage = {spec.category, *spec.category_ancestors}
    exact, prefixes = set(lineage), [f"{spec.category}."]
    for r in rules:
        own, other_side = ((r.offer_category, r.need_category) if spec.direction == Direction.OFFER
                           else (r.need_category, r.offer_category))
        if own in lineage:
            exact.add(other_side)
            prefixes.append(f"{other_side}.")
    starts = tuple(prefixes)
    category_ids = sorted(pk for code, pk in taxonomy.ids.items() if code in exact or code.startswith(starts))
    chapters = sorted({c[:2] for c in spec.ewc_codes})
    if not chapters:
        return category_ids, None
    in_chapter = Q()
    for ch in chapters:
        in_chapter |= Q(code__startswith=ch)
    # The codes as ids: the planner then sees how common they are (a chapter like 15, packaging, is
    # on a sixth of all streams) and joins instead of probing stream by stream.
    codes = list(EwcCode.objects.filter(in_chapter).values_list("pk", flat=True))
    if not codes:
        return category_ids, None
    return category_ids, Q(pk__in=Stream.ewc_codes.through.objects.filter(ewccode_id__in=codes).values("stream_id"))


def _bbox(lat: float, lon: float, km: float, prefix: str = "") -> Q:
    """A latitude/longitude box that contains the circle of `km` around a point (a cheap prefilter;
    the engine applies the exact great-circle radius). `lat, lon` is an engine place (a cell centre) and
    the rows hold exact positions, so the box reaches one cell further."""
    km += settings.LOCATION_GRID_KM
    dlat = km / 110.5
    dlon = min(180.0, km / max(1e-6, 111.3 * math.cos(math.radians(min(89.0, abs(lat) + dlat)))))
    return Q(**{
        f"{prefix}latitude__gte": lat - dlat, f"{prefix}latitude__lte": lat + dlat,
        f"{prefix}longitude__gte": lon - dlon, f"{prefix}longitude__lte": lon + dlon,
    })


def _bbox_own_limit(lat: float, lon: float, prefix: str = "") -> Q:
    """`_bbox` with each row's own `max_transport_km` as the radius (for rows that give one)."""
    km = Greatest(F("max_transport_km"), Value(0.1)) + Value(float(settings.LOCATION_GRID_KM))
    dlat = km / Value(110.5)
    dlon = Least(Value(180.0), km / (Value(111.3) * Cos(Radians(Least(Value(89.0), Value(abs(lat)) + dlat)))))
    return Q(**{
        f"{prefix}latitude__gte": Value(lat) - dlat, f"{prefix}latitude__lte": Value(lat) + dlat,
        f"{prefix}longitude__gte": Value(lon) - dlon, f"{prefix}longitude__lte": Value(lon) + dlon,
    })


def _counterpart_area(spec: engine.StreamSpec, config: engine.EngineConfig, taxonomy: _Taxonomy,
                      category_ids: list[int] | None = None) -> Q:
    """Where a counterpart of `spec` can lie, as bounding boxes (the engine's pair-radius rule,
    `scoring.pair_radius`: the smaller of the two streams' own maximum distances when either gives
    one, else the offer's class radius). A counterpart with its own limit is searched out to that
    limit; the others out to the radius their offer's value class allows (`category_ids`, when
    given, are the only categories the counterparts can have)."""
    p = "site__"
    if spec.max_transport_km is not None:
        return _bbox(spec.lat, spec.lon, max(spec.max_transport_km, 0.1), p)
    area = Q(max_transport_km__isnull=False) & _bbox_own_limit(spec.lat, spec.lon, p)
    if spec.direction == Direction.OFFER:
        return area | (Q(max_transport_km__isnull=True) & _bbox(spec.lat, spec.lon, config.radius_for(spec.value_class), p))
    # The counterpart is the offer: its category's value class decides (category ids, no join).
    wanted = None if category_ids is None else set(category_ids)
    by_radius: dict[float, list[int]] = {}
    for code, (_ancestors, value_class, _name) in taxonomy.info.items():
        if wanted is None or taxonomy.ids[code] in wanted:
            by_radius.setdefault(config.radius_for(value_class or "medium"), []).append(taxonomy.ids[code])
    for radius, ids in sorted(by_radius.items()):
        area |= Q(max_transport_km__isnull=True, category_id__in=sorted(ids)) & _bbox(spec.lat, spec.lon, radius, p)
    return area


def _load_counterparts(spec: engine.StreamSpec, *, config: engine.EngineConfig,
                       rules: tuple[engine.SubstitutionRule, ...],
                       taxonomy: _Taxonomy) -> list[engine.StreamSpec]:
    """The active streams of other companies that the engine could pair with `spec` (a superset: the
    engine applies the exact rules), in two queries (rows, then their EWC codes), ordered by id."""
    other = Direction.NEED if spec.direction == Direction.OFFER else Direction.OFFER
    category_ids, in_chapter = _counterpart_filter(spec, rules, taxonomy)

    def part(key: Q, ids: list[int] | None):
        return (matchable_streams().filter(key, _counterpart_area(spec, config, taxonomy, ids), direction=other,
                                           kind=spec.kind).exclude(company_id=spec.company_id).order_by())

    parts = [part(Q(category_id__in=category_ids), category_ids)] if category_ids else []
    if in_chapter is not None:
        parts.append(part(in_chapter, None))
    if not parts:
        return []
    qs = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    specs = load_specs(qs, by_ids=True, taxonomy=taxonomy)
    return sorted(specs, key=lambda s: s.id)


def _company_nace_codes() -> dict[int, str]:
    """The NACE codes (id -> code) that some company with a site has: the sectors of a full run's
    company index. Cached per process like the taxonomy: a new site (so a new company's too) is seen
    at once, the key being the highest site id; a changed NACE code or a deleted company within
    CATEGORY_CACHE_SECONDS. Computing it hashes every company and site, which one stream should not pay for."""
    last_site = Site.objects.aggregate(n=Max("pk"))["n"]
    return _company_nace_codes_cached((specs.cache_epoch(), last_site))


@lru_cache(maxsize=1)
def _company_nace_codes_cached(_key: tuple) -> dict[int, str]:
    with_site = Exists(Site.objects.filter(company__nace_id=OuterRef("pk")))
    return dict(NaceCode.objects.filter(with_site).order_by().values_list("pk", "code"))


def _prospective_companies(spec: engine.StreamSpec, *, config: engine.EngineConfig,
                           priors) -> list[engine.CompanySpec]:
    """The companies a full run could make prospective counterparts of `spec`, in two small queries.

    A full run's company index holds every company with a site; `spec` takes its prospective companies
    from the strongest sectors present there (`prospective_sectors`). So: the NACE codes of a division
    the priors allow (`prospective_divisions`) that some company with a site has, the sectors among
    them the engine would pick, and then only the companies of those sectors whose representative site
    (the first, as a full run takes it) lies inside `spec`'s own radius."""
    divisions = prospective_divisions(spec, priors, config)
    if not divisions:
        return []
    code_of = {pk: code for pk, code in _company_nace_codes().items() if code[:2] in divisions}
    sector = {pk: nace_sector(code[:2], code.replace(".", "")) for pk, code in code_of.items()}
    keep = prospective_sectors(spec, sector.values(), priors, config)
    nace_ids = sorted(pk for pk, s in sector.items() if s in keep)
    if not nace_ids:
        return []
    radius = spec.max_transport_km if spec.max_transport_km is not None else config.radius_for(spec.value_class)
    first_site = ~Exists(Site.objects.filter(company_id=OuterRef("company_id"), pk__lt=OuterRef("pk")))
    rows = Site.objects.filter(company__nace_id__in=nace_ids).filter(
        _bbox(spec.lat, spec.lon, radius), first_site).order_by("company_id")
    return [_company_spec(cid, lat, lon, code_of[nace_id])
            for cid, lat, lon, nace_id in rows.values_list("company_id", "latitude", "longitude", "company__nace_id")]
