"""Step execution through the official Python SDK: chains, repeated ids, sleep, parallel."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pytest

from .harness import JSONDict, Stack


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def starts(stack: Stack, run_id: str) -> list[JSONDict]:
    return stack.sidefx.select(kind="START", run_id=run_id)


def ends(stack: Stack, run_id: str) -> list[JSONDict]:
    return stack.sidefx.select(kind="END", run_id=run_id)


def test_three_step_chain(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/chain", {"n": 1})
    run_id = str(run["run_id"])

    assert run["output"] == {"total": 25}
    assert run["function_id"] == "core-chain"
    assert run["ended_at"] is not None

    # Each step body ran exactly once, in order, and finished.
    assert [e["step"] for e in starts(core, run_id)] == ["one", "two", "three"]
    assert [e["step"] for e in ends(core, run_id) if e["ok"]] == ["one", "two", "three"]

    steps = core.api.run_steps(run_id)
    assert [s["name"] for s in steps] == ["one", "two", "three"]
    assert [s["id"] for s in steps] == [sha1("one"), sha1("two"), sha1("three")]
    assert [s["op"] for s in steps] == ["StepRun"] * 3
    assert [s["output"] for s in steps] == [2, 20, {"total": 25}]
    assert [s["error"] for s in steps] == [None] * 3
    assert [s["attempts"] for s in steps] == [1, 1, 1]


def test_repeated_step_id_in_loop(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/loop")
    run_id = str(run["run_id"])

    assert run["output"] == [0, 10, 20]

    bodies = starts(core, run_id)
    assert [(e["step"], e["index"]) for e in bodies] == [("s", 0), ("s", 1), ("s", 2)]

    steps = core.api.run_steps(run_id)
    assert [s["id"] for s in steps] == [sha1("s"), sha1("s:1"), sha1("s:2")]
    assert [s["name"] for s in steps] == ["s", "s", "s"]
    assert [s["output"] for s in steps] == [0, 10, 20]


@pytest.mark.slow
def test_sleep_delays_next_step(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/sleeper", timeout=30)
    run_id = str(run["run_id"])
    assert run["output"] == "after"

    by_step: dict[str, list[JSONDict]] = {}
    for entry in core.sidefx.select(run_id=run_id):
        by_step.setdefault(f"{entry['kind']}:{entry['step']}", []).append(entry)
    assert len(by_step["START:before"]) == 1
    assert len(by_step["START:after"]) == 1
    before_end = by_step["END:before"][0]["mono"]
    after_start = by_step["START:after"][0]["mono"]
    gap = after_start - before_end
    assert 2.0 <= gap <= 3.0, f"step after a 2 s sleep started {gap:.3f}s after the previous step"

    steps = core.api.run_steps(run_id)
    assert [(s["name"], s["op"]) for s in steps] == [
        ("before", "StepRun"),
        ("nap", "Sleep"),
        ("after", "StepRun"),
    ]
    assert steps[1]["output"] is None


def test_parallel_group(core: Stack) -> None:
    run = core.api.trigger_and_wait("core/parallel")
    run_id = str(run["run_id"])

    assert run["output"] == {"parallel": [1, 2, 3], "after": 6}

    counts = Counter(e["step"] for e in starts(core, run_id))
    assert counts == {"p1": 1, "p2": 1, "p3": 1, "after": 1}

    # The step after the group starts only once every leg has finished.
    leg_ends = [e["mono"] for e in ends(core, run_id) if e["step"] in {"p1", "p2", "p3"}]
    after_start = next(e["mono"] for e in starts(core, run_id) if e["step"] == "after")
    assert len(leg_ends) == 3
    assert after_start > max(leg_ends)

    steps = core.api.run_steps(run_id)
    names = [s["name"] for s in steps]
    assert sorted(names[:3]) == ["p1", "p2", "p3"]
    assert names[3:] == ["after"]
    outputs: dict[str, Any] = {s["name"]: s["output"] for s in steps}
    assert outputs == {"p1": 1, "p2": 2, "p3": 3, "after": 6}
