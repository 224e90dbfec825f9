"""The map's side panel: loads against targets per rep, and today versus the plan.

The panel sits *beside* the map, never over it: the page becomes a row of two boxes (the
map, then the panel), so no territory is hidden under a table and no column of the table is
cut off by the map's edge. A button folds the panel into a narrow strip and gives the map
the whole width (Leaflet is told its size changed). On a narrow screen it starts folded.

Every string from the data is escaped by :func:`territory_planner.report.text.esc`.
"""

from __future__ import annotations

import math
from typing import Any

from branca.element import MacroElement
from folium.template import Template

from territory_planner.report.text import esc, num, pct, short_num

__all__ = ["SidePanel", "panel_html", "deviation_class", "PANEL_ID"]

PANEL_ID = "tp-panel"
NARROW_SCREEN_PX = 760  # below this width the panel starts folded


def deviation_class(dev: Any, tolerance: float | None) -> str:
    """CSS class of a deviation: inside its band (ok), outside (bad); with no band known,
    the default 5% / 10% thresholds (ok / warn / bad)."""
    try:
        d = abs(float(dev))
    except (TypeError, ValueError):
        return "tp-na"
    if math.isnan(d):
        return "tp-na"
    if tolerance is not None:
        return "tp-ok" if d <= tolerance + 1e-9 else "tp-bad"
    if d <= 0.05 + 1e-9:
        return "tp-ok"
    return "tp-warn" if d <= 0.10 + 1e-9 else "tp-bad"


def _float(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def _today_deviation(rec: dict[str, Any], metric: str) -> float | None:
    load, target = _float(rec.get(f"{metric}_load_today")), _float(rec.get(f"{metric}_target"))
    if load is None or target is None or target <= 0:
        return None
    return (load - target) / target


def _outside_band(territory: dict[str, dict[str, Any]], metric: str, tolerance: float) -> int:
    count = 0
    for rec in territory.values():
        dev = _float(rec.get(f"{metric}_deviation"))
        if rec.get("status") != "leaving" and dev is not None and abs(dev) > tolerance + 1e-9:
            count += 1
    return count


def _kpi_rows(
    summary: dict[str, Any],
    territory: dict[str, dict[str, Any]],
    tolerances: dict[str, float],
    unowned: int,
) -> list[tuple[str, str, str]]:
    """(KPI, today, plan) rows of the today-versus-plan table, text already formatted."""
    today = summary.get("today") or {}
    rows = [("travel cost", num(today.get("travel_cost")), num(summary.get("travel_cost")))]
    plan_balance = summary.get("balance") or {}
    today_balance = today.get("balance") or {}
    for metric in list(dict.fromkeys([*plan_balance, *today_balance])):
        plan_m, today_m = plan_balance.get(metric) or {}, today_balance.get(metric) or {}
        tol = _float(plan_m.get("tolerance", today_m.get("tolerance", tolerances.get(metric))))
        rows.append(
            (
                f"largest {esc(metric)} deviation",
                pct(today_m.get("max_abs_deviation"), signed=False),
                pct(plan_m.get("max_abs_deviation"), signed=False),
            )
        )
        if tol is not None:
            broken = today_m.get("broken")
            rows.append(
                (
                    f"reps outside the {esc(metric)} band (&plusmn;{pct(tol, signed=False)})",
                    num(len(broken)) if isinstance(broken, list) else "&ndash;",
                    num(_outside_band(territory, metric, tol)),
                )
            )
    if "accounts_without_owner" in today:
        rows.append(
            ("accounts without an owner", num(today["accounts_without_owner"]), num(unowned))
        )
    if _float(today.get("gap_to_bound")) is not None:
        rows.append(
            (
                "gap to the proven lower bound",
                pct(today.get("gap_to_bound"), signed=False),
                pct(summary.get("gap"), signed=False),
            )
        )
    return rows


def _today_table(summary, territory, tolerances, unowned) -> str:
    rows = "".join(
        f'<tr><td class="tp-rep">{label}</td><td>{today}</td><td>{plan}</td></tr>'
        for label, today, plan in _kpi_rows(summary, territory, tolerances, unowned)
    )
    return (
        '<table class="tp-today"><thead><tr><th class="tp-rep">Today vs plan</th>'
        f"<th>today</th><th>plan</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _rep_head(metrics, has_today, tolerances, quota) -> str:
    """Two header rows: a group per metric (with its band), then load / target / dev."""
    top = ['<th class="tp-rep" rowspan="2">Rep</th>', '<th rowspan="2">Accts</th>']
    sub = []
    for m in metrics:
        tol = tolerances.get(m)
        band = f" &plusmn;{pct(tol, signed=False, decimals=0)}" if tol is not None else ""
        top.append(f'<th class="tp-group" colspan="{4 if has_today[m] else 3}">{esc(m)}{band}</th>')
        sub.append("<th>load</th><th>target</th><th>dev.</th>")
        if has_today[m]:
            sub.append('<th title="deviation under today&#39;s owners">today</th>')
    if quota:
        top.append('<th class="tp-group" colspan="2">quota</th>')
        sub.append('<th>quota</th><th title="quota / potential">/ pot.</th>')
    return f"<tr>{''.join(top)}</tr><tr>{''.join(sub)}</tr>"


def _rep_table(rep_ids, colours, names, territory, metrics, quota, tolerances) -> str:
    has_today = {m: any(f"{m}_load_today" in r for r in territory.values()) for m in metrics}
    rows = []
    for rid in rep_ids:
        rec = territory.get(rid, {})
        cells = [
            f'<td class="tp-rep tp-name" title="{esc(names.get(rid) or rid)}">'
            f'<span class="tp-swatch" style="background:{colours[rid]}"></span>'
            f"{esc(names.get(rid) or rid)}</td>",
            f"<td>{num(rec.get('accounts', 0))}</td>",
        ]
        for m in metrics:
            dev = rec.get(f"{m}_deviation")
            cells.append(
                f'<td class="tp-first">{short_num(rec.get(f"{m}_load"))}</td>'
                f"<td>{short_num(rec.get(f'{m}_target'))}</td>"
                f'<td class="{deviation_class(dev, tolerances.get(m))}">{pct(dev)}</td>'
            )
            if has_today[m]:
                today = _today_deviation(rec, m)
                cells.append(
                    f'<td class="{deviation_class(today, tolerances.get(m))}">{pct(today)}</td>'
                )
        if quota:
            q = quota.get(rid, {})
            cells.append(
                f'<td class="tp-first">{short_num(q.get("quota"))}</td>'
                f"<td>{num(q.get('quota_to_potential'))}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    head = _rep_head(metrics, has_today, tolerances, quota)
    return f'<table class="tp-reps"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def panel_html(
    title: str,
    rep_ids: list[str],
    colours: dict[str, str],
    names: dict[str, str],
    territory: dict[str, dict[str, Any]],
    metrics: list[str],
    quota: dict[str, dict[str, Any]],
    tolerances: dict[str, float] | None,
    summary: dict[str, Any] | None = None,
    unowned: int = 0,
) -> str:
    """The panel's content: the title, today versus plan (when the summary has ``today``)
    and the table of loads against targets (``today`` columns when territories carry
    ``{metric}_load_today``); ``unowned`` is the plan's count of accounts without a rep."""
    tolerances = tolerances or {}
    has_today = bool((summary or {}).get("today"))
    today = _today_table(summary, territory, tolerances, unowned) if has_today else ""
    note = (
        '<div class="tp-note">dev. = (load &minus; target) / target'
        + ("; red: outside the band" if tolerances else "; green &le; 5%, amber &le; 10%")
        + "; k = thousand, M = million</div>"
    )
    heading = esc(title) if title else "Loads against targets"
    return (
        f'<div class="tp-panel-head"><span class="tp-title">{heading}</span>'
        '<button type="button" class="tp-toggle" aria-expanded="true" '
        'title="fold the panel away">&#9656; hide</button></div>'
        '<div class="tp-panel-body">'
        + today
        + _rep_table(rep_ids, colours, names, territory, metrics, quota, tolerances)
        + note
        + "</div>"
    )


class SidePanel(MacroElement):
    """The panel as a box beside the map (a row: map, panel), foldable with a button.

    Meant for a page holding one map: it lays out the page body. ``content`` is
    pre-escaped HTML from :func:`panel_html`.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>
            html, body { height: 100%; margin: 0; }
            body { display: flex; flex-direction: row; overflow: hidden; }
            #{{ this._parent.get_name() }} { flex: 1 1 auto; min-width: 0; order: 1;
                position: relative !important; width: auto !important;
                height: 100% !important; left: 0 !important; top: 0 !important; }
            #{{ this.panel_id }} { order: 2; flex: 0 0 auto; max-width: 60vw; height: 100%;
                overflow: auto; box-sizing: border-box; padding: 8px 10px;
                background: #fff; border-left: 1px solid #bbb;
                font: 12px/1.35 "Helvetica Neue", Arial, Helvetica, sans-serif; }
            #{{ this.panel_id }}.tp-folded { padding: 6px 4px; }
            #{{ this.panel_id }}.tp-folded .tp-panel-body,
            #{{ this.panel_id }}.tp-folded .tp-title { display: none; }
            .tp-panel-head { display: flex; align-items: baseline; gap: 10px;
                margin-bottom: 6px; }
            .tp-title { font-weight: 600; font-size: 13px; flex: 1; }
            .tp-toggle { font: inherit; cursor: pointer; border: 1px solid #999;
                background: #f4f4f4; border-radius: 4px; padding: 1px 6px; }
            .tp-folded .tp-toggle { writing-mode: vertical-rl; padding: 6px 1px; }
            .tp-panel-body table { border-collapse: collapse; margin-bottom: 8px; }
            .tp-panel-body th, .tp-panel-body td { padding: 1px 6px; text-align: right;
                white-space: nowrap; }
            .tp-panel-body th { border-bottom: 1px solid #bbb; font-weight: 600;
                vertical-align: bottom; }
            .tp-panel-body th.tp-group { text-align: center; border-bottom: 1px solid #888; }
            .tp-panel-body th.tp-group, .tp-panel-body .tp-first { border-left: 1px solid #ddd; }
            .tp-panel-body tbody tr:nth-child(even) { background: #f6f6f6; }
            .tp-panel-body .tp-rep { text-align: left; }
            .tp-panel-body td.tp-name { max-width: 13em; overflow: hidden;
                text-overflow: ellipsis; }
            #{{ this.panel_id }}.tp-compact { font-size: 11px; padding: 6px; }
            .tp-compact .tp-panel-body th, .tp-compact .tp-panel-body td { padding: 1px 3px; }
            .tp-swatch { display: inline-block; width: 10px; height: 10px; margin-right: 5px;
                border: 1px solid #333; vertical-align: middle; }
            .tp-ok { color: #1a7f37; } .tp-warn { color: #b26b00; }
            .tp-bad { color: #c62828; font-weight: 600; } .tp-na { color: #777; }
            .tp-note { color: #555; margin-top: 3px; }
            .tp-rep-icon { background: none; border: none; }
            </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
            <aside id="{{ this.panel_id }}" class="tp-panel">{{ this.content }}</aside>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            (function (map) {
                var panel = document.getElementById({{ this.panel_id_js }});
                if (!panel) { return; }
                var button = panel.querySelector(".tp-toggle");
                function fold(folded) {
                    panel.classList.toggle("tp-folded", folded);
                    button.setAttribute("aria-expanded", folded ? "false" : "true");
                    button.innerHTML = folded ? "&#9666; loads" : "&#9656; hide";
                    map.invalidateSize();
                }
                button.addEventListener("click", function () {
                    fold(!panel.classList.contains("tp-folded"));
                });
                // a table wider than the panel may be: tighter type before anything
                // would scroll out of sight
                if (panel.scrollWidth > panel.clientWidth) {
                    panel.classList.add("tp-compact");
                }
                if (window.innerWidth < {{ this.narrow_px }}) { fold(true); }
                else { map.invalidateSize(); }
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, content: str, panel_id: str = PANEL_ID):
        super().__init__()
        self._name = "SidePanel"
        self.content = content
        self.panel_id = panel_id
        self.panel_id_js = '"' + panel_id + '"'
        self.narrow_px = NARROW_SCREEN_PX
