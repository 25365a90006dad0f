"""The snapshot as readable text tables (`wallboard snapshot` without --json)."""

from __future__ import annotations

from wallboard.core.sanitize import clean
from wallboard.core.snapshot import Snapshot


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]  # fmt: skip
    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True)))  # fmt: skip
    return [line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def render_text(snap: Snapshot) -> str:
    out = [
        f"{clean(snap.site_name)}  as of {snap.as_of or '-'}"
        f"  business day {snap.business_day or '-'}  ({snap.timezone})",
        f"events applied {snap.events_applied}, duplicate {snap.events_duplicate}, rejected "
        + (", ".join(f"{k} {v}" for k, v in snap.events_rejected.items() if v) or "0"),
        "",
    ]
    rows = []
    for q in snap.queues:
        rows.append([
            clean(q.queue), q.kind, str(q.waiting), _secs(q.longest_wait_s),
            f"{_pct(q.today.service_level)}/{q.sl_target * 100:.0f}%@{q.sl_threshold_s:g}s",
            _pct(q.window.service_level), str(q.today.offered), str(q.today.answered),
            str(q.today.abandoned), _pct(q.today.abandon_rate), _secs(q.today.asa_s),
            _secs(q.today.aht_s), f"{q.agents_available}/{q.agents_staffed}",
        ])  # fmt: skip
    out += _table(["queue", "kind", "waiting", "longest", "SL today/target", "SL window",
                   "offered", "answered", "abandoned", "aband%", "ASA", "AHT", "avail/staffed"],
                  rows)  # fmt: skip
    out.append("")
    f = snap.floor
    out.append(f"floor: staffed {f.staffed}, available {f.available}; "
               + ", ".join(f"{k} {v}" for k, v in f.by_state.items()))  # fmt: skip
    agent_rows = []
    ranked = sorted(snap.agents, key=lambda a: (-a.handled_today, a.agent))
    for a in ranked:
        agent_rows.append([
            clean(a.agent), clean(a.name), a.state or "-", str(a.handled_today), a.load_band,
            f"{a.projected_today:.0f}", str(a.handled_last_hour), str(a.messages_last_hour),
            f"{len(a.shops)} {a.shops_status}", a.pool or "-",
        ])  # fmt: skip
    if agent_rows:
        out.append("")
        out += _table(["agent", "name", "state", "today", "band", "projected", "last hour",
                       "msgs/h", "shops", "pool"], agent_rows)  # fmt: skip
    if snap.rejected_recent:
        out.append("")
        out.append("recent rejections:")
        out += [f"  {r.reason}: {clean(r.detail)} ({clean(r.entry_id) or 'no id'})"
                for r in snap.rejected_recent]  # fmt: skip
    # Each line cleaned once more as a whole: a field not named above (a kind, a pool, a zone
    # from an aggregator's snapshot) cannot put an escape sequence on the terminal either.
    return "\n".join(clean(line, len(line)) for line in out)
