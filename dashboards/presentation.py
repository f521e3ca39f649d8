"""Suppressed figures -> what a page, a chart or the JSON API shows. Reads only the dataclasses; no
queries. A suppressed cell is rendered as "c" (confidential) and carries no number in any format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from dashboards.figures import Cell, Column, Dashboard, Row, Table
from streams.choices import Direction, StreamKind

SUPPRESSED_MARK = "c"


def format_value(value, fmt: str) -> str:
    if value is None:
        return "–"
    if fmt == "int":
        return number_format(int(value), 0, force_grouping=True)
    decimals = 0 if abs(value) >= 100 or float(value).is_integer() else 1
    return number_format(round(float(value), decimals), decimals, force_grouping=True)


def column_unit(column: Column, row: Row) -> str:
    return row.attrs.get("unit", "") if column.unit == "row" else column.unit


@dataclass
class DisplayCell:
    text: str
    suppressed: bool = False
    numeric: bool = True
    unit: str = ""


@dataclass
class DisplayRow:
    key: str
    label: str
    level: int
    cells: list[DisplayCell]
    attrs: dict = field(default_factory=dict)


@dataclass
class DisplayTable:
    key: str
    title: str
    caption: str
    columns: list[tuple[str, str]]  # (label, unit)
    rows: list[DisplayRow]
    note: str = ""
    row_header: str = ""
    has_suppressed: bool = False


def display_cell(cell: Cell | None, column: Column, row: Row) -> DisplayCell:
    if cell is None or (cell.value is None and not cell.suppressed):
        return DisplayCell("–", numeric=False)
    if cell.suppressed:
        return DisplayCell(SUPPRESSED_MARK, suppressed=True)
    return DisplayCell(format_value(cell.value, column.fmt), unit=column_unit(column, row))


def display_table(table: Table, *, rows: list[Row] | None = None, columns: list[str] | None = None,
                  title: str | None = None, caption: str | None = None, row_header: str = "") -> DisplayTable:
    cols = [c for c in table.shown_columns if columns is None or c.key in columns]
    if columns is not None:
        cols.sort(key=lambda c: columns.index(c.key))
    out = DisplayTable(
        key=table.key, title=title or table.title, caption=caption if caption is not None else table.caption,
        columns=[(c.label, "" if c.unit == "row" else c.unit) for c in cols], rows=[], note=table.note,
        row_header=row_header or _("Figure"),
    )
    per_row_unit = any(c.unit == "row" for c in cols)
    if per_row_unit:
        out.columns.append((_("Unit"), ""))
    for row in table.rows if rows is None else rows:
        cells = [display_cell(row.cells.get(c.key), c, row) for c in cols]
        if per_row_unit:
            cells.append(DisplayCell(row.attrs.get("unit", ""), numeric=False))
        out.has_suppressed = out.has_suppressed or any(c.suppressed for c in cells)
        out.rows.append(DisplayRow(row.key, row.label, row.level, cells, row.attrs))
    return out


# --- Charts (Chart.js data read by static/js/dashboard.js from a json_script element) -----------------

def _value(cell: Cell | None):
    return None if cell is None else cell.public_value


def funnel_chart(dashboard: Dashboard) -> dict:
    funnel = dashboard.tables["funnel"]
    rows = funnel.children("all")
    return {
        "type": "bar", "horizontal": True, "labels": [r.label for r in rows],
        "datasets": [{"label": _("Matches"), "data": [_value(r.cells["matches"]) for r in rows]}],
    }


def kinds_rows(dashboard: Dashboard) -> list[Row]:
    """One row per kind with the offers and needs listing counts (cells copied, still suppressed)."""
    listings = dashboard.tables["listings"]
    out = []
    for kind in StreamKind:
        offer = listings.row(f"{Direction.OFFER}/{kind}")
        need = listings.row(f"{Direction.NEED}/{kind}")
        out.append(Row(kind.value, str(kind.label), {
            "offers": offer.cells["streams"], "needs": need.cells["streams"],
            "offered": offer.cells["volume"], "needed": need.cells["volume"],
        }, attrs={"unit": offer.attrs.get("unit", "")}))
    return out


KIND_COLUMNS = [
    Column("offers", ""), Column("needs", ""),
    Column("offered", "", unit="row", fmt="qty"), Column("needed", "", unit="row", fmt="qty"),
]


def kinds_table(dashboard: Dashboard) -> DisplayTable:
    labels = (_("Active offers"), _("Active needs"), _("Yearly volume offered"), _("Yearly volume needed"))
    columns = [Column(c.key, label, unit=c.unit, fmt=c.fmt) for c, label in zip(KIND_COLUMNS, labels, strict=True)]
    table = Table("kinds", _("Active listings by kind"),
                  _("Active offers and needs by kind, with their yearly volume in the kind's base unit."),
                  columns, kinds_rows(dashboard))
    return display_table(table, row_header=_("Kind"))


def kinds_chart(dashboard: Dashboard) -> dict:
    rows = kinds_rows(dashboard)
    return {
        "type": "bar", "labels": [r.label for r in rows],
        "datasets": [
            {"label": _("Active offers"), "data": [_value(r.cells["offers"]) for r in rows]},
            {"label": _("Active needs"), "data": [_value(r.cells["needs"]) for r in rows]},
        ],
    }


def trends_chart(dashboard: Dashboard) -> dict:
    trends = dashboard.tables["trends"]
    rows = [r for r in trends.rows if r.key != "earlier"]
    return {
        "type": "line", "labels": [r.label for r in rows],
        "datasets": [
            {"label": c.label, "data": [_value(r.cells[c.key]) for r in rows]} for c in trends.columns
        ],
    }


def impact_chart(dashboard: Dashboard) -> dict:
    impact = dashboard.tables["impact"]
    measures = [c for c in impact.columns if c.key in ("co2e_t", "diverted_t")]
    return {
        "type": "bar", "labels": [c.label for c in measures],
        "datasets": [
            {"label": r.label, "data": [_value(r.cells[c.key]) for c in measures]} for r in impact.rows
        ],
    }


def comparison_chart(table: Table) -> dict:
    cols = [c for c in table.columns if c.key in ("companies", "offers", "needs")]
    return {
        "type": "bar", "labels": [r.label for r in table.rows],
        "datasets": [{"label": c.label, "data": [_value(r.cells[c.key]) for r in table.rows]} for c in cols],
    }


# --- Map ----------------------------------------------------------------------------------------------

def geojson(dashboard: Dashboard) -> dict:
    """Grid cells (points at the cell centre) and inter-region flows (lines between region centres).
    A cell whose company count is suppressed is left out altogether: drawing it would place fewer
    than 3 companies; a flow whose match count is suppressed likewise."""
    features = []
    scope = dashboard.scope
    if scope.get("latitude") is not None:
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [scope["longitude"], scope["latitude"]]},
            "properties": {"kind": "region", "code": scope["code"], "name": scope["name"]},
        })
    cells = dashboard.tables.get("map")
    for row in cells.rows if cells else []:
        companies = row.cells["companies"]
        if companies.suppressed:
            continue
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [row.attrs["lon"], row.attrs["lat"]]},
            "properties": {
                "kind": "cell", "cell": row.key, "label": row.label,
                **{k: row.cells[k].public_value for k in ("companies", "sites", "offers", "needs")},
            },
        })
    flows = dashboard.tables.get("flows")
    for row in flows.rows if flows else []:
        matches = row.cells["matches"]
        if matches.suppressed or None in (row.attrs["from_lat"], row.attrs["to_lat"]):
            continue
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [
                [row.attrs["from_lon"], row.attrs["from_lat"]], [row.attrs["to_lon"], row.attrs["to_lat"]],
            ]},
            "properties": {
                "kind": "flow", "from": row.attrs["from"], "to": row.attrs["to"], "label": row.label,
                "matches": matches.public_value, "companies": row.cells["companies"].public_value,
            },
        })
    return {"type": "FeatureCollection", "features": features}


# --- JSON ---------------------------------------------------------------------------------------------

def table_json(table: Table) -> dict:
    cols = table.shown_columns
    return {
        "key": table.key, "title": table.title, "caption": table.caption,
        "columns": [{"key": c.key, "label": c.label, "unit": c.unit, "additive": c.additive} for c in cols],
        "rows": [
            {
                "key": r.key, "label": r.label, "parent": r.parent, "level": r.level, "attrs": r.attrs,
                "cells": {
                    c.key: {
                        "value": r.cells[c.key].public_value, "companies": r.cells[c.key].public_companies,
                        "suppressed": bool(r.cells[c.key].suppressed),
                    }
                    for c in cols if c.key in r.cells
                },
            }
            for r in table.rows
        ],
    }


def dashboard_json(dashboard: Dashboard) -> dict:
    return {
        "region": dashboard.scope,
        "generated_at": dashboard.meta.get("generated_at"),
        "suppression": {
            "min_companies": 3,
            "rule": _("A figure built from fewer than 3 companies is suppressed (null), and so is a second "
                      "figure wherever a published total could reveal it."),
        },
        "tables": {key: table_json(t) for key, t in dashboard.tables.items()},
        "map": geojson(dashboard) if "map" in dashboard.tables else None,
    }


# --- Pages --------------------------------------------------------------------------------------------

@dataclass
class KeyFigure:
    label: str
    text: str
    unit: str = ""
    suppressed: bool = False


def key_figures(dashboard: Dashboard) -> list[KeyFigure]:
    spec = [
        (_("Companies"), ("companies", "all", "companies"), "int", ""),
        (_("SMEs"), ("companies", "sme", "companies"), "int", ""),
        (_("Active offers"), ("listings", Direction.OFFER, "streams"), "int", ""),
        (_("Active needs"), ("listings", Direction.NEED, "streams"), "int", ""),
        (_("Matches"), ("funnel", "all", "matches"), "int", ""),
        (_("Implemented exchanges"), ("funnel", "implemented", "matches"), "int", ""),
        (_("Realised savings"), ("impact", "realised", "eur"), "money", _("EUR/year")),
        (_("Realised CO2e avoided"), ("impact", "realised", "co2e_t"), "qty", _("t/year")),
    ]
    out = []
    for label, address, fmt, unit in spec:
        cell = dashboard.cell(address)
        if cell is None:
            continue
        if cell.suppressed:
            out.append(KeyFigure(label, SUPPRESSED_MARK, suppressed=True))
        else:
            out.append(KeyFigure(label, format_value(cell.value, fmt), unit))
    return out


def _unmatched_rows(dashboard: Dashboard, direction: str) -> list[Row]:
    rows = []
    for row in dashboard.tables["listings"].rows:
        if row.level != 2 or row.attrs.get("direction") != direction:
            continue
        cell = row.cells["unmatched_streams"]
        if cell.suppressed or cell.value:
            rows.append(row)
    return rows


def region_page(dashboard: Dashboard) -> dict:
    """Everything the region template shows, prepared: display tables and chart data."""
    listings = dashboard.tables["listings"]
    unmatched_cols = ["unmatched_streams", "unmatched_volume"]
    return {
        "key_figures": key_figures(dashboard),
        "companies_table": display_table(dashboard.tables["companies"], row_header=_("Size")),
        "kinds_table": kinds_table(dashboard),
        "kinds_chart": kinds_chart(dashboard),
        "funnel_table": display_table(dashboard.tables["funnel"], row_header=_("Status")),
        "funnel_chart": funnel_chart(dashboard),
        "impact_table": display_table(dashboard.tables["impact"], row_header=_("Impact")),
        "impact_chart": impact_chart(dashboard),
        "trends_table": display_table(dashboard.tables["trends"], row_header=_("Month")),
        "trends_chart": trends_chart(dashboard),
        "map_table": display_table(
            dashboard.tables["map"], rows=[r for r in dashboard.tables["map"].rows if not r.cells["companies"].suppressed],
            row_header=_("Grid cell centre (lat, lon)"),
        ),
        "map_hidden_cells": sum(1 for r in dashboard.tables["map"].rows if r.cells["companies"].suppressed),
        "flows_table": display_table(
            dashboard.tables["flows"], rows=[r for r in dashboard.tables["flows"].rows
                                             if not r.cells["matches"].suppressed],
            row_header=_("Provider region to receiver region"),
        ),
        "map_data": geojson(dashboard),
        "supply_table": display_table(
            listings, rows=_unmatched_rows(dashboard, Direction.OFFER), columns=unmatched_cols,
            title=_("Supply without demand"),
            caption=_("Categories offered in the region whose listings have no live match to a listed need "
                      "within reach."),
            row_header=_("Category"),
        ),
        "demand_table": display_table(
            listings, rows=_unmatched_rows(dashboard, Direction.NEED), columns=unmatched_cols,
            title=_("Demand nobody offers"),
            caption=_("Categories needed in the region whose listings have no live match to a listed offer."),
            row_header=_("Category"),
        ),
        "listings_table": display_table(listings, row_header=_("Direction, kind and category")),
        "screening_table": display_table(dashboard.tables["screening"], row_header=_("NACE division")),
        "screening_rows": dashboard.tables["screening"].rows,
    }
