"""`wallboard report`: one self-contained HTML file whose numbers are the snapshot's at the
window's end."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
from click.testing import CliRunner

from feeds.files import read_ndjson
from tests.replay_scenario import END, START, at, lines, write
from wallboard.cli.main import main
from wallboard.cli.report import sample_step_ms
from wallboard.core.config import load_config
from wallboard.core.fold import BoardState
from wallboard.core.ingest import fold_until
from wallboard.core.snapshot import build_snapshot


def test_report_numbers_match_the_snapshot_at_the_end(tmp_path: Path) -> None:
    end = at("2026-11-11 03:50")  # before the 04:00 day boundary: the day's counts are full
    hostile = msgspec.json.encode({"type": "<script>alert(1)</script>", "ts": str(START + 1)})
    path = write(tmp_path / "day.ndjson", [*lines(), hostile])
    config = tmp_path / "board.toml"
    config.write_text("[agent_load]\ndaily_low = 1\ndaily_high = 3\n")
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", "--file", str(path), "--from", str(START),
                                       "--to", str(end), "-o", str(out), "--config",
                                       str(config), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()
    # Self-contained: inline SVG charts, no external resource, no executable script.
    assert html.count("<svg") == 5  # waiting, SL, response rate, offered, agents
    assert not re.search(r"(src|href)=", html)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    payload = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                        html, re.S)  # fmt: skip
    assert payload is not None
    data = msgspec.json.decode(payload.group(1).replace("<\\/", "</"))

    state = BoardState(load_config(str(config)))
    fold_until(state, read_ndjson(path), end)
    snap = build_snapshot(state)
    assert data["as_of_ms"] == snap.as_of_ms == end
    assert data["events_applied"] == snap.events_applied
    assert data["events_rejected"] == snap.events_rejected
    assert data["events_rejected"]["unknown_type"] == 1  # the hostile line
    assert data["events_duplicate"] == snap.events_duplicate == 1
    for q in snap.queues:
        row = data["queues"][q.queue]
        assert (row["offered"], row["answered"], row["abandoned"], row["waiting"]) == (
            q.today.offered, q.today.answered, q.today.abandoned, q.waiting)
        assert f"<td>{q.queue}</td><td class=n>{q.today.offered}</td>" in html
    over = {a.agent: a.handled_today for a in snap.agents if a.handled_today > 3}
    assert data["agents_over_daily_high"] == over
    assert over  # the scenario's busiest agents pass a daily high of 3
    assert f"Agents past 3 contacts today ({len(over)})" in html
    assert data["callouts"] == ["co-1"] == [c.id for c in snap.callouts]
    assert "co-1" in html
    # The day's alerts that were active at some time in the window, by raise time.
    active = [a for a in snap.alerts
              if a.cleared_at_ms is None or a.cleared_at_ms >= START]  # fmt: skip
    assert len(active) < len(snap.alerts)  # some were over before the window began
    assert data["alerts"] == [a.id for a in sorted(active, key=lambda a: (a.raised_at_ms, a.id))]
    assert data["samples"] == (end - START) // sample_step_ms(START, end) + 1


def test_report_window_must_be_ordered(tmp_path: Path) -> None:
    path = write(tmp_path / "day.ndjson", lines()[:10])
    args = ["report", "--file", str(path), "--from", str(END), "--to", str(START),
            "-o", str(tmp_path / "r.html")]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "must be after --from" in result.output


def test_sample_step_is_whole_minutes_and_bounded() -> None:
    assert sample_step_ms(0, 3_600_000) == 60_000
    assert sample_step_ms(0, 86_400_000) == 5 * 60_000  # 288 samples a day


def test_report_charts_the_floors_response_rate(tmp_path: Path) -> None:
    """Four chat contacts in one queue, settled by 10:10 (the rolling window is 30 min):
    c1 replied 20 s after its offer (within 180 s), c2 after 240 s (late), c3 completed with
    no reply (unanswered), c4 after 10 s (within): 2 within / 4 rounds = 0.5."""
    from tests.scenario import ms

    def e(kind: str, clock: str, **fields: str) -> dict[str, str]:
        return {"type": kind, "ts": str(ms(f"2026-11-11 {clock}")), **fields}

    chat = {"queue": "q1", "channel": "chat", "shop": "s1"}
    events = [
        e("contact.offered", "10:00:00", contact="c1", **chat),
        e("contact.answered", "10:00:05", contact="c1", agent="a1"),
        e("contact.reply", "10:00:20", contact="c1"),
        e("contact.offered", "10:01:00", contact="c2", **chat),
        e("contact.answered", "10:01:05", contact="c2", agent="a2"),
        e("contact.offered", "10:02:00", contact="c3", **chat),
        e("contact.answered", "10:02:05", contact="c3", agent="a3"),
        e("contact.completed", "10:03:00", contact="c3", agent="a3"),
        e("contact.offered", "10:03:00", contact="c4", **chat),
        e("contact.answered", "10:03:02", contact="c4", agent="a1"),
        e("contact.reply", "10:03:10", contact="c4"),
        e("contact.reply", "10:05:00", contact="c2"),
    ]
    path = tmp_path / "chat.ndjson"
    path.write_bytes(b"".join(msgspec.json.encode(x) + b"\n" for x in events))
    out = tmp_path / "report.html"
    start, end = ms("2026-11-11 09:50:00"), ms("2026-11-11 10:10:00")
    result = CliRunner().invoke(main, ["report", "--file", str(path), "--from", str(start),
                                       "--to", str(end), "-o", str(out), "-q"])  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "3-minute response rate, rolling window" in html
    payload = re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                        html, re.S)  # fmt: skip
    assert payload is not None
    data = msgspec.json.decode(payload.group(1))
    assert data["floor"]["rounds"] == 4 and data["floor"]["rounds_answered_within"] == 2
    assert data["floor"]["response_rate"] == 0.5 == data["queues"]["q1"]["response_rate"]
    assert "<td class=n>50.0%</td>" in html  # the queue table's 3-min response column
    # The chart's target line is `[response] target` (0.8 by default) and it is labelled.
    assert "target 80%" in html.split("3-minute response rate", 1)[1].split("</figure>", 1)[0]
