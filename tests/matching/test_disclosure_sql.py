"""The SQL twin of the shared figures (matching/disclosure_sql.py) equals the Python
(matching/engine/disclosure.py via matching/presentation.py) on engine-made matches, and a company
member's list is ordered and filtered by it."""

import pytest

from matching import disclosure_sql
from matching.models import Match
from matching.presentation import present_match
from matching.selectors import match_list, match_queryset_unscoped
from matching.services import matching_run_for_stream
from streams.choices import StreamKind
from tests.factories import SiteFactory, StreamFactory, leaf_category, region

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(company_a, company_b):
    """Offers of B at three distances, needs of A of every kind, quantities and limits."""
    a_site = company_a.sites.first()
    b_sites = [company_b.sites.first()] + [
        SiteFactory(company=company_b, name=f"B{i}", latitude=a_site.latitude + dy, longitude=a_site.longitude + dx,
                    region=region("SE22"))
        for i, (dy, dx) in enumerate(((0.02, 0.01), (0.4, -0.3)))
    ]
    material = leaf_category("material")
    for i, site in enumerate(b_sites):
        StreamFactory(site=site, direction="offer", category=material, quantity=100 * (i + 1), unit="t",
                      max_transport_km=(None, 80, None)[i])
        StreamFactory(site=site, direction="offer", kind=StreamKind.ENERGY, unit="MWh",
                      category=leaf_category(StreamKind.ENERGY), quantity=500)
    needs = [
        StreamFactory(site=a_site, direction="need", category=material, quantity=q, unit="t", max_transport_km=m)
        for q, m in ((50, None), (300, 150), (1000, None))
    ] + [StreamFactory(site=a_site, direction="need", kind=StreamKind.ENERGY, unit="MWh",
                       category=leaf_category(StreamKind.ENERGY), quantity=200)]
    for need in needs:
        matching_run_for_stream(stream=need)
    return needs


def test_the_sql_shared_score_equals_the_shown_one_on_every_match(many, member):
    rows = list(match_queryset_unscoped(Match.objects.all()).annotate(shown=disclosure_sql.shared_score(),
                                                                      band=disclosure_sql.band_km()))
    assert len(rows) >= 6
    for m in rows:
        view = present_match(m, user=member)
        assert not view.full
        assert m.shown == pytest.approx(view.shared.total, abs=0.0101), (m.pk, m.shown, view.shared)
        assert m.band == view.approx_distance_km


def test_a_members_list_is_ordered_and_filtered_by_the_score_it_is_shown(many, member, facilitator):
    views = [present_match(m, user=member) for m in match_list(user=member, filters={}).qs]
    shown = [v.score_percent for v in views]
    assert shown == sorted(shown, reverse=True) and len(shown) >= 6
    cut = sorted(shown)[len(shown) // 2] / 100
    kept = [present_match(m, user=member).score_percent for m in match_list(user=member, filters={"min_score": cut}).qs]
    assert kept and all(s >= round(cut * 100) - 1 for s in kept)
    assert len(kept) >= sum(1 for s in shown if s >= round(cut * 100) + 1)
    # A facilitator of the region works the list by the engine's score.
    exact = [m.score for m in match_list(user=facilitator, filters={}).qs]
    assert exact == sorted(exact, reverse=True)
