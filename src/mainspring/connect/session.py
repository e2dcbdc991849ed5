"""One worker's WebSocket: the handshake, then its messages until it leaves.

GATEWAY_HELLO → WORKER_CONNECT (tokens, apps and their function configs) → the apps are synced
as a `/fn/register` would → GATEWAY_CONNECTION_READY; then heartbeats, acknowledgements, lease
extensions and replies, each answered as the SDKs expect.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from mainspring import errors
from mainspring.connect import routes
from mainspring.connect.hub import EXTEND_LEASE_S, HEARTBEAT_S, STATUS_S, Hub, Worker, WorkerDetails
from mainspring.connect.tokens import Tokens
from mainspring.protocol import connect as wire

log = logging.getLogger("mainspring.connect")
CONNECT_TIMEOUT_S = 10.0
POLICY_VIOLATION = 1008

Register = Callable[[dict[str, Any]], Awaitable[None]]


class Refused(Exception):
    pass


def register_body(app: Any, sdk: str) -> dict[str, Any]:
    """A WORKER_CONNECT app as the `/fn/register` body an HTTP app would have sent; each
    function's URL names the app, which is how a call finds its workers."""
    functions = orjson.loads(app.functions) if app.functions else []
    for function in functions:
        for step in (function.get("steps") or {}).values():
            runtime = step.get("runtime") or {}
            runtime["url"] = routes.function_url(app.app_name, runtime.get("url", ""))
    body: dict[str, Any] = {
        "url": routes.app_url(app.app_name),
        "appName": app.app_name,
        "framework": "connect",
        "sdk": sdk,
        "v": "0.1",
        "functions": functions,
    }
    if app.HasField("app_version"):
        body["appVersion"] = app.app_version
    return body


def details_of(request: Any, gateway_id: str, ip: str) -> WorkerDetails:
    """What `workerConnections` shows of a WORKER_CONNECT beyond routing."""
    system = request.system_attributes
    counts, hashes, versions = {}, {}, {}
    for app in request.apps:
        counts[app.app_name] = len(orjson.loads(app.functions)) if app.functions else 0
        # the group hash names the app's exact function configs (equal configs, equal hash)
        hashes[app.app_name] = hashlib.sha256(bytes(app.functions)).hexdigest()[:16]
        if app.HasField("app_version"):
            versions[app.app_name] = app.app_version
    return WorkerDetails(
        gateway_id=gateway_id,
        ip=ip,
        max_concurrency=request.max_worker_concurrency,
        sdk_language=request.sdk_language,
        sdk_version=request.sdk_version,
        platform=request.platform if request.HasField("platform") else "",
        cpu_cores=system.cpu_cores,
        mem_bytes=system.mem_bytes,
        os=system.os,
        app_versions=versions,
        function_counts=counts,
        group_hashes=hashes,
    )


def sdk_name(language: str, version: str) -> str:
    name = language if language.startswith("inngest-") else f"inngest-{language}"
    return f"{name}:v{version.removeprefix('v')}"


class Session:
    def __init__(
        self, socket: WebSocket, hub: Hub, tokens: Tokens, register: Register, gateway_id: str
    ) -> None:
        self._socket = socket
        self._gateway_id = gateway_id
        self._hub = hub
        self._tokens = tokens
        self._register = register
        self._send_lock = asyncio.Lock()

    async def send(self, data: bytes) -> None:
        async with self._send_lock:
            await self._socket.send_bytes(data)

    async def close(self) -> None:
        try:
            await self._socket.close(1001)
        except RuntimeError:
            pass

    async def run(self) -> None:
        await self._socket.accept(subprotocol=wire.SUBPROTOCOL)
        try:
            worker = await self._handshake()
        except (Refused, TimeoutError) as exc:
            log.warning("connect handshake refused: %s", exc)
            await self._socket.close(POLICY_VIOLATION, str(exc)[:120])
            return
        except WebSocketDisconnect:
            return
        self._hub.add(worker)
        log.info("connect worker %s joined (apps %s)", worker.instance_id, ", ".join(worker.apps))
        try:
            while True:
                data = await self._socket.receive_bytes()
                await self._on_message(worker, wire.unframe(data))
        except (WebSocketDisconnect, RuntimeError, KeyError):
            pass
        finally:
            self._hub.remove(worker, "disconnected")
            log.info("connect worker %s left", worker.instance_id)

    async def _handshake(self) -> Worker:
        await self.send(wire.frame(wire.Kind.GATEWAY_HELLO))
        data = await asyncio.wait_for(self._socket.receive_bytes(), CONNECT_TIMEOUT_S)
        message = wire.unframe(data)
        if message.kind != wire.Kind.WORKER_CONNECT:
            raise Refused("expected WORKER_CONNECT")
        request = wire.WorkerConnectRequestData()
        request.ParseFromString(message.payload)
        token = request.auth_data.session_token
        if not self._tokens.valid(request.connection_id, token):
            raise Refused("invalid or expired session token")
        sdk = sdk_name(request.sdk_language, request.sdk_version)
        for app in request.apps:
            try:
                await self._register(register_body(app, sdk))
            except (errors.MainspringError, ValueError) as exc:  # an invalid function config
                raise Refused(f"app {app.app_name} could not be synced: {exc}") from None
        ready = wire.GatewayConnectionReadyData(
            heartbeat_interval=f"{HEARTBEAT_S}s",
            extend_lease_interval=f"{EXTEND_LEASE_S}s",
            status_interval=f"{STATUS_S}s",
        )
        await self.send(wire.frame(wire.Kind.GATEWAY_CONNECTION_READY, ready.SerializeToString()))
        capacity = request.max_worker_concurrency
        return Worker(
            connection_id=request.connection_id,
            instance_id=request.instance_id or request.connection_id,
            apps=tuple(app.app_name for app in request.apps),
            sdk=sdk,
            capacity=capacity if request.HasField("max_worker_concurrency") and capacity else None,
            send=self.send,
            close=self.close,
            details=details_of(request, self._gateway_id, self._client_ip()),
        )

    def _client_ip(self) -> str:
        client = self._socket.client
        return client.host if client is not None else ""

    async def _on_message(self, worker: Worker, message: wire.ConnectMessage) -> None:
        self._hub.seen(worker, heartbeat=message.kind == wire.Kind.WORKER_HEARTBEAT)
        kind = message.kind
        if kind == wire.Kind.WORKER_HEARTBEAT:
            await self.send(wire.frame(wire.Kind.GATEWAY_HEARTBEAT))
        elif kind == wire.Kind.WORKER_REQUEST_ACK:
            ack = wire.WorkerRequestAckData()
            ack.ParseFromString(message.payload)
            self._hub.acked(ack.request_id)
        elif kind == wire.Kind.WORKER_REQUEST_EXTEND_LEASE:
            await self._extend(message.payload)
        elif kind == wire.Kind.WORKER_REPLY:
            reply = wire.SDKResponse()
            reply.ParseFromString(message.payload)
            self._hub.replied(reply)
            done = wire.WorkerReplyAckData(request_id=reply.request_id)
            await self.send(wire.frame(wire.Kind.WORKER_REPLY_ACK, done.SerializeToString()))
        elif kind == wire.Kind.WORKER_PAUSE:
            worker.drain()
        elif kind == wire.WORKER_STATUS:
            status = wire.WorkerStatusData()
            status.ParseFromString(message.payload)
            held = list(status.in_flight_request_ids)
            self._hub.reported(worker, held, status.shutdown_requested)

    async def _extend(self, payload: bytes) -> None:
        extend = wire.WorkerRequestExtendLeaseData()
        extend.ParseFromString(payload)
        ack = wire.WorkerRequestExtendLeaseAckData(
            request_id=extend.request_id,
            account_id=extend.account_id,
            env_id=extend.env_id,
            app_id=extend.app_id,
            function_slug=extend.function_slug,
        )
        if self._hub.acked(extend.request_id):  # no new lease id: the SDK stops the request
            ack.new_lease_id = extend.lease_id
        await self.send(
            wire.frame(wire.Kind.WORKER_REQUEST_EXTEND_LEASE_ACK, ack.SerializeToString())
        )
