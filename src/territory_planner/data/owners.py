"""Today's owners given by rep name instead of rep ID, or by the other length of a
Salesforce ID.

A CRM report export often carries the owner as a person's name (Salesforce's "Account
Owner", HubSpot's "Company owner"), while the reps file has IDs and names. An owner that is
no rep_id but is the name of exactly one rep (case and runs of spaces aside) is read as
that rep's ID, so continuity, locks and today's scores work on such an export unchanged.
The plan answers in the file's own terms: the owner column of assignments.csv holds each
owner as the file wrote it, and when the file wrote every owner by name (or every one in
the other Salesforce form) owner_changes.csv, the CRM update, gives each new owner that way
too, and so does a re-balance of the plan (owners_as_written, new_owners_as_written).

Salesforce writes a record ID in two forms: 15 case-sensitive characters (reports, the
user interface) and 18 (the API, Data Loader), the 15 followed by three characters that
encode the case of the 15. A reps list taken from a users report and an accounts export
from Data Loader then spell the same user differently; an owner whose 15- or 18-character
form is a rep_id (the three characters checked, so no other ID can match) is that rep.
"""

from __future__ import annotations

import pandas as pd

from ..errors import ProblemList
from .cells import _report_rows, _rows_in
from .columns import YIELDING_ALIASES, header_key

#: accounts.attrs key: account_id -> its owner as the file wrote it, for every owner the
#: file gave by name or in the other Salesforce form
OWNERS_WRITTEN = "owners_written"
#: accounts.attrs key: "name" or "salesforce" when the file wrote every owner that way
OWNER_FORM = "owner_form"
_SUFFIX_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def _is_salesforce_id(value: str, length: int) -> bool:
    return len(value) == length and value.isascii() and value.isalnum()


def salesforce_suffix(id15: str) -> str:
    """The three characters Salesforce appends to a 15-character ID: for each block of
    five characters, the bits 'this character is an upper-case letter' (first character
    lowest) index the alphabet A-Z0-5."""
    return "".join(
        _SUFFIX_ALPHABET[sum(1 << k for k, ch in enumerate(id15[b : b + 5]) if "A" <= ch <= "Z")]
        for b in (0, 5, 10)
    )


def salesforce_forms(rep_ids) -> dict[str, str]:
    """The other Salesforce form of each rep_id that is a Salesforce ID -> that rep_id: an
    18-character ID for a 15-character rep_id, the first 15 characters of an 18-character
    rep_id whose suffix checks."""
    forms: dict[str, str] = {}
    for rep_id in rep_ids:
        other = other_salesforce_form(rep_id)
        if other is not None:
            forms[other] = rep_id
    return forms


def other_salesforce_form(rep_id) -> str | None:
    """The other Salesforce form of ``rep_id`` (18 characters for 15, 15 for 18 whose
    suffix checks), or None when it is no Salesforce ID."""
    text = str(rep_id)
    if _is_salesforce_id(text, 15):
        return text + salesforce_suffix(text)
    if _is_salesforce_id(text, 18) and text[15:] == salesforce_suffix(text[:15]):
        return text[:15]
    return None


def case_twins(values, rep_ids) -> list[str | None]:
    """For each of ``values``, the one rep_id it spells but for case ('r01' for R01), or
    None.

    Never read as that rep: Salesforce IDs are case-sensitive (two users' 15-character IDs
    may differ only in case), so a wrong-case owner is an error whose fix names the rep."""
    by_fold: dict[str, list[str]] = {}
    for rep in map(str, rep_ids):
        by_fold.setdefault(rep.casefold(), []).append(rep)

    def twin(value) -> str | None:
        found = by_fold.get(str(value).casefold(), [])
        return found[0] if len(found) == 1 and found[0] != str(value) else None

    return [twin(value) for value in values]


def case_twin(value, rep_ids) -> str | None:
    """:func:`case_twins` of one value."""
    return case_twins([value], rep_ids)[0]


def _key(name) -> str:
    return " ".join(str(name).split()).casefold()


def reps_by_name(reps: pd.DataFrame) -> dict[str, list[str]]:
    """Each rep name (spaces and case ignored, as _key) with the rep IDs that carry it."""
    reps_of: dict[str, list[str]] = {}
    for rep_id, name in zip(reps["rep_id"], reps["name"]):
        if isinstance(name, str) and name.strip():
            reps_of.setdefault(_key(name), []).append(rep_id)
    return reps_of


def rep_ids_of(values: pd.Series, reps: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """``values`` (reps written in a file) as rep IDs: an ID stays, the other Salesforce form
    of an ID and a name that one rep carries become that rep's ID; anything else stays as
    written (the caller's unknown-rep check names it). Also returns, per value, the reps
    sharing its name when more than one does ("" otherwise)."""
    known = set(reps["rep_id"])
    forms = salesforce_forms(reps["rep_id"])
    reps_of = reps_by_name(reps)

    def one(value: str) -> str:
        if value in known:
            return value
        if value in forms:
            return forms[value]
        holders = reps_of.get(_key(value), [])
        return holders[0] if len(holders) == 1 else value

    def shared(value: str) -> str:
        holders = [] if value in known else reps_of.get(_key(value), [])
        return ", ".join(holders) if len(holders) > 1 else ""

    return values.map(one), values.map(shared)


def resolve_owner_names(
    accounts: pd.DataFrame, reps: pd.DataFrame, file: str, problems: ProblemList
) -> pd.DataFrame:
    """``accounts`` with each owner written as a rep's name read as that rep's ID.

    Owners that are rep IDs stay as they are; a name that two reps share is a problem
    naming them (the ID must say which); anything else is left for the unknown-rep check.
    A note in the accounts' defaults says how many owners were read by name. A column
    read as the owner only by a yielding alias ('Owner', 'Account Owner') of which no value
    is a rep's ID or name holds something else (e-mail addresses, another system's
    users): it is kept as an ordinary column, no account has an owner today, and a note
    says so. Owners written otherwise than as a rep_id are remembered (_written_owners)."""
    return _written_owners(_resolved_owners(accounts, reps, file, problems), accounts)


def _resolved_owners(
    accounts: pd.DataFrame, reps: pd.DataFrame, file: str, problems: ProblemList
) -> pd.DataFrame:
    accounts = _salesforce_owner_forms(accounts, reps)
    owners = accounts["current_rep_id"]
    by_id = owners.isin(set(reps["rep_id"]))
    unresolved = owners.notna() & ~by_id
    if not unresolved.any():
        return accounts
    reps_of = reps_by_name(reps)
    keys = owners.where(unresolved).map(_key, na_action="ignore")
    shared = keys.map(lambda k: len(reps_of.get(k, ())) > 1, na_action="ignore")
    shared = shared.fillna(False).astype(bool)
    _report_rows(
        problems,
        file,
        _rows_in(accounts, shared),
        "current_rep_id",
        "the owner's name belongs to several reps",
        fix="give the owner's rep_id instead of the name",
        values=[f"{owners[r]}: reps {', '.join(reps_of[keys[r]])}" for r in shared[shared].index],
    )
    keys = keys[unresolved]
    unique = keys.map(lambda k: reps_of[k][0] if len(reps_of.get(k, ())) == 1 else None)
    named = unique.notna()
    if not by_id.any() and not named.any() and not shared.any():
        kept = _owner_column_kept(accounts)
        if kept is not None:
            return kept
    out = accounts.copy()
    out.attrs = dict(accounts.attrs)
    # reported above: blanked, so the unknown-rep check does not report them again
    out.loc[shared, "current_rep_id"] = None
    if not named.any():
        return out
    out.loc[unique.index[named], "current_rep_id"] = unique[named]
    count = int(named.sum())
    out.attrs["defaults"] = [
        *accounts.attrs.get("defaults", []),
        f"current_rep_id: {count:,} owner(s) given by rep name, read as the rep's rep_id",
    ]
    return out


def _written_owners(resolved: pd.DataFrame, given: pd.DataFrame) -> pd.DataFrame:
    """``resolved`` with the owners ``given`` wrote otherwise than as their rep_id (a name,
    the other Salesforce form) in its attrs, and the form when every owner was so written:
    the plan's files give owners back as the file wrote them (owners_as_written)."""
    owners, written = resolved["current_rep_id"], given["current_rep_id"]
    changed = owners.notna() & written.notna() & (owners != written)
    if not changed.any():
        return resolved
    out = resolved.copy(deep=False)
    out.attrs = dict(resolved.attrs)
    out.attrs[OWNERS_WRITTEN] = dict(zip(resolved.loc[changed, "account_id"], written[changed]))
    if changed.sum() == owners.notna().sum():
        by_form = owners[changed].map(other_salesforce_form) == written[changed]
        if by_form.all():
            out.attrs[OWNER_FORM] = "salesforce"
        elif not by_form.any():
            out.attrs[OWNER_FORM] = "name"
    return out


def _salesforce_owner_forms(accounts: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """``accounts`` with each owner that is the other Salesforce form of a rep_id written as
    that rep_id (module docstring), and a note saying how many."""
    owners = accounts["current_rep_id"]
    unknown = owners.notna() & ~owners.isin(set(reps["rep_id"]))
    if not unknown.any():
        return accounts
    forms = salesforce_forms(reps["rep_id"])
    matched = owners[unknown].map(forms)
    matched = matched[matched.notna()]
    if matched.empty:
        return accounts
    out = accounts.copy()
    out.attrs = dict(accounts.attrs)
    out.loc[matched.index, "current_rep_id"] = matched
    out.attrs["defaults"] = [
        *accounts.attrs.get("defaults", []),
        f"current_rep_id: {len(matched):,} owner ID(s) in the other Salesforce form (15 or 18 "
        "characters) of a rep_id, read as that rep_id",
    ]
    return out


def _owner_column_kept(accounts: pd.DataFrame) -> pd.DataFrame | None:
    """``accounts`` with its owner column back under its own name and no owners, when the
    column became current_rep_id only by a yielding alias and no account is locked to its
    owner (a lock needs a real owner: those rows go to the unknown-rep check); else None."""
    names = accounts.attrs.get("source_names", {})
    source = next((o for o, c in names.items() if c == "current_rep_id"), None)
    if source is None or header_key(source) not in YIELDING_ALIASES:
        return None
    if accounts["locked"].any():
        return None
    out = accounts.copy()
    out.attrs = dict(accounts.attrs)
    out[source] = accounts["current_rep_id"]
    out["current_rep_id"] = None
    out.attrs["source_names"] = {o: (o if o == source else c) for o, c in names.items()}
    out.attrs["defaults"] = [
        *accounts.attrs.get("defaults", []),
        f"current_rep_id: none; no value of '{source}' is a rep_id or a rep's name, so it is "
        "kept as an ordinary column",
    ]
    return out


def owners_as_written(owners: pd.Series, accounts: pd.DataFrame) -> pd.Series:
    """``owners`` (today's rep IDs, indexed by account_id) as the accounts file wrote them: a
    name or the other Salesforce form where the file gave one (resolve_owner_names)."""
    written = accounts.attrs.get(OWNERS_WRITTEN)
    if not written:
        return owners
    as_written = pd.Series(owners.index.map(written.get), index=owners.index, dtype=object)
    return as_written.where(as_written.notna(), owners)


def new_owners_as_written(
    rep_ids: pd.Series, rep_names: pd.Series, accounts: pd.DataFrame
) -> pd.Series:
    """New owners (rep IDs, with their names beside) in the form the accounts file writes
    owners, so that a CRM import takes the kind of value it exported: when the file wrote
    every owner by name, the rep's name (its ID when it has none: a blank owner in a bulk
    update would clear the field); in the other Salesforce form, that form; else the
    rep_id."""
    form = accounts.attrs.get(OWNER_FORM)
    if form == "salesforce":
        return rep_ids.map(lambda rep: other_salesforce_form(rep) or rep)
    if form == "name":
        named = rep_names.map(lambda name: isinstance(name, str) and bool(name.strip()))
        return rep_names.where(named, rep_ids)
    return rep_ids
