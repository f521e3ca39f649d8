"""Builders and random generators for the engine tests (plain Python, no Django)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from matching.engine import (
    CompanySpec,
    EngineConfig,
    StreamSpec,
    SubstitutionRule,
    learn_priors,
    load_maestri_exchanges,
    load_prior_rules,
)
from matching.engine.types import FORMS

ROOT = Path(__file__).resolve().parents[3]
MAESTRI_CSV = ROOT / "matching" / "engine" / "data" / "maestri_is_exchanges.csv"

MALMO = (55.605, 13.003)

FLY_ASH = ("MAT.MIN.ASH.FLY", ("MAT.MIN.ASH", "MAT.MIN", "MAT"))
ASH = ("MAT.MIN.ASH", ("MAT.MIN", "MAT"))
FGD = ("MAT.MIN.GYPSUM.FGD", ("MAT.MIN.GYPSUM", "MAT.MIN", "MAT"))
GYPSUM = ("MAT.MIN.GYPSUM", ("MAT.MIN", "MAT"))
SAWDUST = ("MAT.WOOD.SAWDUST", ("MAT.WOOD", "MAT"))
WOOD = ("MAT.WOOD", ("MAT",))
FOOD = ("MAT.BIO.FOOD", ("MAT.BIO", "MAT"))
HEAT = ("ENE.HEAT.LOW", ("ENE.HEAT", "ENE"))
WATER = ("WAT.PROCESS", ("WAT",))

RULES = (
    SubstitutionRule(
        "MAT.MIN.GYPSUM.FGD", "MAT.MIN.GYPSUM", 0.95, "Eurogypsum", "FGD gypsum can replace natural gypsum"
    ),
    SubstitutionRule("MAT.WOOD", "MAT.BIO.FOOD", 0.3, "assumption: test rule"),
)


def offer(**kw) -> StreamSpec:
    """A fly-ash offer in Malmö unless told otherwise."""
    cat, anc = kw.pop("cat", FLY_ASH)
    base = {
        "id": 1,
        "company_id": 10,
        "direction": "offer",
        "kind": "material",
        "category": cat,
        "category_ancestors": anc,
        "ewc_codes": ("100102",),
        "quantity_yearly": 800.0,
        "lat": MALMO[0],
        "lon": MALMO[1],
        "value_class": "bulk_low",
        "nace_division": "35",
    }
    base.update(kw)
    return StreamSpec(**base)


def need(**kw) -> StreamSpec:
    """A need for fly ash 0.1 degree north of Malmö (about 11 km) unless told otherwise."""
    cat, anc = kw.pop("cat", FLY_ASH)
    base = {
        "id": 2,
        "company_id": 11,
        "direction": "need",
        "kind": "material",
        "category": cat,
        "category_ancestors": anc,
        "ewc_codes": ("100102",),
        "quantity_yearly": 1000.0,
        "lat": MALMO[0] + 0.1,
        "lon": MALMO[1],
        "value_class": "bulk_low",
        "nace_division": "23",
    }
    base.update(kw)
    return StreamSpec(**base)


def moved(s: StreamSpec, dlat: float = 0.0, dlon: float = 0.0) -> StreamSpec:
    return dataclasses.replace(s, lat=s.lat + dlat, lon=s.lon + dlon)


# --- random worlds ----------------------------------------------------------------------------
_CATS = [FLY_ASH, ASH, FGD, GYPSUM, SAWDUST, WOOD, FOOD]
_EWC = ["100102", "100101", "100105", "030105", "030101", "020304", "020399", "100202"]
_DIVS = ["10", "23", "35", "20", "16", "01", "24"]


def random_stream(rng: random.Random, sid: int, direction: str, n_companies: int, spots=None) -> StreamSpec:
    kind = rng.choice(["material"] * 5 + ["energy", "water"])
    if kind == "material":
        cat, anc = rng.choice(_CATS)
        ewc = tuple(rng.sample(_EWC, rng.randint(0, 2)))
        vc = rng.choice(["bulk_low", "medium", "high"])
    elif kind == "energy":
        cat, anc = rng.choice([HEAT, ("ENE.HEAT", ("ENE",))])
        ewc, vc = (), rng.choice(["heat", "steam"])
    else:
        (cat, anc), ewc, vc = WATER, (), "water"
    if spots:
        lat, lon = rng.choice(spots)
    else:
        lat, lon = 55 + rng.uniform(-0.8, 0.8), 13 + rng.uniform(-1.2, 1.2)
    return StreamSpec(
        id=sid,
        company_id=rng.randrange(n_companies),
        direction=direction,
        kind=kind,
        category=cat,
        category_ancestors=anc,
        ewc_codes=ewc,
        quantity_yearly=rng.choice([0.0, rng.uniform(1, 1000)]),
        lat=lat,
        lon=lon,
        months=rng.choice([0, 0xFFF, rng.randrange(4096)]),
        temperature_c=rng.choice([None, rng.uniform(20, 120)]),
        water_quality=rng.choice([None, 1, 2, 3]),
        form=rng.choice([None, *FORMS]),
        hazardous=rng.random() < 0.2,
        accepts_hazardous=rng.random() < 0.5,
        price_eur_per_unit=rng.choice([None, rng.uniform(-20, 50)]),
        disposal_cost_eur_per_unit=rng.choice([None, rng.uniform(0, 80)]),
        max_transport_km=rng.choice([None, None, rng.uniform(1, 120)]),
        value_class=vc,
        nace_division=rng.choice(_DIVS),
        disposal_route=rng.choice([None, "landfill", "incineration", "recycling"]),
        excluded_company_ids=frozenset(rng.sample(range(n_companies), rng.choice([0, 0, 0, 1]))),
        excluded_nace=frozenset(rng.choice([(), (), (), (), ("35",)])),
    )


def random_world(seed: int, n_streams: int = 60, n_companies: int = 15, shared_spots: bool = False):
    """Random offers, needs and companies around southern Sweden (deterministic for a seed)."""
    rng = random.Random(seed)
    spots = (
        [(55 + rng.uniform(-0.5, 0.5), 13 + rng.uniform(-0.5, 0.5)) for _ in range(5)]
        if shared_spots
        else None
    )
    streams = [
        random_stream(rng, i, rng.choice(["offer", "need"]), n_companies, spots) for i in range(n_streams)
    ]
    companies = []
    for c in range(n_companies):
        div = rng.choice(_DIVS)
        lat, lon = rng.choice(spots) if spots else (55 + rng.uniform(-0.8, 0.8), 13 + rng.uniform(-1.2, 1.2))
        companies.append(
            CompanySpec(
                id=c,
                nace_division=div,
                nace_class=div + rng.choice(["11", "51", "61", "13"]),
                lat=lat,
                lon=lon,
                excluded_company_ids=frozenset(rng.sample(range(n_companies), rng.choice([0, 0, 1]))),
                excluded_nace=frozenset(rng.choice([(), (), (), ("10",)])),
            )
        )
    offers = [s for s in streams if s.direction == "offer"]
    needs = [s for s in streams if s.direction == "need"]
    return offers, needs, companies


_PRIORS = None


def maestri_priors():
    """Priors learned from the shipped MAESTRI copy plus the curated rules (built once)."""
    global _PRIORS
    if _PRIORS is None:
        _PRIORS = learn_priors(load_maestri_exchanges(MAESTRI_CSV), rules=load_prior_rules())
    return _PRIORS


TEST_CONFIG = EngineConfig(min_score=0.0, top_k=3, prospective_top_k=2)


def key_of(c):
    return (c.offer_id, c.need_id, c.source_company_id, c.target_company_id, c.prospective)
