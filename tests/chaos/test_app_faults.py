"""Faults on the app's side: the app killed mid-load, a step that hangs past `--call-timeout`.

- The SDK app is killed with SIGKILL while runs step, and started again on the same port a moment
  later. Calls refused meanwhile are retried (the function has retries to spare): every run
  completes exactly once, and a step body re-ran only where it was in flight at the kill.
- A step body that hangs longer than `--call-timeout`: the call is abandoned at the timeout and
  retried; a function whose body hangs only on its first attempt completes, one whose body always
  hangs fails cleanly once its retries are spent. Nothing stays Running.
"""

from __future__ import annotations

import signal
import time

import pytest

from integration.harness import (
    TERMINAL_STATUSES,
    Stack,
    restart_app,
    running_stack,
    start_run,
    wait_until,
)

from .load import EventSender, Fault, check_outputs, check_reruns, wait_all_completed
from .observe import log_failure_report

pytestmark = [pytest.mark.slow]

SLUG = "chaos-three"
EVENTS = 100
MAX_IN_FLIGHT = 8
APP_DOWN_SECONDS = 1.5
CALL_TIMEOUT = 1
HANG_SECONDS = 6


def test_app_killed_mid_load_and_restarted(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_stack(
        tmp_path_factory.mktemp("app_kill"),
        "chaos_app",
        [SLUG],
        server_args=["--max-in-flight", str(MAX_IN_FLIGHT)],
        app_env={"CHAOS_STEP_SECONDS": "0.1"},
    ) as stack:
        sender = EventSender(lambda: [stack.server.url], "chaos/three")
        sender.send(range(EVENTS))
        stack.sidefx.wait_for(
            lambda es: sum(e["kind"] == "END" for e in es) >= EVENTS,
            timeout=30,
            what="a third of the step bodies to finish",
        )
        fault = kill_and_restart_app(stack)
        runs = wait_all_completed(lambda: [stack.server.url], SLUG, EVENTS)
        check_outputs(runs, sender.accepted)
        reruns = check_reruns(stack.sidefx.read(), [fault], MAX_IN_FLIGHT)
        report = log_failure_report([stack.server.stderr_path])
        assert not report, report
        print(f"app down {fault.ended - fault.began:.1f}s; {reruns} bodies re-ran")


def kill_and_restart_app(stack: Stack) -> Fault:
    assert stack.app.proc is not None
    began = time.monotonic()
    stack.app.proc.send_signal(signal.SIGKILL)
    stack.app.proc.wait(timeout=10)
    time.sleep(APP_DOWN_SECONDS)
    restart_app(stack, extra_env={}, name="app-restarted")
    return Fault("app kill -9", began, time.monotonic())


def test_step_hanging_past_the_call_timeout(tmp_path_factory: pytest.TempPathFactory) -> None:
    with running_stack(
        tmp_path_factory.mktemp("hang"),
        "chaos_app",
        ["chaos-hang-once", "chaos-hang-always"],
        server_args=["--call-timeout", str(CALL_TIMEOUT)],
        app_env={"CHAOS_HANG_SECONDS": str(HANG_SECONDS)},
    ) as stack:
        api = stack.api
        began = time.monotonic()
        once = start_run(api, "chaos/hang-once", {})
        always = start_run(api, "chaos/hang-always", {})
        done = api.wait_for_run_status(once, "Completed", timeout=HANG_SECONDS)
        assert done["output"] == {"step": "answered on attempt 1"}, done
        # Two attempts of CALL_TIMEOUT each and a backoff: well before a body's hang ends.
        failed = wait_until(
            lambda: (
                run if (run := api.get_run(always)) and run["status"] in TERMINAL_STATUSES else None
            ),
            timeout=HANG_SECONDS,
            what="the always-hanging run to end",
            on_timeout=stack.server.log_tail,
        )
        assert failed["status"] == "Failed", failed
        took = time.monotonic() - began
        starts = stack.sidefx.select(kind="START", run_id=always)
        assert len(starts) == 2, f"1 retry means 2 attempts, got {len(starts)}"
        assert not api.list_runs("chaos-hang-once", status="Running")
        assert not api.list_runs("chaos-hang-always", status="Running")
        report = log_failure_report([stack.server.stderr_path])
        assert not report, report
        print(f"both runs ended {took:.1f}s after they started; failure: {failed.get('output')}")
