"""Live overrides of flow control: the row per function, and re-limiting the function's
concurrency keys in the same transaction, so the next lease (in any process) obeys them."""

from __future__ import annotations

from dataclasses import dataclass

from mainspring.store.base import Tx

REGISTRY_CHANNEL = "mainspring_registry"


@dataclass(frozen=True, slots=True)
class Relimit:
    """New limits of one function's own keys: `fn:<id>` takes `whole`, `fn:<id>:…` `keyed`."""

    function_id: str
    whole: int
    keyed: int


def save(
    tx: Tx,
    slug: str,
    config_json: str,
    concurrency: int | None,
    updated_by: str | None,
    now: int,
) -> None:
    params = {
        "slug": slug,
        "config": config_json,
        "concurrency": concurrency,
        "updated_by": updated_by,
        "now": now,
    }
    tx.write("override_upsert", params)
    tx.announce(REGISTRY_CHANNEL)  # other processes reload their function set


def delete(tx: Tx, slug: str) -> bool:
    deleted = tx.execute("override_delete", {"slug": slug}) > 0
    tx.announce(REGISTRY_CHANNEL)
    return deleted


def relimit(tx: Tx, change: Relimit) -> None:
    key = f"fn:{change.function_id}"
    params = {"key": key, "prefix": f"{key}:", "whole": change.whole, "keyed": change.keyed}
    tx.execute("override_relimit_queue", params)
    tx.execute("override_relimit_runs", params)
