"""The first run, as a person types it (issue 11): the README's `wizard --sandbox --project-dir
demo` in an empty folder, every default, only ^n and Enter, brisk keys, at 80x24 and 100x30: a
succeeded first deployment in at most 15 keys. Driven through tmux (send-keys / capture-pane),
so the real terminal, the real command line and the real timing are what is tested; see
tests/tui/tmux.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui import tmux

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not tmux.available(), reason="tmux is not installed"),
]


@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_defaults_reach_a_succeeded_first_deployment(size, tmp_path: Path) -> None:
    walk = tmux.first_run(*size, folder=tmp_path, state_home=tmp_path / "state")
    folder = tmp_path / "demo"  # created by the wizard, named after it
    assert walk.ok, f"{walk.failure}\nkeys: {walk.keys}\nscreen:\n{walk.screen}"
    assert len(walk.keys) <= 15, walk.keys
    assert set(walk.keys) <= {"C-n", "Enter"}
    # what the defaults built, in the folder of its own: answers and the generated files
    assert "application: demo" in (folder / ".codedeploy-wizard.yml").read_text()
    assert (folder / "appspec.yml").is_file() and (folder / "scripts").is_dir()
