"""Project-level checks: API schema, docs offline, compose file, settings defaults."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_the_openapi_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert "/api/v1/streams/" in schema["paths"]
    assert "/api/v1/streams/{id}/status/" in schema["paths"]


@pytest.mark.django_db
def test_every_declared_api_link_is_in_the_schema():
    """core.api.add_links skips a link whose operation is missing: a renamed operationId must fail
    here, not silently drop the chains that clients and tests/security/test_api_fuzz_chains.py follow."""
    from drf_spectacular.generators import SchemaGenerator

    from core.api import API_LINKS

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {op["operationId"]: op for path in schema["paths"].values() for op in path.values()}
    for (source, code), rows in API_LINKS.items():
        links = operations[source]["responses"][code]["links"]
        assert sorted(link["operationId"] for link in links.values()) == sorted(target for target, *_ in rows)
        assert all(target in operations for target, *_ in rows)


@pytest.mark.django_db
def test_api_docs_load_only_local_assets(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "https://" not in html and "http://" not in html.replace("http://testserver", "")
    assert client.get("/api/schema/").status_code == 200


def test_the_api_answers_json_only(db, client):
    response = client.get("/api/v1/regions/", HTTP_ACCEPT="text/html")
    assert response["Content-Type"].startswith("application/json")


def test_an_api_path_no_route_matches_answers_json(db, client):
    # Found by the chained fuzzing: an id with a dot matches no route and got the HTML 404 page.
    response = client.get("/api/v1/companies/-3.99e-16/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_docker_compose_runs_the_full_stack_with_healthchecks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "--appendonly" in services["redis"]["command"]
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")


def test_every_setting_read_from_the_environment_is_documented():
    import re

    read = set(re.findall(r'env(?:str|bool|int|list)\("([A-Z_]+)"', (ROOT / "symbiosis/settings.py").read_text()))
    read |= set(re.findall(r'env\.(?:db|email_url)\("([A-Z_]+)"', (ROOT / "symbiosis/settings.py").read_text()))
    documented = set(re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - documented == set()


def test_a_bare_environment_uses_sqlite_and_eager_tasks():
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='symbiosis.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'])"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["django.db.backends.sqlite3", "True", "django.core.cache.backends.locmem.LocMemCache"]
