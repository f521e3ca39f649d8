"""Reading a sheet (step 1): CSV or XLSX into rows of text, with the checks that refuse files that
are too large, not UTF-8, not really XLSX, or hostile (zip bombs, XML entities)."""

from __future__ import annotations

import csv
import io
import math
import zipfile
from collections.abc import Iterable
from pathlib import PurePath

from django.conf import settings

from streams.importing.format import (
    COLUMN_ALIASES,
    COLUMNS,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_COMPRESSION_RATIO,
    MAX_RATIO_FREE_BYTES,
    MAX_ROWS,
    MAX_SHEET_ROWS_READ,
    MAX_XLSX_UNCOMPRESSED,
    MAX_ZIP_MEMBERS,
    XML_PART_SUFFIXES,
    XML_SCAN_CHUNK,
)
from streams.importing.plan import (
    SheetError,
    SheetRow,
    SheetRows,
)


def _max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 5 * 1024 * 1024))


def _normalise_header(name) -> str:
    s = str(name or "").strip().lower().rstrip("*").strip()
    s = "_".join(s.replace("-", " ").split())
    return COLUMN_ALIASES.get(s, s)


def _cell_text(value, column: str) -> str:
    """A cell as text. Numbers come back without float noise; an EWC code typed as a number gets
    its leading zero back (Excel turns 020501 into 20501)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float) and column == "ewc_code" and float(value).is_integer():
        return f"{int(value):06d}"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return " ".join(str(value).split()) if column != "description" else str(value).strip()


def _build_rows(records: Iterable[tuple[int, list]]) -> SheetRows:
    """Turn (row number, cells) records into SheetRows: find the header, map known columns."""
    header: list[str] | None = None
    rows: list[SheetRow] = []
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for number, cells in records:
        if header is None:
            if not any(str(c).strip() for c in cells if c is not None):
                continue
            header = [_normalise_header(c) for c in cells[:MAX_COLUMNS]]
            for pos, name in enumerate(header):
                if not name:
                    continue
                if name in COLUMNS:
                    if name in positions:
                        raise SheetError(f"Column “{name}” appears twice in the header.", row=number, column=name)
                    positions[name] = pos
                else:
                    ignored.append(name)
            if "company_ref" not in positions:
                raise SheetError(
                    "The header has no “company_ref” column (the first non-empty row must name the columns; "
                    "see the template).",
                    row=number, column="company_ref",
                )
            continue
        values = {}
        for name, pos in positions.items():
            raw = cells[pos] if pos < len(cells) else None
            text = _cell_text(raw, name)
            if len(text) > MAX_CELL_CHARS:
                raise SheetError(f"A cell is longer than {MAX_CELL_CHARS} characters.", row=number, column=name)
            values[name] = text
        if not any(values.values()):
            continue
        if len(rows) >= MAX_ROWS:
            raise SheetError(f"The sheet has more than {MAX_ROWS} rows; split it into smaller files.")
        rows.append(SheetRow(number=number, values=values))
    if header is None:
        raise SheetError("The sheet is empty.")
    return SheetRows(rows, columns=tuple(positions), ignored_columns=ignored)


def _read_csv(data: bytes) -> SheetRows:
    if data.startswith(b"PK\x03\x04"):
        raise SheetError("This file is an Excel workbook, not CSV: give it the .xlsx extension.")
    if b"\x00" in data:
        raise SheetError("This is not a text file. Save the sheet as “CSV UTF-8” or as .xlsx.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(
            f"The file is not UTF-8 text (byte {exc.start}). Save it as “CSV UTF-8 (comma delimited)” or as .xlsx."
        ) from None
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # The header decides the delimiter: Excel in many European locales writes ';'.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return _build_rows((number, cells) for number, cells in enumerate(reader, start=1))
    except csv.Error as exc:
        raise SheetError(f"The CSV file is malformed: {exc}.") from None


def _check_xlsx_archive(data: bytes) -> None:
    """Refuse what is not really an XLSX workbook before openpyxl touches it.

    From the zip's central directory (nothing decompressed yet): a real workbook has
    `[Content_Types].xml` and `xl/workbook.xml`, no encrypted members, a bounded number of members,
    a bounded total unpacked size and no member that unpacks far beyond its packed size (zip bomb).
    Python's zipfile never inflates a member beyond the size the directory declares (and fails on a
    CRC mismatch), so these declared sizes bound all later work. Then every XML part is streamed once
    to refuse DTDs and entity declarations (billion laughs, XXE) and non-UTF-8 encodings: openpyxl
    parses through defusedxml anyway, this makes the refusal early, cheap and explicit.
    """
    if not data.startswith(b"PK\x03\x04"):
        hint = " It looks like an old .xls workbook: save it as .xlsx." if data.startswith(b"\xd0\xcf\x11\xe0") else ""
        raise SheetError("The file is not a real .xlsx workbook." + hint + " Save it as .xlsx or CSV UTF-8.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
                raise SheetError("The file is a zip archive but not an .xlsx workbook.")
            if len(infos) > MAX_ZIP_MEMBERS or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED:
                raise SheetError("The workbook unpacks to too much data (a “zip bomb”?); save just the import "
                                 "sheet.")
            for info in infos:
                if info.flag_bits & 0x1:
                    raise SheetError("The workbook is encrypted or password-protected; save it without a password.")
                if info.file_size > MAX_RATIO_FREE_BYTES and info.file_size > MAX_COMPRESSION_RATIO * max(
                    info.compress_size, 1
                ):
                    raise SheetError("The workbook unpacks to far more data than its size (a “zip bomb”?); "
                                     "save just the import sheet.")
            for info in infos:
                if info.filename.lower().endswith(XML_PART_SUFFIXES):
                    _check_xml_part(archive, info)
    except SheetError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, ValueError, OSError, EOFError):
        raise SheetError("The file is not a real .xlsx workbook (damaged archive).") from None


def _check_xml_part(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one XML part in chunks (bounded memory): no DOCTYPE or ENTITY declarations, UTF-8 only."""
    tail = b""
    first = True
    with archive.open(info) as member:
        while chunk := member.read(XML_SCAN_CHUNK):
            if first:
                first = False
                if chunk.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in chunk[:4]:
                    raise SheetError("The workbook has XML parts that are not UTF-8; save it again as .xlsx.")
            window = (tail + chunk).lower()
            if b"<!doctype" in window or b"<!entity" in window:
                raise SheetError("The workbook contains XML entity or DTD declarations, which are refused for "
                                 "safety. Save it again as .xlsx from a spreadsheet program.")
            tail = window[-16:]


def _workbook_error(exc: Exception) -> SheetError:
    """A readable error for a workbook openpyxl failed on; defusedxml refusals are named as such."""
    from defusedxml import DefusedXmlException

    seen, cause = set(), exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, DefusedXmlException):
            return SheetError("The workbook contains XML entity or DTD declarations, which are refused for "
                              "safety. Save it again as .xlsx from a spreadsheet program.")
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return SheetError(f"The workbook cannot be read ({type(exc).__name__}). Save it again as .xlsx.")


def _read_xlsx(data: bytes) -> SheetRows:
    import openpyxl
    from openpyxl.xml import DEFUSEDXML

    _check_xlsx_archive(data)
    if not DEFUSEDXML:  # pragma: no cover - only if someone uninstalls defusedxml or sets OPENPYXL_DEFUSEDXML
        raise SheetError("XLSX import is disabled: defusedxml is not active for openpyxl.")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged or hostile parts
        raise _workbook_error(exc) from None
    try:
        if not workbook.worksheets:
            raise SheetError("The workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        def records():
            rows = sheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
            for number, cells in enumerate(rows, start=1):
                if number > MAX_SHEET_ROWS_READ:
                    raise SheetError(f"The worksheet has more than {MAX_SHEET_ROWS_READ} rows (blank ones "
                                     "included); copy just the import rows into a new sheet.")
                yield number, list(cells)

        try:
            return _build_rows(records())
        except SheetError:
            raise
        except Exception as exc:
            raise _workbook_error(exc) from None
    finally:
        workbook.close()


def parse_sheet(fileobj, filename: str) -> SheetRows:
    """Read a CSV (UTF-8, `,` or `;` delimited) or XLSX file (first worksheet) into rows.

    Raises SheetError for a file that cannot be imported at all. Cells are returned as stripped text;
    blank rows are skipped but still counted, so row numbers match what a spreadsheet shows.
    """
    limit = _max_bytes()
    data = fileobj.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("utf-8")
    if len(data) > limit:
        raise SheetError(f"The file is larger than {limit // (1024 * 1024) or 1} MB.")
    if not data.strip():
        raise SheetError("The file is empty.")
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(data)
    if suffix == ".xls":
        raise SheetError("Old .xls workbooks are not supported: save the sheet as .xlsx or CSV UTF-8.")
    if suffix == ".ods":
        raise SheetError("OpenDocument sheets are not supported: save the sheet as .xlsx or CSV UTF-8.")
    if suffix:
        raise SheetError(f"Unsupported file type “{suffix}”: upload a .csv or .xlsx file.")
    return _read_xlsx(data) if data.startswith(b"PK\x03\x04") else _read_csv(data)
