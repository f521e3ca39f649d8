"""The database twin of `matching/engine/disclosure.py`: the shared score and the banded distance as
SQL expressions over a match and its two streams, so that lists can be ordered and filtered by what a
viewer is shown instead of by the engine's exact figures.

Why: a company member's list ordered by the exact score (or exact distance) is a comparator. Two of
its own matches with the same partner, or a partner's and a copy the attacker controls, would sort by
the partner's hidden price or exact site, and `?min_score=` would answer threshold questions about
them. Ordered by the shared score (rounded to whole percent, ties by id) and the band, a list says no
more than the figures on it. Staff and facilitators order by the engine's score (`exact_order`).

The expressions state the same formulas as `disclosure.shared_parts` with the same configuration;
`tests/matching/test_disclosure_sql.py` compares both on every row.
"""

from __future__ import annotations

from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.functions import Greatest, Least, Power, Round

from companies.roles import roles_for
from matching.engine import MIN_SHARED_DISTANCE_PART, EngineConfig
from streams.choices import StreamKind

_CONFIG = EngineConfig()


def exact_order(user) -> bool:
    """Staff and facilitators work the queue by the engine's score; everyone else by what they see."""
    roles = roles_for(user)
    return roles.is_staff or roles.is_facilitator


def _f(value: float) -> Value:
    return Value(float(value), output_field=FloatField())


def band_km():
    """`streams.presentation.approximate_km` of the match's distance."""
    d = F("distance_km")
    return Case(
        When(distance_km__lt=5, then=_f(5)),
        When(distance_km__lt=50, then=Round(d / _f(5)) * _f(5)),
        When(distance_km__lt=200, then=Round(d / _f(10)) * _f(10)),
        default=Round(d / _f(50)) * _f(50),
        output_field=FloatField(),
    )


def band_distance(radius):
    """`disclosure.band_distance`: the middle of the band's range within the radius. The range is
    written on the distance itself (the same steps as `band_km`), which keeps the SQL shallow."""
    d = F("distance_km")

    def step(size):  # the band of a distance in steps of `size` km
        return Round(d / _f(size)) * _f(size)

    lo = Case(
        When(distance_km__lt=7.5, then=_f(0)),
        When(distance_km__lt=47.5, then=step(5) - _f(2.5)),
        When(distance_km__lt=55, then=_f(47.5)),
        When(distance_km__lt=195, then=step(10) - _f(5)),
        When(distance_km__lt=225, then=_f(195)),
        default=step(50) - _f(25), output_field=FloatField(),
    )
    hi = Case(
        When(distance_km__lt=7.5, then=_f(7.5)),
        When(distance_km__lt=47.5, then=step(5) + _f(2.5)),
        When(distance_km__lt=55, then=_f(55)),
        When(distance_km__lt=195, then=step(10) + _f(5)),
        When(distance_km__lt=225, then=_f(225)),
        default=step(50) + _f(25), output_field=FloatField(),
    )
    return (lo + Least(hi, Greatest(lo, radius))) / _f(2)


def _by_class(table: dict[str, float], default: float):
    """A number per value class of the anchor stream (the offer's, else the need's); `default` for an
    unknown class, and the 'medium' entry for a category without one (as the engine adapter reads it)."""
    whens = []
    for key, number in sorted(table.items()):
        keys = (key, "") if key == "medium" else (key,)
        whens.append(When(Q(offer__isnull=False, offer__category__value_class__in=keys)
                          | Q(offer__isnull=True, need__category__value_class__in=keys), then=_f(number)))
    return Case(*whens, default=_f(default), output_field=FloatField())


def _radius():
    """`engine.scoring.pair_radius`: the smaller stream limit given, else the anchor's class radius."""
    o, n = F("offer__max_transport_km"), F("need__max_transport_km")
    cfg = _CONFIG
    by_class = _by_class(dict(cfg.radius_km), cfg.default_radius_km)
    return Case(
        When(offer__max_transport_km__isnull=False, need__max_transport_km__isnull=False, then=Least(o, n)),
        When(offer__max_transport_km__isnull=False, then=o),
        When(need__max_transport_km__isnull=False, then=n),
        default=by_class,
        output_field=FloatField(),
    )


def _pct(expr):
    # The parts are in [0, 1] by construction (the stored ones too): rounding is all `_pct` does here.
    # Kept shallow: SQLite's parser refuses deeply nested expressions ("parser stack overflow").
    return Round(expr, 2)


def _pow(expr, weight: float):
    return expr if weight == 1 else Power(expr, _f(weight))


def shared_score():
    """`disclosure.shared_parts(...).total` in SQL."""
    cfg = _CONFIG
    radius = _radius()
    at = band_distance(radius)
    dist = Case(
        When(Q(offer__max_transport_km__lte=0) | Q(need__max_transport_km__lte=0), then=_f(1)),
        default=Greatest(_f(MIN_SHARED_DISTANCE_PART), _f(1) - _pow(at / radius, cfg.distance_decay_power)),
        output_field=FloatField(),
    )
    qo, qn = F("offer__quantity_yearly"), F("need__quantity_yearly")
    fit = Case(
        When(Q(prospective=False, offer__quantity_yearly__gt=0, need__quantity_yearly__gt=0),
             then=_f(cfg.coverage_weight) * Least(_f(1), qo / qn) + _f(1 - cfg.coverage_weight) * Least(_f(1), qn / qo)),
        default=_f(cfg.unknown_volume_fit),
        output_field=FloatField(),
    )
    value = _by_class(dict(cfg.default_value_eur_per_unit), cfg.default_value_for("medium"))
    transport = _f(cfg.handling_eur_per_t) + _f(cfg.transport_eur_per_tkm * cfg.road_circuity) * at
    ratio = value / (value + transport)
    material = Q(offer__isnull=False, offer__kind=StreamKind.MATERIAL) | Q(offer__isnull=True, need__kind=StreamKind.MATERIAL)
    vv = Case(When(material, then=_f(cfg.volume_fit_share) * fit + _f(1 - cfg.volume_fit_share) * ratio),
              default=fit, output_field=FloatField())
    c, d, v, a = _pct(F("compatibility")), _pct(dist), _pct(vv), _pct(F("availability_part"))
    total = (_pow(c, cfg.w_compatibility) * _pow(d, cfg.w_distance)
             * _pow(v, cfg.w_volume_value) * _pow(a, cfg.w_availability))
    penalty = Case(When(prospective=True, then=_f(cfg.prospective_penalty)), default=_f(1), output_field=FloatField())
    return _pct(total * penalty)


def ordering(user, terms: list[str]) -> list:
    """`order_by` terms for `user`: the engine's score and distance for `exact_order` users, the shared
    score and the band for everyone else (the primary key still breaks ties)."""
    if exact_order(user):
        return terms
    out = []
    for term in terms:
        desc = term.startswith("-")
        name = term.lstrip("-")
        expr = {"score": shared_score, "distance_km": band_km}.get(name)
        if expr is None:
            out.append(term)
        else:
            e = expr()
            out.append(e.desc() if desc else e.asc())
    return out
