"""Run metadata, userland traces and defers from the official TypeScript SDK (npm `inngest`
4.24.0), end to end: the app's second client (`app/observability.js`, served at
/api/inngest-obs, with the SDK's metadata and extended-traces middlewares), in both checkpointing
modes, against a real server. What the SDK sends is read back through REST, GraphQL and the
dashboard's run page; bad bodies get 4xx JSON naming the field.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from integration.harness import JSONDict, assert_stays, wait_until

from .ts_harness import OBS_FUNCTION_IDS, OBS_SERVE_PATH, TsStack, running_ts_stack

DEFERRED = "inngest/deferred.schedule"


@pytest.fixture(scope="module", params=[True, False], ids=["checkpointing", "classic"])
def obs(
    request: pytest.FixtureRequest, node_app: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TsStack]:
    checkpointing = bool(request.param)
    workdir = tmp_path_factory.mktemp("obs-cp" if checkpointing else "obs-classic")
    with running_ts_stack(
        workdir,
        checkpointing=checkpointing,
        serve_path=OBS_SERVE_PATH,
        app_name="ts-obs",
        function_ids=OBS_FUNCTION_IDS,
    ) as stack:
        yield stack


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def run_to_end(obs: TsStack, name: str, data: JSONDict, status: str = "Completed") -> JSONDict:
    event_id = obs.api.send_event(name, data)
    run_id = str(obs.api.run_for_event(event_id)["run_id"])
    try:
        return obs.api.wait_for_run_status(run_id, status)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{obs.logs()}") from None


def by_kind(entries: list[JSONDict]) -> dict[str, JSONDict]:
    return {str(entry["kind"]): entry for entry in entries}


def gql(obs: TsStack, query: str, **variables: Any) -> JSONDict:
    resp = obs.api.http.post("/v0/gql", json={"query": query, "variables": variables})
    assert resp.status_code == 200, resp.text
    body: JSONDict = resp.json()
    assert not body.get("errors"), body
    data: JSONDict = body["data"]
    return data


# ---------------------------------------------------------------------------------------------
# Run metadata
# ---------------------------------------------------------------------------------------------


def test_metadata_from_steps_and_rest_shows_in_the_run_trace_and_graphql(obs: TsStack) -> None:
    run = run_to_end(obs, "ts/metadata", {})
    run_id, tagged = str(run["run_id"]), sha1("tagged")
    entries = run["metadata"]
    step_kinds = by_kind([e for e in entries if e["step_id"] == tagged])
    run_kinds = by_kind([e for e in entries if e["step_id"] is None])
    # On the op of step "tagged" (opcode or checkpoint), and through REST targeting that step.
    assert step_kinds["userland.default"]["values"] == {"stage": "tagged", "n": 1}
    assert step_kinds["userland.default"]["scope"] == "step"
    assert step_kinds["userland.second"]["values"] == {"stage": "tagged-again"}
    assert step_kinds["userland.rest"]["values"] == {"via": "rest"}
    # `step.metadata(id).set()` is the run's; so is `inngest.metadata.set()` outside a step.
    assert run_kinds["userland.progress"]["values"] == {"percent": 50}
    assert run_kinds["userland.outside"]["values"] == {"source": "outside-a-step"}
    assert {e["scope"] for e in run_kinds.values()} == {"run"}

    trace = obs.api.data(f"/v2/runs/{run_id}/trace")
    span = next(s for s in trace["spans"] if s["step_id"] == tagged)
    assert set(by_kind(span["metadata"])) == {
        "userland.default",
        "userland.second",
        "userland.rest",
    }

    query = """query($id: String!) { run(runID: $id) { trace {
        metadata { scope kind values updatedAt }
        childrenSpans { stepID metadata { scope kind values } } } } }"""
    root = gql(obs, query, id=run_id)["run"]["trace"]
    assert by_kind(root["metadata"])["userland.progress"]["values"] == {"percent": 50}
    assert all(m["scope"] == "run" and m["updatedAt"] for m in root["metadata"])
    child = next(c for c in root["childrenSpans"] if c["stepID"] == tagged)
    assert by_kind(child["metadata"])["userland.rest"] == {
        "scope": "step",
        "kind": "userland.rest",
        "values": {"via": "rest"},
    }
    page = obs.api.http.get(f"/runs/{run_id}").text
    assert 'id="run-metadata"' in page and 'data-kind="userland.outside"' in page
    assert 'data-kind="userland.rest"' in page  # in step "tagged" of the timeline


def post_metadata(obs: TsStack, run_id: str, body: Any) -> httpx.Response:
    return obs.api.http.post(f"/v1/runs/{run_id}/metadata", json=body)


def update(kind: str = "userland.x", **fields: Any) -> JSONDict:
    return {"kind": kind, "values": {}, **fields}


BAD_METADATA = [
    ({"target": {}, "metadata": "nope"}, "metadata"),
    ({"metadata": [update()]}, "target"),
    ({"target": {}, "metadata": [update("inngest.secret")]}, "metadata[0].kind"),
    ({"target": {}, "metadata": [update(op="boom")]}, "metadata[0].op"),
    ({"target": {}, "metadata": [update(values=[1])]}, "metadata[0].values"),
    ({"target": {"span_id": "ab"}, "metadata": [update()]}, "target.step_id"),
    ({"target": {"step_id": 7}, "metadata": [update()]}, "target.step_id"),
]


@pytest.mark.parametrize(("body", "field"), BAD_METADATA, ids=[f for _, f in BAD_METADATA])
def test_bad_metadata_bodies_get_400_naming_the_field(
    obs: TsStack, body: JSONDict, field: str
) -> None:
    resp = post_metadata(obs, "01J0000000000000000000NONE", body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["field"] == field, resp.json()


def test_metadata_caps_and_unknown_runs(obs: TsStack) -> None:
    run_id = str(run_to_end(obs, "ts/metadata", {})["run_id"])
    resp = obs.api.http.post(f"/v1/runs/{run_id}/metadata", content=b"{not json")
    assert (resp.status_code, resp.json()["field"]) == (400, "body")
    one = update(values={"blob": "x" * (64 * 1024)})  # past 64 KiB alone
    resp = post_metadata(obs, run_id, {"target": {}, "metadata": [one]})
    assert (resp.status_code, resp.json()["field"]) == (413, "metadata[0].values")
    # 17 updates of 62 KiB pass the run's 1 MiB at the 17th: none of them is stored.
    chunk = update("userland.bulk", values={"blob": "y" * (62 * 1024)})
    resp = post_metadata(obs, run_id, {"target": {}, "metadata": [chunk] * 17})
    assert (resp.status_code, resp.json()["field"]) == (413, "metadata[16].values"), resp.text
    kinds = {entry["kind"] for entry in obs.api.get_run(run_id)["metadata"]}  # type: ignore[index]
    assert "userland.bulk" not in kinds
    resp = post_metadata(obs, run_id, {"target": {}, "metadata": [update("userland.late")]})
    assert resp.status_code == 200, resp.text
    resp = post_metadata(obs, "01J0000000000000000000NONE", {"target": {}, "metadata": [update()]})
    assert resp.status_code == 404, resp.text


# ---------------------------------------------------------------------------------------------
# Userland traces
# ---------------------------------------------------------------------------------------------


def names(spans: list[JSONDict]) -> list[str]:
    return [str(span["name"]) for span in spans]


def test_userland_spans_nest_under_the_step_that_made_them(obs: TsStack) -> None:
    run_id = str(run_to_end(obs, "ts/traced", {})["run_id"])

    def traced() -> JSONDict | None:
        trace: JSONDict = obs.api.data(f"/v2/runs/{run_id}/trace")
        spans = {span["name"]: span for span in trace["spans"]}
        ready = spans.get("compute", {}).get("userland") and spans.get("after", {}).get("userland")
        return trace if ready else None

    trace = wait_until(traced, timeout=10, what="userland spans in the trace", on_timeout=obs.logs)
    steps = {span["name"]: span for span in trace["spans"]}
    (outer,) = steps["compute"]["userland"]
    assert outer["name"] == "compute.outer"
    assert outer["attributes"] == {"app.items": 3}  # the SDK's own attributes are taken out
    assert outer["step_id"] == sha1("compute") and outer["attempt"] == 0
    assert names(outer["children"]) == ["compute.inner"]
    assert outer["children"][0]["attributes"] == {"app.kind": "inner"}
    assert names(steps["after"]["userland"]) == ["after.work"]
    assert "inngest.execution" not in names(trace["userland"])  # the SDK's wrapper: not stored
    page = obs.api.http.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert 'data-span-name="compute.inner"' in page.text


def otlp_request(run_id: str, *, spans: int = 1, blob: int = 0) -> bytes:
    attrs = [KeyValue(key="sdk.run.id", value=AnyValue(string_value=run_id))]
    if blob:
        attrs.append(KeyValue(key="blob", value=AnyValue(string_value="z" * blob)))
    made = [
        Span(
            trace_id=bytes(16),
            span_id=uuid.uuid4().bytes[:8],
            name=f"manual-{n}",
            start_time_unix_nano=1_700_000_000_000_000_000,
            end_time_unix_nano=1_700_000_000_500_000_000,
            attributes=attrs,
        )
        for n in range(spans)
    ]
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=made)])]
    )
    return request.SerializeToString()


def post_traces(obs: TsStack, body: bytes, content_type: str) -> httpx.Response:
    return obs.api.http.post(
        "/v1/traces/userland", content=body, headers={"Content-Type": content_type}
    )


def test_userland_traces_caps_and_bad_bodies(obs: TsStack) -> None:
    run_id = str(run_to_end(obs, "ts/traced", {})["run_id"])
    protobuf = "application/x-protobuf"
    resp = post_traces(obs, b"\xff\xff\xff", protobuf)
    assert (resp.status_code, resp.json()["field"]) == (400, "body"), resp.text
    resp = post_traces(obs, b"[1, 2]", "application/json")
    assert (resp.status_code, resp.json()["field"]) == (400, "body"), resp.text
    resp = post_traces(obs, b"0" * (8 * 1024 * 1024 + 1), protobuf)
    assert (resp.status_code, resp.json()["field"]) == (413, "body"), resp.text
    # A run holds at most 4 MiB of spans: 5 spans of 1 MiB are refused whole.
    resp = post_traces(obs, otlp_request(run_id, spans=5, blob=1024 * 1024), protobuf)
    assert (resp.status_code, resp.json()["field"]) == (413, "resourceSpans"), resp.text
    resp = post_traces(obs, otlp_request(run_id, spans=2), protobuf)
    assert resp.status_code == 200 and resp.json() == {}, resp.text
    trace = obs.api.data(f"/v2/runs/{run_id}/trace")
    assert sorted(names(trace["userland"])) == ["manual-0", "manual-1"]
    resp = post_traces(obs, otlp_request("01J0000000000000000000NONE"), protobuf)
    assert resp.status_code == 200
    assert resp.json()["partialSuccess"]["rejectedSpans"] == 1


# ---------------------------------------------------------------------------------------------
# Defers
# ---------------------------------------------------------------------------------------------


def deferred_events(obs: TsStack, run_id: str) -> list[JSONDict]:
    return [
        event
        for event in obs.api.list_events(DEFERRED)
        if event["data"]["_inngest"]["parent_run_id"] == run_id
    ]


def deferred_runs(obs: TsStack, note: str) -> list[JSONDict]:
    return obs.sidefx.select(kind="DEFERRED", note=note)


def wait_deferred_run(obs: TsStack, note: str) -> JSONDict:
    found = wait_until(
        lambda: deferred_runs(obs, note) or None,
        timeout=15,
        what=f"the deferred run of {note}",
        on_timeout=obs.logs,
    )
    return found[0]


def test_a_defer_emits_its_event_once_and_an_aborted_one_none(obs: TsStack) -> None:
    note = uuid.uuid4().hex
    run = run_to_end(obs, "ts/defers", {"note": note})
    run_id = str(run["run_id"])
    (event,) = deferred_events(obs, run_id)  # stored by the transaction that ended the run
    assert event["data"]["which"] == "keep" and event["data"]["note"] == note
    linkage = event["data"]["_inngest"]
    assert linkage["fn_slug"] == obs.slug("deferred-note")
    assert linkage["parent_fn_slug"] == obs.slug("defers")
    record = wait_deferred_run(obs, note)
    assert record["which"] == "keep" and record["parent_run_id"] == run_id
    assert_stays(lambda: len(deferred_runs(obs, note)) == 1, duration=0.5, what="one deferred run")
    defers = {d["id"]: d for d in obs.api.get_run(run_id)["defers"]}  # type: ignore[index]
    assert defers["keep"]["status"] == "scheduled"
    assert defers["keep"]["event_id"] == event["internal_id"]
    assert defers["drop"]["status"] == "aborted" and defers["drop"]["event_id"] is None
    kinds = [h["kind"] for h in obs.api.data(f"/v1/runs/{run_id}/history")]
    assert kinds.count("defer.scheduled") == 1 and kinds.count("defer.aborted") == 1
    page = obs.api.http.get(f"/runs/{run_id}").text
    assert 'data-defer-id="keep" data-status="scheduled"' in page
    assert 'data-defer-id="drop" data-status="aborted"' in page


@pytest.mark.parametrize("how", ["after-steps", "at-once"])
def test_a_failed_run_still_sends_its_defer(obs: TsStack, how: str) -> None:
    note = uuid.uuid4().hex
    data = {"note": note, "fail": how == "after-steps", "failAtOnce": how == "at-once"}
    run = run_to_end(obs, "ts/defers", data, status="Failed")
    (event,) = deferred_events(obs, str(run["run_id"]))
    assert event["data"]["which"] == "keep"
    assert wait_deferred_run(obs, note)["which"] == "keep"
