"""What a server-side request's answer means for its step: memoize, retry, or fail it."""

from typing import Any

from mainspring import codec
from mainspring.execution import gateway, opcodes
from mainspring.execution.egress import Exchange
from mainspring.protocol import gateway as wire

NOW = 1_800_000_000_000
KEY = "sk-test-abcdef123456"
FIRST = opcodes.CallContext(attempt=0, max_attempts=4, retry_delay_ms=200, now=NOW)
LAST = opcodes.CallContext(attempt=3, max_attempts=4, retry_delay_ms=200, now=NOW)
AI = opcodes.GatewayCall(
    "AIGateway",
    "s1",
    "infer",
    {
        "url": "http://m.test/v1/chat/completions",
        "auth_key": KEY,
        "format": "openai-chat",
        "body": {"model": "m"},
    },
)
FETCH = opcodes.GatewayCall(
    "Gateway",
    "s2",
    "step.fetch: f.test",
    {"url": "http://f.test/x?api_key=zzz999999", "method": "GET"},
)


def judge(call: opcodes.GatewayCall, exchange: Exchange, context: Any = FIRST) -> gateway.Outcome:
    return gateway.judge(call, wire.request_from(call.op, call.opts), exchange, context, NOW - 5)


def answer(status: int, body: Any, **kwargs: Any) -> Exchange:
    raw = body if isinstance(body, bytes) else codec.dumpb(body)
    return Exchange(duration_ms=12, status=status, body=raw, **kwargs)


def test_an_ai_answer_is_memoized_as_the_providers_json() -> None:
    outcome = judge(AI, answer(200, {"choices": [{"message": {"content": "hi"}}]}))
    assert outcome.saved == opcodes.SavedStep(
        "s1", "infer", "AIGateway", {"data": {"choices": [{"message": {"content": "hi"}}]}}
    )
    note = outcome.note
    assert (note.kind, note.at, note.attempt) == ("step.request", NOW - 5, 0)
    assert note.data["method"] == "POST" and note.data["status"] == 200
    assert note.data["format"] == "openai-chat" and note.data["request_body"] == {"model": "m"}
    assert KEY not in codec.dumps(note.data)


def test_a_429_is_retried_after_its_retry_after() -> None:
    outcome = judge(AI, answer(429, {"error": {"message": f"slow down {KEY}"}}, retry_after="3"))
    assert outcome.saved is None and outcome.delay_ms == 3000
    assert outcome.error is not None and outcome.error["name"] == "AIGatewayError"
    assert KEY not in codec.dumps(outcome.error)  # a provider echoing the key: scrubbed


def test_an_ai_5xx_without_retry_after_uses_the_backoff() -> None:
    assert judge(AI, answer(503, b"busy")).delay_ms == 200


def test_an_ai_4xx_fails_the_step_at_once() -> None:
    outcome = judge(AI, answer(401, {"error": "bad key"}))
    assert outcome.saved is not None and outcome.saved.failed
    error = outcome.saved.memo["error"]
    assert error["message"].endswith("unsuccessful status code: 401")
    assert error["data"] == {"error": "bad key"}


def test_the_last_attempt_of_an_ai_request_fails_the_step() -> None:
    outcome = judge(AI, answer(500, b"oops"), LAST)
    assert outcome.saved is not None and outcome.saved.failed


def test_fetch_retries_a_500_then_memoizes_it_on_the_last_attempt() -> None:
    assert judge(FETCH, answer(500, b"down")).error is not None
    last = judge(FETCH, answer(500, b"down", headers=[("content-type", "text/plain")]), LAST)
    assert last.saved is not None and not last.saved.failed
    assert last.saved.memo == {
        "data": {
            "url": "http://f.test/x?api_key=REDACTED",
            "status_code": 500,
            "headers": {"Content-Type": "text/plain"},
            "body": "down",
        }
    }


def test_fetch_returns_a_404_as_it_is() -> None:
    outcome = judge(FETCH, answer(404, b"nope"))
    assert outcome.saved is not None and outcome.saved.memo["data"]["status_code"] == 404


def test_a_network_error_is_retried_then_fails_the_step() -> None:
    down = Exchange(duration_ms=3, error="ClientConnectorError: refused")
    assert judge(FETCH, down).error == {
        "name": "GatewayError",
        "message": "Error making gateway request: ClientConnectorError: refused",
    }
    last = judge(FETCH, down, LAST)
    assert last.saved is not None and last.saved.failed


def test_a_refused_url_fails_at_once() -> None:
    denied = Exchange(duration_ms=0, error="not allowed", retryable=False)
    outcome = judge(AI, denied)
    assert outcome.saved is not None and outcome.saved.failed
    assert outcome.note.data["error"] == "not allowed"


def test_bad_opts_fail_the_step_at_once() -> None:
    call = opcodes.GatewayCall("Gateway", "s3", "bad", {"url": "ftp://x"})
    outcome = gateway.judge(
        call,
        "not an http(s) URL",
        Exchange(0, error="not an http(s) URL", retryable=False),
        FIRST,
        NOW,
    )
    assert outcome.saved is not None and outcome.saved.failed


def test_settle_joins_results_to_the_replys_progress() -> None:
    progress = opcodes.Progress(requests=[AI])
    ok = judge(AI, answer(200, {"x": 1}))
    settled = gateway.settle(progress, [ok])
    assert isinstance(settled, opcodes.Progress)
    assert settled.requests == [] and settled.continues_at_once
    assert [s.step_id for s in settled.saved] == ["s1"] and settled.notes == [ok.note]


def test_settle_retries_the_call_keeping_the_results_already_in() -> None:
    ok = judge(AI, answer(200, {"x": 1}))
    failing = judge(FETCH, answer(502, b"bad gateway"))
    settled = gateway.settle(opcodes.Progress(requests=[AI, FETCH]), [ok, failing])
    assert isinstance(settled, opcodes.Retry)
    assert settled.step_id == "s2" and settled.delay_ms == 200
    assert [s.step_id for s in settled.saved] == ["s1"]
    assert [n.kind for n in settled.notes] == ["step.request", "step.request"]
