"""Live overrides of flow control (issue 19) through the official Python SDK: an operator's
concurrency, rate limit and priority win over the synced config until cleared, from the next
lease on, for queued work too; bad bodies are refused naming the field."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .harness import Stack, running_stack
from .overrides_helpers import (
    clear_overrides,
    finish,
    keyed_events,
    overlap_of,
    put_overrides,
)
from .test_flow import SLUGS


@pytest.fixture(scope="module")
def flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("overrides"), "flow_app", SLUGS) as stack:
        yield stack


def test_concurrency_override_caps_new_runs_then_clears(flow: Stack) -> None:
    shown = put_overrides(flow.api, "flow-conc", {"concurrency": 1, "requested_by": "ops"})
    assert shown["overrides"] == {"concurrency": 1}
    assert shown["synced"]["concurrency"][0]["limit"] == 5
    assert shown["updated_by"] == "ops"
    tag = uuid.uuid4().hex
    ids = flow.api.send_events(
        [{"name": "flow/conc", "data": {"tag": tag, "seq": n}} for n in range(8)]
    )
    assert overlap_of(flow.sidefx, finish(flow.api, ids)) == 1

    cleared = clear_overrides(flow.api, "flow-conc")
    assert cleared["overrides"] == {} and cleared["updated_at"] is None
    ids = flow.api.send_events([{"name": "flow/conc", "data": {"seq": n}} for n in range(10)])
    assert overlap_of(flow.sidefx, finish(flow.api, ids)) >= 2, "the synced limit 5 is back"


def test_raised_limit_reaches_runs_already_queued(flow: Stack) -> None:
    # Six runs of one key queue behind its limit of 1 (300 ms each); raising the limit lets the
    # queued ones run side by side at once, without a restart or a new sync.
    ids = flow.api.send_events(keyed_events(6))
    put_overrides(flow.api, "flow-keyed", {"concurrency": 3})
    try:
        overlap = overlap_of(flow.sidefx, finish(flow.api, ids))
        assert 2 <= overlap <= 3, overlap
    finally:
        clear_overrides(flow.api, "flow-keyed")
    ids = flow.api.send_events(keyed_events(3))
    assert overlap_of(flow.sidefx, finish(flow.api, ids)) == 1, "cleared: limit 1 per key again"


def test_rate_limit_override_and_clear(flow: Stack) -> None:
    put_overrides(flow.api, "flow-rate", {"rateLimit": {"limit": 1, "period": "1m"}})
    key = uuid.uuid4().hex
    ids = flow.api.send_events([{"name": "flow/rate", "data": {"k": key}} for _ in range(2)])
    ended = finish(flow.api, ids, {"Completed", "Skipped"})
    assert sorted(run["status"] for run in ended) == ["Completed", "Skipped"]

    clear_overrides(flow.api, "flow-rate")
    key = uuid.uuid4().hex
    ids = flow.api.send_events([{"name": "flow/rate", "data": {"k": key}} for _ in range(2)])
    assert [run["status"] for run in finish(flow.api, ids)] == ["Completed", "Completed"]

    # both changes are in the audit log, with what was there before (dev mode: actor "dev")
    entries = flow.api.http.get("/v1/audit", params={"target": "flow-rate"}).json()["data"]
    assert [e["action"] for e in entries[:2]] == [
        "function.override_clear",
        "function.override",
    ]
    cleared, set_ = entries[0], entries[1]
    assert set_["actor"] == "dev" and set_["details"]["before"] == {}
    assert set_["details"]["after"] == {"rateLimit": {"limit": 1, "period": "60s"}}
    assert cleared["details"]["before"] == set_["details"]["after"]


def test_function_listing_shows_synced_and_override(flow: Stack) -> None:
    put_overrides(flow.api, "flow-priority", {"priority": {"run": "120"}})
    try:
        listed = {fn["function_id"]: fn for fn in flow.api.data("/v1/functions")}
        assert set(SLUGS) <= set(listed)
        flow_config = listed["flow-priority"]["flow"]
        assert flow_config["synced"]["priority"] == {"run": "event.data.p"}
        assert flow_config["overrides"] == {"priority": {"run": "120"}}
        one = flow.api.data("/v1/functions/flow-priority")
        assert one["flow"] == flow_config and one["paused"] is False
    finally:
        clear_overrides(flow.api, "flow-priority")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": "5"}, "concurrency"),
        ({"throttle": {"limit": 1}}, "throttle.period"),
        ({"rateLimit": {"limit": 1, "period": "1m", "key": "event.data.k"}}, "rateLimit.key"),
        ({"priority": {"run": "event.data.("}}, "priority.run"),
        ({"debounce": {"period": "1s"}}, "debounce"),
        ([1], "body"),
    ],
)
def test_bad_override_is_refused_naming_the_field(flow: Stack, body: object, field: str) -> None:
    resp = flow.api.http.put("/v1/functions/flow-conc/overrides", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["field"] == field
    assert flow.api.data("/v1/functions/flow-conc/overrides")["overrides"] == {}


def test_override_of_unknown_function_is_404(flow: Stack) -> None:
    for method in ("GET", "PUT", "DELETE"):
        resp = flow.api.http.request(method, "/v1/functions/nope-nope/overrides", json={})
        assert resp.status_code == 404, (method, resp.text)
