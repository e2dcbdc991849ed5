"""`step.ai.infer` from the Python SDK (opcode `AIGateway`): Mainspring calls the model API
(a fake one on loopback, speaking the OpenAI and Anthropic formats) with the provider's auth,
memoizes the answer as the step's result and hands it to the function. A 429 is retried after
its `Retry-After`. The key never reaches history, the trace, the run page or the logs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .fake_http import Answer, FakeHttp, running_fake_http
from .harness import Stack, running_stack

AI_KEY = "sk-mainspring-py-0123456789abcdef"  # apps/ai_app.py
OPENAI_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi!"}}],
}
ANTHROPIC_ANSWER = {
    "id": "msg_1",
    "type": "message",
    "content": [{"type": "text", "text": "Hi!"}],
    "usage": {"input_tokens": 9, "output_tokens": 11},
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("ai"), "ai_app", ["ai-infer"]) as stack:
        yield stack


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeHttp]:
    yield from running_fake_http()


def _assert_key_nowhere(stack: Stack, run_id: str) -> None:
    http = stack.api.http
    kept = [
        http.get(f"/v1/runs/{run_id}/history").text,
        http.get(f"/v1/runs/{run_id}/steps").text,
        http.get(f"/v2/runs/{run_id}/trace").text,
        http.get(f"/runs/{run_id}").text,
        stack.server.stdout_path.read_text(errors="replace"),
        stack.server.stderr_path.read_text(errors="replace"),
    ]
    assert all(AI_KEY not in text for text in kept)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_the_answer_reaches_the_function(stack: Stack, fake: FakeHttp, provider: str) -> None:
    base = fake.new_path(f"{provider}-")
    route = "/chat/completions" if provider == "openai" else "/messages"
    answer = OPENAI_ANSWER if provider == "openai" else ANTHROPIC_ANSWER
    fake.script(base + route, Answer(200, answer))
    data = {"provider": provider, "base_url": fake.origin + base}
    run = stack.api.trigger_and_wait("ai/infer", data, timeout=30)

    assert run["status"] == "Completed", run
    assert run["output"] == {"answer": answer}
    (seen,) = fake.seen(base)
    assert seen.json()["messages"] == [{"role": "user", "content": "Say hi"}]
    if provider == "openai":
        assert seen.headers["Authorization"] == f"Bearer {AI_KEY}"
    else:
        assert seen.headers["X-Api-Key"] == AI_KEY
        assert seen.headers["Anthropic-Version"] == "2023-06-01"
    (step,) = stack.api.run_steps(run["run_id"])
    assert (step["op"], step["output"]) == ("AIGateway", answer)
    _assert_key_nowhere(stack, run["run_id"])


def test_a_429_is_retried_after_its_retry_after(stack: Stack, fake: FakeHttp) -> None:
    base = fake.new_path("busy-")
    fake.script(
        base + "/chat/completions",
        Answer(429, {"error": {"message": "rate limited"}}, {"Retry-After": "1"}),
        Answer(200, OPENAI_ANSWER),
    )
    data = {"provider": "openai", "base_url": fake.origin + base}
    run = stack.api.trigger_and_wait("ai/infer", data, timeout=30)

    assert run["status"] == "Completed" and run["output"] == {"answer": OPENAI_ANSWER}
    first, second = fake.seen(base)
    assert second.at - first.at >= 0.9
    kinds = [h["kind"] for h in stack.api.data(f"/v1/runs/{run['run_id']}/history")]
    assert kinds.count("step.request") == 2 and kinds.count("step.error") == 1
    _assert_key_nowhere(stack, run["run_id"])
