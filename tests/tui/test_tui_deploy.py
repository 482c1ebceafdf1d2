"""The Deploy screen on a failed deployment, at 80x24 and 100x30, as a user reads it."""

from __future__ import annotations

import time

import pytest

from tests.tui.helpers import sync

pytestmark = pytest.mark.e2e


def screen_text(app) -> str:
    """What the terminal shows, line by line."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


@sync
async def test_failed_deployment_says_each_fact_once_and_keeps_the_log(
    sandbox_url, sandbox_ctx, tmp_path
) -> None:
    """A failed deployment of a group with automatic rollback and nothing to roll back to:
    the rollback is told once, in one sentence with one full stop, and the log keeps at least
    five readable lines at 80x24 (and more at 100x30)."""
    import boto3
    from textual.app import App
    from textual.widgets import RichLog

    from tests.e2e.test_deploy_e2e import build_world
    from wizard import config
    from wizard.screens.deploy import DeployScreen

    build_world(
        sandbox_url, tmp_path, instances=2, tags={"sandbox:hook:ApplicationStart": "exit=3"}
    )
    project = config.load(tmp_path)
    cd = boto3.client(
        "codedeploy",
        endpoint_url=sandbox_url,
        region_name="us-east-1",
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )
    cd.update_deployment_group(
        applicationName=project.application,
        currentDeploymentGroupName=project.deployment_group,
        autoRollbackConfiguration={"enabled": True, "events": ["DEPLOYMENT_FAILURE"]},
    )
    screen = DeployScreen(sandbox_ctx, project, tmp_path)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async with Host().run_test(size=(80, 24)) as pilot:
        deadline = time.monotonic() + 60
        while not screen.diagnosed:
            assert time.monotonic() < deadline, "the deployment did not finish"
            await pilot.pause(0.1)
        assert screen.status == "Failed"
        for size, min_log in (((80, 24), 5), ((100, 30), 8)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            shown = screen_text(pilot.app)
            words = " ".join(shown.split())  # wrapped lines read as one text
            assert ".." not in words, shown
            assert words.lower().count("roll back to") == 1, shown
            assert "not rolled back" not in words.lower(), shown  # CodeDeploy's message says it
            assert "Root cause (hooks.failed)" in words, shown
            # every line of a wrapped text is shown, its last one too (the revision, the fix)
            assert "revision   releases/" in shown and "then deploy again." in words, shown
            log = screen.query_one("#deploy-log", RichLog)
            assert log.scrollable_content_region.height >= min_log, (size, shown)
            # the lifecycle record is on screen, from its first line
            assert "Deployment Failed: the lifecycle of each instance" in shown
            # nothing below the log is cut off without a way to scroll to it
            more = screen.query_one("#deploy-more")
            if more.max_scroll_y:
                assert more.show_vertical_scrollbar
