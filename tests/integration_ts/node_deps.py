"""Node and npm for the Node apps of the suite (the TS SDK app, the Next.js example): which
node is there, and their dependencies installed from the lockfile when missing or stale (what
`make ts-deps` does, for a run that skipped it)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path


def node_version(node: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    major, minor, *_ = out.strip().lstrip("v").split(".")
    return int(major), int(minor)


def require_node(minimum: tuple[int, int], what: str, refuse: Callable[[str], None]) -> str:
    """The node executable, after `refuse(reason)` (skip, or fail under CI) when node or npm
    is missing or node is older than `minimum`."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        refuse(f"node and npm are required for {what} (node={node}, npm={npm})")
    assert node is not None
    version = node_version(node)
    if version is None or version < minimum:
        refuse(f"node >= {minimum[0]}.{minimum[1]} is required for {what}, found {version}")
    return node


def ensure_deps(app_dir: Path, *required: Path) -> None:
    """`npm ci` in `app_dir` when a `required` file is missing or the lockfile is newer."""
    modules = app_dir / "node_modules"
    stale = not all(path.is_file() for path in required) or (
        (app_dir / "package-lock.json").stat().st_mtime > modules.stat().st_mtime
    )
    if not stale:
        return
    npm = shutil.which("npm")
    assert npm is not None, "npm disappeared from PATH"
    ci = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=app_dir,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ci.returncode == 0, f"npm ci failed in {app_dir}:\n{ci.stdout}\n{ci.stderr}"
