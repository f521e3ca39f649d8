"""Import companies, sites and streams from a CSV or XLSX sheet (one stream per row).

Three steps, each usable on its own so that the command and the facilitator's upload page share them:

1. `parse_sheet(fileobj, filename)` reads the file into `SheetRow`s (strings only), refusing files that
   are too large, not UTF-8, or not really XLSX;
2. `validate_rows(rows)` checks every row against the reference data and the models' own field rules
   and returns an `ImportPlan`: what would be created, updated or left unchanged, plus every problem as
   a `RowError` (row as the user sees it, header = row 1; column; reason);
3. `apply_plan(plan, actor=...)` writes the plan in ONE transaction through the usual services
   (`company_create`, `site_create`, `stream_create`, ...) so that the same rules hold as everywhere else.

`import_file(...)` runs all three and writes nothing unless the whole file is valid. The format is
documented for users in docs/import-format.md; keep the two in step.

Modules: `format` (columns, limits, accepted words), `plan` (rows, errors, plans, results), `scope`
(whose keys), `sheet` (step 1 and its file checks), `cells` and `stream_rows` and `validation`
(step 2), `apply` (step 3 and `import_file`), `pending` and `run` (the upload page's kept uploads
and their commit as a task). Every public name is importable from `streams.importing`.

Keys: a company by `company_ref` (Company.external_ref) within the importer's scope (`ImportScope`), a
site by (company, `site_name`), a stream by (company, `stream_ref`) (Stream.external_ref), so
re-importing a sheet updates instead of duplicating. Only what the importer may edit is ever found:
anything else is answered exactly as if it did not exist, so the preview is no oracle.
A blank cell never erases data: on a new record the field takes its default, on an existing one it
keeps its value; company and site cells left blank on later rows of a company are taken from the
rows that fill them.
"""

from __future__ import annotations

from streams.importing.apply import (
    apply_plan,
    import_file,
    preview_file,
)
from streams.importing.cells import (
    parse_bool,
    parse_country,
    parse_number,
    parse_unit,
)
from streams.importing.format import (
    COLUMNS,
    COMPANY_COLUMNS,
    DEFAULT_SITE_NAME,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_RATIO_FREE_BYTES,
    MAX_ROWS,
    MAX_SHEET_ROWS_READ,
    MAX_XLSX_UNCOMPRESSED,
    MAX_ZIP_MEMBERS,
    SITE_COLUMNS,
    STREAM_COLUMNS,
    XML_PART_SUFFIXES,
    XML_SCAN_CHUNK,
    ProgressFn,
)
from streams.importing.pending import (
    pending_import_create,
    pending_import_start,
    pending_imports_sweep,
)
from streams.importing.plan import (
    CREATE,
    ENTITIES,
    UNCHANGED,
    UPDATE,
    CompanyPlan,
    ImportFailed,
    ImportPlan,
    ImportResult,
    RowError,
    SheetError,
    SheetRow,
    SheetRows,
    SitePlan,
    StreamPlan,
)
from streams.importing.run import (
    pending_import_progress,
    pending_import_run,
)
from streams.importing.scope import (
    ImportScope,
    region_scope,
)
from streams.importing.sheet import (
    parse_sheet,
)
from streams.importing.validation import (
    validate_rows,
)

__all__ = [
    "COLUMNS",
    "COMPANY_COLUMNS",
    "DEFAULT_SITE_NAME",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_COMPRESSION_RATIO",
    "MAX_RATIO_FREE_BYTES",
    "MAX_ROWS",
    "MAX_SHEET_ROWS_READ",
    "MAX_XLSX_UNCOMPRESSED",
    "MAX_ZIP_MEMBERS",
    "SITE_COLUMNS",
    "STREAM_COLUMNS",
    "XML_PART_SUFFIXES",
    "XML_SCAN_CHUNK",
    "ProgressFn",
    "CREATE",
    "ENTITIES",
    "UNCHANGED",
    "UPDATE",
    "CompanyPlan",
    "ImportFailed",
    "ImportPlan",
    "ImportResult",
    "RowError",
    "SheetError",
    "SheetRow",
    "SheetRows",
    "SitePlan",
    "StreamPlan",
    "ImportScope",
    "region_scope",
    "parse_sheet",
    "parse_bool",
    "parse_country",
    "parse_number",
    "parse_unit",
    "validate_rows",
    "apply_plan",
    "import_file",
    "preview_file",
    "pending_import_create",
    "pending_import_start",
    "pending_imports_sweep",
    "pending_import_progress",
    "pending_import_run",
]
