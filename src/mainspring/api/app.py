"""Composition root: builds every service once and wires them into the ASGI app."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from mainspring import errors
from mainspring.api import events, health, rest, sdk
from mainspring.api.errors import handle_invalid_input
from mainspring.api.state import Services
from mainspring.clock import now_ms
from mainspring.config import Settings
from mainspring.execution.driver import Driver
from mainspring.execution.executor import Executor
from mainspring.ingest import Ingest
from mainspring.queue.worker import Worker
from mainspring.reads import Reads
from mainspring.registry import Registry
from mainspring.store.base import Connector
from mainspring.sync import AppSync

log = logging.getLogger("mainspring")


def build_app(settings: Settings, connector: Connector) -> Starlette:
    clock = now_ms
    registry = Registry(connector)
    driver = Driver(settings.call_timeout_s, settings.server_kind)
    notify_box: list[Worker] = []
    executor = Executor(
        connector, registry, driver, settings, clock, lambda at: notify_box[0].notify(at)
    )
    worker = Worker(
        connector,
        executor.process,
        clock,
        max_in_flight=settings.max_in_flight,
        lease_ms=settings.lease_ms,
    )
    notify_box.append(worker)
    sync = AppSync(settings, registry, clock)
    services = Services(
        settings=settings,
        clock=clock,
        registry=registry,
        ingest=Ingest(connector, registry, worker.notify),
        reads=Reads(connector),
        sync=sync,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await registry.load()
        await worker.start()
        sync.start()
        log.info(
            "mainspring %s listening on http://%s:%d (db %s)",
            settings.server_kind,
            settings.host,
            settings.port,
            settings.db,
        )
        try:
            yield
        finally:
            log.info("shutting down: finishing in-flight calls")
            await sync.stop()
            executor.drain()
            await worker.stop(settings.shutdown_timeout_s)
            await driver.close()
            await connector.close()

    app = Starlette(
        routes=[*events.routes, *sdk.routes, *rest.routes, *health.routes],
        lifespan=lifespan,
        exception_handlers={errors.InvalidInput: handle_invalid_input},
    )
    app.state.services = services
    return app
