"""The house: apps import one way and no module imports itself back through others.

    dashboards -> facilitation -> matching -> streams -> companies

An app imports only apps to its right. `symbiosis/` (settings, urls, the Celery app) composes
everything and is outside the rule; `core/` is shared plumbing that imports no app at all (not even
`audit`); `audit/` may import `core` and `companies` and nothing above; `demo/` sits on top of everything and nothing imports it. Imports inside functions count:
a deferred import is still a dependency. Migrations, tests, benchmarks and data builders are not
checked. See docs/STYLE.md, "Layout".
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("dashboards", "facilitation", "matching", "streams", "companies")
CORE = "core"  # shared plumbing: imports no app
PLUMBING = (CORE, "audit")  # audit may import core and companies (roles) and nothing above
APPS = (*LAYERS, "audit", "demo")  # what core may not import
SKIP_DIRS = {"migrations", "__pycache__", "tests", "data", "locale"}


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def python_files(package: str):
    base = ROOT / package
    if not base.is_dir():
        return
    for path in sorted(base.rglob("*.py")):
        if not SKIP_DIRS.intersection(path.relative_to(base).parts[:-1]):
            yield path


def imported_names(path: Path) -> list[tuple[str, int]]:
    """Every module name an import statement of `path` may refer to, with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    mod = module_name(path)
    package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((name, node.lineno))
            out += [(f"{name}.{a.name}", node.lineno) for a in node.names]
    return out


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in (*LAYERS, *PLUMBING) for p in python_files(pkg)}


def wrong_way_imports(mods: dict[str, Path]) -> list[str]:
    """One entry per import statement that reaches up: "path:line -> module"."""
    bad: dict[str, str] = {}
    for mod, path in mods.items():
        app = mod.split(".")[0]
        for name, line in imported_names(path):
            top = name.split(".")[0]
            if app == CORE:
                if top in APPS:
                    bad.setdefault(f"{path.relative_to(ROOT)}:{line}", name)
                continue
            if top not in LAYERS:
                continue
            up = (app in PLUMBING and top != "companies") or (
                app in LAYERS and LAYERS.index(top) < LAYERS.index(app))
            if up:
                bad.setdefault(f"{path.relative_to(ROOT)}:{line}", name)
    return sorted(f"{where} -> {name}" for where, name in bad.items())


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for mod, path in mods.items():
        for name, _line in imported_names(path):
            for candidate in (name, name.rpartition(".")[0]):
                if candidate in mods and candidate != mod:
                    graph[mod].add(candidate)
                    break
    return graph


def circles(graph: dict[str, set[str]], nodes) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(nodes):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def test_every_layer_is_an_app_with_modules_to_check():
    mods = modules()
    for app in LAYERS:
        assert (ROOT / app / "apps.py").is_file(), app
        assert sum(1 for m in mods if m.split(".")[0] == app) >= 5, app


def test_apps_import_only_the_apps_below_them():
    assert wrong_way_imports(modules()) == []


def test_no_module_imports_itself_back_through_others():
    mods = modules()
    assert circles(import_graph(mods), mods) == []


def test_nothing_imports_the_demo_app():
    users = [
        f"{path.relative_to(ROOT)}:{line}"
        for mod, path in modules().items()
        for name, line in imported_names(path)
        if name == "demo" or name.startswith("demo.")
    ]
    assert users == []


@pytest.mark.parametrize(("files", "expected"), [
    ({"streams/a.py": "from matching.models import Match\n"}, ["streams/a.py:1 -> matching.models"]),
    ({"companies/a.py": "def f():\n    import streams.models\n"}, ["companies/a.py:2 -> streams.models"]),
    ({"matching/a.py": "from streams.models import Stream\n"}, []),
    ({"core/a.py": "from companies.forms import x\n"}, ["core/a.py:1 -> companies.forms"]),
    ({"core/a.py": "def f():\n    from audit.services import x\n"}, ["core/a.py:2 -> audit.services"]),
    ({"audit/a.py": "from companies.roles import x\nfrom core.api import y\n"}, []),
])
def test_the_direction_check_catches_a_wrong_way_import(tmp_path, monkeypatch, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    mods = {module_name(tmp_path / n): tmp_path / n for n in files}
    assert [b.replace("\\", "/") for b in wrong_way_imports(mods)] == expected


def test_the_circle_check_catches_a_circle_through_a_function_import(tmp_path, monkeypatch):
    files = {"matching/a.py": "from matching.b import x\n", "matching/b.py": "def f():\n    from matching import a\n",
             "matching/__init__.py": ""}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    mods = {module_name(tmp_path / n): tmp_path / n for n in files}
    assert circles(import_graph(mods), mods) == [["matching.a", "matching.b"]]


ENGINE = "matching.engine"
OUTSIDE_THE_ENGINE = (*LAYERS, *PLUMBING, "demo", "symbiosis", "benchmarks", "scripts", "tests")


def engine_submodules(root: Path) -> set[str]:
    base = root / "matching" / "engine"
    return {p.stem if p.suffix else p.name for p in base.iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file()}


def engine_back_doors(root: Path, packages=OUTSIDE_THE_ENGINE) -> list[str]:
    """One entry per import, outside the engine and its own tests, that reaches past `matching.engine`
    (its `__init__` and `__all__` are the front door) into one of its submodules, `from matching.engine
    import columns` included."""
    subs = engine_submodules(root)
    bad = set()
    for package in packages:
        base = root / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(("matching/engine/", "tests/matching/engine/")) or "__pycache__" in rel:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                    names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
                else:
                    continue
                for name in names:
                    if name.startswith(ENGINE + ".") and name.split(".")[2] in subs:
                        bad.add(f"{rel}:{node.lineno} -> {'.'.join(name.split('.')[:3])}")
    return sorted(bad)


def test_code_outside_the_engine_imports_only_its_front_door():
    assert engine_back_doors(ROOT) == []


def test_the_front_door_check_catches_a_submodule_import(tmp_path):
    files = {
        "matching/engine/__init__.py": "from .columns import MatchColumns\n",
        "matching/engine/columns.py": "MatchColumns = 1\n",
        "tests/matching/engine/test_columns.py": "from matching.engine.columns import MatchColumns\n",
        "matching/a.py": "from matching.engine.columns import MatchColumns\n",
        "matching/b.py": "from matching.engine import columns\n",
        "matching/c.py": "import matching.engine.columns\n",
        "matching/d.py": "from matching.engine import MatchColumns\nfrom matching import engine\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert engine_back_doors(tmp_path) == [
        "matching/a.py:1 -> matching.engine.columns",
        "matching/b.py:1 -> matching.engine.columns",
        "matching/c.py:1 -> matching.engine.columns",
    ]
