"""The engine of one environment: every service built once from the settings and a store,
and how it starts and stops (the composition root's engine half; `api.app` assembles the
ASGI app around one engine per environment)."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mainspring import errors
from mainspring.api.state import Services
from mainspring.audit import actors
from mainspring.audit.listing import AuditLog
from mainspring.clock import Clock, now_ms
from mainspring.connect.gateway import Gateway
from mainspring.domain.functions import FunctionDef
from mainspring.environments.keys import signing_key_for
from mainspring.execution.driver import Driver
from mainspring.execution.egress import Egress
from mainspring.execution.endpoints import Endpoints
from mainspring.execution.executor import Executor
from mainspring.ingest import Ingest
from mainspring.ingest.cancellation import Cancellations
from mainspring.operations import settings as operations_settings
from mainspring.operations.service import Operations
from mainspring.operations.zombies import ZombieConfig
from mainspring.protocol.run_tokens import RunTokens
from mainspring.queue import dispatch as queue_dispatch
from mainspring.queue import scheduler
from mainspring.queue.dispatch import Dispatch
from mainspring.queue.timers import Timers
from mainspring.queue.worker import Worker
from mainspring.reads import Reads
from mainspring.realtime import Realtime
from mainspring.registry import Registry
from mainspring.registry.sync import AppSync
from mainspring.runs.checkpoints import CheckpointLog
from mainspring.settings import Settings
from mainspring.store import open_pubsub
from mainspring.store.base import Connector
from mainspring.supervision import Supervisor
from mainspring.telemetry import config as otel_config

if TYPE_CHECKING:
    from mainspring.telemetry.pipeline import Telemetry

log = logging.getLogger("mainspring")


@dataclass(frozen=True)
class Engine:
    """What the lifespan starts and stops, beside the services the handlers use."""

    settings: Settings
    connector: Connector
    registry: Registry
    driver: Driver
    egress: Egress
    executor: Executor
    worker: Worker
    dispatch: Dispatch
    operations: Operations
    sync: AppSync
    realtime: Realtime
    connect: Gateway
    telemetry: Telemetry | None


def env_engine(
    settings: Settings, name: str, kind: str, connector: Connector, namespace: str
) -> tuple[Services, Running]:
    """Another environment's engine: the same services on its own store. The apps of `-u`
    and discovery are the default environment's; an environment's apps sync themselves. A
    branch's apps are not polled: only a deploy's sync counts as activity (else a preview
    would never go idle and be archived)."""
    key = signing_key_for(settings.env_signing_keys, name, kind, settings.signing_key)
    own = settings.model_copy(
        update={
            "sdk_urls": (),
            "discovery": False,
            "poll": settings.poll and kind != "branch",
            "signing_key": key,
            # a key of its own has no rotation fallback yet
            "signing_key_fallback": settings.signing_key_fallback
            if key == settings.signing_key
            else None,
        }
    )
    services, engine = build_engine(own, connector, namespace, name)
    return services, Running(engine)


def _driver(settings: Settings) -> Driver:
    """The HTTP client of the apps: signs requests and checks replies in production."""
    return Driver(
        settings.call_timeout_s,
        settings.server_kind,
        signing_key=settings.signing_key if settings.production else None,
        verify_keys=settings.signing_keys if settings.verify_responses else (),
        max_reply_bytes=settings.max_reply_bytes,
    )


def _egress(settings: Settings) -> Egress:
    """The client of step.fetch and step.ai.infer; production allows only `--egress-allow`."""
    return Egress(
        timeout_s=settings.egress_timeout_s,
        max_bytes=settings.egress_max_bytes,
        allow=settings.egress_allow if settings.production else None,
    )


def build_engine(
    settings: Settings, connector: Connector, namespace: str = "", environment: str | None = None
) -> tuple[Services, Engine]:
    """Every service, built once. The worker comes first: the services that announce new work
    take its `notify`; it receives the dispatch table when it starts."""
    clock = now_ms
    registry = Registry(connector)
    worker = Worker(
        connector, clock, max_in_flight=settings.max_in_flight, lease_ms=settings.lease_ms
    )
    ingest = Ingest(connector, registry, worker.notify)
    reads = Reads(connector)
    cancellations = Cancellations(connector, ingest, clock)
    ops = _operations(settings, connector, registry, ingest, cancellations, worker, environment)
    driver, egress = _driver(settings), _egress(settings)
    otel = _telemetry(settings, connector, registry, ops, environment)
    checkpoints = CheckpointLog()
    connect = _gateway(settings, registry, clock, namespace)
    executor = Executor(
        connector,
        registry,
        driver,
        settings,
        clock,
        worker.notify,
        checkpoints,
        egress=egress,
        is_held=ops.is_held,
        on_call=ops.metrics.observe_call if otel is None else _both(ops, otel),
        connect=connect,
    )
    endpoint_runs = Endpoints(connector, registry, settings, clock, worker.notify)
    cron = scheduler.Scheduler(ingest, registry, clock, is_held=ops.is_held)
    dispatch = queue_dispatch.build(executor, Timers(ingest, clock), cron)
    registry.on_change(functools.partial(_install_schedules, connector, clock, worker.notify))
    sync = AppSync(settings, registry, clock, connector)
    live = Realtime(
        connector,
        open_pubsub(settings.db, namespace),
        clock,
        production=settings.production,
        signing_keys=settings.signing_keys,
        environment=environment,
    )
    services = Services(
        settings=settings,
        clock=clock,
        registry=registry,
        ingest=ingest,
        reads=reads,
        sync=sync,
        cancellations=cancellations,
        checkpoints=checkpoints,
        connector=connector,
        operations=ops,
        supervisor=Supervisor(
            [
                connector.components,
                worker.components,
                ops.components,
                sync.components,
                live.components,
                connect.components,
                *([] if otel is None else [otel.components]),
            ]
        ),
        endpoints=endpoint_runs,
        run_tokens=RunTokens(settings.signing_keys if settings.production else ()),
        realtime=live,
        connect=connect,
        audit=AuditLog(connector, clock),
    )
    parts = (driver, egress, executor, worker, dispatch, ops, sync, live, connect, otel)
    return services, Engine(settings, connector, registry, *parts)


def _gateway(settings: Settings, registry: Registry, clock: Clock, namespace: str) -> Gateway:
    """Connect's gateway; it syncs a worker's app as its `/fn/register` would. Workers join
    the default environment only, so another one's gateway needs no channel between processes."""
    return Gateway(
        settings.connect_gateway_port,
        settings.signing_key if settings.production else None,
        lambda body: _register_connected(registry, clock, body),
        open_pubsub(settings.db, namespace) if namespace == "" else None,
        settings.connect_gateway_url,
    )


def _operations(
    settings: Settings,
    connector: Connector,
    registry: Registry,
    ingest: Ingest,
    cancellations: Cancellations,
    worker: Worker,
    environment: str | None,
) -> Operations:
    return Operations(
        connector,
        ingest,
        cancellations,
        now_ms,
        operations_settings.OperationsConfig(settings.alerts, settings.retention, environment),
        function_slugs=lambda: [function.slug for function in registry.functions()],
        zombies=ZombieConfig(settings.zombie_check_interval_s, settings.zombie_grace_s),
        on_new_work=worker.notify,
    )


def _telemetry(
    settings: Settings,
    connector: Connector,
    registry: Registry,
    ops: Operations,
    environment: str | None,
) -> Telemetry | None:
    """The OpenTelemetry export, or None (then the SDK is not even imported)."""
    config = otel_config.resolve(settings.otel_endpoint, settings.otel_metrics, os.environ)
    if config is None:
        return None
    from mainspring.telemetry.pipeline import Telemetry

    def function_name(slug: str) -> str | None:
        function = registry.get(slug)
        return None if function is None else function.name

    return Telemetry(config, connector, ops.metrics, function_name, now_ms, environment)


def _both(ops: Operations, otel: Telemetry) -> Callable[[str, float, bool], None]:
    def observe_call(slug: str, seconds: float, ok: bool) -> None:
        ops.metrics.observe_call(slug, seconds, ok)
        otel.observe_call(slug, seconds, ok)

    return observe_call


async def _register_connected(registry: Registry, clock: Clock, body: dict[str, Any]) -> None:
    """A connect worker's app, synced as its `/fn/register` would have been."""
    with actors.acting_as(actors.CONNECT):
        await registry.register(body, clock())


async def _install_schedules(
    connector: Connector,
    clock: Clock,
    notify: Callable[[int | None], None],
    functions: list[FunctionDef],
) -> None:
    now = clock()
    await connector.write(lambda tx: scheduler.install(tx, functions, now))
    notify(None)


class Running:
    """An engine as `environments.hub` starts and stops it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def start(self) -> None:
        await start_engine(self.engine)

    async def stop(self) -> None:
        await stop_engine(self.engine)


async def start_engine(engine: Engine) -> None:
    connector = engine.connector
    await engine.registry.load()
    await engine.operations.start()
    if engine.telemetry is not None:
        await engine.telemetry.start()
    connector.listen("mainspring_queue", engine.worker.notify)
    connector.listen("mainspring_registry", lambda: _spawn(_reload(engine.registry)))
    await engine.realtime.start()
    await engine.worker.start(engine.dispatch)
    engine.sync.start()
    engine.connect.start()


async def stop_engine(engine: Engine) -> None:
    await engine.sync.stop()
    await engine.connect.announce_closing()
    await engine.realtime.stop()
    engine.executor.drain()
    await engine.worker.stop(engine.settings.shutdown_timeout_s)
    await engine.connect.stop()
    await engine.driver.close()
    await engine.egress.close()
    await engine.operations.stop()
    if engine.telemetry is not None:
        await engine.telemetry.stop()
    await engine.connector.close()


_background: set[asyncio.Task[None]] = set()


async def _reload(registry: Registry) -> None:
    """Another process synced an app; a failure here is retried by the next notification."""
    try:
        await registry.load()
    except errors.StoreError as exc:
        log.warning("could not reload functions: %s", exc)


def _spawn(coroutine: Coroutine[Any, Any, None]) -> None:
    task = asyncio.get_running_loop().create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
