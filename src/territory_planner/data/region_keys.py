"""Region IDs as spreadsheets leave them: an account's (or rep's) region_id matched to the
regions file when only leading zeros tell the two apart.

Why. County FIPS codes and ZIP codes look like numbers to a spreadsheet: a CRM export
opened and saved in Excel turns 06001 into 6001 and 02134 into 2134, and a GeoJSON may
store the same codes as numbers (read as '6001'). The planner means the same county either
way, and postal codes are already read that way (geocode.normalize_postal_code).

The match is made only when it cannot be wrong: the ID is all digits (a '.0' left by a
float cell dropped), it is not itself an ID of the file, and exactly one ID of the file
is equal to it once leading zeros are dropped from both. Any other ID is left as written
and reported as unknown by the loader, as before. Every match is listed among the
defaults ``validate`` prints, so nothing is changed out of sight.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

#: how many matches a ``validate`` line quotes as examples
EXAMPLES = 3


def _digits(text: str) -> str | None:
    """The digits of an all-digit ID ('6001', '6001.0' from a float cell); else None."""
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text if text.isdigit() else None


def matched_region_ids(values: pd.Series, known: Iterable[str]) -> tuple[pd.Series, dict]:
    """``values`` with each ID that matches exactly one of ``known`` up to leading zeros
    replaced by it (module docstring), and the replacements made {as written: matched}."""
    known = set(known)
    by_number: dict[str, list[str]] = {}
    for rid in known:
        if rid.isdigit():
            by_number.setdefault(rid.lstrip("0"), []).append(rid)
    matched: dict[str, str] = {}
    for value in set(values.dropna().tolist()):
        text = str(value)
        digits = _digits(text)
        if text in known or digits is None:
            continue
        candidates = by_number.get(digits.lstrip("0"), [])
        if len(candidates) == 1:
            matched[text] = candidates[0]
    if not matched:
        return values, {}
    replaced = [v if v is None or v != v else matched.get(str(v), v) for v in values.tolist()]
    return pd.Series(replaced, index=values.index, dtype=object), matched


def matched_note(what: str, values: pd.Series, matched: dict) -> str:
    """The ``validate`` line for the matches made in ``values`` (rows of ``what``)."""
    rows = int(values.isin(list(matched)).sum())
    examples = ", ".join(f"{old} -> {new}" for old, new in sorted(matched.items())[:EXAMPLES])
    more = f" and {len(matched) - EXAMPLES:,} more" if len(matched) > EXAMPLES else ""
    return (
        f"region_id: {rows:,} {what} matched to the regions file with leading zeros "
        f"restored, as a spreadsheet drops them ({examples}{more})"
    )
