"""Write docs/import_template.csv and docs/import_template.xlsx (the sheet format of import_streams).

    .venv/bin/python docs/make_import_template.py

Keep COLUMNS in step with streams/importing/format.py and the rows valid: tests/streams/test_import.py
imports both files. The column help is a short form of docs/import-format.md.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

DOCS = Path(__file__).resolve().parent

# column, required, meaning (short)
COLUMNS = (
    ("company_ref", "every row", "Your reference for the company; re-imports update by it"),
    ("company_name", "new company", "Company name"),
    ("nace_code", "new company", "NACE Rev. 2.1 (or Rev. 2) class, e.g. 10.51"),
    ("country", "new company", "Two-letter country code, e.g. SE"),
    ("employees", "no", "Number of employees (under 250 = SME)"),
    ("site_name", "no", "Site (plant) name; blank = the company's site named on another row"),
    ("latitude", "new site", "Decimal degrees, e.g. 55.7217"),
    ("longitude", "new site", "Decimal degrees, e.g. 13.2162"),
    ("region", "no", "NUTS 2 code or name; blank = nearest region"),
    ("stream_ref", "stream row", "Your reference for the stream, unique within the company"),
    ("direction", "new stream", "offer or need"),
    ("kind", "no", "material, energy, water, asset or expertise (else from the category)"),
    ("title", "new stream", "Short name of the stream"),
    ("description", "no", "Free text"),
    ("category", "unless ewc_code", "Resource category code or name, e.g. MAT.FOOD.WHEY"),
    ("ewc_code", "no", "List-of-Waste code; on a need the accepted codes separated by ;"),
    ("quantity", "no", "Number > 0 (decimal comma accepted)"),
    ("unit", "with quantity", "t, kg | MWh, kWh, GWh, GJ, MJ | m3, l, ML | unit | h, day"),
    ("period", "no", "day, week, month, year (default), once"),
    ("temperature_c", "no", "Offer: supply temperature; need: minimum temperature (°C)"),
    ("hazardous", "no", "yes/no. Offer: hazardous; need: accepts hazardous waste"),
    ("price_eur_per_unit", "no", "EUR per unit; negative = gate fee paid by the provider"),
    ("disposal_route", "no", "landfill, incineration, energy_recovery, recycling, sewer, vented, other"),
    ("disposal_cost_eur_per_unit", "no", "What disposal costs today, EUR per unit"),
    ("visibility", "no", "public, anonymous (default) or private"),
    ("max_transport_km", "no", "Maximum transport distance in km"),
)
NAMES = [c[0] for c in COLUMNS]
TEXT_COLUMNS = {"company_ref", "nace_code", "stream_ref", "ewc_code"}  # keep leading zeros in Excel

ROWS = [
    # A dairy offering whey (the EWC map decides the category) and warm water on a second row.
    {"company_ref": "C-001", "company_name": "Lunds Mejeri AB", "nace_code": "10.51", "country": "SE",
     "employees": 85, "site_name": "Mejeri Lund", "latitude": 55.7217, "longitude": 13.2162, "region": "SE22",
     "stream_ref": "S-001", "direction": "offer", "kind": "material", "title": "Whey from cheese making",
     "description": "Sweet whey, 5-6 % dry matter, collected daily from a 50 m3 tank", "ewc_code": "020501",
     "quantity": 1500, "unit": "t", "period": "month", "hazardous": "no", "price_eur_per_unit": 5,
     "disposal_route": "sewer", "disposal_cost_eur_per_unit": 28, "visibility": "anonymous"},
    {"company_ref": "C-001", "stream_ref": "S-002", "direction": "offer", "kind": "energy",
     "title": "Warm water from pasteurisers", "category": "ENE.HEAT.MT", "quantity": 4200, "unit": "MWh",
     "period": "year", "temperature_c": 65, "price_eur_per_unit": 12, "disposal_route": "vented",
     "visibility": "public", "max_transport_km": 10},
    # A greenhouse needing heat, 2 km away.
    {"company_ref": "C-002", "company_name": "Lund Greens AB", "nace_code": "01.13", "country": "SE",
     "employees": 24, "site_name": "Växthus Lund", "latitude": 55.7302, "longitude": 13.2437, "region": "SE22",
     "stream_ref": "S-010", "direction": "need", "kind": "energy", "title": "Heat for greenhouse heating",
     "description": "Mainly September to May", "category": "ENE.HEAT.MT", "quantity": 3500, "unit": "MWh",
     "period": "year", "temperature_c": 45, "price_eur_per_unit": 25, "max_transport_km": 5},
    # A biogas plant that accepts two EWC codes (region left blank: the nearest one is taken).
    {"company_ref": "C-003", "company_name": "Skåne Biogas AB", "nace_code": "35.21", "country": "SE",
     "employees": 18, "site_name": "Biogas Kristianstad", "latitude": 56.0006, "longitude": 14.1434,
     "stream_ref": "S-020", "direction": "need", "kind": "material", "title": "Food-industry residues for digestion",
     "category": "MAT.AGIN.ADFEED", "ewc_code": "020501;020502", "quantity": 20000, "unit": "t", "period": "year",
     "hazardous": "no", "price_eur_per_unit": -10, "max_transport_km": 80},
    # A company registered without streams (yet).
    {"company_ref": "C-004", "company_name": "Kristianstad Gjuteri AB", "nace_code": "24.51", "country": "SE",
     "employees": 140, "site_name": "Gjuteri Kristianstad", "latitude": 56.0301, "longitude": 14.1602,
     "region": "SE22"},
]

CHOICES = {
    "direction": "offer,need",
    "kind": "material,energy,water,asset,expertise",
    "period": "day,week,month,year,once",
    "hazardous": "yes,no",
    "visibility": "public,anonymous,private",
    "disposal_route": "landfill,incineration,energy_recovery,recycling,sewer,vented,other",
}


def write_csv(path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=NAMES, lineterminator="\n")
        writer.writeheader()
        for row in ROWS:
            writer.writerow({k: row.get(k, "") for k in NAMES})


def write_xlsx(path: Path) -> None:
    wb = Workbook()
    # Fixed document dates, so that regenerating the template does not change it needlessly.
    wb.properties.created = wb.properties.modified = dt.datetime(2026, 1, 1)
    wb.properties.creator = "Symbiosis"
    ws = wb.active
    ws.title = "Import"  # the importer reads the first sheet
    ws.append(NAMES)
    for row in ROWS:
        ws.append([row.get(k) for k in NAMES])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for pos, (name, required, _meaning) in enumerate(COLUMNS, start=1):
        letter = get_column_letter(pos)
        cell = ws.cell(row=1, column=pos)
        cell.font = bold
        if required != "no":
            cell.fill = fill
        ws.column_dimensions[letter].width = max(12, min(40, len(name) + 4))
        if name in TEXT_COLUMNS:
            for r in range(2, 1001):
                ws.cell(row=r, column=pos).number_format = "@"
        if name in CHOICES:
            dv = DataValidation(type="list", formula1=f'"{CHOICES[name]}"', allow_blank=True)
            dv.add(f"{letter}2:{letter}1000")
            ws.add_data_validation(dv)
    ws.freeze_panes = "B2"

    help_ws = wb.create_sheet("Columns")
    help_ws.append(["column", "required", "meaning"])
    for cell in help_ws[1]:
        cell.font = bold
    for column in COLUMNS:
        help_ws.append(list(column))
    help_ws.append([])
    help_ws.append(["Blue headers are required where the 'required' column says so. "
                    "Full description: docs/import-format.md."])
    help_ws.column_dimensions["A"].width = 28
    help_ws.column_dimensions["B"].width = 16
    help_ws.column_dimensions["C"].width = 90
    for row in help_ws.iter_rows(min_row=2):
        row[-1].alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)


if __name__ == "__main__":
    write_csv(DOCS / "import_template.csv")
    write_xlsx(DOCS / "import_template.xlsx")
    print(f"wrote {DOCS / 'import_template.csv'} and {DOCS / 'import_template.xlsx'}")
