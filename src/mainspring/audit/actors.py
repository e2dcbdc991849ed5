"""Who is acting: set once per request by the HTTP layer, read by the services that record.

The actor is a property of the request, like its trace: threading it as a parameter through
every REST handler, GraphQL resolver, dashboard action and service would touch each mutation
path twice. A context variable set by the middleware reaches every service the request awaits;
the services read it in their async part (units of work run on the database's own thread,
where the request's context is not).
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator
from contextvars import ContextVar, Token

SYSTEM = "system"  # background work: retention, re-syncs, the engine itself
DEV = "dev"  # `mainspring dev`: nobody signs in
SDK = "sdk"  # an app's own request with the signing key (its `/fn/register`)
CONNECT = "connect"  # a Connect worker's sync
SIGNING_KEY = "signing-key"  # the signing key used as an admin API token
EVENT_KEY = "event-key"  # a producer sending events with an event key
ANONYMOUS = "anonymous"  # public paths, and realtime subscribers (their token is not a name)

_actor: ContextVar[str] = ContextVar("mainspring_actor", default=SYSTEM)


def current() -> str:
    """The actor of the request (or task) in progress; `system` outside any request."""
    return _actor.get()


def token(name: str) -> str:
    """An API token, by the name it was created with."""
    return f"token:{name}"


def session(who: str) -> str:
    """A dashboard session, by the credential it signed in with (`token:ops` → `session:ops`);
    `session` alone for a cookie issued before sessions said who."""
    return f"session:{who.removeprefix('token:')}" if who else "session"


def cli() -> str:
    """The command line, by the operating-system user running it."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no passwd entry (containers)
        return "cli"


def enter(actor: str) -> Token[str]:
    """Make `actor` current until `leave(token)` (the middleware's pair, around one request)."""
    return _actor.set(actor)


def leave(previous: Token[str]) -> None:
    _actor.reset(previous)


@contextlib.contextmanager
def acting_as(actor: str) -> Iterator[None]:
    """Make `actor` current for the work inside the block."""
    previous = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(previous)
