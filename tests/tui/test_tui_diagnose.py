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
        table = screen.query_one("#diag-checks", DataTable)

        def where() -> tuple[int, int, int, int]:
            row = table.cursor_row
            top = int(table.scroll_y)
            visible = table.scrollable_content_region.height - 1  # less the header row
            y = sum(r.height for r in table.ordered_rows[:row])
            return top, y, y + table.ordered_rows[row].height, visible

        # the screen scrolls after its layout settles (slower under load): wait for it, bounded
        deadline = asyncio.get_running_loop().time() + 5
        while asyncio.get_running_loop().time() < deadline:
            await pilot.pause(0.05)
            top, y, end, visible = where()
            if top <= y and end <= top + visible:
                break
        assert screen._row_key(table.cursor_row) == "dest.file-exists"
        # the highlighted row is inside the visible window of the table (rows wrap: lines)
        top, y, end, visible = where()
        assert top <= y and end <= top + visible, (top, y, visible)
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
        root = str(screen.query_one("#diag-root").content)
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


# ---------------------------------------------------------------- what a user reads, at 80x24+

_BOUNDARY = "/-,:=&?;_|@"


def _screen_lines(app, widget, x0: int = 0, width: int | None = None) -> list[str]:
    """The text the terminal shows inside `widget`'s content region (columns x0…x0+width)."""
    strips = app.screen._compositor.render_strips()
    rows = ["".join(seg.text for seg in strip) for strip in strips]
    region = widget.content_region
    left = region.x + x0
    right = left + (width if width is not None else region.width)
    return [rows[y][left:right] for y in range(region.y, region.y + region.height)]


def _bad_breaks(lines: list[str], original: str) -> tuple[list[str], int]:
    """(pieces that start or end mid-word, how many lines were found in `original`).

    Each shown line is looked up in the text it shows, in order; where it starts and where it
    ends must be a space, the text's edge, or just after a boundary character ('/', '-', ',' …).
    A last line cut with '…' must be cut the same way."""
    bad, found, pos = [], 0, 0
    for raw in lines:
        line = raw.strip(" │▏▕▁▂▃▄▅▆▇█▌")
        cut = line.endswith("…")
        line = line.rstrip("…").rstrip()
        if len(line) < 4:
            continue
        i = original.find(line, pos)
        if i < 0:
            continue
        found += 1
        j = i + len(line)
        if i > 0 and not original[i - 1].isspace() and original[i - 1] not in _BOUNDARY:
            bad.append(f"starts mid-word: {line!r}")
        if j < len(original) and not original[j].isspace() and original[j - 1] not in _BOUNDARY:
            bad.append(f"{'cut' if cut else 'ends'} mid-word: {line!r}")
        pos = j
    return bad, found


@sync
async def test_long_paths_break_only_at_boundaries_and_the_whole_fix_is_reachable(
    sandbox_ctx, sandbox_url
) -> None:
    """role-no-s3-read names S3 URIs and ARNs wider than a column: in the table, the detail
    pane and the root cause they break only after '/', '-', ',' … (never 'releas|es'), at
    80x24, 100x30 and 160x40; at 80x24 the root cause's whole Fix line can be scrolled to,
    with a scrollbar showing that there is more."""
    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseApp

    world = scenarios.seed("role-no-s3-read", sandbox_url)
    app = DiagnoseApp(sandbox_ctx, deployment_id=world["deployment_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _diagnosed(pilot, screen)
        report = screen.report
        assert report.root_causes[0] == "s3.bundle-readable"
        fix = report.result("s3.bundle-readable").fix.summary
        for size in ((80, 24), (100, 30), (160, 40)):
            await pilot.resize_terminal(*size)
            for _ in range(4):
                await pilot.pause()
            table = screen.query_one("#diag-checks")
            # the Result column of the table, as shown
            x0 = sum(c.get_render_width(table) for c in table.ordered_columns[:2])
            result = table.ordered_columns[2]
            x0 += table.cell_padding
            summaries = "\n".join(str(table.get_cell_at((i, 2))) for i in range(table.row_count))
            lines = _screen_lines(app, table, x0, result.get_render_width(table))
            bad, found = _bad_breaks(lines, summaries)
            assert found >= 3 and not bad, (size, bad, lines)
            # the detail pane (the root cause's evidence and fix) and the root cause lines
            detail = screen.query_one("#diag-detail-text")
            bad, found = _bad_breaks(_screen_lines(app, detail), str(detail.content))
            assert found >= 3 and not bad, (size, bad)
            box = screen.query_one("#diag-root-box")
            root = str(screen.query_one("#diag-root").content)
            assert "Fix: " in root and "(automatic: press f)" in root  # this screen's key
            bad, found = _bad_breaks(_screen_lines(app, box), root)
            assert found >= 3 and not bad, (size, bad)
            # the whole fix can be read: on screen, or scrolled to with a scrollbar showing
            seen = _screen_lines(app, box)
            if box.max_scroll_y:
                assert box.show_vertical_scrollbar and box.can_focus, size
                for y in range(1, box.max_scroll_y + 1):  # one line at a time, as ↓ does
                    box.scroll_to(y=y, animate=False)
                    await pilot.pause()
                    seen.append(_screen_lines(app, box)[-1])
                box.scroll_home(animate=False)
                await pilot.pause()
            # (compared without spaces: a long ARN may be broken after a '-' or '/')
            shown = "".join("".join(seen).split())
            assert "Fix:" + "".join(fix.split()) in shown, (size, seen)


@sync
async def test_standalone_diagnose_deploys_again_after_the_fix(sandbox_ctx, sandbox_url) -> None:
    """`wizard diagnose d-…` (DiagnoseApp, no Deploy screen behind it): after Fix… leaves
    nothing failing, Deploy again (d) deploys the same revision to the same group and the app
    ends with that deployment's outcome."""
    import asyncio

    from wizard.sandbox import scenarios
    from wizard.screens.deploy import DeployScreen
    from wizard.screens.diagnose import DiagnoseApp, FixPlanScreen

    world = scenarios.seed("role-no-s3-read", sandbox_url)
    app = DiagnoseApp(sandbox_ctx, deployment_id=world["deployment_id"])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await _diagnosed(pilot, screen)
        assert not screen.query_one("#diag-deploy").display  # nothing fixed yet
        await pilot.press("f")
        await pilot.pause()
        assert isinstance(app.screen, FixPlanScreen)
        await pilot.press("tab", "enter")
        await pilot.pause()
        await _diagnosed(pilot, screen)
        assert screen.query_one("#diag-deploy").display
        root = str(screen.query_one("#diag-root").content)
        assert "press d" in root and "wizard deploy" not in root, root
        shown = {b.binding.key for b in screen.active_bindings.values() if b.enabled}
        assert "d" in shown
        await pilot.press("d")
        await pilot.pause()
        deploy = app.screen
        assert isinstance(deploy, DeployScreen) and deploy.redeploy_of == world["deployment_id"]
        deadline = asyncio.get_running_loop().time() + 60
        while not deploy.finished:
            assert asyncio.get_running_loop().time() < deadline, "the redeploy did not end"
            await pilot.pause(0.1)
        assert deploy.status == "Succeeded", deploy.status
        assert deploy.handle.deployment_id != world["deployment_id"]
        title = str(deploy.query_one("#deploy-title").content)
        assert world["application"] in title and world["deployment_group"] in title
        stage = str(deploy.query_one("#deploy-stage").content)
        assert world["key"] in stage and world["deployment_id"] in stage  # the same revision
        await pilot.press("escape")
        await pilot.pause()
    assert app.redeployed == (deploy.handle.deployment_id, "Succeeded")
    assert app.return_code == 0
