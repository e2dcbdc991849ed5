"""Supervised background work: no thread or task of ours may die silently or hang unseen.

Every long-lived thread and task owns a `Component`. It records what the component is doing
(idle, in a unit of work since when), whether it is up, and how often it was restarted. The
supervising loops here (`supervise` for tasks; threads call `Component.crashed` from their own
catch-all) log any exception with its traceback, back off and start the body again. `/health`
reads every component and answers 503 naming each one that is down or stalled.

This module imports nothing of ours: the store's threads, the queue's loops and the operations'
rounds all use it.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger("mainspring.supervisor")
# Waits before restarting a failed component: the first restart is quick (a one-off bug), a
# component that keeps failing is retried every few seconds rather than in a hot loop.
RESTART_BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0)
# A unit of work taking longer than this is a stall (a hung connection, a deadlock).
DEFAULT_DEADLINE_S = 30.0


def backoff(attempt: int) -> float:
    return RESTART_BACKOFF_S[min(attempt, len(RESTART_BACKOFF_S) - 1)]


@dataclass(frozen=True)
class Problem:
    component: str
    reason: str

    def __str__(self) -> str:
        return f"{self.component} {self.reason}"


class Component:
    """The health of one background thread or task. Written by its owner, read by `/health`
    (from another thread: each field is replaced whole, so a reader sees old or new values)."""

    def __init__(self, name: str, *, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        self.name = name
        self.deadline_s = deadline_s
        self.restarts = 0
        self.last_error: str | None = None
        self._down: str | None = None  # why it is down; None while up
        self._busy_since: float | None = None
        self._alive: Callable[[], bool] = lambda: True

    def watch(self, alive: Callable[[], bool]) -> None:
        """How to tell whether the thread or task behind this component still exists."""
        self._alive = alive

    def busy(self) -> None:
        self._busy_since = time.monotonic()

    def idle(self) -> None:
        self._busy_since = None

    def down(self, reason: str) -> None:
        """Up but unable to work (its database is away): degraded until `up`."""
        self.last_error = reason
        self._down = reason

    def up(self) -> None:
        self._down = None

    def crashed(self, exc: BaseException, delay_s: float) -> None:
        """An exception escaped the component's body: log it, count the restart to come."""
        log.error(
            "component %s failed; restarting in %.1fs",
            self.name,
            delay_s,
            exc_info=(type(exc), exc, exc.__traceback__),
        )
        self.restarts += 1
        self._busy_since = None
        self.down(f"failed: {type(exc).__name__}: {exc}")

    def problem(self, now: float | None = None) -> Problem | None:
        if not self._alive():
            return Problem(self.name, "is not running")
        if self._down is not None:
            return Problem(self.name, f"is down ({self._down})")
        since = self._busy_since
        now = time.monotonic() if now is None else now
        if since is not None and now - since > self.deadline_s:
            return Problem(self.name, f"is stalled ({now - since:.0f}s in one unit of work)")
        return None

    def report(self, problem: Problem | None) -> dict[str, object]:
        """Its line in `/health`, from the problem found in the same look (so the status
        and the components never disagree)."""
        state = "ok"
        if problem is not None:
            state = "down" if self._down is not None or not self._alive() else "stalled"
        return {"state": state, "restarts": self.restarts, "last_error": self.last_error}


class Supervisor:
    """Every component of the process, gathered from their owners on each look (components
    come and go: a LISTEN thread starts on first use, a closed connector takes its own away)."""

    def __init__(self, sources: Iterable[Callable[[], Iterable[Component]]]) -> None:
        self._sources = list(sources)

    def add(self, source: Callable[[], Iterable[Component]]) -> None:
        self._sources.append(source)

    def components(self) -> list[Component]:
        return [component for source in self._sources for component in source()]

    def check(self) -> tuple[list[Problem], dict[str, dict[str, object]]]:
        """One look at every component: what is wrong, and each one's report."""
        now = time.monotonic()
        problems: list[Problem] = []
        report: dict[str, dict[str, object]] = {}
        for component in self.components():
            problem = component.problem(now)
            report[component.name] = component.report(problem)
            if problem is not None:
                problems.append(problem)
        return problems, report


async def supervise(component: Component, body: Callable[[], Awaitable[None]]) -> None:
    """Run `body` until it returns; whenever it raises, log, back off and run it again.
    Cancellation (shutdown) goes through."""
    attempt = 0
    while True:
        try:
            await body()
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            delay = backoff(attempt)
            component.crashed(exc, delay)
            attempt += 1
        await asyncio.sleep(delay)
        component.up()


def start_supervised(
    component: Component, body: Callable[[], Awaitable[None]]
) -> asyncio.Task[None]:
    """A task running `body` under `supervise`, watched by `component`."""
    task = asyncio.create_task(supervise(component, body), name=f"mainspring-{component.name}")
    component.watch(lambda: not task.done())
    return task


def watch_thread(component: Component, thread: threading.Thread) -> None:
    """A thread that has ended while its owner still counts on it is a component down."""
    component.watch(lambda: thread.is_alive() or not thread.ident)
