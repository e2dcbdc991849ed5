"""Connect across processes on one PostgreSQL database: a call leased by a process with no worker
of its app is forwarded, over the database's NOTIFY (`store.base.PubSub`), to a process that has
one; the reply comes back the same way. The leasing process keeps the queue item's lease for the
whole call, exactly as for a local worker, so the call is still never live twice.

Every PRESENCE_S each process with workers announces its apps (with their free capacity) and the
forwarded calls it holds. A process's messages arrive in the order it sent them, so when a
presence from the holder no longer lists a call it had accepted, its reply was sent before and
lost (NOTIFY is best effort): the caller gives the call back to the queue. A call not accepted
within ACCEPT_S, or held by a process that stopped announcing itself, goes back as well.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from ulid import ULID

from mainspring.connect.hub import Hub
from mainspring.execution.driver import Reply, WorkerLost
from mainspring.protocol import connect as wire
from mainspring.store.base import PubSub
from mainspring.supervision import Component, start_supervised

log = logging.getLogger("mainspring.connect")
CHANNEL = "mainspring_connect"
PRESENCE_S = 1.0
EXPIRY_S = 5 * PRESENCE_S  # a process silent this long holds nothing any more
ACCEPT_S = 5.0


@dataclass
class _Peer:
    apps: dict[str, int]  # app name -> free capacity (a large number when uncapped)
    holding: set[str]
    seen: float = field(default_factory=time.monotonic)


@dataclass
class _Forwarded:
    id: str
    to: str
    future: asyncio.Future[Reply]
    sent: float = field(default_factory=time.monotonic)
    accepted: bool = False


class Cluster:
    def __init__(self, hub: Hub, pubsub: PubSub) -> None:
        self.process = secrets.token_hex(6)
        self._hub = hub
        self._pubsub = pubsub
        self._peers: dict[str, _Peer] = {}
        self._calls: dict[str, _Forwarded] = {}
        self._held: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.component = Component("connect-presence", deadline_s=EXPIRY_S * 2)

    def start(self) -> asyncio.Task[None]:
        self._pubsub.subscribe(CHANNEL, self._heard)
        return start_supervised(self.component, self._announce_loop)

    # --- the caller's side -----------------------------------------------------------------

    def serves(self, app_name: str) -> bool:
        return any(app_name in peer.apps for peer in self._live_peers().values())

    async def forward(self, request: wire.GatewayExecutorRequestData) -> Reply:
        peers = {p: peer for p, peer in self._live_peers().items() if request.app_name in peer.apps}
        if not peers:
            raise WorkerLost(f"no process has a connect worker of app {request.app_name}")
        to = max(peers, key=lambda p: peers[p].apps[request.app_name])
        call_id = str(ULID())
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = _Forwarded(call_id, to, future)
        payload = base64.b64encode(request.SerializeToString()).decode()
        try:
            await self._send({"t": "call", "to": to, "id": call_id, "req": payload})
            return await future
        finally:
            self._calls.pop(call_id, None)

    def _live_peers(self) -> dict[str, _Peer]:
        now = time.monotonic()
        return {p: peer for p, peer in self._peers.items() if now - peer.seen < EXPIRY_S}

    # --- messages ------------------------------------------------------------------------------

    def _heard(self, payload: bytes) -> None:
        message: dict[str, Any] = orjson.loads(payload)
        kind, sender = message.get("t"), str(message.get("from", ""))
        if kind == "presence":
            self._presence(sender, message)
            return
        if message.get("to") != self.process:
            return
        call = self._calls.get(str(message.get("id")))
        if kind == "call":
            self._spawn(self._run_for(sender, message))
        elif call is None or call.future.done():
            return
        elif kind == "accepted":
            call.accepted = True
        elif kind == "reply":
            call.future.set_result(Reply(**message["reply"]))
        elif kind == "lost":
            call.future.set_exception(WorkerLost(str(message.get("reason"))))

    def _presence(self, sender: str, message: dict[str, Any]) -> None:
        peer = _Peer(
            apps=dict(message.get("apps") or {}), holding=set(message.get("holding") or ())
        )
        self._peers[sender] = peer
        for call in self._calls.values():
            if call.to == sender and call.accepted and not call.future.done():
                # ordered delivery: the holder's reply went out before this presence
                if call.id not in peer.holding:
                    call.future.set_exception(WorkerLost(f"process {sender} lost the reply"))

    # --- the holder's side ---------------------------------------------------------------------

    async def _run_for(self, sender: str, message: dict[str, Any]) -> None:
        call_id = str(message["id"])
        request = wire.GatewayExecutorRequestData()
        request.ParseFromString(base64.b64decode(message["req"]))
        self._held.add(call_id)
        try:
            await self._send({"t": "accepted", "to": sender, "id": call_id})
            reply = await self._hub.call(request)
        except WorkerLost as exc:
            await self._send({"t": "lost", "to": sender, "id": call_id, "reason": str(exc)})
        else:
            fields = {
                "status": reply.status,
                "body": reply.body,
                "from_sdk": reply.from_sdk,
                "no_retry": reply.no_retry,
                "retry_after": reply.retry_after,
                "request_version": reply.request_version,
                "sdk": reply.sdk,
            }
            await self._send({"t": "reply", "to": sender, "id": call_id, "reply": fields})
        finally:
            self._held.discard(call_id)

    async def _announce_loop(self) -> None:
        while True:
            self.component.up()
            changed = self._hub.changed.is_set()
            self._hub.changed.clear()
            await self._announce(changed)
            self._expire_calls()
            with contextlib.suppress(TimeoutError):  # at once when a worker joins or leaves
                await asyncio.wait_for(self._hub.changed.wait(), PRESENCE_S)

    async def _announce(self, changed: bool) -> None:
        """Presence while this process has workers or holds calls, and once when the last
        worker left (so that the others stop forwarding at once)."""
        apps: dict[str, int] = {}
        for worker in self._hub.workers():
            free = 1 << 20 if worker.capacity is None else worker.capacity - len(worker.in_flight)
            for app in worker.apps:
                apps[app] = apps.get(app, 0) + max(free, 0)
        if apps or self._held or changed:
            await self._send({"t": "presence", "apps": apps, "holding": sorted(self._held)})

    def _expire_calls(self) -> None:
        now, live = time.monotonic(), self._live_peers()
        for call in self._calls.values():
            if call.future.done():
                continue
            if not call.accepted and now - call.sent > ACCEPT_S:
                call.future.set_exception(WorkerLost(f"process {call.to} did not take the call"))
            elif call.to not in live:
                call.future.set_exception(WorkerLost(f"process {call.to} went silent"))

    async def _send(self, message: dict[str, Any]) -> None:
        await self._pubsub.publish(CHANNEL, orjson.dumps({**message, "from": self.process}))

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
