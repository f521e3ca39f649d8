"""Sheet import: parse, validate, apply all-or-nothing, re-import updates; and the import_streams command."""

import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from companies.models import Company, Site
from companies.roles import forget_roles
from streams.importing import COLUMNS, import_file, parse_sheet, validate_rows
from streams.importing import apply as importing_apply
from streams.importing import sheet as importing_sheet
from streams.models import EwcCode, Stream
from tests.factories import CompanyFactory, RegionRoleFactory, SiteFactory, UserFactory, region

pytestmark = pytest.mark.django_db


DOCS = Path(__file__).resolve().parents[2] / "docs"
HEADER = ",".join(COLUMNS)
GOOD_ROWS = [
    # dairy offering whey (EWC decides the category) and warm water
    "C-001,Skåne Dairy AB,10.51,SE,85,Lund dairy,55.705,13.191,SE22,S-001,offer,material,Whey from cheese making,"
    "Sweet whey,,020501,40,t,week,,,-5,sewer,30,anonymous,150",
    "C-001,,,,,,,,,S-002,offer,energy,Warm water from pasteurisers,,ENE.HEAT.MT,,1200,MWh,year,60,,,,,public,",
    # greenhouse needing heat (category by name, GWh normalised to MWh, region from nearest centre)
    "C-002,Malmö Greens AB,01.13,SE,20,Greenhouse,55.61,13.00,,S-010,need,energy,Heat for tomato greenhouse,,"
    "Warm water 50-90 °C,,3,GWh,year,45,,,,,,10",
    # a need accepting two EWC codes
    "C-003,Biogas Syd AB,35.21,SE,12,Biogas plant,55.55,13.95,,S-020,need,material,Food residues for digestion,,"
    "MAT.AGIN.ADFEED,020501;020502,5000,t,year,,no,,,,,80",
    # a hazardous EWC entry makes the offer hazardous
    "C-005,Oljeservice AB,38.21,SE,30,Depot,55.60,13.02,,S-030,offer,,Used engine oil,,,13 02 05*,12,t,year,,,,"
    ",,private,",
    # a company without streams
    "C-004,Baltic Castings AB,24.51,SE,300,,,,,,,,,,,,,,,,,,,,,",
]


def csv_file(rows, header=HEADER):
    return io.BytesIO(("\n".join([header, *rows]) + "\n").encode("utf-8"))


def run(rows, *, name="sheet.csv", **kw):
    return import_file(csv_file(rows), name, **kw)


def table_counts():
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_it_imports_a_good_csv():
    result = run(GOOD_ROWS)

    assert result.ok, result.errors
    assert result.applied
    assert result.counts["companies"] == {"created": 5, "updated": 0, "unchanged": 0}
    assert result.counts["sites"]["created"] == 4
    assert result.counts["streams"]["created"] == 5
    dairy = Company.objects.get(external_ref="C-001")
    assert dairy.nace.code == "10.51" and dairy.country == "SE" and dairy.employees == 85
    assert not dairy.memberships.exists()  # imported on behalf: nobody became a member

    whey = Stream.objects.get(company=dairy, external_ref="S-001")
    assert whey.quantity_yearly == 2080.0 and whey.base_unit == "t"  # 40 t/week
    assert whey.category == EwcCode.objects.get(code="020501").category
    assert whey.price_eur_per_unit == Decimal("-5") and whey.disposal_route == "sewer"
    assert whey.max_transport_km == 150 and whey.visibility == "anonymous"
    assert whey.site.name == "Lund dairy" and whey.site.region.code == "SE22"

    heat = Stream.objects.get(company=dairy, external_ref="S-002")
    assert heat.site == whey.site  # blank site cells inherit the company's site
    assert heat.category.code == "ENE.HEAT.MT" and heat.visibility == "public" and heat.temperature_c == 60

    greenhouse = Stream.objects.get(external_ref="S-010")
    assert greenhouse.quantity_yearly == 3000.0 and greenhouse.base_unit == "MWh"
    assert greenhouse.category.code == "ENE.HEAT.MT"
    assert greenhouse.site.region.code == "SE22"
    assert greenhouse.visibility == "anonymous" and greenhouse.period == "year"

    need = Stream.objects.get(external_ref="S-020")
    assert sorted(need.ewc_codes.values_list("code", flat=True)) == ["020501", "020502"]
    assert need.category.code == "MAT.AGIN.ADFEED" and need.accepts_hazardous is False

    oil = Stream.objects.get(external_ref="S-030")
    assert oil.hazardous is True and oil.kind == "material"
    assert oil.category == EwcCode.objects.get(code="130205").category

    only = Company.objects.get(external_ref="C-004")
    assert not only.sites.exists() and not only.streams.exists()


def test_it_imports_a_good_xlsx_with_numbers_as_numbers():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(COLUMNS))
    ws.append(["C-001", "Skåne Dairy AB", "10.51", "SE", 85, "Lund dairy", 55.705, 13.191, "SE22", "S-001", "offer",
               "material", "Whey", None, None, 20501, 40, "t", "week", None, None, -5, None, None, None, 150])
    ws.append(["C-003", "Biogas Syd AB", "35.21", "SE", 12, "Biogas plant", 55.55, 13.95, None, "S-020", "need",
               "material", "Food residues", None, "MAT.AGIN.ADFEED", "020501;020502", 5000.5, "t", None, None,
               False, None, None, None, None, None])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)

    result = import_file(buf, "workshop.xlsx")

    assert result.ok, result.errors
    assert result.counts["streams"]["created"] == 2
    whey = Stream.objects.get(external_ref="S-001")
    assert list(whey.ewc_codes.values_list("code", flat=True)) == ["020501"]  # Excel dropped the leading zero
    assert whey.quantity_yearly == 2080.0
    need = Stream.objects.get(external_ref="S-020")
    assert need.quantity == Decimal("5000.5")
    assert sorted(need.ewc_codes.values_list("code", flat=True)) == ["020501", "020502"]


def test_reimporting_the_same_sheet_updates_and_never_duplicates():
    assert run(GOOD_ROWS).ok
    before = table_counts()

    again = run(GOOD_ROWS)

    assert again.ok, again.errors
    assert again.counts["companies"] == {"created": 0, "updated": 0, "unchanged": 5}
    assert again.counts["sites"] == {"created": 0, "updated": 0, "unchanged": 4}
    assert again.counts["streams"] == {"created": 0, "updated": 0, "unchanged": 5}
    assert table_counts() == before

    changed = [GOOD_ROWS[0].replace(",40,t,week,", ",50,t,week,"), *GOOD_ROWS[1:]]
    third = run(changed)

    assert third.ok, third.errors
    assert third.counts["streams"] == {"created": 0, "updated": 1, "unchanged": 4}
    whey = Stream.objects.get(external_ref="S-001")
    assert whey.quantity == Decimal("50") and whey.quantity_yearly == 2600.0
    assert Stream.objects.count() == before["streams.Stream"]


def test_a_bad_sheet_reports_every_problem_and_writes_nothing():
    good = "Skåne Dairy AB,10.51,SE,85,Lund,55.7,13.19,,S-1,offer,material,Whey,,MAT.FOOD.WHEY,,40,t,year"
    rows = [
        "B-1,Firm One,99.99,SE,10,Lund,55.7,13.19,,S-1,offer,material,Whey,,MAT.FOOD.WHEY,,40,t,year",
        "B-2,Firm Two,10.51,SE,10,Lund,55.7,13.19,,S-1,offer,energy,Heat,,ENE.HEAT.MT,,40,t,year",
        "B-3,Firm Three,10.51,SE,10,Lund,123,13.19,,S-1,offer,material,Whey,,MAT.FOOD.WHEY,,40,t,year",
        "B-4,Firm Four,10.51,SE,10,Lund,55.7,13.19,,S-1,offer,material,Whey,,MAT.FOOD.WHEY,,-5,t,year",
        "B-5,Firm Five,10.51,SE,10,Lund,55.7,13.19,,S-1,offer,material,Whey,,,999999,40,t,year",
        "B-6,Firm Six,10.51,SE,10,Lund,55.7,13.19,,S-1,offer,material,Whey,,MAT.NO.SUCH,,40,t,year",
        "B-7," + good,  # a good row does not make the rest go through
    ]
    header = ",".join(COLUMNS[:19])
    before = table_counts()

    result = import_file(csv_file(rows, header), "bad.csv")

    assert not result.applied
    assert [(e.row, e.column) for e in result.errors] == [
        (2, "nace_code"), (3, "unit"), (4, "latitude"), (5, "quantity"), (6, "ewc_code"), (7, "category"),
    ]
    messages = {e.column: e.message for e in result.errors}
    assert "99.99" in messages["nace_code"]
    assert "“t” is not a unit for energy" in messages["unit"]
    assert "999999" in messages["ewc_code"]
    assert "MAT.NO.SUCH" in messages["category"]
    assert table_counts() == before


def test_a_company_only_row_registers_just_the_company():
    result = run(["C-9,Nordic Boxes AB,17.21,Sweden,40,,,,,,,,,,,,,,,,,,,,,"])

    assert result.ok, result.errors
    company = Company.objects.get(external_ref="C-9")
    assert company.name == "Nordic Boxes AB" and company.country == "SE" and company.nace.code == "17.21"
    assert result.counts["sites"] == {"created": 0, "updated": 0, "unchanged": 0}
    assert not Stream.objects.exists()


def test_it_reads_semicolon_csv_with_decimal_commas_and_a_bom():
    header = "company_ref;company_name;nace_code;country;site_name;latitude;longitude;stream_ref;direction;" \
             "kind;title;category;quantity;unit;period;price_eur_per_unit"
    row = "C-1;Ostsee Molkerei GmbH;10.51;DE;Werk Kiel;54,3233;10,1228;S-1;offer;material;Molke;" \
          "MAT.FOOD.WHEY;1 234,5;t;month;-2,50"
    data = ("\ufeff" + header + "\r\n" + row + "\r\n").encode("utf-8")

    result = import_file(io.BytesIO(data), "molkerei.csv")

    assert result.ok, result.errors
    stream = Stream.objects.get(external_ref="S-1")
    assert stream.quantity == Decimal("1234.5") and stream.quantity_yearly == 14814.0
    assert stream.price_eur_per_unit == Decimal("-2.50")
    site = Site.objects.get(name="Werk Kiel")
    assert site.latitude == pytest.approx(54.3233) and site.region.code == "DEF0"


@pytest.mark.parametrize(
    "payload",
    [b"company_ref,company_name\nC-1,Firm\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100],
    ids=["csv-text", "old-xls"],
)
def test_a_file_that_is_not_xlsx_but_named_so_is_rejected(payload):
    result = import_file(io.BytesIO(payload), "haves-and-wants.xlsx")

    assert not result.applied
    assert len(result.errors) == 1 and result.errors[0].row is None
    assert "not a real .xlsx workbook" in result.errors[0].message


def test_a_zip_that_is_not_a_workbook_is_rejected():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")

    result = import_file(io.BytesIO(buf.getvalue()), "sheet.xlsx")

    assert "not an .xlsx workbook" in result.errors[0].message


def test_conflicting_company_values_are_errors_and_blank_ones_inherit():
    rows = [
        "C-1,Alpha AB,10.51,SE,10,Lund,55.7,13.19,,S-1,offer,material,Whey,,MAT.FOOD.WHEY,,40,t,year",
        "C-1,,,,,,,,,S-2,offer,material,Cream,,MAT.FOOD.WHEY,,4,t,year",
        "C-1,Alfa AB,10.51,SE,,,,,,S-3,offer,material,Milk,,MAT.FOOD.WHEY,,4,t,year",
    ]
    result = import_file(csv_file(rows, ",".join(COLUMNS[:19])), "s.csv")

    assert [(e.row, e.column) for e in result.errors] == [(4, "company_name")]
    assert "row 2" in result.errors[0].message


def test_a_service_refusal_during_apply_is_reported_against_its_row_and_rolled_back(monkeypatch):
    real = importing_apply.stream_create

    def refuse_second(**kw):
        if kw.get("external_ref") == "S-002":
            raise ValidationError({"title": "Refused by a rule only the service knows."})
        return real(**kw)

    monkeypatch.setattr(importing_apply, "stream_create", refuse_second)
    before = table_counts()

    result = run(GOOD_ROWS)

    assert not result.applied
    assert [(e.row, e.column, e.message) for e in result.errors] == [
        (3, "title", "Refused by a rule only the service knows.")
    ]
    assert table_counts() == before


def test_validate_rows_predicts_the_counts_without_writing():
    rows = parse_sheet(csv_file(GOOD_ROWS), "s.csv")
    before = table_counts()

    plan = validate_rows(rows)

    assert plan.ok
    assert plan.counts()["streams"]["created"] == 5
    assert table_counts() == before


def test_unknown_columns_are_ignored_with_a_warning():
    header = HEADER + ",notes"
    rows = [GOOD_ROWS[-1] + ",call back in May"]

    result = import_file(csv_file(rows, header), "s.csv")

    assert result.ok
    assert [(w.row, w.column) for w in result.warnings] == [(1, "notes")]


def test_the_command_imports_and_reports_a_summary(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(csv_file(GOOD_ROWS).getvalue())
    out, err = io.StringIO(), io.StringIO()

    call_command("import_streams", str(path), stdout=out, stderr=err)

    assert "streams: 5 created" in out.getvalue()
    assert Stream.objects.count() == 5


def test_the_command_dry_run_writes_nothing(tmp_path):
    path = tmp_path / "sheet.csv"
    path.write_bytes(csv_file(GOOD_ROWS).getvalue())
    out = io.StringIO()

    call_command("import_streams", str(path), "--dry-run", stdout=out, stderr=io.StringIO())

    assert "Dry run" in out.getvalue() and "streams: 5 created" in out.getvalue()
    assert not Company.objects.exists()


def test_the_command_exits_non_zero_with_a_table_of_errors(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_file(["B-1,Firm,99.99,SE,10,,,,,,,,,,,,,,,,,,,,,"]).getvalue())
    err = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("import_streams", str(path), stdout=io.StringIO(), stderr=err)

    assert excinfo.value.returncode == 1
    assert "nothing was imported" in str(excinfo.value)
    lines = err.getvalue().splitlines()
    header = next(line for line in lines if line.startswith("row"))
    assert header.split() == ["row", "column", "reason"]
    assert any(line.split()[:2] == ["2", "nace_code"] for line in lines)
    assert not Company.objects.exists()


def test_the_command_records_the_actor(tmp_path):
    user = UserFactory(username="fiona", is_staff=True)
    path = tmp_path / "sheet.csv"
    path.write_bytes(csv_file(GOOD_ROWS[:1]).getvalue())

    call_command("import_streams", str(path), "--as", "fiona", stdout=io.StringIO(), stderr=io.StringIO())

    company = Company.objects.get(external_ref="C-001")
    assert company.entered_by == user and company.entered_by_facilitator is False
    assert Stream.objects.get().entered_by == user


def test_a_facilitator_imports_only_into_the_regions_they_facilitate(tmp_path):
    RegionRoleFactory(user=UserFactory(username="yrjo"), region=region("FI1B"))
    path = tmp_path / "sheet.csv"
    path.write_bytes(csv_file(GOOD_ROWS).getvalue())
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_streams", str(path), "--as", "yrjo", stdout=io.StringIO(), stderr=err)

    assert "is not a region you facilitate" in err.getvalue()
    assert "A new company needs a site in a region you facilitate" in err.getvalue()  # C-004 has no site
    assert not Company.objects.exists()


@pytest.mark.parametrize("name", ["import_template.csv", "import_template.xlsx"])
def test_the_documented_templates_import_cleanly_and_alike(name):
    with open(DOCS / name, "rb") as fh:
        result = import_file(fh, name)

    assert result.ok, result.errors
    assert result.counts["companies"]["created"] == 4 and result.counts["streams"]["created"] == 4
    need = Stream.objects.get(company__external_ref="C-003", external_ref="S-020")
    assert sorted(need.ewc_codes.values_list("code", flat=True)) == ["020501", "020502"]
    whey = Stream.objects.get(company__external_ref="C-001", external_ref="S-001")
    assert whey.category.code == "MAT.FOOD.WHEY" and whey.quantity_yearly == 18000.0
    assert not Company.objects.get(external_ref="C-004").streams.exists()


def test_a_sheet_may_name_the_transport_distance_max_distance_km():
    assert COLUMNS[-1] == "max_transport_km"
    header = ",".join([*COLUMNS[:-1], "Max distance km"])

    result = import_file(csv_file(GOOD_ROWS[:1], header), "s.csv")

    assert result.ok, result.errors
    assert Stream.objects.get(external_ref="S-001").max_transport_km == 150


def test_a_sheet_may_not_name_the_transport_distance_twice():
    header = ",".join([*COLUMNS, "max_distance_km"])

    result = import_file(csv_file([GOOD_ROWS[0] + ",80"], header), "s.csv")

    assert not result.ok
    assert [(e.column, e.message) for e in result.errors] == [
        ("max_transport_km", "Column “max_transport_km” appears twice in the header.")]


def test_the_template_script_knows_the_same_columns():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_import_template", DOCS / "make_import_template.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert tuple(module.NAMES) == COLUMNS


def test_codes_that_lost_their_leading_zero_in_a_spreadsheet_are_read_right():
    header = ",".join(COLUMNS[:19])
    rows = ["C-1,Green AB,1.13,SE,5,Glasshouse,55.6,13.0,,S-1,need,material,Residues,,MAT.AGIN.ADFEED,20501;20502,40,t,year"]

    result = import_file(csv_file(rows, header), "s.csv")

    assert result.ok, result.errors
    assert Company.objects.get(external_ref="C-1").nace.code == "01.13"
    assert sorted(Stream.objects.get().ewc_codes.values_list("code", flat=True)) == ["020501", "020502"]


def test_files_too_large_or_too_long_or_not_utf8_are_refused(settings, monkeypatch):
    settings.IMPORT_MAX_BYTES = 200
    too_big = import_file(csv_file(GOOD_ROWS), "s.csv")
    assert "larger than" in too_big.errors[0].message

    settings.IMPORT_MAX_BYTES = 5 * 1024 * 1024
    monkeypatch.setattr(importing_sheet, "MAX_ROWS", 3)
    too_long = import_file(csv_file(GOOD_ROWS), "s.csv")
    assert "more than 3 rows" in too_long.errors[0].message

    latin1 = io.BytesIO((HEADER + "\nC-1,Köping AB\n").encode("latin-1"))
    assert "not UTF-8" in import_file(latin1, "s.csv").errors[0].message
    assert "not supported" in import_file(io.BytesIO(b"x"), "s.ods").errors[0].message
    assert not Company.objects.exists()


@pytest.mark.parametrize("scope", ["", "platform", "region:SE22", "region:FI1B"])
def test_a_company_outside_the_actors_reach_is_never_found_by_its_reference(scope):
    # Whatever scope its reference has, a company the facilitator may not edit is as good as absent:
    # the sheet's C-001 becomes a new company and the outsider is neither named nor touched.
    outsider = CompanyFactory(name="Ypsilon Oy", country="FI", external_ref="C-001", import_scope=scope)
    SiteFactory(company=outsider, latitude=60.29, longitude=25.04, region=region("FI1B"))
    facilitator = RegionRoleFactory(region=region("SE22")).user
    forget_roles(facilitator)

    result = run(GOOD_ROWS[:1], actor=facilitator, entered_by_facilitator=True)

    assert result.ok, result.errors
    assert result.counts["companies"] == {"created": 1, "updated": 0, "unchanged": 0}
    outsider.refresh_from_db()
    assert outsider.name == "Ypsilon Oy" and not outsider.streams.exists()
    new = Company.objects.get(import_scope="region:SE22", external_ref="C-001")
    assert new.pk != outsider.pk and new.name == "Skåne Dairy AB"
    # A stale key of the scope (its company left the region) went to the new company.
    assert outsider.import_scope == ("" if scope == "region:SE22" else scope)


def test_a_facilitators_reimport_updates_and_so_does_a_colleagues_of_the_same_region():
    fiona = RegionRoleFactory(region=region("SE22")).user
    colleague = RegionRoleFactory(region=region("SE22")).user
    assert run(GOOD_ROWS[:2], actor=fiona, entered_by_facilitator=True).ok
    before = table_counts()

    again = run(GOOD_ROWS[:2], actor=fiona, entered_by_facilitator=True)
    changed = [GOOD_ROWS[0].replace(",40,t,week,", ",50,t,week,"), GOOD_ROWS[1]]
    by_colleague = run(changed, actor=colleague, entered_by_facilitator=True)

    assert again.ok and again.counts["companies"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert again.counts["streams"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert by_colleague.ok and by_colleague.counts["streams"] == {"created": 0, "updated": 1, "unchanged": 1}
    after = table_counts()
    assert [after[m] == before[m] for m in ("companies.Company", "companies.Site", "streams.Stream")] == [True] * 3
    assert Company.objects.get().import_scope == "region:SE22"


def test_staff_and_system_imports_share_the_platform_scope_and_leave_facilitators_references_alone():
    fiona = RegionRoleFactory(region=region("SE22")).user
    assert run(GOOD_ROWS[:1], actor=fiona, entered_by_facilitator=True).ok
    staff = UserFactory(is_staff=True)

    by_staff = run(GOOD_ROWS[:1], actor=staff)
    by_system = run(GOOD_ROWS[:1])

    assert by_staff.counts["companies"]["created"] == 1 and by_system.counts["companies"]["unchanged"] == 1
    assert sorted(Company.objects.values_list("import_scope", flat=True)) == ["platform", "region:SE22"]


def test_a_facilitator_import_is_marked_as_entered_by_a_facilitator():
    facilitator = RegionRoleFactory(region=region("SE22")).user

    result = run(GOOD_ROWS[:2], actor=facilitator, entered_by_facilitator=True)

    assert result.ok, result.errors
    company = Company.objects.get(external_ref="C-001")
    assert company.entered_by_facilitator and company.entered_by == facilitator
    assert not company.memberships.exists()
    assert all(s.entered_by_facilitator for s in Stream.objects.all())


def _xlsx_bytes(rows):
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_workbook_with_xml_entities_is_refused_without_expanding_them():
    original = _xlsx_bytes([["company_ref", "company_name"], ["C-1", "Firm"]])
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData></worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = bomb.encode() if item.filename == "xl/worksheets/sheet1.xml" else src.read(item.filename)
            dst.writestr(item, data)

    result = import_file(io.BytesIO(out.getvalue()), "evil.xlsx")

    assert not result.applied
    assert "refused for safety" in result.errors[0].message


def test_a_workbook_that_unpacks_to_too_much_is_refused(monkeypatch):
    monkeypatch.setattr(importing_sheet, "MAX_XLSX_UNCOMPRESSED", 1000)

    result = import_file(io.BytesIO(_xlsx_bytes([["company_ref"], ["C-1"]])), "big.xlsx")

    assert "unpacks to too much data" in result.errors[0].message


def test_a_stream_ref_held_by_a_stream_the_facilitator_may_not_see_is_refused_at_commit_without_a_500():
    fiona = RegionRoleFactory(region=region("SE22")).user
    assert run(GOOD_ROWS[:1], actor=fiona, entered_by_facilitator=True).ok
    dairy = Company.objects.get()
    finnish = SiteFactory(company=dairy, name="Vantaa", latitude=60.29, longitude=25.04, region=region("FI1B"))
    hidden = Stream.objects.get()
    Stream.objects.filter(pk=hidden.pk).update(site=finnish, price_eur_per_unit=Decimal("12"))
    forget_roles(fiona)
    row = GOOD_ROWS[0].replace(",-5,sewer,", ",12,sewer,")

    preview = validate_rows(parse_sheet(csv_file([row]), "s.csv"), actor=fiona)
    result = run([row], actor=fiona, entered_by_facilitator=True)

    assert preview.ok and preview.counts()["streams"] == {"created": 1, "updated": 0, "unchanged": 0}
    assert not result.applied and [(e.row, e.column) for e in result.errors] == [(2, "stream_ref")]
    assert Stream.objects.get().price_eur_per_unit == Decimal("12") and Stream.objects.count() == 1
