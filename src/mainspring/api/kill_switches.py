"""The kill switch of every environment at once. Each environment keeps its own switch (its
workers read only their store); the global one flips them all and is recorded beside the list
of environments, so an environment that opens while it is on starts held too."""

from __future__ import annotations

from typing import Any

from mainspring.api.state import Services
from mainspring.environments.hub import Environments


async def hold_if_global(
    environments: Environments[Services], name: str, services: Services
) -> None:
    row = await environments.global_kill_switch()
    if row is not None:
        await services.operations.kill_switch.activate(
            reason=row["reason"], requested_by=row["requested_by"]
        )


async def activate_all(
    environments: Environments[Services], current: str, reason: str | None, requested_by: str | None
) -> dict[str, Any]:
    await environments.set_global_kill_switch(reason, requested_by)
    each = {
        name: await services.operations.kill_switch.activate(
            reason=reason, requested_by=requested_by
        )
        for name, services in environments.all_services()
    }
    every = {"active": True, "reason": reason}
    return {**_switch(each[current]), "all_environments": every, "environments": each}


async def deactivate_all(
    environments: Environments[Services], current: str, *, skip_held_events: bool
) -> dict[str, Any]:
    await environments.clear_global_kill_switch()
    each = {
        name: await services.operations.kill_switch.deactivate(skip_held_events=skip_held_events)
        for name, services in environments.all_services()
    }
    every = {"active": False, "reason": None}
    return {**_switch(each[current]), "all_environments": every, "environments": each}


def _switch(state: dict[str, Any]) -> dict[str, Any]:
    """This environment's switch as `GET /v1/kill-switch` shows it."""
    return {key: state.get(key) for key in ("active", "reason", "requested_by", "since")}


async def global_state(environments: Environments[Services]) -> dict[str, Any]:
    row = await environments.global_kill_switch()
    return {"active": row is not None, "reason": None if row is None else row["reason"]}
