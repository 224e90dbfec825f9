"""Every input defect becomes one InputError naming the file, the row and the column.

Each test writes a tiny scenario as real files (accounts near Philadelphia, two reps) with one
defect, and checks the message AND where it points: the row is the row a spreadsheet shows
(header = row 1, first data row = row 2), the column the one to fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import Point, box

from territory_planner import Plan, load_scenario, plan
from territory_planner.cli import main
from territory_planner.data import read_table
from territory_planner.errors import InputError, Problem, ProblemList

from .helpers import input_problems, write_inputs

GOOD_ACCOUNTS = "account_id,name,lat,lon,workload\nA1,One,40.0,-75.0,1\nA2,Two,40.5,-74.5,2\n"
GOOD_REPS = "rep_id,name,lat,lon\nR1,Rita,40.2,-75.1\nR2,Rob,40.4,-74.6\n"
BALANCE = "balance:\n  - {metric: workload, tolerance: 0.5}\n"


def scenario(
    folder: Path,
    accounts: str | bytes = GOOD_ACCOUNTS,
    reps: str | bytes = GOOD_REPS,
    extra: str = BALANCE,
    accounts_name: str = "accounts.csv",
    reps_name: str = "reps.csv",
) -> Path:
    """Write the files as given (bytes untouched) and a scenario naming them."""
    return write_inputs(folder, accounts, reps, extra, accounts_name, reps_name)


problems = input_problems


def find(
    found: list[Problem], file: str, row: int | None, column: str | None, match: str
) -> Problem:
    """The one problem pointing at file/row/column whose message contains ``match``."""
    hits = [
        p
        for p in found
        if p.file.endswith(file) and p.row == row and p.column == column and match in p.message
    ]
    assert hits, f"no problem ({file}, {row}, {column}, {match!r}) among:\n" + "\n".join(
        map(str, found)
    )
    return hits[0]


# --------------------------------------------------------------------------- encodings


def test_windows_1252_file_is_refused_with_byte_and_line(tmp_path):
    """Decided: refuse, do not guess a code page (it would garble names silently)."""
    text = "account_id,name,lat,lon\nA1,One,40,-75\nA2,Caf\u00e9,40.5,-74.5\n"
    path = scenario(tmp_path, accounts=text.encode("cp1252"))
    with pytest.raises(InputError, match=r"not UTF-8 text: byte 0xe9 on line 3"):
        load_scenario(path)
    found = find(problems(path), "accounts.csv", 3, None, "Windows-1252 would be '\u00e9'")
    assert "CSV UTF-8" in found.fix


def test_utf16_with_byte_order_mark_is_decoded(tmp_path):
    """Excel's 'Unicode Text' is UTF-16 with a BOM and tabs: unambiguous, so it loads."""
    text = "account_id\tname\tlat\tlon\nA1\tCaf\u00e9\t40\t-75\nA2\tTwo\t40.5\t-74.5\n"
    data = load_scenario(scenario(tmp_path, accounts=text.encode("utf-16")))
    assert data.accounts["name"].tolist() == ["Caf\u00e9", "Two"]


def test_utf8_byte_order_mark_does_not_stick_to_the_first_header(tmp_path):
    data = load_scenario(scenario(tmp_path, accounts=b"\xef\xbb\xbf" + GOOD_ACCOUNTS.encode()))
    assert data.accounts["account_id"].tolist() == ["A1", "A2"]


def test_binary_file_is_refused(tmp_path):
    path = scenario(tmp_path, accounts=b"PK\x03\x04\x00\x00binary")
    with pytest.raises(InputError, match="looks binary"):
        load_scenario(path)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, delimiter):
    text = GOOD_ACCOUNTS.replace(",", delimiter)
    data = load_scenario(scenario(tmp_path, accounts=text))
    assert data.accounts["lon"].tolist() == [-75.0, -74.5]


def test_semicolon_file_reads_decimal_commas(tmp_path):
    """A European export: ';' between cells, ',' as the decimal mark (40,5 = 40.5)."""
    text = "account_id;lat;lon;workload\nA1;40,0;-75,25;1,5\nA2;40,5;-74,5;2\n"
    data = load_scenario(scenario(tmp_path, accounts=text))
    assert data.accounts["lat"].tolist() == [40.0, 40.5]
    assert data.accounts["lon"].tolist() == [-75.25, -74.5]
    assert data.accounts["workload"].tolist() == [1.5, 2.0]


def test_a_comma_in_a_quoted_cell_is_read_by_its_column(tmp_path):
    """'1,5' can only be a decimal comma, so its column reads '1,250' as 1.25 too; in a
    column of its own, '1,250' in a comma-separated file is 1250 (the file's convention)."""
    text = 'account_id,lat,lon,workload\nA1,40,-75,"1,5"\nA2,41,-74,"1,250"\n'
    data = load_scenario(scenario(tmp_path / "a", accounts=text))
    assert data.accounts["workload"].tolist() == [1.5, 1.25]
    text = 'account_id,lat,lon,potential\nA1,40,-75,7\nA2,41,-74,"1,250"\n'
    data = load_scenario(scenario(tmp_path / "b", accounts=text))
    assert data.accounts["potential"].tolist() == [7.0, 1250.0]


# --------------------------------------------------------------------------- shape of the file


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = scenario(tmp_path, accounts=content)
    with pytest.raises(InputError, match="the file is empty"):
        load_scenario(path)
    find(problems(path), "accounts.csv", None, None, "the file is empty")


def test_header_only(tmp_path):
    path = scenario(tmp_path, reps="rep_id,name,lat,lon\n")
    with pytest.raises(InputError, match="has a header but no reps"):
        load_scenario(path)
    find(problems(path), "reps.csv", 2, None, "has a header but no reps")


def test_duplicate_columns_case_insensitive(tmp_path):
    text = "account_id,lat,Lat,lon\nA1,40,40,-75\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match=r"column 'Lat' appears twice \(columns 2 and 3\)"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 1, "Lat", "appears twice")


def test_two_aliases_of_one_column(tmp_path):
    text = "account_id,latitude,BillingLatitude,lon\nA1,40,40,-75\n"
    path = scenario(tmp_path, accounts=text)
    find(problems(path), "accounts.csv", 1, "BillingLatitude", "both mean 'lat'")


def test_canonical_name_and_its_alias_together(tmp_path):
    """OwnerId is an alias of current_rep_id: both present is reported once (found by the
    fuzz test, which used to crash here on a doubled column name)."""
    text = "account_id,OwnerId,lat,lon,current_rep_id\nA1,R1,40,-75,R1\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match="columns 'current_rep_id' and 'OwnerId' both mean"):
        load_scenario(path)
    assert len(problems(path)) == 1
    find(problems(path), "accounts.csv", 1, "OwnerId", "both mean 'current_rep_id'")


def test_a_report_export_with_labels_loads_and_speaks_its_names_back(tmp_path):
    """A Salesforce report export writes labels, not API names: 'Account ID', 'Billing
    Zip/Postal Code', 'Account Owner ID', 'Parent Account ID', and a reps sheet with 'User
    ID', 'Full Name' and 'Zip Code'. Each is read as its canonical column (letters and
    digits, any case), money cells like "$250,000" are numbers, and the CRM update file
    comes back under the export's own headers."""
    accounts = (
        "Account ID,Account Name,Billing Zip/Postal Code,Account Owner ID,Potential,Workload,"
        "Parent Account ID,Annual Revenue\n"
        'A1,"Acme, Inc.",27601,U1,"$250,000",120,,"$1,200,000.00"\n'
        'A2,Beta LLC,27701-1234,U2,"$150,000",80,A1,"$800,000.00"\n'
        'A3,Gamma Co,28202,U1,"$400,000",200,,"$2,500,000.00"\n'
    )
    reps = "User ID,Full Name,Zip Code\nU1,Ann Smith,27601\nU2,Bob Jones,28202\n"
    path = scenario(tmp_path, accounts=accounts, reps=reps)
    data = load_scenario(path)
    frame = data.accounts.set_index("account_id")
    assert frame.loc["A2", "postal_code"] == "27701"
    assert frame.loc["A2", "current_rep_id"] == "U2"
    assert frame.loc["A2", "group_id"] == "A1"
    assert frame.loc["A1", "potential"] == 250_000.0
    assert frame.loc["A1", "name"] == "Acme, Inc."
    # 'Annual Revenue' is the company's revenue, not last year's sales: passed through
    assert "Annual Revenue" in data.accounts.columns
    assert (data.accounts["revenue"] == 0).all()
    assert list(data.reps["name"]) == ["Ann Smith", "Bob Jones"]
    made = plan(path)
    out = tmp_path / "plan"
    made.write(out)
    changes = pd.read_csv(out / "owner_changes.csv", dtype=str)
    assert list(changes.columns) == ["Account ID", "Account Owner ID"]
    assignments = pd.read_csv(out / "assignments.csv", dtype=str)
    assert assignments.columns[0] == "Account ID"


NAMED_OWNERS = (
    "Account ID,Account Owner,Billing Zip/Postal Code,Workload\n"
    "A1,Ann Smith,27601,10\n"
    "A2,bob  jones,27701,10\n"
    "A3,Ann Smith,28202,10\n"
    "A4,Bob Jones,27401,10\n"
)
NAMED_REPS = "User ID,Full Name,Zip Code\nU1,Ann Smith,27601\nU2,Bob Jones,28202\n"


def test_owners_given_by_name_are_read_as_reps_and_updated_by_name(tmp_path):
    """A report export's 'Account Owner' holds names: each is the name of one rep (case and
    spaces aside: 'bob  jones'), so today's owners are U1, U2, U1, U2. The plan (workload
    band 0: two accounts each, travel to the rep's ZIP) keeps A1 with Ann in Raleigh and
    gives A3 in Charlotte to Bob; the CRM update speaks names, as the export did, and
    assignments.csv writes the owner column back as it was written."""
    path = scenario(
        tmp_path,
        accounts=NAMED_OWNERS,
        reps=NAMED_REPS,
        extra="balance:\n  - {metric: workload, tolerance: 0.0}\n",
    )
    data = load_scenario(path)
    assert list(data.accounts.sort_values("account_id")["current_rep_id"]) == [
        "U1",
        "U2",
        "U1",
        "U2",
    ]
    assert any("4 owner(s) given by rep name" in note for note in data.summary()["defaults"])
    out = tmp_path / "plan"
    plan(data).write(out)
    assignments = pd.read_csv(out / "assignments.csv", dtype=str).set_index("Account ID")
    assert assignments.loc["A3", "previous_rep_id"] == "U1"
    assert assignments.loc["A3", "rep_id"] == "U2"
    assert assignments.loc["A2", "Account Owner"] == "bob  jones"
    changes = pd.read_csv(out / "owner_changes.csv", dtype=str)
    assert list(changes.columns) == ["Account ID", "Account Owner"]
    moved = dict(zip(changes["Account ID"], changes["Account Owner"]))
    assert moved["A3"] == "Bob Jones"
    assert set(moved.values()) <= {"Ann Smith", "Bob Jones"}


@pytest.mark.parametrize(
    "header",
    [
        "Record Id,Account Name,Billing Code,Account Owner,Workload",  # Zoho CRM
        "Organization - ID,Organization - Name,Organization - Address - ZIP/Postal code,"
        "Organization - Owner,Workload",  # Pipedrive
    ],
)
def test_zoho_and_pipedrive_exports_load_unchanged(tmp_path, header):
    """Zoho writes the billing ZIP as 'Billing Code', Pipedrive prefixes every field with
    'Organization - '; both read as account_id, name, postal_code and today's owner (by
    name), and the CRM update comes back under the export's own headers."""
    accounts = (
        header + "\n"
        "A1,Name,27601,Ann Smith,10\n"
        "A2,Name,27701,bob  jones,10\n"
        "A3,Name,28202,Ann Smith,10\n"
        "A4,Name,27401,Bob Jones,10\n"
    )
    path = scenario(tmp_path, accounts=accounts, reps=NAMED_REPS)
    data = load_scenario(path)
    frame = data.accounts.set_index("account_id")
    assert frame.loc["A2", "postal_code"] == "27701"
    assert frame.loc["A2", "current_rep_id"] == "U2"
    assert frame.loc["A1", "name"] == "Name"
    out = tmp_path / "plan"
    plan(data).write(out)
    id_column, owner_column = header.split(",")[0], header.split(",")[3]
    changes = pd.read_csv(out / "owner_changes.csv", dtype=str)
    assert list(changes.columns) == [id_column, owner_column]


def test_a_postal_code_abroad_is_not_read_as_a_us_zip(tmp_path):
    """Berlin's PLZ 10115 is also a New York ZIP and Paris's 75001 one in Texas: with the
    export's 'Billing Country' saying Germany and France they are refused with their rows
    (2 and 6) instead of being placed in the US; 'United States', 'USA' and a blank country
    are geocoded as before, and so is a row abroad that gives its lat/lon."""
    accounts = (
        "Account ID,Billing Zip/Postal Code,Billing Country,Billing Latitude,"
        "Billing Longitude\n"
        "A1,10115,Germany,,\n"
        "A2,10115,United States,,\n"
        "A3,27601,USA,,\n"
        "A4,27601,,,\n"
        "A5,75001,France,,\n"
        "A6,10115,Germany,52.53,13.38\n"
    )
    found = problems(scenario(tmp_path, accounts=accounts))
    assert [(p.row, p.column) for p in found] == [(2, "postal_code"), (6, "postal_code")]
    assert "(got '10115, Germany')" in found[0].message
    assert "outside the US by its country column" in found[0].message
    fixed = accounts.replace("A1,10115,Germany,,", "A1,10115,Germany,52.53,13.38").replace(
        "A5,75001,France,,", "A5,75001,France,48.86,2.34"
    )
    data = load_scenario(scenario(tmp_path / "fixed", accounts=fixed))
    frame = data.accounts.set_index("account_id")
    assert frame.loc["A2", "lat"] == pytest.approx(40.7, abs=0.2)  # New York
    assert frame.loc["A6", "lat"] == pytest.approx(52.53)


def test_zip_plus_4_with_a_space_or_without_its_leading_zero_is_its_zip(tmp_path):
    """Boston's 02134 written as ZIP+4 the ways exports write it: '02134 1234' (an address
    block), '21341234' (the nine digits read as a number, the zero lost), beside the forms
    read before ('02134-1234', '2134'); all are 02134, at 42.35, -71.13. '02134 ABC' is no
    ZIP+4 and is still an unknown postal code."""
    accounts = (
        "Account ID,Billing Zip/Postal Code\nA1,02134 1234\nA2,21341234\nA3,02134-1234\nA4,2134\n"
    )
    data = load_scenario(scenario(tmp_path, accounts=accounts))
    assert data.accounts["postal_code"].tolist() == ["02134"] * 4
    assert data.accounts["lat"].round(2).tolist() == [42.35] * 4
    found = problems(scenario(tmp_path / "bad", accounts=accounts + "A5,02134 ABC\n"))
    assert [(p.row, p.message) for p in found] == [
        (6, "unknown postal code (not a US ZIP in the offline database) (got '02134 ABC')")
    ]


def test_a_capacity_written_as_a_percentage_is_that_share(tmp_path):
    """Rosters write FTE as a percentage: 'FTE %' is the capacity column, '100%' is 1,
    '50 %' 0.5 and '1' stays 1 (it was 'not a number' for both); validate says so."""
    reps = "rep_id,name,lat,lon,FTE %\nR1,Rita,40.2,-75.1,100%\nR2,Rob,40.4,-74.6,50 %\n"
    path = scenario(tmp_path, reps=reps + "R3,Ron,40.3,-74.9,1\n")
    assert load_scenario(path).reps["capacity"].tolist() == [1.0, 0.5, 1.0]
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "capacity read as a share for 2 reps whose capacity is a percentage (50% is 0.5)" in (
        result.output
    )


def test_an_owner_name_two_reps_share_is_refused_naming_both(tmp_path):
    reps = NAMED_REPS + "U3,Ann Smith,27401\n"
    path = scenario(tmp_path, accounts=NAMED_OWNERS, reps=reps)
    found = problems(path)
    hit = find(found, "accounts.csv", 2, "current_rep_id", "belongs to several reps")
    assert "Ann Smith: reps U1, U3" in hit.message
    find(found, "accounts.csv", 4, "current_rep_id", "belongs to several reps")
    assert not [p for p in found if "is not a rep" in p.message]


def test_an_owner_id_in_the_wrong_case_is_refused_naming_the_rep(tmp_path):
    """'r1' for rep R1 is not read as R1 (Salesforce IDs are case-sensitive: two users may
    differ only in case), but the fix names R1; an owner no rep spells in any case keeps
    the plain fix."""
    accounts = "account_id,lat,lon,current_rep_id\nA1,40.0,-75.0,r1\nA2,40.5,-74.5,R9\n"
    found = problems(scenario(tmp_path, accounts=accounts))
    assert [str(p) for p in found if p.column == "current_rep_id"] == [
        f"{tmp_path / 'accounts.csv'}, row 3, column 'current_rep_id': current_rep_id is not a "
        "rep in the reps file (got 'R9') (fix: correct the ID or blank it)",
        f"{tmp_path / 'accounts.csv'}, row 2, column 'current_rep_id': current_rep_id is not a "
        "rep in the reps file (got 'r1') (fix: did you mean 'R1'? rep IDs are case-sensitive)",
    ]


def test_account_ids_that_differ_only_in_case_are_two_accounts_with_a_note(tmp_path):
    """A1 and a1 are two accounts (Salesforce IDs are case-sensitive), but from a CRM whose
    IDs ignore case they are one account listed twice: validate says so, naming the rows.
    They loaded without a word; R1 and r1 among the reps get the same note."""
    accounts = "account_id,lat,lon\nA1,40.0,-75.0\na1,40.1,-75.0\nB2,40.2,-75.0\nb2,40.3,-75.0\n"
    reps = GOOD_REPS + "r1,Ray,40.3,-74.9\n"
    data = load_scenario(scenario(tmp_path, accounts=accounts, reps=reps))
    assert data.accounts["account_id"].tolist() == ["A1", "a1", "B2", "b2"]
    notes = [n for n in data.summary()["defaults"] if "only in case" in n]
    assert notes == [
        "account_id: 4 accounts differ from another only in case (A1 (row 2) and a1 (row 3); "
        "B2 (row 4) and b2 (row 5)): read as different accounts, as Salesforce IDs are "
        "case-sensitive; if your CRM's IDs ignore case (Dynamics GUIDs), IDs that differ only "
        "in case are one account listed more than once",
        "rep_id: 2 reps differ from another only in case (R1 (row 2) and r1 (row 4)): read as "
        "different reps, as Salesforce IDs are case-sensitive; if your CRM's IDs ignore case "
        "(Dynamics GUIDs), IDs that differ only in case are one rep listed more than once",
    ]


def test_owners_by_id_and_by_name_in_one_file_update_by_id(tmp_path):
    """One owner by ID, the rest by name: all read as reps, and the CRM update (not all by
    name) gives rep IDs."""
    accounts = NAMED_OWNERS.replace("A1,Ann Smith", "A1,U1")
    path = scenario(
        tmp_path,
        accounts=accounts,
        reps=NAMED_REPS,
        extra="balance:\n  - {metric: workload, tolerance: 0.0}\n",
    )
    out = tmp_path / "plan"
    plan(load_scenario(path)).write(out)
    changes = pd.read_csv(out / "owner_changes.csv", dtype=str)
    assert set(changes["Account Owner"]) <= {"U1", "U2"} and len(changes) >= 1


def test_an_owner_name_column_beside_the_owner_id_column_passes_through(tmp_path):
    """A report export with both 'Account Owner' (names) and 'Account Owner ID': the ID
    column is today's owner and the name column stays an ordinary column, not a clash."""
    accounts = (
        "Account ID,Account Owner,Account Owner ID,Billing Zip/Postal Code\n"
        "A1,Ann Smith,U1,27601\nA2,Bob Jones,U2,28202\n"
    )
    data = load_scenario(scenario(tmp_path, accounts=accounts, reps=NAMED_REPS))
    frame = data.accounts.set_index("account_id")
    assert list(frame["current_rep_id"]) == ["U1", "U2"]
    assert list(frame["Account Owner"]) == ["Ann Smith", "Bob Jones"]


def test_an_owner_column_of_e_mails_is_kept_as_an_ordinary_column(tmp_path):
    """'Owner' holds e-mail addresses, none a rep's ID or name: the accounts have no owner
    today (no error), the column passes through to assignments.csv as it was, and validate
    says why."""
    accounts = "Account ID,Owner,Billing Zip/Postal Code\nA1,ann@x.com,27601\nA2,bob@x.com,28202\n"
    path = scenario(tmp_path, accounts=accounts, reps=NAMED_REPS)
    data = load_scenario(path)
    assert data.accounts["current_rep_id"].isna().all()
    assert any("no value of 'Owner' is a rep_id" in n for n in data.summary()["defaults"])
    out = tmp_path / "plan"
    plan(data).write(out)
    assignments = pd.read_csv(out / "assignments.csv", dtype=str).set_index("Account ID")
    assert assignments.loc["A1", "Owner"] == "ann@x.com"
    assert assignments["previous_rep_id"].isna().all()


def test_salesforce_suffix_worked_by_hand():
    """001A0000006Vm9r in blocks of five: '001A0' has its upper-case letter at place 3 (bit
    value 8 -> 'I'), '00000' none (0 -> 'A'), '6Vm9r' at place 1 (2 -> 'C'): the API form
    is 001A0000006Vm9rIAC."""
    from territory_planner.data.owners import salesforce_forms, salesforce_suffix

    assert salesforce_suffix("001A0000006Vm9r") == "IAC"
    forms = salesforce_forms(["001A0000006Vm9r", "005000000000XYZAAA", "R1"])
    # 005000000000XYZ would end AA2 (X, Y, Z at places 2, 3, 4: 4 + 8 + 16 = 28), not AAA
    assert forms == {"001A0000006Vm9rIAC": "001A0000006Vm9r"}


def test_owner_ids_of_the_other_salesforce_length_are_the_same_reps(tmp_path):
    """Reps from a users report carry 15-character IDs, the accounts from Data Loader the
    18-character OwnerId: 0055g00000AbCdE + 'AAV' and 0055g00000XyZzY + its suffix are
    those reps; an 18-character ID whose suffix does not check ('AAA') is not."""
    from territory_planner.data.owners import salesforce_suffix

    ann, bob = "0055g00000AbCdE", "0055g00000XyZzY"
    assert salesforce_suffix(ann) == "AAV"
    reps = f"Id,Name,Zip Code\n{ann},Ann,27601\n{bob},Bob,28202\n"
    accounts = (
        "Id,OwnerId,BillingPostalCode\n"
        f"A1,{ann}AAV,27601\nA2,{bob}{salesforce_suffix(bob)},28202\nA3,{ann},27401\n"
    )
    data = load_scenario(scenario(tmp_path / "ok", accounts=accounts, reps=reps))
    owners = dict(zip(data.accounts["account_id"], data.accounts["current_rep_id"]))
    assert owners == {"A1": ann, "A2": bob, "A3": ann}
    assert any(
        "2 owner ID(s) in the other Salesforce form" in n for n in data.summary()["defaults"]
    )
    wrong = accounts.replace(f"{ann}AAV", f"{ann}AAA")
    path = scenario(tmp_path / "wrong", accounts=wrong, reps=reps)
    find(problems(path), "accounts.csv", 2, "current_rep_id", "is not a rep")


def test_a_dynamics_export_loads(tmp_path):
    """Dynamics 365 exports key rows by '(Do Not Modify) Account' / '(Do Not Modify) User',
    give the ZIP as 'Address 1: ZIP/Postal Code' and the owner by name in 'Owner'."""
    accounts = (
        "(Do Not Modify) Account,(Do Not Modify) Row Checksum,Account Name,"
        "Address 1: ZIP/Postal Code,Owner\n"
        "g-1,x1,Acme,27601,Ann Smith\ng-2,x2,Beta,28202,Bob Jones\n"
    )
    reps = "(Do Not Modify) User,Full Name,Zip Code\nU1,Ann Smith,27601\nU2,Bob Jones,28202\n"
    data = load_scenario(scenario(tmp_path, accounts=accounts, reps=reps))
    frame = data.accounts.set_index("account_id")
    assert list(frame.index) == ["g-1", "g-2"]
    assert list(frame["current_rep_id"]) == ["U1", "U2"]
    assert list(frame["postal_code"]) == ["27601", "28202"]
    assert "(Do Not Modify) Row Checksum" in data.accounts.columns


def test_an_owner_column_of_e_mails_with_a_lock_is_refused_not_dropped(tmp_path):
    """The same e-mail column with one account locked: a lock needs a rep to hold it, so
    the owner column is not set aside and the unknown owners are reported."""
    accounts = (
        "Account ID,Owner,Billing Zip/Postal Code,locked\n"
        "A1,ann@x.com,27601,true\nA2,bob@x.com,28202,false\n"
    )
    path = scenario(tmp_path, accounts=accounts, reps=NAMED_REPS)
    find(problems(path), "accounts.csv", 2, "current_rep_id", "is not a rep")


def test_a_spaced_alias_and_its_api_name_together_are_one_column_twice(tmp_path):
    """'Billing Zip/Postal Code' and 'BillingPostalCode' now mean the same column: both in
    one file is the usual 'both mean' problem, not a silent pick."""
    text = "account_id,BillingPostalCode,Billing Zip/Postal Code\nA1,27601,27601\n"
    path = scenario(tmp_path, accounts=text)
    find(problems(path), "accounts.csv", 1, "Billing Zip/Postal Code", "both mean 'postal_code'")


def test_row_of_the_wrong_width_names_its_row_after_a_blank_line(tmp_path):
    """Blank lines are skipped but still counted: the bad row is line 5 of the file."""
    text = "account_id,lat,lon\nA1,40,-75\n\nA2,40.5,-74.5,oops\nA3,40.1,-74.9\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match="has 4 cells where the header has 3"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 4, None, "has 4 cells")


def test_trailing_empty_cells_are_tolerated(tmp_path):
    text = "account_id,lat,lon\nA1,40,-75,,\nA2,40.5,-74.5\n"
    assert len(load_scenario(scenario(tmp_path, accounts=text)).accounts) == 2


def test_missing_required_column(tmp_path):
    path = scenario(tmp_path, reps="name,lat,lon\nRita,40,-75\n")
    with pytest.raises(InputError, match="required column 'rep_id' is missing"):
        load_scenario(path)
    find(problems(path), "reps.csv", 1, "rep_id", "required column")


def test_data_path_that_is_a_folder(tmp_path):
    path = scenario(tmp_path)
    (tmp_path / "folder.csv").mkdir()
    path.write_text("accounts: folder.csv\nreps: reps.csv\n")
    with pytest.raises(InputError, match="is a folder, not a data file"):
        load_scenario(path)


# --------------------------------------------------------------------------- cells


def test_duplicate_ids(tmp_path):
    text = "account_id,lat,lon\nA1,40,-75\nA2,40.5,-74.5\nA1,40.1,-75.1\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match=r"duplicate account_id 'A1' \(first seen on row 2\)"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 4, "account_id", "duplicate account_id")


def test_blank_id_is_reported_and_blank_or_nan_numbers_take_defaults(tmp_path):
    """Blank/NaN workload -> 1 and potential -> 0 (DESIGN defaults); a blank ID is an error."""
    good = "account_id,lat,lon,workload,potential\nA1,40,-75,,NaN\nA2,40.5,-74.5,n/a,\n"
    data = load_scenario(scenario(tmp_path / "good", accounts=good))
    assert data.accounts["workload"].tolist() == [1.0, 1.0]
    assert data.accounts["potential"].tolist() == [0.0, 0.0]
    bad = "account_id,lat,lon\nA1,40,-75\n ,40.5,-74.5\n"
    path = scenario(tmp_path / "bad", accounts=bad)
    with pytest.raises(InputError, match="account_id is blank"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 3, "account_id", "account_id is blank")


def test_text_in_numeric_column(tmp_path):
    text = "account_id,lat,lon,workload\nA1,40,-75,12 hours\nA2,40.5,-74.5,2\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match=r"is not a number \(got '12 hours'\)"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 2, "workload", "is not a number")


def test_negative_and_infinite_numbers(tmp_path):
    text = (
        "account_id,lat,lon,workload,potential\nA1,40,-75,-3,5\n"
        "A2,40.5,-74.5,2,inf\nA3,40.1,-74.9,1e999,1\n"
    )
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match=r"must be at least 0 \(got '-3'\)"):
        load_scenario(path)
    found = problems(path)
    find(found, "accounts.csv", 2, "workload", "must be at least 0")
    find(found, "accounts.csv", 3, "potential", "is infinite")
    find(found, "accounts.csv", 4, "workload", "is infinite")


def test_coordinates_out_of_range(tmp_path):
    text = "account_id,lat,lon\nA1,40,-75\nA2,91,-200\nA3,40,181\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match="longitude must be within -180..180"):
        load_scenario(path)
    found = problems(path)
    find(found, "accounts.csv", 3, "lat", "latitude must be within -90..90")
    find(found, "accounts.csv", 4, "lon", "longitude must be within -180..180")


def test_swapped_coordinates_by_range(tmp_path):
    """lat -75 is a latitude, but lat -120 is not: -120/40 only fits the other way round."""
    text = "account_id,lat,lon\nA1,40,-75\nA2,-120,40\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match="lat and lon look swapped"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 3, "lat", "swapped")


def write_regions(folder: Path, crs: str = "EPSG:4326") -> Path:
    """Two unit squares: PA-E (lon -76..-75, lat 40..41) and NJ (lon -75..-74, lat 40..41)."""
    regions = gpd.GeoDataFrame(
        {"region_id": ["NJ", "PA-E"], "parent_id": ["East", "East"]},
        geometry=[box(-75, 40, -74, 41), box(-76, 40, -75, 41)],
        crs="EPSG:4326",
    ).to_crs(crs)
    path = folder / "regions.gpkg"
    folder.mkdir(parents=True, exist_ok=True)
    regions.to_file(path, driver="GPKG")
    return path


def test_swapped_coordinates_detected_against_the_regions(tmp_path):
    """lat -74.5 / lon 40.5 is in range both ways; only the regions show it is swapped."""
    write_regions(tmp_path)
    text = "account_id,lat,lon\nA1,40.5,-75.5\nA2,-74.5,40.5\n"
    path = scenario(tmp_path, accounts=text, extra="regions: regions.gpkg\n")
    with pytest.raises(InputError, match="lat and lon look swapped"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 3, "lat", "lat and lon look swapped")


def test_label_parent_ids_load_and_place_accounts(tmp_path):
    """parent_id 'East' is a label, not a region: allowed; reps may name it as region_id."""
    write_regions(tmp_path)
    reps = "rep_id,lat,lon,region_id\nR1,40.2,-75.1,East\nR2,40.4,-74.6,NJ\n"
    text = "account_id,lat,lon\nA1,40.5,-75.5\nA2,40.5,-74.5\n"
    data = load_scenario(
        scenario(tmp_path, accounts=text, reps=reps, extra="regions: regions.gpkg\n")
    )
    assert data.accounts["region_id"].tolist() == ["PA-E", "NJ"]


def test_unknown_postal_code(tmp_path):
    text = "account_id,postal_code\nA1,19103\nA2,00000\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match=r"unknown postal code .*\(got '00000'\)"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 3, "postal_code", "unknown postal code")


def test_a_military_zip_is_refused_not_placed_at_latitude_0_longitude_0(tmp_path):
    """The zipcodes package lists APO 09012 (Europe) and FPO 96349 (Pacific) at 0, 0, in
    the Gulf of Guinea: they used to be placed there silently, 8,667 km from a New York rep.
    Now rows 3 and 4 are refused as ZIPs with no location, row 5's made-up ZIP is still an
    unknown one, and row 2's Philadelphia ZIP geocodes as before."""
    text = "account_id,postal_code\nA1,19103\nA2,09012\nA3,96349\nA4,00000\n"
    found = problems(scenario(tmp_path, accounts=text))
    assert [(p.row, p.column) for p in found] == [
        (5, "postal_code"),
        (3, "postal_code"),
        (4, "postal_code"),
    ]
    assert "unknown postal code" in found[0].message
    for problem, code in zip(found[1:], ("09012", "96349")):
        assert "US ZIP with no location" in problem.message
        assert "military APO/FPO/DPO" in problem.message
        assert f"(got '{code}')" in problem.message
    data = load_scenario(
        scenario(tmp_path / "fixed", accounts="account_id,postal_code\nA1,19103\n")
    )
    assert data.accounts.loc[0, "lat"] == pytest.approx(39.95, abs=0.1)


def test_postal_code_keeps_leading_zero_and_geocodes(tmp_path):
    """Excel drops the zero of 08540 (Princeton NJ): 8540 -> 08540, about 40.35 N 74.66 W."""
    data = load_scenario(scenario(tmp_path, accounts="account_id,zip\nA1,8540\n"))
    assert data.accounts.loc[0, "postal_code"] == "08540"
    assert data.accounts.loc[0, "lat"] == pytest.approx(40.35, abs=0.1)


def test_references_to_unknown_reps(tmp_path):
    text = "account_id,lat,lon,current_rep_id\nA1,40,-75,R1\nA2,40.5,-74.5,R9\n"
    path = scenario(tmp_path, accounts=text)
    with pytest.raises(InputError, match=r"current_rep_id is not a rep .*\(got 'R9'\)"):
        load_scenario(path)
    find(problems(path), "accounts.csv", 3, "current_rep_id", "is not a rep")


def test_references_to_unknown_regions(tmp_path):
    write_regions(tmp_path)
    reps = "rep_id,lat,lon,region_id\nR1,40.2,-75.1,NY\nR2,40.4,-74.6,NJ\n"
    accounts = "account_id,lat,lon,region_id\nA1,40.5,-75.5,PA-E\nA2,40.5,-74.5,DE\n"
    path = scenario(tmp_path, accounts=accounts, reps=reps, extra="regions: regions.gpkg\n")
    with pytest.raises(InputError, match="region_id does not exist in the regions file"):
        load_scenario(path)
    found = problems(path)
    find(found, "reps.csv", 2, "region_id", "does not exist")
    find(found, "accounts.csv", 3, "region_id", "is not a region of the regions file")


def test_invalid_and_empty_geometries(tmp_path):
    """Feature 2 has no geometry, feature 3 is a point; feature 1 (a bow-tie) is repaired."""
    features = [
        {
            "type": "Feature",
            "properties": {"region_id": "BOW"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[-75, 40], [-74, 41], [-74, 40], [-75, 41], [-75, 40]]],
            },
        },
        {"type": "Feature", "properties": {"region_id": "EMPTY"}, "geometry": None},
        {
            "type": "Feature",
            "properties": {"region_id": "DOT"},
            "geometry": {"type": "Point", "coordinates": [-75, 40]},
        },
    ]
    (tmp_path / "regions.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    path = scenario(tmp_path, extra="regions: regions.geojson\n")
    with pytest.raises(InputError, match="empty geometry"):
        load_scenario(path)
    found = problems(path)
    find(found, "regions.geojson", 2, "geometry", "empty geometry")
    find(found, "regions.geojson", 3, "geometry", "is a Point, not a polygon")
    assert not [p for p in found if p.row == 1]


def test_projected_regions_are_reprojected(tmp_path):
    """A GeoPackage in Web Mercator (EPSG:3857) is reprojected; accounts land in NJ/PA-E."""
    write_regions(tmp_path, crs="EPSG:3857")
    text = "account_id,lat,lon\nA1,40.5,-75.5\nA2,40.5,-74.5\n"
    data = load_scenario(scenario(tmp_path, accounts=text, extra="regions: regions.gpkg\n"))
    assert data.regions.crs.to_epsg() == 4326
    assert data.accounts["region_id"].tolist() == ["PA-E", "NJ"]


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_projected_coordinates_without_a_crs_are_refused(tmp_path):
    """A Shapefile without its .prj, in metres: guessing would misplace every account."""
    regions = gpd.GeoDataFrame(
        {"region_id": ["NJ"]}, geometry=[box(-8348000, 4865000, -8237000, 5012000)]
    )
    regions.to_file(tmp_path / "regions.shp")
    assert not (tmp_path / "regions.prj").exists()
    path = scenario(tmp_path, extra="regions: regions.shp\n")
    with pytest.raises(InputError, match="no coordinate reference system"):
        load_scenario(path)
    find(problems(path), "regions.shp", None, "geometry", "not longitude/latitude")


# --------------------------------------------------------------------------- scenario settings


def test_unknown_scenario_key_is_named_with_a_suggestion(tmp_path):
    path = scenario(tmp_path, extra="balance:\n  - {metric: workload, tolerence: 0.05}\n")
    with pytest.raises(InputError, match=r"unknown key 'tolerence' in the first balance rule"):
        load_scenario(path)
    found = find(problems(path), "scenario.yaml", None, None, "unknown")
    assert found.fix == "did you mean 'tolerance'?"


@pytest.mark.parametrize(
    "extra, key, match",
    [
        (
            "balance:\n  - {metric: workload, tolerance: -0.1}\n",
            "'tolerance' in the first balance rule",
            "greater than or equal to 0",
        ),
        ("solver: {time_limit: 0}\n", "'time_limit' in the solver section", "greater than 0"),
        ("solver: {time_limit: -5}\n", "'time_limit' in the solver section", "greater than 0"),
        ("solver: {time_limit: .inf}\n", "'time_limit' in the solver section", "finite number"),
        (
            "constraints: {max_distance_km: 0}\n",
            "'max_distance_km' in the constraints section",
            "greater than 0",
        ),
    ],
)
def test_out_of_range_settings(tmp_path, extra, key, match):
    path = scenario(tmp_path, extra=extra)
    with pytest.raises(InputError, match=match):
        load_scenario(path)
    found = find(problems(path), "scenario.yaml", None, None, f"{key} should be")
    assert match in found.message


@pytest.mark.parametrize("capacity, row", [("0", 2), ("-0.5", 2)])
def test_capacity_must_be_positive(tmp_path, capacity, row):
    reps = f"rep_id,lat,lon,capacity\nR1,40.2,-75.1,{capacity}\nR2,40.4,-74.6,1\n"
    path = scenario(tmp_path, reps=reps)
    with pytest.raises(InputError, match=r"must be greater than 0"):
        load_scenario(path)
    find(problems(path), "reps.csv", row, "capacity", "must be greater than 0")


def test_balance_metric_must_be_numeric(tmp_path):
    path = scenario(tmp_path, extra="balance:\n  - {metric: name, tolerance: 0.1}\n")
    with pytest.raises(
        InputError, match="the first balance rule balances 'name', which is not a numeric column"
    ):
        load_scenario(path)


def test_scenario_path_that_does_not_exist(tmp_path):
    with pytest.raises(InputError, match="the scenario file does not exist") as caught:
        load_scenario(tmp_path / "nope.yaml")
    assert caught.value.problems[0].file.endswith("nope.yaml")


def test_data_paths_that_do_not_exist_are_listed_with_settings_errors(tmp_path):
    path = scenario(tmp_path, extra="solver: {time_limit: 0}\n")
    path.write_text(path.read_text().replace("reps: reps.csv", "reps: missing/reps.csv"))
    with pytest.raises(InputError, match=r"'reps' file .*missing/reps.csv does not exist"):
        load_scenario(path)
    found = problems(path)
    find(found, "scenario.yaml", None, "reps", "does not exist")
    find(found, "scenario.yaml", None, None, "'time_limit' in the solver section should be")


def test_a_key_given_twice_is_refused(tmp_path):
    path = scenario(tmp_path, extra="name: second\n")
    with pytest.raises(InputError, match=r"key 'name' appears twice \(first on line 1\)"):
        load_scenario(path)
    find(problems(path), "scenario.yaml", 4, None, "appears twice")


# --------------------------------------------------------------------------- spreadsheets


def test_xlsx_rows_are_numbered_as_excel_shows_them(tmp_path):
    """Row 3 of the sheet holds the bad workload; an empty row 4 is skipped but counted."""
    folder = tmp_path / "x"
    path = scenario(folder, accounts="", accounts_name="accounts.xlsx")
    frame = pd.DataFrame(
        [
            ["A1", 40, -75, 1],
            ["A2", 40.5, -74.5, "lots"],
            [None, None, None, None],
            ["A3", 40.1, -74.9, -2],
        ],
        columns=["Id", "BillingLatitude", "BillingLongitude", "workload"],
    )
    frame.to_excel(folder / "accounts.xlsx", index=False)
    with pytest.raises(InputError, match=r"is not a number \(got 'lots'\)"):
        load_scenario(path)
    found = problems(path)
    find(found, "accounts.xlsx", 3, "workload", "is not a number")
    find(found, "accounts.xlsx", 5, "workload", "must be at least 0")


def test_damaged_xlsx(tmp_path):
    path = scenario(
        tmp_path, accounts=b"PK\x03\x04 not really a zip", accounts_name="accounts.xlsx"
    )
    with pytest.raises(InputError, match="cannot be read as a spreadsheet"):
        load_scenario(path)


def test_read_table_collects_instead_of_raising(tmp_path):
    found = ProblemList()
    assert read_table(tmp_path / "absent.csv", found) is None
    assert found.problems[0].message == "the file does not exist"


# --------------------------------------------------------------------------- plan folders


def test_incomplete_plan_folder(tmp_path):
    path = scenario(tmp_path / "s")
    out = plan(load_scenario(path)).write(tmp_path / "plan", map_html=False)
    Plan.read(out)  # complete: reads back
    (out / "assignments.csv").unlink()
    with pytest.raises(InputError, match="is missing from the plan folder") as caught:
        Plan.read(out)
    assert caught.value.problems[0].file == str(out / "assignments.csv")
    with pytest.raises(InputError, match="is not a plan folder"):
        Plan.read(tmp_path / "no-such-plan")


def test_plan_folder_with_a_broken_summary(tmp_path):
    path = scenario(tmp_path / "s")
    out = plan(load_scenario(path)).write(tmp_path / "plan", map_html=False)
    (out / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match="is not valid JSON") as caught:
        Plan.read(out)
    assert caught.value.problems[0].file == str(out / "summary.json")


# --------------------------------------------------------------------------- all at once

SIX_DEFECTS_ACCOUNTS = (
    "account_id,lat,lon,workload,current_rep_id\n"
    "A1,40,-75,abc,R1\n"  # row 2: text in workload
    "A1,40.5,-74.5,1,R1\n"  # row 3: duplicate account_id
    "A3,95,-74.5,1,R1\n"  # row 4: latitude out of range (swapped)
    "A4,40.2,-74.8,-1,R1\n"
)  # row 5: negative workload
SIX_DEFECTS_REPS = (
    "rep_id,lat,lon,capacity,status\n"
    "R1,40.2,-75.1,0,active\n"  # row 2: capacity 0
    "R2,40.4,-74.6,1,retired\n"
)  # row 3: unknown status


def test_all_defects_of_two_files_in_one_error(tmp_path):
    path = scenario(tmp_path, accounts=SIX_DEFECTS_ACCOUNTS, reps=SIX_DEFECTS_REPS)
    found = problems(path)
    find(found, "accounts.csv", 2, "workload", "is not a number")
    find(found, "accounts.csv", 3, "account_id", "duplicate account_id 'A1'")
    find(found, "accounts.csv", 4, "lat", "look swapped")
    find(found, "accounts.csv", 5, "workload", "must be at least 0")
    find(found, "reps.csv", 2, "capacity", "must be greater than 0")
    find(found, "reps.csv", 3, "status", "unknown status")
    assert len(found) == 6


def test_cli_prints_every_problem_and_exits_2(tmp_path):
    path = scenario(tmp_path, accounts=SIX_DEFECTS_ACCOUNTS, reps=SIX_DEFECTS_REPS)
    for args in (["validate", str(path)], ["plan", str(path), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, result.output
        assert "6 problem(s) in the inputs; nothing was written" in result.output
        assert "accounts.csv, row 3, column 'account_id': duplicate account_id 'A1'" in (
            result.output
        )
        assert "reps.csv, row 3, column 'status': unknown status" in result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_in_memory_frames_get_the_same_checks(tmp_path):
    """load_data with DataFrames: the same problem, the same row numbering."""
    from territory_planner.data import load_data
    from territory_planner.scenario import load_scenario_settings

    settings = load_scenario_settings(scenario(tmp_path))
    accounts = pd.DataFrame(
        {"account_id": ["A1", "A2"], "lat": [40.0, 40.5], "lon": [-75.0, float("inf")]}
    )
    with pytest.raises(InputError, match="is infinite") as caught:
        load_data(settings, accounts=accounts)
    bad = caught.value.problems[0]
    assert (bad.file, bad.row, bad.column) == ("accounts (in memory)", 3, "lon")


def test_point_outside_is_kept_unplaced_not_an_error(tmp_path):
    """An account far from every region (and not swapped) is valid, with no region."""
    write_regions(tmp_path)
    text = "account_id,lat,lon\nA1,40.5,-75.5\nA2,34.0,-118.2\n"
    data = load_scenario(scenario(tmp_path, accounts=text, extra="regions: regions.gpkg\n"))
    assert data.accounts["region_id"].tolist() == ["PA-E", None]
    assert Point(-118.2, 34.0).within(box(-119, 33, -118, 35))


def test_a_header_with_its_unit_means_its_column(tmp_path):
    """'Workload (hrs)' and 'Potential [USD]' are the workload and potential columns:
    A1 carries 100 hours and 5,000 dollars. Before, neither matched, workload defaulted to 1
    for every account and the plan balanced nothing. A column named exactly 'workload'
    still wins over one with a unit, which then passes through under its own name."""
    accounts = (
        "account_id,lat,lon,Workload (hrs),Potential [USD]\n"
        "A1,35.0,-80.0,100,5000\n"
        "A2,35.1,-80.1,1,10\n"
    )
    data = load_scenario(scenario(tmp_path / "units", accounts=accounts))
    frame = data.accounts.set_index("account_id")
    assert frame.loc["A1", "workload"] == 100.0 and frame.loc["A1", "potential"] == 5000.0
    assert not any(d.startswith("workload 1 for every") for d in data.accounts.attrs["defaults"])
    both = "account_id,lat,lon,workload,Workload (hrs)\nA1,35.0,-80.0,7,100\nA2,35.1,-80.1,1,1\n"
    data = load_scenario(scenario(tmp_path / "both", accounts=both))
    frame = data.accounts.set_index("account_id")
    assert frame.loc["A1", "workload"] == 7.0 and frame.loc["A1", "Workload (hrs)"] == "100"


def test_validate_notes_an_account_far_from_every_rep(tmp_path):
    """Ten accounts around Raleigh (35.78, -78.64) and a rep there; row 7's lat and lon are
    swapped yet in range (-78.64, 35.78: Antarctica, 14,426 km away). validate still
    passes (exit 0: the data is valid) and names row 7 as far from every rep."""
    lines = ["account_id,lat,lon,workload"]
    for k in range(10):
        lat, lon = (35.78 + 0.01 * k, -78.64) if k != 5 else (-78.64, 35.78)
        lines.append(f"A{k},{lat},{lon},1")
    reps = "rep_id,lat,lon\nR1,35.78,-78.64\n"
    path = scenario(tmp_path, accounts="\n".join(lines) + "\n", reps=reps)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 account(s) lie far from every rep" in result.output
    note = next(line for line in result.output.splitlines() if "row 7: A5" in line)
    km = float(note.split(", ")[1].split(" km")[0].replace(",", ""))
    assert km == 14_426
