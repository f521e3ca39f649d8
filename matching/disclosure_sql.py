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
from django.db.models.functions import Cast, Greatest, Least, Power, Round

from companies.roles import roles_for
from matching.engine.config import EngineConfig
from matching.engine.disclosure import MIN_SHARED_DISTANCE_PART
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
    d = Cast("distance_km", FloatField())
    return Case(
        When(distance_km__lt=5, then=_f(5)),
        When(distance_km__lt=50, then=Round(d / _f(5)) * _f(5)),
        When(distance_km__lt=200, then=Round(d / _f(10)) * _f(10)),
        default=Round(d / _f(50)) * _f(50),
        output_field=FloatField(),
    )


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
    return Round(Least(_f(1), Greatest(_f(0), expr)), 2)


def shared_score():
    """`disclosure.shared_parts(...).total` in SQL."""
    cfg = _CONFIG
    band = band_km()
    radius = _radius()
    dist = Case(
        When(Q(offer__max_transport_km__lte=0) | Q(need__max_transport_km__lte=0), then=_f(1)),
        default=Greatest(_f(MIN_SHARED_DISTANCE_PART), _f(1) - Power(band / radius, _f(cfg.distance_decay_power))),
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
    transport = _f(cfg.handling_eur_per_t) + _f(cfg.transport_eur_per_tkm * cfg.road_circuity) * band
    ratio = value / (value + transport)
    material = Q(offer__isnull=False, offer__kind=StreamKind.MATERIAL) | Q(offer__isnull=True, need__kind=StreamKind.MATERIAL)
    vv = Case(When(material, then=_f(cfg.volume_fit_share) * fit + _f(1 - cfg.volume_fit_share) * ratio),
              default=fit, output_field=FloatField())
    c, d, v, a = _pct(F("compatibility")), _pct(dist), _pct(vv), _pct(F("availability_part"))
    total = (Power(c, _f(cfg.w_compatibility)) * Power(d, _f(cfg.w_distance))
             * Power(v, _f(cfg.w_volume_value)) * Power(a, _f(cfg.w_availability)))
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
