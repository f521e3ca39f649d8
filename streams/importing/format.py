"""The import sheet's format: its columns, the limits that refuse monster files, where a model
field's error is shown, and the words accepted for choices (docs/import-format.md)."""

from __future__ import annotations

from collections.abc import Callable

from streams.choices import Direction, Period

COMPANY_COLUMNS = ("company_name", "nace_code", "country", "employees")
SITE_COLUMNS = ("site_name", "latitude", "longitude", "region")
STREAM_COLUMNS = (
    "stream_ref", "direction", "kind", "title", "description", "category", "ewc_code", "quantity", "unit",
    "period", "temperature_c", "hazardous", "price_eur_per_unit", "disposal_route",
    "disposal_cost_eur_per_unit", "visibility", "max_transport_km",
)
COLUMNS = ("company_ref", *COMPANY_COLUMNS, *SITE_COLUMNS, *STREAM_COLUMNS)
# Other names a header may give a column (docs/import-format.md); the template writes the first names.
COLUMN_ALIASES = {"max_distance_km": "max_transport_km"}

# A company's site when the sheet gives coordinates but no site name, and the company has none yet.
DEFAULT_SITE_NAME = "Main site"

# Defences against hostile or accidental monster files (the upload page relies on them too).
MAX_ROWS = 10_000
MAX_COLUMNS = 200
MAX_CELL_CHARS = 10_000
MAX_ZIP_MEMBERS = 1_000
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024  # a full 10 000-row sheet unpacks to about 20 MB
MAX_COMPRESSION_RATIO = 100  # spreadsheet XML packs 5-30:1; zip bombs 1000:1
MAX_RATIO_FREE_BYTES = 1024 * 1024  # small parts may pack as tightly as they like
MAX_SHEET_ROWS_READ = 50_000  # rows read from a worksheet, blank ones included
XML_PART_SUFFIXES = (".xml", ".rels", ".vml")
XML_SCAN_CHUNK = 64 * 1024

# Where a model field's error is shown in the sheet.
_COMPANY_FIELD_COLUMN = {"name": "company_name", "nace": "nace_code", "external_ref": "company_ref"}
_SITE_FIELD_COLUMN = {"name": "site_name"}
_STREAM_FIELD_COLUMN = {
    "external_ref": "stream_ref",
    "accepts_hazardous": "hazardous",
    "ewc_codes": "ewc_code",
    "quantity_yearly": "quantity",
}

_TRUE = {"yes", "y", "true", "t", "1", "x"}
_FALSE = {"no", "n", "false", "f", "0"}

_DIRECTION_ALIASES = {
    "offer": Direction.OFFER, "have": Direction.OFFER, "output": Direction.OFFER, "supply": Direction.OFFER,
    "need": Direction.NEED, "want": Direction.NEED, "input": Direction.NEED, "demand": Direction.NEED,
}
_PERIOD_ALIASES = {
    "daily": Period.DAY, "weekly": Period.WEEK, "monthly": Period.MONTH, "yearly": Period.YEAR,
    "annual": Period.YEAR, "annually": Period.YEAR, "a": Period.YEAR, "batch": Period.ONCE,
}
_UNIT_ALIASES = {
    "tonne": "t", "tonnes": "t", "ton": "t", "tons": "t",
    "m³": "m3", "cbm": "m3", "litre": "l", "litres": "l", "liter": "l", "liters": "l",
    "megalitre": "ML", "megalitres": "ML", "megaliter": "ML", "megaliters": "ML",
    "units": "unit", "pcs": "unit", "pieces": "unit", "piece": "unit",
    "hour": "h", "hours": "h", "days": "day", "person-day": "day", "person-days": "day",
}

ProgressFn = Callable[[str, int, int], None]
"""progress(stage, done, total): called as rows are validated ("validate") and written ("write")."""
