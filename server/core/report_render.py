"""The report rendered for people: printable HTML (A4) and XLSX.

Both renderings take the report model of :func:`server.core.report.build_report`
(the live one, or one kept in a snapshot), so every format says the same
numbers. They speak Vietnamese: numbers in the vi-VN form (52.110), times in
the event's time zone, level and incident names in Vietnamese.

The report snapshots they render live in :mod:`server.core.report_snapshots`.

Pure: the time and the report are passed in; XLSX is built in memory.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.core import labels
from server.core.events import instant_ms

# The words come from server.core.labels, the one source every surface uses.
LEVEL_VI = labels.LEVELS["vi"]
KIND_VI = labels.INCIDENT_KINDS["vi"]
AGENDA_STATE_VI = labels.AGENDA_STATES["vi"]
LAUNCH_STATE_VI = labels.LAUNCH_STATES["vi"]
LAUNCH_VI = labels.LAUNCH_FIGURES["vi"]
W = labels.REPORT["vi"]  # the report's own words


def groups_of(report: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The report's group level and its groups; a snapshot taken before
    groups existed has only districts (docs/protocol.md#grouping)."""
    if "by_group" in report:
        return report.get("group_level"), report["by_group"]
    return "district", report.get("by_district", [])


def group_level_words(level: str | None) -> str:
    """"xã, phường, đặc khu": a level's name inside a sentence."""
    name = LEVEL_VI.get(level or "district", level or "")
    return name[:1].lower() + name[1:]


def group_column(level: str | None) -> str:
    return W["district"] if level in (None, "district") else LEVEL_VI.get(level, level)


def missing_group_name(m: dict[str, Any]) -> str:
    return str(m.get("group_name", m.get("district_name", "")))

# -- formatting ------------------------------------------------------------------


def vi_number(value: float | int | None, digits: int = 0) -> str:
    """52110 -> "52.110"; 97.25 with digits=1 -> "97,3" (vi-VN: dot thousands, comma decimals)."""
    if value is None:
        return ""
    text = f"{value:,.{digits}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def vi_percent(part: float, whole: float) -> str:
    return f"{vi_number(100.0 * part / whole, 1)}%" if whole else ""


def local(ms: float, tz: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, ZoneInfo(tz))


def vi_time(ms: float | None, tz: str, seconds: bool = True) -> str:
    """"07:30:05" in the event's time zone."""
    if ms is None:
        return ""
    return local(ms, tz).strftime("%H:%M:%S" if seconds else "%H:%M")


def vi_datetime(ms: float | None, tz: str) -> str:
    """"07:30:05 ngày 08/05/2025" in the event's time zone."""
    if ms is None:
        return ""
    return local(ms, tz).strftime(W["datetime"])


def vi_duration(seconds: float | None, signed: bool = False) -> str:
    """125 -> "2:05"; 3725 -> "1:02:05"; signed: "+2:05" / "−0:40"."""
    if seconds is None:
        return ""
    sign = "−" if seconds < 0 else ("+" if signed else "")
    total = round(abs(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    body = f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
    return sign + body


def _tz(report: dict[str, Any]) -> str:
    return str(report["event"].get("timezone") or "Asia/Ho_Chi_Minh")


# -- HTML (printable A4) --------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 16mm 14mm 16mm 18mm; }
* { box-sizing: border-box; }
body { font-family: "Times New Roman", "Liberation Serif", "DejaVu Serif", serif; font-size: 12.5pt;
       color: #000; margin: 0 auto; max-width: 190mm; padding: 8mm 0; line-height: 1.35; }
.head { display: flex; justify-content: space-between; text-align: center; font-size: 11.5pt; }
.head b { display: block; }
.head .motto { text-decoration: underline; font-weight: bold; }
h1 { font-size: 15pt; text-align: center; margin: 8mm 0 1mm; text-transform: uppercase; }
.sub { text-align: center; margin: 0 0 1mm; }
.taken { text-align: center; font-style: italic; margin: 0 0 5mm; }
h2 { font-size: 13pt; margin: 6mm 0 2mm; break-after: avoid; }
h3 { font-size: 12pt; margin: 3mm 0 1mm; break-after: avoid; }
table { width: 100%; border-collapse: collapse; font-size: 11pt; margin-bottom: 2mm; }
th, td { border: 0.6pt solid #000; padding: 1.2mm 1.6mm; vertical-align: top; }
th { background: #eee; font-weight: bold; text-align: center; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tr { break-inside: avoid; }
tfoot td, tr.total td { font-weight: bold; }
.figures td:first-child { width: 60%; }
table.missing td:nth-child(2), table.missing td:nth-child(7), table.incidents td:nth-child(7) { white-space: nowrap; }
table.breakdown td:first-child { min-width: 32mm; }
.muted { color: #333; font-style: italic; }
.sign { display: flex; justify-content: space-around; margin-top: 12mm; text-align: center; break-inside: avoid; }
.sign div { width: 45%; min-height: 38mm; }
.sign b { display: block; text-transform: uppercase; }
.print { position: fixed; top: 8px; right: 8px; font: 14px system-ui, sans-serif; padding: 6px 14px; }
@media print { .print { display: none; } body { padding: 0; max-width: none; } }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[list[tuple[str, bool]]], total: list[tuple[str, bool]] | None = None,
           cls: str = "") -> str:
    """A table; each cell is (text, numeric). Text is escaped here."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{_e(t)}</td>' if n else f"<td>{_e(t)}</td>" for t, n in row) + "</tr>"
        for row in rows)
    foot = ""
    if total is not None:
        foot = '<tr class="total">' + "".join(
            f'<td class="n">{_e(t)}</td>' if n else f"<td>{_e(t)}</td>" for t, n in total) + "</tr>"
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}{foot}</tbody></table>"


_BREAKDOWN_HEAD = [W[k] for k in ("points", "checked_in", "rate", "online", "attendees", "expected", "rate")]


def _breakdown(row: dict[str, Any]) -> list[tuple[str, bool]]:
    return [
        (vi_number(row["points"]), True), (vi_number(row["checked_in"]), True),
        (vi_percent(row["checked_in"], row["points"]), True), (vi_number(row["online"]), True),
        (vi_number(row["attendees"]), True), (vi_number(row["expected"]), True),
        (vi_percent(row["attendees"], row["expected"]), True),
    ]


def render_html(report: dict[str, Any], label: str | None = None) -> str:
    """The report as a printable page (A4), in Vietnamese."""
    tz = _tz(report)
    ev = report["event"]
    o = report["overall"]
    parts: list[str] = []
    add = parts.append
    add('<!doctype html><html lang="vi"><head><meta charset="utf-8">')
    add(f"<title>{_e(W['title'].format(name=ev['name']))}</title><style>{_CSS}</style></head><body>")
    add(f'<button class="print" onclick="window.print()">{_e(W["print"])}</button>')
    add(f'<div class="head"><div><b>{_e(W["organizers"])}</b></div>'
        f'<div><b>{_e(W["nation"])}</b><span class="motto">{_e(W["motto"])}</span>'
        "</div></div>")
    add(f"<h1>{_e(W['heading'])}</h1>")
    add(f'<p class="sub"><b>{_e(ev["name"])}</b></p>')
    if ev.get("starts_at"):
        add(f'<p class="sub">{_e(W["starts"].format(t=vi_datetime(instant_ms(ev["starts_at"]), tz)))}</p>')
    taken = W["taken"].format(t=vi_datetime(report["taken_ms"], tz), tz=tz)
    if label:
        taken = W["snapshot"].format(label=label, taken=f"{taken[0].lower()}{taken[1:]}")
    add(f'<p class="taken">{_e(taken)}</p>')

    add(f"<h2>{_e(W['s_summary'])}</h2>")
    add(_table([W["figure"], W["value"], W["rate"]], [
        [(W["total_points"], False), (vi_number(o["points"]), True), ("", True)],
        [(W["checked_points"], False), (vi_number(o["checked_in"]), True),
         (vi_percent(o["checked_in"], o["points"]), True)],
        [(W["missing_points"], False), (vi_number(o["points"] - o["checked_in"]), True),
         (vi_percent(o["points"] - o["checked_in"], o["points"]), True)],
        [(W["online_points"], False), (vi_number(o["online"]), True),
         (vi_percent(o["online"], o["points"]), True)],
        [(W["attendees_n"], False), (vi_number(o["attendees"]), True),
         (vi_percent(o["attendees"], o["expected"]), True)],
        [(W["expected_n"], False), (vi_number(o["expected"]), True), ("", True)],
        [(W["incidents_open"], False), (vi_number(o["incidents_open"]), True), ("", True)],
    ], cls="figures"))

    add(f"<h2>{_e(W['s_levels'])}</h2>")
    add(_table([W["level"], *_BREAKDOWN_HEAD],
               [[(LEVEL_VI.get(r["level"], r["level"]), False), *_breakdown(r)] for r in report["by_level"]],
               [(W["total"], False), *_breakdown(o)], cls="breakdown"))

    level, groups = groups_of(report)
    add(f"<h2>{_e(W['s_groups'].format(level=group_level_words(level)))}</h2>")
    if groups:
        add(_table([W["unit"], *_BREAKDOWN_HEAD],
                   [[(r["name"], False), *_breakdown(r)] for r in groups], cls="breakdown"))
        add(f'<p class="muted">{_e(W["district_note" if level == "district" else "group_note"])}</p>')
    else:
        add(f'<p class="muted">{_e(W["no_district" if level == "district" else "no_group"])}</p>')

    add(f"<h2>{_e(W['s_missing'].format(n=vi_number(len(report['missing']))))}</h2>")
    if report["missing"]:
        add(_table([W[k] for k in ("no", "code", "name", "level")] + [group_column(level), W["chair"], W["phone"]], [
            [(vi_number(i), True), (m["code"], False), (m["name"], False),
             (LEVEL_VI.get(m["level"], m["level"]), False), (missing_group_name(m), False), (m["chair"], False),
             (m["phone"], False)]
            for i, m in enumerate(report["missing"], 1)], cls="missing"))
    else:
        add(f'<p class="muted">{_e(W["all_checked"])}</p>')

    add(f"<h2>{_e(W['s_incidents'].format(n=vi_number(len(report['incidents_open']))))}</h2>")
    if report["incidents_open"]:
        add(_table([W[k] for k in ("no", "point", "kind", "note", "since", "chair", "phone")], [
            [(vi_number(i), True), (f"{x['point_name']} ({x['point']})", False),
             (KIND_VI.get(x["kind"], x["kind"]), False), (x["note"], False), (vi_time(x["opened_ms"], tz), True),
             (x["chair"], False), (x["phone"], False)]
            for i, x in enumerate(report["incidents_open"], 1)], cls="incidents"))
    else:
        add(f'<p class="muted">{_e(W["no_incident"])}</p>')

    add(_agenda_html(report.get("agenda"), tz))
    add(_launch_html(report.get("launch"), tz))

    add(f'<div class="sign"><div><b>{_e(W["reporter"])}</b><i>{_e(W["reporter_sign"])}</i></div>'
        f'<div><b>{_e(W["head"])}</b><i>{_e(W["head_sign"])}</i></div></div>')
    add("</body></html>")
    return "".join(parts)


def _agenda_html(agenda: dict[str, Any] | None, tz: str) -> str:
    out = [f"<h2>{_e(W['s_agenda'])}</h2>"]
    if not agenda or not agenda.get("items"):
        out.append(f'<p class="muted">{_e(W["no_agenda"])}</p>')
        return "".join(out)
    state = W["agenda_state"].format(state=AGENDA_STATE_VI.get(agenda["state"], agenda["state"]),
                                     start=vi_time(agenda.get("started_ms"), tz) or "—",
                                     end=vi_time(agenda.get("finished_ms"), tz) or "—")
    out.append(f"<p>{_e(state)}</p>")
    rows = [
        [(vi_number(i["index"] + 1), True), (i["title"], False), (i["speaker"], False),
         (vi_duration(i["planned_s"]), True), (vi_duration(i["actual_s"]), True),
         (vi_duration(i["offset_s"], signed=True), True), (vi_time(i["actual_start_ms"], tz), True),
         (vi_time(i["actual_end_ms"], tz), True)]
        for i in agenda["items"]]
    total = [("", False), (W["total"], False), ("", False), (vi_duration(agenda["planned_total_s"]), True),
             (vi_duration(agenda["actual_total_s"]), True), (vi_duration(agenda["offset_s"], signed=True), True),
             ("", False), ("", False)]
    out.append(_table([W[k] for k in ("no", "item", "speaker", "planned", "actual", "offset", "start", "end")],
                      rows, total))
    out.append(f'<p class="muted">{_e(W["agenda_note"].format(d=vi_duration(agenda.get("paused_s"))))}</p>')
    return "".join(out)


def _launch_html(section: dict[str, Any] | None, tz: str) -> str:
    out = [f"<h2>{_e(W['s_launch'].format(title=labels.LAUNCH_TITLE['vi']))}</h2>"]
    launch = (section or {}).get("launch")
    if not launch:
        out.append(f'<p class="muted">{_e(W["launch_none"])}</p>')
    else:
        fired = launch["fired"]
        keys = "; ".join(f"{k['key']} ({vi_time(k['at_ms'], tz)})" for k in launch["keys"]) or "—"
        out.append(_table([W["figure"], W["value"]], [
            [(W["state"], False), (LAUNCH_STATE_VI.get(launch["state"], launch["state"]), False)],
            [(W["armed_at"], False), (vi_time(launch["armed_ms"], tz), False)],
            [(W["key_holders"], False), (keys, False)],
            [(LAUNCH_VI["fire_at"], False), (vi_time(launch["fire_at_ms"], tz), False)],
            [(LAUNCH_VI["fired_count"], False), (vi_number(fired["count"]), True)],
            [(W["not_reported"], False), (vi_number(fired["missing"]), True)],
            [(W["spread"], False), (vi_number(fired["spread_ms"]), True)],
            [(W["worst_bound"], False), (vi_number(fired["worst_bound_ms"]), True)],
        ], cls="figures"))
    aborted = (section or {}).get("aborted") or []
    rehearsals = (section or {}).get("rehearsals") or []
    if aborted or rehearsals:
        counts = W["launch_counts"].format(aborted=vi_number(len(aborted)), rehearsals=vi_number(len(rehearsals)))
        out.append(f'<p class="muted">{_e(counts)}</p>')
    return "".join(out)
