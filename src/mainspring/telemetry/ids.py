"""Trace and span ids derived from what they describe, so every process and every export of the
same run agrees on them (a retried export sends the same ids; a child run can point at its
parent's invoke span without asking anybody)."""

from __future__ import annotations

import hashlib

from mainspring.protocol import tracecontext


def trace_id(run_id: str) -> int:
    """The run's trace: the same id the SDKs see in our `traceparent` (the ULID's 128 bits)."""
    return int(tracecontext.trace_id(run_id), 16) or 1


def span_id(run_id: str, *parts: object) -> int:
    """A 64-bit span id for one thing of the run: ("run",), ("step", id), ("attempt", id, n)."""
    text = ":".join([run_id, *(str(part) for part in parts)])
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") or 1
