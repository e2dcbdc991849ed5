"""inngest-cli's flags that are not ours: each stands for flags of ours (a flag of ours given
as well wins), or is ignored with a reason; an inngest.json config file reads the same way."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from mainspring.settings import Settings
from mainspring.settings.flags import INNGEST_FLAGS, ignored_notes


def _dev(**flags: Any) -> Settings:
    return Settings.load("dev", flags, {})


def test_retry_interval_is_a_fixed_backoff() -> None:
    loaded = _dev(retry_interval=1)
    assert (loaded.backoff_base_ms, loaded.backoff_max_ms) == (1000, 1000)


def test_an_explicit_backoff_flag_wins_over_retry_interval() -> None:
    loaded = _dev(retry_interval=5, backoff_base=2)
    assert (loaded.backoff_base_ms, loaded.backoff_max_ms) == (2000, 5000)
    loaded = _dev(retry_interval=5, backoff_base=2, backoff_max=60)
    assert (loaded.backoff_base_ms, loaded.backoff_max_ms) == (2000, 60_000)


def test_retry_interval_zero_is_inngest_clis_default_and_keeps_ours() -> None:
    loaded = _dev(retry_interval=0)
    assert (loaded.backoff_base_ms, loaded.backoff_max_ms) == (1000, 3_600_000)


def test_retry_interval_is_a_flag_and_beats_the_environment() -> None:
    loaded = Settings.load("dev", {"retry_interval": 3}, {"MAINSPRING_BACKOFF_BASE": "7"})
    assert loaded.backoff_base_ms == 3000


def test_queue_workers_is_max_in_flight_unless_that_is_given() -> None:
    assert _dev(queue_workers=10).max_in_flight == 10
    assert _dev(queue_workers=10, max_in_flight=3).max_in_flight == 3


def test_sqlite_dir_names_the_database_file_of_the_mode() -> None:
    assert _dev(sqlite_dir="state").db == "state/dev.db"
    assert Settings.load("start", {"sqlite_dir": "/var/x"}, {}).db == "/var/x/mainspring.db"
    assert _dev(sqlite_dir="state", db="postgresql://h/db").db == "postgresql://h/db"


@pytest.mark.parametrize(
    ("flags", "level", "number"),
    [
        ({}, "info", logging.INFO),
        ({"log_level": "debug"}, "debug", logging.DEBUG),
        ({"log_level": "trace"}, "trace", logging.DEBUG),
        ({"log_level": "WARN"}, "warn", logging.WARNING),
        ({"verbose": True}, "debug", logging.DEBUG),
        ({"verbose": True, "log_level": "error"}, "error", logging.ERROR),
    ],
)
def test_log_level_and_verbose(flags: dict[str, Any], level: str, number: int) -> None:
    loaded = _dev(**flags)
    assert (loaded.log_level, loaded.logging_level) == (level, number)


def test_log_level_and_no_ui_from_the_environment() -> None:
    environ = {"MAINSPRING_LOG_LEVEL": "warning", "MAINSPRING_NO_UI": "1"}
    loaded = Settings.load("dev", {}, environ)
    assert loaded.log_level == "warn" and loaded.ui is False
    assert _dev().ui is True and _dev(no_ui=True).ui is False


def test_an_inngest_json_config_file(tmp_path: Path) -> None:
    path = tmp_path / "inngest.json"
    config = {
        "sdk-url": ["http://localhost:3000/api/inngest"],
        "no-discovery": True,
        "retry-interval": 2,
        "queue-workers": 7,
        "tick": 150,
    }
    path.write_text(json.dumps(config))
    loaded = Settings.load("dev", {}, {}, str(path))
    assert loaded.sdk_urls == ("http://localhost:3000/api/inngest",)
    assert loaded.discovery is False
    assert (loaded.backoff_base_ms, loaded.backoff_max_ms, loaded.max_in_flight) == (
        2000,
        2000,
        7,
    )


def test_ignored_flags_say_why_once_each() -> None:
    notes = ignored_notes({"tick": 0, "persist": True, "json": False, "redis_uri": None}, "dev")
    assert len(notes) == 2
    assert notes[0].startswith("--tick (an inngest-cli flag) is accepted and ignored: ")
    assert notes[1].startswith("--persist ")
    assert ignored_notes({"persist": True}, "start") == []  # not a flag of `inngest start`


def test_every_inngest_flag_is_mapped_or_says_why() -> None:
    for name, flag in INNGEST_FLAGS.items():
        assert (flag.sets is not None) != bool(flag.ignored), name
