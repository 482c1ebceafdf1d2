"""A project folder the wizard cannot write (here: its parent is a regular file, so every write
fails with ENOTDIR as it would with EROFS on a read-only mount — a real refusal, made without
privileges, that root cannot write through) and a state directory it cannot write: the first
screen says so, Next never crashes, the answers stay in memory, Apply's files fail in one line
while the AWS part stands, and ^q asks before losing the answers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.tui.helpers import current_step, goto, notes, settle, sync

pytestmark = pytest.mark.e2e


@sync
async def test_an_unwritable_folder_is_said_first_and_never_crashes_the_wizard(
    sandbox_ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wizard.app import create_app
    from wizard.widgets.dialogs import ConfirmScreen

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker / "state"))
    name = f"tui-ro-{uuid.uuid4().hex[:6]}"
    folder = blocker / name
    app = create_app(sandbox_ctx, folder)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        where = str(app.screen.query_one("#project-folder").render())
        assert f"Cannot write here: {blocker} is a file, not a folder" in where
        await goto(pilot, "apply")  # every Next saves the answers: none may crash
        assert app.is_running and app.state.project.application == name
        said = notes(app)
        assert sum("Answers not saved: cannot write" in n for n in said) == 1, said  # once
        assert any(f"{blocker} is a file, not a folder" in n for n in said)
        assert sum("The step reached is not kept" in n for n in said) == 1, said
        await pilot.click("#apply-start")
        await settle(pilot, rounds=8)
        assert app.state.applied  # the AWS part stands
        log = "\n".join(app.screen.query_one("#apply-log").lines)
        assert "✗ Files not written: cannot write" in log and "The AWS setup is done" in log
        # the status line gives a ✓ only to what was done
        status = str(app.screen.query_one("#apply-status").render())
        assert "✓ AWS setup applied" in status and "✗ the files were not written" in status
        assert "✓ Applied." not in status
        assert current_step(app) == "apply" and app.is_running
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)  # quitting loses the answers: asked
        text = str(app.screen.query_one(".dialog-text").render())
        assert "quitting loses them" in text
        await pilot.press("y")
        await pilot.pause()
    assert app.quit_message.startswith("Answers not saved: cannot write")
    assert not folder.exists()
