"""plan.xlsx read back with openpyxl, and opened by LibreOffice headless.

The hand-made folder (tests/helpers.py) states every deviation and which bands they break;
the highlighted cells must be exactly those.
"""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest

from territory_planner import compare, load_scenario, plan, rebalance
from territory_planner.report.plan_workbook import plan_sheets, write_plan_workbook
from territory_planner.report.workbook import (
    HIGHLIGHT_FILL,
    PERCENT,
    SIGNED_PERCENT,
    Sheet,
    band_rule,
    read_table,
    write_workbook,
)
from tests.helpers import (
    HAND_BROKEN,
    HAND_FORMULA,
    hand_plan_folder,
    require_soffice,
    soffice_convert,
)

RED = "FF" + HIGHLIGHT_FILL.lstrip("#").upper()


def _rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, row)) for row in ws.iter_rows(min_row=2)]


def _red(cell) -> bool:
    return cell.fill is not None and cell.fill.fgColor.rgb == RED


@pytest.fixture
def book(tmp_path):
    folder = hand_plan_folder(tmp_path / "plan")
    path = write_plan_workbook(folder)
    assert path == folder / "plan.xlsx"
    return openpyxl.load_workbook(path)


def test_sheets_present_in_order(book):
    assert book.sheetnames == [
        "Summary",
        "Territories",
        "Assignments",
        "Moves",
        "Quotas",
        "Regions",
        "Rollups",
    ]


def test_every_sheet_has_a_frozen_header_and_an_autofilter(book):
    for ws in book.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        last = openpyxl.utils.get_column_letter(ws.max_column)
        assert ws.auto_filter.ref == f"A1:{last}{max(ws.max_row, 2)}", ws.title
        assert all(c.font.b for c in ws[1]), ws.title


def test_numbers_are_numbers_with_formats(book):
    ws = book["Territories"]
    rows = {r["rep_id"].value: r for r in _rows(ws)}
    r1 = rows["R1"]
    assert r1["accounts"].value == 2 and r1["accounts"].data_type == "n"
    assert rows["R1"]["status"].value == "active" and rows["R1"]["status"].data_type == "s"
    assert r1["accounts"].number_format == "#,##0"
    assert r1["workload_load"].value == 110.0 and r1["workload_load"].data_type == "n"
    assert r1["workload_deviation"].value == pytest.approx(0.10)
    assert r1["workload_deviation"].number_format == SIGNED_PERCENT
    assert r1["travel_cost"].number_format == "#,##0.00"  # 1234.5 and 20.25
    assert r1["potential_load"].number_format == "#,##0.00"  # 54.99 needs decimals
    assert rows["R4"]["workload_deviation"].value is None  # leaving: no target, blank

    asg = {r["account_id"].value: r for r in _rows(book["Assignments"])}
    assert asg["A1"]["distance_km"].value == pytest.approx(12.345)
    assert asg["A1"]["distance_km"].number_format == "#,##0.0"
    assert asg["A4"]["potential"].value == 1234567.0
    assert asg["A1"]["moved"].value is False and asg["A2"]["moved"].value is True
    # IDs and postal codes stay text, leading zeros kept
    assert asg["A1"]["BillingPostalCode"].value == "01234"
    assert asg["A1"]["region_id"].value == "01001"
    assert book["Regions"]["A2"].value == "01001"

    quotas = {r["rep_id"].value: r for r in _rows(book["Quotas"])}
    assert quotas["R1"]["quota"].value == 1_200_000 and quotas["R1"]["quota"].data_type == "n"
    assert quotas["R1"]["deviation"].number_format == SIGNED_PERCENT
    assert quotas["R1"]["fair_share"].number_format == "#,##0"  # money, not a share


def test_rep_names_beside_rep_ids(book):
    header = [c.value for c in book["Assignments"][1]]
    assert header[header.index("rep_id") + 1] == "rep_name"
    assert header[header.index("previous_rep_id") + 1] == "previous_rep_name"
    asg = {r["account_id"].value: r for r in _rows(book["Assignments"])}
    assert asg["A4"]["rep_name"].value == "Cy" and asg["A4"]["previous_rep_name"].value == "Dee"
    regions = {r["region_id"].value: r for r in _rows(book["Regions"])}
    assert regions["06075"]["rep_name"].value == "Cy"
    # a rep table keeps its own name column and gets no second one
    assert "rep_name" not in [c.value for c in book["Quotas"][1]]


def test_moves_are_the_accounts_whose_rep_changed(book):
    moves = _rows(book["Moves"])
    assert [r["account_id"].value for r in moves] == ["A2", "A4"]
    assert [(r["previous_rep_name"].value, r["rep_name"].value) for r in moves] == [
        ("Bob", "Ann"),
        ("Dee", "Cy"),
    ]


def test_highlighted_exactly_where_a_band_is_broken(book):
    ws = book["Territories"]
    header = [c.value for c in ws[1]]
    assert "workload_deviation_today" in header  # today's deviation beside the plan's
    highlighted = set()
    for row in ws.iter_rows(min_row=2):
        rep = row[0].value
        for name, cell in zip(header, row):
            if _red(cell):
                highlighted.add((name, rep))
    assert highlighted == HAND_BROKEN
    today = {r["rep_id"].value: r["workload_deviation_today"].value for r in _rows(ws)}
    assert today["R1"] == pytest.approx(0.30) and today["R3"] == pytest.approx(-0.26)
    # no district breaks its band: nothing is red in Rollups
    assert not any(_red(c) for row in book["Rollups"].iter_rows(min_row=2) for c in row)


def test_summary_shows_today_beside_the_plan(book):
    rows = {r["item"].value: r for r in _rows(book["Summary"])}
    travel = rows["travel cost (workload x km)"]
    assert (travel["plan"].value, travel["today"].value) == (1254.75, 1600.0)
    gap = rows["gap to the proven bound"]
    assert gap["plan"].number_format == PERCENT and gap["today"].value == 0.25
    worst = rows["workload: largest deviation"]
    assert (worst["plan"].value, worst["today"].value) == (0.10, 0.30)
    assert _red(worst["plan"]) and _red(worst["today"])
    potential = rows["potential: largest deviation"]
    assert _red(potential["plan"]) and not _red(potential["today"])  # 4% within 10%
    outside = rows["workload: reps outside the band"]
    assert (outside["plan"].value, outside["today"].value) == (1, 2)
    assert rows["accounts without an owner"]["today"].value == 1
    assert rows["workload: today's reps outside the band"]["today"].value == "R1 +30.0%, R3 -26.0%"
    assert "potential: today's reps outside the band" not in rows  # today holds that band
    assert rows["scenario"]["plan"].value == "hand-made"


def test_formula_text_is_written_as_text(book):
    asg = {r["account_id"].value: r for r in _rows(book["Assignments"])}
    for account, text in (("A1", HAND_FORMULA), ("A2", "@SUM(A1)"), ("A4", "-2+3")):
        cell = asg[account]["name"]
        assert cell.value == text  # the CSV's guard apostrophe is gone ...
        assert cell.data_type == "s"  # ... and it is a string, never a formula
        assert cell.quotePrefix  # Excel's own "this is text" marker


def test_column_widths_fit(book):
    ws = book["Assignments"]
    header = [c.value for c in ws[1]]
    width = {
        name: ws.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
        for i, name in enumerate(header)
    }
    assert width["name"] >= len(HAND_FORMULA)
    assert width["BillingPostalCode"] >= len("BillingPostalCode")
    assert width["moved"] < width["name"]


def test_generic_writer_and_reader(tmp_path):
    """The sheet writer on its own (a sweep can use it): formats, a highlight rule."""
    frame = pd.DataFrame(
        {
            "variant": ["a", "b"],
            "max_deviation": [0.02, 0.2],
            "n": [3, 4],
            "travel": [1234.56, 98765.4],
        }
    )
    path = write_workbook(
        tmp_path / "x.xlsx",
        [Sheet("Sweep", frame, formats={"n": "0"}, highlight=band_rule({"max_deviation": 0.1}))],
    )
    ws = openpyxl.load_workbook(path)["Sweep"]
    assert ws["B2"].number_format == SIGNED_PERCENT and not _red(ws["B2"]) and _red(ws["B3"])
    assert ws["C2"].number_format == "0" and ws["C2"].value == 3
    assert ws["D2"].number_format == "#,##0" and ws["D2"].value == 1234.56  # shown 1,235
    csv_path = tmp_path / "t.csv"
    pd.DataFrame({"zip": ["00501"], "count": ["7"], "share": ["0.5"], "flag": ["True"]}).to_csv(
        csv_path, index=False
    )
    typed = read_table(csv_path)
    assert typed.loc[0, "zip"] == "00501" and typed.loc[0, "count"] == 7
    assert typed.loc[0, "share"] == 0.5 and typed.loc[0, "flag"] is True


@pytest.mark.slow
def test_libreoffice_opens_the_workbook(tmp_path):
    """LibreOffice headless converts every sheet to CSV; the values read back as written."""
    require_soffice()
    folder = hand_plan_folder(tmp_path / "plan")
    path = write_plan_workbook(folder)
    out = tmp_path / "csv"
    # filter options: comma, quote, UTF-8, ..., as shown (true), ..., -1 = every sheet a file
    result = soffice_convert(
        path, out, "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"
    )
    assert result.returncode == 0, result.stderr
    files = {p.name for p in out.glob("*.csv")}
    assert {f"plan-{name}.csv" for name in ("Summary", "Territories", "Assignments")} <= files
    with open(out / "plan-Territories.csv", encoding="utf-8") as handle:
        rows = {row["rep_id"]: row for row in csv.DictReader(handle)}
    assert rows["R1"]["workload_deviation"] == "+10.0%"  # the number format applied
    assert rows["R1"]["accounts"] == "2"
    with open(out / "plan-Assignments.csv", encoding="utf-8") as handle:
        names = {row["account_id"]: row["name"] for row in csv.DictReader(handle)}
    assert names["A1"] == HAND_FORMULA  # shown as text, not evaluated
    with open(out / "plan-Summary.csv", encoding="utf-8") as handle:
        summary = {row["item"]: row for row in csv.DictReader(handle)}
    assert summary["travel cost (workload x km)"]["today"] == "1,600"


# --------------------------------------------------------------------------- every folder


def test_plan_rebalance_and_compare_folders_carry_a_workbook(tiny, tmp_path):
    """conftest's line: accounts at lon 1, 2, 3, 9; R1 (Rita) at lon 0, R2 (Rob) at 10.
    A 0% workload band gives each rep two accounts; R1 {A1, A2} travels 1 + 2 degrees and
    R2 {A3, A4} 7 + 1, the cheapest split. When Rob leaves, A3 and A4 move to Rita."""
    start = plan(load_scenario(tiny(balance=[{"metric": "workload", "tolerance": 0.0}])))
    first = start.write(tmp_path / "p1")
    book = openpyxl.load_workbook(first / "plan.xlsx")
    assert book.sheetnames == ["Summary", "Territories", "Assignments", "Moves"]
    territories = {r["rep_id"].value: r for r in _rows(book["Territories"])}
    assert territories["R1"]["accounts"].value == 2
    assert territories["R1"]["workload_deviation"].value == 0
    assert _rows(book["Moves"]) == []  # no previous owners: nothing moved

    after = rebalance(start, leaves=["R2"])
    second = after.write(tmp_path / "p2")
    book = openpyxl.load_workbook(second / "plan.xlsx")
    moves = _rows(book["Moves"])
    assert sorted(r["account_id"].value for r in moves) == ["A3", "A4"]
    assert {(r["from_rep_name"].value, r["to_rep_name"].value) for r in moves} == {("Rob", "Rita")}
    summary = {r["item"].value: r["plan"].value for r in _rows(book["Summary"])}
    assert summary["rebalance: leaving"] == "R2"

    out = compare(first, second).write(tmp_path / "cmp")
    book = openpyxl.load_workbook(out / "plan.xlsx")
    assert book.sheetnames == ["Summary", "Rep changes", "Moves"]
    kpis = {r["KPI"].value: r for r in _rows(book["Summary"])}
    changed = kpis["accounts changing owner from A to B"]
    assert (changed["A"].value, changed["B"].value, changed["B - A"].value) == (0, 2, 2)
    assert kpis["largest deviation: workload"]["B"].number_format == PERCENT
    assert [s.name for s in plan_sheets(out)] == book.sheetnames


def test_same_folder_same_bytes(tmp_path):
    """Deterministic output: the workbook carries a fixed creation date, not the clock's."""
    folder = hand_plan_folder(tmp_path / "plan")
    first = write_plan_workbook(folder, tmp_path / "a.xlsx").read_bytes()
    second = write_plan_workbook(folder, tmp_path / "b.xlsx").read_bytes()
    assert first == second
    properties = openpyxl.load_workbook(tmp_path / "a.xlsx").properties
    assert properties.title == "hand-made"
    assert properties.created.year == 2000  # fixed, so writing later gives the same bytes


def _hubspot_book(tmp_path):
    """The hand case (tests/helpers.py) under HubSpot's report labels, with numeric record
    IDs: the best plan moves only account 2 (owner 52718304 -> 52718303)."""
    from tests.helpers import hand_scenario

    accounts = pd.DataFrame(
        {
            "Record ID": ["12345678901", "123456789012345678", "3", "4"],
            "Company name": ["One", "Two", "Three", "Four"],
            "Latitude": [0.0] * 4,
            "Longitude": [1.0, 2.0, 3.0, 9.0],
            "workload": [1.0] * 4,
            "potential": [100.0, 200.0, 300.0, 400.0],
            "Company owner ID": ["52718303", "52718304", "52718304", "52718304"],
            "Parent Company ID": ["", "12345678901", "", ""],
        }
    )
    reps = pd.DataFrame(
        {"Id": ["52718303", "52718304"], "Name": ["Rita", "Rob"], "lat": [0.0, 0.0]}
    ).assign(lon=[0.0, 10.0])
    made = plan(hand_scenario(tmp_path / "s", accounts=accounts, reps=reps, hierarchy=[]))
    return openpyxl.load_workbook(made.write(tmp_path / "plan", map_html=False) / "plan.xlsx")


def test_ids_under_a_crm_label_stay_text(tmp_path):
    """IDs under a label ('Record ID', 'Company owner ID', 'Parent Company ID') are text, and
    an 18-digit ID keeps every digit (before: numbers, 123456789012345678 written as the
    double 1.234567890123457e+17, shown 123,456,789,012,345,000)."""
    rows = {r["Record ID"].value: r for r in _rows(_hubspot_book(tmp_path)["Assignments"])}
    assert set(rows) == {"12345678901", "123456789012345678", "3", "4"}
    assert rows["123456789012345678"]["Company owner ID"].value == "52718304"
    assert rows["123456789012345678"]["Parent Company ID"].value == "12345678901"
    assert rows["3"]["potential"].value == 300  # numbers stay numbers
    typed = read_table(_csv(tmp_path, {"external_ref": ["1234567890123456789", "7"]}))
    assert typed["external_ref"].tolist() == ["1234567890123456789", "7"]


def _csv(tmp_path, columns: dict) -> str:
    path = tmp_path / "t.csv"
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def test_moves_name_the_accounts_under_the_exports_own_columns(tmp_path):
    """The Moves sheet of a plan (no moves.csv: the assignments whose rep changed) names the
    account under the export's own columns (before: neither an ID nor a name column, since
    assignments.csv calls them 'Record ID' and 'Company name', not account_id and name)."""
    book = _hubspot_book(tmp_path)
    assert [c.value for c in book["Moves"][1]][:2] == ["Record ID", "Company name"]
    moves = _rows(book["Moves"])
    assert [(r["Record ID"].value, r["Company name"].value) for r in moves] == [
        ("123456789012345678", "Two")
    ]
    assert (moves[0]["previous_rep_id"].value, moves[0]["rep_id"].value) == (
        "52718304",
        "52718303",
    )
