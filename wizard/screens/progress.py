"""Where the wizard was: the UI's resume point, kept outside the project file.

The project file holds answers only (it is meant to be committed). Which step the user reached is
UI state, so it lives in a small JSON file in the user's state directory
(`$XDG_STATE_HOME/codedeploy-wizard/progress.json`, default `~/.local/state/...`), keyed by the
project directory's absolute path. It holds step ids only: nothing secret, nothing AWS. The
resume point is used only while the project file exists, so deleting the project file starts over.
No Textual here: this is plain data.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from wizard.fileio import atomic_write


def state_file() -> Path:
    """The progress file (honours XDG_STATE_HOME, so tests can isolate it)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "codedeploy-wizard" / "progress.json"


def _read_all() -> dict[str, Any]:
    try:
        data = json.loads(state_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def load_progress(project_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """`{"step": id, "done": [ids]}` for this project directory, or {} when never saved."""
    entry = _read_all().get(str(Path(project_dir).resolve()))
    if not isinstance(entry, dict):
        return {}
    step = entry.get("step")
    done = entry.get("done")
    return {
        "step": step if isinstance(step, str) else None,
        "done": [d for d in done if isinstance(d, str)] if isinstance(done, list) else [],
    }


def save_progress(project_dir: str | os.PathLike[str], step: str, done: list[str]) -> None:
    """Remember the current step; failures to write are ignored (it is only a convenience)."""
    data = _read_all()
    data[str(Path(project_dir).resolve())] = {"step": step, "done": sorted(set(done))}
    try:
        atomic_write(state_file(), json.dumps(data, indent=1, sort_keys=True), backup=False)
    except OSError:
        pass
