"""What a newcomer trying `wizard --sandbox` in tmux noticed: quit texts that are true in the
sandbox and follow the work as it ends, a nav hint that stays on its row, names shown whole in
the plan, the CI key dialog's text whole, Done after a succeeded deployment, and a header that
keeps its values on a small terminal."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.tui.helpers import goto, settle, sync

pytestmark = pytest.mark.e2e

LONG = "this-is-a-really-long-project-folder-name"
SIZES = [(80, 24), (100, 30)]


def _lines(widget: Any) -> list[str]:
    """The widget's lines as drawn on screen (after wrapping or cutting)."""
    from textual.geometry import Region

    region = Region(0, 0, widget.size.width, widget.size.height)
    return [strip.text.rstrip() for strip in widget.render_lines(region)]


def _dialog_text(app: Any) -> str:
    return str(app.screen.query_one(".dialog-text").render())


@sync
async def test_quit_mid_apply_in_the_sandbox_is_true_and_follows_the_apply(
    make_app, sandbox_ctx, monkeypatch
) -> None:
    """^q right after Apply now: the question says the sandbox (and all in it) goes; once the
    apply has ended it no longer says it runs, and quitting is no longer an interruption."""
    import threading

    from wizard.steps import engine
    from wizard.widgets.dialogs import ConfirmScreen

    go = threading.Event()
    real_apply = engine.apply_plan

    def apply_when_asked(*args: Any, **kw: Any) -> Any:  # the real apply, once ^q was pressed
        go.wait(10)
        return real_apply(*args, **kw)

    monkeypatch.setattr(engine, "apply_plan", apply_when_asked)
    # as wizard --sandbox: this process runs the emulator
    monkeypatch.setattr(sandbox_ctx, "sandbox_server", object(), raising=False)
    app = make_app("tui-quit-follow", at="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await goto(pilot, "apply")
        await pilot.click("#apply-start")
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen) and app.state.applying
        go.set()
        asked = _dialog_text(app)
        assert "Apply is still running in the sandbox" in asked
        assert "everything made in it is gone" in asked and "goes on" not in asked
        await settle(pilot, rounds=6)
        assert app.state.applied
        await pilot.pause(2 * ConfirmScreen.FOLLOW_SECONDS)
        now = _dialog_text(app)
        assert "still running" not in now and "Nothing is running any more" in now
        # nothing runs, yet quitting still ends the sandbox and what the apply made in it
        assert "the sandbox stops with the wizard: what was made in it is gone" in now
        assert "loses nothing" not in now
        await pilot.press("ctrl+q")  # a yes
        await pilot.pause()
    assert app.return_code == 0  # nothing was interrupted
    assert "The sandbox stopped with the wizard: what was made in it is gone" in app.quit_message


@sync
async def test_quit_while_a_sandbox_deployment_starts_never_says_it_goes_on(
    make_app, sandbox_ctx, monkeypatch
) -> None:
    """The Deploy screen in the sandbox: quitting ends the emulator, nothing goes on in AWS;
    once the deployment has ended (here: it cannot start, nothing was applied) the question
    says so."""
    import threading

    from wizard.deploy import run as deploy_run
    from wizard.screens.deploy import DeployScreen
    from wizard.widgets.dialogs import ConfirmScreen

    go = threading.Event()
    real_start = deploy_run.start_deployment

    def start_when_asked(*args: Any, **kw: Any) -> Any:  # the real start, once ^q was pressed
        go.wait(10)
        return real_start(*args, **kw)

    monkeypatch.setattr(deploy_run, "start_deployment", start_when_asked)
    # as wizard --sandbox: this process runs the emulator
    monkeypatch.setattr(sandbox_ctx, "sandbox_server", object(), raising=False)
    app = make_app("tui-quit-deploy", at="done")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_open_deploy()
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        asked = _dialog_text(app)
        assert "A deployment is starting in the sandbox: quitting stops the sandbox" in asked
        assert "goes on" not in asked
        go.set()
        deploy = next(s for s in app.screen_stack if isinstance(s, DeployScreen))
        for _ in range(100):
            if deploy.finished:
                break
            await pilot.pause(0.1)
        assert deploy.finished
        await pilot.pause(2 * ConfirmScreen.FOLLOW_SECONDS)
        assert "Nothing is running any more" in _dialog_text(app)
        await pilot.press("escape")
        await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "100x30"])
def test_the_nav_hint_stays_on_its_row(size, sandbox_ctx, tmp_path: Path) -> None:
    """Next pressed while the credentials are still being checked (the sandbox starting): the
    hint says what it waits for on one row, never spilling beside the step list's border."""
    import threading

    from wizard.app import create_app

    started = threading.Event()

    def slow_start() -> Any:  # the emulator starting, as with wizard --sandbox
        started.wait(10)
        return sandbox_ctx

    @sync
    async def run() -> None:
        app = create_app(slow_start, tmp_path / "tui-hint", region="us-east-1", sandbox=True)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press("ctrl+n")
            await pilot.pause()
            screen = app.screen
            hint = screen.query_one("#nav-hint")
            assert _lines(hint) == [
                "checking credentials… then Next".center(hint.size.width).rstrip()
            ]
            assert screen.query_one("#nav").region.height == 1
            steps = screen.query_one("#step-list").region
            assert hint.region.bottom == steps.bottom  # the border's row, and no other
            # the longest waiting text of the steps fits too
            hint.update("looking for tagged instances… then Next")
            await pilot.pause()
            assert _lines(hint)[0].strip() == "looking for tagged instances… then Next"
            started.set()
            await settle(pilot)
            assert screen.current == "roles"  # the queued Next went ahead

    run()


def _joined(lines: list[str]) -> str:
    """Lines of a column joined back: a line ending in '-' goes on without a space."""
    out = ""
    for line in lines:
        line = line.strip()
        out += line if out.endswith("-") or not out else " " + line
    return out


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "100x30"])
def test_long_names_are_whole_in_review_and_apply(size, make_app, tmp_path: Path) -> None:
    """A long application name: every name in the plan is on screen whole or broken only after
    a hyphen, never mid-word or cut with '…' (Review's list and Apply's)."""
    import re

    @sync
    async def run() -> None:
        app = make_app(LONG, project_dir=tmp_path / f"{size[0]}" / LONG, at="review")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            for step, list_id in (("review", "#plan-list"), ("apply", "#apply-list")):
                await goto(pilot, step)
                plan = app.screen.query_one(list_id)
                names = [str(c.name) for c in plan.changes]
                assert any(LONG[:30] in n for n in names)
                text_width = plan.size.width
                for i in range(len(plan.changes)):
                    prompt = plan.get_option_at_index(i).prompt
                    from rich.console import Console

                    console = Console(width=text_width - 2, file=open("/dev/null", "w"))  # noqa: SIM115
                    lines = [
                        "".join(seg.text for seg in line)
                        for line in console.render_lines(prompt, pad=False)
                    ]
                    # the name column starts after the action (and mark) columns
                    start = lines[0].index(plan.changes[i].action) + plan.ACTION_WIDTH
                    column = [line[start:] for line in lines]
                    name = names[i]
                    rows = [r.strip() for r in column[: len(column)] if r.strip()]
                    got = _joined(rows[: 1 + name.count("-")])
                    assert got.startswith(name), (name, rows)
                    for line in rows:  # every break comes after a hyphen or a space
                        assert re.search(r"[-\s\w:,.)]$", line)
                    for row in rows[:-1]:
                        if name.startswith(row) and row != name:
                            assert row.endswith("-"), (name, rows)

    run()


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "100x30"])
def test_the_ci_key_dialog_shows_every_word(size, make_app) -> None:
    from textual.widgets import Static

    from wizard.screens.steps.done import access_key_notice
    from wizard.widgets.command_block import CommandBlock

    @sync
    async def run() -> None:
        app = make_app(f"tui-key-{size[0]}")
        key = {"AccessKeyId": "AKIAIOSFODNN7EXAMPLE", "SecretAccessKey": "x" * 40}
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            app.push_screen(access_key_notice("tui-key-codedeploy-ci", key, sandbox=True))
            await pilot.pause()
            await pilot.pause()
            dialog = app.screen
            for block in dialog.query(CommandBlock):
                assert not block.max_scroll_x, (block.commands, block.size)  # nothing hidden
                assert not any("#" in c for c in block.commands)
            said = " ".join(str(s.render()) for s in dialog.query(Static).results(Static))
            assert "paste it, press Enter, then Ctrl-D" in said
            for static in dialog.query(".dialog-text"):
                assert not any(line.endswith("…") for line in _lines(static))

    run()


@sync
async def test_done_after_a_succeeded_deployment_says_what_is_left(
    make_app, sandbox_url: str, tmp_path: Path
) -> None:
    """CodeDeploy records the group's last successful deployment: Done then no longer lists
    the first deployment as left to do."""
    from wizard.sandbox import scenarios
    from wizard.sandbox.world import World

    world = await asyncio.to_thread(
        scenarios.build, World(sandbox_url, name="tui-done-deployed"), count=1
    )
    assert world["status"] == "Succeeded"
    folder = tmp_path / "tui-done-deployed"
    folder.mkdir()
    (folder / ".codedeploy-wizard.yml").write_text(
        f"application: {world['application']}\n"
        f"deployment_group: {world['deployment_group']}\nregion: us-east-1\n"
    )
    app = make_app("tui-done-deployed", project_dir=folder, at="done")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await settle(pilot)
        pane = app.screen.pane
        intro = str(pane.query_one(".step-intro").render())
        assert "first deployment" in intro and "succeeded" in intro, intro
        assert "Left: commit the files, the CI secrets." in intro
        heads = [str(s.render()) for s in pane.query(".next-head")]
        assert "3. Deployments" in heads and "3. First deployment" not in heads
        text = " ".join(str(s.render()) for s in pane.query(".next-text"))
        assert f"The first deployment ({world['deployment_id']}) succeeded" in text

    # a group that never deployed: the first deployment is still left
    app = make_app("tui-done-fresh", at="done")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        intro = str(app.screen.pane.query_one(".step-intro").render())
        assert intro.endswith("Left: commit the files, the CI secrets, the first deployment.")


@pytest.mark.parametrize("size", [(60, 15), (50, 15), (80, 24)], ids=["60", "50", "80"])
def test_the_header_keeps_its_values_when_narrow(size, make_app) -> None:
    from wizard.widgets.context_bar import ContextBar

    @sync
    async def run() -> None:
        app = make_app(f"tui-narrow-{size[0]}")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            bar = app.screen.query_one(ContextBar)
            shown = sorted((p for p in bar.query("Static") if p.display), key=lambda p: p.region.x)
            row = " ".join(str(p.render()) for p in shown)
            assert "us-east-1" in row, row
            if size[0] >= 50:
                assert "123456789012" in row, row
            assert "SANDBOX" in row
            assert not row.rstrip().endswith("region")
            parts = [p for p in shown if p.id != "ctx-sandbox"]
            badge = bar.query_one("#ctx-sandbox").region
            assert all(p.region.right <= badge.x for p in parts), [p.region for p in parts]

    run()
