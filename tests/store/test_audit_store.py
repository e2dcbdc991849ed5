"""The audit log in the store (both dialects): an entry commits or rolls back with its action,
pages read newest first under every filter, and retention prunes entries past `max_age`."""

from __future__ import annotations

import pytest

from mainspring import audit
from mainspring.audit import actors
from mainspring.audit.listing import AuditLog, parse_filter
from mainspring.operations.retention import Retention
from mainspring.settings import Retention as RetentionConfig
from mainspring.store.base import Connector, Tx

DAY_MS = 86_400_000
NOW = 1_800_000_000_000


async def add(connector: Connector, action: str, at: int, actor: str = "token:ops") -> str:
    def unit(tx: Tx) -> str:
        return audit.record(
            tx, actor, action, at=at, target_kind="function", target_id=f"fn-{at % 3}"
        )

    entry: str = await connector.write(unit)
    return entry


async def test_an_entry_rolls_back_with_its_action(connector: Connector) -> None:
    class Refused(Exception):
        pass

    def unit(tx: Tx) -> None:
        audit.record(tx, "dev", "kill_switch.on", at=NOW, reason="why")
        raise Refused

    with pytest.raises(Refused):
        await connector.write(unit)
    log = AuditLog(connector, lambda: NOW)
    assert (await log.page(parse_filter({}))).entries == []


async def test_pages_filters_and_cursor(connector: Connector) -> None:
    for n in range(7):
        await add(connector, "function.pause" if n % 2 else "function.resume", NOW + n * 1000)
    await add(connector, "kill_switch.on", NOW + 10_000, actor="session:ann")
    log = AuditLog(connector, lambda: NOW)

    everything = (await log.page(parse_filter({}))).entries
    assert [e["at"] for e in everything] == sorted((e["at"] for e in everything), reverse=True)
    assert everything[0]["actor"] == "session:ann"
    assert everything[0]["target"] == {"kind": "function", "id": "fn-1"}

    first = await log.page(parse_filter({"limit": "3"}))
    assert len(first.entries) == 3 and first.cursor == first.entries[-1]["id"]
    rest = await log.page(parse_filter({"limit": "10", "cursor": first.cursor}))
    assert rest.cursor is None
    assert [e["id"] for e in first.entries + rest.entries] == [e["id"] for e in everything]

    pauses = (await log.page(parse_filter({"action": "function.pause"}))).entries
    assert len(pauses) == 3 and {e["action"] for e in pauses} == {"function.pause"}
    mine = (await log.page(parse_filter({"actor": "session:ann"}))).entries
    assert [e["action"] for e in mine] == ["kill_switch.on"]
    on_fn0 = (await log.page(parse_filter({"target": "fn-0"}))).entries
    assert {e["target"]["id"] for e in on_fn0} == {"fn-0"} and on_fn0
    window = {"since": str(NOW + 2000), "until": str(NOW + 4000)}
    assert len((await log.page(parse_filter(window))).entries) == 3
    both = {"action": "function.resume", "target": "fn-0", "until": str(NOW + 7000)}
    assert [e["at"] for e in (await log.page(parse_filter(both))).entries] == [
        "2027-01-15T08:00:06.000Z",
        "2027-01-15T08:00:00.000Z",
    ]


async def test_record_now_names_the_current_actor(connector: Connector) -> None:
    ticks = iter(range(NOW, NOW + 10_000, 1000))  # one entry per second: a defined order
    log = AuditLog(connector, lambda: next(ticks))
    await log.record("settings.change", details={"retention": "30d"})
    with actors.acting_as(actors.token("ops")):
        await log.record("settings.change", reason="longer retention")
    entries = (await log.page(parse_filter({}))).entries
    assert [(e["actor"], e["reason"]) for e in entries] == [
        ("token:ops", "longer retention"),
        ("system", None),
    ]


async def test_retention_prunes_old_entries_in_batches(connector: Connector) -> None:
    for n in range(5):
        await add(connector, "run.cancel", NOW - 10 * DAY_MS + n)
    kept = await add(connector, "run.cancel", NOW - DAY_MS)
    config = RetentionConfig(max_age_ms=7 * DAY_MS, batch=2)
    pruned = await Retention(connector, config, lambda: NOW).prune_once()
    assert pruned.audit == 5
    entries = (await AuditLog(connector, lambda: NOW).page(parse_filter({}))).entries
    assert [e["id"] for e in entries] == [kept]
