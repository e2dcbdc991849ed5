"""Server-side requests from the TypeScript SDK: `step.fetch` (opcode `Gateway`) and
`step.ai.infer` (opcode `AIGateway`) with `step.ai.wrap`, against a fake service on loopback.

Mainspring makes the request, memoizes the answer as the step's result and calls the function
again: the fake service sees each request once, though the function replays. Retries follow
the step's policy (a 500, a 429 after its `Retry-After`). The credentials (constants of
`app/gateway.js`) never reach history, the trace, the dashboard or the server's logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from integration.fake_http import Answer, FakeHttp, running_fake_http
from integration.harness import JSONDict

from .test_ts_sdk import records, trigger, wait_status
from .ts_harness import TsStack

FETCH_TOKEN = "tok-mainspring-fetch-0123456789"  # app/gateway.js
AI_KEY = "sk-mainspring-ai-0123456789abcdef"
OPENAI_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "model": "gpt-test",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there!"}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
}
ANTHROPIC_ANSWER = {
    "id": "msg_1",
    "type": "message",
    "role": "assistant",
    "model": "claude-test",
    "content": [{"type": "text", "text": "Hi there!"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 9, "output_tokens": 11},
}
TRACE_QUERY = """
query Trace($runId: String!) {
  run(runID: $runId) { trace(preview: true) { childrenSpans { name stepOp status outputID } } }
}
"""


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHttp]:
    yield from running_fake_http()


def history(ts: TsStack, run_id: str) -> list[JSONDict]:
    return list(ts.api.data(f"/v1/runs/{run_id}/history"))


def requests_of(ts: TsStack, run_id: str) -> list[JSONDict]:
    return [h for h in history(ts, run_id) if h["kind"] == "step.request"]


def assert_secret_nowhere(ts: TsStack, run_id: str, secret: str) -> None:
    """Not in history, steps, trace, GraphQL, the run page, nor the server's logs."""
    api = ts.api
    kept = [
        api.http.get(f"/v1/runs/{run_id}/history").text,
        api.http.get(f"/v1/runs/{run_id}/steps").text,
        api.http.get(f"/v2/runs/{run_id}/trace").text,
        api.http.get(f"/runs/{run_id}").text,
        api.http.post("/v0/gql", json={"query": TRACE_QUERY, "variables": {"runId": run_id}}).text,
    ]
    server = ts.stack.server
    for path in (server.stdout_path, server.stderr_path):
        kept.append(path.read_text(errors="replace"))
    assert all(secret not in text for text in kept)


def test_step_fetch_is_made_once_by_the_server_and_memoized(ts: TsStack, fake: FakeHttp) -> None:
    path = fake.new_path("fetch-")
    url = fake.script(path, Answer(200, b'{"ok":true}', {"X-Fake": "yes"}))
    run_id = trigger(ts, "ts/fetch", {"url": url, "n": 3})
    run = wait_status(ts, run_id, "Completed")

    assert run["output"] == {"status": 200, "body": '{"ok":true}', "fake": "yes", "after": 11}
    (seen,) = fake.seen(path)  # once, though the function ran again after it
    assert len(records(ts, run_id, "CALL")) >= 2
    assert seen.method == "POST" and seen.json() == {"n": 3}
    assert seen.headers["Authorization"] == f"Bearer {FETCH_TOKEN}"
    assert seen.headers["Content-Type"] == "application/json"

    (request,) = requests_of(ts, run_id)
    assert request["step_name"] == "step.fetch: 127.0.0.1"
    data = request["data"]
    assert (data["kind"], data["method"], data["url"], data["status"]) == (
        "fetch",
        "POST",
        url,
        200,
    )
    assert data["request_body"] == {"n": 3} and data["duration_ms"] >= 0
    (step,) = [s for s in ts.api.run_steps(run_id) if s["op"] == "Gateway"]
    assert step["output"]["status_code"] == 200 and step["output"]["body"] == '{"ok":true}'
    assert_secret_nowhere(ts, run_id, FETCH_TOKEN)


def test_step_fetch_retries_a_500_then_gets_the_200(ts: TsStack, fake: FakeHttp) -> None:
    path = fake.new_path("flaky-")
    url = fake.script(path, Answer(500, b"down"), Answer(200, b"up"))
    run_id = trigger(ts, "ts/fetch", {"url": url})
    run = wait_status(ts, run_id, "Completed")

    assert run["output"]["status"] == 200 and run["output"]["body"] == "up"
    assert len(fake.seen(path)) == 2
    kinds = [h["kind"] for h in history(ts, run_id) if h["step_name"] == "step.fetch: 127.0.0.1"]
    assert kinds == ["step.request", "step.error", "step.request", "step.completed"]
    assert [r["data"]["status"] for r in requests_of(ts, run_id)] == [500, 200]


def test_parallel_fetches_keep_a_result_while_the_other_retries(
    ts: TsStack, fake: FakeHttp
) -> None:
    steady, flaky = fake.new_path("steady-"), fake.new_path("wobbly-")
    urls = [
        fake.script(steady, Answer(200, b"a")),
        fake.script(flaky, Answer(503, b"busy"), Answer(200, b"b")),
    ]
    run_id = trigger(ts, "ts/fetch.pair", {"urls": urls})
    run = wait_status(ts, run_id, "Completed")

    assert run["output"] == ["200 a", "200 b"]
    assert len(fake.seen(steady)) == 1  # memoized while its sibling was retried
    assert len(fake.seen(flaky)) == 2
    first, second, third = requests_of(ts, run_id)
    assert first["at"] == second["at"] != third["at"]  # the pair went out together
    assert sorted([first["data"]["status"], second["data"]["status"]]) == [200, 503]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_step_ai_infer_reaches_the_model_and_the_answer_the_function(
    ts: TsStack, fake: FakeHttp, provider: str
) -> None:
    base = fake.new_path(f"{provider}-")
    route = "/v1/chat/completions" if provider == "openai" else "/v1/messages"
    answer = OPENAI_ANSWER if provider == "openai" else ANTHROPIC_ANSWER
    fake.script(base + route, Answer(200, answer))
    run_id = trigger(ts, "ts/ai", {"provider": provider, "base_url": f"{fake.origin}{base}/v1"})
    run = wait_status(ts, run_id, "Completed")

    assert run["output"] == {"text": "Hi there!", "wrapped": {"echoed": "Hi there!"}}
    (seen,) = fake.seen(base)
    assert seen.method == "POST"
    body = seen.json()
    assert body["messages"] == [{"role": "user", "content": "Say hi"}]
    if provider == "openai":
        assert seen.headers["Authorization"] == f"Bearer {AI_KEY}"
        assert body["model"] == "gpt-test"
    else:
        assert seen.headers["X-Api-Key"] == AI_KEY
        assert seen.headers["Anthropic-Version"] == "2023-06-01"
        assert body["model"] == "claude-test" and body["max_tokens"] == 64

    (request,) = requests_of(ts, run_id)
    assert request["data"]["format"] == ("openai-chat" if provider == "openai" else "anthropic")
    assert request["data"]["status"] == 200
    steps = {s["op"]: s for s in ts.api.run_steps(run_id)}
    assert steps["AIGateway"]["output"] == answer
    _assert_wrap_kept(ts, run_id)
    _assert_trace_shows_ai_gateway(ts, run_id)
    page = ts.api.http.get(f"/runs/{run_id}").text
    assert f"POST {fake.origin}{base}{route}" in page and "step-request-status" in page
    assert "step-input" in page  # step.ai.wrap's input, beside its output
    assert_secret_nowhere(ts, run_id, AI_KEY)


def _assert_wrap_kept(ts: TsStack, run_id: str) -> None:
    """`step.ai.wrap`: its input and type in history, its output as the step's result."""
    done = [h for h in history(ts, run_id) if h["kind"] == "step.completed"]
    (wrap,) = [h for h in done if h["step_name"] == "wrap"]
    assert wrap["data"]["type"] == "step.ai.wrap" and wrap["data"]["input"] == ["Hi there!"]
    (step,) = [s for s in ts.api.run_steps(run_id) if s["name"] == "wrap"]
    assert step["output"] == {"echoed": "Hi there!"}


def _assert_trace_shows_ai_gateway(ts: TsStack, run_id: str) -> None:
    variables = {"runId": run_id}
    resp = ts.api.http.post("/v0/gql", json={"query": TRACE_QUERY, "variables": variables})
    spans: list[dict[str, Any]] = resp.json()["data"]["run"]["trace"]["childrenSpans"]
    infer = [span for span in spans if span["name"] == "infer"]
    assert [(span["stepOp"], span["status"]) for span in infer] == [("AI_GATEWAY", "COMPLETED")]


def test_a_429_is_retried_after_its_retry_after(ts: TsStack, fake: FakeHttp) -> None:
    base = fake.new_path("busy-")
    fake.script(
        base + "/v1/chat/completions",
        Answer(429, {"error": {"message": "rate limited"}}, {"Retry-After": "1"}),
        Answer(200, OPENAI_ANSWER),
    )
    run_id = trigger(ts, "ts/ai", {"provider": "openai", "base_url": f"{fake.origin}{base}/v1"})
    run = wait_status(ts, run_id, "Completed")

    assert run["output"]["text"] == "Hi there!"
    first, second = fake.seen(base)
    assert second.at - first.at >= 0.9  # Retry-After (1 s), not the 0.2 s backoff
    errors = [h for h in history(ts, run_id) if h["kind"] == "step.error"]
    assert [e["step_name"] for e in errors] == ["infer"]
    assert "429" in errors[0]["data"]["message"]
    assert json.dumps(errors[0]["data"]).find(AI_KEY) == -1
