"""The dev server's API as the official tooling reads it, through the real TypeScript SDK app.

`GET /dev` against the shape the TypeScript SDK's example suite checks, and `POST /v0/gql` with
the queries of its test helpers (`packages/inngest/src/test/helpers.ts`) and of
`@inngest/test-harness`, word for word: the event stream, events, and a run's trace timeline
(`trace(preview: true)`) with retries, parallel steps, an invoke, a failed step and the
function's finalization, each span's output fetched by its `outputID`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import jsonschema

from integration.harness import JSONDict, wait_until

from .test_ts_sdk import run_id_of, trigger, wait_status
from .ts_harness import TsStack

# The shape the TypeScript SDK's own example suite checks `GET /dev` against (its zod schema in
# packages/inngest/src/test/helpers.ts, `checkIntrospection`), as JSON Schema.
DEV_SHAPE = {
    "type": "object",
    "required": ["functions"],
    "properties": {
        "functions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "id", "triggers", "steps"],
                "properties": {
                    "name": {"type": "string"},
                    "id": {"type": "string"},
                    "triggers": {
                        "type": "array",
                        "items": {
                            "anyOf": [
                                {
                                    "type": "object",
                                    "required": ["event"],
                                    "properties": {"event": {"type": "string"}},
                                },
                                {
                                    "type": "object",
                                    "required": ["cron"],
                                    "properties": {"cron": {"type": "string"}},
                                },
                            ]
                        },
                    },
                    "steps": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["id", "name", "uri"],
                            "properties": {
                                "id": {"type": "string"},
                                "name": {"type": "string"},
                                "uri": {"type": "string", "pattern": "^https?://"},
                            },
                        },
                    },
                },
            },
        }
    },
}


def test_dev_lists_each_function_with_its_steps_in_the_official_shape(ts: TsStack) -> None:
    info = ts.api.dev_info()
    jsonschema.validate(info, DEV_SHAPE)
    by_slug = {str(fn["slug"]): fn for fn in info["functions"]}
    chain = by_slug[ts.slug("chain")]
    assert chain["steps"] == [{"id": "step", "name": "step", "uri": chain["steps"][0]["uri"]}]
    assert re.fullmatch(
        rf"http.+\?fnId={re.escape(ts.slug('chain'))}&stepId=step", chain["steps"][0]["uri"]
    )


def test_dev_describes_handlers_apps_and_start_options_as_inngest_cli_does(ts: TsStack) -> None:
    info = ts.api.dev_info()
    [handler] = [h for h in info["handlers"] if h.get("app_id") == ts.app_id]
    [app] = [a for a in info["apps"] if a["name"] == ts.app_id]
    mine = [fn for fn in info["functions"] if fn["app_id"] == app["id"]]
    assert sorted(handler["functionIDs"]) == sorted(fn["id"] for fn in mine)
    assert handler["sdk"]["appName"] == ts.app_id and handler["sdk"]["url"] == handler["url"]
    assert str(handler["sdk"]["sdk"]).startswith("js:")
    assert handler["createdAt"] and handler["updatedAt"]
    assert app["functionCount"] == len(mine) and app["error"] is None
    assert handler["url"] in info["startOpts"]["urls"]
    assert info["startOpts"]["autodiscover"] is False
    # A function is the config the SDK registered, with our ids on top.
    chain = next(fn for fn in mine if fn["slug"] == ts.slug("chain"))
    assert chain["triggers"] == [{"event": "ts/chain"}]
    assert "retries" in chain or "steps" in chain


# The dev-server queries of the TypeScript SDK's own test helpers (`eventRunWithName`,
# `receivedEventWithName` in packages/inngest/src/test/helpers.ts), word for word.
STREAM_QUERY = """query GetEventStream {
        stream(query: {limit: 999, includeInternalEvents: false}) {
          id
          trigger
          runs {
            id
            function {
              name
            }
          }
        }
      }"""
EVENTS_QUERY = """query Events($query: EventsQuery!) {
  events(query: $query) {
    id
    name
    payload
  }
}"""


def _gql(ts: TsStack, query: str, operation: str, variables: JSONDict) -> JSONDict:
    body = {"query": query, "variables": variables, "operationName": operation}
    resp = ts.api.http.post("/v0/gql", json=body)
    assert resp.status_code == 200, resp.text
    answer: JSONDict = resp.json()
    assert "errors" not in answer, answer
    data: JSONDict = answer["data"]
    return data


def test_event_stream_and_events_answer_the_ts_test_helpers(ts: TsStack) -> None:
    event_id = ts.api.send_event("ts/chain", {"n": 7})
    run_id = run_id_of(ts.api.run_for_event(event_id))
    wait_status(ts, run_id, "Completed")
    name = next(
        str(fn["name"]) for fn in ts.api.dev_info()["functions"] if fn["slug"] == ts.slug("chain")
    )

    stream = _gql(ts, STREAM_QUERY, "GetEventStream", {})["stream"]
    item = next(item for item in stream if item["id"] == event_id)
    assert item["trigger"] == "ts/chain"
    assert {"id": run_id, "function": {"name": name}} in item["runs"]
    assert not any(str(i["trigger"]).startswith("inngest/") for i in stream)

    events = _gql(ts, EVENTS_QUERY, "Events", {"query": {}})["events"]
    sent = next(e for e in events if e["id"] == event_id)
    assert sent["name"] == "ts/chain"
    assert json.loads(sent["payload"]) == {"n": 7}


# `runHasTimeline` and `TimelineItem.getOutput` of the TypeScript SDK's helpers, word for word.
TIMELINE_QUERY = """query GetRunTimeline($runId: String!) {
          run(runID: $runId) {
            trace(preview: true) {
              name
              stepType
              attempts
              outputID
              status
              childrenSpans {
                name
                stepType
                attempts
                outputID
                status
                childrenSpans {
                  name
                  stepType
                  attempts
                  outputID
                  status
                }
              }
            }
          }
        }"""
OUTPUT_QUERY = """query GetRunTimelineOutput($outputId: String!) {
          runTraceSpanOutputByID(outputID: $outputId) {
            data
            error {
              name
              message
              stack
              cause
            }
          }
        }"""
# `fetchRunTrace` of @inngest/test-harness (no operation name).
HARNESS_RUN_QUERY = """query ($runId: String!) {
        run(runID: $runId) {
          status
          trace(preview: true) {
            status
            outputID
          }
        }
      }"""


def timeline(ts: TsStack, run_id: str) -> JSONDict:
    trace: JSONDict = _gql(ts, TIMELINE_QUERY, "GetRunTimeline", {"runId": run_id})["run"]["trace"]
    return trace


def output(ts: TsStack, output_id: str) -> JSONDict:
    found = _gql(ts, OUTPUT_QUERY, "GetRunTimelineOutput", {"outputId": output_id})
    answer: JSONDict = found["runTraceSpanOutputByID"]
    return answer


def brief(span: JSONDict) -> tuple[Any, ...]:
    return (span["name"], span["stepType"], span["status"], span["attempts"])


def by_name(trace: JSONDict, name: str) -> JSONDict:
    [span] = [s for s in trace["childrenSpans"] if s["name"] == name]
    return span


def test_timeline_of_a_step_retried_twice_shows_each_attempt(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/flaky")
    wait_status(ts, run_id, "Completed")
    trace = timeline(ts, run_id)

    assert (trace["status"], trace["stepType"]) == ("COMPLETED", "")
    assert [brief(s) for s in trace["childrenSpans"]] == [
        ("warmup", "RUN", "COMPLETED", 0),
        ("wobbly", "RUN", "COMPLETED", 2),
        ("steady", "RUN", "COMPLETED", 0),
        ("Finalization", "FINALIZATION", "COMPLETED", 0),
    ]
    wobbly = by_name(trace, "wobbly")
    assert [brief(s) for s in wobbly["childrenSpans"]] == [
        ("Attempt 0", "RUN", "FAILED", 0),
        ("Attempt 1", "RUN", "FAILED", 1),
        ("Attempt 2", "RUN", "COMPLETED", 2),
    ]
    first, second, last = (output(ts, s["outputID"]) for s in wobbly["childrenSpans"])
    assert first["data"] is None and first["error"]["name"] == "Error"
    assert first["error"]["message"] == "transient failure on attempt 0"
    assert second["error"]["message"] == "transient failure on attempt 1"
    assert "transient failure on attempt 1" in second["error"]["stack"]
    assert (json.loads(last["data"]), last["error"]) == (2, None)
    assert json.loads(output(ts, wobbly["outputID"])["data"]) == 2
    assert by_name(trace, "warmup")["childrenSpans"] == []  # one attempt that succeeded
    root = output(ts, trace["outputID"])
    assert json.loads(root["data"]) == {"succeeded_on": 2, "next_attempt": 0}


def test_timeline_of_parallel_steps(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/parallel")
    wait_status(ts, run_id, "Completed")
    trace = timeline(ts, run_id)

    spans = trace["childrenSpans"]
    assert sorted(brief(s) for s in spans[:3]) == [
        ("p1", "RUN", "COMPLETED", 0),
        ("p2", "RUN", "COMPLETED", 0),
        ("p3", "RUN", "COMPLETED", 0),
    ]
    assert [brief(s) for s in spans[3:]] == [
        ("after", "RUN", "COMPLETED", 0),
        ("Finalization", "FINALIZATION", "COMPLETED", 0),
    ]
    outputs = {s["name"]: json.loads(output(ts, s["outputID"])["data"]) for s in spans}
    assert outputs == {
        "p1": 1,
        "p2": 2,
        "p3": 3,
        "after": 6,
        "Finalization": {"parallel": [1, 2, 3], "after": 6},
    }


def test_timeline_of_an_invoke(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/invoke", {"x": 5})
    wait_status(ts, run_id, "Completed", timeout=30)
    trace = timeline(ts, run_id)

    assert [brief(s) for s in trace["childrenSpans"]] == [
        ("prep", "RUN", "COMPLETED", 0),
        ("call-child", "INVOKE", "COMPLETED", 0),
        ("after", "RUN", "COMPLETED", 0),
        ("Finalization", "FINALIZATION", "COMPLETED", 0),
    ]
    invoked = output(ts, by_name(trace, "call-child")["outputID"])
    assert json.loads(invoked["data"]) == {"doubled": 10, "invoked_by": "inngest/function.invoked"}


def test_timeline_of_an_invoke_of_a_missing_function(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/invoke.not-found")
    wait_status(ts, run_id, "Failed", timeout=15)
    trace = timeline(ts, run_id)

    assert trace["status"] == "FAILED"
    assert [brief(s) for s in trace["childrenSpans"]] == [
        ("invoke-non-existent-fn", "INVOKE", "FAILED", 0),
        ("Finalization", "FINALIZATION", "FAILED", 0),
    ]
    error = output(ts, by_name(trace, "invoke-non-existent-fn")["outputID"])["error"]
    assert error["name"] == "Error" and "could not find function" in error["message"]
    assert "could not find function" in output(ts, trace["outputID"])["error"]["message"]


def test_timeline_of_a_failed_step_caught_by_the_function(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/checkpoint-then-fail")
    run = wait_status(ts, run_id, "Completed")
    assert run["output"]["caught"] == "doomed fails"
    trace = timeline(ts, run_id)

    assert [brief(s) for s in trace["childrenSpans"]] == [
        ("first", "RUN", "COMPLETED", 0),
        ("doomed", "RUN", "FAILED", 0),
        ("last", "RUN", "COMPLETED", 0),
        ("Finalization", "FINALIZATION", "COMPLETED", 0),
    ]
    doomed = by_name(trace, "doomed")
    [attempt] = doomed["childrenSpans"]
    assert brief(attempt) == ("Attempt 0", "RUN", "FAILED", 0)
    assert attempt["outputID"] == doomed["outputID"]
    error = output(ts, doomed["outputID"])["error"]
    assert (error["name"], error["message"]) == ("Error", "doomed fails")
    assert error["cause"]["name"] == "Error"
    assert error["cause"]["message"] == "the root cause"


def test_harness_reads_a_run_s_end_through_its_trace(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/chain", {"n": 3})
    wait_status(ts, run_id, "Completed")
    body = {"query": HARNESS_RUN_QUERY, "variables": {"runId": run_id}}
    answer = ts.api.http.post("/v0/gql", json=body).json()
    assert "errors" not in answer, answer
    run = answer["data"]["run"]
    assert run["status"] == "COMPLETED" and run["trace"]["status"] == "COMPLETED"
    assert json.loads(output(ts, run["trace"]["outputID"])["data"]) == {"total": 45}


def test_timeline_of_a_running_run_has_no_finalization(ts: TsStack) -> None:
    run_id = trigger(ts, "ts/sleep", {"sleep": "3s"})

    def sleeping() -> JSONDict | None:
        trace = timeline(ts, run_id)
        return trace if any(s["stepType"] == "SLEEP" for s in trace["childrenSpans"]) else None

    trace = wait_until(sleeping, timeout=10, what="the run's sleep in its timeline")
    assert (trace["status"], trace["outputID"]) == ("RUNNING", None)
    [nap] = [s for s in trace["childrenSpans"] if s["stepType"] == "SLEEP"]
    assert (nap["status"], nap["outputID"]) == ("WAITING", None)
    assert "FINALIZATION" not in {s["stepType"] for s in trace["childrenSpans"]}
