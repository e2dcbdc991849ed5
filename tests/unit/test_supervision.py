"""The supervisor's own rules: a failing task is logged and restarted, a stall and a death are
reported by name, shutdown (cancellation) goes through."""

import asyncio
import threading

import pytest

from mainspring.supervision import Component, Supervisor, start_supervised, watch_thread


async def test_a_failing_task_is_logged_restarted_and_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    component = Component("worker-test")
    runs = 0
    healthy_again = asyncio.Event()

    async def body() -> None:
        nonlocal runs
        runs += 1
        if runs <= 2:
            raise RuntimeError(f"crash {runs}")
        healthy_again.set()
        await asyncio.sleep(3600)

    task = start_supervised(component, body)
    await asyncio.wait_for(healthy_again.wait(), 5)
    assert runs == 3
    assert component.restarts == 2
    assert component.last_error == "failed: RuntimeError: crash 2"
    assert component.problem() is None  # back up after its restart
    assert caplog.text.count("component worker-test failed; restarting in") == 2
    assert "Traceback" in caplog.text
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert "is not running" in str(component.problem())


async def test_a_crashed_task_is_down_until_it_restarts() -> None:
    component = Component("periodic-x")
    crashed = asyncio.Event()

    async def body() -> None:
        crashed.set()
        raise ValueError("boom")

    task = start_supervised(component, body)
    await asyncio.wait_for(crashed.wait(), 5)
    await asyncio.sleep(0)
    assert "periodic-x is down (failed: ValueError: boom)" == str(component.problem())
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_a_unit_of_work_past_its_deadline_is_a_stall() -> None:
    component = Component("db-writer-0", deadline_s=10.0)
    component.busy()
    started = component._busy_since
    assert started is not None
    assert component.problem(started + 9.9) is None
    assert "db-writer-0 is stalled (11s in one unit of work)" == str(
        component.problem(started + 11.0)
    )
    component.idle()
    assert component.problem(started + 11.0) is None


def test_a_thread_that_ended_is_reported_not_running() -> None:
    component = Component("db-listener")
    thread = threading.Thread(target=lambda: None)
    watch_thread(component, thread)
    assert component.problem() is None  # not started yet: nothing to miss
    thread.start()
    thread.join()
    assert "db-listener is not running" == str(component.problem())
    assert component.report(component.problem())["state"] == "down"


def test_the_supervisor_gathers_components_on_each_look() -> None:
    present: list[Component] = []
    supervisor = Supervisor([lambda: present])
    assert supervisor.check() == ([], {})
    broken = Component("db-reader-1")
    broken.down("database unavailable: gone")
    present.append(broken)
    problems, report = supervisor.check()
    assert [str(p) for p in problems] == ["db-reader-1 is down (database unavailable: gone)"]
    assert report == {
        "db-reader-1": {
            "state": "down",
            "restarts": 0,
            "last_error": "database unavailable: gone",
        }
    }
