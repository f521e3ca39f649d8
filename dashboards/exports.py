"""CSV, XLSX and GeoJSON exports of the suppressed dashboards and of open data.

One long CSV row per published cell, one XLSX sheet per table (suppressed cells read "c"), and the
map's GeoJSON. All read only the suppressed dataclasses, exactly as the pages do.
"""

from __future__ import annotations

import csv
import io
import json

from django.utils.translation import gettext as _
from openpyxl import Workbook

from core.exports import safe_cell
from dashboards.figures import Dashboard, Table
from dashboards.presentation import SUPPRESSED_MARK, column_unit, geojson

CSV_HEADER = ("table", "row_key", "row", "parent", "level", "column", "column_label", "unit", "value",
              "companies", "suppressed")


def _csv_rows(table: Table):
    for row in table.rows:
        for col in table.shown_columns:
            cell = row.cells.get(col.key)
            if cell is None or (cell.value is None and not cell.suppressed):
                continue
            yield (
                table.key, row.key, safe_cell(row.label), row.parent or "", row.level, col.key, safe_cell(col.label),
                column_unit(col, row), "" if cell.suppressed else cell.value,
                "" if cell.suppressed else cell.companies, 1 if cell.suppressed else 0,
            )


def to_csv(tables: list[Table]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for table in tables:
        writer.writerows(_csv_rows(table))
    return out.getvalue()


def to_xlsx(tables: list[Table], *, title: str, generated_at: str = "") -> bytes:
    wb = Workbook(write_only=True)
    about = wb.create_sheet(_("About"))
    about.append([safe_cell(title)])
    about.append([_("Generated"), generated_at])
    about.append([_("Confidentiality"), _(
        "Any figure built from fewer than 3 companies is suppressed and shown as “c”; so is a second figure "
        "wherever a published total could reveal it."
    )])
    used = set()
    for table in tables:
        name = table.key[:31]
        while name in used:
            name = name[:28] + str(len(used))
        used.add(name)
        ws = wb.create_sheet(name)
        ws.append([safe_cell(table.title)])
        ws.append([safe_cell(table.caption)])
        cols = table.shown_columns
        header = [safe_cell(f"{c.label} ({c.unit})" if c.unit not in ("", "row") else c.label) for c in cols]
        ws.append([_("Row"), _("Key"), _("Unit"), *header])
        for row in table.rows:
            values = []
            unit = row.attrs.get("unit", "")
            for col in cols:
                cell = row.cells.get(col.key)
                if cell is None or (cell.value is None and not cell.suppressed):
                    values.append(None)
                elif cell.suppressed:
                    values.append(SUPPRESSED_MARK)
                else:
                    values.append(cell.value)
            ws.append([safe_cell("  " * row.level + row.label), row.key, unit, *values])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_geojson(dashboard: Dashboard) -> str:
    return json.dumps(geojson(dashboard), ensure_ascii=False)


def regions_geojson(table: Table) -> str:
    """Open data as GeoJSON: one point per region centre with its (suppressed) key figures."""
    features = []
    for row in table.rows:
        if row.attrs.get("lat") is None or row.attrs.get("lon") is None:
            continue
        props = {"kind": "region", "code": row.key, "name": row.label}
        for col in table.shown_columns:
            cell = row.cells.get(col.key)
            props[col.key] = cell.public_value if cell else None
        features.append({
            "type": "Feature", "geometry": {"type": "Point", "coordinates": [row.attrs["lon"], row.attrs["lat"]]},
            "properties": props,
        })
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
