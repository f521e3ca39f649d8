"""The engine is pure: no Django, no app modules, no clock, no randomness."""

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[3] / "matching" / "engine"
FORBIDDEN = (
    "django",
    "companies",
    "streams",
    "matching.models",
    "matching.services",
    "rest_framework",
    "celery",
)


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def _forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_the_engine_package_has_modules_to_check():
    assert len(list(ENGINE.glob("*.py"))) >= 8


def test_it_imports_nothing_from_django_or_the_apps():
    bad = [(p.name, name) for p in sorted(ENGINE.glob("*.py")) for name in _imports(p) if _forbidden(name)]
    assert bad == []


def test_it_imports_no_clock_and_no_randomness():
    bad = [
        (p.name, n)
        for p in sorted(ENGINE.glob("*.py"))
        for n in _imports(p)
        if n in ("random", "time", "secrets")
    ]
    assert bad == []
    for p in ENGINE.glob("*.py"):
        text = p.read_text(encoding="utf-8")
        assert ".now(" not in text and "today(" not in text and "os.environ" not in text, p.name


def test_the_boundary_check_catches_a_django_import(tmp_path):
    f = tmp_path / "bad.py"
    f.write_text("from django.db import models\nimport streams.models\n")
    assert [n for n in _imports(f) if _forbidden(n)] == ["django.db", "streams.models"]


def test_it_imports_in_a_bare_interpreter_without_django_settings():
    code = "import sys; import matching.engine as e; print(e.ENGINE_VERSION); print('django' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ENGINE.parents[1], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0].startswith("engine-")
    assert out[1] == "False"
