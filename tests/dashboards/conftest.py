"""Fixtures of the dashboard tests: a seeded demo region with matches in every status, realised
exchanges, and a planted category listed by exactly two companies (the suppression probe).

The browser fixtures come from tests/browser_support.py through tests/conftest.py.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from companies.models import Company
from facilitation.models import RealisedExchange
from matching.choices import MatchStatus, RunKind, RunStatus
from matching.models import Match, MatchingRun
from streams.choices import Direction, StreamKind, StreamStatus, Visibility
from streams.models import ResourceCategory, Stream
from tests.factories import CompanyFactory, SiteFactory, StreamFactory, nace, region

# The planted category: offered in SE22 by exactly two companies, with a volume no other figure has.
PROBE_CATEGORY = "MAT.WOOD.SAWDUST"
PROBE_VOLUMES = (4321.5, 3456.25)  # t/year each; their sum 7777.75 must never be published
PROBE_SUM = sum(PROBE_VOLUMES)
SEEDED_STREAMS = 260


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    from dashboards.selectors import forget_cached

    settings.DASHBOARD_VERSION_MEMO_SECONDS = 0  # a test sees its own new rows at once
    cache.clear()
    forget_cached()
    yield
    cache.clear()
    forget_cached()


def establish(companies=None, *, days: int = 400) -> None:
    """Make `companies` (default: all) count toward k: verified and registered `days` ago
    (`suppression.counting_companies`). Companies made by the factories have just signed up."""
    qs = Company.objects.all() if companies is None else Company.objects.filter(pk__in=[c.pk for c in companies])
    then = timezone.now() - timedelta(days=days)
    qs.update(verified_at=then, created_at=then)


def _seed_demo(streams: int) -> None:
    from demo import services as demo

    demo.seed(streams=streams, seed=7)


def _run_matching() -> None:
    from matching.services import matching_run_full

    run = MatchingRun.objects.create(kind=RunKind.FULL, shards_total=1, status=RunStatus.RUNNING)
    matching_run_full(run=run)


STATUS_WEIGHTS = {
    MatchStatus.SUGGESTED: 40, MatchStatus.UNDER_REVIEW: 10, MatchStatus.APPROVED: 8, MatchStatus.INTRODUCED: 8,
    MatchStatus.NEGOTIATING: 6, MatchStatus.IMPLEMENTED: 12, MatchStatus.REJECTED: 6, MatchStatus.DECLINED: 5,
    MatchStatus.WITHDRAWN: 5,
}


def _shuffle_statuses(rng: random.Random) -> None:
    """Move matches along the funnel at random and record realised exchanges for most implemented
    ones; spread creation dates over the last 18 months so trends have shape."""
    statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
    now = timezone.now()
    for match in Match.objects.order_by("pk"):
        match.status = rng.choices(statuses, weights)[0]
        match.save(update_fields=["status"])
        Match.objects.filter(pk=match.pk).update(created_at=now - timedelta(days=rng.randrange(0, 540)))
        if match.status == MatchStatus.IMPLEMENTED and rng.random() < 0.8:
            RealisedExchange.objects.create(
                match=match, started_on=date.today() - timedelta(days=rng.randrange(0, 500)),
                quantity_yearly=max(1.0, match.exchangeable_yearly * rng.uniform(0.5, 1.0)),
                unit=match.unit or "t", co2e_t=round(rng.uniform(0, 300), 2), diverted_t=round(rng.uniform(0, 900), 2),
                eur_provider=round(rng.uniform(-2000, 40000), 2), eur_receiver=round(rng.uniform(0, 30000), 2),
                water_m3=round(rng.uniform(0, 5000), 1) if match.unit == "m3" else 0.0,
                energy_mwh=round(rng.uniform(0, 2000), 1) if match.unit == "MWh" else 0.0,
            )
    for stream in Stream.objects.order_by("pk"):
        Stream.objects.filter(pk=stream.pk).update(created_at=now - timedelta(days=rng.randrange(0, 540)))


def plant_probe(*, region_code: str = "SE22") -> list[Stream]:
    """Two companies in `region_code` offer the probe category; nobody else lists it there."""
    category = ResourceCategory.objects.get(code=PROBE_CATEGORY)
    Stream.objects.filter(category=category, site__region__code=region_code).delete()
    streams = []
    for i, qty in enumerate(PROBE_VOLUMES):
        company = CompanyFactory(name=f"Probe Sawmill {i} AB", nace=nace("16.11"), employees=30 + i)
        site = SiteFactory(company=company, name=f"Probe site {i}", latitude=55.52 + i * 0.01,
                           longitude=13.31 + i * 0.01, region=region(region_code))
        streams.append(StreamFactory(
            site=site, direction=Direction.OFFER, kind=StreamKind.MATERIAL, category=category, quantity=qty,
            unit="t", period="year", status=StreamStatus.ACTIVE, visibility=Visibility.PRIVATE,
            title=f"Probe sawdust {i}",
        ))
    return streams


@pytest.fixture
def dataset(db):
    """The seeded demo (SEEDED_STREAMS streams over every region), matched, with a shuffled funnel,
    realised exchanges, and the planted two-company category in SE22."""
    _seed_demo(SEEDED_STREAMS)
    # A denser SE22 so that most of its figures pass the threshold.
    rng = random.Random(11)
    extra_companies = []
    for i in range(12):
        company = CompanyFactory(name=f"Skåne Extra {i} AB", nace=nace(rng.choice(("10.51", "16.11", "23.51", "35.30"))),
                                 employees=rng.choice((12, 45, 180, 400)))
        site = SiteFactory(company=company, name=f"Extra {i}", latitude=55.6 + rng.uniform(-0.3, 0.4),
                           longitude=13.1 + rng.uniform(-0.4, 0.8), region=region("SE22"))
        extra_companies.append(company)
        for kind, unit in ((StreamKind.MATERIAL, "t"), (StreamKind.ENERGY, "MWh"), (StreamKind.WATER, "m3")):
            category = ResourceCategory.objects.filter(kind=kind, is_leaf=True).exclude(code=PROBE_CATEGORY).order_by(
                "code")[rng.randrange(3)]
            StreamFactory(site=site, kind=kind, unit=unit, category=category, quantity=rng.randrange(50, 5000),
                          direction=rng.choice((Direction.OFFER, Direction.NEED)),
                          visibility=rng.choice((Visibility.PUBLIC, Visibility.ANONYMOUS, Visibility.PRIVATE)))
    probe = plant_probe()
    _run_matching()
    _shuffle_statuses(random.Random(5))
    # The probe is unmatched supply whatever statuses the shuffle gave its matches (it must appear in
    # the supply table too, where its figures are suppressed as well).
    Match.objects.filter(offer__in=probe).delete()
    plant_fly_ash()
    establish()  # every company of the dataset has been on the platform, verified, for a year
    return {"extra_companies": extra_companies}


def plant_fly_ash(*, region_code: str = "SE22") -> list[Stream]:
    """Six power plants offer fly ash after the matching run: unmatched supply with List-of-Waste
    code 10 01 02, which the sector priors say cement and concrete makers (NACE 23) take."""
    from streams.models import EwcCode

    ash = EwcCode.objects.get(code="100102")
    streams = []
    for i in range(6):
        company = CompanyFactory(name=f"Ash Power {i} AB", nace=nace("35.30"), employees=60)
        site = SiteFactory(company=company, name=f"Ash plant {i}", latitude=55.9 + i * 0.1, longitude=13.6 + i * 0.1,
                           region=region(region_code))
        stream = StreamFactory(site=site, category=ash.category, quantity=20000 + 100 * i,
                               title=f"Fly ash {i}")
        stream.ewc_codes.add(ash)
        streams.append(stream)
    return streams
