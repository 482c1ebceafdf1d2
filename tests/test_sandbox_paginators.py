"""botocore's paginators and waiters against every API the sandbox extends (issue 12 item 6):
tokens round-trip across pages, and the waiters reach their success and failure states."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import WaiterError
from moto import mock_aws

from tests.test_sandbox_api import validate
from wizard.sandbox import clock, extensions, scenarios
from wizard.sandbox.world import World, zip_bundle


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.01, event=0.0, slow_event=0.0))
    with mock_aws():
        extensions.install()
        yield World(None)


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> tuple[int, list[Any]]:
    """(number of pages, every item) through botocore's paginator for `operation`."""
    count, items = 0, []
    for page in client.get_paginator(operation).paginate(**kwargs):
        count += 1
        items += page[key]
    return count, items


def test_codedeploy_paginators_cross_pages(w: World) -> None:
    cd = w.client("codedeploy")
    apps = [f"{w.name}-{i:03}" for i in range(101)]
    for app in apps:
        cd.create_application(applicationName=app)
    n, got = pages(cd, "list_applications", "applications")
    assert n == 2 and set(apps) <= set(got)
    for i in range(95):
        cd.create_deployment_config(
            deploymentConfigName=f"{w.name}-cfg-{i:03}",
            minimumHealthyHosts={"type": "HOST_COUNT", "value": 1},
        )
    n, got = pages(cd, "list_deployment_configs", "deploymentConfigsList")
    assert n == 2 and len(got) == len(set(got)) >= 95 + 16
    role = w.service_role()
    for i in range(101):
        cd.create_deployment_group(
            applicationName=apps[0], deploymentGroupName=f"g{i:03}", serviceRoleArn=role
        )
    n, got = pages(cd, "list_deployment_groups", "deploymentGroups", applicationName=apps[0])
    assert n == 2 and len(got) == 101
    for i in range(101):
        cd.register_application_revision(
            applicationName=apps[1],
            revision={
                "revisionType": "S3",
                "s3Location": {"bucket": "b", "key": f"r{i:03}.zip", "bundleType": "zip"},
            },
        )
    n, got = pages(cd, "list_application_revisions", "revisions", applicationName=apps[1])
    assert n == 2 and len(got) == 101


def test_deployment_targets_instances_and_deployments(w: World) -> None:
    r = scenarios.build(w, count=101, files=dict(scenarios._files(w, {})))
    assert r["status"] == "Succeeded"
    cd = w.client("codedeploy")
    did = r["deployment_id"]
    n, targets = pages(cd, "list_deployment_targets", "targetIds", deploymentId=did)
    assert n == 2 and sorted(targets) == sorted(r["instance_ids"])
    n, instances = pages(cd, "list_deployment_instances", "instancesList", deploymentId=did)
    assert n == 2 and sorted(instances) == sorted(r["instance_ids"])
    batch = cd.batch_get_deployment_targets(deploymentId=did, targetIds=targets[:25])
    validate("codedeploy", "BatchGetDeploymentTargets", batch)
    n, deployments = pages(
        cd,
        "list_deployments",
        "deployments",
        applicationName=r["application"],
        deploymentGroupName=r["deployment_group"],
    )
    assert (n, deployments) == (1, [did])


def test_deployment_successful_waiter(w: World) -> None:
    r = scenarios.build(w, count=1, wait=False)
    waiter = w.client("codedeploy").get_waiter("deployment_successful")
    waiter.wait(deploymentId=r["deployment_id"], WaiterConfig={"Delay": 1, "MaxAttempts": 20})
    files: dict[str, str | bytes] = dict(scenarios._files(w))
    files["scripts/start.sh"] = b"#!/bin/bash\r\necho starting\r\n"
    etag = w.put_bundle(r["bucket"], "bad.zip", zip_bundle(files))
    bad = w.deploy(r["deployment_group"], r["bucket"], "bad.zip", etag=etag)
    with pytest.raises(WaiterError, match="terminal failure state"):
        waiter.wait(deploymentId=bad, WaiterConfig={"Delay": 1, "MaxAttempts": 20})


def test_ssm_paginators(w: World) -> None:
    r = scenarios.build(w, count=3)
    ssm = w.client("ssm")
    n, infos = pages(ssm, "describe_instance_information", "InstanceInformationList", MaxResults=5)
    assert {i["InstanceId"] for i in infos} >= set(r["instance_ids"])
    command = ssm.send_command(
        InstanceIds=r["instance_ids"],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["true"]},
    )["Command"]["CommandId"]
    n, invocations = pages(
        ssm,
        "list_command_invocations",
        "CommandInvocations",
        CommandId=command,
        PaginationConfig={"PageSize": 2},
    )
    assert n == 2 and len(invocations) == 3
    n, commands = pages(ssm, "list_commands", "Commands", CommandId=command)
    assert n == 1 and commands[0]["CommandId"] == command
