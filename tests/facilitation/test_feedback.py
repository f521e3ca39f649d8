"""Rejections feed back into matching (the penalty rule, visible to staff); regulatory flags; and
alternative partners with the single-partner nudge."""

from __future__ import annotations

import pytest

from facilitation.penalties import (
    REJECTION_PENALTY_FACTOR,
    engine_pair_penalties,
    rejection_penalty_rules,
)
from facilitation.selectors import regulatory_flags
from matching.models import Match
from matching.selectors import match_queryset_unscoped, stream_redundancy
from matching.services import matching_run_for_stream
from streams.models import EwcCode
from tests.facilitation.conftest import move, reveal
from tests.factories import StreamFactory

pytestmark = [pytest.mark.django_db]


def _reject_all(world, facilitator, facilitator_y, reason):
    move(world.ab, facilitator, "reject", reason_code=reason)
    move(world.ac, facilitator, "reject", reason_code=reason)
    move(world.yz, facilitator_y, "reject", reason_code=reason)


def test_two_rejections_are_no_rule_three_for_the_same_reason_are(world, facilitator, facilitator_y):
    move(world.ab, facilitator, "reject", reason_code="quality")
    move(world.ac, facilitator, "reject", reason_code="quality")
    move(world.yz, facilitator_y, "reject", reason_code="not_compatible")
    assert rejection_penalty_rules() == []
    assert engine_pair_penalties() == ()


def test_reasons_that_say_nothing_about_the_pair_make_no_rule(world, facilitator, facilitator_y):
    _reject_all(world, facilitator, facilitator_y, "distance")
    assert rejection_penalty_rules() == []


def test_repeated_rejections_score_the_pair_down_in_the_next_run_and_staff_see_the_rule(
        world, facilitator, facilitator_y, staff, web, company_b):
    new_need = StreamFactory(site=company_b.sites.first(), direction="need", category=world.b_need.category,
                             title="More whey", quantity=300)
    matching_run_for_stream(stream=new_need)
    before = Match.objects.get(offer=world.a_offer, need=new_need).score
    _reject_all(world, facilitator, facilitator_y, "quality")
    [rule] = rejection_penalty_rules()
    assert (rule.offer_category, rule.need_category, rule.rejections) == ("MAT.FOOD.WHEY", "MAT.FOOD.WHEY", 3)
    matching_run_for_stream(stream=new_need)
    after = Match.objects.get(offer=world.a_offer, need=new_need)
    assert after.score == pytest.approx(before * REJECTION_PENALTY_FACTOR, rel=1e-6)
    assert any("rejected this category pair repeatedly" in r for r in after.reasons)
    html = web(staff).get("/matches/penalties/").content.decode()
    assert "MAT.FOOD.WHEY" in html and "Quality or contaminants" in html and ">3<" in html


def test_flags_name_hazardous_and_mirror_codes_the_status_and_a_border(world, company_a, company_y):
    offer = world.a_offer
    offer.regulatory_status = "waste"
    offer.save()
    hazardous = EwcCode.objects.filter(is_hazardous=True).first()
    mirror = EwcCode.objects.filter(is_mirror=True, is_hazardous=False).first()
    offer.ewc_codes.set([hazardous, mirror])
    match = match_queryset_unscoped().get(pk=world.ab.pk)
    codes = [f.code for f in regulatory_flags(match)]
    assert sorted(codes) == ["hazardous", "mirror", "status_waste"]
    assert "cross_border" not in codes  # both Swedish
    Match.objects.filter(pk=world.ab.pk).update(target_company=company_y)
    crossed = match_queryset_unscoped().get(pk=world.ab.pk)
    flags = {f.code: f.text for f in regulatory_flags(crossed)}
    assert "SE" in flags["cross_border"] and "FI" in flags["cross_border"]


def test_flags_show_on_the_match_page(web, world, member):
    world.a_offer.regulatory_status = "by_product"
    world.a_offer.save()
    html = web(member).get(f"/matches/{world.ab.pk}/").content.decode()
    assert 'data-flag="status_by_product"' in html and "not a ruling" in html


def test_flags_are_in_the_match_detail_of_the_api(api, world, member):
    world.a_offer.regulatory_status = "end_of_waste"
    world.a_offer.save()
    flags = api(member).get(f"/api/v1/matches/{world.ab.pk}/").json()["regulatory_flags"]
    assert [f["code"] for f in flags] == ["status_end_of_waste"]


def test_alternatives_count_distinct_viable_partners_and_a_single_committed_partner_is_nudged(
        web, world, facilitator, member, other_member):
    red = stream_redundancy([world.a_offer.pk])[world.a_offer.pk]
    assert red.alternatives == 2 and red.committed == 0 and not red.nudge  # B and C
    reveal(world.ab, facilitator, member, other_member)
    move(world.ab, facilitator, "negotiate")
    move(world.ac, facilitator, "reject", reason_code="volume")
    red = stream_redundancy([world.a_offer.pk])[world.a_offer.pk]
    assert red.alternatives == 1 and red.committed == 1 and red.nudge
    html = web(member).get("/matches/").content.decode()
    assert "2-3 partners on either end" in html
    html = web(member).get(f"/streams/{world.a_offer.pk}/").content.decode()
    assert "1 viable partner company for this stream" in html and "2-3 partners on either end" in html
    other = web(other_member).get(f"/streams/{world.a_offer.pk}/").content.decode()
    assert "viable partner" not in other  # only the stream's own company (and facilitators) see it
