"""The executor: load a run, call the SDK, record the answer before acting on it, go on.

After a plain step result the same worker calls the app again at once while it holds the run's
queue item ("stay on the run"); the queue is only for waiting (sleep, retry, parallel steps).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from mainspring import codec, ingest
from mainspring.clock import Clock
from mainspring.config import Settings
from mainspring.domain.functions import FunctionDef
from mainspring.domain.runs import RunState, RunStatus
from mainspring.execution import lifecycle, opcodes, recording, retry
from mainspring.execution.driver import CallFailed, Driver, step_url
from mainspring.queue.kinds import Kind, QueueItem
from mainspring.registry import Registry
from mainspring.store.base import Connector
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo

log = logging.getLogger("mainspring.executor")
MAX_CALLS_PER_LEASE = 1000


def build_request(state: RunState, item: QueueItem, max_attempts: int, attempt: int) -> bytes:
    return codec.dumpb(
        {
            "event": state.events[0] if state.events else {},
            "events": state.events,
            "steps": state.steps,
            "ctx": {
                "run_id": state.run_id,
                "attempt": attempt,
                "max_attempts": max_attempts,
                "disable_immediate_execution": state.force_plan,
                "use_api": False,
                "stack": {"stack": state.stack, "current": len(state.stack)},
                "env": "dev",
                "step_id": item.step_id or "step",
            },
            "version": state.request_version,
            "use_api": False,
        }
    )


class Executor:
    def __init__(
        self,
        connector: Connector,
        registry: Registry,
        driver: Driver,
        settings: Settings,
        clock: Clock,
        notify: Callable[[int | None], None],
    ) -> None:
        self._connector = connector
        self._registry = registry
        self._driver = driver
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._rng = random.Random()
        self._draining = False

    def drain(self) -> None:
        """Finish calls in flight but start no new call: the queue keeps the rest."""
        self._draining = True

    async def process(self, item: QueueItem) -> None:
        state = await self._connector.read(lambda tx: runs_repo.load_state(tx, item.run_id))
        if state is None or state.status.is_terminal:
            await self._connector.write(lambda tx: queue_repo.delete(tx, item.id))
            return
        if item.kind is Kind.SLEEP:
            now = self._clock()
            await self._connector.write(lambda tx: recording.record_wake(tx, state, item, now))
            self._notify(None)
            return
        function = self._registry.get(state.function_slug)
        if function is None:
            error = {"name": "FunctionNotFound", "message": f"{state.function_slug} is not synced"}
            await self._finish(state, item, RunStatus.FAILED, error, error)
            return
        await self._drive(state, item, function)

    async def _drive(self, state: RunState, item: QueueItem, function: FunctionDef) -> None:
        attempt = item.attempt
        for _ in range(MAX_CALLS_PER_LEASE):
            decision = await self._call(state, item, function, attempt)
            if not await self._record(state, item, function, decision, attempt):
                return
            attempt = 0
            if self._draining:
                await self._hand_back(item)
                return
        error = {"name": "TooManySteps", "message": f"more than {MAX_CALLS_PER_LEASE} calls"}
        await self._finish(state, item, RunStatus.FAILED, error, error)

    async def _hand_back(self, item: QueueItem) -> None:
        now = self._clock()
        await self._connector.write(
            lambda tx: queue_repo.reschedule(tx, item.id, attempt=0, available_at=now)
        )

    async def _call(
        self, state: RunState, item: QueueItem, function: FunctionDef, attempt: int
    ) -> opcodes.Decision:
        step_id = item.step_id or "step"
        body = build_request(state, item, function.max_attempts, attempt)
        settings = self._settings
        retry_delay = retry.backoff_ms(
            attempt + 1, settings.backoff_base_ms, settings.backoff_max_ms, self._rng
        )
        try:
            reply = await self._driver.call(
                step_url(function.url, step_id), body, state.run_id, step_id, state.request_version
            )
        except CallFailed as exc:
            context = opcodes.CallContext(
                attempt, function.max_attempts, retry_delay, self._clock()
            )
            return opcodes.call_failed(str(exc), context)
        if reply.request_version is not None and reply.request_version != state.request_version:
            state.request_version = reply.request_version
        context = opcodes.CallContext(attempt, function.max_attempts, retry_delay, self._clock())
        return opcodes.decide(reply, context)

    async def _record(
        self,
        state: RunState,
        item: QueueItem,
        function: FunctionDef,
        decision: opcodes.Decision,
        attempt: int,
    ) -> bool:
        """Commit what the reply means; True when the same item should call the app again."""
        now = self._clock()
        first_call = state.started_at is None
        state.started_at = state.started_at or now
        if isinstance(decision, opcodes.Complete):
            await self._finish(state, item, RunStatus.COMPLETED, decision.output, None, first_call)
            return False
        if isinstance(decision, opcodes.Fail):
            await self._finish(
                state, item, RunStatus.FAILED, decision.output, decision.error, first_call
            )
            return False
        if isinstance(decision, opcodes.Progress) and not (decision.saved or decision.scheduled):
            if item.is_discovery:  # nothing to do and nothing pending would strand the run
                decision = opcodes.Retry(
                    self._settings.backoff_base_ms, {"message": "empty reply to a discovery call"}
                )
        if isinstance(decision, opcodes.Retry):
            if attempt + 1 >= function.max_attempts:
                error = decision.error if isinstance(decision.error, dict) else {}
                summary = opcodes.error_summary(None, error)
                await self._finish(state, item, RunStatus.FAILED, error, summary, first_call)
                return False
            retry_decision = decision
            await self._connector.write(
                lambda tx: self._retry_unit(
                    tx, state, item, retry_decision, attempt, now, first_call
                )
            )
            self._notify(now + decision.delay_ms)
            return False
        progress = decision
        go_on: bool = await self._connector.write(
            lambda tx: self._progress_unit(tx, state, item, progress, attempt, now, first_call)
        )
        if not go_on:
            self._notify(None)
        return go_on

    def _retry_unit(
        self,
        tx: Any,
        state: RunState,
        item: QueueItem,
        decision: opcodes.Retry,
        attempt: int,
        now: int,
        first_call: bool,
    ) -> None:
        self._start_unit(tx, state, now, first_call)
        recording.record_retry(tx, state, item, decision, attempt, now)

    def _progress_unit(
        self,
        tx: Any,
        state: RunState,
        item: QueueItem,
        progress: opcodes.Progress,
        attempt: int,
        now: int,
        first_call: bool,
    ) -> bool:
        self._start_unit(tx, state, now, first_call)
        return recording.record_progress(tx, state, item, progress, attempt, now)

    def _start_unit(self, tx: Any, state: RunState, now: int, first_call: bool) -> None:
        if first_call:
            runs_repo.mark_started(tx, state.run_id, now)
            if state.request_version != -1:
                recording.record_version(tx, state)

    async def _finish(
        self,
        state: RunState,
        item: QueueItem,
        status: RunStatus,
        output: Any,
        error: dict[str, Any] | None,
        first_call: bool = False,
    ) -> None:
        now = self._clock()
        raw_events = lifecycle.finish_events(state, status, output, error, now)
        prepared = ingest.prepare(raw_events, self._registry, now, internal=True)

        def unit(tx: Any) -> list[str]:
            self._start_unit(tx, state, now, first_call)
            return recording.record_finish(tx, state, item, status, output, prepared, now)

        started = await self._connector.write(unit)
        if started:
            self._notify(None)
