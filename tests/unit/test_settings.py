"""One precedence rule for every field: flag > environment > config file > mode default."""

from __future__ import annotations

from pathlib import Path

import pytest

from mainspring import errors
from mainspring.settings import DEFAULT_PRODUCTION_DB, Settings

HOUR = 3_600_000


def _file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return str(path)


def test_flag_beats_environment_beats_file_beats_mode_default(tmp_path: Path) -> None:
    config = _file(
        tmp_path,
        'event-key = ["from-file"]\nport = 9000\nbackoff-base = 2\n'
        '[alerts]\nwindow = "2h"\n[retention]\nmax_age = "1d"\n',
    )
    environ = {"INNGEST_EVENT_KEY": "from-env", "MAINSPRING_ALERT_DEAD_LETTERS": "3"}
    loaded = Settings.load("start", {"port": 9100}, environ, config)
    assert loaded.port == 9100
    assert loaded.event_keys == ("from-env",)
    assert loaded.backoff_base_ms == 2000  # the file speaks the flag's unit
    assert loaded.host == "0.0.0.0" and loaded.db == DEFAULT_PRODUCTION_DB
    assert loaded.server_kind == "cloud" and loaded.verify_responses is True
    assert loaded.alerts.window_ms == 2 * HOUR and loaded.alerts.dead_letters == 3
    assert loaded.retention.max_age_ms == 24 * HOUR


def test_dev_reads_no_inngest_variables_and_no_start_only_flags() -> None:
    environ = {"INNGEST_PORT": "9000", "MAINSPRING_SIGNING_KEY": "ab" * 32}
    loaded = Settings.load("dev", {}, environ)
    assert loaded.port == 8288 and loaded.signing_key is None
    assert Settings.load("start", {}, environ).port == 9000


def test_config_file_named_by_the_environment(tmp_path: Path) -> None:
    config = _file(tmp_path, '[retention]\nbatch = 0\ninterval = "0"\n')
    loaded = Settings.load("dev", {}, {"MAINSPRING_CONFIG": config})
    assert loaded.retention.batch == 1 and loaded.retention.interval_ms == 60_000


@pytest.mark.parametrize(
    ("environ", "text"),
    [
        ({"MAINSPRING_PORT": "0"}, "port"),
        ({"MAINSPRING_RETENTION": "soon"}, "not a duration"),
        ({"MAINSPRING_CONFIG": "/nonexistent/c.toml"}, "cannot read config file"),
    ],
)
def test_bad_values_are_a_config_error_naming_them(environ: dict[str, str], text: str) -> None:
    with pytest.raises(errors.ConfigError, match=text):
        Settings.load("dev", {}, environ)


def test_plain_construction_reads_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAINSPRING_PORT", "1")
    assert Settings(db="x").port == 8288


def test_egress_settings_from_the_environment_and_flags() -> None:
    environ = {
        "MAINSPRING_EGRESS_ALLOW": "https://api.openai.com/v1/ https://api.anthropic.com/",
        "MAINSPRING_EGRESS_TIMEOUT": "30",
    }
    loaded = Settings.load("start", {"egress_max_bytes": 1 << 20}, environ)
    assert loaded.egress_allow == ("https://api.openai.com/v1/", "https://api.anthropic.com/")
    assert loaded.egress_timeout_s == 30 and loaded.egress_max_bytes == 1 << 20
    assert Settings.load("dev", {}, environ).egress_allow == ()  # dev allows every URL
