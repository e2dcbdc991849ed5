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
    resp = core.api.http.post("/v0/connect/start")  # inngest-py's readiness probe: any 200
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/protobuf"


# ---- Inngest's dev-server API beyond the SDK helpers: apps, functions, runs, events ----------

EPOCH = "2020-01-01T00:00:00Z"


def answer(stack: Stack, query: str, **variables: Any) -> JSONDict:
    """The `data` of a query that must succeed."""
    body = gql(stack, query, **variables)
    assert "errors" not in body, body
    data: JSONDict = body["data"]
    return data


def refused(stack: Stack, query: str, **variables: Any) -> JSONDict:
    """The first error of a query that must fail (HTTP 200, `data` null where it failed)."""
    body = gql(stack, query, **variables)
    assert body.get("errors"), body
    error: JSONDict = body["errors"][0]
    return error


FUNCTIONS = """{
  functions {
    id name slug url appID config concurrency
    triggers { type value condition }
    configuration { retries { value isDefault } concurrency { scope limit { value } } }
    app { id externalID }
    failureHandler { slug }
  }
}"""
APPS = """{
  apps {
    id externalID name sdkLanguage sdkVersion framework url checksum error connected
    functionCount autodiscovered method appVersion functions { slug }
  }
}"""
APP = "query ($id: UUID!) { app(id: $id) { name functionCount } }"
FUNCTION_BY_SLUG = """query ($slug: String!) {
  functionBySlug(query: {functionSlug: $slug}) { id slug name app { name } triggers { value } }
}"""


def test_apps_and_functions(core: Stack) -> None:
    [app] = answer(core, APPS)["apps"]
    assert (app["name"], app["externalID"], app["sdkLanguage"]) == ("core", "core", "python")
    assert app["sdkVersion"] and app["framework"] == "fast_api" and app["method"] == "SERVE"
    assert app["url"].endswith("/api/inngest") and app["connected"] and app["error"] is None
    assert app["functionCount"] == len(app["functions"]) > 10
    assert not app["autodiscovered"]  # given with -u
    assert answer(core, APP, id=app["id"])["app"] == {"name": "core", "functionCount": 13}

    functions = {f["slug"]: f for f in answer(core, FUNCTIONS)["functions"]}
    chain, flaky, fails = functions["core-chain"], functions["core-flaky"], functions["core-fails"]
    assert chain["triggers"] == [{"type": "EVENT", "value": "core/chain", "condition": None}]
    assert chain["app"] == {"id": app["id"], "externalID": "core"} and chain["appID"] == app["id"]
    assert json.loads(chain["config"])["id"] == "core-chain" and chain["concurrency"] == 0
    assert chain["url"].startswith("http") and chain["failureHandler"] is None
    assert chain["configuration"]["retries"] == {"value": 3, "isDefault": True}
    assert flaky["configuration"]["retries"] == {"value": 2, "isDefault": False}
    assert fails["failureHandler"] == {"slug": "core-fails-failure"}

    found = answer(core, FUNCTION_BY_SLUG, slug="core-chain")["functionBySlug"]
    assert found == {
        "id": chain["id"],
        "slug": "core-chain",
        "name": chain["name"],
        "app": {"name": "core"},
        "triggers": [{"value": "core/chain"}],
    }


RUN_V2 = """query ($id: String!) {
  run(runID: $id) {
    id appID app { name } functionID function { slug } traceID queuedAt startedAt endedAt
    status sourceID triggerIDs eventName isBatch batchCreatedAt cronSchedule output hasAI
    isDeferred defers { fnSlug }
  }
  runTrigger(runID: $id) { eventName IDs payloads timestamp isBatch batchID cron }
}"""
FUNCTION_RUN = """query ($id: ID!) {
  functionRun(query: {functionRunId: $id}) {
    id functionID function { slug } status output eventID event { name } finishedAt cron
  }
}"""
RUN_TRACE = """query ($id: String!) {
  runTrace(runID: $id) {
    name status isRoot appID functionID run { id }
    childrenSpans {
      name stepID stepOp parentSpan { isRoot }
      stepInfo { __typename ... on RunStepInfo { type } }
    }
  }
}"""


def test_a_run_in_inngest_s_shapes(core: Stack) -> None:
    run_id, _ = finished_run(core, "core/chain", {"n": 2}, "COMPLETED")
    data = answer(core, RUN_V2, id=run_id)
    run, trigger = data["run"], data["runTrigger"]
    [chain] = [f for f in answer(core, FUNCTIONS)["functions"] if f["slug"] == "core-chain"]
    assert (run["id"], run["traceID"], run["status"]) == (run_id, run_id, "COMPLETED")
    assert (run["functionID"], run["appID"]) == (chain["id"], chain["appID"])
    assert run["function"] == {"slug": "core-chain"} and run["app"] == {"name": "core"}
    assert json.loads(run["output"]) == {"total": 35}
    assert run["queuedAt"] <= run["startedAt"] <= run["endedAt"]
    assert (run["eventName"], run["isBatch"], run["cronSchedule"]) == ("core/chain", False, None)
    assert (run["hasAI"], run["isDeferred"], run["defers"], run["sourceID"]) == (
        False,
        False,
        [],
        None,
    )
    assert trigger["IDs"] == run["triggerIDs"] and len(trigger["IDs"]) == 1
    assert (trigger["eventName"], trigger["isBatch"], trigger["cron"]) == (
        "core/chain",
        False,
        None,
    )
    assert json.loads(trigger["payloads"][0])["data"] == {"n": 2} and trigger["timestamp"]

    old = answer(core, FUNCTION_RUN, id=run_id)["functionRun"]
    assert (old["id"], old["functionID"], old["function"]) == (
        run_id,
        chain["id"],
        {"slug": "core-chain"},
    )
    assert (old["status"], old["eventID"], old["event"]) == (
        "COMPLETED",
        trigger["IDs"][0],
        {"name": "core/chain"},
    )
    assert old["finishedAt"] == run["endedAt"] and old["cron"] is None

    trace = answer(core, RUN_TRACE, id=run_id)["runTrace"]
    assert (trace["name"], trace["status"], trace["isRoot"]) == (chain["name"], "COMPLETED", True)
    assert (trace["appID"], trace["functionID"], trace["run"]) == (
        chain["appID"],
        chain["id"],
        {"id": run_id},
    )
    one, *_rest, final = trace["childrenSpans"]
    assert (one["name"], one["stepOp"], one["parentSpan"]) == ("one", "RUN", {"isRoot": True})
    assert one["stepInfo"] == {"__typename": "RunStepInfo", "type": "step"} and one["stepID"]
    assert (final["name"], final["stepInfo"]) == ("Finalization", None)


RUNS = """query ($first: Int!, $after: String, $filter: RunsFilterV2!) {
  runs(first: $first, after: $after, orderBy: [{field: QUEUED_AT, direction: DESC}],
       filter: $filter) {
    edges { cursor node { id status eventName function { slug } } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}"""


def test_runs_page_through_cursors_with_a_filter(core: Stack) -> None:
    started = [finished_run(core, "core/loop", {}, "COMPLETED")[0] for _ in range(3)]
    [loop] = [f for f in answer(core, FUNCTIONS)["functions"] if f["slug"] == "core-loop"]
    flt = {"from": EPOCH, "functionIDs": [loop["id"]], "status": ["COMPLETED"]}

    seen: list[str] = []
    after = None
    while True:
        runs = answer(core, RUNS, first=2, after=after, filter=flt)["runs"]
        assert runs["totalCount"] == len(started)
        assert runs["pageInfo"]["hasPreviousPage"] is (after is not None)
        for edge in runs["edges"]:
            assert edge["cursor"] == edge["node"]["id"]
            assert edge["node"]["function"] == {"slug": "core-loop"}
            assert (edge["node"]["status"], edge["node"]["eventName"]) == ("COMPLETED", "core/loop")
        seen += [edge["node"]["id"] for edge in runs["edges"]]
        if not runs["pageInfo"]["hasNextPage"]:
            break
        after = runs["pageInfo"]["endCursor"]
    assert seen == started[::-1]  # newest first, each once

    by_query = {**flt, "functionIDs": None, "query": "event.name == 'core/loop'"}
    assert answer(core, RUNS, first=10, filter=by_query)["runs"]["totalCount"] == 3
    running = {**flt, "status": ["RUNNING"]}
    assert answer(core, RUNS, first=10, filter=running)["runs"]["edges"] == []
    future = {"from": "2999-01-01T00:00:00Z"}
    assert answer(core, RUNS, first=10, filter=future)["runs"]["totalCount"] == 0


STREAM = """query ($limit: Int!, $internal: Boolean) {
  stream(query: {limit: $limit, includeInternalEvents: $internal}) {
    id trigger type createdAt inBatch runs { id status function { slug } }
  }
}"""


def test_stream_limit_counts_only_the_events_it_shows(core: Stack) -> None:
    # Two chains whose runs end with internal `inngest/function.finished` events, then two
    # events that start nothing: the internal events lie between them in the stream.
    chains = [finished_run(core, "core/chain", {"n": n}, "COMPLETED")[0] for n in (3, 4)]
    quiet = [core.api.send_event("gql/quiet", {"i": i}) for i in range(2)]

    stream = answer(core, STREAM, limit=4, internal=False)["stream"]
    assert len(stream) == 4
    triggers = [item["trigger"] for item in stream]
    assert triggers == ["gql/quiet", "gql/quiet", "core/chain", "core/chain"]
    assert [item["id"] for item in stream[:2]] == quiet[::-1]
    assert [run["id"] for item in stream[2:] for run in item["runs"]] == chains[::-1]
    assert all(item["type"] == "EVENT" and not item["inBatch"] for item in stream)
    assert stream[2]["runs"][0]["function"] == {"slug": "core-chain"}

    everything = answer(core, STREAM, limit=4, internal=True)["stream"]
    assert any(item["trigger"].startswith("inngest/") for item in everything)
    assert len(everything) == 4

    older = answer(core, STREAM_AROUND, before=quiet[1], after=None)["stream"]
    assert [item["id"] for item in older] == [quiet[0]]
    newer = answer(core, STREAM_AROUND, before=None, after=quiet[0])["stream"]
    assert [item["id"] for item in newer] == [quiet[1]]


STREAM_AROUND = """query ($before: ID, $after: ID) {
  stream(query: {limit: 1, before: $before, after: $after}) { id }
}"""
EVENT_V2 = """query ($id: ULID!) {
  eventV2(id: $id) {
    id name idempotencyKey occurredAt receivedAt raw envID version
    runs { id status function { slug } }
  }
}"""
EVENTS_V2 = """query ($first: Int!, $after: String, $filter: EventsFilter!) {
  eventsV2(first: $first, after: $after, filter: $filter) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
    totalCount
  }
}"""
EVENT_V1 = """query ($id: ID!) {
  event(query: {eventId: $id}) {
    id externalID name createdAt status totalRuns pendingRuns raw functionRuns { id }
  }
}"""


def test_events_v2_by_id_and_paged(core: Stack) -> None:
    run_id, _ = finished_run(core, "core/chain", {"n": 5}, "COMPLETED")
    event_id = str(answer(core, FUNCTION_RUN, id=run_id)["functionRun"]["eventID"])
    event = answer(core, EVENT_V2, id=event_id)["eventV2"]
    assert (event["id"], event["name"]) == (event_id, "core/chain")
    assert json.loads(event["raw"])["data"] == {"n": 5} and event["idempotencyKey"]
    assert event["occurredAt"] and event["receivedAt"] and event["envID"]
    assert event["runs"] == [
        {"id": run_id, "status": "COMPLETED", "function": {"slug": "core-chain"}}
    ]
    old = answer(core, EVENT_V1, id=event_id)["event"]
    assert (old["status"], old["totalRuns"], old["pendingRuns"]) == ("COMPLETED", 1, 0)
    assert (
        old["functionRuns"] == [{"id": run_id}] and json.loads(old["raw"])["name"] == "core/chain"
    )

    sent = [core.api.send_event("gql/paged", {"i": i}) for i in range(3)]
    flt = {"from": EPOCH, "eventNames": ["gql/paged"]}
    first = answer(core, EVENTS_V2, first=2, filter=flt)["eventsV2"]
    assert [edge["node"]["id"] for edge in first["edges"]] == sent[:0:-1]
    assert first["pageInfo"]["hasNextPage"] and first["totalCount"] == 3
    after = first["pageInfo"]["endCursor"]
    rest = answer(core, EVENTS_V2, first=2, after=after, filter=flt)["eventsV2"]
    assert [edge["node"]["id"] for edge in rest["edges"]] == sent[:1]
    assert not rest["pageInfo"]["hasNextPage"] and rest["pageInfo"]["hasPreviousPage"]

    cel = {"from": EPOCH, "query": "event.name == 'gql/paged' && event.data.i == 1"}
    found = answer(core, EVENTS_V2, first=10, filter=cel)["eventsV2"]
    assert [edge["node"]["id"] for edge in found["edges"]] == [sent[1]]
    internal = {"from": EPOCH, "eventNames": ["inngest/function.finished"]}
    assert answer(core, EVENTS_V2, first=5, filter=internal)["eventsV2"]["edges"] == []
    internal["includeInternalEvents"] = True
    assert answer(core, EVENTS_V2, first=5, filter=internal)["eventsV2"]["edges"]


CANCEL = "mutation ($id: ULID!) { cancelRun(runID: $id) { id status } }"
RERUN = "mutation ($id: ULID!, $from: RerunFromStepInput) { rerun(runID: $id, fromStep: $from) }"
INVOKE = """mutation ($slug: String!, $data: Map) {
  invokeFunction(functionSlug: $slug, data: $data)
}"""
LOOP_RUNS = """query ($filter: RunsFilterV2!) {
  runs(first: 50, orderBy: [], filter: $filter) { edges { node { id status output } } }
}"""


def _wait_for_run(stack: Stack, slug: str, total: int) -> str:
    """The completed run of `slug` whose output is `{"total": total}`."""
    [function] = [f for f in answer(stack, FUNCTIONS)["functions"] if f["slug"] == slug]
    flt = {"from": EPOCH, "functionIDs": [function["id"]], "status": ["COMPLETED"]}

    def probe() -> str | None:
        for edge in answer(stack, LOOP_RUNS, filter=flt)["runs"]["edges"]:
            if json.loads(edge["node"]["output"]) == {"total": total}:
                return str(edge["node"]["id"])
        return None

    found: str = wait_until(probe, timeout=20, what=f"a run of {slug} with total {total}")
    return found


def test_cancel_rerun_and_invoke(core: Stack) -> None:
    event_id = core.api.send_event("core/sleeper", {})
    sleeping = core.api.run_for_event(event_id)["run_id"]
    cancelled = answer(core, CANCEL, id=sleeping)["cancelRun"]
    assert cancelled == {"id": sleeping, "status": "CANCELLED"}

    assert answer(core, INVOKE, slug="core-chain", data={"n": 40})["invokeFunction"] is True
    invoked = _wait_for_run(core, "core-chain", 415)
    assert answer(core, RUN_V2, id=invoked)["run"]["eventName"] == "inngest/function.invoked"

    again = answer(core, RERUN, id=invoked)["rerun"]
    assert core.api.wait_for_run_status(again)["output"] == {"total": 415}
    two = next(s for s in spans(core, invoked) if s["name"] == "two")
    step_id = answer(core, RUN_TRACE, id=invoked)["runTrace"]["childrenSpans"][1]["stepID"]
    assert two["outputID"].endswith(step_id)
    from_two = answer(core, RERUN, id=invoked, **{"from": {"stepID": step_id}})["rerun"]
    assert core.api.wait_for_run_status(from_two)["output"] == {"total": 415}
    ran = {e["step"] for e in core.sidefx.select(kind="START", run_id=from_two)}
    assert ran == {"two", "three"}  # `one` was kept from the original


BAD = [
    ('{ run(runID: "nope") { id } }', "runID", "run not found"),
    ('{ runTrace(runID: "01NOSUCHRUN") { name } }', "runID", "run not found"),
    ('{ runTrigger(runID: "01JZZZZZZZZZZZZZZZZZZZZZZZ") { IDs } }', "runID", "run not found"),
    ('{ functionRun(query: {functionRunId: "x"}) { id } }', "query.functionRunId", "run"),
    ('{ eventV2(id: "not-a-ulid") { id } }', "id", "is not a ULID"),
    ('{ eventV2(id: "01JZZZZZZZZZZZZZZZZZZZZZZZ") { id } }', "id", "event not found"),
    ('{ app(id: "nope") { id } }', "id", "is not a UUID"),
    ('{ app(id: "00000000-0000-4000-8000-000000000000") { id } }', "id", "app not found"),
    ('{ functionBySlug(query: {functionSlug: "no-such"}) { id } }', "query.functionSlug", ""),
    ('{ runTraceSpanOutputByID(outputID: "nope:x") { data } }', "outputID", "run not found"),
    (
        '{ runs(orderBy: [], after: "x", filter: {from: "2020-01-01T00:00:00Z"}) { totalCount } }',
        "after",
        "is not a ULID",
    ),
    (
        '{ runs(orderBy: [], filter: {from: "2020-01-01T00:00:00Z", functionIDs: ["f"]}) '
        "{ totalCount } }",
        "filter.functionIDs",
        "is not a UUID",
    ),
    (
        '{ runs(orderBy: [], filter: {from: "2020-01-01T00:00:00Z", query: "event.(("}) '
        "{ totalCount } }",
        "filter.query",
        "",
    ),
    (
        '{ eventsV2(after: "x", filter: {from: "2020-01-01T00:00:00Z"}) { totalCount } }',
        "after",
        "cursor",
    ),
    ('mutation { cancelRun(runID: "nope") { id } }', "runID", "is not a ULID"),
    ('mutation { cancelRun(runID: "01JZZZZZZZZZZZZZZZZZZZZZZZ") { id } }', "runID", "not found"),
    ('mutation { rerun(runID: "01JZZZZZZZZZZZZZZZZZZZZZZZ") }', "runID", "run not found"),
    ('mutation { invokeFunction(functionSlug: "no-such") }', "functionSlug", "not found"),
    ('mutation { invokeFunction(functionSlug: "core-chain", data: [1]) }', "data", "object"),
    ('mutation { deleteApp(id: "nope") }', "id", "is not a UUID"),
    ('mutation { createApp(input: {url: "ftp://x"}) { id } }', "input.url", "http"),
]


def test_bad_and_unknown_ids_name_the_argument(core: Stack) -> None:
    for query, argument, words in BAD:
        error = refused(core, query)
        assert error["extensions"]["argument"] == argument, (query, error)
        assert argument in error["message"] and words in error["message"], (query, error)
    run_id, _ = finished_run(core, "core/chain", {"n": 6}, "COMPLETED")
    error = refused(core, RERUN, id=run_id, **{"from": {"stepID": "no-such-step"}})
    assert error["extensions"]["argument"] == "fromStep.stepID"
    error = refused(core, RUNS, first=1, filter={"from": "yesterday"})
    assert "filter" in error["message"] and "RFC 3339" in error["message"]
    assert gql(core, DELETE_BY_NAME, name="no-such-app")["data"] == {"deleteAppByName": False}


CREATE_APP = "mutation ($url: String!) { createApp(input: {url: $url}) { id name functionCount } }"
DELETE_APP = "mutation ($id: String!) { deleteApp(id: $id) }"
DELETE_BY_NAME = "mutation ($name: String!) { deleteAppByName(name: $name) }"


def test_delete_an_app_and_sync_it_again(core: Stack) -> None:
    """Last in the module: the app is gone for a moment."""
    [app] = answer(core, APPS)["apps"]
    assert answer(core, DELETE_APP, id=app["id"]) == {"deleteApp": app["id"]}
    assert answer(core, APPS)["apps"] == [] and answer(core, FUNCTIONS)["functions"] == []
    assert "core-chain" not in core.api.function_slugs()
    error = refused(core, INVOKE, slug="core-chain")
    assert error["extensions"]["argument"] == "functionSlug"
    assert refused(core, DELETE_APP, id=app["id"])["extensions"]["code"] == "NOT_FOUND"

    created = answer(core, CREATE_APP, url=core.app.url)["createApp"]
    assert created == {"id": app["id"], "name": "core", "functionCount": app["functionCount"]}
    assert answer(core, DELETE_BY_NAME, name="core") == {"deleteAppByName": True}
    assert answer(core, APPS)["apps"] == []
    assert answer(core, CREATE_APP, url=core.app.url)["createApp"]["name"] == "core"
    core.api.wait_for_sync(["core-chain"])
    finished_run(core, "core/chain", {"n": 7}, "COMPLETED")


def _nested(levels: int) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"childrenSpans {{ {inner} }}"
    return f'{{ run(runID: "01NOSUCHRUN") {{ trace {{ {inner} }} }} }}'


def _fragment_bomb(levels: int) -> str:
    """Each fragment spreads the next twice through aliases: 2^levels fields when expanded."""
    fragments = [
        f"fragment F{n} on RunTraceSpan {{ a: childrenSpans {{ ...F{n + 1} }} "
        f"b: childrenSpans {{ ...F{n + 1} }} }}"
        for n in range(levels)
    ]
    fragments.append(f"fragment F{levels} on RunTraceSpan {{ name }}")
    query = '{ run(runID: "01NOSUCHRUN") { trace { ...F0 } } }'
    return query + "\n" + "\n".join(fragments)


def test_documents_that_ask_too_much_are_refused_before_they_run(core: Stack) -> None:
    assert refused(core, _nested(25))["extensions"]["code"] == "QUERY_TOO_DEEP"
    # 2^11 fields within the depth limit: refused by the field count, not run
    error = refused(core, _fragment_bomb(11))
    assert error["extensions"]["code"] == "QUERY_TOO_LARGE"
    aliases = " ".join(f"a{n}: apps {{ id name }}" for n in range(1000))
    assert refused(core, f"{{ {aliases} }}")["extensions"]["code"] == "QUERY_TOO_LARGE"
    tokens = "{ " + " ".join("__typename" for _ in range(12_000)) + " }"
    assert "tokens" in refused(core, tokens)["message"]
    # what the harnesses ask passes: a deep-ish trace query answers (the run is unknown)
    body = gql(core, _nested(8))
    assert body["errors"][0]["message"] != "" and "QUERY_TOO" not in json.dumps(body)
