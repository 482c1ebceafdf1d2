"""The TUI's fleet choices: an Auto Scaling group (new or existing) and a load balancer on the
Instances step, rollback on the Application step, traffic and rollbacks on the Deploy screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, RadioButton, Static

from tests.tui.helpers import current_step, next_step, settle, sync


def _choose(app, *ids: str) -> None:
    for radio in ids:
        app.screen.query_one(f"#{radio}", RadioButton).value = True


@sync
async def test_a_new_auto_scaling_group_behind_a_new_load_balancer(make_app, tmp_path: Path):
    from wizard.widgets.plan_table import PlanSummary

    app = make_app("tui-asg", at="instances")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        _choose(app, "mode-asg")
        await pilot.pause()
        shown = {
            row: app.screen.query_one(f"#{row}").display
            for row in (
                "tag-row",
                "launch-row",
                "asg-row",
                "type-row",
                "asg-name-row",
                "lb-create-row",
            )
        }
        assert shown == {
            "tag-row": False,
            "launch-row": False,
            "asg-row": True,
            "type-row": True,
            "asg-name-row": False,
            "lb-create-row": False,
        }
        app.screen.query_one("#asg-min", Input).value = "2"
        app.screen.query_one("#asg-desired", Input).value = "2"
        app.screen.query_one("#asg-max", Input).value = "6"
        _choose(app, "lb-create")
        await settle(pilot)
        assert app.screen.query_one("#lb-create-row").display
        app.screen.query_one("#lb-path", Input).value = "/health"
        await pilot.press("enter")  # not needed to save; replans with the answers as typed
        app.screen.query_one("#lb-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        summary = app.screen.query_one("#step-plan", PlanSummary)
        planned = {(c.resource, c.action) for c in summary.changes}
        assert ("autoscaling:group", "create") in planned
        assert ("elbv2:load-balancer", "create") in planned
        assert ("ec2:launch-template", "create") in planned
        status = str(app.screen.query_one("#instances-status", Static).render())
        assert "Apply creates the group tui-asg-asg and waits for 2 instances" in status
        await next_step(pilot)
        assert current_step(app) == "bucket"
    project = app.state.project
    asg = project.instances.auto_scaling
    assert (asg.min, asg.desired, asg.max, asg.name) == (2, 2, 6, None)
    assert project.load_balancer.create and project.load_balancer.health_check_path == "/health"
    text = (tmp_path / "tui-asg" / ".codedeploy-wizard.yml").read_text()
    assert "auto_scaling:" in text and "tag:" not in text and "create: true" in text


@sync
async def test_an_existing_group_and_target_group_by_name(make_app, tmp_path: Path):
    app = make_app("tui-asg-name", at="instances")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        _choose(app, "mode-asg-name", "lb-adopt")
        await pilot.pause()
        assert not app.screen.query_one("#type-row").display
        app.screen.query_one("#asg-name", Input).value = "their-asg"
        app.screen.query_one("#lb-target-group", Input).value = "their-tg"
        app.screen.query_one("#asg-name", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        note = str(app.screen.query_one("#step-plan-note", Static).render())
        assert "no Auto Scaling group their-asg" in note
        assert "no target group their-tg" in note
        status = str(app.screen.query_one("#instances-status", Static).render())
        assert "There is no Auto Scaling group their-asg" in status
        await next_step(pilot)
    project = app.state.project
    assert project.instances.auto_scaling.name == "their-asg"
    assert project.load_balancer.target_group == "their-tg"


@sync
async def test_a_bad_size_is_marked_on_its_field_and_nothing_moves_on(make_app):
    app = make_app("tui-asg-bad", at="instances")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        _choose(app, "mode-asg")
        await pilot.pause()
        app.screen.query_one("#asg-min", Input).value = "5"
        app.screen.query_one("#asg-max", Input).value = "2"
        await next_step(pilot)
        assert current_step(app) == "instances"
        assert app.screen.query_one("#asg-min", Input).parent.has_class("-invalid")
    assert app.state.project.instances.auto_scaling is None  # nothing saved


@sync
async def test_back_to_tags_drops_the_group(make_app, tmp_path: Path):
    directory = tmp_path / "tui-asg-back"
    directory.mkdir()
    (directory / ".codedeploy-wizard.yml").write_text(
        "application: tui-asg-back\ninstances:\n  auto_scaling: {min: 1, max: 2}\n"
        "load_balancer: {create: true}\n"
    )
    app = make_app("tui-asg-back", project_dir=directory, at="instances")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        assert app.screen.query_one("#mode-asg", RadioButton).value  # the file's choice
        assert app.screen.query_one("#lb-create", RadioButton).value
        _choose(app, "mode-tag", "lb-none")
        await next_step(pilot)
        assert current_step(app) == "bucket"
    assert app.state.project.instances.auto_scaling is None
    assert not app.state.project.load_balancer.enabled
    text = (directory / ".codedeploy-wizard.yml").read_text()
    assert "auto_scaling" not in text and "load_balancer" not in text


@sync
async def test_rollback_can_be_turned_off_on_the_application_step(make_app, tmp_path: Path):
    from textual.widgets import Select

    app = make_app("tui-rollback", at="application")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        select = app.screen.query_one("#rollback", Select)
        assert select.value is True  # the default
        select.value = False
        await next_step(pilot)
    assert app.state.project.rollback.on_failure is False
    assert "on_failure: false" in (tmp_path / "tui-rollback" / ".codedeploy-wizard.yml").read_text()


@pytest.mark.e2e
def test_the_deploy_screen_shows_each_instance_leave_and_rejoin_the_target_group(
    sandbox_ctx, tmp_path
):
    """An Auto Scaling fleet behind a load balancer, set up by the engine, deployed on screen."""
    import asyncio
    import time

    from textual.app import App
    from textual.widgets import DataTable

    from tests.e2e.test_fleet_setup_e2e import _project
    from wizard import config
    from wizard.screens.deploy import DeployScreen
    from wizard.steps import engine

    _project(tmp_path, "tui-fleet-deploy", desired=2)
    project = config.load(tmp_path)
    result = engine.apply_plan(sandbox_ctx, project, engine.build_plan(sandbox_ctx, project))
    assert result.ok, result.error
    screen = DeployScreen(sandbox_ctx, project, tmp_path)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async def scenario() -> None:
        async with Host().run_test(size=(140, 45)) as pilot:
            deadline = time.monotonic() + 60
            while not screen.finished:
                assert time.monotonic() < deadline, "the deployment did not finish"
                await pilot.pause(0.1)
            assert screen.status == "Succeeded"
            table = screen.query_one("#deploy-targets", DataTable)
            assert [str(c.label) for c in table.columns.values()][:3] == [
                "Instance",
                "Status",
                "Traffic",
            ]
            assert table.row_count == 2
            for key in table.rows:
                assert table.get_row(key)[2] == "in service"
            log = "".join(str(line.text) for line in screen.query_one("#deploy-log").lines)
            squeezed = "".join(log.split())  # the log wraps long lines anywhere
            assert "AllowTrafficSucceededhealthyintui-fleet-deploy-tg" in squeezed
            await pilot.press("escape")

    asyncio.run(scenario())
