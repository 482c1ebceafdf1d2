"""Fault tests of `wizard apply` as a user meets them: real subprocesses against the sandbox server
(through a proxy that can hold a chosen call), the account checked with boto3 afterwards.

- two applies at once on one project: the second stops at once with one line, changes nothing;
- two applies at once on two machines (two folders, one application): each instance launched
  once, because both ask RunInstances for the same slots with the same ClientToken;
- Ctrl-C while RunInstances is in flight: the "already done … run apply again" summary, exit 130,
  and the next apply finishes without a second instance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from tests.e2e.faultproxy import FaultProxy, action_is

pytestmark = pytest.mark.e2e
REGION = "us-east-1"


def _client(url: str, service: str):
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="sandbox",
        aws_secret_access_key="sandbox",
    )


def _live(url: str, app: str) -> list[dict]:
    resp = _client(url, "ec2").describe_instances(
        Filters=[
            {"Name": "tag:codedeploy-wizard:application", "Values": [app]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )
    return [i for r in resp["Reservations"] for i in r["Instances"]]


def _project(path: Path, app: str, launch: int) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / ".codedeploy-wizard.yml").write_text(
        f"application: {app}\ninstances:\n  launch: {launch}\nci:\n  provider: none\n"
    )
    return path


def _apply(env: dict, project: Path, endpoint: str, *extra: str) -> subprocess.Popen:
    from tests.conftest import popen_interruptible

    return popen_interruptible(
        [sys.executable, "-m", "wizard", "apply", "--yes", "--endpoint-url", endpoint, *extra],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _done(proc: subprocess.Popen, timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def test_a_second_apply_on_the_same_project_stops_at_once_and_changes_nothing(
    sandbox_url, sandbox_env, tmp_path
):
    app = f"lk{uuid.uuid4().hex[:8]}"
    project = _project(tmp_path / "p", app, launch=1)
    with FaultProxy(sandbox_url) as proxy:
        gate = proxy.gate(action_is("RunInstances"))
        first = _apply(sandbox_env, project, proxy.url)
        try:
            assert gate.wait_for(1), "the first apply never reached RunInstances"
            seen = proxy.requests
            second = _apply(sandbox_env, project, proxy.url)
            code, out, err = _done(second, timeout=60)
            assert code == 1, out + err
            lines = err.strip().splitlines()
            assert len(lines) == 1 and "another wizard apply, setup or destroy is running" in err
            assert str(project) in err and "Traceback" not in err
            assert proxy.requests == seen  # it made no AWS call at all
        finally:
            gate.release()
        code, out, err = _done(first)
    assert code == 0, out + err
    assert len(_live(sandbox_url, app)) == 1


def test_two_machines_applying_at_once_launch_each_instance_once(
    sandbox_url, sandbox_env, tmp_path
):
    app = f"cc{uuid.uuid4().hex[:8]}"
    a = _project(tmp_path / "laptop", app, launch=2)
    b = _project(tmp_path / "ci-runner", app, launch=2)
    with FaultProxy(sandbox_url) as proxy:
        gate = proxy.gate(action_is("RunInstances"))
        procs = [_apply(sandbox_env, p, proxy.url, "--no-wait") for p in (a, b)]
        try:
            # both machines are launching (2 slots each) before EC2 answers either
            assert gate.wait_for(4), f"only {gate.arrived} RunInstances arrived"
        finally:
            gate.release()
        results = [_done(p) for p in procs]
    for code, out, err in results:
        assert code == 0, out + err
        assert "Traceback" not in err
    live = _live(sandbox_url, app)
    assert len(live) == 2, [i["InstanceId"] for i in live]
    slots = sorted(
        t["Value"] for i in live for t in i["Tags"] if t["Key"] == "codedeploy-wizard:slot"
    )
    assert slots == ["0", "1"]
    tokens = {i["ClientToken"] for i in live}
    assert len(tokens) == 2 and all(t.startswith("cdw-") for t in tokens)


def test_ctrl_c_during_the_launch_prints_the_summary_and_the_next_apply_finishes(
    sandbox_url, sandbox_env, tmp_path
):
    app = f"ci{uuid.uuid4().hex[:8]}"
    project = _project(tmp_path / "p", app, launch=1)
    with FaultProxy(sandbox_url) as proxy:
        gate = proxy.gate(action_is("RunInstances"))
        proc = _apply(sandbox_env, project, proxy.url)
        try:
            assert gate.wait_for(1)
            os.kill(proc.pid, signal.SIGINT)
            code, out, err = _done(proc, timeout=60)
        finally:
            gate.release()  # the call that was in flight reaches EC2 after all
    assert code == 130, out + err
    assert "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1
    assert "interrupted (Ctrl-C) during create ec2:instance" in errors[0]
    assert "Already done before it stopped:" in err
    assert f"create iam:role {app}-codedeploy-service" in err
    assert "Run `wizard apply` again to finish: it picks up where this stopped." in err
    # the launch that was in flight happened or not; either way the next apply ends with one
    code, out, err = _done(_apply(sandbox_env, project, sandbox_url))
    assert code == 0, out + err
    assert len(_live(sandbox_url, app)) == 1
