"""The list queries rewritten for speed select exactly what their join-based definitions select:
company and stream visibility, the stream filters that became subqueries (region, category, `q`),
and the hashed form of the match region scope. Every persona, on one small world with public,
anonymous, private, paused and excluded listings in two regions."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Q

from companies.models import Company
from companies.services import exclusion_add
from matching.models import Match, in_regions_q
from streams.filtersets import StreamFilterSet
from streams.models import Stream
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    RegionRoleFactory,
    SiteFactory,
    StreamFactory,
    UserFactory,
    leaf_category,
    region,
    verified_peers,
)
from tests.matching.test_region_scope import joined_q
from tests.matching.test_region_scope import matches as matches  # noqa: F401, PLC0414 (fixture)

pytestmark = pytest.mark.django_db

PERSONAS = ("anon", "member", "other_member", "facilitator", "facilitator_y", "authority", "staff", "both")


@pytest.fixture
def world(company_a, company_b, company_y, member, other_member):
    """Listings of every status and visibility in SE22 and FI1B; company B excludes company A; a
    company with sites in both regions; one listing whose words are only in its category's name."""
    both = CompanyFactory(name="Both AB", country="SE")
    SiteFactory(company=both, name="Both Malmö", region=region("SE22"))
    both_fi = SiteFactory(company=both, name="Both Vantaa", region=region("FI1B"), latitude=60.2, longitude=25.0)
    silent = CompanyFactory(name="Silent Oy", country="FI")
    SiteFactory(company=silent, region=region("FI1B"), latitude=60.3, longitude=25.1)
    a, b, y = (c.sites.first() for c in (company_a, company_b, company_y))
    cardboard = leaf_category(code="MAT.PAPER.CARDBOARD")
    wood = leaf_category(code="MAT.WOOD.SAWDUST")
    StreamFactory(site=a, title="Whey from cheese", visibility="public")
    StreamFactory(site=a, title="Private sludge", visibility="private", direction="need")
    StreamFactory(site=b, title="Sawdust", category=wood, visibility="public")
    StreamFactory(site=b, title="Bark", category=wood, status="paused", visibility="public")
    StreamFactory(site=y, title="Boxes", category=cardboard, visibility="anonymous", description="clean")
    StreamFactory(site=y, title="Old stock", status="draft", visibility="public", description="WHEY powder")
    StreamFactory(site=both_fi, title="Heat", kind="energy", unit="MWh", visibility="public", direction="need")
    StreamFactory(site=both_fi, title="Secret heat", kind="energy", unit="MWh", visibility="private")
    exclusion_add(company=company_b, actor=None, excluded_company=company_a)
    MembershipFactory(user=UserFactory(username="boris"), company=both)
    # Verified companies that list nothing, so every anonymous label here keeps its region and the
    # region filter's subquery is compared on the same rows as the join (the label rule itself is
    # tested in tests/security/reidentification/test_label_attacks.py).
    for code in ("SE22", "FI1B"):
        verified_peers("20.11", code)


@pytest.fixture
def users(request, world):
    out = {p: request.getfixturevalue(p) for p in PERSONAS if p != "both"}
    out["both"] = get_user_model().objects.get(username="boris")
    # A facilitator who is also a member of a company.
    fac_member = MembershipFactory(user=UserFactory(username="fred"), company=Company.objects.get(name="Both AB")).user
    RegionRoleFactory(user=fac_member, region=region("SE22"), role="facilitator")
    out["facilitator_member"] = fac_member
    return out


def _joined_companies(user) -> set[int]:
    """`Company.objects.visible_to` as it was, with joins to sites and streams."""
    from companies.models import CompetitorExclusion
    from companies.roles import roles_for

    roles = roles_for(user)
    if not roles.authenticated:
        return set()
    if roles.is_staff:
        return set(Company.objects.values_list("pk", flat=True))
    public = Q(streams__status="active", streams__visibility="public")
    if roles.company_ids:
        public &= ~Q(pk__in=CompetitorExclusion.objects.hiding_from(roles.company_ids))
    cond = Q(pk__in=roles.company_ids) | Q(sites__region_id__in=roles.facilitator_region_ids)
    return set(Company.objects.filter(cond | public).values_list("pk", flat=True))


def _joined_streams(user) -> set[int]:
    """`Stream.objects.visible_to` as it was: the site join even without facilitated regions."""
    from companies.models import CompetitorExclusion
    from companies.roles import roles_for

    roles = roles_for(user)
    if not roles.authenticated:
        return set()
    if roles.is_staff:
        return set(Stream.objects.values_list("pk", flat=True))
    listed = Q(status="active", visibility__in=("public", "anonymous"))
    if roles.company_ids:
        listed &= ~Q(company_id__in=CompetitorExclusion.objects.hiding_from(roles.company_ids))
    cond = Q(company_id__in=roles.company_ids) | Q(site__region_id__in=roles.facilitator_region_ids) | listed
    return set(Stream.objects.filter(cond).values_list("pk", flat=True))


def test_company_visibility_equals_the_joined_definition(users):
    for persona, user in users.items():
        got = list(Company.objects.visible_to(user).values_list("pk", flat=True))
        assert len(got) == len(set(got)), persona  # subqueries, no duplicate rows
        assert set(got) == _joined_companies(user), persona
    assert Company.objects.get(name="Beta Sawmill AB").pk not in _joined_companies(users["member"])  # excluded
    assert Company.objects.get(name="Silent Oy").pk in _joined_companies(users["facilitator_y"])


def test_stream_visibility_equals_the_joined_definition(users):
    for persona, user in users.items():
        got = list(Stream.objects.visible_to(user).values_list("pk", flat=True))
        assert len(got) == len(set(got)), persona
        assert set(got) == _joined_streams(user), persona


JOINED_FILTERS = {
    "region": lambda v: Q(site__region__code=v),
    "category": lambda v: Q(category__code=v) | Q(category__code__startswith=f"{v}."),
    "q": lambda v: Q(title__icontains=v) | Q(description__icontains=v) | Q(category__name__icontains=v),
}
VALUES = {
    "region": ("SE22", "FI1B"),
    "category": ("MAT.WOOD", "MAT.PAPER", "MAT.PAPER.CARDBOARD", "ENE", "EXP"),
    "q": ("whey", "HEAT", "cardboard", "sawdust", "nothing like it"),
}


@pytest.mark.parametrize("name", sorted(JOINED_FILTERS))
def test_stream_filters_equal_their_joined_definitions(users, name):
    seen = set()
    for persona, user in users.items():
        visible = Stream.objects.visible_to(user)
        for value in VALUES[name]:
            got = list(StreamFilterSet({name: value}, queryset=visible).qs.values_list("pk", flat=True))
            expected = set(visible.filter(JOINED_FILTERS[name](value)).values_list("pk", flat=True))
            assert len(got) == len(set(got)) and set(got) == expected, (persona, value)
            seen |= expected
    assert seen  # the world covers each filter


def test_stream_filters_combine_like_the_joined_ones(users):
    filters = {"region": "SE22", "q": "sawdust", "category": "MAT.WOOD", "status": "active"}
    for persona, user in users.items():
        visible = Stream.objects.visible_to(user)
        got = set(StreamFilterSet(filters, queryset=visible).qs.values_list("pk", flat=True))
        joined = JOINED_FILTERS["region"]("SE22") & JOINED_FILTERS["q"]("sawdust") & JOINED_FILTERS["category"](
            "MAT.WOOD"
        )
        assert got == set(visible.filter(joined, status="active").values_list("pk", flat=True)), persona


@pytest.mark.parametrize("codes", [["SE22"], ["FI1B"], ["SE22", "FI1B"]])
@pytest.mark.parametrize("prospective_sources", [False, True])
def test_hashed_region_scope_equals_the_joined_definition(matches, codes, prospective_sources):  # noqa: F811
    region_ids = [region(code).pk for code in codes]
    expected = set(Match.objects.filter(joined_q(region_ids, prospective_sources)).values_list("pk", flat=True))
    for hashed in (False, True):
        got = list(
            Match.objects.filter(in_regions_q(region_ids, prospective_sources=prospective_sources, hashed=hashed))
            .values_list("pk", flat=True)
        )
        assert len(got) == len(set(got)) and set(got) == expected, hashed
