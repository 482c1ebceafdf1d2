"""One end-to-end test per failure case of issue 5 item 3: the world is built only through boto3
against the sandbox over HTTP, and the assertions are what a user of the real service reads."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from tests.e2e.sandbox_world import assert_failed_event, run_shell
from wizard.sandbox import clock, scenarios
from wizard.sandbox.fleet import lifecycle
from wizard.sandbox.world import World, trust, zip_bundle

pytestmark = pytest.mark.e2e

AGENT_MSG = "CodeDeploy agent was not able to receive the lifecycle event"


@pytest.fixture
def w(sandbox_url: str) -> World:
    return World(sandbox_url)


@pytest.fixture
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A faster compressed clock for tests that only look at the final outcome."""
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.05, event=0.02, slow_event=0.1))


def test_healthy_deployment_moves_through_its_states(w: World) -> None:
    r = scenarios.build(w, wait=False)
    cd = w.client("codedeploy")
    seen: list[str] = []
    target_states: set[str] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        info = cd.get_deployment(deploymentId=r["deployment_id"])["deploymentInfo"]
        seen.append(info["status"])
        for t in w.targets(r["deployment_id"]):
            target_states.add(t["status"])
        if info["status"] in ("Succeeded", "Failed"):
            break
        time.sleep(0.03)
    assert seen[-1] == "Succeeded"
    assert "InProgress" in seen
    assert seen[0] in ("Created", "InProgress")
    assert {"InProgress", "Succeeded"} <= target_states
    assert info["deploymentOverview"]["Succeeded"] == 2
    assert "errorInformation" not in info
    assert info["completeTime"] >= info["createTime"]
    for target in w.targets(r["deployment_id"]):
        names = [e["lifecycleEventName"] for e in target["lifecycleEvents"]]
        assert names == list(lifecycle.EVENTS)
        assert all(e["status"] == "Succeeded" for e in target["lifecycleEvents"])
        start = next(
            e for e in target["lifecycleEvents"] if e["lifecycleEventName"] == "ApplicationStart"
        )
        assert "Script - scripts/start.sh" in start["diagnostics"]["logTail"]
    out = run_shell(w, r["instance_ids"][0], [f"ls -A {r['destination']}"])
    assert out["StandardOutputContent"].split() == ["appspec.yml", "index.html", "scripts"]


def test_no_instances_matched(w: World, fast: None) -> None:
    r = scenarios.build(w, tag_value="nobody-has-this-tag")
    info = w.client("codedeploy").get_deployment(deploymentId=r["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "NO_INSTANCES"
    assert (
        "no instances were found for your deployment group" in info["errorInformation"]["message"]
    )
    assert w.targets(r["deployment_id"]) == []


def test_service_role_not_trusted_by_codedeploy(w: World, fast: None) -> None:
    iam, cd = w.client("iam"), w.client("codedeploy")
    bad = iam.create_role(
        RoleName=f"{w.name}-bad-service", AssumeRolePolicyDocument=trust("ec2.amazonaws.com")
    )["Role"]["Arn"]
    cd.create_application(applicationName=f"{w.name}-x")
    with pytest.raises(ClientError) as exc:
        cd.create_deployment_group(
            applicationName=f"{w.name}-x",
            deploymentGroupName="g",
            serviceRoleArn=bad,
            ec2TagFilters=[{"Key": "k", "Value": "v", "Type": "KEY_AND_VALUE"}],
        )
    assert exc.value.response["Error"]["Code"] == "InvalidRoleException"
    assert "does not have the permissions required to assume the role" in str(exc.value)
    # trusted at creation, untrusted later: the deployment fails as AWS does
    r = scenarios.build(w, untrust_service_role=True)
    with pytest.raises(ClientError) as exc:
        cd.update_deployment_group(
            applicationName=r["application"],
            currentDeploymentGroupName=r["deployment_group"],
            serviceRoleArn=bad,
        )
    assert exc.value.response["Error"]["Code"] == "InvalidRoleException"
    info = cd.get_deployment(deploymentId=r["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "IAM_ROLE_PERMISSIONS"
    assert r["service_role_arn"] in info["errorInformation"]["message"]


def test_no_instance_profile(w: World, fast: None) -> None:
    r = scenarios.build(w, profile=False)
    assert_failed_event(
        w, r["deployment_id"], event="ApplicationStop", code="UnknownError", fragment=AGENT_MSG
    )


def test_profile_role_does_not_trust_ec2(w: World, fast: None) -> None:
    r = scenarios.build(w, profile_service="lambda.amazonaws.com")
    assert_failed_event(
        w, r["deployment_id"], event="ApplicationStop", code="UnknownError", fragment=AGENT_MSG
    )


def test_role_without_s3_read(w: World, fast: None) -> None:
    r = scenarios.build(w, s3_read=False)
    assert_failed_event(
        w, r["deployment_id"], event="DownloadBundle", code="UnknownError", fragment="Access Denied"
    )


def test_bucket_policy_deny(w: World, fast: None) -> None:
    r = scenarios.build(w, bucket_policy=scenarios._deny_policy)
    assert_failed_event(
        w, r["deployment_id"], event="DownloadBundle", code="UnknownError", fragment="Access Denied"
    )
    # the same verdict through the API diagnose uses
    role = f"arn:aws:iam::{w.account}:role/{r['instance_profile']}"
    resource = f"arn:aws:s3:::{r['bucket']}/{r['key']}"
    iam = w.client("iam")
    policy = w.client("s3").get_bucket_policy(Bucket=r["bucket"])["Policy"]
    with_policy = iam.simulate_principal_policy(
        PolicySourceArn=role,
        ActionNames=["s3:GetObject"],
        ResourceArns=[resource],
        ResourcePolicy=policy,
    )["EvaluationResults"][0]
    without = iam.simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["s3:GetObject"], ResourceArns=[resource]
    )["EvaluationResults"][0]
    assert with_policy["EvalDecision"] == "explicitDeny"
    assert without["EvalDecision"] == "allowed"


def test_bucket_in_another_region(w: World, fast: None) -> None:
    r = scenarios.build(w, bucket_region="eu-west-1")
    assert_failed_event(
        w,
        r["deployment_id"],
        event="DownloadBundle",
        code="UnknownError",
        fragment="must be addressed using the specified endpoint",
    )


def test_object_missing(w: World, fast: None) -> None:
    r = scenarios.build(w, upload=False)
    assert_failed_event(
        w,
        r["deployment_id"],
        event="DownloadBundle",
        code="UnknownError",
        fragment="The specified key does not exist",
    )


def test_agent_absent(w: World, fast: None) -> None:
    r = scenarios.build(w, agent=False)
    assert_failed_event(
        w, r["deployment_id"], event="ApplicationStop", code="UnknownError", fragment=AGENT_MSG
    )
    out = run_shell(
        w,
        r["instance_ids"][0],
        ["systemctl is-active codedeploy-agent", "cat /opt/codedeploy-agent/.version"],
    )
    assert out["StandardOutputContent"] == "inactive\n"
    assert "No such file or directory" in out["StandardErrorContent"]
    assert out["ResponseCode"] == 1 and out["Status"] == "Failed"


def test_agent_stopped(w: World, fast: None) -> None:
    r = scenarios.build(w, tags={"sandbox:agent": "stopped"})
    assert_failed_event(
        w, r["deployment_id"], event="ApplicationStop", code="UnknownError", fragment=AGENT_MSG
    )
    out = run_shell(
        w, r["instance_ids"][0], ["systemctl is-active codedeploy-agent", 'echo "rc=$?"']
    )
    assert out["StandardOutputContent"] == "inactive\nrc=3\n"


def test_appspec_missing_at_bundle_root(w: World, fast: None) -> None:
    files = scenarios._files(w)
    bundle: dict[str, str | bytes] = {f"project/{k}": v for k, v in files.items()}
    bundle["__MACOSX/project/._appspec.yml"] = b"\x00\x05\x16\x07"
    r = scenarios.build(w, files=bundle)
    assert_failed_event(
        w,
        r["deployment_id"],
        event="BeforeInstall",
        code="UnknownError",
        fragment="did not find an AppSpec file within the unpacked revision directory at "
        'revision-relative path "appspec.yml"',
    )


def test_one_top_level_folder_holding_the_appspec_is_stripped(w: World, fast: None) -> None:
    r = scenarios.build(w, wrap="project", count=1)
    assert r["status"] == "Succeeded"


def test_invalid_appspec(w: World, fast: None) -> None:
    files = scenarios._files(w)
    files["appspec.yml"] = files["appspec.yml"].replace("version: 0.0", 'version: "0.0"')
    r = scenarios.build(w, files=files)
    assert_failed_event(
        w,
        r["deployment_id"],
        event="BeforeInstall",
        code="UnknownError",
        fragment="invalid version value (0.0)",
    )


def test_misspelt_hook_succeeds_and_never_runs(w: World, fast: None) -> None:
    files = scenarios._files(w, {"ApplicationStarts": [{"location": "scripts/start.sh"}]})
    r = scenarios.build(w, files=files, count=1)
    assert r["status"] == "Succeeded"
    (target,) = w.targets(r["deployment_id"])
    start = next(
        e for e in target["lifecycleEvents"] if e["lifecycleEventName"] == "ApplicationStart"
    )
    assert start["status"] == "Succeeded"
    assert "start.sh" not in start["diagnostics"].get("logTail", "")
    group_id = w.client("codedeploy").get_deployment_group(
        applicationName=r["application"], deploymentGroupName=r["deployment_group"]
    )["deploymentGroupInfo"]["deploymentGroupId"]
    log = f"/opt/codedeploy-agent/deployment-root/{group_id}/{r['deployment_id']}/logs/scripts.log"
    out = run_shell(
        w, r["instance_ids"][0], [f"ls -A {r['destination']}/scripts", f"tail -n 5 {log}"]
    )
    assert "start.sh" in out["StandardOutputContent"]  # deployed, yet never run
    assert "Script - scripts/start.sh" not in out["StandardOutputContent"]


def test_hook_script_missing(w: World, fast: None) -> None:
    files = scenarios._files(w, {"ApplicationStart": [{"location": "scripts/run.sh"}]})
    r = scenarios.build(w, files=files)
    assert_failed_event(
        w,
        r["deployment_id"],
        event="ApplicationStart",
        code="ScriptMissing",
        fragment="Script does not exist at specified location: /opt/codedeploy-agent/",
        script="scripts/run.sh",
    )


def test_hook_failing_with_exit_code_and_log_tail(w: World, fast: None) -> None:
    tags = {"sandbox:hook:ApplicationStart": "exit=3;log=Error: port 8080 already in use"}
    r = scenarios.build(w, tags=tags)
    assert_failed_event(
        w,
        r["deployment_id"],
        event="ApplicationStart",
        code="ScriptFailed",
        fragment="Script at specified location: scripts/start.sh failed with exit code 3",
        script="scripts/start.sh",
        log="[stderr]Error: port 8080 already in use",
    )


def test_hook_timeout(w: World, fast: None) -> None:
    hooks = {"ValidateService": [{"location": "scripts/validate.sh", "timeout": 30}]}
    tags = {"sandbox:hook:ValidateService": "timeout;log=waiting for http://localhost/"}
    r = scenarios.build(w, files=scenarios._files(w, hooks), tags=tags)
    assert_failed_event(
        w,
        r["deployment_id"],
        event="ValidateService",
        code="ScriptTimedOut",
        fragment="failed to complete in 30 seconds",
        script="scripts/validate.sh",
        log="waiting for http://localhost/",
    )


def test_runas_user_missing(w: World, fast: None) -> None:
    hooks = {"ApplicationStart": [{"location": "scripts/start.sh", "runas": "deploy"}]}
    r = scenarios.build(w, files=scenarios._files(w, hooks))
    assert_failed_event(
        w,
        r["deployment_id"],
        event="ApplicationStart",
        code="ScriptFailed",
        fragment="run as user deploy failed with exit code 1",
        script="scripts/start.sh",
        log="su: user deploy does not exist",
    )


def test_destination_not_writable_for_the_agent_user(w: World, fast: None) -> None:
    tags = {
        "sandbox:agent-user": "cdagent",
        "sandbox:users": "cdagent",
        "sandbox:dir:/var/www": "root:root:755",
    }
    r = scenarios.build(w, tags=tags)
    assert_failed_event(
        w,
        r["deployment_id"],
        event="Install",
        code="UnknownError",
        fragment=f"Permission denied @ dir_s_mkdir - {r['destination']}",
    )
    out = run_shell(w, r["instance_ids"][0], ["stat -c '%U:%G %a' /var/www", "ps -o user= -C ruby"])
    assert out["StandardOutputContent"] == "root:root 755\ncdagent\n"


def test_file_exists_disallow_then_overwrite(w: World, fast: None) -> None:
    existing = f"/var/www/{w.name}/index.html"
    r = scenarios.build(w, tags={f"sandbox:file:{existing}": "root:root:644"})
    assert_failed_event(
        w,
        r["deployment_id"],
        event="Install",
        code="UnknownError",
        fragment=f"a specified file already exists at this location: {existing}",
    )
    again = w.deploy(r["deployment_group"], r["bucket"], r["key"], file_exists_behavior="OVERWRITE")
    assert w.wait(again)["status"] == "Succeeded"


def test_impossible_health_constraints(w: World, fast: None) -> None:
    r = scenarios.build(w, count=1, config="CodeDeployDefault.HalfAtATime")
    info = w.client("codedeploy").get_deployment(deploymentId=r["deployment_id"])["deploymentInfo"]
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HEALTH_CONSTRAINTS_INVALID"
    config = w.client("codedeploy").get_deployment_config(
        deploymentConfigName="CodeDeployDefault.HalfAtATime"
    )["deploymentConfigInfo"]
    assert config["minimumHealthyHosts"] == {"type": "FLEET_PERCENT", "value": 50}


def test_second_deployment_sees_the_files_of_the_first(w: World, fast: None) -> None:
    """The agent cleans up its own group's files, so a redeploy under DISALLOW succeeds."""
    r = scenarios.build(w, count=1)
    assert r["status"] == "Succeeded"
    data = zip_bundle(scenarios._files(w))
    w.put_bundle(r["bucket"], "releases/v2.zip", data)
    again = w.deploy(r["deployment_group"], r["bucket"], "releases/v2.zip")
    assert w.wait(again)["status"] == "Succeeded"
    # a second group writing the same paths clashes with them
    cd = w.client("codedeploy")
    cd.create_deployment_group(
        applicationName=r["application"],
        deploymentGroupName=f"{w.name}-other",
        serviceRoleArn=r["service_role_arn"],
        deploymentConfigName="CodeDeployDefault.AllAtOnce",
        ec2TagFilters=[{"Key": "Name", "Value": w.name, "Type": "KEY_AND_VALUE"}],
    )
    clash = w.deploy(f"{w.name}-other", r["bucket"], "releases/v2.zip")
    info = w.wait(clash)
    assert info["status"] == "Failed"
    assert json.dumps(w.targets(clash), default=str).count("already exists at this location") == 1
