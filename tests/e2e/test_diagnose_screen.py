"""The diagnose TUI screen on the sandbox, driven with App.run_test() and Pilot: rows fill in live,
the root cause is selected with its evidence and fix, the Fix button shows the plan in a modal and,
once confirmed, applies it and re-runs the affected checks."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.e2e


def run(coro):
    return asyncio.run(coro)


async def wait_for(pilot, predicate, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the screen")
        await pilot.pause(0.1)


def cell_text(table, row_key: str, column: str) -> str:
    return str(table.get_cell(row_key, column))


def test_screen_shows_root_cause_and_applies_the_fix(sandbox_ctx, sandbox_url):
    from textual.widgets import Button, DataTable, Static

    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseApp, DiagnoseScreen, FixPlanScreen

    world = scenarios.seed("role-no-s3-read", sandbox_url)
    app = DiagnoseApp(sandbox_ctx, deployment_id=world["deployment_id"])
    seen_live: list[int] = []

    async def scenario():
        async with app.run_test(size=(180, 50)) as pilot:
            screen = app.screen
            assert isinstance(screen, DiagnoseScreen)
            table = screen.query_one("#diag-checks", DataTable)
            assert table.row_count >= 13
            # still waiting, or its result is in (the checks run while the screen mounts)
            assert (
                "waiting" in cell_text(table, "hooks.failed", "result")
                or "hooks.failed" in screen.results
                or screen.report
            )
            await wait_for(
                pilot,
                lambda: (
                    (seen_live.append(len(screen.results)) or True) and screen.report is not None
                ),
            )
            assert "[✗]" in cell_text(table, "s3.bundle-readable", "mark")
            assert "may not s3:GetObject" in cell_text(table, "s3.bundle-readable", "result")
            root = str(screen.query_one("#diag-root", Static).content)
            assert root.startswith("Root cause:") and "s3.bundle-readable" in root.splitlines()[0]
            assert "2 of 2 instances" in root or "instances — DownloadBundle" in root
            commands = screen.query_one("#diag-commands").copy_text()  # whole, c copies them
            assert "put-role-policy" in commands
            assert "Evidence" in str(screen.query_one("#diag-detail-more", Static).content)
            fix = screen.query_one("#diag-fix", Button)
            assert not fix.disabled
            await pilot.pause()  # the layout settles after the report: click where it is now
            await pilot.click("#diag-fix")
            await wait_for(pilot, lambda: isinstance(app.screen, FixPlanScreen), timeout=10)
            plan = str(app.screen.query_one("#fix-plan", Static).content)
            assert "add inline policy codedeploy-wizard-revision-read" in plan
            await pilot.click("#apply")
            await wait_for(
                pilot,
                lambda: (
                    not screen.busy
                    and "fix(es) applied" in str(screen.query_one("#diag-status", Static).content)
                ),
            )
            assert "[✓]" in cell_text(table, "s3.bundle-readable", "mark") or "[!]" in cell_text(
                table, "s3.bundle-readable", "mark"
            )
            await pilot.press("escape")
            await pilot.pause()
        return app.report

    report = run(scenario())
    assert report is not None and "s3.bundle-readable" not in report.root_causes
    assert max(seen_live) >= 1


def test_cancelling_the_fix_changes_nothing(sandbox_ctx, sandbox_url):
    from textual.widgets import Static

    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseApp, FixPlanScreen

    world = scenarios.seed("service-role-untrusted", sandbox_url)
    app = DiagnoseApp(sandbox_ctx, deployment_id=world["deployment_id"])

    async def scenario():
        async with app.run_test(size=(160, 45)) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: screen.report is not None)
            root = str(screen.query_one("#diag-root", Static).content)
            assert root.startswith("Root cause:") and "iam.service-role" in root.splitlines()[0]
            await pilot.press("f")
            await wait_for(pilot, lambda: isinstance(app.screen, FixPlanScreen), timeout=10)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen is screen and not screen.busy

    run(scenario())
    role = world["service_role_arn"].rsplit("/", 1)[-1]
    trust = sandbox_ctx.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert "codedeploy.amazonaws.com" not in str(trust)


def test_unknown_deployment_shows_one_line_error(sandbox_ctx):
    from textual.widgets import Static

    from wizard.screens.diagnose import DiagnoseApp

    app = DiagnoseApp(sandbox_ctx, deployment_id="d-ZZZZZZZZZ")

    async def scenario():
        async with app.run_test(size=(120, 30)) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: screen.error is not None)
            assert "d-ZZZZZZZZZ does not exist" in str(
                screen.query_one("#diag-status", Static).content
            )

    run(scenario())


def test_the_wizard_app_opens_the_screen_for_the_project_group(sandbox_ctx, sandbox_url, tmp_path):
    from textual.widgets import Static

    from wizard.app import create_app
    from wizard.sandbox import scenarios
    from wizard.screens.diagnose import DiagnoseScreen

    world = scenarios.seed("object-missing", sandbox_url)
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        f"application: {world['application']}\nregion: us-east-1\n"
    )
    app = create_app(sandbox_ctx, tmp_path)

    async def scenario():
        async with app.run_test(size=(160, 45)) as pilot:
            app.action_open_diagnose()
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, DiagnoseScreen)
            await wait_for(pilot, lambda: screen.report is not None or screen.error is not None)
            assert screen.error is None, screen.error
            assert screen.report.deployment["id"] == world["deployment_id"]
            root = str(screen.query_one("#diag-root", Static).content)
            # "Root cause: Revision in S3 (s3.bundle-exists) — s3://… does not exist"
            assert root.startswith("Root cause: ")
            assert "(s3.bundle-exists)" in root.splitlines()[0]
            await pilot.press("escape")
            await pilot.pause()
            assert not isinstance(app.screen, DiagnoseScreen)

    run(scenario())
