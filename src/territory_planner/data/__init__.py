"""Read accounts, reps and regions; apply aliases and defaults; validate everything at once.

CRM exports load unchanged: column names are matched case-insensitively against the
canonical names and their aliases (docs/design.md section 2). Every defect found in every file is
collected and raised together as one :class:`InputError`, each naming the file, the row as a
spreadsheet shows it (header = row 1) and the column, with a fix. Input files are only read.

Files become text cells in tables.py; numbers are read with the decimal mark number_format.py
decides per column; here the cells become typed, validated accounts and reps.

The package splits that work by idea: columns.py (aliases and canonical columns), cells.py
(cell parsers), geocode.py (coordinates and postal codes), accounts.py and reps.py (the two
files), loader.py (the scenario data loader). Every name is importable from here.
"""

from __future__ import annotations

from ..errors import Problem
from ..tables import frame_as_text, read_table
from .accounts import _ACCOUNT_NUMBERS as _ACCOUNT_NUMBERS
from .accounts import normalize_accounts
from .accounts import place_accounts_in_regions as place_accounts_in_regions
from .accounts import report_swapped_outside_regions as report_swapped_outside_regions
from .cells import _FALSE as _FALSE
from .cells import _MAX_ROWS_PER_DEFECT as _MAX_ROWS_PER_DEFECT
from .cells import _TRUE as _TRUE
from .cells import _count as _count
from .cells import _decided as _decided
from .cells import _finish as _finish
from .cells import _ids as _ids
from .cells import _numbered as _numbered
from .cells import _report_rows as _report_rows
from .cells import _require as _require
from .cells import _row_index as _row_index
from .cells import _rows as _rows
from .cells import _rows_in as _rows_in
from .cells import _short as _short
from .cells import decide_number_formats as decide_number_formats
from .cells import parse_bool as parse_bool
from .cells import parse_number as parse_number
from .cells import parse_text as parse_text
from .cells import unique_ids as unique_ids
from .columns import ACCOUNT_ALIASES as ACCOUNT_ALIASES
from .columns import REP_ALIASES as REP_ALIASES
from .columns import REP_STATUSES as REP_STATUSES
from .columns import canonical_columns as canonical_columns
from .columns import header_key as header_key
from .geocode import _coordinates as _coordinates
from .geocode import _postal_codes as _postal_codes
from .geocode import _zip_centroids as _zip_centroids
from .geocode import geocode_postal_codes, normalize_postal_code
from .loader import ScenarioData, load_data, load_scenario
from .loader import _spread as _spread
from .loader import check_balance_metrics as check_balance_metrics
from .loader import cross_check as cross_check
from .reps import normalize_reps

__all__ = [
    "ScenarioData",
    "load_scenario",
    "load_data",
    "read_table",
    "frame_as_text",
    "normalize_accounts",
    "normalize_reps",
    "normalize_postal_code",
    "geocode_postal_codes",
    "Problem",
]
