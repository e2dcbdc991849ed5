"""The GraphQL subset at `/v0/gql` (the queries inngest-py's own test helper sends)."""

from __future__ import annotations

import json
from typing import Any

from .harness import JSONDict, Stack, wait_until

RUNS_OF_EVENT = """
query GetRunFromEventID($event_id: ID!) {
  event(query: {eventId: $event_id}) { functionRuns { id } }
}"""
RUN = """
query GetRun($run_id: String!) {
  run(runID: $run_id) { output status }
  runTrigger(runID: $run_id) { payloads }
}"""
SPANS = """
query GetHistory($run_id: String!) {
  run(runID: $run_id) { trace { childrenSpans { name outputID } } }
}"""
SPAN_OUTPUT = """
query GetHistory($output_id: String!) {
  runTraceSpanOutputByID(outputID: $output_id) { data error { message name stack } }
}"""


def gql(stack: Stack, query: str, **variables: Any) -> JSONDict:
    resp = stack.api.http.post("/v0/gql", json={"query": query, "variables": variables})
    assert resp.status_code == 200, resp.text[:500]
    body: JSONDict = resp.json()
    return body


def finished_run(stack: Stack, name: str, data: JSONDict, status: str) -> tuple[str, JSONDict]:
    event_id = stack.api.send_event(name, data)

    def run_ids() -> list[str] | None:
        body = gql(stack, RUNS_OF_EVENT, event_id=event_id)
        runs = (body.get("data") or {}).get("event", {}) or {}
        found = runs.get("functionRuns") or []
        return [r["id"] for r in found] or None

    [run_id] = wait_until(run_ids, timeout=20, what=f"a run for event {event_id}")

    def ended() -> JSONDict | None:
        body = gql(stack, RUN, run_id=run_id)
        assert "errors" not in body, body
        return body["data"] if body["data"]["run"]["status"] != "RUNNING" else None

    found = wait_until(ended, timeout=20, what=f"run {run_id} to end")
    assert found["run"]["status"] == status, found
    return run_id, found


def spans(stack: Stack, run_id: str) -> list[JSONDict]:
    body = gql(stack, SPANS, run_id=run_id)
    assert "errors" not in body, body
    children: list[JSONDict] = body["data"]["run"]["trace"]["childrenSpans"]
    return children


def span_output(stack: Stack, output_id: str) -> JSONDict:
    body = gql(stack, SPAN_OUTPUT, output_id=output_id)
    assert "errors" not in body, body
    found: JSONDict = body["data"]["runTraceSpanOutputByID"]
    return found


def test_completed_run_through_gql(core: Stack) -> None:
    run_id, found = finished_run(core, "core/chain", {"n": 1}, "COMPLETED")

    assert json.loads(found["run"]["output"]) == {"total": 25}
    [payload] = found["runTrigger"]["payloads"]
    trigger = json.loads(payload)
    assert trigger["name"] == "core/chain"
    assert trigger["data"] == {"n": 1}
    assert isinstance(trigger["id"], str) and isinstance(trigger["ts"], int)

    children = spans(core, run_id)
    assert [s["name"] for s in children] == ["one", "two", "three", "Finalization"]
    outputs = [span_output(core, s["outputID"]) for s in children]
    assert [json.loads(o["data"]) for o in outputs] == [2, 20, {"total": 25}, {"total": 25}]
    assert [o["error"] for o in outputs] == [None] * 4


def test_failed_step_through_gql(core: Stack) -> None:
    run_id, found = finished_run(core, "core/exhausted", {}, "FAILED")

    assert "doomed step always fails" in json.loads(found["run"]["output"])["message"]
    doomed, finalization = spans(core, run_id)
    assert (doomed["name"], finalization["name"]) == ("doomed", "Finalization")
    output = span_output(core, doomed["outputID"])
    assert output["data"] is None
    assert output["error"]["name"] == "ValueError"
    assert output["error"]["message"] == "doomed step always fails"


def test_unknown_ids_and_bad_bodies(core: Stack) -> None:
    body = gql(core, RUN, run_id="01NOSUCHRUN")
    assert body["errors"] and "run not found" in body["errors"][0]["message"]
    body = gql(core, RUNS_OF_EVENT, event_id="01NOSUCHEVENT")
    assert body["data"] == {"event": None} and body["errors"]
    body = gql(core, "{ nope }")
    assert body["errors"] and body.get("data") is None

    assert core.api.http.post("/v0/gql", content=b"{oops").status_code == 400
    resp = core.api.http.post("/v0/connect/start")
    assert resp.status_code == 200 and resp.json() == {}
