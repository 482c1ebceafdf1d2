"""`wizard diagnose --json` on Auto Scaling groups behind a load balancer, against the sandbox.

Each world is built through ordinary AWS calls against the session's sandbox server (IAM, S3 with
a real zip, a launch template, an Auto Scaling group, an Application Load Balancer with a target
group and a listener, a CodeDeploy deployment group on the Auto Scaling group IN_PLACE
WITH_TRAFFIC_CONTROL), a deployment runs to its end on the simulated fleet, and diagnose runs as a
user would run it: a subprocess with --endpoint-url that sees only the AWS APIs. We assert the
first root cause and the words of its fix. What the load balancer's health checks find is stated
with the `sandbox:target-health` tag (propagated from the Auto Scaling group), the only thing
AWS's APIs cannot express here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import clean_env

pytestmark = pytest.mark.e2e

KEY = "releases/app.zip"
TARGET_HEALTH = "sandbox:target-health"


def _bundle(hooks: dict[str, list[dict[str, Any]]] | None = None) -> bytes:
    from wizard.sandbox.world import START_SH, appspec, zip_bundle

    hooks = hooks or {"ApplicationStart": [{"location": "scripts/start.sh"}]}
    scripts = {h["location"]: START_SH for event in hooks.values() for h in event}
    return zip_bundle(
        {"appspec.yml": appspec("/var/www/app", hooks), **scripts, "index.html": "hi"}
    )


def fleet(
    url: str,
    *,
    asg_tags: dict[str, str] | None = None,
    desired: int = 2,
    listener: bool = True,
    deregistration_delay: int | None = None,
    attach: bool = True,
    traffic: bool = True,
    rollback: bool = False,
    config: str = "CodeDeployDefault.AllAtOnce",
    hooks: dict[str, list[dict[str, Any]]] | None = None,
    interval: int = 30,
    healthy_threshold: int = 5,
    open_port: bool | int = True,
) -> dict[str, Any]:
    """An ASG behind an ALB with a deployment group on it, and a revision in S3 (not deployed)."""
    from wizard.sandbox.fleetworld import FleetWorld

    w = FleetWorld(url)
    bucket = w.bucket()
    role = w.service_role()
    profile = w.instance_profile(bucket=bucket)
    bal = w.load_balancer(
        health_check_path="/health",
        deregistration_delay=deregistration_delay,
        listener=listener,
        interval=interval,
        healthy_threshold=healthy_threshold,
    )
    # the instances admit the load balancer on the port (True), keep the VPC's default group
    # (False), or admit the load balancer's group on another port (an int)
    groups: list[str] | None = [bal.instance_security_group]
    if open_port is False:
        groups = None
    elif open_port is not True:
        ec2 = w.client("ec2")
        vpc = ec2.describe_security_groups(GroupIds=[bal.security_group])["SecurityGroups"][0]
        other = ec2.create_security_group(
            GroupName=f"{w.name}-other-port", Description="another port", VpcId=vpc["VpcId"]
        )["GroupId"]
        ec2.authorize_security_group_ingress(
            GroupId=other,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": int(open_port),
                    "ToPort": int(open_port),
                    "UserIdGroupPairs": [{"GroupId": bal.security_group}],
                }
            ],
        )
        groups = [other]
    template = w.launch_template(profile, security_groups=groups)
    asg = w.auto_scaling_group(
        template,
        desired=desired,
        maximum=desired + 2,
        minimum=0,
        target_group_arns=[bal.target_group_arn] if attach else [],
        tags=asg_tags,
    )
    app, group = w.fleet_application(
        role,
        asg,
        target_group=bal.target_group,
        rollback=rollback,
        traffic_control=traffic,
        config=config,
    )
    etag = w.put_bundle(bucket, KEY, _bundle(hooks))
    return {
        "world": w,
        "bucket": bucket,
        "etag": etag,
        "asg": asg,
        "application": app,
        "deployment_group": group,
        "balancer": bal,
        "template": template,
        "profile": profile,
    }


def deploy(f: dict[str, Any]) -> dict[str, Any]:
    w = f["world"]
    did = w.deploy(f["deployment_group"], f["bucket"], KEY, etag=f["etag"])
    return w.wait(did)


def by_group(f: dict[str, Any]) -> list[str]:
    """diagnose's arguments for the latest deployment of the world's group."""
    return ["--application", f["application"], "--deployment-group", f["deployment_group"]]


def until(fn: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


# ---- the worlds -------------------------------------------------------------------------------


def allow_traffic(url: str, reason: str) -> dict[str, Any]:
    f = fleet(url, asg_tags={"sandbox:target-health": f"unhealthy:{reason}"})
    info = deploy(f)
    assert info["status"] == "Failed", info
    return {**f, "args": [info["deploymentId"]]}


def port_closed(url: str) -> dict[str, Any]:
    """The instances keep the VPC's default security group: the load balancer's health checks
    never reach port 80 (decided from the security groups, no tag)."""
    f = fleet(url, open_port=False)
    info = deploy(f)
    assert info["status"] == "Failed", info
    return {**f, "args": [info["deploymentId"]]}


def port_elsewhere(url: str) -> dict[str, Any]:
    """The instances' security group admits the load balancer, but on 8080, not the health check
    port 80: the checks time out as well."""
    f = fleet(url, open_port=8080)
    info = deploy(f)
    assert info["status"] == "Failed", info
    return {**f, "args": [info["deploymentId"]]}


def not_in_use(url: str) -> dict[str, Any]:
    f = fleet(url, listener=False)
    info = deploy(f)
    assert info["status"] == "Failed", info
    return {**f, "args": [info["deploymentId"]]}


def long_deregistration(url: str) -> dict[str, Any]:
    f = fleet(url, deregistration_delay=3600, asg_tags={"sandbox:target-health": "healthy"})
    info = deploy(f)
    assert info["status"] == "Failed", info
    return {**f, "args": [info["deploymentId"]]}


def no_registered_targets(url: str) -> dict[str, Any]:
    f = fleet(url, attach=False, traffic=False)
    info = deploy(f)
    assert info["status"] == "Succeeded", info
    return {**f, "args": [info["deploymentId"]]}


def hook_missing(url: str) -> dict[str, Any]:
    f = fleet(url, asg_tags={"sandbox:target-health": "healthy"})
    assert deploy(f)["status"] == "Succeeded"
    w, asg = f["world"], f["asg"]
    cd, autoscaling = w.client("codedeploy"), w.client("autoscaling")
    group = cd.get_deployment_group(
        applicationName=f["application"], deploymentGroupName=f["deployment_group"]
    )["deploymentGroupInfo"]
    hook = group["autoScalingGroups"][0]["hook"]
    autoscaling.delete_lifecycle_hook(AutoScalingGroupName=asg, LifecycleHookName=hook)
    autoscaling.set_desired_capacity(AutoScalingGroupName=asg, DesiredCapacity=3)
    assert until(lambda: len(w.asg_instances(asg)) == 3)
    return {**f, "args": by_group(f)}


def launch_suspended(url: str) -> dict[str, Any]:
    f = fleet(url, desired=0)
    w, asg = f["world"], f["asg"]
    autoscaling = w.client("autoscaling")
    autoscaling.suspend_processes(AutoScalingGroupName=asg, ScalingProcesses=["Launch"])
    autoscaling.set_desired_capacity(AutoScalingGroupName=asg, DesiredCapacity=2)
    info = deploy(f)
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "NO_INSTANCES"
    return {**f, "args": [info["deploymentId"]]}


def scale_out_failed(url: str) -> dict[str, Any]:
    """A new launch template version without the agent: scale-outs get the last good revision
    but nothing runs it."""
    import base64

    f = fleet(url, asg_tags={"sandbox:target-health": "healthy"})
    assert deploy(f)["status"] == "Succeeded"
    w, asg = f["world"], f["asg"]
    ec2, autoscaling = w.client("ec2"), w.client("autoscaling")
    ec2.create_launch_template_version(
        LaunchTemplateName=f["template"],
        SourceVersion="1",
        LaunchTemplateData={"UserData": base64.b64encode(b"#!/bin/bash\n").decode()},
    )
    ec2.modify_launch_template(LaunchTemplateName=f["template"], DefaultVersion="2")
    autoscaling.set_desired_capacity(AutoScalingGroupName=asg, DesiredCapacity=3)
    cd = w.client("codedeploy")

    def listed(*statuses: str) -> list[str]:
        return cd.list_deployments(
            applicationName=f["application"],
            deploymentGroupName=f["deployment_group"],
            includeOnlyStatuses=list(statuses),
        )["deployments"]

    # Auto Scaling abandons the instance and launches another, which gets its own scale-out
    # deployment: the group's latest deployment may still be running, so name the failed one
    failed = until(lambda: listed("Failed"))
    assert failed
    return {**f, "args": [failed[0]]}


def deadlock(url: str) -> dict[str, Any]:
    """The deployment deadlock of the CodeDeploy guide: the last successful revision fails on
    every new instance, Auto Scaling abandons and relaunches, nothing is InService, and a new
    deployment finds no instance."""
    f = fleet(url, desired=1, asg_tags={"sandbox:target-health": "healthy"})
    assert deploy(f)["status"] == "Succeeded"
    w, asg = f["world"], f["asg"]
    # from now on the application fails to start on a fresh instance (something the first
    # instance had, a new one lacks: only a tag can say that)
    w.client("autoscaling").create_or_update_tags(
        Tags=[
            {
                "ResourceId": asg,
                "ResourceType": "auto-scaling-group",
                "Key": "sandbox:hook:ApplicationStart",
                "Value": "exit=1;log=Error: /etc/app/secret.env not found",
                "PropagateAtLaunch": True,
            }
        ]
    )
    w.client("ec2").terminate_instances(InstanceIds=w.asg_instances(asg))
    cd = w.client("codedeploy")
    assert until(
        lambda: cd.list_deployments(
            applicationName=f["application"],
            deploymentGroupName=f["deployment_group"],
            includeOnlyStatuses=["Failed"],
        )["deployments"]
    )
    info = deploy(f)
    assert info["status"] == "Failed" and info["errorInformation"]["code"] == "NO_INSTANCES"
    return {**f, "args": [info["deploymentId"]]}


def traffic_hook_fails(url: str) -> dict[str, Any]:
    """BeforeAllowTraffic runs the new revision's script on the instance; it exits 2."""
    f = fleet(
        url,
        hooks={
            "ApplicationStart": [{"location": "scripts/start.sh"}],
            "BeforeAllowTraffic": [{"location": "scripts/warm.sh"}],
        },
        asg_tags={"sandbox:hook:BeforeAllowTraffic": "exit=2;log=curl: (7) Failed to connect"},
    )
    info = deploy(f)
    assert info["status"] == "Failed", info
    return {**f, "args": [info["deploymentId"]]}


def slow_health_checks(url: str) -> dict[str, Any]:
    """Health checks every 300 s, 10 in a row: AllowTraffic waits 55 minutes per batch."""
    f = fleet(url, interval=300, healthy_threshold=10, asg_tags={TARGET_HEALTH: "healthy"})
    info = deploy(f)
    assert info["status"] == "Succeeded", info
    return {**f, "args": [info["deploymentId"]]}


# name -> (builder, first root cause, summary fragments, fix fragments,
#          {another failing check: (summary fragments, fix fragments)})
WORLDS: dict[str, tuple[Any, ...]] = {
    "allow-traffic-code-mismatch": (
        lambda url: allow_traffic(url, "Target.ResponseCodeMismatch"),
        "lb.target-health",
        [
            "failed at AllowTraffic",
            "Target.ResponseCodeMismatch",
            "Health checks failed with these codes: [404]",
            "GET /health",
        ],
        ["does not exist in what you deployed", "(such as /)", "--health-check-path /\nwizard"],
    ),
    "allow-traffic-timeout": (
        port_closed,
        "lb.target-health",
        ["failed at AllowTraffic", "Target.Timeout", "Request timed out"],
        ["authorize-security-group-ingress", "--port 80", "--source-group sg-"],
    ),
    "allow-traffic-port-elsewhere": (
        port_elsewhere,
        "lb.target-health",
        ["failed at AllowTraffic", "Target.Timeout", "Request timed out"],
        ["authorize-security-group-ingress", "--port 80", "--source-group sg-"],
    ),
    "allow-traffic-nothing-listens": (
        lambda url: allow_traffic(url, "Target.FailedHealthChecks"),
        "lb.target-health",
        ["failed at AllowTraffic", "Target.FailedHealthChecks"],
        ["Nothing answered on port 80", "ApplicationStart"],
    ),
    "target-group-not-in-use": (
        not_in_use,
        "lb.target-health",
        ["failed at AllowTraffic", "Target.NotInUse"],
        ["create-listener", "Type=forward"],
    ),
    "deregistration-delay-too-long": (
        long_deregistration,
        "lb.deregistration-delay",
        ["failed at BlockTraffic", "drains for 3600 s", "longer than the 3600 s"],
        ["deregistration_delay.timeout_seconds", "modify-target-group-attributes"],
    ),
    "no-registered-targets": (
        no_registered_targets,
        "lb.targets-registered",
        ["has no registered targets"],
        ["attach-load-balancer-target-groups"],
    ),
    "lifecycle-hook-missing": (
        hook_missing,
        "asg.lifecycle-hook",
        ["CodeDeploy-managed-automatic-launch-deployment-hook-", "is missing from"],
        ["--auto-scaling-groups", "update-deployment-group"],
    ),
    "launch-suspended": (
        launch_suspended,
        "asg.suspended-processes",
        ["Launch is suspended", "0 InService, desired 2"],
        ["resume-processes", "--scaling-processes Launch"],
    ),
    "scale-out-failed": (
        scale_out_failed,
        "agent.running",
        ["the agent never picked up the lifecycle event"],
        ["Install the CodeDeploy agent"],
        {
            "asg.scale-out": (
                [
                    "scale-out deployment(s) failed",
                    "the CodeDeploy agent did not pick up",
                    "Auto Scaling abandons (terminates) such instances",
                    "version 2",
                    "the working ones came from version 1",
                ],
                ["update-auto-scaling-group", "Version=1"],
            )
        },
    ),
    "traffic-hook-fails": (
        traffic_hook_fails,
        "hooks.failed",
        ["BeforeAllowTraffic scripts/warm.sh failed with exit code 2", "Failed to connect"],
        ["scripts.log"],
    ),
    "scale-out-deadlock": (
        deadlock,
        "asg.scale-out",
        [
            "no instance is InService (a deployment deadlock)",
            "failed at ApplicationStart",
            "Auto Scaling abandons (terminates) such instances",
        ],
        ["detach the Auto Scaling group", "--auto-scaling-groups", "wizard deploy"],
    ),
}


@pytest.fixture(scope="module")
def worlds(sandbox_url) -> Iterator[dict[str, dict[str, Any]]]:
    """Every world, built concurrently once for the module (the server is threaded)."""
    names = sorted(WORLDS)
    with ThreadPoolExecutor(max_workers=5) as pool:
        built = list(pool.map(lambda n: WORLDS[n][0](sandbox_url), names))
    yield dict(zip(names, built, strict=True))
    # the session's server outlives this module: worlds whose Auto Scaling group keeps
    # relaunching (a scale-out that fails, the deadlock) would go on launching instances and
    # deployments for the rest of the run, slowing every later test on this server
    for f in built:
        _retire(f)


def _retire(f: dict[str, Any]) -> None:
    """Delete the world's Auto Scaling group (ForceDelete terminates its instances) and stop
    what still runs on its deployment group; best effort, teardown only."""
    w = f["world"]
    cd = w.client("codedeploy")
    try:
        w.client("autoscaling").delete_auto_scaling_group(
            AutoScalingGroupName=f["asg"], ForceDelete=True
        )
    except Exception:
        pass
    try:
        running = cd.list_deployments(
            applicationName=f["application"],
            deploymentGroupName=f["deployment_group"],
            includeOnlyStatuses=["Created", "Queued", "InProgress", "Ready"],
        )["deployments"]
        for did in running:
            cd.stop_deployment(deploymentId=did)
    except Exception:
        pass


def diagnose_in_process(url: str, args: list[str]) -> tuple[int, dict[str, Any], str]:
    """diagnose on a fresh AwsContext over HTTP (the wire path the CLI takes, without paying a
    Python start-up per world); the CLI itself is run by `test_the_cli_says_the_same`."""
    from checks.reporters.json import validate
    from checks.runner import diagnose
    from wizard.aws import AwsContext

    ctx = AwsContext(
        region="us-east-1",
        endpoint_url=url,
        sandbox=True,
        access_key="sandbox",
        secret_key="sandbox",
    )
    if args[0].startswith("d-"):
        report = diagnose(ctx, deployment_id=args[0])
    else:
        report = diagnose(ctx, application=args[1], deployment_group=args[3])
    doc = json.loads(json.dumps(report.to_json(), default=str))
    validate(doc)
    return report.exit_code, doc, ""


def diagnose_cli(run_wizard, url: str, *args: str) -> tuple[int, dict[str, Any], str]:
    env = clean_env(
        AWS_ACCESS_KEY_ID="sandbox", AWS_SECRET_ACCESS_KEY="sandbox", AWS_REGION="us-east-1"
    )
    proc = run_wizard("diagnose", "--json", "--endpoint-url", url, *args, env=env)
    assert proc.stdout.strip(), proc.stderr
    doc = json.loads(proc.stdout)
    from checks.reporters.json import validate

    validate(doc)
    return proc.returncode, doc, proc.stderr


def test_the_cli_says_the_same(worlds, sandbox_url, run_wizard):
    world = worlds["allow-traffic-code-mismatch"]
    code, doc, stderr = diagnose_cli(run_wizard, sandbox_url, *world["args"])
    assert code == 1, stderr
    assert doc["root_causes"][0] == "lb.target-health"
    assert doc["deployment"]["error_code"] == "HEALTH_CONSTRAINTS"


@pytest.mark.parametrize("name", sorted(WORLDS))
def test_diagnose_names_the_root_cause_and_fix(name, worlds, sandbox_url):
    world = worlds[name]
    code, doc, stderr = diagnose_in_process(sandbox_url, world["args"])
    _, cause, summary_parts, fix_parts, *more = WORLDS[name]
    also: dict[str, tuple[list[str], list[str]]] = more[0] if more else {}
    table = [(r["id"], r["status"], r["summary"]) for r in doc["results"] if r["status"] != "pass"]
    assert code == 1, (stderr, table)
    assert doc["root_causes"] and doc["root_causes"][0] == cause, (doc["root_causes"], table)
    result = next(r for r in doc["results"] if r["id"] == cause)
    assert result["status"] == "fail"
    for part in summary_parts:
        assert part in result["summary"], result["summary"]
    fix = result["fix"]["summary"] + "\n" + "\n".join(result["fix"]["commands"])
    for part in fix_parts:
        assert part in fix, fix
    for other, (summary_more, fix_more) in also.items():
        assert other in doc["root_causes"], doc["root_causes"]
        res = next(r for r in doc["results"] if r["id"] == other)
        for part in summary_more:
            assert part in res["summary"], res["summary"]
        text = res["fix"]["summary"] + "\n" + "\n".join(res["fix"]["commands"])
        for part in fix_more:
            assert part in text, text
    assert not [r for r in doc["results"] if r["status"] == "error"], table


def test_slow_health_checks_are_a_warning_with_the_wait(sandbox_url):
    world = slow_health_checks(sandbox_url)
    code, doc, _ = diagnose_in_process(sandbox_url, world["args"])
    assert code == 0 and doc["root_causes"] == []
    result = next(r for r in doc["results"] if r["id"] == "lb.target-health")
    assert result["status"] == "warn"
    assert "AllowTraffic waits about 3300 s per instance" in result["summary"]
    assert "10 healthy checks x 300 s + one interval" in result["summary"]
    assert "--health-check-interval-seconds" in "\n".join(result["fix"]["commands"])


def rolled_back(url: str) -> dict[str, Any]:
    """A good revision, then one whose appspec names a script the bundle lacks: CodeDeploy rolls
    the group back to the good one (autoRollbackConfiguration DEPLOYMENT_FAILURE)."""
    from wizard.sandbox.world import START_SH, appspec, zip_bundle

    f = fleet(url, rollback=True, asg_tags={TARGET_HEALTH: "healthy"})
    assert deploy(f)["status"] == "Succeeded"
    w = f["world"]
    bad = appspec("/var/www/app", {"ApplicationStart": [{"location": "scripts/missing.sh"}]})
    etag = w.put_bundle(
        f["bucket"], "releases/bad.zip", zip_bundle({"appspec.yml": bad, "start.sh": START_SH})
    )
    failed = w.wait(w.deploy(f["deployment_group"], f["bucket"], "releases/bad.zip", etag=etag))
    assert failed["status"] == "Failed", failed
    rollback_id = (failed.get("rollbackInfo") or {}).get("rollbackDeploymentId")
    assert rollback_id, failed
    assert w.wait(rollback_id)["status"] == "Succeeded"
    return {**f, "failed": failed["deploymentId"], "rollback": rollback_id}


def test_a_rollback_is_followed_into_the_deployment_that_failed(sandbox_url):
    world = rolled_back(sandbox_url)
    # the group's latest deployment is the rollback: it succeeded, the deploy did not
    code, doc, _ = diagnose_in_process(sandbox_url, by_group(world))
    assert doc["deployment"]["id"] == world["rollback"]
    assert code == 1
    assert doc["root_causes"][0] == "rollback.rolled-back", doc["root_causes"]
    result = next(r for r in doc["results"] if r["id"] == "rollback.rolled-back")
    assert f"automatic rollback of {world['failed']}" in result["summary"]
    assert "restored s3://" in result["summary"] and "releases/app.zip" in result["summary"]
    assert "failed at ApplicationStart" in result["summary"]
    assert "scripts/missing.sh" in result["summary"]
    assert f"wizard diagnose {world['failed']}" in result["fix"]["commands"]
    # the failed deployment itself: its own cause first, the rollback as information
    code, doc, _ = diagnose_in_process(sandbox_url, [world["failed"]])
    assert doc["root_causes"][0] == "bundle.appspec", doc["root_causes"]
    info = next(r for r in doc["results"] if r["id"] == "rollback.rolled-back")
    assert info["status"] == "info"
    assert f"redeployed s3://{world['bucket']}/releases/app.zip" in info["summary"]
    assert world["rollback"] in info["summary"]


def test_preflight_looks_at_the_instances_of_the_auto_scaling_group(sandbox_url):
    """Before any deployment, CodeDeploy would deploy to the group's InService instances: the
    preflight counts them (one instance cannot keep half of itself healthy) and looks at them."""
    from checks.runner import diagnose
    from wizard.aws import AwsContext

    f = fleet(sandbox_url, desired=1, config="CodeDeployDefault.HalfAtATime")
    ctx = AwsContext(
        region="us-east-1",
        endpoint_url=sandbox_url,
        sandbox=True,
        access_key="sandbox",
        secret_key="sandbox",
    )
    report = diagnose(
        ctx, application=f["application"], deployment_group=f["deployment_group"], preflight=True
    )
    doc = json.loads(json.dumps(report.to_json(), default=str))
    results = {r["id"]: r for r in doc["results"]}
    assert doc["root_causes"][0] == "group.health", doc["root_causes"]
    assert results["group.health"]["status"] == "fail"
    assert "keep 1 of the 1 instance(s) healthy" in results["group.health"]["summary"], results[
        "group.health"
    ]
    assert "AllAtOnce" in results["group.health"]["fix"]["summary"]
    profile = results["iam.instance-profile"]
    assert profile["status"] == "pass" and "1 instance has a profile" in profile["summary"], profile
