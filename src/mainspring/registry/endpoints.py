"""Durable endpoints as functions: recorded the first time an endpoint starts a run.

An endpoint is not synced: the app announces it with its first `POST /v1/checkpoint`. It becomes
a function (so its runs list, filter and show like any other) of an app named after its origin
(`http://127.0.0.1:3000`), with no triggers and a marker in its config. Inngest does the same
(`upsertSyncData`: app = domain, function = "METHOD /path" or the SDK's function id).
"""

from __future__ import annotations

from typing import Any

from mainspring.domain.functions import DEFAULT_RETRIES, MAX_RETRIES, FunctionDef
from mainspring.protocol.endpoints import Endpoint

MARKER = "mainspring_endpoint"  # config key; its value is the endpoint's HTTP method


def is_endpoint(config: dict[str, Any]) -> bool:
    return MARKER in config


def config_of(endpoint: Endpoint, retries: int | None) -> dict[str, Any]:
    """The function config stored for an endpoint, in the register payload's shape."""
    attempts = DEFAULT_RETRIES if retries is None or retries < 0 else min(retries, MAX_RETRIES)
    return {
        "id": endpoint.slug,
        "name": endpoint.name,
        "triggers": [],
        "steps": {
            "step": {
                "id": "step",
                "name": endpoint.name,
                "runtime": {"type": "http", "url": endpoint.url},
                "retries": {"attempts": attempts},
            }
        },
        MARKER: endpoint.method,
    }


def function_of(row: Any, config: dict[str, Any]) -> FunctionDef:
    step = config["steps"]["step"]
    return FunctionDef(
        id=row["id"],
        app_id=row["app_id"],
        slug=row["slug"],
        name=row["name"],
        url=step["runtime"]["url"],
        triggers=(),
        retries=int(step["retries"]["attempts"]),
        config=config,
        endpoint=True,
    )
