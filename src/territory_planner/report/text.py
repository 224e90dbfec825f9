"""Text for the pages: escaping and numbers for people, shared by the map, its panel and
the comparison page.

Every string that comes from the data goes through :func:`esc` before it reaches a page.
folium's Tooltip puts its text unescaped into a JavaScript template literal, so :func:`esc`
also neutralises the backtick, ``$`` and backslash: a CRM name like
``<img src=x onerror=alert(1)>`` or ``${alert(1)}`` shows as text and never runs.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

__all__ = ["esc", "num", "short_num", "pct", "js", "clean_number"]


def esc(value: Any) -> str:
    """Text from the data made safe for HTML and for folium's JS template literals."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("\\", "&#92;").replace("`", "&#96;").replace("$", "&#36;")


def clean_number(value: float, decimals: int) -> float:
    """``value`` rounded to ``decimals``, with a rounded zero always +0 (never ``-0.00``)."""
    rounded = round(value, decimals)
    return 0.0 if rounded == 0 else rounded


def _number_or_text(value: Any) -> float | str:
    """``value`` as a finite float, or the text to show instead (escaped, or a dash)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return esc(value)
    return "&ndash;" if math.isnan(v) or math.isinf(v) else v


def num(value: Any) -> str:
    """A number for people: thousands separators; decimals only where they carry meaning
    (none from 1,000 up, one from 100, two below)."""
    v = _number_or_text(value)
    if isinstance(v, str):
        return v
    if (v.is_integer() and abs(v) < 1e15) or abs(v) >= 1000:
        return f"{clean_number(v, 0):,.0f}"
    if abs(v) >= 100:
        return f"{clean_number(v, 1):,.1f}"
    return f"{clean_number(v, 2):,.2f}"


def short_num(value: Any) -> str:
    """A number for a narrow table cell: ``4.91M``, ``612k``, ``5,806``, ``12.5``."""
    v = _number_or_text(value)
    if isinstance(v, str):
        return v
    # thresholds just below the next unit: 999,999 reads 1.00M, not 1000k
    for threshold, size, suffix in ((999.5e6, 1e9, "B"), (999.5e3, 1e6, "M"), (1e5, 1e3, "k")):
        if abs(v) >= threshold:
            scaled = v / size
            digits = 0 if abs(scaled) >= 100 else (1 if abs(scaled) >= 10 else 2)
            return f"{clean_number(scaled, digits):.{digits}f}{suffix}"
    return num(v)


def pct(fraction: Any, signed: bool = True, decimals: int = 1) -> str:
    """A fraction as a percentage (``+4.2%``); a value that rounds to zero reads ``0.0%``."""
    v = _number_or_text(fraction)
    if isinstance(v, str):
        return "&ndash;"
    shown = clean_number(v * 100, decimals)
    sign = "+" if signed and shown > 0 else ""
    return f"{sign}{shown:.{decimals}f}%"


def js(value: Any) -> str:
    """JSON for inline <script>: '</' cannot close the element; non-ASCII kept readable."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("</", "<\\/")
        .replace("<!--", "<\\!--")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )
