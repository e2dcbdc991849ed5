"""The executor: load a run, call the SDK, record the answer before acting on it, go on.

After a plain step result the same worker calls the app again at once while it holds the run's
queue item ("stay on the run"); the queue is only for waiting (sleep, retry, parallel steps,
waits and invokes).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from mainspring import codec, errors
from mainspring.clock import Clock
from mainspring.domain.functions import FunctionDef
from mainspring.domain.queue import Kind, QueueItem
from mainspring.domain.runs import RunState, RunStatus
from mainspring.execution import gateway, opcodes, recording, retry
from mainspring.execution.driver import (
    CallFailed,
    CallRefused,
    ConnectCalls,
    Driver,
    Reply,
    WorkerLost,
    step_url,
)
from mainspring.execution.egress import Egress
from mainspring.ingest import accept
from mainspring.protocol import endpoints, sidecar
from mainspring.protocol.sidecar import Sidecar
from mainspring.registry import Registry
from mainspring.runs import sidecar as run_sidecar
from mainspring.runs import transitions
from mainspring.runs.checkpoints import CheckpointLog, may_have_checkpointed
from mainspring.runs.transitions import Effects
from mainspring.settings import Settings
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo

log = logging.getLogger("mainspring.executor")
MAX_CALLS_PER_LEASE = 1000
WORKER_LOST_DELAY_MS = 500  # a Connect call whose worker went away is tried again after this


def build_request(
    state: RunState,
    item: QueueItem,
    function: FunctionDef,
    attempt: int,
    *,
    state_limit: int,
    encode: Callable[[Any], bytes] = codec.dumpb,
) -> bytes:
    """The call body; past `state_limit` bytes the SDK fetches events and steps through the API."""
    ctx = {
        "run_id": state.run_id,
        "attempt": attempt,
        "max_attempts": function.max_attempts,
        "disable_immediate_execution": state.force_plan,
        "use_api": False,
        "stack": {"stack": state.stack, "current": len(state.stack)},
        "env": "dev",
        "step_id": item.step_id or "step",
        # fn_id and qi_id switch the TypeScript SDK into async checkpointing (served by us).
        "fn_id": function.id,
        "qi_id": item.id,
    }
    request = {
        "event": state.events[0] if state.events else {},
        "events": state.events,
        "steps": state.steps,
        "ctx": ctx,
        "version": state.request_version,
        "use_api": False,
    }
    if state.defers:  # defers it reported already: not again; `abortable` while still live
        request["defers"] = {key: {"abortable": st == "live"} for key, st in state.defers.items()}
    body = encode(request)
    if len(body) <= state_limit:
        return body
    ctx["use_api"] = True
    request.update(events=[], steps={}, use_api=True)
    return encode(request)


class Executor:
    def __init__(
        self,
        connector: Connector,
        registry: Registry,
        driver: Driver,
        settings: Settings,
        clock: Clock,
        notify: Callable[[int | None], None],
        checkpoints: CheckpointLog,
        *,
        egress: Egress,
        is_held: Callable[[str], bool] = lambda slug: False,
        on_call: Callable[[str, float, bool], None] = lambda slug, seconds, ok: None,
        connect: ConnectCalls | None = None,
    ) -> None:
        self._connector = connector
        self._registry = registry
        self._driver = driver
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._checkpoints = checkpoints
        self._egress = egress  # the requests of step.fetch and step.ai.infer
        # SQLite has one process per file; on PostgreSQL a checkpoint may reach another one.
        self._shared_store = connector.dialect != "sqlite"
        self._rng = random.Random()
        self._draining = False
        self._is_held = is_held  # paused / kill switch: stop at the next step boundary
        self._on_call = on_call  # metrics: (function slug, seconds, succeeded)
        self._connect = connect  # the Connect gateway: apps whose workers dial in

    def drain(self) -> None:
        """Finish calls in flight but start no new call: the queue keeps the rest."""
        self._draining = True

    async def process(self, item: QueueItem) -> None:
        state = item.state  # read with the lease, usually
        if state is None:
            state = await self._connector.read(lambda tx: runs_repo.load_state(tx, item.run_id))
        if state is None or state.status.is_terminal:
            await self._connector.write(lambda tx: queue_repo.delete(tx, item.id))
            return
        if item.kind is Kind.SLEEP:
            now = self._clock()
            await self._connector.write(lambda tx: recording.record_wake(tx, state, item, now))
            self._notify(None)
            return
        function = await self._registry.find(state.function_slug)
        if function is None:
            error = {"name": "FunctionNotFound", "message": f"{state.function_slug} is not synced"}
            await self._finish(state, item, RunStatus.FAILED, error, error)
            return
        await self._drive(state, item, function)

    async def _drive(self, state: RunState, item: QueueItem, function: FunctionDef) -> None:
        attempt = item.attempt
        checkpoints = self._checkpoints
        for _ in range(MAX_CALLS_PER_LEASE):
            seen, seen_defers = (
                checkpoints.count(state.run_id),
                checkpoints.defer_count(state.run_id),
            )
            planning = state.force_plan
            checkpoints.expect(state.run_id)
            try:
                decision, sdk = await self._call(state, item, function, attempt)
            except WorkerLost as exc:
                checkpoints.take_steps(state.run_id)  # the next lease reads the run afresh
                log.info("run %s: %s; the call goes back to the queue", state.run_id, exc)
                await self._give_back(item, attempt, exc.retry_in_ms)
                return
            except BaseException:
                checkpoints.take_steps(state.run_id)
                raise
            # Steps (and defers) the SDK checkpointed during the call are in the store, not in
            # `state`: this process saw them arrive, or (another process took them) it cannot
            # know. A run that ends now looks for its defers in the store then.
            elsewhere = self._shared_store and may_have_checkpointed(
                sdk, attempt, item.step_id is not None, planning
            )
            stale = checkpoints.count(state.run_id) != seen or elsewhere
            state.defers_stale = checkpoints.defer_count(state.run_id) != seen_defers or elsewhere
            checkpointed = checkpoints.take_steps(state.run_id)
            if not await self._record(state, item, function, decision, attempt):
                return
            # The next call must carry every memoized step, or they would run again. Steps
            # checkpointed to this process are added as they were saved, no read-back, unless
            # others may have reached another process (PostgreSQL) or defers came with them.
            if elsewhere or state.defers_stale or (stale and self._shared_store):
                await self._reload_steps(state)
            elif stale:
                for step_id, memo in checkpointed:
                    if step_id not in state.steps:  # a saved memo is never overwritten
                        state.steps[step_id] = memo
                        state.stack.append(step_id)
            attempt = 0
            if self._draining or self._is_held(function.slug):
                await self._hand_back(item)
                return
        error = {"name": "TooManySteps", "message": f"more than {MAX_CALLS_PER_LEASE} calls"}
        await self._finish(state, item, RunStatus.FAILED, error, error)

    async def _reload_steps(self, state: RunState) -> None:
        """Steps checkpointed by the SDK during the call are in the store, not in memory."""
        fresh = await self._connector.read(lambda tx: runs_repo.load_state(tx, state.run_id))
        if fresh is not None:
            state.steps, state.stack, state.defers = fresh.steps, fresh.stack, fresh.defers

    async def _hand_back(self, item: QueueItem) -> None:
        now = self._clock()
        await self._connector.write(
            lambda tx: queue_repo.reschedule(tx, item.id, attempt=0, available_at=now)
        )
        self._notify(None)  # leased again at once: run on, or parked if its function is held

    async def _give_back(self, item: QueueItem, attempt: int, delay_ms: int | None) -> None:
        """No reply and nothing recorded: the same call again soon, the attempt not counted."""
        later = self._clock() + (WORKER_LOST_DELAY_MS if delay_ms is None else delay_ms)
        await self._connector.write(
            lambda tx: queue_repo.reschedule(tx, item.id, attempt=attempt, available_at=later)
        )
        self._notify(later)

    async def _call(
        self, state: RunState, item: QueueItem, function: FunctionDef, attempt: int
    ) -> tuple[opcodes.Decision, str]:
        """What the reply means, and the SDK that sent it ("" without a reply)."""
        settings = self._settings
        if state.started_at is None:  # the run starts when its first call goes out
            state.started_at = self._clock()
        retry_delay = retry.backoff_ms(
            attempt + 1, settings.backoff_base_ms, settings.backoff_max_ms, self._rng
        )
        started = time.perf_counter()
        state.call_started_at = self._clock()
        try:
            reply = await self._send(state, item, function, attempt)
        except errors.InvalidInput as exc:  # an endpoint run whose trigger is no HTTP request
            error = {"name": "NotAnEndpointRequest", "message": exc.message}
            return opcodes.Fail(error, opcodes.error_summary(None, error)), ""
        except CallRefused as exc:
            log.error("run %s: %s", state.run_id, exc)
            error = {"name": "SignatureError", "message": str(exc)}
            return opcodes.Fail(error, opcodes.error_summary(None, error)), ""
        except WorkerLost:
            raise
        except CallFailed as exc:
            self._on_call(function.slug, time.perf_counter() - started, False)
            context = opcodes.CallContext(
                attempt, function.max_attempts, retry_delay, self._clock()
            )
            return opcodes.call_failed(str(exc), context), ""
        self._on_call(function.slug, time.perf_counter() - started, True)
        if reply.request_version is not None and reply.request_version != state.request_version:
            state.request_version = reply.request_version
        context = opcodes.CallContext(attempt, function.max_attempts, retry_delay, self._clock())
        decision = opcodes.decide(reply, context)
        if isinstance(decision, opcodes.Progress) and decision.requests:
            decision = await gateway.resolve(decision, context, self._egress, self._clock)
        return decision, reply.sdk

    async def _send(
        self, state: RunState, item: QueueItem, function: FunctionDef, attempt: int
    ) -> Reply:
        step_id = item.step_id or "step"
        if function.endpoint:  # its own request replayed; the SDK fetches state via the API
            call = endpoints.call_of(state.events[0] if state.events else {})
            return await self._driver.call_endpoint(
                call, state.run_id, step_id, state.request_version, state.force_plan
            )
        body = build_request(
            state,
            item,
            function,
            attempt,
            state_limit=self._settings.state_limit,
            encode=self._driver.encode,
        )
        if self._connect is not None and self._connect.handles(function):
            return await self._connect.call(function, state.run_id, step_id, body)
        url = step_url(function.url, step_id)
        return await self._driver.call(url, body, state.run_id, step_id, state.request_version)

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
        first_call = not state.start_recorded
        if isinstance(decision, (opcodes.Complete, opcodes.Fail)):
            failed = isinstance(decision, opcodes.Fail)
            status = RunStatus.FAILED if failed else RunStatus.COMPLETED
            error = decision.error if isinstance(decision, opcodes.Fail) else None
            await self._finish(
                state, item, status, decision.output, error, first_call, decision.sidecar
            )
            return False
        if isinstance(decision, opcodes.Retry):
            return await self._retry(state, item, function, decision, attempt, now, first_call)
        progress = decision
        registry = self._registry

        def unit(tx: Tx, effects: Effects) -> recording.Recorded:
            self._start_unit(tx, state, function, now, first_call)
            return recording.record_progress(
                tx, state, item, progress, attempt, now, registry, effects
            )

        effects = Effects()
        recorded = await self._connector.write(lambda tx: unit(tx, effects))
        go_on = recorded.go_on
        if go_on and not recorded.all_written():
            go_on = await self._connector.write(lambda tx: recording.after_refusal(tx, state, item))
        if not go_on or effects.new_work:
            self._notify(None)
        return go_on

    async def _retry(
        self,
        state: RunState,
        item: QueueItem,
        function: FunctionDef,
        decision: opcodes.Retry,
        attempt: int,
        now: int,
        first_call: bool,
    ) -> bool:
        if attempt + 1 >= function.max_attempts:
            error = decision.error if isinstance(decision.error, dict) else {}
            summary = opcodes.error_summary(None, error)
            await self._finish(
                state, item, RunStatus.FAILED, error, summary, first_call, decision.sidecar
            )
            return False

        def unit(tx: Tx) -> None:
            self._start_unit(tx, state, function, now, first_call)
            recording.record_retry(tx, state, item, decision, attempt, now)

        await self._connector.write(unit)
        self._notify(now + decision.delay_ms)
        return False

    @staticmethod
    def _start_unit(
        tx: Tx, state: RunState, function: FunctionDef, now: int, first_call: bool
    ) -> None:
        if first_call:
            transitions.mark_started(tx, state, now, function.finish_timeout_ms)

    async def _finish(
        self,
        state: RunState,
        item: QueueItem,
        status: RunStatus,
        output: Any,
        error: dict[str, Any] | None,
        first_call: bool = False,
        riders: Sidecar = sidecar.NONE,
    ) -> None:
        now = self._clock()
        registry = self._registry

        def unit(tx: Tx, effects: Effects) -> None:
            if first_call:
                transitions.mark_started(tx, state, now)
            if riders:  # defers reported with the last answer: stored before the run ends
                run_sidecar.record(tx, state.run_id, riders, now, state.defers)
            if not accept.end_run(tx, state, status, output, error, now, registry, effects):
                queue_repo.delete(tx, item.id)

        effects = Effects()
        await self._connector.write(lambda tx: unit(tx, effects))
        self._checkpoints.forget(state.run_id)
        if effects.new_work:
            self._notify(None)
