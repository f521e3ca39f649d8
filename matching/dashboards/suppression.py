"""The one place where the k = 3 rule is applied. Every format renders what `suppress` returns.

Primary suppression: a cell built from 1 or 2 companies is hidden (a cell from 0 companies is a
plain zero and stays).

Complementary suppression (so that no total can be differenced to recover a hidden cell): every sum
that is published is a *group*: a total cell and its detail cells (a kind's row and its category
rows, a month column and the region's total, volume = matched + unmatched, ...). In each group:

- total shown, some details hidden: the hidden details must include one built from at least 3
  companies; otherwise the detail with the fewest companies (then the smallest value) among those
  built from 3 or more is hidden too. Total minus the shown details then only gives the sum of
  several hidden cells, which is built from 3 or more companies.
- total hidden, no detail hidden: the total could be rebuilt by adding up its details, so one
  detail (chosen the same way) is hidden; and if details are hidden, the same "one of them from 3
  or more companies" condition applies, because a hidden total can sit in another group whose
  differencing already gives its value.

Hiding a cell can break another group's condition, so the passes repeat until nothing changes.
Groups are the parent/child rows of each table (per additive column) plus the dashboard's links.
"""

from __future__ import annotations

import copy

from matching.dashboards.figures import COMPLEMENTARY, MIN_COMPANIES, PRIMARY, Address, Cell, Dashboard


def _groups(dashboard: Dashboard) -> list[tuple[Address, list[Address]]]:
    groups: list[tuple[Address, list[Address]]] = []
    for tkey, table in dashboard.tables.items():
        additive = [c.key for c in table.columns if c.additive]
        kids: dict[str, list[str]] = {}
        for row in table.rows:
            if row.parent is not None:
                kids.setdefault(row.parent, []).append(row.key)
        for parent, children in kids.items():
            for col in additive:
                groups.append(((tkey, parent, col), [(tkey, child, col) for child in children]))
    for link in dashboard.links:
        groups.append((link.parent, list(link.children)))
    return groups


def _needs_complement(parent: Cell, hidden: list[Cell]) -> bool:
    if not hidden:
        return bool(parent.suppressed)
    return max(c.companies for c in hidden) < MIN_COMPANIES


def suppress(dashboard: Dashboard, *, k: int = MIN_COMPANIES) -> Dashboard:
    """Return a copy of `dashboard` with the k-company rule and complementary suppression applied."""
    if dashboard.suppressed:
        return dashboard
    out = copy.deepcopy(dashboard)
    for table in out.tables.values():
        for row in table.rows:
            for cell in row.cells.values():
                if cell.value is not None and 0 < cell.companies < k:
                    cell.suppressed = PRIMARY
    groups = []
    for parent, children in _groups(out):
        p = out.cell(parent)
        if p is None or p.value is None and not p.suppressed:
            continue  # a total that is not applicable is never published: nothing to difference
        cells = [(addr, out.cell(addr)) for addr in children]
        cells = [(addr, c) for addr, c in cells if c is not None and c.applicable]
        if cells:
            groups.append((p, cells))
    changed = True
    while changed:
        changed = False
        for parent, cells in groups:
            hidden = [c for _, c in cells if c.suppressed]
            if not _needs_complement(parent, hidden):
                continue
            candidates = [(addr, c) for addr, c in cells if not c.suppressed and c.companies >= k]
            if not candidates:
                continue  # every detail is hidden already: the remainder is the total itself
            _, pick = min(candidates, key=lambda ac: (ac[1].companies, abs(ac[1].value or 0), ac[0]))
            pick.suppressed = COMPLEMENTARY
            changed = True
    out.suppressed = True
    return out


def check_invariants(dashboard: Dashboard, *, k: int = MIN_COMPANIES) -> list[str]:
    """Problems with a suppressed dashboard (empty when the rule holds); used by the tests."""
    problems = []
    for table in dashboard.tables.values():
        for row in table.rows:
            for col, cell in row.cells.items():
                if cell.value is not None and 0 < cell.companies < k and not cell.suppressed:
                    problems.append(f"{table.key}/{row.key}/{col} shows a figure of {cell.companies} companies")
    for parent, children in _groups(dashboard):
        p = dashboard.cell(parent)
        if p is None or (p.value is None and not p.suppressed):
            continue
        cells = [dashboard.cell(a) for a in children]
        cells = [c for c in cells if c is not None and c.applicable and c.companies > 0]
        hidden = [c for c in cells if c.suppressed]
        if len(hidden) == len(cells):
            continue  # every non-zero detail is hidden: the remainder is the total itself
        if _needs_complement(p, hidden):
            problems.append(f"{parent}: a hidden detail can be recovered from the total")
    return problems
