"""Subscription tokens: HS256 JWTs that name the topics they open, with an expiry.

Claims are the Go server's: `topics: [{kind, channel, name}]`, `publish: false`, plus `iss`,
`iat`, `exp` and a random `jti`. A token is checked when a subscriber connects; a connection
outlives its token (as on Inngest), so the expiry bounds how long a token may wait unused.
A token with `publish: true` may tee a durable endpoint's stream (`may_publish`); the server
issues none today (the SDKs publish with the signing key), but takes Inngest's kind.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from typing import Any

import jwt

from mainspring import errors
from mainspring.realtime.messages import Topic

ISSUER = "mainspring/realtime"
ALGORITHM = "HS256"
TOKEN_TTL_S = 60  # Inngest's default: a browser fetches a token and connects at once
MAX_TOPICS = 100
MAX_NAME_CHARS = 512


class TokenRejected(errors.MainspringError):
    """A subscription token is required, and must be valid and unexpired."""

    code = "unauthorized"
    status = 401


class TopicNotGranted(errors.MainspringError):
    """The subscription token does not open this channel and topic."""

    code = "forbidden"
    status = 403


def issue(
    key: bytes,
    topics: Iterable[Topic],
    now_s: int,
    ttl_s: int = TOKEN_TTL_S,
    *,
    publish: bool = False,
    env: str | None = None,
) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "mainspring",
        "iat": now_s,
        "exp": now_s + ttl_s,
        "jti": secrets.token_hex(8),
        "topics": [{"kind": "run", "channel": t.channel, "name": t.name} for t in topics],
        "publish": publish,
    }
    if env is not None:  # the environment that issued it (subscribers send no header)
        claims["env"] = env
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def env_claim(token: str) -> str | None:
    """The environment a token says it is from, unverified: it only picks whose keys then
    verify it (a forged claim meets keys that did not sign it)."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    env = claims.get("env") if isinstance(claims, dict) else None
    return env if isinstance(env, str) else None


def verify(keys: Sequence[bytes], token: str) -> frozenset[Topic]:
    """The topics `token` opens, if one of `keys` signed it and it has not expired."""
    return _granted(_claims(keys, token))


def may_publish(keys: Sequence[bytes], token: str) -> bool:
    """Whether `token` is valid, unexpired and carries the publish claim."""
    try:
        return _claims(keys, token).get("publish") is True
    except TokenRejected:
        return False


def _claims(keys: Sequence[bytes], token: str) -> dict[str, Any]:
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "iss"]},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe the other key (a signing key rotation in progress)
        except jwt.ExpiredSignatureError:
            raise TokenRejected("the subscription token has expired") from None
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"invalid subscription token: {exc}") from None
        return claims
    raise TokenRejected("invalid subscription token: the signature does not match")


def _granted(claims: dict[str, Any]) -> frozenset[Topic]:
    listed = claims.get("topics")
    if not isinstance(listed, list):
        raise TokenRejected("invalid subscription token: no topics")
    found = set()
    for entry in listed:
        if isinstance(entry, dict) and entry.get("kind", "run") == "run":
            found.add(Topic(str(entry.get("channel", "")), str(entry.get("name", ""))))
    return frozenset(found)


def requested_topics(body: Any) -> list[Topic]:
    """`POST /v1/realtime/token`'s body, as both SDKs send it: `[{channel, name, kind}]`."""
    if not isinstance(body, list) or not body:
        raise errors.InvalidInput("expected a non-empty list of {channel, name}", field="body")
    if len(body) > MAX_TOPICS:
        raise errors.InvalidInput(f"at most {MAX_TOPICS} topics per token", field="body")
    topics = []
    for index, entry in enumerate(body):
        if not isinstance(entry, dict):
            raise errors.InvalidInput("each topic is an object", field="body", index=index)
        if entry.get("kind", "run") != "run":
            raise errors.InvalidInput('only topics of kind "run"', field="kind", index=index)
        topics.append(Topic(_name(entry, "channel", index), _name(entry, "name", index)))
    return topics


def _name(entry: dict[str, Any], field: str, index: int) -> str:
    value = entry.get(field)
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_CHARS:
        message = f"{field} must be a non-empty string of at most {MAX_NAME_CHARS} characters"
        raise errors.InvalidInput(message, field=field, index=index)
    return value


def narrowed(granted: frozenset[Topic], channel: str | None, names: list[str]) -> frozenset[Topic]:
    """What a subscriber asks for (`?channel=&topic=`), which the token must cover; all the
    token opens when it asks for nothing in particular."""
    if channel is None and not names:
        return granted
    if channel is None or not names:
        raise errors.InvalidInput("give both channel and topic, or neither", field="topic")
    wanted = frozenset(Topic(channel, name) for name in names)
    missing = sorted(t.name for t in wanted - granted)
    if missing:
        raise TopicNotGranted(f"the token does not open {channel!r} topic(s) {missing}")
    return wanted
