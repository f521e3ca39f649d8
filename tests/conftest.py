"""Shared fixtures: the personas every view and API test runs as.

- member: admin of company A (site in region SE22 "Sydsverige")
- other_member: admin of company B (same region, another town)
- facilitator: facilitator of region SE22;  facilitator_y: facilitator of region FI1B
- authority: regional authority of SE22
- staff, anon
"""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import (
    CompanyFactory,
    MembershipFactory,
    RegionRoleFactory,
    SiteFactory,
    UserFactory,
    region,
)

PASSWORD = "correct horse battery staple"


def pytest_configure(config):
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session", autouse=True)
def _require_postgresql(django_db_blocker):
    """The suite proves behaviour on the production database; SQLite would hide differences."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql" and not os.environ.get(
        "SYMBIOSIS_ALLOW_SQLITE_TESTS"
    ):
        pytest.exit("Tests run on PostgreSQL: set DATABASE_URL (see README, 'Run the tests').", returncode=3)


@pytest.fixture(scope="session", autouse=True)
def _reference_data(_require_postgresql, django_db_setup, django_db_blocker):
    """Reference data comes from data migrations; a transactional test's flush removes it, and a
    reused test database would then start empty. The loaders are idempotent, so top it up here."""
    with django_db_blocker.unblock():
        ensure_reference_data()


def ensure_reference_data():
    from companies.models import NaceCode, NaceCorrespondence, Region
    from companies.reference import load_nace, load_regions
    from streams.models import EwcCode, ResourceCategory, SubstitutionRule
    from streams.reference import load_taxonomy

    if not NaceCode.objects.exists() or not EwcCode.objects.exists() or not Region.objects.exists():
        load_nace(NaceCode, NaceCorrespondence)
        load_regions(Region)
        load_taxonomy(ResourceCategory, EwcCode, SubstitutionRule)


@pytest.fixture(autouse=True)
def _one_reference_cache_window(monkeypatch):
    """Each test runs within one window of the reference-data caches (matching.services.specs
    .cache_epoch): a window that ended between two requests would rebuild them and add queries to the
    second one, which query-count tests would read as a regression."""
    from matching.services import specs

    epoch = specs.cache_epoch()
    monkeypatch.setattr(specs, "cache_epoch", lambda: epoch)


@pytest.fixture
def reference_data(transactional_db):
    """For transactional tests: the previous one's flush emptied the reference tables."""
    ensure_reference_data()


@pytest.fixture
def company_a(db):
    company = CompanyFactory(name="Alpha Dairy AB", country="SE")
    SiteFactory(company=company, name="Alpha Lund", latitude=55.705, longitude=13.191, region=region("SE22"))
    return company


@pytest.fixture
def company_b(db):
    company = CompanyFactory(name="Beta Sawmill AB", country="SE")
    SiteFactory(company=company, name="Beta Malmö", latitude=55.605, longitude=13.003, region=region("SE22"))
    return company


@pytest.fixture
def company_y(db):
    company = CompanyFactory(name="Ypsilon Oy", country="FI")
    SiteFactory(company=company, name="Ypsilon Vantaa", latitude=60.29, longitude=25.04, region=region("FI1B"))
    return company


@pytest.fixture
def member(company_a):
    return MembershipFactory(user=UserFactory(username="alice"), company=company_a).user


@pytest.fixture
def other_member(company_b):
    return MembershipFactory(user=UserFactory(username="bob"), company=company_b).user


@pytest.fixture
def facilitator(db):
    return RegionRoleFactory(user=UserFactory(username="fiona"), region=region("SE22"), role="facilitator").user


@pytest.fixture
def facilitator_y(db):
    return RegionRoleFactory(user=UserFactory(username="yrjo"), region=region("FI1B"), role="facilitator").user


@pytest.fixture
def authority(db):
    return RegionRoleFactory(user=UserFactory(username="arne"), region=region("SE22"), role="authority").user


@pytest.fixture
def staff(db):
    return UserFactory(username="stella", is_staff=True, is_superuser=True)


@pytest.fixture
def anon():
    return None


@pytest.fixture
def api():
    """An API client factory: api(user) returns a client authenticated as `user` (None = anonymous)."""

    def make(user=None):
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def web(client):
    """A page client factory: web(user) returns a Django test client logged in as `user`."""
    from django.test import Client

    def make(user=None):
        c = Client()
        if user is not None:
            c.force_login(user)
        return c

    return make


# --- Abuse limits ---------------------------------------------------------------------------------
# Every test comes from 127.0.0.1 and counters live in the shared cache, so limits are off except in
# tests marked `ratelimit` (tests/test_ratelimits.py), which get a private cache and tight rates.


@pytest.fixture(autouse=True)
def _rate_limits(request, settings):
    marked = request.node.get_closest_marker("ratelimit") is not None
    settings.RATELIMIT_ENABLE = marked
    if marked:
        import uuid

        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                       "LOCATION": f"ratelimit-{uuid.uuid4().hex}"}}


# --- Celery ----------------------------------------------------------------------------------------
# Most tests run tasks in-process (eager). Tests marked `celery_worker` get a real worker thread
# (celery.contrib.pytest) consuming from the Redis broker of the test settings.


@pytest.fixture(autouse=True)
def _celery_mode(request):
    from symbiosis.celery import app

    eager = request.node.get_closest_marker("celery_worker") is None
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(scope="session")
def celery_app():
    """Use the project's Celery app (and its registered tasks) for celery.contrib.pytest's worker."""
    from symbiosis.celery import app

    return app


@pytest.fixture(scope="session")
def celery_worker_pool():
    return "solo"


@pytest.fixture(scope="session")
def celery_worker_parameters():
    # The ping check needs a result backend; the MatchingRun rows are our results.
    return {"perform_ping_check": False, "queues": ("celery",)}


# --- Browser -----------------------------------------------------------------------------------
# One Playwright instance per session: a second sync_playwright() inside the first one's loop fails.
from tests.browser_support import browser, page  # noqa: E402, F401
