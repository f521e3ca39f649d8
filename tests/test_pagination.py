"""`core.pagination.IdsFirst`: the count comes with the first ids in one query, and every page
lists what a plain paginator over the queryset lists, inside and beyond the ids fetched ahead."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.pagination import IdsFirst
from streams.models import Stream
from tests.factories import StreamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def streams(company_a, company_b):
    sites = [company_a.sites.first(), company_b.sites.first()]
    return [StreamFactory(site=sites[i % 2], title=f"Stream {i % 4}") for i in range(11)]


@pytest.mark.parametrize("ahead", [3, 4, 500])
@pytest.mark.parametrize("per_page", [1, 3, 4, 20])
def test_pages_equal_a_plain_paginator(streams, monkeypatch, ahead, per_page):
    monkeypatch.setattr(IdsFirst, "AHEAD", ahead)
    qs = Stream.objects.order_by("title", "-pk")
    plain, first = Paginator(qs, per_page), Paginator(IdsFirst(qs), per_page)
    assert first.count == plain.count == 11
    assert first.num_pages == plain.num_pages
    for number in plain.page_range:
        assert [s.pk for s in first.page(number)] == [s.pk for s in plain.page(number)]


def test_the_count_and_the_first_page_take_two_queries(streams):
    pages = Paginator(IdsFirst(Stream.objects.order_by("-pk").select_related("site")), 5)
    with CaptureQueriesContext(connection) as ctx:
        rows = list(pages.page(1))
        [s.site.name for s in rows]
    assert len(ctx.captured_queries) == 2  # count with the first ids; the rows with their joins
    assert "OVER ()" in ctx.captured_queries[0]["sql"]


def test_empty_and_distinct_querysets(streams):
    assert Paginator(IdsFirst(Stream.objects.none()), 5).count == 0
    assert Paginator(IdsFirst(Stream.objects.filter(title="nothing").order_by("pk")), 5).count == 0
    # A join that repeats rows: DISTINCT counts and pages the plain way.
    qs = Stream.objects.filter(company__sites__isnull=False).distinct().order_by("pk")
    first = Paginator(IdsFirst(qs), 4)
    assert first.count == 11
    assert [s.pk for p in first.page_range for s in first.page(p)] == [s.pk for s in streams]
