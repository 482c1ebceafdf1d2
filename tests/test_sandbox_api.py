"""The APIs the sandbox adds to moto, under `moto.mock_aws` (in-process, fast): shapes that
validate against botocore's model, AWS's errors for bad input, pagination, Run Command."""

from __future__ import annotations

import time
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.e2e.sandbox_world import final_invocation
from wizard.sandbox import clock, extensions, scenarios
from wizard.sandbox.world import World, zip_bundle


@pytest.fixture
def w(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=0.05))
    with mock_aws():
        extensions.install()
        yield World(None)


def check_shape(shape: Any, value: Any, path: str = "") -> None:
    """Every key is a member of the model's shape and every value has the shape's type."""
    kind = shape.type_name
    if kind == "structure":
        assert isinstance(value, dict), path
        for key, item in value.items():
            if key == "ResponseMetadata" and not path:
                continue
            assert key in shape.members, f"{path}.{key} is not in {shape.name}"
            check_shape(shape.members[key], item, f"{path}.{key}")
    elif kind == "list":
        assert isinstance(value, list), path
        for i, item in enumerate(value):
            check_shape(shape.member, item, f"{path}[{i}]")
    elif kind == "map":
        assert isinstance(value, dict), path
        for k, item in value.items():
            check_shape(shape.value, item, f"{path}[{k}]")
    elif kind == "string":
        assert isinstance(value, str), path
    elif kind in ("integer", "long"):
        assert isinstance(value, int) and not isinstance(value, bool), path
    elif kind == "boolean":
        assert isinstance(value, bool), path
    elif kind == "timestamp":
        assert hasattr(value, "year"), path


def validate(service: str, operation: str, response: dict[str, Any]) -> None:
    model = botocore.session.get_session().get_service_model(service)
    check_shape(model.operation_model(operation).output_shape, response)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def test_targets_paginate_and_batch_limits_hold_at_size(w: World) -> None:
    r = scenarios.build(w, count=130)
    assert r["status"] == "Succeeded"
    cd = w.client("codedeploy")
    did = r["deployment_id"]
    first = cd.list_deployment_targets(deploymentId=did)
    assert len(first["targetIds"]) == 100 and "nextToken" in first
    validate("codedeploy", "ListDeploymentTargets", first)
    ids = [
        i
        for p in cd.get_paginator("list_deployment_targets").paginate(deploymentId=did)
        for i in p["targetIds"]
    ]
    assert sorted(ids) == sorted(r["instance_ids"]) and len(set(ids)) == 130
    batch = cd.batch_get_deployment_targets(deploymentId=did, targetIds=ids[:25])
    validate("codedeploy", "BatchGetDeploymentTargets", batch)
    assert len(batch["deploymentTargets"]) == 25
    with pytest.raises(ClientError) as exc:
        cd.batch_get_deployment_targets(deploymentId=did, targetIds=ids[:26])
    assert error_code(exc) == "DeploymentTargetListSizeExceededException"
    with pytest.raises(ClientError) as exc:
        cd.batch_get_deployment_targets(deploymentId=did, targetIds=["i-0000000000000000"])
    assert error_code(exc) == "DeploymentTargetDoesNotExistException"
    with pytest.raises(ClientError) as exc:
        cd.list_deployment_targets(deploymentId=did, nextToken="garbage")
    assert error_code(exc) == "InvalidNextTokenException"
    failed = cd.list_deployment_targets(
        deploymentId=did, targetFilters={"TargetStatus": ["Failed"]}
    )
    assert failed["targetIds"] == []
    one = cd.get_deployment_target(deploymentId=did, targetId=ids[0])
    validate("codedeploy", "GetDeploymentTarget", one)
    assert one["deploymentTarget"]["instanceTarget"]["targetArn"].endswith(f"instance/{ids[0]}")
    instances = [
        i
        for p in cd.get_paginator("list_deployment_instances").paginate(deploymentId=did)
        for i in p["instancesList"]
    ]
    assert len(instances) == 130
    summary = cd.batch_get_deployment_instances(deploymentId=did, instanceIds=instances[:100])
    validate("codedeploy", "BatchGetDeploymentInstances", summary)
    with pytest.raises(ClientError) as exc:
        cd.batch_get_deployment_instances(deploymentId=did, instanceIds=instances[:101])
    assert error_code(exc) == "BatchLimitExceededException"
    inst = cd.get_deployment_instance(deploymentId=did, instanceId=instances[0])
    assert inst["instanceSummary"]["status"] == "Succeeded"
    with pytest.raises(ClientError) as exc:
        cd.get_deployment(deploymentId="d-NOSUCHONE")
    assert error_code(exc) == "DeploymentDoesNotExistException"
    with pytest.raises(ClientError) as exc:
        cd.list_deployment_targets(deploymentId="not-an-id")
    assert error_code(exc) == "InvalidDeploymentIdException"
    validate("codedeploy", "GetDeployment", cd.get_deployment(deploymentId=did))


def test_deployment_configs(w: World) -> None:
    cd = w.client("codedeploy")
    names = [
        n
        for p in cd.get_paginator("list_deployment_configs").paginate()
        for n in p["deploymentConfigsList"]
    ]
    assert {
        "CodeDeployDefault.AllAtOnce",
        "CodeDeployDefault.HalfAtATime",
        "CodeDeployDefault.OneAtATime",
    } <= set(names)
    got = {
        n: cd.get_deployment_config(deploymentConfigName=n)["deploymentConfigInfo"][
            "minimumHealthyHosts"
        ]
        for n in (
            "CodeDeployDefault.AllAtOnce",
            "CodeDeployDefault.HalfAtATime",
            "CodeDeployDefault.OneAtATime",
        )
    }
    assert got["CodeDeployDefault.AllAtOnce"] == {"type": "FLEET_PERCENT", "value": 0}
    assert got["CodeDeployDefault.HalfAtATime"] == {"type": "FLEET_PERCENT", "value": 50}
    assert got["CodeDeployDefault.OneAtATime"] == {"type": "MOST_CONCURRENCY", "value": 1}
    with pytest.raises(ClientError) as exc:
        cd.get_deployment_config(deploymentConfigName="Nope")
    assert error_code(exc) == "DeploymentConfigDoesNotExistException"
    cd.create_deployment_config(
        deploymentConfigName="TwoHealthy", minimumHealthyHosts={"type": "HOST_COUNT", "value": 2}
    )
    info = cd.get_deployment_config(deploymentConfigName="TwoHealthy")["deploymentConfigInfo"]
    assert info["minimumHealthyHosts"] == {"type": "HOST_COUNT", "value": 2}
    with pytest.raises(ClientError) as exc:
        cd.create_deployment_config(
            deploymentConfigName="TwoHealthy",
            minimumHealthyHosts={"type": "HOST_COUNT", "value": 2},
        )
    assert error_code(exc) == "DeploymentConfigAlreadyExistsException"


def test_host_count_config_two_of_two_is_impossible_three_of_two_fails(w: World) -> None:
    cd = w.client("codedeploy")
    cd.create_deployment_config(
        deploymentConfigName="KeepTwo", minimumHealthyHosts={"type": "HOST_COUNT", "value": 2}
    )
    r = scenarios.build(w, count=2, config="KeepTwo")
    info = cd.get_deployment(deploymentId=r["deployment_id"])["deploymentInfo"]
    assert info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS_INVALID"


def test_one_at_a_time_stops_after_the_first_failure(w: World) -> None:
    tags = {"sandbox:hook:ApplicationStart": "exit=1"}
    r = scenarios.build(w, count=3, config="CodeDeployDefault.OneAtATime", tags=tags)
    info = w.client("codedeploy").get_deployment(deploymentId=r["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS"
    assert info["deploymentOverview"]["Failed"] == 1
    assert info["deploymentOverview"]["Skipped"] == 2


def test_revisions_group_updates_and_stop(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    r = scenarios.build(w, count=1)
    cd = w.client("codedeploy")
    revision = {
        "revisionType": "S3",
        "s3Location": {"bucket": r["bucket"], "key": r["key"], "bundleType": "zip"},
    }
    got = cd.get_application_revision(applicationName=r["application"], revision=revision)
    validate("codedeploy", "GetApplicationRevision", got)
    assert got["revisionInfo"]["deploymentGroups"] == [r["deployment_group"]]
    other = {
        "revisionType": "S3",
        "s3Location": {"bucket": r["bucket"], "key": "v2.zip", "bundleType": "zip"},
    }
    with pytest.raises(ClientError) as exc:
        cd.get_application_revision(applicationName=r["application"], revision=other)
    assert error_code(exc) == "RevisionDoesNotExistException"
    cd.register_application_revision(
        applicationName=r["application"], revision=other, description="v2"
    )
    listed = cd.list_application_revisions(applicationName=r["application"])["revisions"]
    assert len(listed) == 2
    cd.update_deployment_group(
        applicationName=r["application"],
        currentDeploymentGroupName=r["deployment_group"],
        newDeploymentGroupName=f"{w.name}-renamed",
        deploymentConfigName="CodeDeployDefault.HalfAtATime",
    )
    group = cd.get_deployment_group(
        applicationName=r["application"], deploymentGroupName=f"{w.name}-renamed"
    )
    validate("codedeploy", "GetDeploymentGroup", group)
    assert group["deploymentGroupInfo"]["deploymentConfigName"] == "CodeDeployDefault.HalfAtATime"
    assert (
        group["deploymentGroupInfo"]["lastSuccessfulDeployment"]["deploymentId"]
        == r["deployment_id"]
    )
    # an hour per event: the next deployment is still running when we stop it, however loaded
    # the machine (it is stopped, so the test does not wait for it)
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.02, event=3600, slow_event=3600))
    running = w.deploy(
        f"{w.name}-renamed", r["bucket"], r["key"], config="CodeDeployDefault.AllAtOnce"
    )
    time.sleep(0.05)
    with pytest.raises(ClientError) as exc:
        w.deploy(f"{w.name}-renamed", r["bucket"], r["key"])
    assert error_code(exc) == "DeploymentLimitExceededException"
    stop = cd.stop_deployment(deploymentId=running)
    validate("codedeploy", "StopDeployment", stop)
    assert cd.get_deployment(deploymentId=running)["deploymentInfo"]["status"] == "Stopped"
    with pytest.raises(ClientError) as exc:
        cd.stop_deployment(deploymentId=running)
    assert error_code(exc) == "DeploymentAlreadyCompletedException"


def test_instance_information_and_run_command(w: World) -> None:
    r = scenarios.build(
        w, count=1, tags={"sandbox:users": "deploy", "sandbox:dir:/srv/app": "deploy:deploy:750"}
    )
    (iid,) = r["instance_ids"]
    offline = w.launch(1, profile=r["instance_profile"], tags={"sandbox:ssm": "offline"})[0]
    no_ssm = w.launch(1)[0]
    ssm = w.client("ssm")
    infos = ssm.describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [iid, offline, no_ssm]}]
    )
    validate("ssm", "DescribeInstanceInformation", infos)
    ping = {i["InstanceId"]: i["PingStatus"] for i in infos["InstanceInformationList"]}
    assert ping == {iid: "Online", offline: "ConnectionLost"}
    with pytest.raises(ClientError) as exc:
        ssm.send_command(
            InstanceIds=[offline],
            DocumentName="AWS-RunShellScript",
            Parameters={"commands": ["echo hi"]},
        )
    assert error_code(exc) == "InvalidInstanceId"
    lines = [
        'echo "@@probe agent"',
        "systemctl is-active codedeploy-agent",
        'echo "@@rc=$?"',
        "cat /opt/codedeploy-agent/.version",
        "stat -c '%U:%G %a' /srv/app",
        "stat -c '%U:%G %a' /nope",
        "id -u deploy",
        "id -u ghost",
        "ps -o user= -C ruby",
        f"ls -A {r['destination']}",
        "getenforce",
        "frobnicate --now",
    ]
    cmd = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": lines}
    )
    inv = final_invocation(ssm, cmd["Command"]["CommandId"], iid)
    validate("ssm", "GetCommandInvocation", inv)
    assert inv["Status"] == "Failed" and inv["ResponseCode"] == 127
    assert inv["StandardOutputContent"].splitlines() == [
        "@@probe agent",
        "active",
        "@@rc=0",
        "OFFICIAL_1.7.1-110_rpm",
        "deploy:deploy 750",
        "1001",
        "root",
        "appspec.yml",
        "index.html",
        "scripts",
        "Disabled",
    ]
    errors = inv["StandardErrorContent"].splitlines()
    assert errors[:2] == [
        "stat: cannot statx '/nope': No such file or directory",
        "id: 'ghost': no such user",
    ]
    # /bin/sh runs the commands from the document's _script.sh (bash on Amazon Linux)
    assert errors[2].startswith(f"/var/lib/amazon/ssm/{iid}/document/orchestration/")
    assert errors[2].endswith("/_script.sh: line 12: frobnicate: command not found")
    listed = ssm.list_command_invocations(CommandId=cmd["Command"]["CommandId"], Details=True)
    validate("ssm", "ListCommandInvocations", listed)
    plugin = listed["CommandInvocations"][0]["CommandPlugins"][0]
    assert plugin["ResponseCode"] == 127 and "@@probe agent" in plugin["Output"]
    ok = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": ["true"]}
    )
    assert final_invocation(ssm, ok["Command"]["CommandId"], iid)["Status"] == "Success"


def test_run_command_can_install_and_start_a_missing_agent(w: World) -> None:
    r = scenarios.build(w, count=1, agent=False)
    assert r["status"] == "Failed"
    (iid,) = r["instance_ids"]
    ssm = w.client("ssm")
    ssm.send_command(
        InstanceIds=[iid],
        DocumentName="AWS-ConfigureAWSPackage",
        Parameters={"action": ["Install"], "name": ["AWSCodeDeployAgent"]},
    )
    again = w.deploy(r["deployment_group"], r["bucket"], r["key"])
    assert w.wait(again)["status"] == "Succeeded"


def test_public_ami_parameters_resolve_to_existing_images(w: World) -> None:
    ec2 = w.client("ec2")
    for which in ("al2", "al2023", "ubuntu-20.04", "ubuntu-22.04", "ubuntu-24.04"):
        image = w.ami(which)
        assert ec2.describe_images(ImageIds=[image])["Images"][0]["ImageId"] == image
    assert "ubuntu" in ec2.describe_images(ImageIds=[w.ami("ubuntu-24.04")])["Images"][0]["Name"]


def test_ubuntu_arm64_parameter_resolves_to_an_arm64_image(w: World) -> None:
    """`instances: {ami: ubuntu-24.04, instance_type: t4g.micro}` needs Canonical's arm64 one."""
    name = "/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id"
    image = w.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    (img,) = w.client("ec2").describe_images(ImageIds=[image])["Images"]
    assert img["Architecture"] == "arm64" and "arm64" in img["Name"]


def test_service_role_without_permissions_fails_the_deployment(w: World) -> None:
    r = scenarios.build(w, count=1, wait=False)
    iam = w.client("iam")
    name = r["service_role_arn"].rsplit("/", 1)[-1]
    iam.detach_role_policy(
        RoleName=name, PolicyArn="arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"
    )
    again_group = r["deployment_group"]
    w.wait(r["deployment_id"])
    again = w.deploy(again_group, r["bucket"], r["key"])
    info = w.wait(again)
    assert info["errorInformation"]["code"] == "IAM_ROLE_PERMISSIONS"
    assert "AmazonEC2" in info["errorInformation"]["message"]
    iam.delete_role(RoleName=name)
    gone = w.wait(w.deploy(again_group, r["bucket"], r["key"]))
    assert gone["errorInformation"]["code"] == "IAM_ROLE_MISSING"


def test_mock_aws_sees_the_extensions_without_a_server(aws_credentials) -> None:
    with mock_aws():
        extensions.install()
        cd = boto3.client("codedeploy", region_name="us-east-1")
        assert (
            "CodeDeployDefault.AllAtOnce" in cd.list_deployment_configs()["deploymentConfigsList"]
        )


def test_sse_kms_bundle_needs_kms_decrypt(w: World) -> None:
    import json

    r = scenarios.build(w, count=1)
    key = w.client("kms").create_key()["KeyMetadata"]
    w.client("s3").put_object(
        Bucket=r["bucket"],
        Key="kms.zip",
        Body=zip_bundle(scenarios._files(w)),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key["Arn"],
    )
    denied = w.wait(w.deploy(r["deployment_group"], r["bucket"], "kms.zip"))
    assert denied["status"] == "Failed"
    (target,) = w.targets(denied["deploymentId"])
    failed = next(e for e in target["lifecycleEvents"] if e["status"] == "Failed")
    assert failed["lifecycleEventName"] == "DownloadBundle"
    assert failed["diagnostics"]["message"] == "Access Denied"
    w.client("iam").put_role_policy(
        RoleName=r["instance_profile"],
        PolicyName="kms",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"]}],
            }
        ),
    )
    assert w.wait(w.deploy(r["deployment_group"], r["bucket"], "kms.zip"))["status"] == "Succeeded"


def test_without_a_revision_the_last_good_one_is_redeployed(w: World) -> None:
    r = scenarios.build(w, count=1)
    cd = w.client("codedeploy")
    again = cd.create_deployment(
        applicationName=r["application"], deploymentGroupName=r["deployment_group"]
    )["deploymentId"]
    info = w.wait(again)
    assert info["status"] == "Succeeded"
    assert info["revision"]["s3Location"]["key"] == r["key"]
    assert info["previousRevision"]["s3Location"]["key"] == r["key"]


def test_agent_log_tells_what_happened(w: World) -> None:
    r = scenarios.build(w, count=1, tags={"sandbox:hook:ApplicationStart": "exit=2"})
    (iid,) = r["instance_ids"]
    ssm = w.client("ssm")
    cmd = ssm.send_command(
        InstanceIds=[iid],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["tail -n 3 /var/log/aws/codedeploy-agent/codedeploy-agent.log"]},
    )["Command"]
    out = final_invocation(ssm, cmd["CommandId"], iid)
    assert "failed with exit code 2" in out["StandardOutputContent"]


def test_half_at_a_time_stops_when_the_next_batch_would_leave_too_few_healthy(w: World) -> None:
    # 4 instances, minimum 2 healthy, batches of 2: the 2 failures of the first batch (sorted by
    # instance id, whichever they are) stop the deployment before the second batch
    r = scenarios.build(
        w, count=4, config="CodeDeployDefault.HalfAtATime", tags={"sandbox:agent": "stopped"}
    )
    info = w.client("codedeploy").get_deployment(deploymentId=r["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS"
    assert info["deploymentOverview"]["Failed"] == 2
    assert info["deploymentOverview"]["Skipped"] == 2
    ok = scenarios.build(World(None), count=4, config="CodeDeployDefault.HalfAtATime")
    assert ok["status"] == "Succeeded"


def test_run_command_by_tag_targets(w: World) -> None:
    r = scenarios.build(w, count=2)
    dark = w.launch(1, tags={"sandbox:ssm": "offline"}, profile=r["instance_profile"])[0]
    ssm = w.client("ssm")
    cmd = ssm.send_command(
        Targets=[{"Key": "tag:Name", "Values": [w.name]}],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["whoami"]},
    )["Command"]
    for iid in (*r["instance_ids"], dark):
        final_invocation(ssm, cmd["CommandId"], iid)  # Pending, InProgress, then final
    invs = ssm.list_command_invocations(CommandId=cmd["CommandId"], Details=True)
    got = {i["InstanceId"]: i["StatusDetails"] for i in invs["CommandInvocations"]}
    assert got == {
        r["instance_ids"][0]: "Success",
        r["instance_ids"][1]: "Success",
        dark: "Undeliverable",
    }


def test_broken_stop_script_of_the_last_good_revision_fails_the_next_deployment(w: World) -> None:
    hooks = {"ApplicationStop": [{"location": "scripts/start.sh"}]}
    r = scenarios.build(
        w,
        count=1,
        files=scenarios._files(w, hooks),
        tags={"sandbox:hook:ApplicationStop": "exit=1;log=no such process"},
    )
    assert r["status"] == "Succeeded"  # no earlier revision: nothing to stop
    cd = w.client("codedeploy")
    second = w.wait(w.deploy(r["deployment_group"], r["bucket"], r["key"]))
    assert second["status"] == "Failed"
    (target,) = w.targets(second["deploymentId"])
    stop = target["lifecycleEvents"][0]
    assert stop["lifecycleEventName"] == "ApplicationStop"
    assert stop["diagnostics"]["errorCode"] == "ScriptFailed"
    assert "no such process" in stop["diagnostics"]["logTail"]
    third = cd.create_deployment(
        applicationName=r["application"],
        deploymentGroupName=r["deployment_group"],
        revision={
            "revisionType": "S3",
            "s3Location": {"bucket": r["bucket"], "key": r["key"], "bundleType": "zip"},
        },
        ignoreApplicationStopFailures=True,
    )["deploymentId"]
    assert w.wait(third)["status"] == "Succeeded"


def test_redeploy_after_a_failed_hook_does_not_clash_with_its_own_files(w: World) -> None:
    r = scenarios.build(w, count=1, tags={"sandbox:hook:ApplicationStart": "exit=1"})
    assert r["status"] == "Failed"
    (iid,) = r["instance_ids"]
    w.client("ec2").delete_tags(Resources=[iid], Tags=[{"Key": "sandbox:hook:ApplicationStart"}])
    again = w.wait(w.deploy(r["deployment_group"], r["bucket"], r["key"]))
    assert again["status"] == "Succeeded"


def test_shell_runs_probes_as_another_user(w: World) -> None:
    tags = {"sandbox:users": "web", "sandbox:dir:/srv/www": "root:root:755"}
    r = scenarios.build(w, count=1, tags=tags)
    (iid,) = r["instance_ids"]
    ssm = w.client("ssm")
    lines = [
        "sudo -u web test -w /srv/www",
        'echo "web=$?"',
        "test -w /srv/www",
        'echo "root=$?"',
        "sudo -u web whoami",
        "sudo -u nobody2 true",
        f"cat {r['destination']}/index.html",
    ]
    cmd = ssm.send_command(
        InstanceIds=[iid], DocumentName="AWS-RunShellScript", Parameters={"commands": lines}
    )["Command"]
    out = final_invocation(ssm, cmd["CommandId"], iid)
    assert out["StandardOutputContent"].splitlines() == [
        "web=1",
        "root=0",
        "web",
        "<h1>hello from the sandbox</h1>",
    ]
    assert "sudo: unknown user nobody2" in out["StandardErrorContent"]


def test_download_bundle_checks_the_etag_and_the_archive_type(w: World) -> None:
    r = scenarios.build(w, count=1)
    wrong = w.wait(w.deploy(r["deployment_group"], r["bucket"], r["key"], etag="0123abcd"))
    (target,) = w.targets(wrong["deploymentId"])
    download = target["lifecycleEvents"][1]
    assert download["lifecycleEventName"] == "DownloadBundle"
    assert download["diagnostics"]["message"].startswith(
        "Expected deployment artifact bundle etag 0123abcd but was actually"
    )
    tar = w.wait(w.deploy(r["deployment_group"], r["bucket"], r["key"], bundle_type="tar"))
    (target,) = w.targets(tar["deploymentId"])
    assert "Error extracting tar archive" in target["lifecycleEvents"][1]["diagnostics"]["message"]
