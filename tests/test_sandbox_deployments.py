"""Deployments behave like the service (issue 12 item 3), each rule from the CodeDeploy API
reference and User Guide: StopDeployment while Created, automatic rollback, the fields AWS
always returns, and CodeDeployDefault.OneAtATime's documented rule."""

from __future__ import annotations

from typing import Any

import pytest
from moto import mock_aws

from tests.test_sandbox_api import validate
from wizard.sandbox import clock, extensions, scenarios
from wizard.sandbox.world import World, zip_bundle

ROLLBACK = {"enabled": True, "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"]}


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=0.05))
    with mock_aws():
        extensions.install()
        yield World(None)


def broken(w: World) -> bytes:
    """A revision whose ApplicationStart script has CRLF line endings: it fails."""
    files: dict[str, str | bytes] = dict(scenarios._files(w))
    files["scripts/start.sh"] = b"#!/bin/bash\r\necho starting\r\n"
    return zip_bundle(files)


def upload(w: World, r: dict[str, Any], key: str, data: bytes) -> dict[str, Any]:
    etag = w.put_bundle(r["bucket"], key, data)
    location = {"bucket": r["bucket"], "key": key, "bundleType": "zip", "eTag": etag}
    return {"revisionType": "S3", "s3Location": location}


def deploy(w: World, r: dict[str, Any], revision: dict[str, Any], **kwargs: Any) -> str:
    return w.client("codedeploy").create_deployment(
        applicationName=r["application"],
        deploymentGroupName=r["deployment_group"],
        revision=revision,
        **kwargs,
    )["deploymentId"]


def info(w: World, deployment_id: str) -> dict[str, Any]:
    out = w.client("codedeploy").get_deployment(deploymentId=deployment_id)
    validate("codedeploy", "GetDeployment", out)
    return out["deploymentInfo"]


def with_rollback(w: World, config: dict[str, Any] = ROLLBACK) -> dict[str, Any]:
    r = scenarios.build(w, count=1)
    assert r["status"] == "Succeeded"
    w.client("codedeploy").update_deployment_group(
        applicationName=r["application"],
        currentDeploymentGroupName=r["deployment_group"],
        autoRollbackConfiguration=config,
    )
    return r


def test_stop_while_created_stops_before_any_target(w: World, monkeypatch) -> None:
    r = scenarios.build(w, count=2)
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=30, event=0.01, slow_event=0.05))
    again = w.deploy(r["deployment_group"], r["bucket"], r["key"])
    assert info(w, again)["status"] == "Created"
    w.client("codedeploy").stop_deployment(deploymentId=again)
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.0, event=0.01, slow_event=0.05))
    stopped = info(w, again)
    assert stopped["status"] == "Stopped"
    assert stopped["errorInformation"]["code"] == "MANUAL_STOP"
    assert "startTime" not in stopped
    assert stopped["deploymentOverview"]["Succeeded"] == 0
    assert w.targets(again) == []


def test_failed_deployment_rolls_back_to_the_last_success(w: World) -> None:
    r = with_rollback(w)
    good = info(w, r["deployment_id"])["revision"]
    bad = deploy(w, r, upload(w, r, "releases/bad.zip", broken(w)))
    failed = w.wait(bad)
    assert failed["status"] == "Failed"
    rollback_id = failed["rollbackInfo"]["rollbackDeploymentId"]
    rolled = w.wait(rollback_id)
    assert rolled["creator"] == "codeDeployRollback"
    assert rolled["status"] == "Succeeded"
    assert rolled["revision"] == good
    assert rolled["rollbackInfo"] == {
        "rollbackTriggeringDeploymentId": bad,
        "rollbackMessage": f"Deployment {rollback_id} is triggered to roll back deployment {bad}.",
    }
    group = w.client("codedeploy").get_deployment_group(
        applicationName=r["application"], deploymentGroupName=r["deployment_group"]
    )["deploymentGroupInfo"]
    assert group["lastSuccessfulDeployment"]["deploymentId"] == rollback_id
    assert group["targetRevision"] == good


def test_nothing_to_roll_back_to(w: World) -> None:
    r = scenarios.build(w, count=1, files=dict(scenarios._files(w)), upload=False)
    assert r["status"] == "Failed"  # no object: the group never had a success
    cd = w.client("codedeploy")
    cd.update_deployment_group(
        applicationName=r["application"],
        currentDeploymentGroupName=r["deployment_group"],
        autoRollbackConfiguration=ROLLBACK,
    )
    bad = deploy(w, r, upload(w, r, "releases/bad.zip", broken(w)))
    failed = w.wait(bad)
    assert failed["status"] == "Failed"
    assert "rollbackDeploymentId" not in failed["rollbackInfo"]
    assert "no successful deployment to roll back to" in failed["rollbackInfo"]["rollbackMessage"]
    listed = cd.list_deployments(
        applicationName=r["application"], deploymentGroupName=r["deployment_group"]
    )["deployments"]
    assert len(listed) == 2


def test_rollback_only_for_the_configured_events(w: World) -> None:
    r = with_rollback(w, {"enabled": True, "events": ["DEPLOYMENT_STOP_ON_ALARM"]})
    bad = deploy(w, r, upload(w, r, "releases/bad.zip", broken(w)))
    assert "rollbackInfo" not in w.wait(bad)
    # a deployment's own configuration overrides its group's (CreateDeployment)
    again = deploy(
        w, r, upload(w, r, "releases/bad2.zip", broken(w)), autoRollbackConfiguration=ROLLBACK
    )
    assert "rollbackDeploymentId" in w.wait(again)["rollbackInfo"]


def test_stop_with_auto_rollback_enabled(w: World, monkeypatch) -> None:
    r = scenarios.build(w, count=1)
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.01, event=2, slow_event=5))
    running = w.deploy(r["deployment_group"], r["bucket"], r["key"])
    cd = w.client("codedeploy")
    cd.stop_deployment(deploymentId=running, autoRollbackEnabled=True)
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.01, event=0.01, slow_event=0.05))
    stopped = w.wait(running)
    assert stopped["status"] == "Stopped"
    rolled = w.wait(stopped["rollbackInfo"]["rollbackDeploymentId"])
    assert rolled["creator"] == "codeDeployRollback" and rolled["status"] == "Succeeded"


def test_fields_aws_always_returns(w: World) -> None:
    r = scenarios.build(w, count=1)
    got = info(w, r["deployment_id"])
    assert got["deploymentStyle"] == {
        "deploymentType": "IN_PLACE",
        "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
    }
    assert got["autoRollbackConfiguration"] == {"enabled": False}
    assert got["ignoreApplicationStopFailures"] is False
    assert got["creator"] == "user"
    cd = w.client("codedeploy")
    revision = cd.get_application_revision(
        applicationName=r["application"], revision=got["revision"]
    )
    assert revision["revisionInfo"]["description"] == (
        f"Application revision registered by Deployment ID: {r['deployment_id']}"
    )
    group = cd.get_deployment_group(
        applicationName=r["application"], deploymentGroupName=r["deployment_group"]
    )
    validate("codedeploy", "GetDeploymentGroup", group)
    assert group["deploymentGroupInfo"]["deploymentStyle"]["deploymentType"] == "IN_PLACE"
    assert group["deploymentGroupInfo"]["autoRollbackConfiguration"] == {"enabled": False}


def one_at_a_time(w: World, count: int, failing: list[int]) -> tuple[dict[str, Any], list[str]]:
    """Deploy with OneAtATime to `count` instances; those at `failing` (in deploy order) fail."""
    bucket = w.bucket()
    profile = w.instance_profile(bucket=bucket)
    ids = sorted(w.launch(count, profile=profile))
    for index in failing:
        w.client("ec2").create_tags(
            Resources=[ids[index]],
            Tags=[{"Key": "sandbox:hook:ApplicationStart", "Value": "exit=1"}],
        )
    _, group = w.application(w.service_role(), config="CodeDeployDefault.OneAtATime")
    etag = w.put_bundle(bucket, "app.zip", zip_bundle(scenarios._files(w)))
    return w.wait(w.deploy(group, bucket, "app.zip", etag=etag)), ids


@pytest.mark.parametrize(
    ("count", "failing", "status"),
    [(3, [2], "Succeeded"), (3, [0], "Failed"), (1, [0], "Failed"), (2, [], "Succeeded")],
)
def test_one_at_a_time_rule(w: World, count: int, failing: list[int], status: str) -> None:
    """ "If deployment to the last instance fails, the overall deployment still succeeds ... For
    deployment groups that contain only one instance, the overall deployment succeeds only if
    deployment to the single instance succeeds" (User Guide, deployment configurations)."""
    got, ids = one_at_a_time(w, count, failing)
    assert got["status"] == status
    if failing == [0] and count > 1:
        statuses = {t["targetId"]: t["status"] for t in w.targets(got["deploymentId"])}
        assert statuses == {ids[0]: "Failed", ids[1]: "Skipped", ids[2]: "Skipped"}
