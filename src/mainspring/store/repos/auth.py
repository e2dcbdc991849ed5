"""Event keys and API tokens: rows keyed by the SHA-256 of the secret, never the secret."""

from __future__ import annotations

from mainspring.domain.ids import new_uuid
from mainspring.store.base import Row, Tx


def insert_event_key(tx: Tx, *, name: str, key_hash: str, now: int) -> str:
    key_id = new_uuid()
    tx.execute("insert_event_key", {"id": key_id, "name": name, "key_hash": key_hash, "now": now})
    return key_id


def list_event_keys(tx: Tx) -> list[Row]:
    return tx.fetchall("list_event_keys")


def active_event_key_hashes(tx: Tx) -> set[str]:
    return {str(row["key_hash"]) for row in tx.fetchall("active_event_key_hashes")}


def revoke_event_key(tx: Tx, ref: str, now: int) -> bool:
    return tx.execute("revoke_event_key", {"ref": ref, "now": now}) > 0


def insert_api_token(tx: Tx, *, name: str, token_hash: str, scope: str, now: int) -> str:
    token_id = new_uuid()
    tx.execute(
        "insert_api_token",
        {"id": token_id, "name": name, "token_hash": token_hash, "scope": scope, "now": now},
    )
    return token_id


def list_api_tokens(tx: Tx) -> list[Row]:
    return tx.fetchall("list_api_tokens")


def active_api_tokens(tx: Tx) -> dict[str, tuple[str, str]]:
    """token hash → (scope, name)."""
    return {
        str(row["token_hash"]): (str(row["scope"]), str(row["name"]))
        for row in tx.fetchall("active_api_tokens")
    }


def revoke_api_token(tx: Tx, ref: str, now: int) -> bool:
    return tx.execute("revoke_api_token", {"ref": ref, "now": now}) > 0
