"""The Connect gateway of one process: `/v0/connect/start` answers, the WebSocket endpoint on
the gateway port, the calls the executor routes to connected workers, and the sweep that drops
workers and requests gone silent.
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from ulid import ULID

from mainspring.connect import routes
from mainspring.connect.cluster import Cluster
from mainspring.connect.hub import HEARTBEAT_S, Hub, Worker
from mainspring.connect.session import Register, Session
from mainspring.connect.tokens import Tokens
from mainspring.domain.functions import FunctionDef
from mainspring.execution.driver import Reply, WorkerLost
from mainspring.protocol import connect as wire
from mainspring.store.base import PubSub
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.connect")
GATEWAY_PATH = "/v0/connect"
SWEEP_S = 1.0
# a call of an app with no worker connected anywhere (see Gateway._wait_for_worker)
MAX_PARKED = 4
PARK_S = 2.0
ABSENT_DELAY_MIN_S = 0.5
ABSENT_DELAY_MAX_S = 10.0


class Gateway:
    def __init__(
        self,
        port: int,
        signing_key: str | None,
        register: Register,
        pubsub: PubSub | None = None,
        public_url: str | None = None,
    ) -> None:
        self.port = port
        self._public_url = public_url
        self.id = str(ULID())  # this process's gateway: `gatewayId`, and its group below
        self.group = f"mainspring-{self.id}"
        self.hub = Hub()
        self._absent_since: dict[str, float] = {}  # app name -> when a call found no worker
        self._parked = 0  # calls waiting here for a worker of their app to connect
        # several processes on PostgreSQL: calls forwarded to the process holding a worker
        self.cluster = Cluster(self.hub, pubsub) if pubsub is not None else None
        self._tokens = Tokens(signing_key)
        self._register = register
        self._sessions: set[Session] = set()
        self.component = Component("connect-sweep", deadline_s=HEARTBEAT_S * 3)
        self._task: asyncio.Task[None] | None = None
        self._presence: asyncio.Task[None] | None = None

    # --- the start call --------------------------------------------------------------------

    def start_response(self, host: str, secure: bool, body: bytes = b"") -> bytes:
        """StartResponse for a worker that reached the API at `host`: the gateway is the same
        host on the gateway port.

        `exclude_gateways` (the groups whose connection failed the worker; the TypeScript SDK
        sends them) is honoured by naming each process's gateway afresh (`mainspring-<ULID>`):
        the group of a process that stopped or restarted is never handed out again. The one
        group a process can hand out is its own; when the worker excluded it (this gateway
        dropped it, say after missed heartbeats) a new connection to it is still the best
        offer this process has, and a load balancer in front of several processes spreads the
        next start call anyway: it is logged and answered."""
        request = wire.StartRequest()
        try:
            request.ParseFromString(body)
        except Exception:
            pass  # the SDKs always send one; an empty or odd body asks for nothing special
        if self.group in request.exclude_gateways:
            log.info("connect start: a worker excluded gateway %s; offered again", self.group)
        connection_id = str(ULID())
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        endpoint = self._public_url or (
            f"{'wss' if secure else 'ws'}://{hostname}:{self.port}{GATEWAY_PATH}"
        )
        token = self._tokens.issue(connection_id)
        response = wire.StartResponse(
            connection_id=connection_id,
            gateway_endpoint=endpoint,
            gateway_group=self.group,
            session_token=token,
            sync_token=token,
        )
        return response.SerializeToString()

    def flush(self, body: bytes) -> bytes | None:
        """`/v0/connect/flush`: an SDKResponse sent again over HTTP; a FlushResponse back
        (None: the body is not an SDKResponse)."""
        reply = wire.SDKResponse()
        try:
            reply.ParseFromString(body)
        except Exception:
            return None
        if not reply.request_id:
            return None
        self.hub.replied(reply)
        return wire.FlushResponse(request_id=reply.request_id).SerializeToString()

    # --- the WebSocket -----------------------------------------------------------------------

    def asgi(self) -> ASGIApp:
        return Starlette(routes=[WebSocketRoute(GATEWAY_PATH, self._socket)])

    async def _socket(self, socket: WebSocket) -> None:
        session = Session(socket, self.hub, self._tokens, self._register, self.id)
        self._sessions.add(session)
        try:
            await session.run()
        finally:
            self._sessions.discard(session)

    # --- calls -------------------------------------------------------------------------------

    def handles(self, function: FunctionDef) -> bool:
        return routes.is_connect(function.url)

    async def call(self, function: FunctionDef, run_id: str, step_id: str, body: bytes) -> Reply:
        app_name, function_id = routes.target(function.url)
        request = wire.GatewayExecutorRequestData(
            app_id=function.app_id,
            app_name=app_name,
            function_id=function.id,
            function_slug=function_id or function.slug,
            step_id=step_id,
            request_payload=body,
            run_id=run_id,
        )
        if not self._reachable(app_name) and not await self._wait_for_worker(app_name):
            raise WorkerLost(
                f"no connect worker of app {app_name} is connected",
                retry_in_ms=self._absent_delay_ms(app_name),
            )
        self._absent_since.pop(app_name, None)
        if self.cluster is None or self.hub.serves(app_name):
            return await self.hub.call(request)
        return await self.cluster.forward(request)

    def _reachable(self, app_name: str) -> bool:
        return self.hub.serves(app_name) or (
            self.cluster is not None and self.cluster.serves(app_name)
        )

    async def _wait_for_worker(self, app_name: str) -> bool:
        """A call of an app with no worker anywhere: a few calls (MAX_PARKED) wait here for
        one to connect, so the first calls after it does go out at once; the rest go back to
        the queue at once (each waiting call holds a queue slot other apps may need)."""
        self._absent_since.setdefault(app_name, time.monotonic())
        if self._parked >= MAX_PARKED:
            return False
        self._parked += 1
        try:
            return await self.hub.wait_for_worker(app_name, PARK_S)
        finally:
            self._parked -= 1

    def _absent_delay_ms(self, app_name: str) -> int:
        """When a call of an absent app is tried again: half as long as the app has been
        absent, between 0.5 s and 10 s. A worker connecting within that time waits at most
        that long for the backlog (the parked calls go out at once)."""
        absent_for = time.monotonic() - self._absent_since.get(app_name, time.monotonic())
        return int(min(ABSENT_DELAY_MAX_S, max(ABSENT_DELAY_MIN_S, absent_for / 2)) * 1000)

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._task = start_supervised(self.component, self._sweep_loop)
        if self.cluster is not None:
            self._presence = self.cluster.start()

    def components(self) -> list[Component]:
        return (
            [self.component] if self.cluster is None else [self.component, self.cluster.component]
        )

    async def _sweep_loop(self) -> None:
        while True:
            self.component.up()
            for worker in self.hub.sweep():
                log.warning("connect worker %s missed its heartbeats", worker.instance_id)
                self.hub.remove(worker, "missed its heartbeats")
                await worker.close()
            await asyncio.sleep(SWEEP_S)

    async def announce_closing(self) -> None:
        """GATEWAY_CLOSING: workers open a connection to another process at once and finish
        the requests they hold on this one, which stays open until `stop`."""
        for worker in self.hub.workers():
            worker.drain()
            try:
                await worker.send(wire.frame(wire.Kind.GATEWAY_CLOSING))
            except Exception:
                pass

    async def stop(self) -> None:
        for task in (self._task, self._presence):
            if task is not None:
                task.cancel()
        for session in list(self._sessions):
            await session.close()

    def workers(self) -> list[Worker]:
        return self.hub.workers()

    def recent_workers(self) -> list[Worker]:
        """Connected workers, then the last ones that left (`workerConnections`)."""
        return self.hub.recent()

    def connected(self, app_url: str) -> bool | None:
        """None for an HTTP app; for a connect app, whether some process holds a worker of it."""
        if not routes.is_connect(app_url):
            return None
        app_name, _ = routes.target(app_url)
        local = self.hub.serves(app_name)
        return local or (self.cluster is not None and self.cluster.serves(app_name))


def by_port(api: ASGIApp, gateway: ASGIApp, port: int) -> ASGIApp:
    """One server, two sockets: a connection to the gateway port goes to the gateway (which
    checks its own tokens), every other to the API with its middleware."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] != "lifespan" and server is not None and server[1] == port:
            await gateway(scope, receive, send)
        else:
            await api(scope, receive, send)

    return app
