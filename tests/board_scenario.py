"""The fixed scenario the board's Pilot and snapshot tests draw: a Double 11 morning at 10:00.

Hand-checked facts (used by the tests):
- queues: after_sales (phone), pre_sales (chat), vip (chat, target 0.9 in 20 s).
- pre_sales has 4 waiting: w1 since 09:59:00 (60 s), w2 since 09:59:40 (20 s), w3 and w4
  since 09:59:50 (10 s). after_sales has 1 waiting since 09:58:00 (120 s). vip none.
- agents a01 (team red) handled 125 today (over), a02 (team red) 95 (healthy), a03 (team
  blue) 40 (under), a04 (team blue) 0 and on break since 09:30, a05 logged out.
- one malformed entry was rejected.
- response rounds: every chat contact's agent replies 3 s after answering, except every 9th
  (k % 9 == 0), completed 20 s after the answer without a reply (unanswered). h1 (pre_sales,
  jd-store, a02; one of a02's 95) was answered at 09:56:05, replied to at 09:56:10, and its
  customer asked again at 09:57:30: one round open on a02 for 150 s at 10:00 (past the 120 s
  warn).
- group "presales" = pre_sales + vip; shops tmall-flagship, jd-store and "-" (phone abandons).
"""

from __future__ import annotations

from typing import Any

from tests.scenario import ms
from wallboard.app.sources import MemorySource
from wallboard.core.config import Config, load_config
from wallboard.core.ingest import RawEntry

NOW = ms("2026-11-11 10:00:00")
START = ms("2026-11-11 08:30:00")

CONFIG_TOML = """
[board]
site_name = "Hangzhou Floor 3"

[groups.presales]
queues = ["pre_sales", "vip"]

[queues.vip]
target = 0.9
threshold_s = 20
"""


def _e(kind: str, ts: int, **fields: Any) -> dict[str, str]:
    return {"type": kind, "ts": str(ts), **{k: str(v) for k, v in fields.items()}}


def events() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    agents = [("a01", "Li Na", "red", "pre_sales,after_sales", 125, "busy"),
              ("a02", "Wang Wei", "red", "pre_sales", 94, "available"),
              ("a03", "Zhang Min", "blue", "pre_sales,vip", 40, "available"),
              ("a04", "Chen Jie", "blue", "vip", 0, "break")]  # fmt: skip
    for agent, name, team, queues, _n, _state in agents:
        out.append(_e("agent.state", START, agent=agent, state="available", name=name,
                      team=team, queues=queues, shops="tmall-flagship,jd-store", pool="core"))
    out.append(_e("agent.state", START, agent="a05", state="logged_out", name="Zhao Lei",
                  team="blue", pool="reserve"))
    contact = 0
    # Answers spread over 08:30-09:55; every 7th waits 40 s (misses the 30 s threshold).
    for agent, _name, _team, queues, count, _state in agents:
        queue = queues.split(",")[-1]
        for k in range(count):
            contact += 1
            offered = START + 60_000 + k * (85 * 60_000 // max(count, 1))
            wait = 40_000 if k % 7 == 0 else 8_000
            cid = f"c{contact}"
            out.append(_e("contact.offered", offered, contact=cid, queue=queue, channel="chat",
                          shop="tmall-flagship"))
            out.append(_e("contact.answered", offered + wait, contact=cid, agent=agent))
            if k % 9:
                out.append(_e("contact.reply", offered + wait + 3_000, contact=cid))
            out.append(_e("contact.completed", offered + wait + 20_000, contact=cid,
                          agent=agent, outcome="order" if k % 2 else "no_order"))
    for i in range(6):  # abandons in after_sales
        out.append(_e("contact.offered", START + 600_000 + i * 60_000, contact=f"ab{i}",
                      queue="after_sales", channel="phone"))
        out.append(_e("contact.abandoned", START + 600_000 + i * 60_000 + 45_000,
                      contact=f"ab{i}"))
    waiting = [("w1", "pre_sales", "09:59:00"), ("w2", "pre_sales", "09:59:40"),
               ("w3", "pre_sales", "09:59:50"), ("w4", "pre_sales", "09:59:50"),
               ("w5", "after_sales", "09:58:00")]  # fmt: skip
    for cid, queue, clock in waiting:
        out.append(_e("contact.offered", ms(f"2026-11-11 {clock}"), contact=cid, queue=queue,
                      channel="chat" if queue == "pre_sales" else "phone", shop="jd-store"))
    out.append(_e("contact.offered", ms("2026-11-11 09:56:00"), contact="h1", queue="pre_sales",
                  channel="chat", shop="jd-store"))
    out.append(_e("contact.answered", ms("2026-11-11 09:56:05"), contact="h1", agent="a02"))
    out.append(_e("contact.reply", ms("2026-11-11 09:56:10"), contact="h1"))
    out.append(_e("contact.message", ms("2026-11-11 09:57:30"), contact="h1"))
    for _ in range(30):
        out.append(_e("bot.resolved", START + 900_000))
    out.append(_e("contact.offered", START + 900_000, contact="esc1", queue="vip", via="bot",
                  channel="app"))
    out.append(_e("contact.answered", START + 905_000, contact="esc1", agent="a03"))
    for agent, _name, _team, _queues, _n, state in agents:
        at = ms("2026-11-11 09:30:00") if state == "break" else ms("2026-11-11 09:56:00")
        out.append(_e("agent.state", at, agent=agent, state=state))
    out.sort(key=lambda e: int(e["ts"]))
    out.append({"type": "contact.offered", "ts": "yesterday", "contact": "bad"})
    return out


def config(tmp_path: Any) -> Config:
    path = tmp_path / "board.toml"
    path.write_text(CONFIG_TOML, encoding="utf-8")
    return load_config(path)


def source(cfg: Config) -> MemorySource:
    return MemorySource(cfg, (RawEntry("wallboard:events", None, e) for e in events()))


def frozen() -> int:
    return NOW
