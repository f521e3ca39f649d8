"""The one place where the k = 3 rule is applied. Every format renders what `suppress` returns.

Who counts toward k (`counting_companies`): a company verified by a facilitator or staff member
(`Company.verified_at`) at least DASHBOARD_MIN_COMPANY_AGE_DAYS ago, and registered at least that
long ago. Every figure is built from the data of counting companies only (`queries` filters every
block with this set; a match counts when both its companies do): a company that signs up to lift a
cell over k adds nothing to any figure, so subtracting its own data gives it nothing, in one
publication or across two.

Publications (`settle`): a cell keeps the figures it was last published from (its basis, stored in
`PublishedFigure`) unless its number of companies differs by at least k from *every* number it
has been published with. Since two sets of companies whose sizes differ by k differ by at least k
companies, two publications of a cell never differ by the data of fewer than k companies: nobody
learns a company's figure from the day it joined, left or changed a cell. A cell seen with 2
companies stays hidden until it has 5 (a third company cannot lift it and subtract itself).

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
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from dashboards.figures import COMPLEMENTARY, MIN_COMPANIES, PRIMARY, Address, Cell, Dashboard


def counting_companies(*, now: datetime | None = None) -> QuerySet:
    """The companies whose data dashboards and open data may use: verified at least
    DASHBOARD_MIN_COMPANY_AGE_DAYS ago and registered at least as long ago. Everything else (a
    company that has just signed up, or that no facilitator has checked) contributes to no figure."""
    from companies.models import Company

    cutoff = (now or timezone.now()) - timedelta(days=settings.DASHBOARD_MIN_COMPANY_AGE_DAYS)
    return Company.objects.filter(verified_at__lte=cutoff, created_at__lte=cutoff)


@dataclass(frozen=True)
class Basis:
    """What a cell was last published from, and every company count it has been published with."""

    value: float | int | None
    companies: int
    counts: tuple[int, ...]


def settle(dashboard: Dashboard, previous: dict[Address, Basis], *, k: int = MIN_COMPANIES
           ) -> tuple[Dashboard, dict[Address, Basis]]:
    """A copy of `dashboard` whose cells carry the figures they may be published from, and the new
    bases to record. A cell takes its current figures only when their company count is at least `k`
    away from every count of its earlier bases; otherwise it keeps its previous basis. Apply before
    `suppress`, and record the returned bases before publishing the result."""
    out = copy.deepcopy(dashboard)
    changed: dict[Address, Basis] = {}
    for tkey, table in out.tables.items():
        for row in table.rows:
            for col, cell in row.cells.items():
                if cell.value is None:
                    continue
                address = (tkey, row.key, col)
                prev = previous.get(address)
                if prev is None or all(abs(cell.companies - n) >= k for n in prev.counts):
                    counts = tuple(sorted({*(prev.counts if prev else ()), cell.companies}))
                    changed[address] = Basis(cell.value, cell.companies, counts)
                else:
                    cell.value, cell.companies = prev.value, prev.companies
    return out, changed


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
