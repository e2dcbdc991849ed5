"""Event keys and API tokens: configured secrets plus rows created at run time, stored hashed.

An event key belongs to one environment: its events go there whatever the request's
`X-Inngest-Env` says (as in Inngest Cloud, where the key names the environment); a configured
key (`--event-key`) belongs to the default one. An API token may be limited to some
environments (`Grant.envs`; None: all of them).

Lookups are answered from memory. A miss reloads the rows (at most once per `RELOAD_S`), so a
key created by another process works at once and revocation by another process takes effect
within `REFRESH_S`; revocation through this process takes effect immediately.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from mainspring import audit, errors
from mainspring.audit import actors
from mainspring.environments import names
from mainspring.protocol import signing
from mainspring.store.base import Connector, Tx
from mainspring.store.repos import auth as auth_repo
from mainspring.store.repos import environments as env_repo

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


def check_env(name: Any, known: Collection[str] | None, field: str = "env") -> str:
    """A valid environment name the server knows (`known` None: any valid name, for a branch
    environment that its first sync will create); InvalidInput naming `field` otherwise."""
    checked = names.check(name, field)
    if known is not None and checked not in known:
        raise errors.InvalidInput(
            f"environment {checked!r} is not known to this server "
            f"(known: {', '.join(sorted(known))})",
            field=field,
        )
    return checked


def check_envs(given: Any, known: Collection[str] | None) -> tuple[str, ...] | None:
    """A token's `environments`: omitted (None) for all, else a non-empty list of names."""
    if given is None:
        return None
    if not isinstance(given, list) or not given:
        raise errors.InvalidInput(
            "environments must be a non-empty list of names (omit it for all)",
            field="environments",
        )
    return tuple(sorted({check_env(name, known, "environments") for name in given}))


@dataclass(frozen=True, slots=True)
class Grant:
    """What a bearer token allows: its scope, who the audit log names, its environments."""

    scope: str
    actor: str
    envs: tuple[str, ...] | None = None  # None: every environment

    def allows(self, env: str) -> bool:
        return self.envs is None or env in self.envs


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
        self._config_event_hashes = {secret_hash(key) for key in event_keys}  # the default env
        self._signing_keys = signing_keys
        self._clock = clock
        self._monotonic = monotonic
        self._event_keys: dict[str, str] = {}  # hash → environment
        self._tokens: dict[str, auth_repo.TokenRow] = {}
        self._loaded_at = float("-inf")

    async def _load(self, *, force: bool = False) -> None:
        now = self._monotonic()
        if not force and now - self._loaded_at < RELOAD_S:
            return
        self._loaded_at = now

        def unit(tx: Any) -> tuple[dict[str, str], dict[str, auth_repo.TokenRow]]:
            return auth_repo.active_event_keys(tx), auth_repo.active_api_tokens(tx)

        self._event_keys, self._tokens = await self._connector.read(unit)

    async def _fresh(self, hit: bool) -> bool:
        """Reload when the answer was a miss or the cache is old; True if it reloaded."""
        age = self._monotonic() - self._loaded_at
        if hit and age < REFRESH_S:
            return False
        before = self._loaded_at
        await self._load()
        return self._loaded_at != before

    async def event_key_env(self, key: str) -> str | None:
        """The environment an event key's events go to; None for an unknown or revoked key."""
        digest = secret_hash(key)
        if digest in self._config_event_hashes:
            return names.DEFAULT
        found = self._event_keys.get(digest)
        if await self._fresh(found is not None):
            found = self._event_keys.get(digest)
        return found

    async def event_key_ok(self, key: str) -> bool:
        return await self.event_key_env(key) is not None

    async def token_scope(self, token: str) -> str | None:
        """The scope a bearer token grants: the signing key (raw or hashed) is an admin token."""
        found = await self.token_grant(token)
        return None if found is None else found.scope

    async def token_identity(self, token: str) -> tuple[str, str] | None:
        """(scope, actor) of a bearer token: `token:<its name>`, or `signing-key`."""
        found = await self.token_grant(token)
        return None if found is None else (found.scope, found.actor)

    async def token_grant(self, token: str) -> Grant | None:
        """What a bearer token allows; the signing key is an admin token for every environment."""
        if token and signing.bearer_matches(f"Bearer {token}", self._signing_keys):
            return Grant(ADMIN, actors.SIGNING_KEY)
        digest = secret_hash(token)
        found = self._tokens.get(digest)
        if await self._fresh(found is not None):
            found = self._tokens.get(digest)
        return None if found is None else Grant(found.scope, actors.token(found.name), found.envs)

    async def known_environments(self) -> set[str]:
        """The default environment and every one in the list, archived ones included."""
        rows = await self._connector.read(env_repo.list_environments)
        return {names.DEFAULT, *(str(row["name"]) for row in rows)}

    # ---- management (CLI and admin API) -------------------------------------------------

    async def create_event_key(self, name: Any, env: str = names.DEFAULT) -> dict[str, Any]:
        """`env` is checked by the caller (`check_env`: only it knows what the server serves)."""
        label = check_label(name)
        key = new_secret("")
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx) -> str:
            key_id = auth_repo.insert_event_key(
                tx, name=label, key_hash=secret_hash(key), env=env, now=now
            )
            details = {"name": label, "env": env, "hash_prefix": secret_hash(key)[:12]}
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
        return {"id": key_id, "name": label, "env": env, "key": key, "created_at": now}

    async def revoke_event_key(self, ref: str) -> bool:
        return await self._revoke(ref, auth_repo.revoke_event_key, "event_key")

    async def event_keys(self) -> list[dict[str, Any]]:
        rows = await self._connector.read(auth_repo.list_event_keys)
        return [_public(row, "key_hash") for row in rows]

    async def create_token(
        self, name: Any, scope: Any, envs: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """`envs` (None: all environments) is checked by the caller (`check_envs`)."""
        label = check_label(name)
        if scope not in SCOPES:
            raise errors.InvalidInput(f"scope must be one of {', '.join(SCOPES)}", field="scope")
        token = new_secret("ms_")
        now = self._clock()
        actor = audit.current()

        def unit(tx: Tx) -> str:
            token_id = auth_repo.insert_api_token(
                tx, name=label, token_hash=secret_hash(token), scope=str(scope), envs=envs, now=now
            )
            details = {
                "name": label,
                "scope": scope,
                "environments": None if envs is None else list(envs),
                "hash_prefix": secret_hash(token)[:12],
            }
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
        return {
            "id": token_id,
            "name": label,
            "scope": scope,
            "environments": None if envs is None else list(envs),
            "token": token,
            "created_at": now,
        }

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
        listed = [_public(row, "token_hash") for row in rows]
        for row in listed:  # a list of names, or None: every environment
            envs = row.pop("envs")
            row["environments"] = None if envs is None else list(envs)
        return listed


def _public(row: Any, hash_column: str) -> dict[str, Any]:
    """A row without its hash; a short hash prefix identifies the secret in logs and lists."""
    out = {key: value for key, value in dict(row).items() if key != hash_column}
    out["hash_prefix"] = str(row[hash_column])[:12]
    return out
