"""The reps file: normalised to canonical typed columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ProblemList
from ..number_format import without_percent
from .cells import (
    _count,
    _decided,
    _finish,
    _ids,
    _numbered,
    _report_rows,
    _require,
    _rows,
    _short,
    case_only_note,
    decide_number_formats,
    parse_number,
    parse_text,
)
from .columns import (
    REP_ALIASES,
    REP_STATUSES,
    canonical_columns,
)
from .geocode import (
    _coordinates,
)


def normalize_reps(raw: pd.DataFrame, name: str, problems: ProblemList) -> pd.DataFrame:
    """Canonical reps frame from text cells; problems collected, never raised here."""
    frame = canonical_columns(_numbered(raw), REP_ALIASES, name, problems)
    _require(frame, "rep_id", REP_ALIASES, name, problems)
    defaults: list[str] = list(raw.attrs.get("notes", []))
    # a capacity is a share of a full territory, and rosters write FTE as '50%'
    percent = np.zeros(len(frame), dtype=bool)
    if "capacity" in frame.columns:
        cells, percent = without_percent(frame["capacity"].tolist())
        if percent.any():
            frame["capacity"] = pd.Series(cells, index=frame.index, dtype=object)
            defaults.append(
                f"capacity read as a share for {_count(int(percent.sum()), 'rep')} whose "
                "capacity is a percentage (50% is 0.5)"
            )
    decide_number_formats(frame, ["lat", "lon", "capacity"], name, problems)
    out = pd.DataFrame(index=frame.index)
    out["rep_id"] = _ids(frame, "rep_id", name, problems, "rep_id")
    twins = case_only_note(out["rep_id"], "rep_id", "rep")
    if twins:
        defaults.append(twins)
    out["name"] = parse_text(frame, "name", blank_is_none=False)
    lat, lon, _, postal = _coordinates(frame, name, problems, "rep")
    out["lat"], out["lon"], out["postal_code"] = lat, lon, postal.astype(object)
    capacity = parse_number(
        frame,
        "capacity",
        name,
        problems,
        default=1.0,
        minimum=0.0,
        strictly_positive=True,
        defaults=defaults,
        unit="rep",
    )
    out["capacity"] = capacity.where(~percent, capacity / 100.0)
    out["segment"] = parse_text(frame, "segment")
    out["region_id"] = parse_text(frame, "region_id")
    status = parse_text(frame, "status")
    if "status" not in frame.columns:
        defaults.append(f"status active for every rep: {_short(name)} has no status column")
    elif status.isna().any():
        defaults.append(
            f"status active for {_count(int(status.isna().sum()), 'rep')} whose status is blank"
        )
    status = status.fillna("active").astype(str).str.lower()
    bad = ~status.isin(REP_STATUSES)
    _report_rows(
        problems,
        name,
        _rows(bad),
        "status",
        "unknown status",
        fix="use active, new or leaving",
        values=status[bad].tolist(),
    )
    out["status"] = status.where(~bad, "active").astype(object)
    for column in frame.columns:
        if column not in out.columns and column not in REP_ALIASES:
            out[column] = frame[column]
    out.attrs["defaults"] = defaults
    out.attrs["decimal_marks"] = _decided(frame)
    return _finish(out, name)
