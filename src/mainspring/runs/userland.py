"""Storing userland spans (`POST /v1/traces/userland`, decoded by `protocol.otlp`) per run.

A span names its run (`sdk.run.id`); one of an unknown run, or naming none, is rejected (counted,
as OTLP's partial success reports it). The SDK's own `inngest.execution` span (one per call,
wrapping the user's) is not stored: its children hang under their step, or the run. Each run
holds at most `MAX_RUN_BYTES` of spans: a request that would pass that is refused whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from mainspring import errors
from mainspring.protocol.otlp import Span
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import runs as runs_repo
from mainspring.store.repos import spans as spans_repo

MAX_BODY_BYTES = 8 * 1024 * 1024  # one request (Inngest's MaxUserlandTraceBodySize)
MAX_RUN_BYTES = 4 * 1024 * 1024  # all the spans of one run (protobuf size)


@dataclass(frozen=True, slots=True)
class Stored:
    stored: int
    rejected: int


async def store(connector: Connector, spans: list[Span], now: int) -> Stored:
    by_run: dict[str, list[Span]] = {}
    rejected = 0
    for span in spans:
        if span.run_id is None:
            rejected += 1
        elif not span.sdk_root:
            by_run.setdefault(span.run_id, []).append(span)

    def unit(tx: Tx) -> Stored:
        stored, unknown = 0, 0
        for run_id, group in by_run.items():
            if runs_repo.get_run(tx, run_id) is None:
                unknown += len(group)
                continue
            incoming = sum(span.size for span in group)
            if spans_repo.bytes_of_run(tx, run_id) + incoming > MAX_RUN_BYTES:
                raise errors.PayloadTooLarge(
                    f"run {run_id} would hold more than {MAX_RUN_BYTES} bytes of userland spans",
                    field="resourceSpans",
                )
            for span in group:
                spans_repo.add(tx, run_id, span, now)
            stored += len(group)
        return Stored(stored, rejected + unknown)

    if not by_run:
        return Stored(0, rejected)
    result: Stored = await connector.write(unit)
    return result
