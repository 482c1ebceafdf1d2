"""Real clients against the sandbox (issue 12 item 6): the AWS CLI's deploy flow, run as AWS's
tutorial runs it (`aws deploy push`, `create-deployment`, `wait deployment-successful`,
`get-deployment-target`, `stop-deployment`), against the session's sandbox over HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import clean_env
from wizard.sandbox import clock, scenarios
from wizard.sandbox.world import World

pytestmark = pytest.mark.e2e


def aws(url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The AWS CLI (the `awscli` test dependency) as a user runs it, in the environment
    `wizard sandbox` prints (AWS_ENDPOINT_URL reaches every service, S3 included)."""
    env = clean_env(
        AWS_ENDPOINT_URL=url,
        AWS_ACCESS_KEY_ID="sandbox",
        AWS_SECRET_ACCESS_KEY="sandbox",
        AWS_DEFAULT_REGION="us-east-1",
    )
    return subprocess.run(
        [sys.executable, "-m", "awscli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def app(sandbox_url: str, tmp_path: Path) -> dict[str, Any]:
    """Roles, two instances and a bucket (boto3), then the application and group (the CLI)."""
    w = World(sandbox_url)
    bucket = w.bucket()
    role = w.service_role()
    ids = w.launch(2, profile=w.instance_profile(bucket=bucket))
    ok(aws(sandbox_url, "deploy", "create-application", "--application-name", w.name))
    ok(
        aws(
            sandbox_url,
            "deploy",
            "create-deployment-group",
            "--application-name",
            w.name,
            "--deployment-group-name",
            "prod",
            "--service-role-arn",
            role,
            "--ec2-tag-filters",
            f"Key=Name,Value={w.name},Type=KEY_AND_VALUE",
        )
    )
    source = tmp_path / "app"
    for name, text in scenarios._files(w).items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if name.endswith(".sh"):
            path.chmod(0o755)
    return {"world": w, "bucket": bucket, "ids": ids, "source": source}


def push(url: str, app: dict[str, Any], key: str) -> str:
    """`aws deploy push`; the `--s3-location` value it tells the user to deploy with."""
    w = app["world"]
    out = ok(
        aws(
            url,
            "deploy",
            "push",
            "--application-name",
            w.name,
            "--s3-location",
            f"s3://{app['bucket']}/{key}",
            "--source",
            str(app["source"]),
        )
    )
    m = re.search(r"--s3-location (\S+)", out)
    assert m, out
    return m.group(1)


def create(url: str, app: dict[str, Any], location: str) -> str:
    out = ok(
        aws(
            url,
            "deploy",
            "create-deployment",
            "--application-name",
            app["world"].name,
            "--deployment-group-name",
            "prod",
            "--s3-location",
            location,
        )
    )
    return json.loads(out)["deploymentId"]


def test_the_tutorial_flow_with_the_aws_cli(sandbox_url: str, app: dict[str, Any]) -> None:
    w = app["world"]
    location = push(sandbox_url, app, "releases/app.zip")
    assert location.startswith(f"bucket={app['bucket']},key=releases/app.zip,bundleType=zip,eTag=")
    revisions = w.client("codedeploy").list_application_revisions(applicationName=w.name)
    assert revisions["revisions"][0]["s3Location"]["key"] == "releases/app.zip"
    deployment = create(sandbox_url, app, location)
    assert w.wait(deployment)["status"] == "Succeeded"
    ok(aws(sandbox_url, "deploy", "wait", "deployment-successful", "--deployment-id", deployment))
    target = json.loads(
        ok(
            aws(
                sandbox_url,
                "deploy",
                "get-deployment-target",
                "--deployment-id",
                deployment,
                "--target-id",
                app["ids"][0],
            )
        )
    )["deploymentTarget"]["instanceTarget"]
    assert target["status"] == "Succeeded"
    names = [e["lifecycleEventName"] for e in target["lifecycleEvents"]]
    assert names[0] == "ApplicationStop" and names[-1] == "ValidateService"


def test_a_failed_deployment_fails_the_waiter(sandbox_url: str, app: dict[str, Any]) -> None:
    (app["source"] / "scripts" / "start.sh").write_bytes(b"#!/bin/bash\r\necho starting\r\n")
    deployment = create(sandbox_url, app, push(sandbox_url, app, "releases/crlf.zip"))
    assert app["world"].wait(deployment)["status"] == "Failed"
    waited = aws(
        sandbox_url, "deploy", "wait", "deployment-successful", "--deployment-id", deployment
    )
    assert waited.returncode == 255
    assert "Waiter DeploymentSuccessful failed" in waited.stderr


def test_stop_deployment(sandbox_url: str, app: dict[str, Any], monkeypatch) -> None:
    location = push(sandbox_url, app, "releases/slow.zip")
    # the session's sandbox runs in this process: slow its clock so the deployment is running
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.05, event=30, slow_event=60))
    deployment = create(sandbox_url, app, location)
    stopped = json.loads(
        ok(aws(sandbox_url, "deploy", "stop-deployment", "--deployment-id", deployment))
    )
    assert stopped["status"] == "Succeeded"
    info = app["world"].client("codedeploy").get_deployment(deploymentId=deployment)
    assert info["deploymentInfo"]["status"] == "Stopped"
    assert info["deploymentInfo"]["errorInformation"]["code"] == "MANUAL_STOP"
