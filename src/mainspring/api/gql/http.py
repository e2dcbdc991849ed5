"""The HTTP side: `POST /v0/gql` runs one GraphQL request; `POST /v0/connect/start` hands a
Connect worker its gateway and tokens (and answers the SDK suites' readiness probe, any body).

In production mode the auth middleware lets a GraphQL request through with a read token or
session (it reads); a document that holds a mutation also needs the admin scope here, as the
REST routes that change state do. The body is read with the server's body limit; a document
past the token budget, too deep or selecting too many fields is refused before it runs
(`limits.py`).
"""

from __future__ import annotations

import inspect
from typing import Any

import graphql
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import codec, errors
from mainspring.api import auth_envs
from mainspring.api.body import read_limited
from mainspring.api.errors import JSONResponse, error_body, invalid_input
from mainspring.api.gql import limits
from mainspring.api.gql.context import Context
from mainspring.api.gql.schema import SCHEMA
from mainspring.api.state import env_name, environments, services
from mainspring.auth.keys import ADMIN
from mainspring.environments import names


def _refused(message: str, status: int, code: str) -> JSONResponse:
    body = {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(body, status_code=status)


def _has_mutation(document: graphql.DocumentNode) -> bool:
    return any(
        isinstance(node, graphql.OperationDefinitionNode)
        and node.operation is graphql.OperationType.MUTATION
        for node in document.definitions
    )


async def _body(request: Request) -> dict[str, Any] | JSONResponse:
    try:
        body = codec.loads(await read_limited(request, services(request).settings.max_body_bytes))
    except errors.PayloadTooLarge as exc:
        return _refused(exc.message, 413, "PAYLOAD_TOO_LARGE")
    except ValueError:
        return _refused("request body is not JSON", 400, "BAD_REQUEST")
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _refused("body must be an object with a string `query`", 400, "BAD_REQUEST")
    return body


async def gql(request: Request) -> Response:
    body = await _body(request)
    if isinstance(body, JSONResponse):
        return body
    app = services(request)
    try:
        document = limits.parse(body["query"])
    except graphql.GraphQLError as error:
        return JSONResponse({"data": None, "errors": [error.formatted]})
    if app.settings.production and _has_mutation(document):
        if getattr(request.state, "auth_scope", None) != ADMIN:
            return _refused("mutations need an admin token or session", 403, "FORBIDDEN")
    invalid = limits.violations(document) or graphql.validate(SCHEMA, document)
    if invalid:
        return JSONResponse({"data": None, "errors": [error.formatted for error in invalid]})
    variables, operation = body.get("variables"), body.get("operationName")
    result = graphql.execute(
        SCHEMA,
        document,
        context_value=Context(app, environments(request), auth_envs.allowed(request)),
        variable_values=variables if isinstance(variables, dict) else None,
        operation_name=operation if isinstance(operation, str) else None,
    )
    if inspect.isawaitable(result):
        result = await result
    return JSONResponse(result.formatted)


async def connect_start(request: Request) -> Response:
    """Connect's first call: where the gateway is, and the tokens to open it with (protobuf).
    In production the auth middleware has checked the signing-key bearer already. The
    gateway's one port serves the default environment: a worker of another environment is
    refused here rather than joining production's apps."""
    if env_name(request) != names.DEFAULT:
        message = "Connect workers join the default environment only; serve this one over HTTP"
        return invalid_input(errors.InvalidInput(message, field="X-Inngest-Env"))
    app = services(request)
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    host = request.headers.get("host") or f"{request.url.hostname}"
    start = await read_limited(request, app.settings.max_body_bytes)  # a StartRequest, or {}
    body = app.connect.start_response(host, secure, start)
    return Response(body, media_type="application/protobuf")


async def connect_flush(request: Request) -> Response:
    """A reply the worker sent over its WebSocket without a WORKER_REPLY_ACK back, sent again
    over HTTP. Taken if its call is still awaited in this process (otherwise the call goes back
    to the queue after its lease and runs again)."""
    app = services(request)
    answer = app.connect.flush(await read_limited(request, app.settings.max_body_bytes))
    if answer is None:
        return JSONResponse(error_body(400, "the body is not an SDKResponse"), status_code=400)
    return Response(answer, media_type="application/protobuf")


routes = [
    Route("/v0/gql", gql, methods=["POST"]),
    Route("/v0/connect/start", connect_start, methods=["POST"]),
    Route("/v0/connect/flush", connect_flush, methods=["POST"]),
]
