"""What every resolver receives (the request's services and its read caches), and the errors
resolvers raise: each names the argument at fault, never a 500."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import graphql
from ulid import ULID

from mainspring import errors, expressions
from mainspring.api.state import Services
from mainspring.domain.functions import FunctionDef
from mainspring.environments.hub import Environments
from mainspring.registry.service import function_from_row
from mainspring.store.base import Row

V = TypeVar("V")


class Batched(Generic[V]):
    """Values by key, read many at a time: a list resolver primes the keys its items will ask
    for, and the first item that asks reads them all in one query (no N+1)."""

    def __init__(self, load: Callable[[list[str]], Awaitable[dict[str, V]]]) -> None:
        self._load = load
        self._pending: dict[str, None] = {}
        self._reads: dict[str, asyncio.Future[dict[str, V]]] = {}

    def prime(self, keys: Iterable[str]) -> None:
        self._pending.update((key, None) for key in keys if key not in self._reads)

    async def get(self, key: str) -> V | None:
        read = self._reads.get(key)
        if read is None:
            keys = list({**self._pending, key: None})
            self._pending.clear()
            read = asyncio.ensure_future(self._load(keys))
            for each in keys:
                self._reads[each] = read
        return (await read).get(key)


@dataclass
class Context:
    services: Services  # the request's environment's
    environments: Environments[Services]  # every environment (`envs`)
    allowed_envs: tuple[str, ...] | None = None  # a limited token's (None: all)
    _apps: dict[str, Row] | None = None
    _functions: dict[str, FunctionDef | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        reads = self.services.reads
        self.events: Batched[dict[str, Any]] = Batched(reads.events_by_ids)
        self.runs_of_event: Batched[list[dict[str, Any]]] = Batched(reads.runs_of_events)

    async def apps(self) -> dict[str, Row]:
        """The apps not deleted, by id (read once per request)."""
        if self._apps is None:
            self._apps = {str(row["id"]): row for row in await self.services.reads.apps()}
        return self._apps

    async def app(self, app_id: str) -> Row | None:
        """An app by id, deleted ones too (a run's app)."""
        found = (await self.apps()).get(app_id)
        return found if found is not None else await self.services.reads.app(app_id)

    async def function(self, slug: str) -> FunctionDef | None:
        """A function by slug: a synced one, else its archived record (a run's function)."""
        found = self.services.registry.get(slug)
        if found is not None:
            return found
        if slug not in self._functions:
            row = await self.services.reads.function_row(slug)
            self._functions[slug] = None if row is None else function_from_row(row)
        return self._functions[slug]


Info = graphql.GraphQLResolveInfo[Context]


def bad_input(argument: str, message: str) -> graphql.GraphQLError:
    """A GraphQL error naming the argument at fault (`extensions.argument`)."""
    return graphql.GraphQLError(
        f"{argument}: {message}", extensions={"code": "BAD_USER_INPUT", "argument": argument}
    )


def not_found(what: str, argument: str, value: str) -> graphql.GraphQLError:
    return graphql.GraphQLError(
        f"{what} not found ({argument}: {value})",
        extensions={"code": "NOT_FOUND", "argument": argument},
    )


def known_id(value: Any, argument: str, what: str) -> str:
    """The id of a run or event asked for by a `String`/`ID` argument: one that is not a ULID
    names nothing, which the error says along with the argument."""
    try:
        return str(ULID.from_str(str(value)))
    except ValueError:
        raise graphql.GraphQLError(
            f"{what} not found ({argument}: {str(value)[:100]!r} is not a ULID)",
            extensions={"code": "BAD_USER_INPUT", "argument": argument},
        ) from None


def ulid_arg(value: Any, argument: str) -> str:
    """A run or event id as given; an error naming `argument` when it is not a ULID."""
    try:
        return str(ULID.from_str(str(value)))
    except ValueError:
        raise bad_input(argument, f"{str(value)[:100]!r} is not a ULID") from None


def uuid_arg(value: Any, argument: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise bad_input(argument, f"{str(value)[:100]!r} is not a UUID") from None


def cel_arg(text: str | None, argument: str) -> str | None:
    """A CEL `query` argument, compiled once to name the argument when it does not parse."""
    if text is None or not text.strip():
        return None
    try:
        expressions.compile_expression(text)
    except errors.InvalidInput as exc:
        raise bad_input(argument, exc.message) from None
    return text
