"""Settings fields taken from the flags `mainspring dev` and `mainspring start` share (shim: the
flag table is `mainspring.settings.flags`)."""

from __future__ import annotations

from typing import Any

from mainspring.settings.flags import BOTH, FLAGS, flag_fields


def shared_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The Settings fields `dev` and `start` take from the flags they share."""
    shared = {name: value for name, value in options.items() if FLAGS.get(name, None)}
    return flag_fields({k: v for k, v in shared.items() if FLAGS[k].modes == BOTH}, "dev")
