"""Apps and their functions: sync writes, active function listing."""

from __future__ import annotations

from dataclasses import dataclass

from mainspring.domain.ids import new_uuid
from mainspring.store.base import Row, Tx


@dataclass(frozen=True, slots=True)
class SyncedFunction:
    slug: str
    name: str
    config_json: str


@dataclass(frozen=True, slots=True)
class SyncResult:
    app_id: str
    modified: bool


def sync_app(
    tx: Tx,
    *,
    name: str,
    url: str,
    sdk: str | None,
    framework: str | None,
    checksum: str,
    functions: list[SyncedFunction],
    now: int,
) -> SyncResult:
    """Replace the app's function set; functions absent from `functions` are archived."""
    app = tx.fetchone("get_app_by_name", {"name": name})
    params = {"name": name, "url": url, "sdk": sdk, "framework": framework, "checksum": checksum}
    if app is None:
        app_id = new_uuid()
        tx.write("insert_app", {**params, "id": app_id, "now": now})
    else:
        app_id = app["id"]
        unchanged = (
            app["checksum"] == checksum
            and app["url"] == url
            and app["error"] is None
            and app["archived_at"] is None
        )
        tx.write("update_app_sync", {**params, "id": app_id, "now": now})
        if unchanged:
            return SyncResult(app_id=app_id, modified=False)
    tx.write("archive_app_functions", {"app_id": app_id, "now": now})
    tx.announce("mainspring_registry")  # other processes reload their function set
    for function in functions:
        tx.write(
            "upsert_function",
            {
                "id": new_uuid(),
                "app_id": app_id,
                "slug": function.slug,
                "name": function.name,
                "config": function.config_json,
                "now": now,
            },
        )
    return SyncResult(app_id=app_id, modified=True)


def upsert_endpoint(
    tx: Tx, *, app_name: str, slug: str, name: str, config_json: str, now: int
) -> None:
    """A durable endpoint's function, under an app named after its origin (made when new)."""
    tx.write("upsert_endpoint_app", {"id": new_uuid(), "name": app_name, "now": now})
    app = tx.fetchone("get_app_by_name", {"name": app_name})
    assert app is not None
    params = {"id": new_uuid(), "app_id": app["id"], "slug": slug, "name": name, "now": now}
    tx.write("upsert_function", {**params, "config": config_json})
    tx.announce("mainspring_registry")  # other processes reload their function set


def list_apps(tx: Tx) -> list[Row]:
    """The apps not deleted."""
    return tx.fetchall("list_apps")


def get_app(tx: Tx, app_id: str) -> Row | None:
    """One app by id, deleted or not."""
    return tx.fetchone("get_app", {"id": app_id})


def archive_app(tx: Tx, app_id: str, now: int) -> bool:
    """Delete an app: it and its functions are archived (their runs keep their names); a later
    sync of the same app name brings it back. False when there is no such app (or it was
    deleted before)."""
    if tx.execute("archive_app", {"id": app_id, "now": now}) == 0:
        return False
    tx.write("archive_app_functions", {"app_id": app_id, "now": now})
    tx.announce("mainspring_registry")  # other processes reload their function set
    return True


def get_function_by_slug(tx: Tx, slug: str) -> Row | None:
    """One function, archived or not (`list_active_functions` has the active ones)."""
    return tx.fetchone("get_function_by_slug", {"slug": slug})


def list_active_functions(tx: Tx) -> list[Row]:
    return tx.fetchall("list_active_functions")
