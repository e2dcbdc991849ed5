"""Composition root: builds every service once and wires them into the ASGI app."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING

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
from mainspring.api.engine import (
    Engine,
    Running,
    build_engine,
    env_engine,
    start_engine,
    stop_engine,
)
from mainspring.api.env_select import EnvSelect
from mainspring.api.errors import handle_http_exception, handle_invalid_input, handle_store_error
from mainspring.api.nul_guard import RejectNul
from mainspring.api.routing import merge_methods
from mainspring.api.state import Services
from mainspring.audit import actors
from mainspring.clock import Clock, now_ms
from mainspring.dashboard import routes as dashboard
from mainspring.environments import names
from mainspring.environments.hub import EnvConfig, Environments, Live
from mainspring.environments.keys import signing_key_for
from mainspring.settings import Settings
from mainspring.store import effective_durability, redact_url
from mainspring.store.base import Connector

if TYPE_CHECKING:
    pass

log = logging.getLogger("mainspring")


def build_app(settings: Settings, connector: Connector) -> Starlette:
    services, engine = build_engine(settings, connector)
    environments = Environments(
        env_config(settings),
        settings.db,
        settings.durability,
        Live(names.DEFAULT, "default", services, Running(engine), connector),
        functools.partial(env_engine, settings),
        now_ms,
    )
    environments.on_open = functools.partial(kill_switches.hold_if_global, environments)
    environments.on_round = functools.partial(kill_switches.reconcile_all, environments)
    services.supervisor.add(environments.components)
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
        _install_auth(app, settings, connector, services.clock, environments)
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
    return EnvConfig(configured, settings.branch_envs, idle_ms, settings.max_branch_envs)


def _lifespan(
    engine: Engine, environments: Environments[Services]
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        settings = engine.settings
        await start_engine(engine)
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
            await stop_engine(engine)

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


def _install_auth(
    app: Starlette,
    settings: Settings,
    connector: Connector,
    clock: Clock,
    environments: Environments[Services],
) -> None:
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
        AuthMiddleware,
        keyring=keyring,
        signer=signer,
        signing_keys=functools.partial(env_signing_keys, settings, environments),
    )


def env_signing_keys(
    settings: Settings, environments: Environments[Services], env: str
) -> tuple[str, ...]:
    """The signing keys an environment's apps may present: its own (`--env-signing-key`; for a
    branch not yet synced, the branches' `*` one), else the server's, with its fallback. The
    kind is the one the environment is served as (the engine signs with the same key)."""
    kind = environments.kind_of(env)
    key = signing_key_for(settings.env_signing_keys, env, kind, settings.signing_key)
    return settings.signing_keys if key == settings.signing_key else (key,) if key else ()


def close_streams(app: Starlette) -> None:
    """End the long-lived realtime streams, so that a stopping server's wait for requests in
    flight is not held up by subscribers (the server calls this as it begins to stop)."""
    environments: Environments[Services] = app.state.environments
    for _, services in environments.all_services():
        services.realtime.close_streams()
