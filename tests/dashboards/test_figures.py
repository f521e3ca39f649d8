"""Every dashboard figure equals an independent computation from the rows (tests/dashboards/oracle.py),
before suppression and, where shown, after it; suppression hides exactly the cells of 1-2 companies
plus complements, and the comparison and open data repeat the region dashboards' cells."""

from __future__ import annotations

import pytest

from companies.models import Region
from dashboards import build, selectors
from dashboards.figures import PRIMARY
from dashboards.suppression import check_invariants, suppress
from tests.dashboards.oracle import World

pytestmark = pytest.mark.django_db

REGIONS = ("SE22", "FI1B", "DK01", "PL63")


def approx(x):
    return pytest.approx(x, rel=1e-9, abs=1e-3)


def test_every_figure_matches_an_independent_computation(dataset):
    world = World()
    codes = dict(Region.objects.values_list("pk", "code"))
    for code in REGIONS:
        region = Region.objects.get(code=code)
        rid = region.pk
        d = build.region_full(region)

        companies, smes = world.companies_in(rid)
        t = d.tables["companies"]
        assert t.row("all").cells["companies"].value == len(companies)
        assert t.row("sme").cells["companies"].value == len(smes)
        assert t.row("large").cells["companies"].value == len(companies) - len(smes)

        listings = world.listings(rid)
        t = d.tables["listings"]
        shown = {r.key for r in t.rows if r.cells["streams"].value}
        expected = {k for k, v in listings.items() if v["all"].n}
        assert shown == expected, code
        for key, parts in listings.items():
            row = t.row(key)
            assert row is not None, key
            assert row.cells["streams"].value == parts["all"].n
            assert row.cells["streams"].companies == len(parts["all"].companies)
            assert row.cells["companies"].value == len(parts["all"].companies)
            assert row.cells["unmatched_streams"].value == parts["unmatched"].n
            assert row.cells["unmatched_streams"].companies == len(parts["unmatched"].companies)
            assert row.cells["matched_streams"].value == parts["matched"].n
            assert row.cells["matched_streams"].companies == len(parts["matched"].companies)
            if "volume" in row.cells:
                assert row.cells["volume"].value == approx(parts["all"].total)
                assert row.cells["unmatched_volume"].value == approx(parts["unmatched"].total)
                assert row.cells["matched_volume"].value == approx(parts["matched"].total)

        funnel = world.funnel(rid)
        t = d.tables["funnel"]
        for row in t.rows:
            agg = funnel.get(row.key)
            assert row.cells["matches"].value == (agg.n if agg else 0), (code, row.key)
            assert row.cells["matches"].companies == (len(agg.companies) if agg else 0), (code, row.key)

        impact = world.impact(rid)
        t = d.tables["impact"]
        for key in ("estimated", "realised"):
            row, agg = t.row(key), impact[key]
            assert row.cells["companies"].value == len(agg.companies), (code, key)
            for measure in ("eur", "co2e_t", "diverted_t", "water_m3", "energy_mwh"):
                assert row.cells[measure].value == approx(agg.sums[measure]), (code, key, measure)
                assert row.cells[measure].companies == len(agg.companies)

        months = d.meta["months"]
        trends = world.trends(rid, months)
        t = d.tables["trends"]
        assert [r.key for r in t.rows] == ["earlier", *months]
        for row in t.rows:
            for col in ("offers", "needs", "suggestions", "started"):
                agg = trends.get((row.key, col))
                assert row.cells[col].value == (agg.n if agg else 0), (code, row.key, col)
                assert row.cells[col].companies == (len(agg.companies) if agg else 0), (code, row.key, col)

        cells = world.map_cells(rid)
        t = d.tables["map"]
        assert {r.key for r in t.rows} == {k for k, v in cells.items() if v["sites"]}
        for row in t.rows:
            c = cells[row.key]
            assert row.cells["companies"].value == len(c["companies"])
            assert row.cells["sites"].value == c["sites"]
            assert row.cells["offers"].value == c["offers"].n
            assert row.cells["offers"].companies == len(c["offers"].companies)
            assert row.cells["needs"].value == c["needs"].n

        flows = world.flows(rid, codes)
        t = d.tables["flows"]
        assert {r.key for r in t.rows} == set(flows)
        for row in t.rows:
            assert row.cells["matches"].value == flows[row.key].n
            assert row.cells["companies"].value == len(flows[row.key].companies)


def test_the_dataset_exercises_every_part_of_the_funnel(dataset):
    world = World()
    rid = Region.objects.get(code="SE22").pk
    funnel = world.funnel(rid)
    assert all(funnel[s].n for s in ("suggested", "implemented", "rejected"))
    assert world.impact(rid)["realised"].n >= 3


def test_suppression_hides_exactly_the_small_cells_and_their_complements(dataset):
    for code in REGIONS:
        region = Region.objects.get(code=code)
        raw = build.region_full(region)
        published = selectors.compute_region_dashboard(region)
        assert check_invariants(published) == [], code
        for tkey, table in raw.tables.items():
            for row in table.rows:
                for col, cell in row.cells.items():
                    out = published.tables[tkey].row(row.key).cells[col]
                    small = cell.value is not None and 0 < cell.companies < 3
                    assert (out.suppressed == PRIMARY) == small, (code, tkey, row.key, col)
                    if not out.suppressed:
                        assert out.public_value == cell.value
                    else:
                        assert out.public_value is None and out.public_companies is None


def test_the_probe_category_and_its_complement_are_hidden(dataset):
    region = Region.objects.get(code="SE22")
    published = selectors.compute_region_dashboard(region)
    listings = published.tables["listings"]
    probe = listings.row("offer/material/MAT.WOOD.SAWDUST")
    assert probe.cells["volume"].suppressed and probe.cells["streams"].suppressed
    # Total minus the shown categories is the sum of at least two hidden ones, one of 3+ companies.
    kids = listings.children("offer/material")
    hidden = [r for r in kids if r.cells["volume"].suppressed]
    assert any(r.cells["volume"].companies >= 3 for r in hidden) or len(hidden) == len(kids)


def test_the_summary_of_a_region_agrees_with_its_full_dashboard(dataset):
    regions = list(Region.objects.filter(code__in=REGIONS))
    summaries = {d.scope["code"]: suppress(d) for d in build.summaries(regions).values()}
    for region in regions:
        full = selectors.compute_region_dashboard(region)
        for tkey in ("companies", "listings", "funnel", "impact"):
            for row in full.tables[tkey].rows:
                other = summaries[region.code].tables[tkey].row(row.key)
                for col, cell in row.cells.items():
                    assert other.cells[col].public_value == cell.public_value, (region.code, tkey, row.key, col)


def test_the_comparison_and_open_data_repeat_the_region_cells(dataset):
    regions = list(Region.objects.filter(code__in=("SE22", "FI1B")))
    comparison = selectors.region_comparison(regions=regions)
    open_data = selectors.open_data()
    assert len(open_data.rows) == Region.objects.count()
    for region in regions:
        full = selectors.compute_region_dashboard(region)
        for key, _label, tkey, rkey, col, _unit in selectors.comparison_columns():
            expected = full.cell((tkey, rkey, col)).public_value
            assert comparison.row(region.code).cells[key].public_value == expected
            assert open_data.row(region.code).cells[key].public_value == expected


def test_the_screening_table_lists_divisions_from_the_priors_with_company_counts(dataset):
    from companies.models import Site

    region = Region.objects.get(code="SE22")
    published = selectors.compute_region_dashboard(region)
    screening = published.tables["screening"]
    assert [c.key for c in screening.columns][0] == "SE22"
    assert screening.rows, "the seeded region should have unmatched material with sector priors"
    for row in screening.rows:
        division = row.attrs["division"]
        for col in screening.columns:
            expected = len({
                s.company_id for s in Site.objects.select_related("company__nace").filter(region__code=col.key)
                if s.company.nace.code.startswith(division + ".")
            })
            cell = row.cells[col.key]
            assert cell.value == expected
            assert bool(cell.suppressed) == (0 < expected < 3)
