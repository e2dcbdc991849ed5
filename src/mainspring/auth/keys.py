"""Event keys and API tokens: configured secrets plus rows created at run time, stored hashed.

Lookups are answered from memory. A miss reloads the rows (at most once per `RELOAD_S`), so a
key created by another process works at once and revocation by another process takes effect
within `REFRESH_S`; revocation through this process takes effect immediately.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from mainspring import audit, errors
from mainspring.audit import actors
from mainspring.protocol import signing
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import auth as auth_repo

ADMIN = "admin"
READ = "read"
SCOPES = (ADMIN, READ)
RELOAD_S = 1.0
REFRESH_S = 5.0
MAX_LABEL = 128


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(32)}"


def check_label(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_LABEL:
        raise errors.InvalidInput(f"name must be 1-{MAX_LABEL} characters", field="name")
    return name.strip()


class Keyring:
    def __init__(
        self,
        connector: Connector,
        *,
        event_keys: tuple[str, ...],
        signing_keys: tuple[str, ...],
        clock: Callable[[], int],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connector = connector
        self._config_event_hashes = {secret_hash(key) for key in event_keys}
        self._signing_keys = signing_keys
        self._clock = clock
        self._monotonic = monotonic
        self._event_hashes: set[str] = set()
        self._tokens: dict[str, tuple[str, str]] = {}  # hash → (scope, name)
        self._loaded_at = float("-inf")

    async def _load(self, *, force: bool = False) -> None:
        now = self._monotonic()
        if not force and now - self._loaded_at < RELOAD_S:
            return
        self._loaded_at = now

        def unit(tx: Any) -> tuple[set[str], dict[str, tuple[str, str]]]:
            return auth_repo.active_event_key_hashes(tx), auth_repo.active_api_tokens(tx)

        self._event_hashes, self._tokens = await self._connector.read(unit)

    async def _fresh(self, hit: bool) -> bool:
        """Reload when the answer was a miss or the cache is old; True if it reloaded."""
        age = self._monotonic() - self._loaded_at
        if hit and age < REFRESH_S:
            return False
        before = self._loaded_at
        await self._load()
        return self._loaded_at != before

    async def event_key_ok(self, key: str) -> bool:
        digest = secret_hash(key)
        if digest in self._config_event_hashes:
            return True
        hit = digest in self._event_hashes
        if await self._fresh(hit):
            hit = digest in self._event_hashes
        return hit

    async def token_scope(self, token: str) -> str | None:
        """The scope a bearer token grants: the signing key (raw or hashed) is an admin token."""
        found = await self.token_identity(token)
        return None if found is None else found[0]

    async def token_identity(self, token: str) -> tuple[str, str] | None:
        """(scope, actor) of a bearer token: `token:<its name>`, or `signing-key`."""
        if token and signing.bearer_matches(f"Bearer {token}", self._signing_keys):
            return ADMIN, actors.SIGNING_KEY
        digest = secret_hash(token)
        found = self._tokens.get(digest)
        if await self._fresh(found is not None):
            found = self._tokens.get(digest)
        return None if found is None else (found[0], actors.token(found[1]))

    # ---- management (CLI and admin API) -------------------------------------------------

    async def create_event_key(self, name: Any) -> dict[str, Any]:
        label = check_label(name)
        key = new_secret("")
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx) -> str:
            key_id = auth_repo.insert_event_key(tx, name=label, key_hash=secret_hash(key), now=now)
            details = {"name": label, "hash_prefix": secret_hash(key)[:12]}
            audit.record(
                tx,
                actor,
                "event_key.create",
                at=now,
                target_kind="event_key",
                target_id=key_id,
                details=details,
            )
            return key_id

        key_id = await self._connector.write(unit)
        await self._load(force=True)
        return {"id": key_id, "name": label, "key": key, "created_at": now}

    async def revoke_event_key(self, ref: str) -> bool:
        return await self._revoke(ref, auth_repo.revoke_event_key, "event_key")

    async def event_keys(self) -> list[dict[str, Any]]:
        rows = await self._connector.read(auth_repo.list_event_keys)
        return [_public(row, "key_hash") for row in rows]

    async def create_token(self, name: Any, scope: Any) -> dict[str, Any]:
        label = check_label(name)
        if scope not in SCOPES:
            raise errors.InvalidInput(f"scope must be one of {', '.join(SCOPES)}", field="scope")
        token = new_secret("ms_")
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx) -> str:
            token_id = auth_repo.insert_api_token(
                tx, name=label, token_hash=secret_hash(token), scope=str(scope), now=now
            )
            details = {"name": label, "scope": scope, "hash_prefix": secret_hash(token)[:12]}
            audit.record(
                tx,
                actor,
                "api_token.create",
                at=now,
                target_kind="api_token",
                target_id=token_id,
                details=details,
            )
            return token_id

        token_id = await self._connector.write(unit)
        await self._load(force=True)
        return {"id": token_id, "name": label, "scope": scope, "token": token, "created_at": now}

    async def revoke_token(self, ref: str) -> bool:
        return await self._revoke(ref, auth_repo.revoke_api_token, "api_token")

    async def _revoke(self, ref: str, revoke: Callable[[Tx, str, int], bool], kind: str) -> bool:
        """Revoke by id or name; the audit entry's target is the reference given."""
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx) -> bool:
            done = revoke(tx, ref, now)
            if done:
                audit.record(tx, actor, f"{kind}.revoke", at=now, target_kind=kind, target_id=ref)
            return done

        done: bool = await self._connector.write(unit)
        await self._load(force=True)
        return done

    async def tokens(self) -> list[dict[str, Any]]:
        rows = await self._connector.read(auth_repo.list_api_tokens)
        return [_public(row, "token_hash") for row in rows]


def _public(row: Any, hash_column: str) -> dict[str, Any]:
    """A row without its hash; a short hash prefix identifies the secret in logs and lists."""
    out = {key: value for key, value in dict(row).items() if key != hash_column}
    out["hash_prefix"] = str(row[hash_column])[:12]
    return out
