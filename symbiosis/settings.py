"""Settings for Symbiosis: one module, configured only through the environment (see .env.example).

With nothing set the app runs on an embedded SQLite file and runs Celery tasks in-process, so a
newcomer's first command works on a bare machine. Tests, CI and production set DATABASE_URL and
REDIS_URL (PostgreSQL, Redis cache and broker, real Celery workers).
"""

from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

from core.env import env, envbool, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core ---------------------------------------------------------------------------------------
# PRODUCTION=true (behind a TLS-terminating proxy) turns on every transport-security default below
# and refuses to start without a strong SECRET_KEY; `manage.py check --deploy --fail-level WARNING`
# passes with it (tests/test_deploy.py). Each setting can still be overridden on its own.
PRODUCTION = envbool("PRODUCTION", default=False)
DEBUG = envbool("DEBUG", default=False)
# The fallback key only exists so that a bare checkout starts.
SECRET_KEY = envstr("SECRET_KEY", "django-insecure-dev-only-change-me")
if PRODUCTION:
    from django.core.exceptions import ImproperlyConfigured

    if DEBUG:
        raise ImproperlyConfigured("PRODUCTION=true with DEBUG=true: turn DEBUG off.")
    if (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure")
            or "change-me" in SECRET_KEY):
        raise ImproperlyConfigured(
            "PRODUCTION=true needs a strong SECRET_KEY (50+ random characters): "
            'python -c "import secrets; print(secrets.token_urlsafe(50))"'
        )
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "simple_history",
    "companies",
    "streams",
    "matching",
    "facilitation",
    "dashboards",
    "audit",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "symbiosis.urls"
WSGI_APPLICATION = "symbiosis.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "companies.context_processors.roles",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["CONN_MAX_AGE"] = envint("CONN_MAX_AGE", 60)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The region index's list index carries its status as an INCLUDE column for index-only scans on
# PostgreSQL; on the embedded SQLite of the default start the index simply has no such column (the
# region index is not used there), so Django's warning about it says nothing to act on.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Cache and Celery -----------------------------------------------------------------------------
REDIS_URL = envstr("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = None
# No broker configured: run tasks in-process so the app works on a bare machine.
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# A job is acknowledged only once it has finished, and is redelivered if the worker dies; the
# MatchingRun row in PostgreSQL stays the truth about it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = envint("CELERY_TASK_TIME_LIMIT", 1800)
CELERY_TASK_SOFT_TIME_LIMIT = CELERY_TASK_TIME_LIMIT - 60
# Must stay above the hard time limit, or Redis redelivers a job that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}

# The periodic full matching run sweeps every stream (new and changed streams are matched at once
# on commit); shards let several workers share it.
MATCHING_SHARDS = envint("MATCHING_SHARDS", 4)
CELERY_BEAT_SCHEDULE = {
    "matching-full-run": {
        "task": "matching.tasks.matching_periodic_full_run_task",
        "schedule": crontab(minute=15, hour=envint("MATCHING_FULL_RUN_HOUR", 2)),
    },
    "matching-reap-stale-runs": {
        "task": "matching.tasks.matching_runs_reap_task",
        "schedule": envint("MATCHING_REAP_EVERY_SECONDS", 60),
    },
}
# A run whose heartbeat is older than this is re-queued by the reaper (matching/reaper.py); it must
# exceed the longest silence of a live job, which the hard time limit bounds.
MATCHING_RUN_STALE_SECONDS = envint("MATCHING_RUN_STALE_SECONDS", CELERY_TASK_TIME_LIMIT + 120)
# A run started this many times that went stale again is marked failed.
MATCHING_RUN_MAX_ATTEMPTS = envint("MATCHING_RUN_MAX_ATTEMPTS", 3)
# Recovery drill: milliseconds each shard waits, once its worker has written its pid into the run's
# message, before it ranks (matching.services.matching_run_shard_begin). Set it on a staging system
# to kill a worker in the middle of a job and watch the run recover, as
# tests/matching/test_job_kills.py does; 0 (no wait) everywhere else.
MATCHING_SHARD_DELAY_MS = envint("MATCHING_SHARD_DELAY_MS", 0)

# Distances shown to someone who may not see a site are measured between the centres of grid cells
# of this size, then banded, so watching them while moving one's own site reveals no more than the
# other site's cell (companies/geo.py, docs/security.md "Anonymity").
LOCATION_GRID_KM = float(envstr("LOCATION_GRID_KM", "1"))

# Dashboards cache their computed figures per region and data version (see docs/dashboards.md).
DASHBOARD_CACHE_SECONDS = envint("DASHBOARD_CACHE_SECONDS", 60)
DASHBOARD_VERSION_MEMO_SECONDS = envint("DASHBOARD_VERSION_MEMO_SECONDS", 1)
# Dashboards and open data use the data of a company only once it has been verified and on the
# platform for this many days (docs/dashboards.md, "Who counts toward k").
DASHBOARD_MIN_COMPANY_AGE_DAYS = envint("DASHBOARD_MIN_COMPANY_AGE_DAYS", 30)

# --- Auth -----------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Reverse proxies in front of the app that append to X-Forwarded-For (0: use REMOTE_ADDR). The audit
# trail and the rate limits key on the address this yields (audit/context.py).
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
# --- Abuse limits (core/ratelimits.py). Counters live in the default cache (Redis in production).
RATELIMIT_ENABLE = envbool("RATELIMIT_ENABLE", default=True)
RATELIMIT_VIEW = "core.ratelimits.ratelimited"
# Log-in, sign-up and password-reset POSTs: per client address, and per account (username or e-mail).
RATELIMIT_AUTH_IP = envstr("RATELIMIT_AUTH_IP", "30/m")
RATELIMIT_AUTH_ACCOUNT = envstr("RATELIMIT_AUTH_ACCOUNT", "10/m")
# The per-address counter keys on the client address the audit trail records.
RATELIMIT_AUTH_IP_KEY = "audit.context.ratelimit_ip"
API_THROTTLE_RATES = {
    "anon": envstr("API_THROTTLE_ANON", "120/min"),
    "user": envstr("API_THROTTLE_USER", "1200/min"),
    # Writes of the views with this throttle_scope:
    "stream_writes": envstr("API_THROTTLE_STREAM_WRITES", "120/min"),
    "matching_runs": envstr("API_THROTTLE_MATCHING_RUNS", "30/hour"),
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "companies:home"
LOGOUT_REDIRECT_URL = "companies:home"

# --- I18N ---------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files -------------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": envstr(
            "STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- E-mail -------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Symbiosis <noreply@localhost>")

# --- Security (production sets these through the environment) -----------------------------------
# Trust X-Forwarded-Proto only behind our own proxy (it strips the header from clients); anywhere
# else a client could claim HTTPS.
if envbool("BEHIND_TLS_PROXY", default=PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", default=PRODUCTION)
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", default=PRODUCTION)
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", default=PRODUCTION)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=PRODUCTION)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", default=PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy on every response (django-csp). No inline script or style anywhere: every
# script is a file of ours (htmx is configured in base.html not to inject its indicator <style>);
# Leaflet and Chart.js position things through element.style (CSSOM), which style-src does not
# govern, so style-src needs no 'unsafe-inline' either. Map tiles and Swagger's icons are data: URIs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Uploads ------------------------------------------------------------------------------------
IMPORT_MAX_BYTES = envint("IMPORT_MAX_BYTES", 5 * 1024 * 1024)
# How long an uploaded sheet waits on the import page between its preview and its commit.
IMPORT_PENDING_HOURS = envint("IMPORT_PENDING_HOURS", 24)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024

# --- REST API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF answers an unauthenticated request with the first class's challenge, so
    # anonymous API calls get 401 with `WWW-Authenticate: Token` (not 403, which means "signed in
    # but not allowed"). Browser sessions authenticate as before.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    # Rates: API_THROTTLE_RATES below (read at request time by core.ratelimits).
    "DEFAULT_THROTTLE_CLASSES": [
        "core.ratelimits.AnonThrottle",
        "core.ratelimits.UserThrottle",
        "core.ratelimits.WriteScopedThrottle",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Symbiosis API",
    "DESCRIPTION": "Side streams, sites and companies for industrial symbiosis; matching results.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.add_error_responses",
        "core.api.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DirectionEnum": "streams.choices.Direction",
        "StreamKindEnum": "streams.choices.StreamKind",
        "StreamStatusEnum": "streams.choices.StreamStatus",
        "MatchStatusEnum": "matching.choices.MatchStatus",
        "RunStatusEnum": "matching.choices.RunStatus",
        "RunKindEnum": "matching.choices.RunKind",
        "MatchActionEnum": "matching.choices.MatchAction",
        "RejectionReasonEnum": "matching.choices.RejectionReason",
        "OptInEnum": "matching.choices.OptIn",
    },
}

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
