"""Numbers written in any common locale: one decimal mark per column, decided from all cells.

Every expected value is worked out by hand from the cells: '48.718' beside '1.234.567,89' is
forty-eight thousand seven hundred and eighteen, never 48.718; a file that cannot say which
is an error naming the column and rows, never a silent factor of 1,000.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from territory_planner import load_scenario
from territory_planner.cli import main
from territory_planner.number_format import (
    COMMA,
    EITHER,
    INVALID,
    PLAIN,
    POINT,
    READS_COMMA,
    READS_POINT,
    cell_kinds,
    convert,
    prepared,
)

from .helpers import input_problems, write_inputs

REPS = "rep_id;lat;lon\nR1;48,1;11,5\nR2;52,5;13,4\n"
BALANCE = "balance:\n  - {metric: potential, tolerance: 0.5}\n"


def test_the_european_export_of_the_report_reads_every_cell_with_a_decimal_comma(tmp_path):
    """The file of the report: ';' cells, '26,1342' settles the lat column as decimal
    comma, so '40,694' is 40.694 (main read 40694); '1.234.567,89' settles potential, so
    '48.718' is 48718 (main read 48.718)."""
    accounts = (
        "account_id;lat;lon;potential\n"
        "A1;40,694;11,5755;48.718\n"
        "A2;26,1342;-80,1;1.234.567,89\n"
        "A3;48,1;13,25;250\n"
    )
    data = load_scenario(write_inputs(tmp_path, accounts, REPS, BALANCE))
    assert data.accounts["lat"].tolist() == [40.694, 26.1342, 48.1]
    assert data.accounts["lon"].tolist() == [11.5755, -80.1, 13.25]
    assert data.accounts["potential"].tolist() == [48718.0, 1234567.89, 250.0]


def test_an_ambiguous_column_follows_the_other_columns_and_the_semicolon(tmp_path):
    """Every potential is ambiguous ('48.718', '1.500'); lat '48,1374' and the ';' both say
    decimal comma, so the dots group thousands: 48718 and 1500."""
    accounts = "account_id;lat;lon;potential\nA1;48,1374;11,5;48.718\nA2;52,5;13,4;1.500\n"
    data = load_scenario(write_inputs(tmp_path, accounts, REPS, BALANCE))
    assert data.accounts["potential"].tolist() == [48718.0, 1500.0]


def test_us_export_with_thousands_commas(tmp_path):
    """'1,234,567.89' and '48,718' in a comma file: decimal point, commas group thousands."""
    accounts = (
        "account_id,lat,lon,potential\n"
        'A1,40.7128,-74.006,"48,718"\n'
        'A2,41.88,-87.63,"1,234,567.89"\n'
    )
    reps = "rep_id,lat,lon\nR1,40.2,-75.1\nR2,41.9,-87.6\n"
    data = load_scenario(write_inputs(tmp_path, accounts, reps, BALANCE))
    assert data.accounts["potential"].tolist() == [48718.0, 1234567.89]


def test_money_with_a_currency_code_reads_and_mixed_currencies_are_refused(tmp_path):
    """A multi-currency Salesforce export writes 'USD 250,000.00'; a European one
    '1.250,50 EUR'. The code goes like a currency sign. Two codes in one column would add
    dollars to euros: refused, naming the column and both codes."""
    accounts = (
        "account_id,lat,lon,potential\n"
        'A1,40.7128,-74.006,"USD 250,000.00"\n'
        "A2,41.88,-87.63,USD 1500.5\n"
        "A3,41.5,-87.0,USD300\n"
    )
    reps = "rep_id,lat,lon\nR1,40.2,-75.1\nR2,41.9,-87.6\n"
    data = load_scenario(write_inputs(tmp_path / "usd", accounts, reps, BALANCE))
    assert data.accounts["potential"].tolist() == [250000.0, 1500.5, 300.0]
    european = "account_id;lat;lon;potential\nA1;48;2;1.250,50 EUR\nA2;45;-4;2.000 EUR\n"
    data = load_scenario(write_inputs(tmp_path / "eur", european, REPS, BALANCE))
    assert data.accounts["potential"].tolist() == [1250.5, 2000.0]
    mixed = accounts.replace("USD 1500.5", "EUR 1500.5")
    found = input_problems(write_inputs(tmp_path / "mixed", mixed, reps, BALANCE))
    assert [(p.column, p.message) for p in found] == [
        ("potential", "the potential cells are in several currencies (EUR, USD)")
    ]


def test_a_currency_sign_written_apart_from_its_number_reads(tmp_path):
    """German and French exports write euros as '1.234,56 \u20ac' (a space before the sign),
    Dutch ones '\u20ac 2.000,00', the accounting format '$ 3,000': each was refused as not a
    number because dropping the sign left a space inside the cell, while '3.000,00\u20ac'
    read. Now all read: 1234.56, 2000, 3000 with a decimal comma; and with a decimal point
    '$ 3,000' is 3000 and '\u00a3 12.50' is 12.5."""
    european = (
        "account_id;lat;lon;potential\n"
        "A1;48;2;1.234,56 \u20ac\n"
        "A2;45;-4;\u20ac 2.000,00\n"
        "A3;43;5;3.000,00\u20ac\n"
    )
    data = load_scenario(write_inputs(tmp_path / "eur", european, REPS, BALANCE))
    assert data.accounts["potential"].tolist() == [1234.56, 2000.0, 3000.0]
    american = (
        'account_id,lat,lon,potential\nA1,40.7128,-74.006,"$ 3,000"\nA2,41.88,-87.63,\u00a3 12.50\n'
    )
    reps = "rep_id,lat,lon\nR1,40.2,-75.1\nR2,41.9,-87.6\n"
    data = load_scenario(write_inputs(tmp_path / "usd", american, reps, BALANCE))
    assert data.accounts["potential"].tolist() == [3000.0, 12.5]


def test_space_and_non_breaking_space_thousands_and_negatives(tmp_path):
    """French export: '1 234,5' (space), '2\u00a0000' (no-break space), a blank cell (the
    default 0), and a negative '-3,25' that is read as -3.25 and refused as such."""
    accounts = (
        "account_id;lat;lon;potential;revenue\n"
        "A1;48;2;1 234,5;-3,25\n"
        "A2;45;-4;2\u00a0000;1\n"
        "A3;43;5;;7\n"
    )
    found = input_problems(write_inputs(tmp_path / "neg", accounts, REPS, BALANCE))
    assert [(p.row, p.column, p.message) for p in found] == [
        (2, "revenue", "must be at least 0 (got '-3,25')")
    ]
    data = load_scenario(
        write_inputs(tmp_path / "ok", accounts.replace("-3,25", "3,25"), REPS, BALANCE)
    )
    assert data.accounts["potential"].tolist() == [1234.5, 2000.0, 0.0]
    assert data.accounts["revenue"].tolist() == [3.25, 1.0, 7.0]
    assert data.accounts["lon"].tolist() == [2.0, -4.0, 5.0]


def test_a_column_that_contradicts_itself_is_one_error_naming_rows_and_cells(tmp_path):
    """'26.1342' only reads with a decimal point, '26,1342' only with a decimal comma."""
    accounts = (
        "account_id;lat;lon;potential\nA1;40,5;11,5;26.1342\nA2;41,5;12,5;7\nA3;42,5;13,5;26,1342\n"
    )
    found = input_problems(write_inputs(tmp_path, accounts, REPS, BALANCE))
    assert len(found) == 1, found
    problem = found[0]
    assert problem.file.endswith("accounts.csv") and problem.column == "potential"
    assert "mixes decimal marks" in problem.message
    assert "'26.1342' (row 2) can only be read with a decimal point" in problem.message
    assert "'26,1342' (row 4) only with a decimal comma" in problem.message


def test_an_undecidable_column_is_an_error_not_a_guess(tmp_path):
    """Tab-separated (the delimiter says nothing), whole-degree coordinates (no other
    column says anything): '48.718' could be 48.718 or 48718, so it is refused."""
    accounts = "account_id\tlat\tlon\tpotential\nA1\t48\t11\t48.718\nA2\t52\t13\t1.500\n"
    found = input_problems(write_inputs(tmp_path, accounts, REPS, BALANCE))
    assert len(found) == 1, found
    problem = found[0]
    assert problem.column == "potential"
    assert problem.message.startswith(
        "cannot tell the decimal mark: '48.718' (row 2), '1.500' (row 3) read as 48.718 "
        "with a decimal point or as 48718 with a decimal comma"
    )
    assert "no other cell or column of the file settles it" in problem.message


def test_indications_that_disagree_are_an_error(tmp_path):
    """';' suggests a decimal comma but lat '48.1374' uses a decimal point: '48.718' in
    potential is then undecidable (a CRM that stores coordinates as text does this)."""
    accounts = "account_id;lat;lon;potential\nA1;48.1374;11.5755;48.718\nA2;52.5;13.4;2\n"
    found = input_problems(write_inputs(tmp_path, accounts, REPS, BALANCE))
    assert len(found) == 1, found
    assert found[0].column == "potential"
    assert "the file's indications disagree: column 'lat' uses a decimal point" in (
        found[0].message
    )
    assert "the file is semicolon-separated (a decimal comma)" in found[0].message


def test_validate_prints_totals_ranges_and_how_marks_were_decided(tmp_path):
    """Totals by hand: potential 48718 + 1234567.89 + 250 = 1,283,535.89."""
    accounts = (
        "account_id;lat;lon;potential\n"
        "A1;40,694;11,5755;48.718\n"
        "A2;26,1342;-80,1;1.234.567,89\n"
        "A3;48,1;13,25;250\n"
    )
    path = write_inputs(tmp_path, accounts, REPS, BALANCE)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "total potential: 1,283,535.9, range 250..1,234,567.89 (balanced within 50%)"
        in result.output
    )
    assert "total workload: 3.0, range 1..1" in result.output
    assert "potential: a decimal comma, as in '1.234.567,89' (row 3)" in result.output
    assert "lat: a decimal comma, as in '26,1342' (row 3)" in result.output


@pytest.mark.parametrize(
    "cell, kind, point, comma",
    [
        ("48.718", EITHER, 48.718, 48718.0),
        ("40,694", EITHER, 40694.0, 40.694),
        ("1.234.567,89", READS_COMMA, np.nan, 1234567.89),
        ("1,234,567.89", READS_POINT, 1234567.89, np.nan),
        ("1 234,5", READS_COMMA, np.nan, 1234.5),
        ("1'234.5", READS_POINT, 1234.5, np.nan),
        ("0,694", READS_COMMA, np.nan, 0.694),  # a thousands group never starts with 0
        ("0.718", READS_POINT, 0.718, np.nan),
        ("26,1342", READS_COMMA, np.nan, 26.1342),
        ("-3", PLAIN, -3.0, -3.0),
        ("1e5", PLAIN, 1e5, 1e5),
        ("\u22125,5", READS_COMMA, np.nan, -5.5),  # typeset minus sign
        ("$1,200.50", READS_POINT, 1200.5, np.nan),
        ("12,34,567", INVALID, np.nan, np.nan),  # lakh grouping is not read
        ("1.2.3", INVALID, np.nan, np.nan),
    ],
)
def test_cells_by_hand(cell, kind, point, comma):
    cells = prepared([cell])
    kinds = cell_kinds(cells)
    assert kinds[0] == kind
    np.testing.assert_equal(convert(cells, kinds, POINT)[0], point)
    np.testing.assert_equal(convert(cells, kinds, COMMA)[0], comma)


def test_workbook_and_in_memory_numbers_are_decimal_points(tmp_path):
    """A number cell 48.718 in a workbook, or floats 48.718 and 1.234 in memory, keep
    their value: both reach the reader written by Python with a decimal point, which
    settles cells that alone would be ambiguous."""
    import openpyxl
    import pandas as pd

    from territory_planner.data import load_data
    from territory_planner.scenario import load_scenario_settings

    book = openpyxl.Workbook()
    book.active.append(["account_id", "lat", "lon", "potential"])
    book.active.append(["A1", 48, 11, 48.718])
    book.active.append(["A2", 52, 13, 2])
    book.save(tmp_path / "accounts.xlsx")
    path = write_inputs(tmp_path, b"", REPS, BALANCE, accounts_name="accounts.xlsx")
    book.save(tmp_path / "accounts.xlsx")  # write_inputs wrote an empty placeholder
    data = load_scenario(path)
    assert data.accounts["potential"].tolist() == [48.718, 2.0]
    frame = pd.DataFrame(
        {"account_id": ["A1", "A2"], "lat": [48, 52], "lon": [11, 13], "potential": [48.718, 1.234]}
    )
    data = load_data(load_scenario_settings(path), accounts=frame)
    assert data.accounts["potential"].tolist() == [48.718, 1.234]


US_REPS = "rep_id,lat,lon\nR1,40.2,-75.1\nR2,41.9,-87.6\n"


def test_accounting_negatives_are_read_as_negatives_and_refused_as_such(tmp_path):
    """'(1,234)', '($1,234.00)' and SAP's '1234-' are -1234, -1234 and -1234: a negative
    potential is refused, naming the notation (they were 'not a number'); a longitude
    written '(87.63)' is -87.63 and reads."""
    accounts = (
        "account_id,lat,lon,potential\n"
        'A1,40.7,-74.0,"(1,234)"\n'
        'A2,40.7,-74.0,"($1,234.00)"\n'
        "A3,40.7,-74.0,1234-\n"
        "A4,41.88,(87.63),-5\n"
    )
    found = input_problems(write_inputs(tmp_path / "neg", accounts, US_REPS, BALANCE))
    negative = (
        "must be at least 0, but accounting notation's parentheses (or trailing minus) make "
        "this negative"
    )
    assert [(p.row, p.column, p.message) for p in found] == [
        (5, "potential", "must be at least 0 (got '-5')"),
        (2, "potential", f"{negative} (got '(1,234)')"),
        (3, "potential", f"{negative} (got '($1,234.00)')"),
        (4, "potential", f"{negative} (got '1234-')"),
    ]
    data = load_scenario(
        write_inputs(tmp_path / "lon", "account_id,lat,lon\nA4,41.88,(87.63)\n", US_REPS, "")
    )
    assert data.accounts["lon"].tolist() == [-87.63]


def test_cells_that_are_no_number_are_told_what_they_are(tmp_path):
    """Excel error values, K/M abbreviations, percentages and dashes each get their own
    words, with file, row, column and the cell; anything else is still 'not a number'."""
    accounts = (
        "account_id,lat,lon,workload,potential\n"
        "A1,40.7,-74.0,#N/A,1.2K\n"
        "A2,40.7,-74.0,-,12%\n"
        "A3,-,-74.0,1,3.4M\n"
        "A4,40.7,-74.0,1,TBD\n"
    )
    found = input_problems(write_inputs(tmp_path, accounts, US_REPS, BALANCE))
    told = {(p.row, p.column): (p.message, p.fix) for p in found}
    assert told == {
        (4, "lat"): (
            "is a dash, which reads as 0 in Excel's accounting format and as no value "
            "elsewhere (got '-')",
            "write the number, or leave the cell blank",
        ),
        (2, "workload"): (
            "is an Excel error value (a formula that failed), not a number (got '#N/A')",
            "correct the formula in the sheet it was exported from, or enter the value",
        ),
        (3, "workload"): (
            "is a dash, which reads as 0 in Excel's accounting format and as no value "
            "elsewhere (then workload 1, the default) (got '-')",
            "write 0, or leave the cell blank for the default 1",
        ),
        (2, "potential"): (
            "is abbreviated with a K/M/B suffix: the full number is needed (the suffix "
            "rounds it, and M means a thousand in some ledgers) (got '1.2K')",
            "write the whole number, e.g. 1200 for 1.2K",
        ),
        (4, "potential"): (
            "is abbreviated with a K/M/B suffix: the full number is needed (the suffix "
            "rounds it, and M means a thousand in some ledgers) (got '3.4M')",
            "write the whole number, e.g. 1200 for 1.2K",
        ),
        (3, "potential"): (
            "is a percentage, but potential is an amount (got '12%')",
            "write the amount itself, or 0.12 for 12% if a share is really meant",
        ),
        (5, "potential"): (
            "is not a number (got 'TBD')",
            "write digits with a decimal point, e.g. 1250.5",
        ),
    }


def test_a_dash_is_zero_where_zero_is_also_the_blank_default(tmp_path):
    """Excel's accounting format writes zero as '$ -' (saved to CSV as shown), a report
    writes '-' or an em dash for no value; potential's default for no value is 0, so both
    readings agree: 0, and validate says so."""
    accounts = (
        "account_id,lat,lon,potential\n"
        'A1,40.7,-74.0,"$ -   "\n'
        "A2,40.7,-74.0,\u2014\n"
        'A3,40.7,-74.0,"1,000"\n'
    )
    path = write_inputs(tmp_path, accounts, US_REPS, BALANCE)
    assert load_scenario(path).accounts["potential"].tolist() == [0.0, 0.0, 1000.0]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert (
        "potential 0 for 2 accounts whose potential is a dash ('-': zero in Excel's "
        "accounting format, and no value, 0 by default)"
    ) in result.output
