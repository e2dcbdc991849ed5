"""One error tree with stable codes. The API maps these to HTTP answers in `api/errors.py`.

MainspringError
├── ConfigError            bad settings or flags (exit 2)
├── StoreError             the database cannot be opened or used
│   └── StoreLocked        another process holds the SQLite file
├── InvalidInput           a request body we refuse (4xx), with the field at fault
│   ├── PayloadTooLarge
│   ├── UnknownEnvironment (404), TooManyEnvironments (409)
│   └── InvalidFunctionConfig
└── NotFound
"""

from __future__ import annotations


class MainspringError(Exception):
    """Mainspring failed."""

    code = "internal_error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or self.code).strip())

    @property
    def message(self) -> str:
        return str(self.args[0])


class ConfigError(MainspringError):
    """Invalid configuration."""

    code = "invalid_config"


class StoreError(MainspringError):
    """The database cannot be used."""

    code = "store_unavailable"


class StoreLocked(StoreError):
    """Another Mainspring process is using this SQLite database."""

    code = "store_locked"


class InvalidInput(MainspringError):
    """The request is invalid."""

    code = "invalid_input"
    status = 400

    def __init__(
        self, message: str | None = None, *, field: str | None = None, index: int | None = None
    ) -> None:
        super().__init__(message)
        self.field = field
        self.index = index


class PayloadTooLarge(InvalidInput):
    """The request body is too large."""

    code = "payload_too_large"
    status = 413


class UnknownEnvironment(InvalidInput):
    """The request names an environment this server does not have (or has archived)."""

    code = "unknown_environment"
    status = 404


class TooManyEnvironments(InvalidInput):
    """A new branch environment would pass `--max-branch-envs`."""

    code = "too_many_environments"
    status = 409


class InvalidFunctionConfig(InvalidInput):
    """A function configuration is invalid."""

    code = "invalid_function_config"


class NotFound(MainspringError):
    """Not found."""

    code = "not_found"
