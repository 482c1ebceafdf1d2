"""What the wizard says about a sandbox is true where it is read: the emulator a `--sandbox`
command starts ends with it (its "next steps" say how to keep one), a `wizard sandbox` server in
another terminal is named as such (CLI and the TUI's credentials step)."""

from __future__ import annotations

import argparse

from wizard.commands.apply import next_steps


def test_setup_yes_in_the_embedded_sandbox_gives_next_steps_that_work(run_wizard, tmp_path):
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: nx\nci:\n  provider: none\n")
    r = run_wizard("--sandbox", "setup", "--yes", "--no-wait", "--no-files", cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    steps = r.stdout[r.stdout.index("Next steps:") :]
    # not "wizard deploy --wait" as if the sandbox were still there: say it is gone, and how
    # to keep one (a `wizard sandbox` server in another terminal), with the exact commands
    assert "ended with it: what it set up is gone" in steps
    assert "run `wizard sandbox` in another terminal and paste its export lines here" in steps
    assert "\n    wizard setup --yes " in steps and "\n    wizard deploy --wait " in steps
    assert "--sandbox deploy --wait" not in steps


def test_next_steps_against_a_sandbox_that_stays_or_aws_are_the_commands_themselves():
    result = argparse.Namespace(outputs={})
    project = argparse.Namespace(ci=argparse.Namespace(provider="none"))
    lines = next_steps(project, result, files_written=True)
    assert lines[0].startswith("wizard deploy --wait  bundle this folder")
    assert not any("wizard sandbox" in line for line in lines)


def test_whoami_names_the_sandbox_server_or_the_embedded_emulator(
    run_wizard, sandbox_env, sandbox_url
):
    server = run_wizard("whoami", env=sandbox_env)
    assert server.returncode == 0, server.stderr
    assert f"sandbox   yes: the `wizard sandbox` server at {sandbox_url}, not AWS" in server.stdout
    own = run_wizard("--sandbox", "whoami")
    assert "sandbox   yes: the emulator this command started (gone when it ends)" in own.stdout


def test_the_credentials_step_names_a_sandbox_server_by_its_url(sandbox_ctx, sandbox_env):
    from wizard.aws import AwsContext
    from wizard.screens.steps.credentials import Pane
    from wizard.tui_support import PendingContext, WizardState

    # as a user's shell reaches `wizard sandbox`: its exports, nothing said about a sandbox
    server = AwsContext(
        region="us-east-1",
        endpoint_url=sandbox_env["AWS_ENDPOINT_URL"],
        access_key=sandbox_env["AWS_ACCESS_KEY_ID"],
        secret_key=sandbox_env["AWS_SECRET_ACCESS_KEY"],
    )
    doc = server.describe()
    assert doc["sandbox"] and not doc["embedded"]  # the session's server: like `wizard sandbox`
    words = Pane._endpoint_words(doc)
    assert f"the `wizard sandbox` server at {server.endpoint_url}" in words
    assert "embedded" not in words
    assert "embedded emulator on this machine" in Pane._endpoint_words({**doc, "embedded": True})
    assert Pane._endpoint_words({"sandbox": False, "endpoint": None}) == "AWS"
    # the resume point: only the embedded emulator forgets what was applied in it
    state = WizardState.__new__(WizardState)
    state.ctx = server
    assert not state.embedded_sandbox
    state.ctx = sandbox_ctx  # built as --sandbox builds its own
    assert state.embedded_sandbox
    state.ctx = PendingContext(lambda: sandbox_ctx, None, "us-east-1", sandbox=True)
    assert state.embedded_sandbox


def test_the_files_step_gives_ci_hints_only_where_a_push_can_deploy(tmp_path, capsys):
    """After `--sandbox setup --yes` the account the files name is gone: no "push to deploy",
    no "create the CI user's key"; against AWS the hint names every file to commit, the
    project file too (the TUI's Done says the same)."""
    from wizard import config
    from wizard.commands import files

    project = config.from_dict(
        {"application": "hints", "region": "us-east-1", "ci": {"provider": "travis"}}
    )
    for sandbox, folder in ((True, tmp_path / "sbx"), (False, tmp_path / "aws")):
        folder.mkdir()
        (folder / ".codedeploy-wizard.yml").write_text("application: hints\n")
        code = files.write_and_report(
            project,
            folder,
            account="123456789012",
            region="us-east-1",
            yes=True,
            sandbox_note=sandbox,
        )
        assert code == 0
        said = capsys.readouterr().err
        if sandbox:
            assert "push to" not in said and "--create-access-key" not in said, said
        else:
            assert (
                "Next: git add .codedeploy-wizard.yml .travis.yml appspec.yml scripts && git "
                "commit, then push to" in said
            ), said
            assert "`wizard apply --create-access-key` creates the CI user's key" in said
