"""Event keys and API tokens: rows keyed by the SHA-256 of the secret, never the secret.

An event key belongs to one environment (`env`); a token may be limited to some (`envs`, a JSON
list; NULL: all environments). Rows read back carry `environments` (a list, or None for all).
"""

from __future__ import annotations

from dataclasses import dataclass

from mainspring import codec
from mainspring.domain.ids import new_uuid
from mainspring.store.base import Row, Tx


@dataclass(frozen=True, slots=True)
class TokenRow:
    scope: str
    name: str
    envs: tuple[str, ...] | None  # None: every environment


def insert_event_key(tx: Tx, *, name: str, key_hash: str, env: str, now: int) -> str:
    key_id = new_uuid()
    tx.execute(
        "insert_event_key",
        {"id": key_id, "name": name, "key_hash": key_hash, "env": env, "now": now},
    )
    return key_id


def list_event_keys(tx: Tx) -> list[Row]:
    return tx.fetchall("list_event_keys")


def active_event_keys(tx: Tx) -> dict[str, str]:
    """key hash → the environment its events go to."""
    return {str(row["key_hash"]): str(row["env"]) for row in tx.fetchall("active_event_keys")}


def revoke_event_key(tx: Tx, ref: str, now: int) -> bool:
    return tx.execute("revoke_event_key", {"ref": ref, "now": now}) > 0


def insert_api_token(
    tx: Tx, *, name: str, token_hash: str, scope: str, envs: tuple[str, ...] | None, now: int
) -> str:
    token_id = new_uuid()
    stored = None if envs is None else codec.dumps(list(envs))
    tx.execute(
        "insert_api_token",
        {
            "id": token_id,
            "name": name,
            "token_hash": token_hash,
            "scope": scope,
            "envs": stored,
            "now": now,
        },
    )
    return token_id


def list_api_tokens(tx: Tx) -> list[Row]:
    rows = tx.fetchall("list_api_tokens")
    return [{**dict(row), "envs": _envs(row["envs"])} for row in rows]


def active_api_tokens(tx: Tx) -> dict[str, TokenRow]:
    return {
        str(row["token_hash"]): TokenRow(str(row["scope"]), str(row["name"]), _envs(row["envs"]))
        for row in tx.fetchall("active_api_tokens")
    }


def revoke_api_token(tx: Tx, ref: str, now: int) -> bool:
    return tx.execute("revoke_api_token", {"ref": ref, "now": now}) > 0


def _envs(stored: object) -> tuple[str, ...] | None:
    if stored is None:
        return None
    return tuple(str(name) for name in codec.loads(str(stored)))
