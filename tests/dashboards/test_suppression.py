"""The k = 3 rule and complementary suppression on hand-made and random tables (no database)."""

from __future__ import annotations

import random

from dashboards.figures import COMPLEMENTARY, PRIMARY, Cell, Column, Dashboard, Link, Row, Table
from dashboards.suppression import check_invariants, suppress


def table(rows, key="t"):
    return Table(key, key, "", [Column("v", "v"), Column("n", "companies", additive=False)], rows)


def row(key, value, companies, parent=None):
    return Row(key, key, {"v": Cell(value, companies), "n": Cell(companies, companies)}, parent=parent)


def one(tab, links=()):
    return suppress(Dashboard(scope={}, tables={tab.key: tab}, links=list(links)))


def test_a_cell_of_one_or_two_companies_is_hidden_and_zero_is_not():
    d = one(table([row("a", 10, 1), row("b", 20, 2), row("c", 30, 3), row("z", 0, 0)]))
    t = d.tables["t"]
    assert [t.row(k).cells["v"].suppressed for k in "abcz"] == [PRIMARY, PRIMARY, "", ""]
    assert t.row("a").cells["v"].public_value is None
    assert t.row("z").cells["v"].public_value == 0


def test_a_total_cannot_be_differenced_to_recover_a_hidden_detail():
    d = one(table([
        row("all", 100, 9), row("x", 7, 2, "all"), row("y", 50, 4, "all"), row("small", 13, 3, "all"),
        row("big", 30, 5, "all"),
    ]))
    t = d.tables["t"]
    assert t.row("x").cells["v"].suppressed == PRIMARY
    # The complement is the detail with the fewest companies (then the smallest value) of 3 or more.
    assert t.row("small").cells["v"].suppressed == COMPLEMENTARY
    assert not t.row("all").cells["v"].suppressed
    assert not t.row("y").cells["v"].suppressed and not t.row("big").cells["v"].suppressed
    assert check_invariants(d) == []


def test_two_small_hidden_details_still_get_a_complement():
    # x and y could be the same company: their sum (total minus the rest) must not be shown alone.
    d = one(table([row("all", 100, 8), row("x", 5, 1, "all"), row("y", 6, 2, "all"), row("z", 89, 6, "all")]))
    assert d.tables["t"].row("z").cells["v"].suppressed == COMPLEMENTARY


def test_a_hidden_total_is_not_rebuilt_from_its_details():
    # Offers total hidden as a complement at its level: its own details must not all be shown.
    t = table([
        row("top", 100, 12),
        row("k1", 4, 2, "top"), row("k2", 96, 10, "top"),
        row("c1", 40, 4, "k2"), row("c2", 56, 6, "k2"),
    ])
    d = one(t)
    out = d.tables["t"]
    assert out.row("k1").cells["v"].suppressed == PRIMARY
    assert out.row("k2").cells["v"].suppressed == COMPLEMENTARY
    assert out.row("c1").cells["v"].suppressed == COMPLEMENTARY  # else k2 = c1 + c2
    assert not out.row("c2").cells["v"].suppressed
    assert check_invariants(d) == []


def test_links_protect_sums_across_columns_and_tables():
    # streams = unmatched + matched: a matched part of 1 company hides the unmatched part too.
    listings = Table("l", "l", "", [Column("all", "a"), Column("um", "u"), Column("m", "m", shown=False)], [
        Row("r", "r", {"all": Cell(10, 5), "um": Cell(9, 4), "m": Cell(1, 1)}),
    ])
    d = suppress(Dashboard(scope={}, tables={"l": listings}, links=[Link(("l", "r", "all"), [("l", "r", "um"), ("l", "r", "m")])]))
    cells = d.tables["l"].row("r").cells
    assert cells["m"].suppressed == PRIMARY
    assert cells["um"].suppressed == COMPLEMENTARY
    assert not cells["all"].suppressed


def test_suppress_does_not_change_its_input_and_is_idempotent():
    t = table([row("all", 10, 4), row("a", 3, 1, "all"), row("b", 7, 3, "all")])
    raw = Dashboard(scope={}, tables={"t": t})
    d = suppress(raw)
    assert not raw.tables["t"].row("a").cells["v"].suppressed
    assert suppress(d) is d


def _random_tree(rng: random.Random) -> Dashboard:
    rows = [Row("root", "root", {"v": Cell(0, 0), "n": Cell(0, 0)})]
    frontier = ["root"]
    for i in range(rng.randrange(3, 25)):
        parent = rng.choice(frontier)
        key = f"r{i}"
        rows.append(Row(key, key, {"v": Cell(0, 0), "n": Cell(0, 0)}, parent=parent))
        frontier.append(key)
    by_key = {r.key: r for r in rows}
    kids = {r.key: [c.key for c in rows if c.parent == r.key] for r in rows}

    def fill(key):
        if not kids[key]:
            companies = rng.choice((0, 1, 1, 2, 3, 4, 6, 10))
            by_key[key].cells["v"] = Cell(companies * rng.randrange(1, 50), companies)
        else:
            for k in kids[key]:
                fill(k)
            by_key[key].cells["v"] = Cell(
                sum(by_key[k].cells["v"].value for k in kids[key]),
                # a parent has at least as many companies as its largest child and at most their sum
                rng.randint(max(by_key[k].cells["v"].companies for k in kids[key]),
                            max(1, sum(by_key[k].cells["v"].companies for k in kids[key]))),
            )

    fill("root")
    return Dashboard(scope={}, tables={"t": Table("t", "t", "", [Column("v", "v")], rows)})


def test_random_trees_keep_every_hidden_cell_unrecoverable():
    rng = random.Random(20260101)
    for _ in range(400):
        d = suppress(_random_tree(rng))
        assert check_invariants(d) == []
        t = d.tables["t"]
        for r in t.rows:
            kids = [c for c in t.rows if c.parent == r.key and c.cells["v"].companies > 0]
            shown_parent = not r.cells["v"].suppressed
            hidden = [c for c in kids if c.cells["v"].suppressed]
            # Total minus the shown details must never equal a single hidden detail of < 3 companies.
            if shown_parent and len(hidden) == 1:
                assert hidden[0].cells["v"].companies >= 3


# --- Publications: settle ------------------------------------------------------------------------------

def _one_cell(value, companies):
    return Dashboard(scope={}, tables={"t": table([row("a", value, companies)])})


def test_a_cell_keeps_its_basis_until_its_companies_move_by_k_from_every_earlier_count():
    from dashboards.suppression import settle

    ledger = {}
    published = []
    for value, companies in ((20, 2), (30, 3), (41, 4), (52, 5), (60, 4), (70, 8), (75, 5), (80, 2)):
        settled, changed = settle(_one_cell(value, companies), ledger)
        ledger.update(changed)
        cell = suppress(settled).tables["t"].row("a").cells["v"]
        published.append((cell.public_value, settled.tables["t"].row("a").cells["v"].companies))
    # 2 (hidden) -> 3, 4 held hidden -> 5 refreshes -> 4 held -> 8 refreshes -> 5 held (5 used) -> 2 held.
    assert published == [(None, 2), (None, 2), (None, 2), (52, 5), (52, 5), (70, 8), (70, 8), (70, 8)]
    assert ledger[("t", "a", "v")].counts == (2, 5, 8)


def test_random_histories_never_publish_two_values_from_fewer_than_k_changed_companies():
    from dashboards.suppression import settle

    rng = random.Random(8)
    for _ in range(200):
        ledger, seen = {}, []
        n = rng.randrange(0, 6)
        for _step in range(30):
            n = max(0, n + rng.choice((-2, -1, 0, 1, 2, 3)))
            settled, changed = settle(_one_cell(n * 10 + rng.randrange(10), n), ledger)
            ledger.update(changed)
            cell = settled.tables["t"].row("a").cells["v"]
            seen.append((cell.value, cell.companies))
        bases = set(seen)
        for v1, n1 in bases:
            for v2, n2 in bases:
                if v1 != v2:
                    assert abs(n1 - n2) >= 3
