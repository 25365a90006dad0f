"""The post-mortem report: one self-contained HTML file (inline CSS and SVG, no scripts or
fetches) from snapshots of a replayed window. Pure: snapshots in, text out.

Sections: charts of waiting, service level, the 3-minute response rate, offered contacts and
staffed vs. required agents;
the alert timeline with acknowledgement delays; callouts with response times; agents past
the daily high; the rejected-event summary. The key numbers are also embedded as JSON
(`<script type="application/json" id="report-data">`, inert) so tests and tools can read
them; they are those of the snapshot at the window's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Final, NamedTuple
from zoneinfo import ZoneInfo

import msgspec

from wallboard.core.period_view import Response
from wallboard.core.rollup import overall_service_level
from wallboard.core.sanitize import clean
from wallboard.core.snapshot import AlertSnapshot, CallbackRate, CalloutSnapshot, Snapshot

WIDTH: Final = 960
HEIGHT: Final = 190
PAD: Final = 44
COLOURS: Final = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")


class Sample(NamedTuple):
    at_ms: int
    waiting: int
    service_level: float | None
    offered_per_hour: float
    staffed: int
    available: int
    required: int | None  # Erlang C over the queues that have an estimate
    # The floor's rolling-window response rate (summed rounds); None where no round settled
    # in the window or no reply came this business day.
    response_rate: float | None = None


def sample_of(snap: Snapshot) -> Sample:
    required = [q.required_agents for q in snap.queues if q.required_agents is not None]
    offered = sum(q.window.offered * 60 / max(q.window.minutes, 1) for q in snap.queues)
    floor = next((r for r in snap.rollups if r.by == "floor"), None)
    response = floor.window.response if floor is not None else None
    return Sample(snap.as_of_ms or 0, sum(q.waiting for q in snap.queues),
                  overall_service_level(snap), offered, snap.floor.staffed, snap.floor.available,
                  sum(required) if required else None,
                  response.response_rate if response is not None else None)  # fmt: skip


def _text(value: object, limit: int = 120) -> str:
    """Anything from an event, made safe twice: no terminal controls, no HTML."""
    return escape(clean(str(value), limit))


def _clock(ms: int | None, tz: ZoneInfo, date: bool = False) -> str:
    if ms is None:
        return "-"
    moment = datetime.fromtimestamp(ms / 1000, tz)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S")


def _duration(ms: int | None) -> str:
    if ms is None:
        return "-"
    seconds = max(0, ms) // 1000
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def _parse_ms(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        return round(datetime.fromisoformat(text).timestamp() * 1000)
    except ValueError:
        return None


def line_chart(title: str, start_ms: int, end_ms: int, times: Sequence[int],
               series: Sequence[tuple[str, Sequence[float | None]]], tz: ZoneInfo, *,
               percent: bool = False, target: float | None = None) -> str:  # fmt: skip
    """An inline SVG line chart; a None value breaks the line."""
    values = [v for _, points in series for v in points if v is not None]
    top = 1.0 if percent else max([*values, 1.0]) * 1.1
    span = max(end_ms - start_ms, 1)

    def x(ms: int) -> float:
        return PAD + (ms - start_ms) * (WIDTH - 2 * PAD) / span

    def y(v: float) -> float:
        return HEIGHT - PAD / 2 - v * (HEIGHT - PAD) / top

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<line x1="{PAD}" y1="{y(0):.1f}" x2="{WIDTH - PAD}" y2="{y(0):.1f}" '
             'stroke="#888"/>']  # fmt: skip
    for fraction in (0.5, 1.0):
        level = top * fraction
        label = f"{level:.0%}" if percent else f"{level:,.0f}"
        parts.append(f'<text x="{PAD - 4}" y="{y(level) + 4:.1f}" text-anchor="end" '
                     f'class="axis">{label}</text>')  # fmt: skip
        parts.append(f'<line x1="{PAD}" y1="{y(level):.1f}" x2="{WIDTH - PAD}" '
                     f'y2="{y(level):.1f}" stroke="#ddd"/>')  # fmt: skip
    for ms in (start_ms, (start_ms + end_ms) // 2, end_ms):
        parts.append(f'<text x="{x(ms):.1f}" y="{HEIGHT - 4}" text-anchor="middle" '
                     f'class="axis">{_clock(ms, tz)}</text>')  # fmt: skip
    if target is not None:
        parts.append(f'<line x1="{PAD}" y1="{y(target):.1f}" x2="{WIDTH - PAD}" '
                     f'y2="{y(target):.1f}" stroke="#d62728" stroke-dasharray="6 4"/>')  # fmt: skip
        label = f"{target:.0%}" if percent else f"{target:,.0f}"
        parts.append(f'<text x="{WIDTH - PAD + 2}" y="{y(target) + 4:.1f}" fill="#d62728" '
                     f'class="axis">target {label}</text>')  # fmt: skip
    for index, (name, points) in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        runs: list[list[str]] = [[]]
        for ms, value in zip(times, points, strict=True):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(ms):.1f},{y(value):.1f}")
        for run in runs:
            if run:
                parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" '
                             f'points="{" ".join(run)}"/>')  # fmt: skip
        parts.append(f'<text x="{PAD + 8 + index * 190}" y="14" fill="{colour}" '
                     f'class="legend">■ {escape(name)}</text>')  # fmt: skip
    parts.append("</svg>")
    return f"<figure><figcaption>{escape(title)}</figcaption>{''.join(parts)}</figure>"


def _alerts(snapshots: Sequence[Snapshot], start_ms: int, end_ms: int) -> list[AlertSnapshot]:
    """Every alert of the window's business days (the latest view of each), by raise time."""
    found: dict[str, AlertSnapshot] = {}
    for snap in snapshots:
        for alert in snap.alerts:
            if alert.raised_at_ms <= end_ms and (alert.cleared_at_ms is None
                                                 or alert.cleared_at_ms >= start_ms):  # fmt: skip
                found[alert.id] = alert
    return sorted(found.values(), key=lambda a: (a.raised_at_ms, a.id))


def _callouts(snapshots: Sequence[Snapshot], start_ms: int,
              end_ms: int) -> list[CalloutSnapshot]:  # fmt: skip
    found: dict[str, CalloutSnapshot] = {}
    for snap in snapshots:
        for callout in snap.callouts:
            if start_ms <= callout.called_at_ms <= end_ms:
                found[callout.id] = callout
    return sorted(found.values(), key=lambda c: (c.called_at_ms, c.id))


class ReportData(msgspec.Struct, frozen=True, kw_only=True):
    """The report's key numbers (embedded as JSON): those of the snapshot at the window's end."""

    start_ms: int
    end_ms: int
    as_of_ms: int | None
    events_applied: int
    events_rejected: dict[str, int]
    events_duplicate: int
    queues: dict[str, dict[str, float | int | None]]
    # The floor rollup's business day so far (summed counts): its service level and its
    # response rounds (rate None where no round settled or no reply came).
    floor: dict[str, float | int | None] = msgspec.field(default_factory=dict)
    agents_over_daily_high: dict[str, int]
    alerts: list[str]
    callouts: list[str]
    samples: int


def report_data(end: Snapshot, alerts: Sequence[AlertSnapshot],
                callouts: Sequence[CalloutSnapshot], daily_high: int, start_ms: int,
                end_ms: int, samples: int) -> ReportData:  # fmt: skip
    return ReportData(
        start_ms=start_ms, end_ms=end_ms, as_of_ms=end.as_of_ms,
        events_applied=end.events_applied, events_rejected=dict(end.events_rejected),
        events_duplicate=end.events_duplicate,
        queues={q.queue: {"offered": q.today.offered, "answered": q.today.answered,
                          "abandoned": q.today.abandoned, "service_level": q.today.service_level,
                          "waiting": q.waiting, "required_agents": q.required_agents,
                          "response_rate": _rate(q.today.response)}
                for q in end.queues},
        floor=_floor_data(end),
        agents_over_daily_high={a.agent: a.handled_today for a in end.agents
                                if a.handled_today > daily_high},
        alerts=[a.id for a in alerts], callouts=[c.id for c in callouts], samples=samples,
    )  # fmt: skip


def _floor_data(end: Snapshot) -> dict[str, float | int | None]:
    floor = next((r for r in end.rollups if r.by == "floor"), None)
    if floor is None:
        return {}
    response = floor.today.response
    return {"offered": floor.today.offered, "service_level": floor.today.service_level,
            "rounds": response.rounds if response else 0,
            "rounds_answered_within": response.answered_within if response else 0,
            "response_rate": _rate(response)}  # fmt: skip


_CSS: Final = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1000px;color:#222}
h1{font-size:1.5em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:left}th{background:#f3f3f3}
td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0}figcaption{font-weight:600}.axis{font-size:11px;fill:#555}
.legend{font-size:12px}.muted{color:#777}.crit{color:#b00;font-weight:600}
"""


def render_report(*, site: str, tz: ZoneInfo, start_ms: int, end_ms: int,
                  samples: Sequence[Sample], end: Snapshot, day_snapshots: Sequence[Snapshot],
                  daily_high: int, passed_at: dict[str, int], source: str,
                  response_target: float | None = None) -> str:  # fmt: skip
    """The whole HTML page. `passed_at`: when each agent first went past the daily high;
    `response_target`: `[response] target`, the response chart's target line."""
    alerts = _alerts(day_snapshots, start_ms, end_ms)
    callouts = _callouts(day_snapshots, start_ms, end_ms)
    data = report_data(end, alerts, callouts, daily_high, start_ms, end_ms, len(samples))
    times = [s.at_ms for s in samples]
    out = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>Post-mortem {_text(site)} {_clock(start_ms, tz, True)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Post-mortem: {_text(site)}</h1>",
        f"<p>Window {_clock(start_ms, tz, True)} to {_clock(end_ms, tz, True)} "
        f"({escape(str(tz))}); source {_text(source, 200)}; {end.events_applied:,} events "
        f"applied by the window's end; one sample every "
        f"{_duration(times[1] - times[0] if len(times) > 1 else None)}.</p>",
        "<h2>Load and service</h2>",
        line_chart("Contacts waiting (all queues)", start_ms, end_ms, times,
                   [("waiting", [s.waiting for s in samples])], tz),
        line_chart("Service level, rolling window (all queues, weighted by offered)",
                   start_ms, end_ms, times,
                   [("service level", [s.service_level for s in samples])], tz,
                   percent=True, target=end.queues[0].sl_target if end.queues else None),
        line_chart("3-minute response rate, rolling window (the floor's response rounds)",
                   start_ms, end_ms, times,
                   [("response rate", [s.response_rate for s in samples])], tz,
                   percent=True, target=response_target),
        line_chart("Offered contacts per hour (rolling window)", start_ms, end_ms, times,
                   [("offered / h", [s.offered_per_hour for s in samples])], tz),
        line_chart("Agents: staffed, available and required (Erlang C)", start_ms, end_ms,
                   times, [("staffed", [s.staffed for s in samples]),
                           ("available", [s.available for s in samples]),
                           ("required", [s.required for s in samples])], tz),
    ]  # fmt: skip
    out += _queue_table(end)
    out += _alert_section(alerts, tz)
    out += _callout_section(callouts, tz)
    out += _agents_section(end, daily_high, passed_at, tz)
    out += complaints_section(end)
    out += _rejected_section(end)
    # Every `<` as \u003c (JSON reads it the same): no `</script>` and no `<!--`, which
    # could otherwise end or swallow the page from inside the inert script element.
    payload = msgspec.json.encode(data).decode().replace("<", "\\u003c")
    out.append(f'<script type="application/json" id="report-data">{payload}</script>')
    out.append("</body></html>")
    return "\n".join(out)


def _rate(response: Response | None) -> float | None:
    return response.response_rate if response is not None else None


def _queue_table(end: Snapshot) -> list[str]:
    rows = ["<h2>Queues at the window's end (business day so far)</h2>",
            "<table><tr><th>queue</th><th>offered</th><th>answered</th><th>abandoned</th>"
            "<th>service level</th><th>3-min response</th><th>waiting</th><th>staffed</th>"
            "<th>required</th></tr>"]  # fmt: skip
    for q in end.queues:
        sl = "-" if q.today.service_level is None else f"{q.today.service_level:.1%}"
        req = "-" if q.required_agents is None else str(q.required_agents)
        rate = _rate(q.today.response)
        resp = "-" if rate is None else f"{rate:.1%}"
        rows.append(f"<tr><td>{_text(q.queue, 60)}</td><td class=n>{q.today.offered}</td>"
                    f"<td class=n>{q.today.answered}</td><td class=n>{q.today.abandoned}</td>"
                    f"<td class=n>{sl}</td><td class=n>{resp}</td><td class=n>{q.waiting}</td>"
                    f"<td class=n>{q.agents_staffed}</td><td class=n>{req}</td></tr>")  # fmt: skip
    rows.append("</table>")
    return rows


def _alert_section(alerts: Sequence[AlertSnapshot], tz: ZoneInfo) -> list[str]:
    rows = [f"<h2>Alerts ({len(alerts)})</h2>"]
    if not alerts:
        return [*rows, "<p class=muted>No alert was raised in the window.</p>"]
    rows.append("<table><tr><th>raised</th><th>severity (peak)</th><th>rule</th>"
                "<th>subject</th><th>message</th><th>acknowledged</th><th>ack delay</th>"
                "<th>cleared</th><th>lasted</th></tr>")  # fmt: skip
    for a in alerts:
        acked_ms = _parse_ms(a.acked_at)
        ack = "-" if a.acked_by is None else f"{_text(a.acked_by, 40)} {_clock(acked_ms, tz)}"
        delay = _duration(None if acked_ms is None else acked_ms - a.raised_at_ms)
        lasted = _duration(None if a.cleared_at_ms is None else a.cleared_at_ms - a.raised_at_ms)
        level = "crit" if a.peak_severity == "critical" else ""
        rows.append(f"<tr><td>{_clock(a.raised_at_ms, tz)}</td>"
                    f"<td class='{level}'>{_text(a.severity, 10)} ({_text(a.peak_severity, 10)})"
                    f"</td><td>{_text(a.rule, 40)}</td><td>{_text(a.subject, 60)}</td>"
                    f"<td>{_text(a.message)}</td><td>{ack}</td><td class=n>{delay}</td>"
                    f"<td>{_clock(a.cleared_at_ms, tz)}</td><td class=n>{lasted}</td>"
                    "</tr>")  # fmt: skip
    rows.append("</table>")
    return rows


def _callout_section(callouts: Sequence[CalloutSnapshot], tz: ZoneInfo) -> list[str]:
    rows = [f"<h2>Reserve callouts ({len(callouts)})</h2>"]
    if not callouts:
        return [*rows, "<p class=muted>No reserve callout in the window.</p>"]
    rows.append("<table><tr><th>called</th><th>callout</th><th>queue</th><th>by</th>"
                "<th>agent</th><th>status</th><th>response time</th><th>logged in after</th>"
                "</tr>")  # fmt: skip
    for c in callouts:
        for callee in c.agents or []:
            responded = _parse_ms(callee.responded_at)
            logged = _parse_ms(callee.logged_in_at)
            answer = _duration(None if responded is None else responded - c.called_at_ms)
            login = _duration(None if logged is None else logged - c.called_at_ms)
            rows.append(
                f"<tr><td>{_clock(c.called_at_ms, tz)}</td><td>{_text(c.id, 60)}</td>"
                f"<td>{_text(c.queue, 60)}</td><td>{_text(c.by or '-', 40)}</td>"
                f"<td>{_text(callee.agent, 40)}</td><td>{_text(callee.status, 20)}</td>"
                f"<td class=n>{answer}</td><td class=n>{login}</td></tr>")  # fmt: skip
    rows.append("</table>")
    return rows


def _agents_section(end: Snapshot, daily_high: int, passed_at: dict[str, int],
                    tz: ZoneInfo) -> list[str]:  # fmt: skip
    over = sorted((a for a in end.agents if a.handled_today > daily_high),
                  key=lambda a: (-a.handled_today, a.agent))  # fmt: skip
    rows = [f"<h2>Agents past {daily_high} contacts today ({len(over)})</h2>"]
    if not over:
        return [*rows, f"<p class=muted>No agent passed {daily_high} by the window's end.</p>"]
    rows.append("<table><tr><th>agent</th><th>name</th><th>team</th><th>handled today</th>"
                f"<th>passed {daily_high} at</th></tr>")  # fmt: skip
    for a in over:
        rows.append(f"<tr><td>{_text(a.agent, 40)}</td><td>{_text(a.name or '-', 60)}</td>"
                    f"<td>{_text(a.team or '-', 40)}</td><td class=n>{a.handled_today}</td>"
                    f"<td>{_clock(passed_at.get(a.agent), tz)}</td></tr>")  # fmt: skip
    rows.append("</table>")
    return rows


def _rate_cell(rate: CallbackRate) -> str:
    shown = "-" if rate.callback_rate is None else f"{rate.callback_rate:.1%}"
    return f"<td class=n>{shown} ({rate.in_time}/{rate.decided})</td>"


def complaints_section(end: Snapshot) -> list[str]:
    """Key complaints at the window's end (docs/metrics.md, "Complaints")."""
    c = end.complaints
    days = c.rolling.days or 0
    oldest = "-" if c.oldest_overdue_s is None else _duration(round(c.oldest_overdue_s * 1000))
    rows = [f"<h2>Key complaints ({c.open_key} open, {c.overdue} overdue)</h2>",
            "<table><tr><th>callback rate today</th>"
            f"<th>callback rate {days} days</th><th>open</th><th>due within 24 h</th>"
            "<th>overdue</th><th>oldest overdue</th><th>opened today</th></tr>",
            f"<tr>{_rate_cell(c.today)}{_rate_cell(c.rolling)}"
            f"<td class=n>{c.open_key}</td><td class=n>{c.due_24h}</td>"
            f"<td class=n>{c.overdue}</td><td class=n>{oldest}</td>"
            f"<td class=n>{c.opened_today}</td></tr></table>"]  # fmt: skip
    for title, groups in (("department", c.by_department), ("shop", c.by_shop)):
        if not groups:
            continue
        rows.append(f"<table><tr><th>{title}</th><th>open</th><th>due within 24 h</th>"
                    f"<th>overdue</th><th>opened today</th><th>callback rate {days} days</th>"
                    "</tr>")  # fmt: skip
        for g in groups:
            rows.append(f"<tr><td>{_text(g.name, 60)}</td><td class=n>{g.open_key}</td>"
                        f"<td class=n>{g.due_24h}</td><td class=n>{g.overdue}</td>"
                        f"<td class=n>{g.opened_today}</td>"
                        f"{_rate_cell(g.rolling)}"
                        "</tr>")  # fmt: skip
        rows.append("</table>")
    if not c.by_department and not c.by_shop:
        rows.append("<p class=muted>No complaint in the lookback.</p>")
    return rows


def _rejected_section(end: Snapshot) -> list[str]:
    total = sum(end.events_rejected.values())
    rows = [f"<h2>Rejected events ({total:,}; duplicates {end.events_duplicate:,})</h2>",
            "<table><tr><th>reason</th><th>count</th></tr>"]  # fmt: skip
    for reason, count in end.events_rejected.items():
        rows.append(f"<tr><td>{_text(reason, 40)}</td><td class=n>{count:,}</td></tr>")
    rows.append("</table>")
    if end.rejected_recent:
        rows.append("<p>The most recent:</p><table><tr><th>reason</th><th>field</th>"
                    "<th>detail</th><th>entry</th></tr>")  # fmt: skip
        for r in end.rejected_recent:
            rows.append(f"<tr><td>{_text(r.reason, 40)}</td><td>{_text(r.field or '-', 40)}</td>"
                        f"<td>{_text(r.detail)}</td><td>{_text(r.entry_id or '-', 60)}</td></tr>")
        rows.append("</table>")
    return rows
