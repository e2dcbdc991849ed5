"""Generate the OpenAPI 3.1 document from per-route metadata and the pydantic models.

An `Operation` says what a route is (tag, summary) and what it answers per status code, with the
models from `api/models.py` and `api/inputs.py`; every schema in the document is generated from
those models, none is written by hand. Production adds credentials per route (`secured`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from mainspring.api.inputs import PathParams
from mainspring.api.models import Error

JSON = dict[str, Any]
Mode = Literal["validation", "serialization"]
Refs = Mapping[tuple[Any, Mode], JSON]  # a model and its mode -> the `$ref` of its schema
REF = "#/components/schemas/{model}"
TEXT = "text/plain"


@dataclass(frozen=True, slots=True)
class Answer:
    description: str
    model: type[BaseModel] | None = None  # None: the answer has no body
    media_type: str = "application/json"


@dataclass(frozen=True, slots=True)
class Operation:
    tag: str
    summary: str
    answers: Mapping[int, Answer]
    query: type[BaseModel] | None = None
    headers: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_required: bool = False
    security: list[JSON] | None = None  # None: the document's default
    extra: JSON = field(default_factory=dict)


Paths = Mapping[str, Mapping[str, Operation]]


def ok(model: type[BaseModel] | None = None, description: str = "OK") -> dict[int, Answer]:
    return {200: Answer(description, model)}


def created(model: type[BaseModel]) -> dict[int, Answer]:
    return {201: Answer("OK", model)}


def failure(status: int, description: str) -> dict[int, Answer]:
    return {status: Answer(description, Error)}


NOT_FOUND = failure(404, "not found")
BAD = failure(400, "bad input; `field` names the parameter")


def _models(paths: Paths) -> Iterator[tuple[type[BaseModel], Mode]]:
    for operation in _operations(paths):
        for answer in operation.answers.values():
            if answer.model is not None and answer.media_type != TEXT:
                yield answer.model, "serialization"
        if operation.body is not None:
            yield operation.body, "validation"


def _operations(paths: Paths) -> Iterator[Operation]:
    for operations in paths.values():
        yield from operations.values()


def _plain(schema: JSON) -> JSON:
    """A parameter's schema: no title, description or default; null is said by leaving it out."""
    options = schema.get("anyOf", [])
    if len(options) == 2 and {"type": "null"} in options:
        schema = next(option for option in options if option != {"type": "null"})
    return {k: v for k, v in schema.items() if k not in ("title", "description", "default")}


def _parameters(model: type[BaseModel], where: str, names: list[str] | None = None) -> list[JSON]:
    properties = model.model_json_schema(mode="validation", ref_template=REF)["properties"]
    return [
        {
            "name": name,
            "in": where,
            "required": where == "path",
            "schema": _plain(schema),
            "description": schema.get("description", ""),
        }
        for name, schema in properties.items()
        if names is None or name in names
    ]


def _content(answer: Answer, refs: Refs) -> JSON:
    rendered: JSON = {"description": answer.description}
    if answer.model is None:
        return rendered
    if answer.media_type == TEXT:
        schema = answer.model.model_json_schema()
    else:
        schema = refs[(answer.model, "serialization")]
    rendered["content"] = {answer.media_type: {"schema": schema}}
    return rendered


def _render(path: str, operation: Operation, refs: Refs) -> JSON:
    parameters = _parameters(PathParams, "path", re.findall(r"{(\w+)}", path))
    if operation.query is not None:
        parameters += _parameters(operation.query, "query")
    if operation.headers is not None:
        parameters += _parameters(operation.headers, "header")
    rendered: JSON = {
        "tags": [operation.tag],
        "summary": operation.summary,
        "responses": {str(s): _content(a, refs) for s, a in sorted(operation.answers.items())},
        **operation.extra,
    }
    if parameters:
        rendered["parameters"] = parameters
    if operation.body is not None:
        schema = refs[(operation.body, "validation")]
        content = {"application/json": {"schema": schema}}
        rendered["requestBody"] = {"required": operation.body_required, "content": content}
    if operation.security is not None:
        rendered["security"] = operation.security
    return rendered


def generate(paths: Paths) -> tuple[JSON, JSON]:
    """`paths` and `components.schemas` of the document."""
    first: tuple[type[BaseModel], Mode] = (Error, "serialization")
    pairs = list(dict.fromkeys([first, *_models(paths)]))
    refs, definitions = models_json_schema(pairs, ref_template=REF)
    rendered = {
        path: {method: _render(path, op, refs) for method, op in operations.items()}
        for path, operations in paths.items()
    }
    return rendered, definitions.get("$defs", {})


def secured(
    paths: Paths, public: frozenset[str], event_key: Mapping[tuple[str, str], list[JSON]]
) -> dict[str, dict[str, Operation]]:
    """`paths` as production serves them: credentials per route, and their 401/403 answers.
    `event_key` gives the security of the routes that take an event key instead of a token."""
    unauthorized = failure(401, "no valid credential (production mode)")
    forbidden = failure(403, "a read-only token or session (production mode)")
    out: dict[str, dict[str, Operation]] = {}
    for path, operations in paths.items():
        for method, operation in operations.items():
            if path in public:
                operation = replace(operation, security=[])
            elif (path, method) in event_key:
                answers = {**operation.answers, **unauthorized}
                operation = replace(operation, answers=answers, security=event_key[path, method])
            elif operation.security is None:
                answers = {**operation.answers, **unauthorized, **forbidden}
                operation = replace(operation, answers=answers)
            out.setdefault(path, {})[method] = operation
    return out
