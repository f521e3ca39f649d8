"""Matching jobs on a real Celery worker, Redis broker and PostgreSQL."""

import time

import pytest

from matching.choices import RunKind, RunStatus
from matching.models import Match, MatchingRun
from matching.services import matching_run_create
from tests.factories import StreamFactory, leaf_category

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reference_data")]


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_creating_a_stream_through_the_api_produces_its_matches(celery_worker, api, member, other_member, company_b):
    category = leaf_category("material")
    need = StreamFactory(site=company_b.sites.first(), direction="need", category=category, quantity=50)
    payload = {"direction": "offer", "kind": "material", "title": "Our residue", "category": category.code,
               "quantity": "80", "unit": "t", "period": "year"}
    response = api(member).post("/api/v1/streams/", payload, format="json")
    assert response.status_code == 201, response.content
    offer_id = response.json()["id"]
    assert _wait(lambda: Match.objects.filter(offer_id=offer_id, need=need).exists())
    run = MatchingRun.objects.get(kind=RunKind.STREAM, stream_id=offer_id)
    assert _wait(lambda: MatchingRun.objects.get(pk=run.pk).status == RunStatus.DONE)


def test_a_full_run_on_the_worker_finishes_once_and_a_rerun_does_not_duplicate(celery_worker, company_a, company_b):
    category = leaf_category("material")
    offer = StreamFactory(site=company_a.sites.first(), direction="offer", category=category)
    need = StreamFactory(site=company_b.sites.first(), direction="need", category=category)
    for _ in range(2):
        from django.db import transaction

        with transaction.atomic():
            run = matching_run_create(kind=RunKind.FULL, shards=2)
        assert _wait(lambda run=run: MatchingRun.objects.get(pk=run.pk).status == RunStatus.DONE), \
            MatchingRun.objects.get(pk=run.pk).__dict__
        run.refresh_from_db()
        assert run.shards_done == 2
        assert run.progress == 1.0
    assert Match.objects.filter(offer=offer, need=need).count() == 1
