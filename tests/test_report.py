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
    assert html.count("<svg") == 4
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
