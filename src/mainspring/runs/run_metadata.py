"""`POST /v1/runs/{id}/metadata`: run metadata an SDK sets outside a step (`domain.metadata`)."""

from __future__ import annotations

from typing import Any

from mainspring import errors
from mainspring.domain import metadata
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import metadata as metadata_repo
from mainspring.store.repos import runs as runs_repo


async def add(connector: Connector, run_id: str, body: Any, now: int) -> int:
    """Every update is stored, or none (InvalidInput naming the field, PayloadTooLarge past a
    cap, NotFound for an unknown run). Returns how many were."""
    try:
        updates = metadata.parse_request(body, run_id)
    except metadata.TooLarge as exc:
        raise errors.PayloadTooLarge(str(exc), field=exc.field) from None
    except metadata.Invalid as exc:
        raise errors.InvalidInput(str(exc), field=exc.field) from None
    if await connector.read(lambda tx: runs_repo.get_run(tx, run_id)) is None:
        raise errors.NotFound(f"run not found: {run_id}")

    def unit(tx: Tx) -> int:
        for index, update in enumerate(updates):
            if not metadata_repo.add(tx, run_id, update, now):
                raise errors.PayloadTooLarge(
                    f"the run's metadata would pass {metadata.MAX_RUN_BYTES} bytes",
                    field=f"metadata[{index}].values",
                )
        return len(updates)

    stored: int = await connector.write(unit)
    return stored
