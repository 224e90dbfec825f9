"""The sweep's page and workbook: sweep.html (table + trade-off chart) and sweep.xlsx.

The page needs no internet: its chart is an SVG drawn here, inline, with no script at all.
The chart puts travel cost against the first numeric varied key, one line per value of the
other varied keys (travel against tolerance, one line per moved-share budget), with each
plan's proven lower bound dashed below it; each point links to its variant's map. The
workbook's Sweep sheet is written with XlsxWriter: numbers as numbers with formats, a frozen
header, an autofilter, names linking to the maps.
"""

from __future__ import annotations

import html
import math
from numbers import Real

import pandas as pd

__all__ = ["sweep_html", "write_sweep_book", "chart_svg", "chart_series"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2")
_SHARE_COLUMNS = ("gap", "moved_share", "quota_fairness")
_MONEY_COLUMNS = ("travel_cost", "objective", "lower_bound")
_WIDTH, _HEIGHT = 720, 380
_LEFT, _RIGHT, _TOP, _BOTTOM = 90, 210, 20, 50


def _is_share(column: str) -> bool:
    return column in _SHARE_COLUMNS or column.endswith("_max_deviation")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, Real):
        return None
    return None if math.isnan(float(value)) else float(value)


# --------------------------------------------------------------------------- chart


def chart_series(rows: pd.DataFrame, vary_keys: list[str]) -> tuple[str | None, dict]:
    """(x key, {series label: [(x, travel, name, lower bound), ...]}) of the solved variants.

    x is the first varied key whose values are all numbers and that takes more than one
    value; the series are the combinations of the other varied keys.
    """
    solved = rows[(rows["exit_code"] == 0) & rows["travel_cost"].notna()] if len(rows) else rows
    x_key = None
    for key in vary_keys:
        values = solved[key].tolist() if key in solved else []
        if len(set(map(repr, values))) > 1 and all(_number(v) is not None for v in values):
            x_key = key
            break
    series: dict[str, list] = {}
    if x_key is None:
        return None, series
    others = [k for k in vary_keys if k != x_key]
    for row in solved.to_dict("records"):
        label = ", ".join(_legend_text(k, row[k]) for k in others) or "travel cost"
        bound = _number(row.get("lower_bound"))
        series.setdefault(label, []).append(
            (float(row[x_key]), float(row["travel_cost"]), row["name"], bound)
        )
    return x_key, {label: sorted(points) for label, points in series.items()}


def _is_share_key(key: str) -> bool:
    return key.split(".")[-1] in ("tolerance", "max_moved_share", "gap", "alpha")


def _legend_text(key: str, value) -> str:
    """``max_moved_share 20%``: the key's last part and its value (a share as a percentage)."""
    number = _number(value)
    shown = f"{number:.0%}" if number is not None and _is_share_key(key) else str(value)
    return f"{key.split('.')[-1]} {shown}"


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    return [first + i * step for i in range(int(math.ceil((high - first) / step)) + 1)]


def _tick_text(value: float, share: bool) -> str:
    if share:
        return f"{value:.0%}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"{value:.1%}"
    if abs(value) >= 1e6:
        return f"{value / 1e6:,.1f}M"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


def chart_svg(rows: pd.DataFrame, vary_keys: list[str]) -> str:
    """The trade-off chart as inline SVG, or a sentence saying why there is none."""
    x_key, series = chart_series(rows, vary_keys)
    if not series:
        return "<p>No chart: it needs at least two solved variants that differ in a number.</p>"
    xs = [p[0] for points in series.values() for p in points]
    ys = [p[1] for points in series.values() for p in points]
    ys += [p[3] for points in series.values() for p in points if p[3] is not None]
    x_ticks, y_ticks = _ticks(min(xs), max(xs)), _ticks(min(ys), max(ys))
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]
    plot_w, plot_h = _WIDTH - _LEFT - _RIGHT, _HEIGHT - _TOP - _BOTTOM

    def px(x: float) -> float:
        return _LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return _TOP + plot_h - (y - y0) / (y1 - y0) * plot_h

    share_x = _is_share_key(x_key)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="tradeoff" width="{_WIDTH}" '
        f'height="{_HEIGHT}" viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" '
        f'aria-label="travel cost against {html.escape(x_key)}" font-family="sans-serif" '
        'font-size="12">'
    ]
    for tick in x_ticks:
        parts.append(
            f'<line x1="{px(tick):.1f}" y1="{_TOP}" x2="{px(tick):.1f}" y2="{_TOP + plot_h}" '
            f'stroke="#eee"/><text x="{px(tick):.1f}" y="{_TOP + plot_h + 16}" '
            f'text-anchor="middle">{_tick_text(tick, share_x)}</text>'
        )
    for tick in y_ticks:
        parts.append(
            f'<line x1="{_LEFT}" y1="{py(tick):.1f}" x2="{_LEFT + plot_w}" y2="{py(tick):.1f}" '
            f'stroke="#eee"/><text x="{_LEFT - 6}" y="{py(tick) + 4:.1f}" '
            f'text-anchor="end">{_tick_text(tick, False)}</text>'
        )
    parts.append(
        f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
        f'stroke="#888"/><text x="{_LEFT + plot_w / 2}" y="{_HEIGHT - 10}" '
        f'text-anchor="middle">{html.escape(x_key)}</text><text x="16" '
        f'y="{_TOP + plot_h / 2}" text-anchor="middle" transform="rotate(-90 16 '
        f'{_TOP + plot_h / 2})">travel cost (workload x km)</text><text '
        f'x="{_LEFT + plot_w + 12}" y="{_TOP + plot_h - 4}">dashed: proven lower bound</text>'
    )
    for number, (label, points) in enumerate(series.items()):
        colour = _COLOURS[number % len(_COLOURS)]
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y, _, _ in points)
        bounds = " ".join(f"{px(p[0]):.1f},{py(p[3]):.1f}" for p in points if p[3] is not None)
        parts.append(
            f'<polyline class="bound" points="{bounds}" fill="none" stroke="{colour}" '
            'stroke-width="1" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<polyline class="series" data-label="{html.escape(label)}" points="{path}" '
            f'fill="none" stroke="{colour}" stroke-width="2"/>'
        )
        for x, y, name, _ in points:
            parts.append(
                f'<a href="plans/{html.escape(name)}/map.html"><circle class="point" '
                f'data-name="{html.escape(name)}" cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" '
                f'fill="{colour}"><title>{html.escape(name)}: travel {y:,.0f}</title>'
                "</circle></a>"
            )
        legend_y = _TOP + 14 + 18 * number
        parts.append(
            f'<line x1="{_LEFT + plot_w + 12}" y1="{legend_y - 4}" x2="{_LEFT + plot_w + 32}" '
            f'y2="{legend_y - 4}" stroke="{colour}" stroke-width="2"/><text '
            f'x="{_LEFT + plot_w + 36}" y="{legend_y}">{html.escape(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- table


def _cell(column: str, value) -> str:
    number = _number(value)
    if value is None or (number is not None and math.isnan(number)) or value is pd.NA:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if number is not None and _is_share(column):
        return f"{number:.2%}"
    if number is not None and column in _MONEY_COLUMNS:
        return f"{number:,.0f}"
    return html.escape(str(value))


def _table(rows: pd.DataFrame) -> str:
    columns = [c for c in rows.columns if c not in ("plan", "message")]
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns) + "<th>message</th>"
    body = []
    for row in rows.to_dict("records"):
        cells = []
        for column in columns:
            text = _cell(column, row[column])
            if column == "name" and row.get("plan"):
                text = f'<a href="{html.escape(row["plan"])}/map.html">{text}</a>'
            kind = "num" if _number(row[column]) is not None else "text"
            cells.append(f'<td class="{"name" if column == "name" else kind}">{text}</td>')
        message = str(row.get("message") or "")
        cells.append(f'<td class="message">{html.escape(message)}</td>')
        status = html.escape(str(row["status"]))
        body.append(f'<tr class="status-{status}">{"".join(cells)}</tr>')
    return (
        f'<table id="variants"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.name { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.message { max-width: 40em; white-space: pre-wrap; font-size: 12px; color: #a00; }
tr.status-infeasible, tr.status-bad_input, tr.status-no_plan, tr.status-failed
  { background: #fff3f3; }
"""


def sweep_html(made) -> str:
    """sweep.html: counts, the trade-off chart, the table with a link to each map."""
    rows = made.rows
    solved = int((rows["exit_code"] == 0).sum())
    title = f"Sweep of {html.escape(made.spec.scenario_path.name)}"
    counts = (
        f"{len(rows)} variants: {solved} solved, {len(rows) - solved} not "
        "(their rows say why). Click a point or a name for the variant's map."
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{title}</h1><p id="counts">{counts}</p>'
        f"<h2>Trade-off</h2>{chart_svg(rows, made.vary_keys)}"
        f"<h2>Variants</h2>{_table(rows)}</body></html>\n"
    )


# --------------------------------------------------------------------------- workbook


def write_sweep_book(made, path) -> None:
    """sweep.xlsx with one sheet, Sweep: a row per variant, formatted, filterable."""
    import xlsxwriter

    rows = made.rows
    book = xlsxwriter.Workbook(str(path), {"nan_inf_to_errors": False})
    try:
        sheet = book.add_worksheet("Sweep")
        header = book.add_format({"bold": True, "bg_color": "#F3F3F3", "border": 1})
        formats = {
            "share": book.add_format({"num_format": "0.00%"}),
            "money": book.add_format({"num_format": "#,##0"}),
            "seconds": book.add_format({"num_format": "0.0"}),
            "link": book.add_format({"font_color": "blue", "underline": 1}),
        }
        columns = list(rows.columns)
        for c, column in enumerate(columns):
            sheet.write_string(0, c, str(column), header)
            sheet.set_column(c, c, max(10, min(40, len(str(column)) + 2)))
        for r, row in enumerate(rows.to_dict("records"), start=1):
            for c, column in enumerate(columns):
                _write_cell(sheet, r, c, column, row, formats)
        sheet.freeze_panes(1, 1)
        sheet.autofilter(0, 0, len(rows), len(columns) - 1)
    finally:
        book.close()


def _write_cell(sheet, r: int, c: int, column: str, row: dict, formats: dict) -> None:
    value = row[column]
    number = _number(value)
    if column == "name" and row.get("plan"):
        sheet.write_url(r, c, f"external:{row['plan']}/map.html", formats["link"], str(value))
    elif number is not None:
        kind = (
            "share"
            if _is_share(column)
            else "money"
            if column in _MONEY_COLUMNS
            else "seconds"
            if column == "seconds"
            else None
        )
        sheet.write_number(r, c, number, formats.get(kind))
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif value is None or (isinstance(value, float) and math.isnan(value)):
        sheet.write_blank(r, c, None)
    else:
        sheet.write_string(r, c, str(value))
