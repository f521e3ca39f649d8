"""What the schemathesis runs share: the WSGI app, the checks every answer must pass, and the fuzzed
world (two companies in SE22, their members, a facilitator, an authority, streams and a match) inside
one transaction that is rolled back with the test module that uses it."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from rest_framework.authtoken.models import Token

from companies.choices import MembershipRole
from facilitation.transitions import match_transition
from streams.choices import Direction, Visibility
from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    RegionRoleFactory,
    SiteFactory,
    StreamFactory,
    UserFactory,
    region,
)
from tests.security.world import make_match

APP = get_wsgi_application()
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture(scope="module")
def wsgi_in_test_transaction():
    """Django's WSGI handler closes the connection after each request when autocommit is off, which
    would end the test's transaction; Django's own test client unhooks the same signal."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker, wsgi_in_test_transaction):
    """Two companies in SE22 with members, a facilitator, streams, a suggested and a revealed match; ids the fuzzer may
    aim path parameters at (the personas' own objects and the other company's)."""
    with django_db_blocker.unblock(), transaction.atomic():
        a, b = CompanyFactory(name="Alpha AB"), CompanyFactory(name="Beta AB")
        site_a = SiteFactory(company=a, region=region("SE22"))
        site_b = SiteFactory(company=b, region=region("SE22"), latitude=55.65)
        offer = StreamFactory(site=site_a, visibility=Visibility.PUBLIC)
        need = StreamFactory(site=site_b, direction=Direction.NEED)
        private = StreamFactory(site=site_b, visibility=Visibility.PRIVATE)
        match = make_match(offer, need)
        users = {
            "member_a": MembershipFactory(company=a).user,
            "member_b": MembershipFactory(company=b, role=MembershipRole.MEMBER).user,
            "facilitator": RegionRoleFactory(user=UserFactory(), region=region("SE22")).user,
            "authority": RegionRoleFactory(user=UserFactory(), region=region("SE22"), role="authority").user,
        }
        # A second match, revealed (its message thread is open) and ranked first, where lists start.
        revealed = make_match(offer, StreamFactory(site=site_b, direction=Direction.NEED))
        revealed.score = 0.8
        revealed.save(update_fields=["score"])
        for persona, action in (("facilitator", "approve"), ("facilitator", "introduce"), ("member_a", "accept"),
                                ("member_b", "accept")):
            match_transition(match_id=revealed.pk, actor=users[persona], action=action)
        tokens = {name: Token.objects.create(user=user).key for name, user in users.items()}
        tokens["anon"] = None  # no credentials at all
        ids = {
            "companies": [a.pk, b.pk], "sites": [site_a.pk, site_b.pk],
            "streams": [offer.pk, need.pk, private.pk], "matches": [match.pk, revealed.pk], "matching-runs": [],
        }
        yield tokens, ids
        transaction.set_rollback(True)
