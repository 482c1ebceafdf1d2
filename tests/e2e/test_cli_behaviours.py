"""CLI behaviours a user meets, as subprocesses against the sandbox server (account checked with
boto3): the access key only on a terminal, `setup --yes` writing the files, what `deploy` leaves
out of the bundle, and `deploy --wait | head -c1` ending quietly."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest

from tests.e2e.test_deploy_e2e import build_world, deploy

pytestmark = pytest.mark.e2e
REGION = "us-east-1"


def _iam(url: str):
    return boto3.client(
        "iam",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def _travis_project(tmp_path: Path, app: str) -> Path:
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        f"application: {app}\ninstances:\n  launch: 1\nci:\n  provider: travis\n"
    )
    return tmp_path


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_the_access_key_goes_to_a_terminal_or_nowhere(
    run_wizard, sandbox_env, sandbox_url, tmp_path
):
    app = f"ky{uuid.uuid4().hex[:8]}"
    project = _travis_project(tmp_path, app)
    before = _files(project)
    args = ("apply", "--yes", "--no-wait", "--create-access-key", "--project-dir", str(project))

    # stdout is a pipe: refused before anything is created
    proc = run_wizard(*args, env=sandbox_env)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("error:") == 1 and "--print-secret" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    iam = _iam(sandbox_url)
    assert f"{app}-codedeploy-ec2" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert _files(project) == before

    # a terminal: printed there, once, with commands that read the secret from the terminal
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "wizard", *args],
            env=sandbox_env,
            stdout=slave,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=180)
    finally:
        os.close(master)
    screen = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, screen + proc.stderr.read()
    (key_id,) = [ln.split()[1] for ln in screen.splitlines() if "AWS_ACCESS_KEY_ID  " in ln]
    (secret,) = [ln.split()[1] for ln in screen.splitlines() if "AWS_SECRET_ACCESS_KEY  " in ln]
    commands = [ln.strip() for ln in screen.splitlines() if "travis env set" in ln]
    assert len(commands) == 2 and secret not in "\n".join(commands)
    assert 'travis env set AWS_SECRET_ACCESS_KEY "$(cat)" --private' in commands[1]
    keys = iam.list_access_keys(UserName=f"{app}-codedeploy-ci")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key_id]
    for f in project.rglob("*"):
        if f.is_file():
            assert secret not in f.read_text(errors="replace")

    # --print-secret: the user says a file is fine (a second key: the user had none stored)
    iam.delete_access_key(UserName=f"{app}-codedeploy-ci", AccessKeyId=key_id)
    proc = run_wizard(*args, "--print-secret", env=sandbox_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "AWS_SECRET_ACCESS_KEY  " in proc.stdout


def test_setup_yes_writes_the_files_as_the_tui_does_and_no_files_skips_them(
    run_wizard, sandbox_env, tmp_path
):
    app = f"sf{uuid.uuid4().hex[:8]}"
    project = _travis_project(tmp_path, app)
    base = ("setup", "--yes", "--no-wait", "--project-dir", str(project))
    proc = run_wizard(*base, "--no-files", env=sandbox_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _files(project) == {".codedeploy-wizard.yml"}
    assert "wizard files " in proc.stdout  # the next steps still say how to write them

    proc = run_wizard(*base, env=sandbox_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Nothing to do: everything is set up." in proc.stdout
    assert "created appspec.yml" in proc.stdout and "created .travis.yml" in proc.stdout
    assert {"appspec.yml", ".travis.yml", "scripts/application_start.sh"} <= _files(project)
    assert os.access(project / "scripts" / "application_start.sh", os.X_OK)
    assert "wizard files " not in proc.stdout.split("Next steps:")[1]


def test_deploy_leaves_secrets_out_lists_them_and_honours_codedeployignore(
    run_wizard, sandbox_env, sandbox_url, tmp_path
):
    world = build_world(sandbox_url, tmp_path)
    app = tmp_path / "app"
    secrets = {
        ".env": "DB_PASSWORD=hunter2\n",
        "config/.env.local": "TOKEN=x\n",
        "deploy.pem": "-----BEGIN PRIVATE KEY-----\n",
        "keys/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
        ".aws/credentials": "[default]\n",
        ".github/workflows/ci.yml": "on: push\n",
        ".gitignore": "*.log\n",
        "logs/today.log": "noise\n",
    }
    kept = {"lib/id_utils.py": "x = 1\n", ".env.example": "DB_PASSWORD=\n", "keep.log": "x\n"}
    for rel, text in {**secrets, **kept}.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text(text)
    (app / ".codedeployignore").write_text("# build noise\nlogs/\n*.log\n!keep.log\n")
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ln.startswith("left out of the bundle:")]
    for shown in (".env", ".aws/", ".github/", "deploy.pem", "keys/id_ed25519", "logs/"):
        assert shown in line, line
    s3 = world["client"]("s3")
    (obj,) = s3.list_objects_v2(Bucket=world["bucket"])["Contents"]
    body = s3.get_object(Bucket=world["bucket"], Key=obj["Key"])["Body"].read()
    names = set(zipfile.ZipFile(io.BytesIO(body)).namelist())
    assert set(kept) <= names and "appspec.yml" in names
    files = {n for n in names if not n.endswith("/")}  # folders emptied by the rules stay
    leaked = {n for n in files for s in secrets if n == s or n.startswith(s.split("/")[0] + "/")}
    assert not leaked and not {n for n in names if n.startswith((".aws/", ".github/", "logs/"))}


def test_a_bad_codedeployignore_is_one_line_and_nothing_is_uploaded(
    run_wizard, sandbox_env, sandbox_url, tmp_path
):
    world = build_world(sandbox_url, tmp_path)
    (tmp_path / "app" / ".codedeployignore").write_bytes(b"\xff\xfe logs/\n")
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait")
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and ".codedeployignore: not UTF-8" in errors[0]
    assert "Traceback" not in proc.stderr
    assert world["client"]("s3").list_objects_v2(Bucket=world["bucket"])["KeyCount"] == 0


def test_deploy_wait_into_head_ends_quietly(sandbox_env, sandbox_url, tmp_path):
    build_world(sandbox_url, tmp_path)
    wizard = f"{sys.executable} -m wizard deploy --wait --endpoint-url {sandbox_url}"
    proc = subprocess.run(
        ["bash", "-c", f'{wizard} | head -c1; echo "rc=${{PIPESTATUS[0]}}" >&2'],
        cwd=tmp_path,
        env=sandbox_env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.stdout == "d"  # "deployment d-…": one byte, then the reader is gone
    assert "rc=141" in proc.stderr
    for noise in ("Traceback", "BrokenPipe", "Exception ignored", "error:"):
        assert noise not in proc.stderr, proc.stderr


def test_apply_waits_for_the_agent_of_new_instances_then_the_checks_pass(run_wizard, tmp_path):
    """The sandbox's boot is slowed (agent up 2.5 s after launch): apply waits, through SSM and
    agent.running, instead of reporting the agent as missing; --no-wait says "not verified yet"."""
    from tests.conftest import clean_env

    env = clean_env(CODEDEPLOY_WIZARD_SANDBOX_EVENT_SECONDS="0.5")
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        "application: waiter\ninstances:\n  launch: 1\nci:\n  provider: none\n"
    )
    proc = run_wizard("--sandbox", "apply", "--yes", "--project-dir", str(tmp_path), env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "[…] waiting for the CodeDeploy agent on 1 new instance" in out
    assert "--no-wait skips this" in out
    assert "[✓] the CodeDeploy agent runs on 1 new instance" in out
    assert "[✓] CodeDeploy agent running: the agent is running" in out
    assert out.index("[✓] the CodeDeploy agent runs") < out.index("Preflight of waiter")


def test_setup_yes_launches_when_nothing_carries_the_tag_as_the_tui_does(
    run_wizard, sandbox_env, sandbox_url, tmp_path
):
    """Issue 11.2/11.7: the defaults end in a setup that can deploy. An explicit
    `instances.launch: 0` (adopt, the user tags their own) is left alone."""
    import boto3

    app = f"sl{uuid.uuid4().hex[:8]}"
    own = tmp_path / "own"
    own.mkdir()
    (own / ".codedeploy-wizard.yml").write_text(f"application: {app}x\ninstances:\n  launch: 0\n")
    proc = run_wizard("setup", "--yes", "--no-wait", "--no-files", "--project-dir", str(own),
                      env=sandbox_env)  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr  # NO_INSTANCES foretold, as asked
    assert "so setup launches" not in proc.stdout
    assert "launch: 0" in (own / ".codedeploy-wizard.yml").read_text()

    (tmp_path / ".codedeploy-wizard.yml").write_text(f"# mine\napplication: {app}\n")
    proc = run_wizard("setup", "--yes", "--no-wait", "--no-files", "--project-dir",
                      str(tmp_path), env=sandbox_env)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        f"No running instance carries the tag codedeploy-wizard:application={app}, so setup "
        "launches 2" in proc.stdout
    )
    text = (tmp_path / ".codedeploy-wizard.yml").read_text()
    assert text.startswith("# mine\n") and "launch: 2" in text
    ec2 = boto3.client(
        "ec2", endpoint_url=sandbox_url, region_name="us-east-1",
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox",
    )  # fmt: skip
    running = ec2.describe_instances(
        Filters=[
            {"Name": "tag:codedeploy-wizard:application", "Values": [app]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )["Reservations"]
    assert sum(len(r["Instances"]) for r in running) == 2
    # a second run plans nothing new: the project file now says launch 2
    proc = run_wizard("setup", "--yes", "--no-wait", "--no-files", "--project-dir",
                      str(tmp_path), env=sandbox_env)  # fmt: skip
    assert proc.returncode == 0 and "Nothing to do" in proc.stdout, proc.stdout
