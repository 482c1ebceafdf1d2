"""`wizard plan / apply / destroy` in-process under moto: output, confirmation, exit codes."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.steps_support import moto_account
from wizard import cli


@pytest.fixture
def aws(aws_credentials):
    from wizard.sandbox import extensions

    extensions.install()  # the checks after apply need what moto lacks (SSM, deployment configs)
    yield from moto_account()


@pytest.fixture
def project_dir(tmp_path):
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        "application: shop\ninstances:\n  launch: 1\nci:\n  provider: travis\n"
    )
    return tmp_path


def wizard(*args: str) -> int:
    return cli.main(list(args))


def test_plan_json_is_one_document_and_changes_nothing(aws, project_dir, capsys):
    code = wizard("plan", "--json", "--project-dir", str(project_dir))
    out = capsys.readouterr().out
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["region"] == "us-east-1"
    assert {c["action"] for c in doc["changes"]} == {"create"}
    import boto3

    assert boto3.client("iam").list_roles()["Roles"] == []


def test_plan_text_shows_resolved_names_and_the_summary(aws, project_dir, capsys):
    assert wizard("plan", "--project-dir", str(project_dir)) == 0
    out = capsys.readouterr().out
    assert "instance role" in out and "shop-codedeploy-ec2" in out
    assert "s3://shop-codedeploy-123456789012-us-east-1/releases/" in out
    assert "Summary: 8 to create, 0 unchanged" in out


def test_plan_marks_a_setup_that_cannot_deploy_as_a_problem(aws, tmp_path, capsys):
    """Adopting tagged instances when none carries the tag: apply works, deploying would not."""
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: shop\n")
    assert wizard("plan", "--project-dir", str(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "problem: the deployment group will have no targets" in out
    assert "NO_INSTANCES" in out and "set instances.launch to launch 1" in out
    assert "1 problem(s): nothing could deploy" in out
    assert "the first deployment would fail" in out
    assert wizard("plan", "--json", "--project-dir", str(tmp_path)) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in doc["changes"] if c.get("problem")] == [
        "codedeploy-wizard:application=shop"
    ]


def test_apply_without_yes_and_without_a_terminal_exits_2(aws, project_dir, capsys):
    assert wizard("apply", "--project-dir", str(project_dir)) == 2
    err = capsys.readouterr().err
    assert "pass --yes" in err
    import boto3

    assert boto3.client("iam").list_roles()["Roles"] == []


def test_apply_yes_then_again_and_the_key_is_printed_once_never_saved(aws, project_dir, capsys):
    args = ("apply", "--yes", "--create-access-key", "--print-secret", "--no-wait")
    assert wizard(*args, "--project-dir", str(project_dir)) == 0
    out = capsys.readouterr().out
    assert "[✓] create iam:role shop-codedeploy-ec2" in out
    assert "[✓] create ec2:instance" in out
    lines = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("travis env set")]
    assert len(lines) == 2 and all("--private" in ln for ln in lines)
    (secret,) = [
        ln.split()[1] for ln in out.splitlines() if ln.strip().startswith("AWS_SECRET_ACCESS_KEY")
    ]
    assert secret not in "\n".join(lines)  # never on a command line (shell history)
    for f in project_dir.rglob("*"):
        if f.is_file():
            assert secret not in f.read_text(errors="replace")
    assert "Next steps:" in out

    assert wizard("apply", "--yes", "--project-dir", str(project_dir)) == 0
    out = capsys.readouterr().out
    assert "Nothing to do: everything is set up." in out
    assert "[✓] create" not in out and "travis env set" not in out


def test_access_denied_is_one_line_with_what_was_done_and_exit_1(
    aws, project_dir, capsys, monkeypatch
):
    from wizard.steps import bucket

    def denied(sc, change):
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDenied",
                    "Message": "User: arn:aws:iam::123456789012:user/moto is not authorized "
                    "to perform: s3:CreateBucket on resource: arn:aws:s3:::x",
                }
            },
            "CreateBucket",
        )

    monkeypatch.setattr(bucket, "apply", denied)
    assert wizard("apply", "--yes", "--project-dir", str(project_dir)) == 1
    captured = capsys.readouterr()
    err_lines = [ln for ln in captured.err.splitlines() if ln.startswith("error:")]
    assert len(err_lines) == 1
    assert (
        "s3:CreateBucket" in err_lines[0] and "arn:aws:sts::123456789012:user/moto" in err_lines[0]
    )
    assert "Already done before it stopped:" in captured.err
    assert "create iam:role shop-codedeploy-service" in captured.err
    assert "Traceback" not in captured.err


def test_a_bad_project_file_exits_2_naming_the_key(aws, tmp_path, capsys):
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        "application: shop\ninstances:\n  launch: -3\n"
    )
    assert wizard("plan", "--project-dir", str(tmp_path)) == 2
    assert "instances.launch" in capsys.readouterr().err


def test_setup_yes_reads_the_config_file(aws, tmp_path, capsys):
    cfg = tmp_path / "elsewhere.yml"
    cfg.write_text("application: other\nci:\n  provider: none\n")
    code = wizard("setup", "--yes", "--config", str(cfg), "--project-dir", str(tmp_path))
    out, err = capsys.readouterr()
    assert "[✓] create codedeploy:application other" in out
    # applied, but no instance carries the tag: the checks after apply fail, and so does setup
    assert code == 1
    assert "1 check failed (group.instances-matched)" in err


def test_destroy_yes_removes_and_a_second_run_has_nothing_to_do(aws, project_dir, capsys):
    from moto.codedeploy.responses import CodeDeployResponse

    from wizard.sandbox import extensions

    extensions.install()
    if not hasattr(CodeDeployResponse, "delete_deployment_group"):
        pytest.skip("DeleteDeploymentGroup is not emulated yet (sandbox extension pending)")
    assert wizard("apply", "--yes", "--project-dir", str(project_dir)) == 0
    capsys.readouterr()
    assert wizard("destroy", "--project-dir", str(project_dir)) == 2  # no terminal, no --yes
    assert wizard("destroy", "--yes", "--project-dir", str(project_dir)) == 0
    out = capsys.readouterr().out
    assert "[✓] delete ec2:instance" in out and "[✓] delete s3:bucket" in out
    assert wizard("destroy", "--yes", "--project-dir", str(project_dir)) == 0
    assert "Nothing to remove" in capsys.readouterr().out


@pytest.mark.parametrize(("answer", "code"), [("n", 1), ("y", 0)])
def test_apply_asks_on_a_terminal(aws, project_dir, capsys, monkeypatch, answer, code):
    import boto3

    from wizard.commands import _context

    monkeypatch.setattr(_context, "is_tty", lambda: True)
    asked = []
    monkeypatch.setattr("builtins.input", lambda q: asked.append(q) or answer)
    assert wizard("apply", "--project-dir", str(project_dir)) == code
    assert asked and "Apply these 8 changes?" in asked[0]
    roles = boto3.client("iam").list_roles()["Roles"]
    assert bool(roles) is (answer == "y")
