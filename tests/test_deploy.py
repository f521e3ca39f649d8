"""Deployment: production settings pass `check --deploy`, refuse a weak key, and error pages leak nothing."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "DATABASE_URL", "REDIS_URL")}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env}, capture_output=True, text=True,
        timeout=120,
    )


PRODUCTION = {"PRODUCTION": "true", "ALLOWED_HOSTS": "symbiosis.example.org"}


def test_check_deploy_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION,
                     SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("override", [
    {"SECURE_HSTS_SECONDS": "0"}, {"SECURE_SSL_REDIRECT": "false"}, {"SESSION_COOKIE_SECURE": "false"},
    {"CSRF_COOKIE_SECURE": "false"},
])
def test_check_deploy_fails_when_a_protection_is_switched_off(override):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION,
                     SECRET_KEY=secrets.token_urlsafe(50), **override)
    assert result.returncode != 0


@pytest.mark.parametrize("key", [None, "django-insecure-dev-only-change-me", "short-key",
                                 "change-me-in-dot-env-this-is-not-a-secret-key-0123456789"])
def test_production_refuses_to_start_without_a_strong_secret_key(key):
    env = dict(PRODUCTION) if key is None else {**PRODUCTION, "SECRET_KEY": key}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "strong SECRET_KEY" in result.stderr


def test_production_refuses_debug():
    result = _manage("check", **PRODUCTION, SECRET_KEY=secrets.token_urlsafe(50), DEBUG="true")
    assert result.returncode != 0 and "DEBUG" in result.stderr


def test_compose_runs_redis_with_append_only_persistence_and_passes_production_values():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    env = compose["services"]["web"]["environment"]
    assert "PRODUCTION" in env and "SECRET_KEY" in env


@pytest.mark.django_db
def test_a_server_error_shows_the_friendly_page_without_a_stack_trace(settings, monkeypatch, member):
    from django.test import Client

    from companies import views

    settings.DEBUG = False

    def explode(self, request, *args, **kwargs):
        raise RuntimeError("secret internals: /srv/symbiosis/db-password")

    monkeypatch.setattr(views.HomeView, "get", explode)
    client = Client(raise_request_exception=False)
    client.force_login(member)
    response = client.get("/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body
    for leak in ("Traceback", "RuntimeError", "db-password", "File \"", "settings"):
        assert leak not in body


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "code", "text"), [
    ("/no/such/page/", 404, "Page not found"),
    ("/streams/999999/", 404, "Page not found"),
])
def test_error_pages_are_friendly(client, member, path, code, text):
    client.force_login(member)
    response = client.get(path)
    assert response.status_code == code
    body = response.content.decode()
    assert text in body and "URLconf" not in body and "Traceback" not in body
