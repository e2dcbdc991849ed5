"""The services a request handler may use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import HTTPConnection
from starlette.types import Scope

from mainspring.audit.listing import AuditLog
from mainspring.clock import Clock
from mainspring.connect.gateway import Gateway
from mainspring.environments import names
from mainspring.environments.hub import Environments
from mainspring.ingest import Ingest
from mainspring.ingest.cancellation import Cancellations
from mainspring.operations.service import Operations
from mainspring.protocol.run_tokens import RunTokens
from mainspring.reads import Reads
from mainspring.realtime import Realtime
from mainspring.registry import Registry
from mainspring.registry.sync import AppSync
from mainspring.runs.checkpoints import CheckpointLog
from mainspring.settings import Settings
from mainspring.store.base import Connector
from mainspring.supervision import Supervisor


class StartedRun(Protocol):
    @property
    def run_id(self) -> str: ...
    @property
    def fn_id(self) -> str: ...
    @property
    def app_id(self) -> str: ...


class EndpointRuns(Protocol):
    """Durable endpoints' checkpoints (`execution.endpoints.Endpoints`, an engine service)."""

    async def start(self, body: Any) -> StartedRun: ...

    async def checkpoint(self, run_id: str, body: Any) -> bool: ...


@dataclass(slots=True)
class Services:
    settings: Settings
    clock: Clock
    registry: Registry
    ingest: Ingest
    reads: Reads
    sync: AppSync
    cancellations: Cancellations
    checkpoints: CheckpointLog
    connector: Connector
    operations: Operations
    supervisor: Supervisor
    endpoints: EndpointRuns
    run_tokens: RunTokens
    realtime: Realtime
    connect: Gateway
    audit: AuditLog


def services(request: HTTPConnection) -> Services:
    """The services of the request's environment (`api.env_select` names it; the default when
    environments are off). An environment this server does not serve: UnknownEnvironment."""
    return environments(request).get(env_name(request))


def environments(request: HTTPConnection) -> Environments[Services]:
    found: Environments[Services] = request.app.state.environments
    return found


def env_name(request: HTTPConnection) -> str:
    return env_of(request.scope)


def env_of(scope: Scope) -> str:
    """The environment `api.env_select` (or the gate, from an event key) put in the scope."""
    state = scope.get("state")
    name: str = names.DEFAULT if state is None else state.get("env", names.DEFAULT)
    return name
