"""Every list endpoint runs a bounded number of queries, independent of how many rows it returns."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import SiteFactory, StreamFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/streams/",
    "/api/v1/companies/",
    "/api/v1/sites/",
    "/api/v1/regions/",
    "/api/v1/nace-codes/?page_size=200",
    "/api/v1/ewc-codes/?page_size=200",
    "/api/v1/categories/?page_size=200",
    "/api/v1/matches/",
    "/api/v1/matching-runs/",
]


def _grow(company, n):
    for _ in range(n):
        site = SiteFactory(company=company)
        StreamFactory(site=site, visibility="public")
        StreamFactory(site=site, kind="energy", unit="MWh")


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", LISTS)
def test_list_endpoints_do_not_grow_queries_with_rows(api, facilitator, company_a, company_b, url):
    client = api(facilitator)
    _grow(company_a, 2)
    client.get(url)
    small = _count(client, url)
    _grow(company_b, 12)
    assert _count(client, url) == small
    assert small <= 8
