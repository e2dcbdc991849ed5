"""Live overrides of a function's flow control: parse, store, re-limit its queued work.

Stored by slug in the function_overrides table and read back with the function set, so the
registry's `FunctionDef.flow` is always what the engine obeys (synced config + overrides) and
`FunctionDef.overrides` what the operator set. How a change reaches the engine:
- concurrency: leases count against the limit stored on queue rows. The change re-limits the
  function's own keys on the queue and run_flow rows in its transaction, and a new run's limits
  are stored with the override read in the run's transaction (store/queries/*/flow.sql), so
  the next lease of any process obeys it, whatever that process's function set says;
- throttle, rate limit, priority are decided when a run starts (runs/admission.py) from
  `FunctionDef.flow`: this process reloads at once, the others on the registry NOTIFY.
"""

from __future__ import annotations

from typing import Any

from mainspring import audit, codec
from mainspring.domain.durations import rfc3339
from mainspring.domain.flow import UNLIMITED, FlowOverrides
from mainspring.domain.functions import FunctionDef
from mainspring.flow import overrides as flow_overrides
from mainspring.registry import flow_config
from mainspring.store.base import Connector, Row, Tx
from mainspring.store.repos import overrides as overrides_repo


def from_row(row: Row) -> FlowOverrides | None:
    """The overrides joined onto a function row (`list_active_functions`), if any."""
    if row["overrides"] is None:
        return None
    parsed = flow_config.parse_overrides(codec.loads(row["overrides"]))
    return FlowOverrides(
        concurrency=parsed.concurrency,
        throttle=parsed.throttle,
        rate_limit=parsed.rate_limit,
        priority=parsed.priority,
        updated_at=row["overrides_at"],
        updated_by=row["overrides_by"],
    )


def describe(function: FunctionDef) -> dict[str, Any]:
    """The function's flow control as the API shows it: synced, overridden, effective."""
    synced = {
        key: function.config[key] for key in flow_config.OVERRIDE_FIELDS if key in function.config
    }
    overrides = function.overrides
    return {
        "function_id": function.slug,
        "synced": synced,
        "overrides": {} if overrides is None else flow_config.dump_overrides(overrides),
        "updated_at": None if overrides is None else rfc3339(overrides.updated_at),
        "updated_by": None if overrides is None else overrides.updated_by,
    }


async def write(
    connector: Connector,
    function: FunctionDef,
    new: FlowOverrides,
    updated_by: str | None,
    now: int,
    actor: str,
) -> None:
    """Store `new` (an empty one clears), re-limit the function's concurrency keys, and audit
    the change as `actor`, all in one transaction."""
    before = describe(function)["overrides"]
    old_limit = function.overrides.concurrency if function.overrides is not None else None
    relimit = None
    if new.concurrency is not None or old_limit is not None:
        whole, keyed = flow_overrides.own_limits(flow_config.parse(function.config).concurrency)
        relimit = overrides_repo.Relimit(
            function.id,
            new.concurrency or whole or UNLIMITED,
            new.concurrency or keyed or UNLIMITED,
        )

    def unit(tx: Tx) -> None:
        if new.empty:
            overrides_repo.delete(tx, function.slug)
        else:
            shape = codec.dumps(flow_config.dump_overrides(new))
            overrides_repo.save(tx, function.slug, shape, new.concurrency, updated_by, now)
        if relimit is not None:
            overrides_repo.relimit(tx, relimit)
        audit.record(
            tx,
            actor,
            "function.override" if not new.empty else "function.override_clear",
            at=now,
            target_kind="function",
            target_id=function.slug,
            details={
                "before": before,
                "after": flow_config.dump_overrides(new),
                "requested_by": updated_by,
            },
        )

    await connector.write(unit)
