"""Pydantic models of the sync payload both SDKs send to `POST /fn/register`.

Keys are matched case-insensitively, as the Go server does and the Python SDK relies on
(`appname` vs `appName`, `deploy_type` vs `deployType`).
"""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from mainspring import errors


def _canonical_keys(model: type[BaseModel], value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    by_folded: dict[str, str] = {}
    for name, info in model.model_fields.items():
        for key in (name, info.alias):
            if key:
                by_folded[key.lower().replace("_", "")] = info.alias or name
    return {by_folded.get(key.lower().replace("_", ""), key): item for key, item in value.items()}


class _WireModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _fold_keys(cls, value: Any) -> Any:
        return _canonical_keys(cls, value)


class Runtime(_WireModel):
    type: str = "http"
    url: str


class RetryPolicy(_WireModel):
    attempts: int = Field(ge=0)


class StepConfig(_WireModel):
    id: str = "step"
    name: str = "step"
    runtime: Runtime
    retries: RetryPolicy | None = None


class TriggerConfig(_WireModel):
    event: str | None = None
    expression: str | None = None
    cron: str | None = None
    jitter: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> TriggerConfig:
        if bool(self.event) == bool(self.cron):
            raise ValueError("a trigger needs exactly one of 'event' or 'cron'")
        return self


class CancelConfig(_WireModel):
    event: str = Field(min_length=1)
    if_expression: str | None = Field(default=None, alias="if")
    timeout: str | None = None


class TimeoutsConfig(_WireModel):
    start: str | None = None
    finish: str | None = None


class FunctionConfig(_WireModel):
    id: str = Field(min_length=1, max_length=256)
    name: str | None = None
    triggers: list[TriggerConfig] = Field(min_length=1, max_length=10)
    steps: dict[str, StepConfig] = Field(min_length=1)
    retries: int | None = None
    concurrency: Any = None
    cancel: list[CancelConfig] | None = Field(default=None, max_length=5)
    timeouts: TimeoutsConfig | None = None
    # Flow control (§6): shapes are checked by `flow/config.py`, which names the field at fault.
    throttle: Any = None
    rate_limit: Any = Field(default=None, alias="rateLimit")
    idempotency: Any = None
    singleton: Any = None
    debounce: Any = None
    batch_events: Any = Field(default=None, alias="batchEvents")
    priority: Any = None


class RegisterRequest(_WireModel):
    url: str = Field(min_length=1)
    app_name: str = Field(alias="appName", min_length=1)
    deploy_type: str | None = Field(default=None, alias="deployType")
    sdk: str | None = None
    framework: str | None = None
    v: str | None = None
    app_version: str | None = Field(default=None, alias="appVersion")
    functions: list[FunctionConfig]


def parse_register(body: Any) -> RegisterRequest:
    """Validate a sync payload; errors name the dotted field path."""
    try:
        return RegisterRequest.model_validate(body)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first["loc"])
        raise errors.InvalidFunctionConfig(f"{path}: {first['msg']}", field=path) from None
