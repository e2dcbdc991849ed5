"""`store.PubSub` between two processes' worth of connections on one PostgreSQL database, and
the per-database secret realtime tokens are signed with in dev mode."""

from __future__ import annotations

import asyncio

import pytest

from mainspring.store import open_pubsub
from mainspring.store.base import Connector
from mainspring.store.repos import secrets

CHANNEL = "mainspring_test_pubsub"


@pytest.mark.postgres_only
async def test_messages_reach_the_other_process_whole_and_in_order(db_url: str) -> None:
    sender, receiver = open_pubsub(db_url), open_pubsub(db_url)
    assert sender is not None and receiver is not None
    heard: list[bytes] = []
    got_all = asyncio.Event()
    payloads = [f'{{"n": {n}}}'.encode() for n in range(50)]
    payloads.insert(10, ("é" * 9_000).encode())  # 18,000 bytes: past NOTIFY's 8,000
    payloads.insert(20, payloads[0])  # the same payload twice in one batch is not merged

    def hear(payload: bytes) -> None:
        heard.append(payload)
        if len(heard) == len(payloads):
            got_all.set()

    own: list[bytes] = []
    receiver.subscribe(CHANNEL, hear)
    sender.subscribe(CHANNEL, own.append)
    try:
        await _until_listening(sender, receiver)
        heard.clear()
        await asyncio.gather(*(sender.publish(CHANNEL, p) for p in payloads))
        await asyncio.wait_for(got_all.wait(), 10)
        assert heard == payloads
        assert own == []  # a process never hears its own messages
        assert [c.name for c in sender.components()] == ["realtime-publisher", "realtime-listener"]
    finally:
        await sender.close()
        await receiver.close()


async def _until_listening(sender: object, receiver: object) -> None:
    """The listener threads connect in the background: probe until the receiver hears."""
    from mainspring.store.pg_pubsub import PgPubSub

    assert isinstance(sender, PgPubSub) and isinstance(receiver, PgPubSub)
    heard = asyncio.Event()
    receiver.subscribe(CHANNEL, lambda payload: heard.set())
    for _ in range(100):
        await sender.publish(CHANNEL, b"probe")
        try:
            await asyncio.wait_for(heard.wait(), 0.1)
            return
        except TimeoutError:
            continue
    raise AssertionError("the receiver never heard the sender")


async def test_sqlite_has_no_pubsub(db_url: str, connector: Connector) -> None:
    assert (open_pubsub(db_url) is None) == (connector.dialect == "sqlite")


async def test_a_server_secret_is_made_once(connector: Connector) -> None:
    first = await connector.write(lambda tx: secrets.get_or_create(tx, "k", "one", 1))
    second = await connector.write(lambda tx: secrets.get_or_create(tx, "k", "two", 2))
    assert first == second == "one"
