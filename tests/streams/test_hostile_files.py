"""Hostile sheets: refused with a clear message, in under 2 seconds, without large memory growth.

Each file is built here. Each refusal is timed (perf_counter) and, in a second run, its peak Python
allocation measured with tracemalloc; the figures are printed (pytest -s) and bounded.
"""

import csv
import io
import time
import tracemalloc
import zipfile

import openpyxl
import pytest
from django.core.management import call_command

from companies.models import Company
from core.exports import safe_cell
from matching.models import Match
from streams.importing import COLUMNS, import_file
from streams.importing import sheet as importing_sheet
from streams.models import Stream
from tests.streams.test_import import _xlsx_bytes

pytestmark = pytest.mark.django_db

MAX_SECONDS = 2.0
MAX_PEAK_BYTES = 32 * 1024 * 1024  # the file itself may be 5 MB and is copied once or twice
ZEROS_MB = 400

LAUGHS = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + "]>\n"
)


GOOD_XLSX = None


def good_xlsx() -> bytes:
    global GOOD_XLSX
    if GOOD_XLSX is None:
        GOOD_XLSX = _xlsx_bytes([["company_ref", "company_name"], ["C-1", "Firm"]])
    return GOOD_XLSX


def replace_parts(data: bytes, parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename not in parts:
                dst.writestr(item, src.read(item.filename))
        for name, body in parts.items():
            dst.writestr(name, body)
    return out.getvalue()


def zeros_member(size_mb: int) -> bytes:
    """A workbook whose sheet is `size_mb` MB of zeros, deflated by streaming (never held unpacked)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good_xlsx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(item, src.read(item.filename))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = b"0" * (1024 * 1024)
            for _ in range(size_mb):
                member.write(chunk)
    return out.getvalue()


@pytest.fixture(scope="module")
def zip_bomb():
    return zeros_member(ZEROS_MB)


def measure(data: bytes, name: str):
    """(result, seconds, peak bytes): one timed run, then one run under tracemalloc."""
    started = time.perf_counter()
    result = import_file(io.BytesIO(data), name)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        import_file(io.BytesIO(data), name)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\n{name}: {len(data)} bytes, refused in {elapsed * 1000:.0f} ms, peak {peak / 1e6:.1f} MB: "
          f"{result.errors[0].message if result.errors else 'accepted'}")
    return result, elapsed, peak


def assert_refused(data: bytes, name: str, message: str):
    result, elapsed, peak = measure(data, name)
    assert not result.applied and result.errors, name
    assert message in result.errors[0].message
    assert elapsed < MAX_SECONDS, f"{name} took {elapsed:.2f} s"
    assert peak < MAX_PEAK_BYTES, f"{name} peaked at {peak / 1e6:.1f} MB"
    assert not Company.objects.exists()
    return result


def test_an_oversized_file_is_refused_before_it_is_parsed(settings):
    settings.IMPORT_MAX_BYTES = 5 * 1024 * 1024
    data = ("company_ref,company_name\n" + "C-1,Firm\n" * 700_000).encode()
    assert len(data) > settings.IMPORT_MAX_BYTES
    assert_refused(data, "huge.csv", "larger than 5 MB")


@pytest.mark.parametrize(("data", "message"), [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "not a real .xlsx workbook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a real .xlsx workbook"),
    (b"company_ref,company_name\nC-1,Firm\n", "not a real .xlsx workbook"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "old .xls workbook"),
    (b"PK\x03\x04garbage that is not a zip", "damaged archive"),
])
def test_a_file_of_another_type_renamed_to_xlsx_is_refused(data, message):
    assert_refused(data, "renamed.xlsx", message)


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    assert_refused(out.getvalue(), "letter.xlsx", "not an .xlsx workbook")


def test_a_binary_file_renamed_to_csv_is_refused():
    assert_refused(b"company_ref\nC-1\x00\x01\x02", "data.csv", "not a text file")


def test_a_zip_bomb_is_refused_from_the_central_directory(zip_bomb):
    assert len(zip_bomb) < 5 * 1024 * 1024  # small enough to pass the size limit
    assert_refused(zip_bomb, "bomb.xlsx", "zip bomb")


def test_a_part_that_packs_far_too_tightly_is_refused():
    # 20 MB of zeros: under the total limit, but 1000:1 is no spreadsheet.
    assert_refused(zeros_member(20), "dense.xlsx", "far more data than its size")


def test_a_member_that_lies_about_its_size_is_never_inflated_beyond_it():
    """Python's zipfile inflates no more than the size the central directory declares and then fails
    the CRC check: a 20 MB member that claims 1 MB is refused quickly and cheaply."""
    data = bytearray(zeros_member(20))
    name = b"xl/worksheets/sheet1.xml"
    pos = data.find(b"PK\x01\x02")
    while pos >= 0:
        name_len = int.from_bytes(data[pos + 28:pos + 30], "little")
        if bytes(data[pos + 46:pos + 46 + name_len]) == name:
            break
        pos = data.find(b"PK\x01\x02", pos + 4)
    assert pos >= 0
    data[pos + 24:pos + 28] = (1024 * 1024).to_bytes(4, "little")  # uncompressed size in the directory
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        assert z.getinfo(name.decode()).file_size == 1024 * 1024
    assert_refused(bytes(data), "liar.xlsx", "damaged archive")


@pytest.mark.parametrize("part", ["xl/sharedStrings.xml", "xl/workbook.xml", "xl/worksheets/sheet1.xml"])
def test_billion_laughs_is_refused_without_expanding(part):
    body = (LAUGHS + '<root xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol9;</root>').encode()
    assert_refused(replace_parts(good_xlsx(), {part: body}), "laughs.xlsx", "entity or DTD declarations")


def test_an_external_entity_is_refused():
    body = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&xxe;</t></si></sst>')
    assert_refused(replace_parts(good_xlsx(), {"xl/sharedStrings.xml": body}), "xxe.xlsx", "entity or DTD")


def test_an_xml_part_in_utf16_is_refused():
    body = '<?xml version="1.0" encoding="UTF-16"?><workbook/>'.encode("utf-16")
    assert_refused(replace_parts(good_xlsx(), {"xl/workbook.xml": body}), "utf16.xlsx", "not UTF-8")


def test_defusedxml_guards_openpyxl_even_without_our_scan(monkeypatch):
    """openpyxl parses through defusedxml when it is installed: with our own scan switched off the
    billion laughs file is still refused, by defusedxml, quickly."""
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML is True
    monkeypatch.setattr(importing_sheet, "_check_xml_part", lambda archive, info: None)
    body = (LAUGHS + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row></sheetData></worksheet>').encode()
    assert_refused(replace_parts(good_xlsx(), {"xl/worksheets/sheet1.xml": body}), "laughs.xlsx",
                   "refused for safety")


def test_a_worksheet_of_endless_blank_rows_stops_early(monkeypatch):
    monkeypatch.setattr(importing_sheet, "MAX_SHEET_ROWS_READ", 1000)
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t> </t></is></c></row>' for i in range(2, 3000))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
             'spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>company_ref</t></is>'
             f'</c></row>{rows}</sheetData></worksheet>')
    data = replace_parts(good_xlsx(), {"xl/worksheets/sheet1.xml": sheet.encode()})
    assert_refused(data, "blank.xlsx", "more than 1000 rows")


def test_the_command_applies_the_same_defences(tmp_path, zip_bomb, capsys):
    from django.core.management.base import CommandError

    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_bomb)
    started = time.perf_counter()
    with pytest.raises(CommandError):
        call_command("import_streams", str(path), verbosity=0)
    assert time.perf_counter() - started < MAX_SECONDS
    assert "zip bomb" in capsys.readouterr().err


# --- Formula cells ------------------------------------------------------------------------------------

FORMULAS = ["=HYPERLINK(\"http://evil.test\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A2)"]


def formula_sheet_rows():
    row = dict.fromkeys(COLUMNS, "")
    row.update(company_ref="@C-1", company_name="=Evil AB", nace_code="10.51", country="SE", site_name="+Plant",
               latitude="55.7", longitude="13.19", region="SE22", direction="offer", kind="material",
               category="MAT.FOOD.WHEY", quantity="10", unit="t")
    rows = []
    for i, text in enumerate(FORMULAS):
        rows.append({**row, "stream_ref": f"=S{i}", "title": text, "description": text})
    return rows


def test_formula_cells_are_stored_as_text_and_escaped_in_exports(capsys):
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(formula_sheet_rows())
    result = import_file(io.BytesIO(buf.getvalue().encode()), "formulas.csv")
    assert result.ok, result.errors

    company = Company.objects.get()
    assert company.name == "=Evil AB" and company.external_ref == "@C-1"
    assert sorted(Stream.objects.values_list("title", flat=True)) == sorted(FORMULAS)
    for title in Stream.objects.values_list("title", flat=True):
        assert safe_cell(title) == "'" + title

    offer, other = Stream.objects.order_by("pk")[:2]
    Match.objects.create(offer=offer, need=None, source_company=company, target_company=company, score=0.5,
                         distance_km=1, engine_version="test", prospective=True)
    call_command("export_matches", format="csv")
    exported = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    row = dict(zip(exported[0], exported[1], strict=True))
    assert row["offer_ref"] == "'=S0" and row["source_company_ref"] == "'@C-1"


def test_formula_cells_of_an_xlsx_are_read_as_their_text_never_evaluated():
    header = list(COLUMNS)
    row = {**formula_sheet_rows()[1], "stream_ref": "S-1", "company_name": "Evil AB"}
    wb = openpyxl.Workbook()
    wb.active.append(header)
    wb.active.append([row[c] for c in header])
    # a real formula cell: openpyxl stores it as a formula without a cached value; the import reads the
    # cached value only (data_only), so a formula never runs and never becomes data
    wb.active.cell(row=2, column=header.index("description") + 1).value = "=1+2"
    buf = io.BytesIO()
    wb.save(buf)
    result = import_file(io.BytesIO(buf.getvalue()), "formulas.xlsx")
    assert result.ok, result.errors
    stream = Stream.objects.get()
    assert stream.title == "+cmd|' /C calc'!A0" and stream.description == ""
