"""No raw SQL built from strings with user input.

Walks every project module with `ast` and flags (1) `execute`/`executemany`/`copy_expert`/`raw`/
`extra`/`RawSQL` calls whose SQL is not a plain string literal, and (2) any f-string, `%` or `.format`
whose literal text looks like SQL. Each flagged place must be in REVIEWED, with why it is safe; a new
one fails the test until someone reviews it (values must be bound parameters, never formatted in).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

# No database needed, but the suite's session fixtures load reference data; alone, this module would
# otherwise run them against a test database pytest-django did not create.
pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APPS = ("companies", "streams", "matching", "facilitation", "dashboards", "core", "symbiosis")
SQL_CALLS = {"execute", "executemany", "copy_expert", "copy_from", "raw", "extra", "RawSQL"}
SQL_TEXT = re.compile(r"\b(SELECT|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|COPY|WITH\s+\w+\s+AS)\b", re.I)

# (module, function) -> why the SQL there carries no user input.
REVIEWED = {
    ("companies/anonymity.py", "_version"): "table names from model metadata (quoted by connection.ops); no values",
    ("matching/finalise.py", "_insert_sql"): "identifiers from model metadata and constants; values are %s",
    ("matching/finalise.py", "_postgresql"): "runs the statements built from metadata; every value bound",
    ("matching/finalise.py", "_portable"): "runs _insert_sql() with bound parameters",
    ("matching/finalise.py", "_lock_references"): "table and column names from the module's _REFERENCES; ids bound",
    ("matching/finalise.py", "_insert"): "Match's and MatchRegion's table names from model metadata, index names "
                                         "and definitions and the region index's primary key from the catalog "
                                         "(quoted), trigger names from the module's BULK_OFF_TRIGGERS, "
                                         "_insert_sql(); every value bound",
    ("core/pgcopy.py", "copy_columns"): "COPY into quoted identifiers from model metadata; data is binary",
    ("core/pgcopy.py", "_dtype"): "not SQL: an error message that names the COPY format",
    ("streams/importing/sheet.py", "records"): "not SQL: an error message ('copy just the import rows')",
    ("dashboards/queries.py", "_run"): "executes the statements below with bound parameters",
    ("dashboards/queries.py", "listings"): "ORM-compiled SQL and fixed measures; values bound",
    ("dashboards/queries.py", "match_aggregate"): "ORM-compiled SQL; group/sum aliases come from code, "
                                                           "not requests; values bound",
    ("dashboards/selectors.py", "data_version"): "quoted identifiers from model metadata; no values",
}


def _is_literal(node) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _literal_text(node) -> str:
    return "".join(n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str))


def _built_string(node) -> bool:
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str) for n in ast.walk(node))
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format"


def findings(source: str, module: str) -> set[tuple[str, str, int, str]]:
    tree = ast.parse(source)
    found = set()

    def visit(node, func):
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else func
            if isinstance(child, ast.Call):
                callee = child.func.attr if isinstance(child.func, ast.Attribute) else getattr(child.func, "id", "")
                if callee in SQL_CALLS and child.args and not _is_literal(child.args[0]):
                    found.add((module, name, child.lineno, f"{callee}() with non-literal SQL"))
            if _built_string(child) and SQL_TEXT.search(_literal_text(child)):
                found.add((module, name, child.lineno, "SQL text built with f-string, % or format"))
            visit(child, name)

    visit(tree, "<module>")
    return found


def project_findings():
    out = set()
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = path.relative_to(ROOT).as_posix()
            out |= findings(path.read_text(), module)
    return out


def test_sql_is_never_built_from_strings_outside_reviewed_places():
    unreviewed = sorted(f for f in project_findings() if (f[0], f[1]) not in REVIEWED)
    assert not unreviewed, "Review (bind values as parameters) or add to REVIEWED:\n" + "\n".join(
        f"{m}:{line} in {fn}(): {why}" for m, fn, line, why in unreviewed
    )


def test_every_reviewed_place_still_exists():
    places = {(m, fn) for m, fn, _, _ in project_findings()}
    assert set(REVIEWED) <= places, f"stale entries: {sorted(set(REVIEWED) - places)}"


def test_the_walker_flags_sql_built_from_a_request():
    bad = 'def view(request):\n    cursor.execute(f"SELECT * FROM streams_stream WHERE title = \'{request.GET[\'q\']}\'")\n'
    assert {why for *_, why in findings(bad, "x.py")} == {
        "execute() with non-literal SQL", "SQL text built with f-string, % or format",
    }
