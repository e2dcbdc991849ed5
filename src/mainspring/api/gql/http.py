"""The HTTP side: `POST /v0/gql` runs one GraphQL request; `POST /v0/connect/start` (200 `{}`)
is the dev server's readiness probe."""

from __future__ import annotations

import graphql
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mainspring import codec
from mainspring.api.errors import JSONResponse
from mainspring.api.gql.context import Context
from mainspring.api.gql.schema import SCHEMA
from mainspring.api.state import services


def _bad_request(message: str) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [{"message": message}]}, status_code=400)


async def gql(request: Request) -> Response:
    try:
        body = codec.loads(await request.body())
    except ValueError:
        return _bad_request("request body is not JSON")
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return _bad_request("body must be an object with a string `query`")
    variables = body.get("variables")
    operation = body.get("operationName")
    result = await graphql.graphql(
        SCHEMA,
        body["query"],
        context_value=Context(services(request)),
        variable_values=variables if isinstance(variables, dict) else None,
        operation_name=operation if isinstance(operation, str) else None,
    )
    return JSONResponse(result.formatted)


async def connect_start(request: Request) -> Response:
    return JSONResponse({})


routes = [
    Route("/v0/gql", gql, methods=["POST"]),
    Route("/v0/connect/start", connect_start, methods=["POST"]),
]
