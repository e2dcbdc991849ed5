"""Helpers shared by the live-override tests (one and several processes)."""

from __future__ import annotations

import uuid
from typing import Any

from .harness import Api, JSONDict, SideEffects, wait_until
from .test_flow import max_overlap


def put_overrides(api: Api, slug: str, body: Any) -> JSONDict:
    resp = api.http.put(f"/v1/functions/{slug}/overrides", json=body)
    assert resp.status_code == 200, f"PUT overrides -> {resp.status_code}: {resp.text[:500]}"
    data: JSONDict = resp.json()["data"]
    return data


def clear_overrides(api: Api, slug: str) -> JSONDict:
    resp = api.http.delete(f"/v1/functions/{slug}/overrides")
    assert resp.status_code == 200, f"DELETE overrides -> {resp.status_code}: {resp.text[:500]}"
    data: JSONDict = resp.json()["data"]
    return data


def finish(api: Api, event_ids: list[str], statuses: set[str] | None = None) -> list[JSONDict]:
    """The runs of `event_ids`, each waited for until it ended."""
    wanted = statuses or {"Completed"}
    runs = [api.run_for_event(event_id, timeout=30) for event_id in event_ids]
    return [api.wait_for_run_status(run["run_id"], wanted, timeout=60) for run in runs]


def overlap_of(sidefx: SideEffects, runs: list[JSONDict]) -> int:
    ids = {run["run_id"] for run in runs}
    return max_overlap([e for e in sidefx.read() if e.get("run_id") in ids])


def keyed_events(count: int) -> list[JSONDict]:
    """`count` events of one fresh key for `flow-keyed` (limit 1 per key, 300 ms bodies)."""
    key = uuid.uuid4().hex
    return [{"name": "flow/keyed", "data": {"k": key, "seq": n}} for n in range(count)]


def wait_for_override(api: Api, slug: str, expected: JSONDict, timeout: float) -> None:
    def probe() -> bool | None:
        shown = api.data(f"/v1/functions/{slug}/overrides")["overrides"]
        return True if shown == expected else None

    wait_until(probe, timeout=timeout, what=f"{slug} to show overrides {expected}")
