"""Listing and inspecting runs over REST: filters, cursor pages, CEL `query`, v2 routes, trace
and jobs, with the official Python SDK (issue 7, item 2)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from .harness import JSONDict, Stack, running_stack, start_run, wait_until

SLUGS = ("ops-steps", "ops-quick", "ops-fails")
UNKNOWN_RUN_ID = "01KAAAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("runq"), "ops_app", SLUGS) as running:
        yield running


def page(stack: Stack, path: str = "/v1/runs", **params: object) -> JSONDict:
    resp = stack.api.http.get(path, params={k: str(v) for k, v in params.items()})
    assert resp.status_code == 200, resp.text
    body: JSONDict = resp.json()
    return body


def test_filters_cursor_and_query(stack: Stack) -> None:
    api = stack.api
    tag = uuid.uuid4().hex
    quick = [start_run(api, "ops/quick", {"n": n, "tag": tag}) for n in range(5)]
    failed = start_run(api, "ops/fails", {"tag": tag})
    for run_id in quick:
        api.wait_for_run_status(run_id, "Completed")
    api.wait_for_run_status(failed, "Failed")

    tagged = f'event.data.tag == "{tag}"'
    everything = page(stack, query=tagged)["data"]
    assert [r["run_id"] for r in everything] == [failed, *reversed(quick)]  # newest first
    assert everything[1]["event_name"] == "ops/quick" and everything[1]["duration_ms"] >= 0

    only_failed = page(stack, status="Failed", query=tagged)["data"]
    assert [r["run_id"] for r in only_failed] == [failed]
    by_function = page(stack, function_id="ops-quick", query=f"{tagged} && event.data.n >= 3")
    assert [r["run_id"] for r in by_function["data"]] == [quick[4], quick[3]]
    by_app = page(stack, app_id="ops", status="Completed,Failed", query=tagged)["data"]
    assert len(by_app) == 6
    assert page(stack, app_id="nobody")["data"] == []

    # Cursor pages: two at a time, no overlap, nothing missing.
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"function_id": "ops-quick", "limit": 2, "query": tagged}
        if cursor:
            params["cursor"] = cursor
        body = page(stack, "/v2/runs", **params)
        seen += [r["run_id"] for r in body["data"]]
        cursor = body["metadata"]["cursor"]
        if not cursor:
            break
    assert seen == list(reversed(quick))

    # A time window that ends before the runs were created selects none of them.
    first = api.get_run(quick[0])
    assert first is not None
    window = page(stack, started_before="2020-01-01T00:00:00Z", query=tagged)
    assert window["data"] == []
    after = page(stack, started_after=first["created_at"], function_id="ops-quick", query=tagged)
    assert len(after["data"]) == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "Sleeping"}, "status"),
        ({"limit": "-1"}, "limit"),
        ({"started_after": "soon"}, "started_after"),
        ({"started_before": "later"}, "started_before"),
        ({"cursor": "xyz"}, "cursor"),
        ({"query": "event.data. =="}, "query"),
    ],
)
def test_bad_filters_answer_400_naming_the_parameter(
    stack: Stack, params: dict[str, str], field: str
) -> None:
    for path in ("/v1/runs", "/v2/runs"):
        resp = stack.api.http.get(path, params=params)
        assert resp.status_code == 400, resp.text
        assert resp.json()["field"] == field


def test_trace_and_jobs(stack: Stack) -> None:
    api = stack.api
    run_id = start_run(api, "ops/steps", {"slow": 0})
    api.wait_for_run_status(run_id, "Completed")
    trace = api.data(f"/v2/runs/{run_id}/trace")
    assert trace["run"]["status"] == "Completed"
    assert trace["trigger"]["events"][0]["name"] == "ops/steps"
    spans = trace["spans"]
    assert [s["name"] for s in spans] == ["one", "two", "three"]
    assert [s["output"] for s in spans] == [1, 2, 3]
    assert all(s["status"] == "Completed" and s["attempts"] >= 1 for s in spans)
    assert api.data(f"/v2/runs/{run_id}")["original_run_id"] is None
    assert api.data(f"/v1/runs/{run_id}/jobs") == []
    for path in ("/v2/runs/{}", "/v2/runs/{}/trace", "/v1/runs/{}/jobs"):
        assert api.http.get(path.format(UNKNOWN_RUN_ID)).status_code == 404


def test_jobs_of_a_held_run_and_rerun_origin(stack: Stack) -> None:
    api = stack.api
    resp = api.http.post("/v1/functions/ops-quick/pause")
    assert resp.status_code == 200
    try:
        run_id = start_run(api, "ops/quick", {"n": 1})

        def held() -> bool:
            jobs = api.data(f"/v1/runs/{run_id}/jobs")
            return bool(jobs) and jobs[0]["held"] is True

        wait_until(lambda: held() or None, timeout=20, what="the run's call item parked")
        assert api.data(f"/v1/runs/{run_id}")["held"] is True
    finally:
        api.http.post("/v1/functions/ops-quick/resume")
    assert api.wait_for_run_status(run_id, "Completed")["held"] is False
    rerun = api.http.post(f"/v2/runs/{run_id}/rerun").json()["data"]["run_id"]
    assert api.data(f"/v2/runs/{rerun}")["original_run_id"] == run_id


def test_events_cursor_and_window(stack: Stack) -> None:
    api = stack.api
    name = f"ops/none-{uuid.uuid4().hex[:8]}"  # no function listens: events only
    ids = [api.send_event(name, {"i": i}) for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, object] = {"name": name, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = page(stack, "/v1/events", **params)
        seen += [e["internal_id"] for e in body["data"]]
        cursor = body["metadata"]["cursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))
    newest = api.data(f"/v1/events/{ids[-1]}")
    before = page(stack, "/v1/events", name=name, received_before=newest["received_at"])
    assert ids[-1] not in [e["internal_id"] for e in before["data"]]
    assert page(stack, "/v1/events", name=name, received_after="2999-01-01T00:00:00Z")["data"] == []
    for params, field in (
        ({"cursor": "nope"}, "cursor"),
        ({"limit": "0"}, "limit"),
        ({"received_after": "x"}, "received_after"),
    ):
        resp = api.http.get("/v1/events", params=params)
        assert resp.status_code == 400 and resp.json()["field"] == field, params
