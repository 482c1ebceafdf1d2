"""`wizard diagnose` usage as a user meets it, without AWS: the catalogue, and bad input as one line
with exit 2 (never a traceback)."""

from __future__ import annotations

import json

from tests.conftest import clean_env

CREDS = {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "AWS_REGION": "us-east-1"}


def test_list_checks_plain_and_json(run_wizard):
    proc = run_wizard("diagnose", "--list-checks")
    assert proc.returncode == 0, proc.stderr
    ids = [line.split()[0] for line in proc.stdout.splitlines()]
    assert ids[:2] == ["deployment.status", "group.instances-matched"]
    assert "s3.bundle-readable" in ids and "hooks.failed" in ids
    assert "(after iam.instance-profile)" in proc.stdout
    proc = run_wizard("diagnose", "--list-checks", "--json")
    doc = json.loads(proc.stdout)
    by_id = {c["id"]: c for c in doc["checks"]}
    assert by_id["dest.writable"]["requires"] == ["bundle.appspec"]


def test_bad_input_is_one_line_and_exit_2(run_wizard, tmp_path):
    env = clean_env(**CREDS)
    cases = [
        (("diagnose", "--check", "nothing.*"), "no check matches 'nothing.*'"),
        (("diagnose", "not-an-id"), "is not a deployment id"),
        (("diagnose", "d-ABCDEFGH1", "--preflight"), "--preflight"),
        (("diagnose", "--fix", "--json", "d-ABCDEFGH1"), "add --yes"),
        (("diagnose", "--project-dir", str(tmp_path)), "which deployment?"),
        (("diagnose", "--scenario", "healthy"), "--scenario needs --sandbox"),
    ]
    for args, fragment in cases:
        proc = run_wizard(*args, env=env)
        assert proc.returncode == 2, (args, proc.stderr)
        assert fragment in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert proc.stdout == ""


def test_unreachable_endpoint_is_one_line_exit_2(run_wizard, tmp_path):
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: shop\nregion: us-east-1\n")
    env = clean_env(**CREDS, AWS_ENDPOINT_URL="http://127.0.0.1:9")  # nothing listens there
    proc = run_wizard("diagnose", "--json", "--project-dir", str(tmp_path), env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "cannot reach the AWS endpoint" in proc.stderr
    assert proc.stdout == ""


def test_a_group_never_applied_is_one_line_exit_2(run_wizard, sandbox_env, tmp_path):
    """No id, a project whose application (or group) is not in AWS: say so, no 'unexpected'."""
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: never-applied-dx\n")
    proc = run_wizard("diagnose", "--json", "--project-dir", str(tmp_path), env=sandbox_env)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "error: application 'never-applied-dx' does not exist in us-east-1 "
        "(run `wizard apply` to create it, or check --region)"
    ]
    assert proc.stdout == ""


def test_a_group_never_applied_in_this_commands_sandbox_says_it_starts_empty(run_wizard, tmp_path):
    """`wizard --sandbox diagnose` meets a new, empty emulator: not "run wizard apply"."""
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: gone-dx\n")
    proc = run_wizard("--sandbox", "diagnose", "--project-dir", str(tmp_path))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: application 'gone-dx' does not exist in this command's sandbox, which starts "
        "empty (try --scenario NAME, or keep one running with `wizard sandbox` in another "
        "terminal)"
    )


def test_a_group_that_does_not_exist_is_one_line_exit_2(run_wizard, sandbox_ctx, sandbox_env):
    sandbox_ctx.client("codedeploy").create_application(applicationName="dx-app-only")
    proc = run_wizard(
        "diagnose", "--application", "dx-app-only", "--deployment-group", "nosuch", env=sandbox_env
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        "error: deployment group 'nosuch' of 'dx-app-only' does not exist in us-east-1 "
        "(run `wizard apply` to create it, or check --region)"
    )
