"""Event ingestion: validation errors store nothing, arrays, bearer auth, id dedupe."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from .harness import JSONDict, Stack, assert_stays

MIB = 1024 * 1024


def unique(prefix: str) -> str:
    return f"{prefix}/{uuid.uuid4().hex[:12]}"


def stored_with_marker(stack: Stack, marker: str) -> list[JSONDict]:
    """Every stored event (any name) whose data carries `marker`."""
    return [
        e
        for e in stack.api.list_events(limit=10000)
        if isinstance(e.get("data"), dict) and e["data"].get("marker") == marker
    ]


def assert_rejected(
    resp: httpx.Response, *, status: int = 400, field: str | None = None, index: int | None = None
) -> JSONDict:
    assert resp.status_code == status, f"{resp.status_code}: {resp.text[:300]}"
    body: JSONDict = resp.json()
    assert body["status"] == status, body
    assert isinstance(body.get("error"), str) and body["error"], body
    assert body.get("ids", []) == [], body
    if field is not None:
        assert body.get("field") == field, body
    if index is not None:
        assert body.get("index") == index, body
    return body


# Each case: (events in the request, field at fault, index at fault). The valid event that
# comes first in each array must not be stored either.
ARRAY_CASES: dict[str, tuple[Any, str | None]] = {
    "missing-name": ({"data": {}}, "name"),
    "empty-name": ({"name": "", "data": {}}, "name"),
    "non-string-name": ({"name": 123, "data": {}}, "name"),
    "data-is-a-list": ({"name": "bad/data", "data": [1, 2]}, "data"),
    "reserved-name": ({"name": "inngest/function.finished", "data": {}}, "name"),
    "reserved-name-any-case": ({"name": "Inngest/Function.Failed", "data": {}}, "name"),
    "event-not-an-object": ("just a string", None),
}


@pytest.mark.parametrize("case", sorted(ARRAY_CASES))
def test_bad_event_in_array_rejects_whole_request(core: Stack, case: str) -> None:
    bad, field = ARRAY_CASES[case]
    marker = uuid.uuid4().hex
    valid_name = unique("valid")
    if isinstance(bad, dict) and isinstance(bad.get("data"), dict):
        bad = {**bad, "data": {"marker": marker}}
    events = [{"name": valid_name, "data": {"marker": marker}}, bad]

    resp = core.api.post_events_raw(json.dumps(events).encode())
    assert_rejected(resp, field=field, index=1)

    assert core.api.list_events(valid_name) == []
    assert stored_with_marker(core, marker) == []


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"data": {}}, "name"),
        ({"name": "", "data": {}}, "name"),
        ({"name": ["x"], "data": {}}, "name"),
        ({"name": "single/bad-data", "data": "text"}, "data"),
        ({"name": "inngest/function.finished", "data": {}}, "name"),
    ],
)
def test_bad_single_event(core: Stack, event: JSONDict, field: str) -> None:
    marker = uuid.uuid4().hex
    if isinstance(event["data"], dict):
        event = {**event, "data": {"marker": marker}}
    resp = core.api.post_events_raw(json.dumps(event).encode())
    body = assert_rejected(resp, field=field)
    assert body.get("index", 0) == 0, body
    assert stored_with_marker(core, marker) == []


def test_invalid_json(core: Stack) -> None:
    name = unique("badjson")
    resp = core.api.post_events_raw(f'{{"name": "{name}", "data": {{"a": '.encode())
    assert_rejected(resp)
    assert core.api.list_events(name) == []


def test_an_event_over_3_mib_is_413_naming_its_index(core: Stack) -> None:
    name = unique("big")
    small = {"name": name, "data": {}}
    event = {"name": name, "data": {"blob": "x" * (3 * MIB + 1024)}}
    resp = core.api.post_events_raw(json.dumps([small, event]).encode())
    assert_rejected(resp, status=413, field="body", index=1)
    assert core.api.list_events(name) == []


def test_the_3_mib_limit_is_per_event_not_per_request(core: Stack) -> None:
    """Inngest's limit is one event's size; inngest-py's `batch_that_needs_api` sends 8 events
    of 1 MiB in one request."""
    name = unique("batch")
    events = [{"name": name, "data": {"i": i, "blob": "x" * MIB}} for i in range(8)]
    resp = core.api.post_events_raw(json.dumps(events).encode())
    assert resp.status_code == 200, resp.text[:300]
    assert len(resp.json()["ids"]) == 8
    assert len(core.api.list_events(name)) == 8


def test_valid_array_of_two(core: Stack) -> None:
    name = unique("pair")
    ids = core.api.send_events(
        [{"name": name, "data": {"n": 1}}, {"name": name, "data": {"n": 2}, "id": "sender-2"}]
    )
    assert len(set(ids)) == 2
    first = core.api.data(f"/v1/events/{ids[0]}")
    second = core.api.data(f"/v1/events/{ids[1]}")
    assert (first["internal_id"], first["name"], first["data"]) == (ids[0], name, {"n": 1})
    assert (second["internal_id"], second["data"], second["id"]) == (ids[1], {"n": 2}, "sender-2")
    assert first["id"], "an event sent without id gets one"
    assert sorted(e["internal_id"] for e in core.api.list_events(name)) == sorted(ids)


def test_unknown_event_is_404(core: Stack) -> None:
    resp = core.api.http.get("/v1/events/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert resp.status_code == 404


def test_v1_events_with_bearer_key(core: Stack) -> None:
    name = unique("bearer")
    headers = {"Authorization": "Bearer some-event-key"}
    resp = core.api.http.post(
        "/v1/events", json=[{"name": name, "data": {"k": "v"}}], headers=headers
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["status"] == 200
    assert len(body["ids"]) == 1
    assert core.api.data(f"/v1/events/{body['ids'][0]}")["data"] == {"k": "v"}

    marker = uuid.uuid4().hex
    bad = core.api.http.post(
        "/v1/events",
        json=[{"name": unique("bearer"), "data": {"marker": marker}}, {"data": {}}],
        headers=headers,
    )
    assert_rejected(bad, field="name", index=1)
    assert stored_with_marker(core, marker) == []


def test_event_id_dedupe(core: Stack) -> None:
    api = core.api
    marker = uuid.uuid4().hex
    event = {"name": "core/dedupe", "id": f"dedupe-{marker}", "data": {"marker": marker}}

    first = api.send_events(event)
    second = api.send_events(event)
    assert first == second, "a resent event id must answer with the first event's internal id"

    run = api.run_for_event(first[0])
    done = api.wait_for_run_status(str(run["run_id"]), "Completed")
    assert done["output"] == marker

    def single_run() -> bool:
        runs = [r for r in api.list_runs("core-dedupe") if r["event_id"] == first[0]]
        calls = core.sidefx.select(kind="CALL", marker=marker)
        return len(runs) == 1 and len(calls) == 1

    assert_stays(single_run, duration=1.0, what="exactly one run for the deduplicated event")
