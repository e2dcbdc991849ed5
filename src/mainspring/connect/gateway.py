"""The Connect gateway of one process: `/v0/connect/start` answers, the WebSocket endpoint on
the gateway port, the calls the executor routes to connected workers, and the sweep that drops
workers and requests gone silent.
"""

from __future__ import annotations

import asyncio
import logging

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
from mainspring.execution.driver import Reply
from mainspring.protocol import connect as wire
from mainspring.store.base import PubSub
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.connect")
GATEWAY_PATH = "/v0/connect"
SWEEP_S = 1.0


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
        self.hub = Hub()
        # several processes on PostgreSQL: calls forwarded to the process holding a worker
        self.cluster = Cluster(self.hub, pubsub) if pubsub is not None else None
        self._tokens = Tokens(signing_key)
        self._register = register
        self._sessions: set[Session] = set()
        self.component = Component("connect-sweep", deadline_s=HEARTBEAT_S * 3)
        self._task: asyncio.Task[None] | None = None
        self._presence: asyncio.Task[None] | None = None

    # --- the start call --------------------------------------------------------------------

    def start_response(self, host: str, secure: bool) -> bytes:
        """StartResponse for a worker that reached the API at `host`: the gateway is the same
        host on the gateway port. The StartRequest's `exclude_gateways` (gateways that failed
        the worker) is not read: each process has one gateway, and a worker that wants another
        process reaches it through its load balancer."""
        connection_id = str(ULID())
        hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        endpoint = self._public_url or (
            f"{'wss' if secure else 'ws'}://{hostname}:{self.port}{GATEWAY_PATH}"
        )
        token = self._tokens.issue(connection_id)
        response = wire.StartResponse(
            connection_id=connection_id,
            gateway_endpoint=endpoint,
            gateway_group=f"mainspring-{self.port}",
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
        session = Session(socket, self.hub, self._tokens, self._register)
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
        if self.cluster is None or self.hub.serves(app_name):
            return await self.hub.call(request)
        return await self.cluster.forward(request)

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
            worker.capacity = 0
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
