"""Pilot-driven behaviour of the setup wizard against the sandbox (over HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Button, Input

from tests.tui.helpers import current_step, goto, next_step, notes, settle, sync

pytestmark = pytest.mark.e2e


@sync
async def test_identity_is_shown_first_with_sandbox_badge(make_app) -> None:
    app = make_app("tui-identity")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert current_step(app) == "credentials"
        who = str(app.screen.query_one("#whoami").render())
        assert "123456789012" in who and "SANDBOX" in who
        assert app.screen.query_one("#ctx-sandbox").display
        assert "123456789012" in str(app.screen.query_one("#ctx-account").render())
        # typing into a field never triggers the `q` (quit) binding
        app.screen.query_one("#application", Input).focus()
        await pilot.pause()
        shown = {k for k, b in app.screen.active_bindings.items() if b.binding.show}
        assert "ctrl+q" in shown  # yet the footer always shows a way out
        await pilot.press("end", "q")
        await pilot.pause()
        assert app.is_running
        assert app.screen.query_one("#application", Input).value.endswith("q")


@sync
async def test_invalid_answer_is_shown_inline_and_blocks_next(make_app, tmp_path: Path) -> None:
    app = make_app("tui-invalid")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await goto(pilot, "roles")
        role = app.screen.query_one("#instance-role", Input)
        role.value = "bad name with spaces"
        await next_step(pilot)
        assert current_step(app) == "roles"
        error = app.screen.query_one("#pane-roles .field-error")
        assert error.display and "1-64 characters" in str(error.render())
        # the bad answer was not saved
        text = (tmp_path / "tui-invalid" / ".codedeploy-wizard.yml").read_text()
        assert "bad name" not in text
        role.value = "tui-invalid-ec2-role"
        await next_step(pilot)
        assert current_step(app) == "instances"


@sync
async def test_answers_are_saved_and_reopening_resumes(make_app, tmp_path: Path) -> None:
    app = make_app("tui-resume")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await goto(pilot, "roles")
        app.screen.query_one("#service-role", Input).value = "tui-resume-deployer"
        await goto(pilot, "bucket")
    saved = (tmp_path / "tui-resume" / ".codedeploy-wizard.yml").read_text()
    assert "service_role: tui-resume-deployer" in saved

    again = make_app("tui-resume")
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert current_step(again) == "bucket"
        assert again.state.project.roles.service_role == "tui-resume-deployer"
        await pilot.press("ctrl+b", "ctrl+b")
        await settle(pilot)
        assert again.screen.query_one("#service-role", Input).value == "tui-resume-deployer"


@sync
async def test_failed_call_shows_reason_and_retry(tmp_path: Path) -> None:
    from wizard.app import create_app
    from wizard.aws import AwsContext
    from wizard.widgets.dialogs import ErrorScreen

    ctx = AwsContext(
        region="us-east-1",
        endpoint_url="http://127.0.0.1:9",  # nothing listens on the discard port
        access_key="sandbox",
        secret_key="sandbox",
        max_attempts=1,
    )
    (tmp_path / "p").mkdir()
    app = create_app(ctx, tmp_path / "p")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        reason = str(app.screen.query_one("#error-reason").render())
        assert "cannot reach the AWS endpoint" in reason
        await pilot.press("r")  # Retry: the same call again, and the same clear failure
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert current_step(app) == "credentials"
        assert app.screen.query_one("#next", Button).disabled  # no identity, no way on


def _exit_message(app) -> str:
    return app.quit_message  # what the terminal is told once the app has closed


@sync
async def test_quit_asks_mid_apply_and_with_unsaved_answers(make_app, tmp_path: Path) -> None:
    """^q quits at once when nothing would be lost, asks otherwise, and says where the answers
    were saved."""
    from wizard.widgets.dialogs import ConfirmScreen

    app = make_app("tui-quit")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.state.applying = True
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "Apply is still running" in str(app.screen.query_one(".dialog-text").render())
        await pilot.press("escape")  # keep going
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("ctrl+c")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_code == 1

    # nothing typed, nothing saved yet: quit at once, and say so
    app = make_app("tui-quit2")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 0
    assert "Nothing saved yet" in _exit_message(app)

    # an answer edited on this step and not saved: ask, naming where the saved ones are
    app = make_app("tui-quit3", at="roles")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#instance-role", Input).value = "tui-quit3-edited"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        text = str(app.screen.query_one(".dialog-text").render())
        assert "not saved yet" in text and "Earlier answers are in ~/tui-quit3/" in text
        await pilot.press("ctrl+q")  # ^q again on the question is a yes
        await pilot.pause()
    assert app.return_code == 0
    assert _exit_message(app) == (
        "Your changes on the Roles step are not saved. "
        "Earlier answers are in ~/tui-quit3/.codedeploy-wizard.yml"
    )
    assert "tui-quit3-edited" not in (tmp_path / "tui-quit3" / ".codedeploy-wizard.yml").read_text()


@sync
async def test_the_first_screen_shows_the_folder_and_a_new_one_is_created(
    sandbox_ctx, tmp_path: Path
) -> None:
    """`wizard --project-dir demo` where demo does not exist yet: said, then created on Next."""
    from wizard.app import create_app

    folder = tmp_path / "demo"
    app = create_app(sandbox_ctx, folder)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        where = str(app.screen.query_one("#project-folder").render())
        assert "~/demo" in where and "a new folder" in where
        assert "appspec.yml" in where
        assert not folder.exists()  # nothing written before the user moves on
        await next_step(pilot)
        assert current_step(app) == "roles"
    assert "application: demo" in (folder / ".codedeploy-wizard.yml").read_text()


@sync
async def test_choices_read_the_same_without_colour(make_app, monkeypatch) -> None:
    """NO_COLOR: a chosen and an unchosen radio button / checkbox differ in their characters."""
    from textual.widgets import RadioButton

    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app("tui-mono", at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        buttons = list(app.screen.query(RadioButton))
        marks = {b.id: b._button.plain for b in buttons}
        # launching was chosen (nothing carries the tag); no load balancer
        chosen = {"mode-launch", "lb-none"}
        assert marks == {b: "▐●▌" if b in chosen else "▐ ▌" for b in marks}
        assert {"mode-tag", "mode-asg", "mode-asg-name", "lb-create", "lb-adopt"} <= set(marks)
        await goto(pilot, "files")
        hooks = app.screen.query_one("#hooks")
        lines = {
            "".join(seg.text for seg in hooks.render_line(y)).strip()[:3]
            + ("+" if hooks.get_option_at_index(y).value in hooks.selected else "-")
            for y in range(hooks.option_count)
        }
        assert "▐X▌+" in lines and "▐ ▌-" in lines and not ({"▐X▌-", "▐ ▌+"} & lines)
    app = make_app("tui-mono-roles", at="roles")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        box = app.screen.query_one("#ssm")
        assert box._button.plain == "▐X▌"
        box.value = False
        assert box._button.plain == "▐ ▌"


@sync
async def test_theme_toggle_and_palette_reach_steps(make_app) -> None:
    app = make_app("tui-palette")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dark = app.theme
        await pilot.press("ctrl+t")
        assert app.theme != dark and "light" in app.theme
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Revision bucket")
        await settle(pilot, rounds=2)
        await pilot.press("enter")
        await settle(pilot)
        assert current_step(app) == "bucket"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Diagnose")
        await settle(pilot, rounds=2)
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "DiagnoseScreen"


@sync
async def test_step_list_jumps_back_but_not_ahead(make_app) -> None:
    from wizard.widgets.step_list import StepList

    app = make_app("tui-jump")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await goto(pilot, "instances")
        steps = app.screen.query_one(StepList)
        steps.focus()
        steps.highlighted = 6  # review: not reached yet
        await pilot.press("enter")
        await settle(pilot)
        assert current_step(app) == "instances"
        assert any("first" in n for n in notes(app))
        steps.highlighted = 0
        await pilot.press("enter")
        await settle(pilot)
        assert current_step(app) == "credentials"


@sync
async def test_walk_whole_wizard_to_finished_apply(make_app, sandbox_ctx, tmp_path: Path) -> None:
    """A first-timer presses Next through every step; the account then has the whole setup."""
    from tests.steps_support import add_managed_policies

    add_managed_policies()  # AWSCodeDeployRole & co., as in a real account
    ec2 = sandbox_ctx.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ec2.run_instances(
        ImageId=image,
        MinCount=2,
        MaxCount=2,
        InstanceType="t3.micro",
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": "codedeploy-wizard:application", "Value": "tui-walk"}],
            }
        ],
    )
    app = make_app("tui-walk")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        await goto(pilot, "instances")
        table = app.screen.query_one("#instances-table")
        assert table.row_count == 2
        await goto(pilot, "review")
        assert app.state.plan is not None and not app.state.plan.conflicts
        await goto(pilot, "apply")
        await pilot.click("#apply-start")
        await settle(pilot, rounds=8)
        reason = app.screen.query("#error-reason")
        assert app.state.applied, [str(r.render()) for r in reason]
        log = "\n".join(app.screen.query_one("#apply-log").lines)
        assert "✓" in log and "✗" not in log
        await goto(pilot, "done")
        assert "Deploy now" in str(app.screen.query_one("#open-deploy", Button).label)
        steps_text = " ".join(str(s.render()) for s in app.screen.query(".next-head, .next-text"))
        assert "This was the SANDBOX" in steps_text  # a first-timer learns nothing real exists
        # Travis needs a key for the CI user: created on request, shown once
        await pilot.click("#create-key")
        await pilot.pause()
        asked = str(app.screen.query_one(".dialog-text").render())
        assert "made up by the emulator and works nowhere else" in asked  # not "put it in Travis"
        await pilot.press("y")
        await settle(pilot)
        wizard_screen = next(s for s in app.screen_stack if type(s).__name__ == "WizardScreen")
        told = " ".join(str(s.render()) for s in wizard_screen.query(".next-text"))
        assert "was created and shown once" in told and "to create them" not in told
        values = app.screen.query_one("#notice-values").copy_text().splitlines()
        assert values[1].startswith("AWS_SECRET_ACCESS_KEY") and len(values[1].split()[1]) == 40
        secret = values[1].split()[1]
        block = app.screen.query_one("#notice-commands")
        commands = block.copy_text().splitlines()
        assert commands[1].startswith("travis env set AWS_SECRET_ACCESS_KEY")
        assert "--private" in commands[1] and secret not in block.copy_text()
        # one line per command on screen, never wrapped (too wide: it scrolls sideways)
        assert block.query_one("Static").size.height == len(commands) == 2
        assert "SANDBOX: this key is made up" in str(app.screen.query_one("#notice-after").render())

    iam = sandbox_ctx.client("iam")
    assert iam.get_role(RoleName="tui-walk-codedeploy-ec2")["Role"]
    assert iam.get_role(RoleName="tui-walk-codedeploy-service")["Role"]
    cd = sandbox_ctx.client("codedeploy")
    group = cd.get_deployment_group(
        applicationName="tui-walk", deploymentGroupName="tui-walk-group"
    )["deploymentGroupInfo"]
    assert group["serviceRoleArn"].endswith("role/tui-walk-codedeploy-service")
    s3 = sandbox_ctx.client("s3")
    s3.head_bucket(Bucket="tui-walk-codedeploy-123456789012-us-east-1")
    saved = (tmp_path / "tui-walk" / ".codedeploy-wizard.yml").read_text()
    assert "application: tui-walk" in saved
    assert "Secret" not in saved and "AKIA" not in saved
    keys = iam.list_access_keys(UserName="tui-walk-codedeploy-ci")["AccessKeyMetadata"]
    assert len(keys) == 1
    assert (tmp_path / "tui-walk" / "appspec.yml").is_file()
    # the embedded sandbox starts empty on each run: reopening resumes at the review, not Done
    from wizard.tui_support import load_progress

    progress = load_progress(tmp_path / "tui-walk")
    assert progress["step"] == "review" and "done" not in progress["done"]


def _profiles_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key, raising=False)
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile alpha]\nregion = us-east-1\naws_access_key_id = a\naws_secret_access_key = a\n"
        "[profile beta]\nregion = us-east-1\naws_access_key_id = b\naws_secret_access_key = b\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)


@sync
async def test_profile_picker_switches_context_in_a_worker(
    sandbox_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`wizard setup` hands the app a context factory; picking a profile builds a new context."""
    from textual.widgets import Select

    from wizard.app import create_app
    from wizard.aws import AwsContext

    _profiles_env(tmp_path, monkeypatch)
    (tmp_path / "p").mkdir()
    app = create_app(
        lambda: AwsContext(profile="alpha", endpoint_url=sandbox_url),
        tmp_path / "p",
        profile="alpha",
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state.identity and app.state.identity["account"] == "123456789012"
        assert app.state.ctx.profile == "alpha"
        picker = app.screen.query_one("#profile", Select)
        assert [str(o[0]) for o in picker._options if o[1] is not Select.NULL] == [
            "alpha",
            "beta",
        ]
        picker.value = "beta"
        await settle(pilot)
        assert app.state.ctx.profile == "beta" and app.state.identity is not None
        assert "profile beta" in str(app.screen.query_one("#ctx-profile").render())


@sync
async def test_missing_region_is_reported_then_picked(
    sandbox_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import Select

    from wizard.app import create_app
    from wizard.aws import AwsContext
    from wizard.widgets.dialogs import ErrorScreen

    _profiles_env(tmp_path, monkeypatch)
    (tmp_path / "aws-config").write_text(
        "[default]\naws_access_key_id = a\naws_secret_access_key = a\n"
    )
    (tmp_path / "p").mkdir()
    app = create_app(
        lambda: AwsContext(endpoint_url=sandbox_url), tmp_path / "p", endpoint_url=sandbox_url
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ErrorScreen)
        assert "no AWS region configured" in str(app.screen.query_one("#error-reason").render())
        await pilot.press("escape")
        await settle(pilot)
        assert "✗" in str(app.screen.query_one("#step-list").get_option("credentials").prompt)
        app.screen.query_one("#region", Select).value = "eu-west-1"
        await settle(pilot)
        assert app.state.identity is not None and app.state.ctx.region == "eu-west-1"
        await next_step(pilot)
        assert current_step(app) == "roles"
        assert app.state.project.region == "eu-west-1"


@sync
async def test_keyboard_alone_reaches_next_and_the_step_list(make_app) -> None:
    app = make_app("tui-keys")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen: set[str | None] = set()
        for _ in range(12):  # one full cycle of the focus chain
            await pilot.press("tab")
            seen.add(app.focused.id if app.focused is not None else None)
        assert {"step-list", "application", "region", "next"} <= seen, seen
        while app.focused is None or app.focused.id != "next":
            await pilot.press("tab")
        await pilot.press("enter")
        await settle(pilot)
        assert current_step(app) == "roles"


@sync
async def test_conflict_marks_review_and_blocks_apply(make_app, sandbox_ctx) -> None:
    """A role of the same name that the wizard did not create is never taken over."""
    import json

    sandbox_ctx.client("iam").create_role(
        RoleName="tui-conflict-codedeploy-service",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    app = make_app("tui-conflict", at="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert current_step(app) == "review"
        assert app.state.plan is not None and app.state.plan.conflicts
        assert "conflict" in str(app.screen.query_one("#plan-summary").render())
        assert app.screen.query_one("#next", Button).disabled
        mark = str(app.screen.query_one("#step-list").get_option("review").prompt)
        assert "✗" in mark
        await next_step(pilot)
        assert current_step(app) == "review"


@sync
async def test_files_preview_shows_diff_against_existing_file(make_app, tmp_path: Path) -> None:
    from textual.widgets import OptionList, TabbedContent

    project = tmp_path / "tui-files"
    project.mkdir()
    (project / ".travis.yml").write_text("# ours\nlanguage: python\nscript: make test\n")
    app = make_app("tui-files", project_dir=project, at="files")
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        labels = [str(o.prompt) for o in app.screen.query_one("#file-list", OptionList)._options]
        travis = next(i for i, label in enumerate(labels) if ".travis.yml" in label)
        assert "changed" in labels[travis] and any("new" in label for label in labels)
        app.screen.query_one("#file-list", OptionList).highlighted = travis
        await pilot.pause()
        app.screen.query_one("#file-tabs", TabbedContent).active = "tab-diff"
        await pilot.pause()
        diff = app.screen.query_one("#file-diff").code
        assert diff.startswith("---") and "+deploy:" in diff.replace(" ", "")
        # nothing is written before Apply
        assert (project / ".travis.yml").read_text().startswith("# ours")
        assert not (project / "appspec.yml").exists()


@sync
async def test_launch_mode_saves_the_count(make_app, tmp_path: Path) -> None:
    app = make_app("tui-launch", at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # nothing carries the tag: launching is chosen, two in the sandbox, and editable
        assert app.screen.query_one("#launch-row").display
        assert app.screen.query_one("#launch", Input).value == "2"
        app.screen.query_one("#launch", Input).value = "3"
        await next_step(pilot)
        assert current_step(app) == "bucket"
    assert app.state.project.instances.launch == 3
    assert "launch: 3" in (tmp_path / "tui-launch" / ".codedeploy-wizard.yml").read_text()


@sync
async def test_no_tagged_instance_defaults_to_launching_and_adopting_is_a_problem(make_app) -> None:
    from textual.widgets import RadioButton, Static

    from wizard.widgets.plan_table import PlanSummary

    app = make_app("tui-launch-plan", at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        status = str(app.screen.query_one("#instances-status", Static).render())
        assert "No running instance carries the tag" in status and "launches 2" in status
        summary = app.screen.query_one("#step-plan", PlanSummary)
        assert [c.action for c in summary.changes] == ["create"]
        # the whole sentence is on screen, wrapped, even at 80 columns
        shown = " ".join(str(summary.render()).split())
        assert " ".join(summary.changes[0].description.split()) in shown
        assert "launch 2 t3.micro instances" in shown
        # the user can still adopt; the step then says nothing could deploy
        app.screen.query_one("#mode-tag", RadioButton).value = True
        await settle(pilot)
        note = str(app.screen.query_one("#step-plan-note", Static).render())
        assert "✗ the deployment group will have no targets" in note and "NO_INSTANCES" in note
        assert "nothing could deploy" in str(
            app.screen.query_one("#instances-status", Static).render()
        )
        assert current_step(app) == "instances"  # nothing moved on


@sync
async def test_review_marks_a_setup_that_cannot_deploy(make_app, tmp_path: Path) -> None:
    project = tmp_path / "tui-cannot-deploy"
    project.mkdir()
    (project / ".codedeploy-wizard.yml").write_text(
        "application: tui-cannot-deploy\nregion: us-east-1\ninstances:\n  launch: 0\n"
    )
    app = make_app("tui-cannot-deploy", project_dir=project, at="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.state.plan is not None and app.state.plan.problems
        summary = str(app.screen.query_one("#plan-summary").render())
        assert "1 problem(s)" in summary and "The first deployment would fail" in summary
        assert "✗" in str(app.screen.query_one("#step-list").get_option("review").prompt)
        hint = str(app.screen.query_one("#nav-hint").render())
        assert "the first deployment would fail" in hint
        # the problem's entry is the one highlighted, with the way out under it
        plan_list = app.screen.query_one("#plan-list")
        assert plan_list.changes[plan_list.highlighted].blocks_deploy


@sync
async def test_an_invalid_answer_stays_readable_in_its_box(make_app) -> None:
    app = make_app("tui-invalid-visible")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        box = app.screen.query_one("#application", Input)
        box.value = "my app!"
        await next_step(pilot)
        assert current_step(app) == "credentials"
        assert box.parent.has_class("-invalid")
        # the typed value is still on screen, so the user sees what to correct
        assert box.content_region.height >= 1
        assert "my app!" in "".join(s.text for s in box.render_line(0))
        # names derived from it (the group) are not blamed on "another step"
        assert not app.screen.query_one("#pane-credentials #pane-error").display


@sync
async def test_problems_use_the_themes_readable_colour_in_light_mode(make_app) -> None:
    from textual.widgets import RadioButton, Static

    app = make_app("tui-light-warning", at="instances")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+t")
        app.screen.query_one("#mode-tag", RadioButton).value = True
        await settle(pilot)
        assert app.theme == "textual-light"
        note = app.screen.query_one("#step-plan-note", Static)
        assert "no targets" in str(note.render())
        strip = note.render_line(0)
        colours = {seg.style.color.triplet.hex for seg in strip if seg.text.strip() and seg.style}
        wanted = app.get_css_variables()["text-error"].lower()
        assert colours == {wanted}  # the theme's dark red on the light background


@sync
async def test_plan_rows_are_recoloured_for_the_theme(make_app) -> None:
    from rich.console import Console

    from wizard.widgets.plan_table import PlanList

    app = make_app("tui-plan-colours", at="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        plan_list = app.screen.query_one("#plan-list", PlanList)
        assert plan_list.option_count

        def action_colour() -> str:
            prompt = plan_list.get_option_at_index(0).prompt
            console = Console(width=60, color_system="truecolor")
            seg = next(s for s in console.render(prompt) if s.text.strip() == "create")
            return seg.style.color.triplet.hex.lower()

        dark = app.get_css_variables()["text-success"].lower()
        assert action_colour() == dark
        await pilot.press("ctrl+t")
        await settle(pilot)
        light = app.get_css_variables()["text-success"].lower()
        assert light != dark and action_colour() == light  # readable on the light background


@sync
async def test_apply_waits_for_no_one_while_another_apply_holds_the_project(
    make_app, tmp_path: Path
) -> None:
    """Issue 14.7: the TUI's Apply takes the project lock too, so a `wizard apply` running in
    another terminal on the same folder and the TUI never apply at once."""
    import subprocess
    import sys

    app = make_app("tui-lock")
    folder = tmp_path / "tui-lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from wizard.projectlock import project_lock\n"
            f"with project_lock({str(folder)!r}, 'apply'):\n"
            "    print('held', flush=True); time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        async with app.run_test(size=(100, 40)) as pilot:
            await settle(pilot)
            await goto(pilot, "apply")
            await pilot.click("#apply-start")
            await settle(pilot, rounds=8)
            shown = " ".join(
                str(w.render()) for w in app.screen.query("#error-reason, #apply-status")
            )
            assert "another wizard apply, setup or destroy is running" in shown, shown
            assert not app.state.applied
            iam = app.state.ctx.client("iam")
            assert not [
                r for r in iam.list_roles()["Roles"] if r["RoleName"].startswith("tui-lock")
            ]
    finally:
        holder.kill()
        holder.wait()


def test_the_launcher_pauses_the_collector_only_until_the_app_ends(
    tmp_path: Path, monkeypatch
) -> None:
    """`wizard` starts the app with the cyclic GC paused (a faster first frame) and never leaves
    it paused, even when the app fails before its first frame."""
    import argparse
    import gc

    from wizard.app import WizardApp
    from wizard.commands import setup

    seen: list[bool] = []

    def run(self, *args, **kwargs):
        seen.append(gc.isenabled())
        raise RuntimeError("the app failed before its first frame")

    monkeypatch.setattr(WizardApp, "run", run)
    args = argparse.Namespace(
        yes=False, sandbox=True, project_dir=str(tmp_path / "p"), region=None, scenario=None
    )
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        setup.run(args)
    assert seen == [False]  # paused while the app starts
    assert gc.isenabled()  # and on again, whatever happened


@sync
async def test_the_app_resumes_the_collector_after_its_first_frame(make_app) -> None:
    import gc

    app = make_app("tui-gc")
    gc.disable()  # as the launcher leaves it
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.isenabled()
    finally:
        gc.enable()
