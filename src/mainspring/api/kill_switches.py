"""The kill switch of every environment at once. Each environment keeps its own switch (its
workers read only their store); the global one flips them all and is recorded beside the list
of environments, so an environment that opens while it is on starts held too."""

from __future__ import annotations

from typing import Any

from mainspring.api.state import Services
from mainspring.environments.hub import Environments

MARK = "all environments"  # `requested_by` of a hold the global switch made


def _by(requested_by: str | None) -> str:
    return MARK if not requested_by else f"{MARK} ({requested_by})"


async def hold_if_global(
    environments: Environments[Services], name: str, services: Services
) -> None:
    await _reconcile(services, await environments.global_kill_switch())


async def reconcile_all(environments: Environments[Services]) -> None:
    """Each round, every environment's switch follows the global one: held while it is on
    (one another process opened as this one flipped it), released once it is off (one that
    was archived, or whose hold raced the release). Holds of its own are left alone."""
    row = await environments.global_kill_switch()
    for _, services in environments.all_services():
        await _reconcile(services, row)


async def _reconcile(services: Services, row: Any) -> None:
    switch = services.operations.kill_switch
    state = await switch.state()
    if row is not None and not state["active"]:
        await switch.activate(reason=row["reason"], requested_by=_by(row["requested_by"]))
    elif row is None and state["active"] and str(state["requested_by"] or "").startswith(MARK):
        await switch.deactivate()


async def activate_all(
    environments: Environments[Services], current: str, reason: str | None, requested_by: str | None
) -> dict[str, Any]:
    await environments.set_global_kill_switch(reason, requested_by)
    each = {
        name: await services.operations.kill_switch.activate(
            reason=reason, requested_by=_by(requested_by)
        )
        for name, services in environments.all_services()
    }
    every = {"active": True, "reason": reason}
    return {**_switch(each.get(current, {})), "all_environments": every, "environments": each}


async def deactivate_all(
    environments: Environments[Services], current: str, *, skip_held_events: bool
) -> dict[str, Any]:
    await environments.clear_global_kill_switch()
    each = {
        name: await services.operations.kill_switch.deactivate(skip_held_events=skip_held_events)
        for name, services in environments.all_services()
    }
    every = {"active": False, "reason": None}
    return {**_switch(each.get(current, {})), "all_environments": every, "environments": each}


def _switch(state: dict[str, Any]) -> dict[str, Any]:
    """This environment's switch as `GET /v1/kill-switch` shows it."""
    return {key: state.get(key) for key in ("active", "reason", "requested_by", "since")}


async def global_state(environments: Environments[Services]) -> dict[str, Any]:
    row = await environments.global_kill_switch()
    return {"active": row is not None, "reason": None if row is None else row["reason"]}
