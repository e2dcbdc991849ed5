"""Run state over the server's state limit (default 4 MiB): the server sends `use_api: true`
with empty `events`/`steps` and the SDK fetches them from `/v0/runs/{id}/actions` and
`/v0/runs/{id}/batch` (protocol §3, contract "Issue 4 additions")."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator

import pytest

from .harness import JSONDict, Stack, running_stack

STATE_LIMIT = 4 * 1024 * 1024  # --state-limit default
BIG = 5_000_000
HALF = 2_600_000


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("large"), "large_app", ("large-one", "large-two")
    ) as stack:
        yield stack


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def call_bodies(stack: Stack, run_id: str) -> list[JSONDict]:
    return stack.sidefx.select(kind="CALL_BODY", run_id=run_id)


def body_summary(bodies: list[JSONDict]) -> list[tuple[int, bool, list[str]]]:
    return [(b["bytes"], b["use_api"], b["steps"]) for b in bodies]


def check_fetched_calls(bodies: list[JSONDict], at_least: int) -> None:
    assert all(b["bytes"] <= STATE_LIMIT for b in bodies), body_summary(bodies)
    fetched = [b for b in bodies if b["use_api"]]
    assert len(fetched) >= at_least, body_summary(bodies)
    for body in fetched:
        assert body["ctx_use_api"] is True, body
        assert body["steps"] == [], body
        assert body["events"] == 0, body


def test_five_mib_step_output(large: Stack) -> None:
    api = large.api
    run = api.trigger_and_wait("large/one", timeout=60)
    run_id = str(run["run_id"])
    assert run["output"] == {"len": BIG}

    starts = Counter(e["step"] for e in large.sidefx.select(kind="START", run_id=run_id))
    assert starts == {"produce": 1, "measure": 1}

    bodies = call_bodies(large, run_id)
    assert bodies[0]["use_api"] is False and bodies[0]["steps"] == [], body_summary(bodies)
    # Both calls after `produce` carry > 4 MiB of state: measure's call and the final one.
    check_fetched_calls(bodies, at_least=2)

    steps = api.run_steps(run_id)
    assert [s["name"] for s in steps] == ["produce", "measure"]
    assert len(steps[0]["output"]) == BIG and set(steps[0]["output"]) == {"x"}
    assert steps[1]["output"] == BIG

    # What the SDK fetched.
    actions = api.get_json(f"/v0/runs/{run_id}/actions")
    assert set(actions) == {sha1("produce"), sha1("measure")}
    assert actions[sha1("measure")] == {"data": BIG}
    assert actions[sha1("produce")]["data"] == "x" * BIG
    batch = api.get_json(f"/v0/runs/{run_id}/batch")
    assert isinstance(batch, list) and [e["name"] for e in batch] == ["large/one"], batch


def test_state_crossing_the_limit_midway(large: Stack) -> None:
    api = large.api
    run = api.trigger_and_wait("large/two", timeout=60)
    run_id = str(run["run_id"])
    assert run["output"] == {"len": 2 * HALF}

    starts = Counter(e["step"] for e in large.sidefx.select(kind="START", run_id=run_id))
    assert starts == {"a": 1, "b": 1, "measure": 1}

    bodies = call_bodies(large, run_id)
    # Under the limit the state travels in the request as usual ...
    inline = [b for b in bodies if b["steps"] == [sha1("a")]]
    assert inline and all(not b["use_api"] for b in inline), body_summary(bodies)
    assert all(b["bytes"] > HALF for b in inline)
    # ... and once a + b exceed it, the SDK has to fetch it.
    check_fetched_calls(bodies, at_least=2)
    assert [s["name"] for s in api.run_steps(run_id)] == ["a", "b", "measure"]


def test_state_endpoints_unknown_run(large: Stack) -> None:
    for what in ("actions", "batch"):
        resp = large.api.http.get(f"/v0/runs/01KAAAAAAAAAAAAAAAAAAAAAAA/{what}")
        assert resp.status_code in (404, 410), f"{what}: {resp.status_code} {resp.text}"
        assert resp.json()["status"] == resp.status_code
