"""The reply → decision table, with instants instead of sleeps."""

from typing import Any

import pytest

from mainspring.execution import opcodes
from mainspring.execution.driver import Reply

NOW = 1_800_000_000_000
CTX = opcodes.CallContext(attempt=0, max_attempts=4, retry_delay_ms=200, now=NOW)


def reply(
    status: int,
    body: Any,
    *,
    sdk: bool = True,
    no_retry: bool = False,
    retry_after: str | None = None,
) -> Reply:
    return Reply(status, body, sdk, no_retry, retry_after, 2)


def test_200_completes_with_body() -> None:
    assert opcodes.decide(reply(200, {"total": 25}), CTX) == opcodes.Complete({"total": 25})


def test_step_run_continues_at_once() -> None:
    body = [{"op": "StepRun", "id": "a", "name": "one", "displayName": "one", "data": 2}]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Progress)
    assert decision.continues_at_once
    assert decision.saved == [opcodes.SavedStep("a", "one", "StepRun", {"data": 2})]


def test_step_error_retries_with_backoff_then_fails_on_last_attempt() -> None:
    body = [{"op": "StepError", "id": "a", "name": "x", "error": {"message": "boom"}}]
    first = opcodes.decide(reply(206, body), CTX)
    assert first == opcodes.Retry(200, {"message": "boom"}, step_id="a", step_name="x")
    last = opcodes.CallContext(attempt=3, max_attempts=4, retry_delay_ms=200, now=NOW)
    decision = opcodes.decide(reply(206, body), last)
    assert isinstance(decision, opcodes.Progress)
    assert decision.saved[0].memo == {"error": {"message": "boom"}}


def test_step_error_with_no_retry_header_is_memoized_as_failed() -> None:
    body = [{"op": "StepError", "id": "a", "error": {"message": "x"}}]
    decision = opcodes.decide(reply(206, body, no_retry=True), CTX)
    assert isinstance(decision, opcodes.Progress)
    assert decision.saved[0].op == "StepFailed"


def test_retry_after_overrides_backoff() -> None:
    decision = opcodes.decide(reply(500, {"message": "later"}, retry_after="5"), CTX)
    assert decision == opcodes.Retry(5_000, {"message": "later"})


def test_no_retry_error_fails_now() -> None:
    body = {"code": "non_retriable_error", "message": "no", "name": "NonRetriableError"}
    decision = opcodes.decide(reply(500, body, no_retry=True), CTX)
    assert isinstance(decision, opcodes.Fail)
    assert decision.output == body
    assert decision.error["error"] == "invalid status code: 500"


def test_reply_without_sdk_header_is_retried_even_when_200() -> None:
    decision = opcodes.decide(reply(200, {"ok": 1}, sdk=False), CTX)
    assert isinstance(decision, opcodes.Retry)


def test_exhausted_function_error_fails() -> None:
    last = opcodes.CallContext(attempt=3, max_attempts=4, retry_delay_ms=200, now=NOW)
    assert isinstance(opcodes.decide(reply(500, {"message": "x"}), last), opcodes.Fail)


@pytest.mark.parametrize(
    ("name", "wake_at"), [("2s", NOW + 2_000), ("1970-01-01T00:00:00.000Z", NOW)]
)
def test_sleep_schedules_a_wake_up(name: str, wake_at: int) -> None:
    body = [{"op": "Sleep", "id": "s", "name": name, "displayName": "nap", "data": None}]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Progress)
    assert decision.scheduled == [opcodes.Scheduled("sleep", "s", "nap", wake_at)]
    assert not decision.continues_at_once


def test_parallel_plan_schedules_each_step() -> None:
    body = [{"op": "StepPlanned", "id": i, "name": i} for i in ("a", "b", "c")]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Progress)
    assert decision.parallel
    assert [s.step_id for s in decision.scheduled] == ["a", "b", "c"]


def test_run_complete_in_206_completes() -> None:
    body = [{"op": "RunComplete", "id": "c", "data": {"x": 1}}]
    assert opcodes.decide(reply(206, body), CTX) == opcodes.Complete({"x": 1})


def test_unsupported_opcode_fails_clearly() -> None:
    body = [{"op": "Teleport", "id": "a", "opts": {}}]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Fail)
    assert "Teleport" in decision.output["message"]


def test_gateway_ops_become_requests_made_before_recording() -> None:
    opts = {"url": "https://api.test/v1", "auth_key": "sk-secret-key"}
    body = [{"op": "AIGateway", "id": "a", "displayName": "infer", "opts": opts}]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Progress)
    assert decision.requests == [opcodes.GatewayCall("AIGateway", "a", "infer", opts)]
    assert "sk-secret-key" not in repr(decision)


def test_a_step_ai_wrap_keeps_its_type_and_input_for_history_only() -> None:
    opts = {"type": "step.ai.wrap", "input": [{"prompt": "hi"}]}
    body = [{"op": "StepRun", "id": "w", "name": "w", "data": {"text": "ok"}, "opts": opts}]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Progress)
    (saved,) = decision.saved
    assert saved.memo == {"data": {"text": "ok"}}
    assert saved.detail == opts


def test_sleep_longer_than_a_year_fails() -> None:
    body = [{"op": "Sleep", "id": "s", "name": "400d"}]
    assert isinstance(opcodes.decide(reply(206, body), CTX), opcodes.Fail)


def test_wait_for_signal_parks_the_step_with_its_name_timeout_and_conflict() -> None:
    opts = {"signal": "approve-1", "timeout": "1h", "conflict": "replace"}
    body = [
        {"op": "WaitForSignal", "id": "w", "name": "approve-1", "displayName": "wait", "opts": opts}
    ]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Progress)
    assert decision.scheduled == [
        opcodes.Scheduled(
            "signal", "w", "wait", NOW + 3_600_000, {"signal": "approve-1", "replace": True}
        )
    ]


@pytest.mark.parametrize(
    ("opts", "replace", "expires"),
    [
        ({"conflict": "fail"}, False, NOW + opcodes.MAX_SLEEP_MS),
        ({"timeout": "2s"}, False, NOW + 2_000),
    ],
)
def test_wait_for_signal_defaults(opts: dict[str, Any], replace: bool, expires: int) -> None:
    body = [{"op": "WaitForSignal", "id": "w", "name": "s", "opts": opts}]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Progress)
    assert decision.scheduled[0].at_ms == expires
    assert decision.scheduled[0].opts == {"signal": "s", "replace": replace}


@pytest.mark.parametrize("opts", [{"signal": "s", "timeout": "soon"}, {"signal": ""}])
def test_wait_for_signal_without_a_name_or_with_a_bad_timeout_fails(opts: dict[str, Any]) -> None:
    body = [{"op": "WaitForSignal", "id": "w", "opts": opts}]
    assert isinstance(opcodes.decide(reply(206, body), CTX), opcodes.Fail)


def test_a_wait_with_an_invalid_if_fails_when_declared() -> None:
    """Compiled when the SDK declares the wait: a bad expression must not fail every later
    match (the lookback at recording, or an event of that name arriving)."""
    opts = {"event": "app/reply", "if": "async.data.id ==", "timeout": "1h"}
    body = [{"op": "WaitForEvent", "id": "w", "displayName": "w", "opts": opts}]
    decision = opcodes.decide(reply(206, body), CTX)
    assert isinstance(decision, opcodes.Fail)
    assert decision.output["name"] == "InvalidWait"
    assert "invalid expression" in decision.output["message"]
