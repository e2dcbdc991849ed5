"""Durable endpoints: runs an app starts and checkpoints from inside its own HTTP request.

Sync mode: the SDK runs the steps in the user's request and reports them (`POST /v1/checkpoint`
creates the run, `…/{run}/steps` adds steps; `RunComplete` ends it with the handler's response).
The run's discovery item is its watchdog: created due at the sync deadline
(`--endpoint-sync-timeout`), pushed on by every checkpoint of plain step results.

Async mode: when the SDK stops running steps in the request (a step failed or must be retried, a
sleep, a wait, parallel steps, its time ran out) it checkpoints those ops and answers its caller
with a redirect to the run's output. The ops are recorded as a reply to the watchdog item, as
the executor records a reply: a retry reschedules the item, waits and planned steps queue their
own work, anything else makes the item due now. The executor then continues the run by replaying
the original request at the endpoint's URL (`Executor._send`). A request that died (the app
crashed, or the server was down past the SDK's checkpoint retries) leaves the item to its
deadline: the run is taken over then, from the last checkpoint, and never stays Running forever.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mainspring import errors
from mainspring.clock import Clock
from mainspring.domain.events import NewEvent
from mainspring.domain.runs import RunState, RunStatus
from mainspring.execution import opcodes, recording, retry
from mainspring.execution.driver import Reply
from mainspring.ingest import accept
from mainspring.ingest import events as event_input
from mainspring.protocol import endpoints as wire
from mainspring.protocol.opcodes import FUNCTION_ERROR_OPS, RUN_COMPLETE_ID, Op, parse_ops
from mainspring.registry import Registry
from mainspring.registry.sync import url_allowed
from mainspring.runs import sidecar as run_sidecar
from mainspring.runs.transitions import Effects
from mainspring.settings import Settings
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import endpoint_runs
from mainspring.store.repos import queue as queue_repo
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos.endpoint_runs import RunItem

DISCOVERY_REQUEST = "DiscoveryRequest"  # sync mode ran past its time: go on asynchronously
# Ops after which the SDK keeps running steps in the request; any other op hands the run over.
_SYNC_OPS = frozenset({"StepRun", "Step"})


@dataclass(frozen=True, slots=True)
class Applied:
    """A checkpoint's outcome: was there such a run; when is the work it queued due."""

    found: bool = True
    wake_at: int | None = None
    unknown_function: bool = False  # not (yet) in this process's registry: nothing was written


@dataclass(frozen=True, slots=True)
class Started:
    run_id: str
    fn_id: str
    app_id: str


class EndpointForbidden(errors.InvalidInput):
    """The endpoint's URL is not in the server's allow-list (`--app-url-allow`)."""

    status = 403
    code = "forbidden"


class Endpoints:
    def __init__(
        self,
        connector: Connector,
        registry: Registry,
        settings: Settings,
        clock: Clock,
        notify: Callable[[int | None], None],
    ) -> None:
        self._connector = connector
        self._registry = registry
        self._settings = settings
        self._clock = clock
        self._notify = notify
        self._rng = random.Random()

    async def start(self, body: Any) -> Started:
        """`POST /v1/checkpoint`: record the endpoint's function, its request as the trigger
        event, the running run and the steps it sends along. A resend changes nothing."""
        new = wire.parse_new_run(body)
        endpoint = wire.endpoint_of(new.event)
        if not url_allowed(endpoint.url, self._settings.app_url_allow):
            raise EndpointForbidden(
                "the endpoint's URL is not in the server's allow-list (--app-url-allow)",
                field="event.data.domain",
            )
        function = await self._registry.ensure_endpoint(endpoint, new.retries, self._clock())
        now = self._clock()
        event = self._trigger(new, now)

        def unit(tx: Tx, effects: Effects) -> int | None:
            accept.process_events(tx, [event], now, self._registry, effects)
            endpoint_runs.create(
                tx,
                run_id=new.run_id,
                function=function,
                event_id=event.internal_id,
                request_version=new.request_version,
                deadline=self._deadline(now),
                history_data={"durable_endpoint": endpoint.url},
                now=now,
            )
            wake_at = self._apply(tx, effects, new.run_id, new.steps, now).wake_at
            return self._deadline(now) if wake_at is None else min(wake_at, self._deadline(now))

        await self._run_unit(unit)
        return Started(new.run_id, function.id, function.app_id)

    async def checkpoint(self, run_id: str, body: Any) -> bool:
        """`POST /v1/checkpoint/{run}/steps`; False when there is no such run. Steps of a run
        that ended meanwhile (cancelled) are accepted and dropped, as Inngest does."""
        steps = body.get("steps") if isinstance(body, dict) else None
        if not isinstance(steps, list):
            raise errors.InvalidInput("steps must be a list of ops", field="steps")
        applied = await self._checkpoint_once(run_id, steps)
        if applied.unknown_function:  # another process recorded the endpoint a moment ago
            await self._registry.load()
            applied = await self._checkpoint_once(run_id, steps)
        return applied.found

    async def _checkpoint_once(self, run_id: str, steps: list[Any]) -> Applied:
        now = self._clock()
        applied: Applied = await self._run_unit(
            lambda tx, effects: self._apply(tx, effects, run_id, steps, now)
        )
        return applied

    async def _run_unit(self, unit: Callable[[Tx, Effects], Any]) -> Any:
        """Run `unit`, then tell the worker of the work it queued: events and runs it started,
        and the time of the item it made due (`Applied.wake_at`, or an int)."""
        effects = Effects()
        result = await self._connector.write(lambda tx: unit(tx, effects))
        wake_at = result.wake_at if isinstance(result, Applied) else result
        if effects.new_work:
            self._notify(None)
        elif isinstance(wake_at, int):
            self._notify(wake_at)
        return result

    def _trigger(self, new: wire.NewRun, now: int) -> NewEvent:
        """The request as an event; its internal id is the run's, so a resend stores nothing."""
        payload = event_input.normalize(new.event, 0, now, internal=True)
        payload["id"] = new.run_id
        return NewEvent(
            internal_id=new.run_id,
            payload=payload,
            sender_id=None,
            matches=self._registry.match(payload),
            seeded=True,
        )

    def _deadline(self, now: int) -> int:
        return now + int(self._settings.endpoint_sync_timeout_s * 1000)

    def _apply(self, tx: Tx, effects: Effects, run_id: str, raw: list[Any], now: int) -> Applied:
        state = runs_repo.load_state(tx, run_id)
        if state is None:
            return Applied(found=False)
        if state.status.is_terminal:
            return Applied()
        function = self._registry.get(state.function_slug)
        if function is None:
            return Applied(unknown_function=True)
        steps = [s for s in raw if not (isinstance(s, dict) and s.get("op") == DISCOVERY_REQUEST)]
        ops = parse_ops(steps)
        found = endpoint_runs.run_item(tx, run_id)
        if not ops:  # lazy ops only, or the SDK's time ran out ("DiscoveryRequest")
            if len(steps) == len(raw) or found is None or found.leased:
                return Applied()
            queue_repo.reschedule(tx, found.item.id, attempt=found.item.attempt, available_at=now)
            return Applied(wake_at=now)
        attempt = found.item.attempt if found is not None else 0
        delay = retry.backoff_ms(
            attempt + 1, self._settings.backoff_base_ms, self._settings.backoff_max_ms, self._rng
        )
        context = opcodes.CallContext(attempt, function.max_attempts, delay, now)
        decision = _function_error(ops, context) or opcodes.decide(_reply(steps), context)
        handed_over = len(steps) != len(raw) or any(op.op not in _SYNC_OPS for op in ops)
        return Applied(wake_at=self._record(tx, effects, state, found, decision, handed_over, now))

    def _record(
        self,
        tx: Tx,
        effects: Effects,
        state: RunState,
        found: RunItem | None,
        decision: opcodes.Decision,
        handed_over: bool,
        now: int,
    ) -> int | None:
        """Record the ops; when the worker should look at the queue again (None: no need)."""
        if isinstance(decision, opcodes.Complete | opcodes.Fail):
            # (`RunComplete` comes alone, or with lazy ops: the SDK checkpoints each step.)
            if decision.sidecar:  # defers and metadata sent with it: stored before the end
                run_sidecar.record(tx, state.run_id, decision.sidecar, now, state.defers)
            _end(tx, state, decision, now, self._registry, effects)
            return None
        if found is None or found.leased:
            # The server has the run (its call is in flight, or it waits on its own work):
            # keep the results, leave what comes next to the executor's reply.
            if isinstance(decision, opcodes.Progress):
                if decision.sidecar:
                    run_sidecar.record(tx, state.run_id, decision.sidecar, now, state.defers)
                _save_results(tx, state, decision, now)
            return None
        if isinstance(decision, opcodes.Retry):
            recording.record_retry(tx, state, found.item, decision, found.item.attempt, now)
            return now + decision.delay_ms
        recorded = recording.record_progress(
            tx, state, found.item, decision, found.item.attempt, now, self._registry, effects
        )
        if not recorded.go_on:
            return now  # the item ended: planned steps, sleeps and waits were queued
        if handed_over:
            queue_repo.reschedule(tx, found.item.id, attempt=0, available_at=now)
            return now
        endpoint_runs.extend_deadline(tx, state.run_id, self._deadline(now))
        return None


def _function_error(ops: list[Op], context: opcodes.CallContext) -> opcodes.Decision | None:
    """The handler itself threw (not a step): retried as a whole call, as an error answer of
    a call would be, and not recorded as a step."""
    if len(ops) != 1 or ops[0].id != RUN_COMPLETE_ID or ops[0].op not in FUNCTION_ERROR_OPS:
        return None
    return opcodes.function_error(ops[0], context)


def _reply(steps: list[Any]) -> Reply:
    """Checkpointed ops read as the reply of a call that ran them."""
    return Reply(
        status=206,
        body=steps,
        from_sdk=True,
        no_retry=False,
        retry_after=None,
        request_version=None,
    )


def _save_results(tx: Tx, state: RunState, progress: opcodes.Progress, now: int) -> None:
    """Memoize the finished steps among the ops (never overwriting a recorded one)."""
    for step in progress.saved:
        failed = step.op == "StepFailed"
        runs_repo.save_step(
            tx,
            state.run_id,
            step_id=step.step_id,
            name=step.name,
            op=step.op,
            memo=step.memo,
            attempts=1,
            now=now,
            history_kind="step.failed" if failed else "step.completed",
            history_attempt=0,
            history_data={"checkpointed": True},
        )


def _end(
    tx: Tx,
    state: RunState,
    decision: opcodes.Complete | opcodes.Fail,
    now: int,
    registry: Registry,
    effects: Effects,
) -> None:
    if isinstance(decision, opcodes.Complete):
        status, error = RunStatus.COMPLETED, None
    else:
        status, error = RunStatus.FAILED, decision.error
    accept.end_run(tx, state, status, decision.output, error, now, registry, effects)
