"""Composition root: builds every service once and wires them into the ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from mainspring import errors
from mainspring.api import (
    admin,
    admin_apps,
    audit,
    charts,
    connect_workers,
    docs,
    endpoints,
    events,
    functions,
    gql,
    health,
    kill_switches,
    observability,
    operations,
    realtime,
    realtime_tee,
    rest,
    run_metadata,
    runs,
    sdk,
    signals,
    traces,
)
from mainspring.api import environments as environments_routes
from mainspring.api.acting import ActingAs
from mainspring.api.env_select import EnvSelect
from mainspring.api.errors import handle_http_exception, handle_invalid_input, handle_store_error
from mainspring.api.nul_guard import RejectNul
from mainspring.api.routing import merge_methods
from mainspring.api.state import Services
from mainspring.audit import actors
from mainspring.audit.listing import AuditLog
from mainspring.clock import Clock, now_ms
from mainspring.connect.gateway import Gateway
from mainspring.dashboard import routes as dashboard
from mainspring.domain.functions import FunctionDef
from mainspring.environments import names
from mainspring.environments.hub import EnvConfig, Environments, Live
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
from mainspring.store import effective_durability, open_pubsub, redact_url
from mainspring.store.base import Connector
from mainspring.supervision import Supervisor
from mainspring.telemetry import config as otel_config

if TYPE_CHECKING:
    from mainspring.telemetry.pipeline import Telemetry

log = logging.getLogger("mainspring")


@dataclass(frozen=True)
class _Engine:
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


def build_app(settings: Settings, connector: Connector) -> Starlette:
    services, engine = _engine(settings, connector)
    environments = Environments(
        env_config(settings),
        settings.db,
        settings.durability,
        Live(names.DEFAULT, services, _Running(engine), connector),
        functools.partial(_env_engine, settings),
        now_ms,
    )
    environments.on_open = functools.partial(kill_switches.hold_if_global, environments)
    app = Starlette(
        routes=_routes(settings),
        lifespan=_lifespan(engine, environments),
        exception_handlers={
            errors.InvalidInput: handle_invalid_input,
            # the API's 404 naming `env`; a dashboard page asked for by a stale cookie, again
            errors.UnknownEnvironment: dashboard.forget_stale_env,
            errors.StoreError: handle_store_error,
            HTTPException: handle_http_exception,
        },
    )
    app.state.services = services  # the default environment's
    app.state.environments = environments
    app.add_middleware(RejectNul)
    if settings.production:
        _install_auth(app, settings, connector, services.clock)
    else:  # nobody signs in: the audit log names the actor `dev`
        app.add_middleware(ActingAs, actor=actors.DEV)
    if environments.config.enabled:  # outermost: the gate checks a token against the env
        app.add_middleware(EnvSelect, environments=environments)
    return app


def env_config(settings: Settings) -> EnvConfig:
    """The environments the flags ask for; a bad name stops the start-up (exit 2)."""
    try:
        configured = tuple(names.check(name, "--env") for name in settings.environments)
    except errors.InvalidInput as exc:
        raise errors.ConfigError(f"--env: {exc.message}") from None
    idle_ms = int(settings.branch_env_idle_s * 1000)
    return EnvConfig(configured, settings.branch_envs, idle_ms)


def _env_engine(
    settings: Settings, name: str, connector: Connector, namespace: str
) -> tuple[Services, _Running]:
    """Another environment's engine: the same services on its own store. The apps of `-u`
    and discovery are the default environment's; an environment's apps sync themselves."""
    own = settings.model_copy(update={"sdk_urls": (), "discovery": False})
    services, engine = _engine(own, connector, namespace)
    return services, _Running(engine)


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


def _engine(
    settings: Settings, connector: Connector, namespace: str = ""
) -> tuple[Services, _Engine]:
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
    ops = _operations(settings, connector, registry, ingest, cancellations, worker)
    driver, egress = _driver(settings), _egress(settings)
    otel = _telemetry(settings, connector, registry, ops)
    checkpoints = CheckpointLog()
    connect = Gateway(
        settings.connect_gateway_port,
        settings.signing_key if settings.production else None,
        lambda body: _register_connected(registry, clock, body),
        open_pubsub(settings.db, namespace),
        settings.connect_gateway_url,
    )
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
                otel.components if otel is not None else list,
            ]
        ),
        endpoints=endpoint_runs,
        run_tokens=RunTokens(settings.signing_keys if settings.production else ()),
        realtime=live,
        connect=connect,
        audit=AuditLog(connector, clock),
    )
    engine = _Engine(
        settings,
        connector,
        registry,
        driver,
        egress,
        executor,
        worker,
        dispatch,
        ops,
        sync,
        live,
        connect,
        otel,
    )
    return services, engine


def _operations(
    settings: Settings,
    connector: Connector,
    registry: Registry,
    ingest: Ingest,
    cancellations: Cancellations,
    worker: Worker,
) -> Operations:
    return Operations(
        connector,
        ingest,
        cancellations,
        now_ms,
        operations_settings.OperationsConfig(settings.alerts, settings.retention),
        function_slugs=lambda: [function.slug for function in registry.functions()],
        zombies=ZombieConfig(settings.zombie_check_interval_s, settings.zombie_grace_s),
        on_new_work=worker.notify,
    )


def _telemetry(
    settings: Settings, connector: Connector, registry: Registry, ops: Operations
) -> Telemetry | None:
    """The OpenTelemetry export, or None (then the SDK is not even imported)."""
    config = otel_config.resolve(settings.otel_endpoint, settings.otel_metrics, os.environ)
    if config is None:
        return None
    from mainspring.telemetry.pipeline import Telemetry

    def function_name(slug: str) -> str | None:
        function = registry.get(slug)
        return None if function is None else function.name

    return Telemetry(config, connector, ops.metrics, function_name, now_ms)


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


class _Running:
    """An engine as `environments.hub` starts and stops it."""

    def __init__(self, engine: _Engine) -> None:
        self.engine = engine

    async def start(self) -> None:
        await _start(self.engine)

    async def stop(self) -> None:
        await _stop(self.engine)


async def _start(engine: _Engine) -> None:
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


async def _stop(engine: _Engine) -> None:
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


def _lifespan(
    engine: _Engine, environments: Environments[Services]
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings = engine.settings
        await _start(engine)
        await environments.start()
        log.info(
            "mainspring %s listening on http://%s:%d (db %s, durability %s, environments %s)",
            settings.server_kind,
            settings.host,
            settings.port,
            redact_url(settings.db),
            effective_durability(settings.db, settings.durability),
            ", ".join(environments.served()),
        )
        try:
            yield
        finally:
            log.info("shutting down: finishing in-flight calls")
            await environments.stop()
            await _stop(engine)

    return lifespan


def _routes(settings: Settings) -> list[BaseRoute]:
    return merge_methods(
        [
            *events.routes,
            *sdk.routes,
            *signals.routes,
            *endpoints.routes,
            *operations.routes,
            *admin.routes,
            *functions.routes,  # after admin's `/v1/functions/paused`
            *runs.routes,
            *run_metadata.routes,
            *traces.routes,
            *observability.routes,
            *charts.routes,
            *docs.routes,
            *rest.routes,
            *realtime.routes,
            *realtime_tee.routes,
            *health.routes,
            *admin_apps.routes,
            *environments_routes.routes,
            *audit.routes,
            *gql.routes,
            *connect_workers.routes,
            *_auth_routes(settings),
            *(dashboard.routes if settings.ui else []),
        ]
    )


def _auth_routes(settings: Settings) -> list[BaseRoute]:
    if not settings.production:
        return []
    from mainspring.api import auth as routes

    return list(routes.routes)


def _install_auth(app: Starlette, settings: Settings, connector: Connector, clock: Clock) -> None:
    """Production mode: keys, tokens and sessions guard every route (dev stays open)."""
    from mainspring.api.auth_middleware import AuthMiddleware
    from mainspring.auth.keys import Keyring
    from mainspring.auth.sessions import SessionSigner

    assert settings.signing_key is not None
    keyring = Keyring(
        connector,
        event_keys=settings.event_keys,
        signing_keys=settings.signing_keys,
        clock=clock,
    )
    signer = SessionSigner(settings.signing_key)
    app.state.keyring = keyring
    app.state.session_signer = signer
    app.add_middleware(
        AuthMiddleware, keyring=keyring, signer=signer, signing_keys=settings.signing_keys
    )


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


def close_streams(app: Starlette) -> None:
    """End the long-lived realtime streams, so that a stopping server's wait for requests in
    flight is not held up by subscribers (the server calls this as it begins to stop)."""
    environments: Environments[Services] = app.state.environments
    for _, services in environments.all_services():
        services.realtime.close_streams()
