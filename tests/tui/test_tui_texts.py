"""What the TUI says is true where the user reads it: the folder the files are in, what the TUI
(not the CLI) offers, paths shown one way, and a status line that is never cut at 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.helpers import settle, sync

pytestmark = pytest.mark.e2e


def _demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra: str = "") -> Path:
    """A project folder `demo` inside the folder the user starts the wizard from."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / ".codedeploy-wizard.yml").write_text(
        f"application: tui-demo-{extra or 'x'}\nregion: us-east-1\n"
        "ci:\n  provider: travis\n  branch: main\n"
    )
    return Path("demo")


def _lines(widget) -> list[str]:
    """The widget's lines as drawn on screen (after wrapping or cutting)."""
    from textual.geometry import Region

    region = Region(0, 0, widget.size.width, widget.size.height)
    return [strip.text.rstrip() for strip in widget.render_lines(region)]


def _commands(pane) -> list[list[str]]:
    from wizard.widgets.command_block import CommandBlock

    return [block.commands for block in pane.query(CommandBlock)]


@sync
async def test_done_names_the_project_folder(make_app, tmp_path: Path, monkeypatch) -> None:
    """The files are in demo/: git add (and wizard without --sandbox) run from inside it."""
    app = make_app("demo", project_dir=_demo(tmp_path, monkeypatch, "done"), at="done")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        pane = app.screen.pane
        commands = _commands(pane)
        assert commands[0][0] == "cd demo" and commands[0][1].startswith("git add appspec.yml")
        assert commands[-1] == ["cd demo", "wizard"]
        texts = " ".join(str(s.render()) for s in pane.query(".next-text"))
        assert "in the project folder demo:" in texts and "in this folder" not in texts


@sync
async def test_done_in_the_project_folder_needs_no_cd(
    make_app, tmp_path: Path, monkeypatch
) -> None:
    _demo(tmp_path, monkeypatch, "here")
    monkeypatch.chdir(tmp_path / "demo")
    app = make_app("demo", project_dir=Path("."), at="done")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        commands = _commands(app.screen.pane)
        assert commands[0][0].startswith("git add") and commands[-1] == ["wizard"]


@sync
async def test_the_ci_user_plan_names_the_tuis_button(
    make_app, tmp_path: Path, monkeypatch
) -> None:
    """The plan is the CLI's, but the TUI says what the TUI offers (the Done screen's button)."""
    from rich.console import Console

    from wizard.widgets.plan_table import PlanList

    app = make_app("demo", project_dir=_demo(tmp_path, monkeypatch, "plan"), at="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        plan = app.screen.query_one(PlanList)
        console = Console(width=300, color_system=None)
        with console.capture() as shown:
            for i in range(plan.option_count):
                console.print(plan.get_option_at_index(i).prompt)
        text = " ".join(shown.get().split())
        assert "for Travis CI" in text
        assert "press CI access key on the Done screen to create one" in text
        assert "--create-access-key" not in text


@sync
async def test_file_paths_are_shown_one_way(make_app, tmp_path: Path, monkeypatch) -> None:
    from textual.widgets import OptionList

    app = make_app("demo", project_dir=_demo(tmp_path, monkeypatch, "files"), at="files")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        files = app.screen.query_one("#file-list", OptionList)
        labels = [str(files.get_option_at_index(i).prompt) for i in range(files.option_count)]
        paths = [label.split("]", 2)[-1].split()[-1] for label in labels]
        assert {"demo/appspec.yml", "demo/.travis.yml"} <= set(paths), paths
        assert all(p.startswith("demo/") for p in paths), paths


@sync
async def test_the_status_line_is_whole_at_80_columns(make_app) -> None:
    """Next pressed while the lookup runs: the status says all of it."""
    from textual.widgets import Static

    app = make_app("tui-hint", at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        screen.pane.looked = False  # as while the first lookup is still running
        screen.next_queued = True
        screen._refresh_nav()
        await pilot.pause()
        hint = screen.query_one("#nav-hint", Static)
        shown = " ".join(" ".join(_lines(hint)).split())
        assert shown == "looking for tagged instances… then Next"  # on one row (test_tui_newcomer)
        # and every line of it is on screen, not cut off by the bar it sits in
        nav = screen.query_one("#nav")
        assert nav.region.contains_region(hint.region), (nav.region, hint.region)
        assert screen.query_one("#next").region.right <= 80
