"""Event keys and API tokens in the store (both dialects): hashed rows, listing, revocation."""

from __future__ import annotations

import pytest

from mainspring import errors
from mainspring.auth import keys
from mainspring.auth.keys import Keyring, secret_hash
from mainspring.store.base import Connector


def keyring(connector: Connector, now: list[int]) -> Keyring:
    return Keyring(
        connector, event_keys=("configured",), signing_keys=("ab" * 32,), clock=lambda: now[0]
    )


async def test_event_keys_are_stored_hashed_and_revocable(connector: Connector) -> None:
    now = [1_000]
    ring = keyring(connector, now)
    created = await ring.create_event_key("cron")
    key = created["key"]
    assert await ring.event_key_ok(key)
    assert await ring.event_key_ok("configured")
    assert not await ring.event_key_ok("other")
    rows = await ring.event_keys()
    assert [(r["name"], r["hash_prefix"], r["revoked_at"]) for r in rows] == [
        ("cron", secret_hash(key)[:12], None)
    ]
    assert key not in repr(rows)
    now[0] = 2_000
    assert await ring.revoke_event_key("cron")
    assert not await ring.revoke_event_key("cron")  # already revoked
    assert not await ring.event_key_ok(key)
    assert (await ring.event_keys())[0]["revoked_at"] == 2_000


async def test_tokens_carry_a_scope_and_the_signing_key_is_admin(connector: Connector) -> None:
    ring = keyring(connector, [1_000])
    read = await ring.create_token("grafana", "read")
    admin = await ring.create_token("ops", "admin")
    assert await ring.token_scope(read["token"]) == "read"
    assert await ring.token_scope(admin["token"]) == "admin"
    assert await ring.token_scope("ab" * 32) == "admin"
    assert await ring.token_scope("nope") is None
    assert await ring.revoke_token(read["id"])
    assert await ring.token_scope(read["token"]) is None
    with pytest.raises(errors.InvalidInput):
        await ring.create_token("x", "root")
    with pytest.raises(errors.InvalidInput):
        await ring.create_event_key("")


async def test_another_process_sees_new_and_revoked_keys(connector: Connector) -> None:
    clock = [0.0]
    mine = keyring(connector, [1])
    theirs = Keyring(
        connector, event_keys=(), signing_keys=(), clock=lambda: 1, monotonic=lambda: clock[0]
    )
    assert not await theirs.event_key_ok("warm-up")
    key = (await mine.create_event_key("late"))["key"]
    clock[0] += 1.5  # a miss reloads, at most once a second
    assert await theirs.event_key_ok(key)
    await mine.revoke_event_key("late")
    assert await theirs.event_key_ok(key)  # cached hit ...
    clock[0] += 6  # ... until the refresh period has passed
    assert not await theirs.event_key_ok(key)


async def test_an_event_key_belongs_to_one_environment(connector: Connector) -> None:
    ring = keyring(connector, [1_000])
    staging = await ring.create_event_key("stg", "staging")
    default = await ring.create_event_key("prod")
    assert (staging["env"], default["env"]) == ("staging", "production")
    assert await ring.event_key_env(staging["key"]) == "staging"
    assert await ring.event_key_env(default["key"]) == "production"
    assert await ring.event_key_env("configured") == "production"  # --event-key: the default
    assert await ring.event_key_env("other") is None
    assert {row["name"]: row["env"] for row in await ring.event_keys()} == {
        "stg": "staging",
        "prod": "production",
    }
    await ring.revoke_event_key("stg")
    assert await ring.event_key_env(staging["key"]) is None


async def test_a_token_may_be_limited_to_environments(connector: Connector) -> None:
    ring = keyring(connector, [1_000])
    limited = await ring.create_token("stg-ops", "admin", ("qa", "staging"))
    every = await ring.create_token("all", "read")
    assert limited["environments"] == ["qa", "staging"] and every["environments"] is None
    grant = await ring.token_grant(limited["token"])
    assert grant is not None and grant.envs == ("qa", "staging")
    assert grant.allows("staging") and not grant.allows("production")
    unlimited = await ring.token_grant(every["token"])
    assert unlimited is not None and unlimited.envs is None and unlimited.allows("production")
    signing_key = await ring.token_grant("ab" * 32)
    assert signing_key is not None and signing_key.envs is None
    listed = {row["name"]: row["environments"] for row in await ring.tokens()}
    assert listed == {"stg-ops": ["qa", "staging"], "all": None}


def test_environment_names_are_checked_against_the_known_ones() -> None:
    assert keys.check_env("staging", {"production", "staging"}) == "staging"
    assert keys.check_env("feature/x", None) == "feature/x"  # branches on: any valid name
    with pytest.raises(errors.InvalidInput) as unknown:
        keys.check_env("qa", {"production"})
    assert unknown.value.field == "env" and "not known" in unknown.value.message
    with pytest.raises(errors.InvalidInput) as invalid:
        keys.check_env("../x", None)
    assert invalid.value.field == "env"
    assert keys.check_envs(None, {"production"}) is None
    assert keys.check_envs(["staging", "qa", "staging"], None) == ("qa", "staging")
    for bad in ([], "staging", ["nowhere"]):
        with pytest.raises(errors.InvalidInput) as refused:
            keys.check_envs(bad, {"production", "staging", "qa"})
        assert refused.value.field == "environments"
