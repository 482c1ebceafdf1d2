"""The diagnose screen at 80x24: the root cause row is selected and on screen."""

from __future__ import annotations

import pytest

from tests.tui.helpers import sync

pytestmark = pytest.mark.e2e


@sync
async def test_root_cause_row_is_scrolled_into_view_at_80x24(sandbox_ctx, sandbox_url) -> None:
    import asyncio

    from textual.widgets import Button, DataTable

    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseApp

    world = scenarios.seed("file-exists", sandbox_url)
    app = DiagnoseApp(sandbox_ctx, deployment_id=world["deployment_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        deadline = asyncio.get_running_loop().time() + 60
        while screen.report is None:
            assert asyncio.get_running_loop().time() < deadline, "diagnose did not finish"
            await pilot.pause(0.1)
        await pilot.pause()
        await pilot.pause()
        table = screen.query_one("#diag-checks", DataTable)
        row = table.cursor_row
        assert screen._row_key(row) == "dest.file-exists"
        # the highlighted row is inside the visible window of the table (rows wrap: lines)
        top = int(table.scroll_y)
        visible = table.scrollable_content_region.height - 1  # less the header row
        y = sum(r.height for r in table.ordered_rows[:row])
        assert top <= y and y + table.ordered_rows[row].height <= top + visible, (top, y, visible)
        # the buttons fit in one line each, so the table keeps its room at 24 rows
        assert all(b.outer_size.height == 1 for b in screen.query(Button) if b.display)
        # marks follow the theme: readable text colours, recoloured on a switch
        assert str(table.get_cell("dest.file-exists", "mark").style).lower().split()[-1] == (
            app.get_css_variables()["text-error"].lower()
        )
        app.theme = "textual-light"
        await pilot.pause()
        await pilot.pause()
        assert str(table.get_cell("dest.file-exists", "mark").style).lower().split()[-1] == (
            app.get_css_variables()["text-error"].lower()
        )


@sync
async def test_a_diagnose_that_cannot_start_does_not_look_busy(sandbox_ctx) -> None:
    from textual.widgets import DataTable, Static

    from wizard.screens.diagnose import DiagnoseApp

    app = DiagnoseApp(sandbox_ctx, application="tui-no-such-app", deployment_group="g")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.error and "does not exist" in screen.error
        table = screen.query_one("#diag-checks", DataTable)
        marks = {str(table.get_row_at(i)[2]) for i in range(table.row_count)}
        assert marks == {"not run"}
        detail = str(screen.query_one("#diag-detail-text", Static).render())
        assert "No checks ran" in detail and "press r" in detail


async def _diagnosed(pilot, screen) -> None:
    import asyncio

    deadline = asyncio.get_running_loop().time() + 90
    while screen.report is None or screen.busy:
        assert asyncio.get_running_loop().time() < deadline, "diagnose did not finish"
        await pilot.pause(0.1)
    await pilot.pause()


@sync
async def test_fix_is_offered_only_when_an_automatic_fix_exists(sandbox_ctx, sandbox_url) -> None:
    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseApp

    world = scenarios.seed("hook-failed", sandbox_url)
    app = DiagnoseApp(sandbox_ctx, deployment_id=world["deployment_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _diagnosed(pilot, screen)
        assert screen.report.root_causes and not screen._automatic_fixes()
        assert not screen.query_one("#diag-fix").display  # a script to fix by hand: no Fix…
        shown = {b.binding.key for b in screen.active_bindings.values() if b.enabled}
        assert "f" not in shown and "r" in shown
        # the fix's commands are there to copy, whole
        assert screen.query_one("#diag-commands").commands


@sync
async def test_after_the_fix_the_screen_tells_the_truth(sandbox_ctx, sandbox_url) -> None:
    """role-no-s3-read: Fix… applies the scoped read policy; the checks run again, the root cause
    is ranked again (no stale 'fix the root cause' for a check that now passes), and Deploy
    again is offered."""
    import pytest
    from textual.app import App

    from checks.runner import Report
    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseScreen, FixPlanScreen

    if not hasattr(Report, "ready_to_redeploy"):
        pytest.skip("checks does not re-point the symptom after fixes yet (issue 13)")
    world = scenarios.seed("role-no-s3-read", sandbox_url)
    again: list[bool] = []
    screen = DiagnoseScreen(
        sandbox_ctx, deployment_id=world["deployment_id"], deploy_again=lambda: again.append(True)
    )

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        await _diagnosed(pilot, screen)
        assert "s3.bundle-readable" in screen.report.root_causes
        assert screen.query_one("#diag-fix").display
        assert not screen.query_one("#diag-deploy").display
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FixPlanScreen)
        await pilot.press("tab", "enter")  # Cancel has the focus: Apply is the next button
        await pilot.pause()
        await _diagnosed(pilot, screen)
        assert "s3.bundle-readable" not in screen.report.root_causes
        root = str(screen.query_one("#diag-root").render())
        assert "s3.bundle-readable" not in root and "Fix the root cause" not in root
        mark = str(screen.query_one("#diag-checks").get_cell("s3.bundle-readable", "mark"))
        # the check no longer fails; it may warn that the deployment itself was refused before
        # the policy changed (the instances' Access Denied stays in the record)
        result = screen.report.result("s3.bundle-readable")
        assert not result.status.problem
        assert mark == f"[{result.status.symbol}]" and mark in ("[✓]", "[!]")
        assert not screen.query_one("#diag-fix").display  # nothing left to fix automatically
        assert screen.query_one("#diag-deploy").display
        await pilot.press("d")
        await pilot.pause()
        assert again == [True]
