"""The services a request handler may use, built once by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from mainspring.clock import Clock
from mainspring.ingest import Ingest
from mainspring.ingest.cancellation import Cancellations
from mainspring.operations.service import Operations
from mainspring.reads import Reads
from mainspring.realtime import Realtime
from mainspring.registry import Registry
from mainspring.registry.sync import AppSync
from mainspring.runs.checkpoints import CheckpointLog
from mainspring.settings import Settings
from mainspring.store.base import Connector
from mainspring.supervision import Supervisor


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
    realtime: Realtime


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found
