"""The CLI run in the test's own process (`mainspring.cli.main`), as a fixture returns it: exit
code, stdout and stderr of each command, and the one-line error shape every command keeps."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from mainspring.cli import main


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        assert self.code == 0, f"exit {self.code}: {self.err}"
        return json.loads(self.out)


def runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


def assert_error(result: Result, code: int, *words: str) -> None:
    assert result.code == code, f"exit {result.code}, wanted {code}: {result.err}"
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mainspring: error:"), result.err
    for word in words:
        assert word in lines[0], lines[0]
