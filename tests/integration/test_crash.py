"""kill -9 in the middle of work: after a restart on the same database every run completes and
no step body runs twice unless it was in flight when the server died."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest

from .harness import JSONDict, running_stack

EVENTS = 30
STEPS = ("a", "b", "c")
TOTAL_BODIES = EVENTS * len(STEPS)
MAX_IN_FLIGHT = 4
# A step body that logged END this long before the kill may still have had its reply in transit
# (SDK response → server → durable write): the server cannot have recorded it, so a re-run is
# allowed. Anything that finished earlier than this must have been recorded and never run again.
REPLY_GRACE = 0.5


@pytest.mark.slow
def test_kill9_midway_then_restart_completes_every_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("crash")
    # At most MAX_IN_FLIGHT calls at once spreads the 90 bodies over ~4.5 s, so that by the kill
    # most finished steps ended long before it (a server that lost them would re-run them).
    with running_stack(
        workdir,
        "durability_app",
        ["dur-three-steps"],
        server_args=["--max-in-flight", str(MAX_IN_FLIGHT)],
    ) as stack:
        api, sidefx = stack.api, stack.sidefx
        event_ids = api.send_events(
            [{"name": "dur/three", "data": {"i": i}} for i in range(EVENTS)]
        )

        sidefx.wait_for(
            lambda es: sum(e["kind"] == "END" for e in es) >= TOTAL_BODIES // 2,
            timeout=60,
            what="half of the step bodies to finish",
        )
        kill_started = time.monotonic()
        stack.server.kill()
        kill_done = time.monotonic()
        ended_before_kill = sum(
            1 for e in sidefx.read() if e["kind"] == "END" and e["mono"] < kill_started
        )
        assert ended_before_kill < TOTAL_BODIES, "the kill came too late to test anything"
        long_done = sum(
            1
            for e in sidefx.read()
            if e["kind"] == "END" and e["mono"] < kill_started - REPLY_GRACE
        )
        assert long_done >= TOTAL_BODIES // 4, (
            f"only {long_done} bodies had finished well before the kill: the test has no teeth"
        )

        restart_at = time.monotonic()
        stack.server.start()
        api.reset()

        outputs: dict[int, JSONDict] = {}
        run_ids: set[str] = set()
        for event_id in event_ids:
            runs = api.runs_for_event(event_id, timeout=30)
            assert len(runs) == 1, f"event {event_id} has {len(runs)} runs after restart"
            run = api.wait_for_run_status(str(runs[0]["run_id"]), "Completed", timeout=60)
            outputs[run["output"]["i"]] = run["output"]
            run_ids.add(str(run["run_id"]))
        assert sorted(outputs) == list(range(EVENTS))
        for i, output in outputs.items():
            assert output["results"] == [f"{s}{i}" for s in STEPS]

        check_executions(sidefx.read(), run_ids, kill_started, kill_done, restart_at)


def check_executions(
    entries: list[JSONDict],
    run_ids: set[str],
    kill_started: float,
    kill_done: float,
    restart_at: float,
) -> None:
    """Pair START/END by exec_id and check the at-most-once rule for every (run, step).

    An execution is *interrupted by the kill* when it STARTed before the server was dead
    (start < kill_done) and did not END more than REPLY_GRACE before the kill began
    (no END, or end > kill_started - REPLY_GRACE). Only a (run, step) whose first
    execution was interrupted may run a second time, and never a third.
    """
    ends = {e["exec_id"]: e for e in entries if e["kind"] == "END"}
    executions: dict[tuple[str, str], list[JSONDict]] = defaultdict(list)
    for entry in entries:
        if entry["kind"] == "START":
            executions[(entry["run_id"], entry["step"])].append(entry)

    assert {run for run, _ in executions} == run_ids
    problems: list[str] = []
    for (run_id, step), starts in sorted(executions.items()):
        starts.sort(key=lambda e: e["mono"])
        last_end = ends.get(starts[-1]["exec_id"])
        if last_end is None or not last_end["ok"]:
            problems.append(f"{run_id}/{step}: last execution did not finish ok")
        if len(starts) == 1:
            continue
        first = starts[0]
        first_end = ends.get(first["exec_id"])
        interrupted = first["mono"] < kill_done and (
            first_end is None or first_end["mono"] > kill_started - REPLY_GRACE
        )
        if len(starts) > 2:
            problems.append(f"{run_id}/{step}: body executed {len(starts)} times")
        elif not interrupted:
            end_note = (
                "no END"
                if first_end is None
                else f"END {kill_started - first_end['mono']:.3f}s before kill"
            )
            problems.append(f"{run_id}/{step}: re-executed although not in flight ({end_note})")
        elif starts[1]["mono"] < restart_at:
            problems.append(f"{run_id}/{step}: second execution before the restart")
    assert {step for _, step in executions} == set(STEPS)
    assert len(executions) == TOTAL_BODIES
    assert not problems, "\n".join(problems)
