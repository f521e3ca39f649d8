"""Sector screening: which NACE divisions typically take the region's unmatched supply (or produce
what its unmatched needs ask for), and how many companies of those divisions sit in the region and
its neighbours. "Where could a new business, or an existing one, use this?"

The divisions come from the prospective-matching priors (`matching.services.engine_priors`, learned
from documented exchanges and curated rules, by List-of-Waste code). Only categories whose unmatched
figures are published feed it, so the screening never reveals a suppressed category.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from companies.models import NaceCode, Region
from dashboards import queries
from dashboards.figures import Cell, Column, Dashboard, Row, Table
from streams.choices import Direction

TOP_DIVISIONS = 3  # per category
MAX_ROWS = 12
LIFT = 2.0  # a division must be at least this many times more likely than under a uniform prior


def _typical_divisions(priors, direction: str, codes: tuple[str, ...]) -> list[tuple[str, float]]:
    if not priors.divisions:
        return []
    if direction == Direction.OFFER:
        dist = priors.receiver_distribution(codes)
    else:
        dist = priors.provider_distribution(codes)
    floor = LIFT / len(priors.divisions)
    ranked = sorted(((p, d) for d, p in dist.items() if p >= floor), key=lambda x: (-x[0], x[1]))
    return [(d, p) for p, d in ranked[:TOP_DIVISIONS]]


def screening_table(dashboard: Dashboard, region: Region, nearby: list[Region], priors) -> Table:
    """The NACE division x region table for one region's suppressed dashboard (before its own suppression)."""
    listings = dashboard.tables["listings"]
    shown = {}
    for row in listings.rows:
        if row.level != 2:
            continue
        cell = row.cells["unmatched_streams"]
        if cell.suppressed or not cell.value:
            continue
        shown[(row.attrs["direction"], row.attrs["category"])] = row.label
    codes: dict[tuple[str, str], set[str]] = {}
    category_codes = dict(_category_codes())
    for direction, category_id, ewc in queries.unmatched_ewc_codes(region.pk):
        key = (direction, category_codes.get(category_id, ""))
        if key in shown:
            codes.setdefault(key, set()).add(ewc)
    found: dict[tuple[str, str], dict] = {}
    for (direction, category), ewc in sorted(codes.items()):
        for division, p in _typical_divisions(priors, direction, tuple(sorted(ewc))):
            role = "takes" if direction == Direction.OFFER else "produces"
            entry = found.setdefault((role, division), {"p": 0.0, "categories": []})
            entry["p"] = max(entry["p"], p)
            entry["categories"].append(shown[(direction, category)])
    picked = sorted(found.items(), key=lambda kv: (-kv[1]["p"], kv[0]))[:MAX_ROWS]
    divisions = sorted({division for (_role, division), _ in picked})
    titles = dict(
        NaceCode.objects.filter(revision="2.1", level=2, code__in=divisions).values_list("code", "title")
    )
    counts = {
        (r["region_id"], r["division"]): r["companies"]
        for r in queries.companies_by_division([r.pk for r in nearby], divisions)
    }
    table = Table(
        key="screening",
        title=_("Sector screening"),
        caption=_(
            "NACE divisions that typically take the region's unmatched offers or produce what its unmatched "
            "needs ask for (from documented exchanges by List-of-Waste code), and how many companies of each "
            "division have a site in the region and its neighbours."
        ),
        columns=[Column(r.code, r.name, additive=False) for r in nearby],
        rows=[],
        note=_("Categories without a List-of-Waste code (energy, water, equipment, know-how) have no sector prior."),
    )
    role_labels = {"takes": _("typically takes"), "produces": _("typically produces")}
    for (role, division), entry in picked:
        label = f"{division} {titles.get(division, '')}".strip()
        cells = {}
        for r in nearby:
            n = counts.get((r.pk, division), 0)
            cells[r.code] = Cell(value=n, companies=n)
        table.add(Row(
            f"{role}/{division}", label, cells,
            attrs={"division": division, "role": role, "role_label": role_labels[role],
                   "categories": sorted(set(entry["categories"])), "probability": round(entry["p"], 3)},
        ))
    return table


def _category_codes():
    from streams.models import ResourceCategory

    return ResourceCategory.objects.values_list("pk", "code")
