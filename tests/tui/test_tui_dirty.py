"""Every kind of input on a step counts as an unsaved answer: ^q asks first, and what the
terminal is told afterwards is true (issue: a changed radio choice was lost with no question,
and the message said the answers were saved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import RadioSet, Static

from tests.tui.helpers import settle, sync

pytestmark = pytest.mark.e2e


def _project(tmp_path: Path, name: str, extra: str = "") -> None:
    (tmp_path / name).mkdir()
    (tmp_path / name / ".codedeploy-wizard.yml").write_text(
        f"application: {name}\nregion: us-east-1\n{extra}"
    )


async def _quit_anyway(pilot, app) -> str:
    """^q must ask (not saved yet … Quit anyway?); ^q again quits. The dialog's text."""
    from wizard.widgets.dialogs import ConfirmScreen

    await pilot.press("ctrl+q")
    await pilot.pause()
    assert isinstance(app.screen, ConfirmScreen), "quit without asking"
    text = str(app.screen.query_one(".dialog-text").render())
    assert "not saved yet" in text and "Quit anyway?" in text
    await pilot.press("ctrl+q")
    await pilot.pause()
    return text


@sync
async def test_a_changed_radio_choice_asks_before_quit_and_is_not_called_saved(
    make_app, tmp_path: Path
) -> None:
    name = "tui-dirty-radio"
    _project(tmp_path, name, "instances:\n  launch: 2\n")
    app = make_app(name, at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.pane.chosen == "launch"
        await pilot.press("down", "enter")  # A new Auto Scaling group
        await settle(pilot)
        assert app.screen.pane.chosen == "asg"
        text = await _quit_anyway(pilot, app)
    assert "Your changes on the Instances step are not saved" in text
    message = app.quit_message
    assert "Your changes on the Instances step are not saved" in message
    assert "Earlier answers are in ~/tui-dirty-radio/.codedeploy-wizard.yml" in message
    assert not message.startswith("Answers saved")
    saved = (tmp_path / name / ".codedeploy-wizard.yml").read_text()
    assert "launch: 2" in saved and "auto_scaling" not in saved


@sync
async def test_adopt_and_the_load_balancer_choice_ask_too(make_app, tmp_path: Path) -> None:
    for name, keys in (("tui-dirty-adopt", ("up", "enter")), ("tui-dirty-lb", None)):
        _project(tmp_path, name, "instances:\n  launch: 2\n")
        app = make_app(name, at="instances")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            if keys:
                await pilot.press(*keys)  # Up from "Launch new instances" is Adopt
                await settle(pilot)
                assert app.screen.pane.chosen == "tag"
            else:
                app.screen.query_one("#lb", RadioSet).focus()
                await pilot.press("down", "enter")  # a new load balancer
                await settle(pilot)
                assert app.screen.pane.lb_chosen == "create"
            await _quit_anyway(pilot, app)
        assert "not saved" in app.quit_message


@sync
async def test_selects_and_checkboxes_ask_before_quit(make_app, tmp_path: Path) -> None:
    cases = (("tui-dirty-select", "application", "#rollback"), ("tui-dirty-box", "roles", "#ssm"))
    for name, step, control in cases:
        _project(tmp_path, name)
        app = make_app(name, at=step)
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            app.screen.query_one(control).focus()
            keys = ("enter", "down", "enter") if step == "application" else ("space",)
            await pilot.press(*keys)
            await settle(pilot)
            text = await _quit_anyway(pilot, app)
        assert f"Your changes on the {step.title()} step are not saved" in text


@sync
async def test_the_wizards_own_choice_and_a_choice_taken_back_quit_at_once(
    make_app, tmp_path: Path
) -> None:
    """Launching chosen by the wizard (nothing carries the tag) is not the user's edit; nor is a
    choice changed and changed back."""
    name = "tui-dirty-own"
    app = make_app(name, at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.pane.chosen == "launch" and app.screen.pane.defaulted
        await pilot.press("down", "enter")
        await settle(pilot)
        await pilot.press("up", "enter")
        await settle(pilot)
        assert app.screen.pane.chosen == "launch"
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0 and "not saved" not in app.quit_message


@sync
async def test_the_cursor_and_the_status_follow_the_choice(make_app, tmp_path: Path) -> None:
    """The wizard's own choice moves the keyboard cursor too (Up goes to Adopt, not to the last
    button); an existing group with no name yet drops what was said about launching."""
    from wizard.widgets.plan_table import PlanSummary

    app = make_app("tui-cursor", at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.screen.pane
        assert pane.chosen == "launch"
        await pilot.press("up", "enter")
        await settle(pilot)
        assert pane.chosen == "tag"
        assert "nothing could deploy" in str(pane.query_one("#instances-status", Static).render())
        await pilot.press("up", "enter")  # wraps to the last: an existing group, no name yet
        await settle(pilot)
        assert pane.chosen == "asg-name"
        status = str(pane.query_one("#instances-status", Static).render())
        assert "launches" not in status and "Fill in the marked answer" in status
        plan = " ".join(str(pane.query_one("#step-plan", PlanSummary).render()).split())
        assert "launch 2" not in plan
        pane.query_one("#asg-name").focus()
        await pilot.press(*"web-asg", "enter")
        await settle(pilot)
        status = str(pane.query_one("#instances-status", Static).render())
        assert "There is no Auto Scaling group web-asg" in status


@sync
async def test_the_cursor_starts_on_the_choice_read_from_the_project_file(
    make_app, tmp_path: Path
) -> None:
    _project(tmp_path, "tui-cursor-file", "instances:\n  launch: 2\n")
    app = make_app("tui-cursor-file", at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        radio = app.screen.query_one("#mode", RadioSet)
        assert app.focused is radio and radio._selected == radio.pressed_index == 1
        await pilot.press("up", "enter")
        await settle(pilot)
        assert app.screen.pane.chosen == "tag"


@sync
async def test_quit_mid_apply_in_the_sandbox_says_everything_is_gone(make_app) -> None:
    from wizard.widgets.dialogs import ConfirmScreen

    app = make_app("tui-quit-sandbox")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state.sandbox
        app.state.applying = True
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = " ".join(str(app.screen.query_one(".dialog-text").render()).split())
        assert "everything made in it is gone" in text and "already made stay" not in text
        app.state.applying = False
        await pilot.press("escape")
