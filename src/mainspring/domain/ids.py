"""Identifiers: ULIDs for events, runs and queue items."""

from __future__ import annotations

import base64
import binascii
import uuid

from ulid import ULID


def new_ulid() -> str:
    """A fresh, time-ordered ULID string."""
    return str(ULID())


def new_uuid() -> str:
    return str(uuid.uuid4())


def ulids_from_seed(seed: str, count: int) -> list[str] | None:
    """Derive deterministic event ids from an SDK's `X-Inngest-Event-Id-Seed`.

    The seed is `<millis>,<base64 of 10 random bytes>`; the n-th event (1-based) gets the entropy
    with its last four bytes, read as a big-endian integer, incremented by n. An SDK resending the
    same request therefore yields the same ids, which makes its retries idempotent.
    Returns None when the seed is malformed.
    """
    try:
        millis_text, entropy_text = seed.split(",", 1)
        millis = int(millis_text)
        entropy = base64.b64decode(entropy_text, validate=True)
    except (ValueError, binascii.Error):
        return None
    if len(entropy) != 10 or not 0 <= millis < 2**48:
        return None
    head, tail = entropy[:6], int.from_bytes(entropy[6:], "big")
    ids = []
    for index in range(1, count + 1):
        bumped = ((tail + index) % 2**32).to_bytes(4, "big")
        ids.append(str(ULID.from_bytes(millis.to_bytes(6, "big") + head + bumped)))
    return ids


def derived_ulid(parent: str, entropy: bytes) -> str:
    """A ULID with `parent`'s time and the first 10 bytes of `entropy`: the same inputs always
    give the same id (ids of events derived from a run, e.g. its defers' schedule events)."""
    return str(ULID.from_bytes(ULID.from_str(parent).bytes[:6] + entropy[:10]))


# The highest id any run can have: the upper bound when neither a cursor nor a time is given.
ID_CEILING = "7" + "Z" * 25


def ulid_floor(ms: int) -> str:
    """The smallest ULID of millisecond `ms`: ids >= it were made at `ms` or later."""
    return str(ULID.from_bytes(max(ms, 0).to_bytes(6, "big") + bytes(10)))
