"""Composition root: builds every service once and wires them into the ASGI app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute

from mainspring import errors
from mainspring.api import (
    admin,
    admin_apps,
    docs,
    events,
    health,
    observability,
    operations,
    rest,
    run_queries,
    sdk,
)
from mainspring.api.errors import handle_http_exception, handle_invalid_input, handle_store_error
from mainspring.api.nul_guard import RejectNul
from mainspring.api.routing import merge_methods
from mainspring.api.state import Services
from mainspring.cancellation import Cancellations
from mainspring.clock import Clock, now_ms
from mainspring.config import Settings, redact_url
from mainspring.dashboard import routes as dashboard
from mainspring.domain.functions import FunctionDef
from mainspring.execution.checkpoints import CheckpointLog
from mainspring.execution.driver import Driver
from mainspring.execution.executor import Executor
from mainspring.execution.flow_timers import FlowTimers
from mainspring.execution.timers import Timers
from mainspring.ingest import Ingest
from mainspring.operations import settings as operations_settings
from mainspring.operations.service import Operations
from mainspring.operations.zombies import ZombieConfig
from mainspring.queue import scheduler
from mainspring.queue.kinds import Kind, QueueItem
from mainspring.queue.worker import Worker
from mainspring.reads import Reads
from mainspring.registry import Registry
from mainspring.store.base import Connector
from mainspring.supervision import Supervisor
from mainspring.sync import AppSync

log = logging.getLogger("mainspring")
Handler = Callable[[QueueItem], Awaitable[None]]


def _dispatcher(handlers: dict[Kind, Handler]) -> Handler:
    async def dispatch(item: QueueItem) -> None:
        await handlers[item.kind](item)

    return dispatch


def build_app(settings: Settings, connector: Connector) -> Starlette:
    clock = now_ms
    registry = Registry(connector)
    driver = Driver(
        settings.call_timeout_s,
        settings.server_kind,
        signing_key=settings.signing_key if settings.production else None,
        verify_keys=settings.signing_keys if settings.verify_responses else (),
        max_reply_bytes=settings.max_reply_bytes,
    )
    checkpoints = CheckpointLog()
    wake: list[Callable[[int | None], None]] = []

    def notify(at: int | None = None) -> None:
        wake[0](at)

    ingest = Ingest(connector, registry, notify)
    reads = Reads(connector)
    cancellations = Cancellations(connector, ingest, clock)
    ops = Operations(
        connector,
        ingest,
        reads,
        cancellations,
        clock,
        operations_settings.load(os.environ),
        function_slugs=lambda: [function.slug for function in registry.functions()],
        zombies=ZombieConfig(settings.zombie_check_interval_s, settings.zombie_grace_s),
        on_new_work=notify,
    )
    executor = Executor(
        connector,
        registry,
        driver,
        settings,
        clock,
        notify,
        checkpoints,
        is_held=ops.is_held,
        on_call=ops.metrics.observe_call,
    )
    timers = Timers(ingest, clock)
    cron = scheduler.Scheduler(ingest, registry, clock, is_held=ops.is_held)
    flow_timers = FlowTimers(ingest, clock)
    handlers: dict[Kind, Handler] = {
        Kind.CALL: executor.process,
        Kind.SLEEP: executor.process,
        Kind.PAUSE_TIMEOUT: timers.pause_timeout,
        Kind.RUN_TIMEOUT: timers.run_timeout,
        Kind.CRON: cron.fire,
        Kind.FLOW_FIRE: flow_timers.fire,
    }
    worker = Worker(
        connector,
        _dispatcher(handlers),
        clock,
        max_in_flight=settings.max_in_flight,
        lease_ms=settings.lease_ms,
    )
    wake.append(worker.notify)

    async def install_schedules(functions: list[FunctionDef]) -> None:
        now = clock()
        await connector.write(lambda tx: scheduler.install(tx, functions, now))
        notify(None)

    registry.on_change(install_schedules)
    sync = AppSync(settings, registry, clock)
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
            [connector.components, worker.components, ops.components, sync.components]
        ),
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await registry.load()
        await ops.start()
        connector.listen("mainspring_queue", worker.notify)
        connector.listen("mainspring_registry", lambda: _spawn(_reload(registry)))
        await worker.start()
        sync.start()
        log.info(
            "mainspring %s listening on http://%s:%d (db %s)",
            settings.server_kind,
            settings.host,
            settings.port,
            redact_url(settings.db),
        )
        try:
            yield
        finally:
            log.info("shutting down: finishing in-flight calls")
            await sync.stop()
            executor.drain()
            await worker.stop(settings.shutdown_timeout_s)
            await driver.close()
            await ops.stop()
            await connector.close()

    app = Starlette(
        routes=merge_methods(
            [
                *events.routes,
                *sdk.routes,
                *operations.routes,
                *admin.routes,
                *run_queries.routes,
                *observability.routes,
                *docs.routes,
                *rest.routes,
                *health.routes,
                *admin_apps.routes,
                *_gql_routes(),
                *_auth_routes(settings),
                *dashboard.routes,
            ]
        ),
        lifespan=lifespan,
        exception_handlers={
            errors.InvalidInput: handle_invalid_input,
            errors.StoreError: handle_store_error,
            HTTPException: handle_http_exception,
        },
    )
    app.state.services = services
    app.add_middleware(RejectNul)
    if settings.production:
        _install_auth(app, settings, connector, clock)
    return app


def _auth_routes(settings: Settings) -> list[BaseRoute]:
    if not settings.production:
        return []
    from mainspring.auth import routes

    return list(routes.routes)


def _install_auth(app: Starlette, settings: Settings, connector: Connector, clock: Clock) -> None:
    """Production mode: keys, tokens and sessions guard every route (dev stays open)."""
    from mainspring.auth.keys import Keyring
    from mainspring.auth.middleware import AuthMiddleware
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


def _gql_routes() -> list[BaseRoute]:
    try:
        from mainspring.api import gql
    except ImportError:  # the GraphQL subset is optional until it lands
        return []
    return list(gql.routes)
