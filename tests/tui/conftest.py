"""Fixtures for the TUI tests: the app built by its factory on a sandbox context.

moto's state is global per process, so each test names its project directory (and with it the
application and every derived resource name) uniquely. UI progress goes to a per-test
XDG_STATE_HOME so resuming is isolated.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    # folders are shown as ~/name: the pictures do not depend on where pytest puts tmp_path
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def make_app(sandbox_ctx, tmp_path: Path) -> Callable[..., object]:
    """`make_app("name")` → a WizardApp for project directory tmp/<name> on the sandbox."""
    from wizard.app import create_app

    def make(name: str, ctx=None, project_dir: Path | None = None, at: str | None = None):
        """`at`: open the app resumed at that step (as if the user had got there before)."""
        directory = project_dir or tmp_path / name
        directory.mkdir(parents=True, exist_ok=True)
        if at is not None:
            from wizard.screens.steps import STEP_IDS
            from wizard.tui_support import save_progress

            project_file = directory / ".codedeploy-wizard.yml"
            if not project_file.exists():
                project_file.write_text(f"application: {name}\nregion: us-east-1\n")
            save_progress(directory, at, STEP_IDS[: STEP_IDS.index(at)])
        return create_app(ctx or sandbox_ctx, directory)

    return make
