"""`wizard deploy` end to end: the real CLI, over HTTP, against the sandbox's simulated fleet.

The world (roles, instance profile, bucket, instances, application, group) is built with plain
boto3 calls, as `wizard apply` would leave it, so these tests depend only on the emulator.
What a user would notice is asserted: the exit status, the lines printed, the files that land on
the instances (read back with SSM Run Command, as on AWS), the objects in the bucket.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

REGION = "us-east-1"
APPSPEC = """\
version: 0.0
os: linux
files:
  - source: /
    destination: {dest}
hooks:
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 60
"""


def _sandbox_ready() -> str | None:
    from moto.codedeploy.responses import CodeDeployResponse

    from wizard.sandbox import extensions

    extensions.install()
    for action in ("register_application_revision", "list_deployment_targets"):
        if not hasattr(CodeDeployResponse, action):
            return f"the sandbox cannot run deployments yet ({action} missing)"
    return None


@pytest.fixture
def needs_fleet() -> None:
    reason = _sandbox_ready()
    if reason:
        pytest.skip(reason)


def _clients(url: str) -> Any:
    import boto3

    session = boto3.Session(
        aws_access_key_id="sandbox", aws_secret_access_key="sandbox", region_name=REGION
    )
    return lambda service: session.client(service, endpoint_url=url)


def build_world(url: str, project_dir: Path, *, instances: int = 1, tags: dict | None = None):
    """A ready CodeDeploy setup in the sandbox and a project folder that deploys to it."""
    client = _clients(url)
    name = f"dep{uuid.uuid4().hex[:8]}"
    bucket = f"{name}-revisions"
    iam, s3, ec2, cd = client("iam"), client("s3"), client("ec2"), client("codedeploy")

    ec2_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=f"{name}-ec2", AssumeRolePolicyDocument=json.dumps(ec2_trust))
    iam.put_role_policy(
        RoleName=f"{name}-ec2",
        PolicyName="revisions",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    },
                    {
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": f"arn:aws:s3:::{bucket}",
                    },
                ],
            }
        ),
    )
    iam.create_instance_profile(InstanceProfileName=f"{name}-ec2")
    iam.add_role_to_instance_profile(InstanceProfileName=f"{name}-ec2", RoleName=f"{name}-ec2")
    cd_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codedeploy.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    service_role = iam.create_role(
        RoleName=f"{name}-svc", AssumeRolePolicyDocument=json.dumps(cd_trust)
    )["Role"]["Arn"]
    iam.attach_role_policy(
        RoleName=f"{name}-svc",
        PolicyArn="arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole",
    )
    s3.create_bucket(Bucket=bucket)

    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    all_tags = {"app": name, "sandbox:agent": "running", "sandbox:ssm": "online"} | (tags or {})
    resp = ec2.run_instances(
        ImageId=image,
        MinCount=instances,
        MaxCount=instances,
        InstanceType="t3.micro",
        IamInstanceProfile={"Name": f"{name}-ec2"},
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
            }
        ],
    )
    instance_ids = [i["InstanceId"] for i in resp["Instances"]]

    cd.create_application(applicationName=name, computePlatform="Server")
    cd.create_deployment_group(
        applicationName=name,
        deploymentGroupName=f"{name}-group",
        serviceRoleArn=service_role,
        deploymentConfigName="CodeDeployDefault.AllAtOnce",
        ec2TagFilters=[{"Key": "app", "Value": name, "Type": "KEY_AND_VALUE"}],
    )

    dest = f"/var/www/{name}"
    app = project_dir / "app"
    (app / "scripts").mkdir(parents=True)
    (app / "appspec.yml").write_text(APPSPEC.format(dest=dest))
    start = app / "scripts" / "start.sh"
    start.write_text("#!/bin/bash\nset -euo pipefail\necho started\n")
    start.chmod(0o755)
    (app / "index.html").write_text("<h1>hello</h1>\n")
    (project_dir / ".codedeploy-wizard.yml").write_text(
        f"application: {name}\n"
        f"deployment_group: {name}-group\n"
        f"bucket:\n  name: {bucket}\n"
        f"bundle:\n  source: app\n  destination: {dest}\n"
    )
    return {
        "name": name,
        "bucket": bucket,
        "dest": dest,
        "instance_ids": instance_ids,
        "client": client,
    }


def run_shell(client: Any, instance_id: str, line: str, timeout: float = 30) -> dict:
    """Run one line on an instance through SSM Run Command; the invocation when it ends."""
    ssm = client("ssm")
    cmd = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": [line]},
    )["Command"]["CommandId"]
    deadline = time.monotonic() + timeout
    while True:
        try:
            inv = ssm.get_command_invocation(CommandId=cmd, InstanceId=instance_id)
        except ssm.exceptions.InvocationDoesNotExist:
            inv = {"Status": "Pending"}
        if inv["Status"] not in ("Pending", "InProgress", "Delayed"):
            return inv
        assert time.monotonic() < deadline, f"{line!r} still {inv['Status']}"
        time.sleep(0.1)


def deploy(run_wizard, sandbox_env, sandbox_url, project_dir: Path, *args: str):
    return run_wizard(
        "deploy",
        "--endpoint-url",
        sandbox_url,
        "--project-dir",
        str(project_dir),
        *args,
        env=sandbox_env,
    )


def test_healthy_deploy_succeeds_and_the_instances_hold_the_files(
    needs_fleet, run_wizard, sandbox_env, sandbox_url, tmp_path
):
    world = build_world(sandbox_url, tmp_path, instances=2)
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    dep_id = out.split("deployment ", 1)[1].split()[0]
    assert dep_id.startswith("d-")
    assert "console    sandbox" in out
    for iid in world["instance_ids"]:
        assert f"{iid}  ApplicationStart  Succeeded" in out
        assert f"{iid}  instance          Succeeded" in out
    assert f"deployment {dep_id}  Succeeded" in out
    assert "Traceback" not in proc.stderr
    # stderr narrates the bundle and the upload
    assert f"s3://{world['bucket']}/releases/{world['name']}-" in proc.stderr

    for iid in world["instance_ids"]:
        inv = run_shell(world["client"], iid, f"ls -A {world['dest']}")
        assert inv["Status"] == "Success", inv
        assert set(inv["StandardOutputContent"].split()) >= {"appspec.yml", "index.html", "scripts"}

    cd = world["client"]("codedeploy")
    info = cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]
    assert info["status"] == "Succeeded"
    loc = info["revision"]["s3Location"]
    head = world["client"]("s3").head_object(Bucket=loc["bucket"], Key=loc["key"])
    assert head["ETag"].strip('"') == loc["eTag"]


def test_json_document_of_a_healthy_deploy_to_27_instances(
    needs_fleet, run_wizard, sandbox_env, sandbox_url, tmp_path
):
    # more instances than one BatchGetDeploymentTargets call may name (25)
    world = build_world(sandbox_url, tmp_path, instances=27)
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait", "--json")
    assert proc.returncode == 0, proc.stderr
    for iid in world["instance_ids"]:
        assert f"{iid}  instance          Succeeded" in proc.stderr
    doc = json.loads(proc.stdout)  # nothing but the document on stdout
    assert set(doc) == {
        "deployment_id",
        "status",
        "bundle",
        "diagnosis",
        "rollback",
        "failed_instances",
    }
    assert doc["failed_instances"] == []
    assert doc["rollback"] is None
    assert doc["status"] == "Succeeded" and doc["diagnosis"] is None
    assert doc["bundle"]["bucket"] == world["bucket"]
    head = world["client"]("s3").head_object(Bucket=world["bucket"], Key=doc["bundle"]["key"])
    assert head["ETag"].strip('"') == doc["bundle"]["etag"]
    assert "ApplicationStart" in proc.stderr  # the live lines went to stderr


def test_failing_hook_exits_1_with_the_log_tail_and_the_root_cause(
    needs_fleet, run_wizard, sandbox_env, sandbox_url, tmp_path
):
    world = build_world(
        sandbox_url, tmp_path, tags={"sandbox:hook:ApplicationStart": "exit=3;log=boom"}
    )
    iid = world["instance_ids"][0]
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"{iid}  ApplicationStart  Failed  ScriptFailed" in out
    assert "exit code 3" in out
    assert "| [stderr]boom" in out  # the hook's log tail, under its line
    assert f"{iid}  instance          Failed" in out
    assert "Failed" in out.split("deployment d-", 2)[-1]
    pytest.importorskip("checks.runner", reason="diagnose is not in this tree yet")
    assert "hooks.failed" in out
    assert "Traceback" not in proc.stderr

    # again, as CI would, for the JSON document (OVERWRITE: the files of the first try are there)
    proc = deploy(
        run_wizard,
        sandbox_env,
        sandbox_url,
        tmp_path,
        "--wait",
        "--json",
        "--file-exists-behavior",
        "OVERWRITE",
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["status"] == "Failed"
    info = world["client"]("codedeploy").get_deployment(deploymentId=doc["deployment_id"])
    assert info["deploymentInfo"]["fileExistsBehavior"] == "OVERWRITE"
    assert doc["diagnosis"]["root_causes"][0] == "hooks.failed"
    failed = next(r for r in doc["diagnosis"]["results"] if r["id"] == "hooks.failed")
    assert failed["status"] == "fail" and iid in failed["instances"]


def test_bundle_without_appspec_is_refused_before_upload(
    run_wizard, sandbox_env, sandbox_url, tmp_path
):
    world = build_world(sandbox_url, tmp_path)
    (tmp_path / "app" / "appspec.yml").unlink()
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait")
    assert proc.returncode == 1
    assert "no appspec.yml at the root" in proc.stderr
    assert proc.stderr.count("\n") <= 3 and "Traceback" not in proc.stderr
    s3 = world["client"]("s3")
    assert s3.list_objects_v2(Bucket=world["bucket"]).get("KeyCount", 0) == 0
    cd = world["client"]("codedeploy")
    group = f"{world['name']}-group"
    listed = cd.list_deployments(applicationName=world["name"], deploymentGroupName=group)
    assert listed["deployments"] == []


def test_without_wait_and_without_a_terminal_it_returns_once_created(
    needs_fleet, run_wizard, sandbox_env, sandbox_url, tmp_path
):
    build_world(sandbox_url, tmp_path)
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--description", "ci run 7")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("deployment d-")
    assert "ApplicationStart" not in proc.stdout  # not followed
    dep_id = proc.stdout.split()[1]
    assert f"wizard diagnose {dep_id}" in proc.stderr  # where to look later
    cd = _clients(sandbox_url)("codedeploy")
    assert cd.get_deployment(deploymentId=dep_id)["deploymentInfo"]["description"] == "ci run 7"


def test_deploy_screen_shows_a_live_row_per_instance_and_the_diagnosis(
    needs_fleet, sandbox_ctx, sandbox_url, tmp_path
):
    """The TUI face: the same deployment, one table row per instance, diagnosis under it."""
    import asyncio

    from textual.app import App
    from textual.widgets import DataTable, Static

    from wizard import config
    from wizard.screens.deploy import DeployScreen

    world = build_world(
        sandbox_url, tmp_path, instances=2, tags={"sandbox:hook:ApplicationStart": "exit=3"}
    )
    project = config.load(tmp_path)
    screen = DeployScreen(sandbox_ctx, project, tmp_path)

    class Host(App):
        def on_mount(self) -> None:
            self.push_screen(screen)

    async def scenario() -> None:
        async with Host().run_test(size=(140, 45)) as pilot:
            deadline = time.monotonic() + 60
            while not screen.diagnosed:
                if screen.finished and screen.status in ("Error", "Succeeded"):
                    break
                assert time.monotonic() < deadline, "the deployment did not finish"
                await pilot.pause(0.1)
            assert screen.status == "Failed"
            keys = {k: b.enabled for k, b in screen.active_bindings.items()}
            assert "s" not in keys and keys["d"]  # ended: nothing to stop, diagnose offered
            table = screen.query_one("#deploy-targets", DataTable)
            assert table.row_count == 2
            for iid in world["instance_ids"]:
                status, event, detail = table.get_row(iid)[1:]
                assert (str(status), event) == ("Failed", "ApplicationStart")
                assert detail == "ScriptFailed (scripts/start.sh)"  # the message is in the log
            log = "\n".join(str(line.text) for line in screen.query_one("#deploy-log").lines)
            failed = [ln for ln in log.splitlines() if "ApplicationStart" in ln]
            assert failed and all("Failed  ScriptFailed" in ln for ln in failed)
            assert "exit code 3" in log
            text = str(screen.query_one("#deploy-diagnosis", Static).content)
            try:
                import checks.runner  # noqa: F401
            except ImportError:
                assert "not available" in text
            else:
                assert screen.diagnosis["root_causes"][0] == "hooks.failed"
                assert "Fix:" in text and "Press d" in text
                result = str(screen.query_one("#deploy-result", Static).content)
                assert "hooks.failed" in result and "exit code 3" in result  # the cause in words
                await pilot.press("d")  # the interactive diagnose screen, on this deployment
                await pilot.pause()
                top = pilot.app.screen
                assert type(top).__name__ == "DiagnoseScreen"
                assert top.deployment_id == screen.handle.deployment_id
                await pilot.press("escape")
                await pilot.pause()
            assert pilot.app.screen is screen
            await pilot.press("escape")

    asyncio.run(scenario())


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch, sandbox_url: str):
    """A world whose deployments stay InProgress until the test is done with them.

    Its instance's ApplicationStart script hangs (`sandbox:hook:ApplicationStart: timeout`, the
    documented tag for a script that never returns), so the agent waits out the hook's timeout
    before it reports ScriptTimedOut. The sandbox plays that hour as `CLOCK.slow_event`; for this
    test it lasts ten wall minutes, so however loaded the machine, the deployment is still running
    when the test acts on it (a race on the compressed clock is what made these tests flaky).
    Teardown stops whatever is still running, so nothing hangs on in the session's sandbox.
    """
    import dataclasses

    from wizard.sandbox import clock

    monkeypatch.setattr(clock, "CLOCK", dataclasses.replace(clock.CLOCK, slow_event=600.0))
    worlds: list[dict] = []

    def make(project_dir: Path) -> dict:
        world = build_world(
            sandbox_url, project_dir, tags={"sandbox:hook:ApplicationStart": "timeout"}
        )
        worlds.append(world)
        return world

    yield make
    for world in worlds:
        cd = world["client"]("codedeploy")
        running = cd.list_deployments(
            applicationName=world["name"],
            deploymentGroupName=f"{world['name']}-group",
            includeOnlyStatuses=["Created", "Queued", "InProgress"],
        )["deployments"]
        for dep_id in running:
            cd.stop_deployment(deploymentId=dep_id)


def _start(sandbox_env: dict, sandbox_url: str, project_dir: Path, **popen: Any):
    import sys

    from tests.conftest import popen_interruptible

    return popen_interruptible(
        [sys.executable, "-m", "wizard", "deploy", "--wait", "--endpoint-url", sandbox_url],
        cwd=project_dir,
        env=sandbox_env,
        text=True,
        **popen,
    )


def _deployment_of(world: dict) -> dict:
    cd = world["client"]("codedeploy")
    ids = cd.list_deployments(
        applicationName=world["name"], deploymentGroupName=f"{world['name']}-group"
    )["deployments"]
    assert len(ids) == 1
    return cd.get_deployment(deploymentId=ids[0])["deploymentInfo"]


def test_ctrl_c_stops_following_but_not_the_deployment(
    needs_fleet, held, sandbox_env, sandbox_url, tmp_path
):
    import signal
    import subprocess

    world = held(tmp_path)
    proc = _start(
        sandbox_env, sandbox_url, tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        for line in proc.stdout:
            if "ApplicationStop" in line:  # following: the first lifecycle line is out
                break
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "stopped following" in err and "Traceback" not in err
    assert "Stop deployment" not in err  # no terminal: nothing is asked
    assert _deployment_of(world)["status"] == "InProgress"  # it goes on without us


def test_ctrl_c_on_a_terminal_offers_to_stop_the_deployment(
    needs_fleet, held, sandbox_env, sandbox_url, tmp_path
):
    import os
    import pty
    import signal

    world = held(tmp_path)
    master, slave = pty.openpty()
    proc = _start(sandbox_env, sandbox_url, tmp_path, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    seen = ""

    def read_until(text: str, timeout: float = 30) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while text not in seen:
            assert time.monotonic() < deadline, seen
            try:
                seen += os.read(master, 4096).decode(errors="replace")
            except OSError:
                break

    try:
        read_until("ApplicationStop")
        proc.send_signal(signal.SIGINT)
        read_until("[y/N]")
        os.write(master, b"y\n")
        assert proc.wait(timeout=30) == 130
        read_until("stop requested")
    finally:
        proc.kill()
        os.close(master)
    deadline = time.monotonic() + 30
    while (info := _deployment_of(world))["status"] not in ("Succeeded", "Failed", "Stopped"):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert info["status"] == "Stopped"


def test_sandbox_scenario_takes_the_users_bundle_without_a_project_file(
    needs_fleet, run_wizard, tmp_path
):
    """`wizard deploy --sandbox --scenario healthy`: the one-command demo on your own bundle."""
    from tests.conftest import clean_env

    (tmp_path / "scripts").mkdir()
    (tmp_path / "appspec.yml").write_text(APPSPEC.format(dest="/var/www/demo"))
    (tmp_path / "scripts" / "start.sh").write_text("#!/bin/bash\necho up\n")
    (tmp_path / "scripts" / "start.sh").chmod(0o755)
    proc = run_wizard(
        "deploy", "--sandbox", "--scenario", "healthy", "--wait", cwd=tmp_path, env=clean_env()
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "scenario healthy: deploying to application sbx-healthy" in proc.stderr
    assert "upload   s3://" in proc.stderr and "/releases/sbx-healthy-" in proc.stderr
    assert "deployment succeeded" in proc.stdout


def test_a_deployment_still_running_on_the_group_is_named_before_uploading(
    needs_fleet, held, run_wizard, sandbox_env, sandbox_url, tmp_path
):
    world = held(tmp_path)
    first = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path)  # returns once created
    assert first.returncode == 0, first.stderr
    running = first.stdout.split()[1]
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait")
    assert proc.returncode == 1
    assert f"deployment {running} is still running" in proc.stderr
    assert f"stop-deployment --deployment-id {running}" in proc.stderr
    listed = world["client"]("s3").list_objects_v2(Bucket=world["bucket"])
    assert listed["KeyCount"] == 1  # only the first deployment's revision was uploaded


def test_the_whole_journey_apply_files_deploy(needs_fleet, run_wizard, sandbox_env, tmp_path):
    """What a first-timer runs: set up, generate the appspec, deploy this folder."""
    name = f"jr{uuid.uuid4().hex[:8]}"
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        f"application: {name}\ninstances:\n  launch: 1\nci:\n  provider: none\n"
    )
    (tmp_path / "index.html").write_text("<h1>hello</h1>\n")
    for step in (("apply", "--yes"), ("files", "--yes")):
        proc = run_wizard(*step, "--project-dir", str(tmp_path), env=sandbox_env)
        assert proc.returncode == 0, (step, proc.stdout, proc.stderr)
    proc = run_wizard("deploy", "--wait", "--project-dir", str(tmp_path), env=sandbox_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ApplicationStart  Succeeded" in proc.stdout
    assert "deployment succeeded" in proc.stdout


def test_missing_application_on_a_running_sandbox_says_apply(run_wizard, sandbox_env, tmp_path):
    """A foreground sandbox keeps its state: the hint is `wizard apply`, not 'starts empty'."""
    (tmp_path / ".codedeploy-wizard.yml").write_text("application: never-applied\n")
    (tmp_path / "appspec.yml").write_text("version: 0.0\nos: linux\n")
    proc = run_wizard("deploy", "--wait", "--project-dir", str(tmp_path), env=sandbox_env)
    assert proc.returncode == 2  # configuration: the setup was never applied
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: application 'never-applied' does not exist in us-east-1")
    assert "wizard apply" in last and "starts empty" not in last
    assert "Traceback" not in proc.stderr


def test_success_with_a_failed_instance_names_it(
    needs_fleet, run_wizard, sandbox_env, sandbox_url, tmp_path
):
    """AllAtOnce succeeds when the revision reaches at least one instance (CodeDeploy User
    Guide, "Predefined deployment configurations"): with one of 3 failed, the closing line must
    not read as if every instance got the revision."""
    world = build_world(sandbox_url, tmp_path, instances=3)
    client = world["client"]
    bad = world["instance_ids"][1]
    client("ec2").create_tags(
        Resources=[bad], Tags=[{"Key": "sandbox:hook:ApplicationStart", "Value": "exit=4"}]
    )
    proc = deploy(run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait")
    assert proc.returncode == 0, proc.stdout + proc.stderr  # CodeDeploy says Succeeded
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("deployment succeeded, but 1 of 3 instances failed: ")
    assert f"{bad} at ApplicationStart (ScriptFailed)" in last
    assert "wizard diagnose d-" in last
    dep_id = last.rsplit("wizard diagnose ", 1)[1].strip()
    proc = run_wizard(
        "diagnose", dep_id, "--endpoint-url", sandbox_url, "--project-dir", str(tmp_path),
        env=sandbox_env,
    )  # fmt: skip
    assert "hooks.failed" in proc.stdout, proc.stdout + proc.stderr

    proc = deploy(
        run_wizard, sandbox_env, sandbox_url, tmp_path, "--wait", "--json",
        "--file-exists-behavior", "OVERWRITE",
    )  # fmt: skip
    doc = json.loads(proc.stdout)
    assert doc["status"] == "Succeeded"
    assert doc["failed_instances"] == [
        {"instance": bad, "lifecycle_event": "ApplicationStart", "error_code": "ScriptFailed"}
    ]
