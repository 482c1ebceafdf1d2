"""The sandbox's Elastic Load Balancing and Auto Scaling under `moto.mock_aws` (in-process, fast):
target health that moves with the clock and the `sandbox:target-health` tag, the deregistration
delay, lifecycle hooks (Pending:Wait, CompleteLifecycleAction, heartbeat timeout, ABANDON and
relaunch), and suspended processes. Shapes validate against botocore's model."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from tests.test_sandbox_api import validate
from wizard.sandbox import clock, extensions


@pytest.fixture
def aws(aws_credentials, monkeypatch: pytest.MonkeyPatch):
    # one AWS hour = slow_event = 0.5 s: a 300 s deregistration delay drains in ~0.04 s
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=0.5))
    with mock_aws():
        extensions.install()
        yield {s: boto3.client(s) for s in ("ec2", "elbv2", "autoscaling")}


# Durations here are judged when they are read (lazy time), so a test can move time itself:
# with HOLD an AWS hour lasts a wall hour (a state holds whatever the machine's load), with PASS a
# millisecond (whatever was waiting is over at the next call). No sleep races the compressed clock.
HOLD, PASS = 3600.0, 0.001


def _aws_hour(monkeypatch: pytest.MonkeyPatch, wall_seconds: float) -> None:
    """From now on one AWS hour lasts `wall_seconds` (see HOLD and PASS)."""
    monkeypatch.setattr(
        clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=wall_seconds)
    )


def _balancer(aws: dict[str, Any], *, listener: bool = True, **tg: Any) -> str:
    ec2, elbv2 = aws["ec2"], aws["elbv2"]
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    lb = elbv2.create_load_balancer(Name="lb1", Subnets=subnets)["LoadBalancers"][0]
    arn = elbv2.create_target_group(Name="tg1", Protocol="HTTP", Port=80, VpcId=vpc, **tg)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    if listener:
        elbv2.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}],
        )
    return arn


def _health(aws: dict[str, Any], arn: str, ids: list[str] | None = None) -> dict[str, dict]:
    kwargs: dict[str, Any] = {"TargetGroupArn": arn}
    if ids:
        kwargs["Targets"] = [{"Id": i} for i in ids]
    resp = aws["elbv2"].describe_target_health(**kwargs)
    validate("elbv2", "DescribeTargetHealth", resp)
    return {d["Target"]["Id"]: d["TargetHealth"] for d in resp["TargetHealthDescriptions"]}


def _instances(aws: dict[str, Any], n: int, tag: str | None = None) -> list[str]:
    kwargs: dict[str, Any] = {"ImageId": "ami-12c6146b", "MinCount": n, "MaxCount": n}
    if tag:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": "sandbox:target-health", "Value": tag}]}
        ]
    return [i["InstanceId"] for i in aws["ec2"].run_instances(**kwargs)["Instances"]]


def test_health_comes_from_the_tag_and_from_what_was_deployed(aws, monkeypatch):
    arn = _balancer(aws, HealthCheckPath="/health")
    nothing = _instances(aws, 1)
    mismatch = _instances(aws, 1, "unhealthy:Target.ResponseCodeMismatch:502")
    timeout = _instances(aws, 1, "unhealthy:Target.Timeout")
    healthy = _instances(aws, 1, "healthy")
    ids = nothing + mismatch + timeout + healthy
    aws["elbv2"].register_targets(TargetGroupArn=arn, Targets=[{"Id": i} for i in ids])
    _aws_hour(monkeypatch, PASS)  # past the initial health checks (5 x 30 s + 30 s)
    h = _health(aws, arn)
    # nothing was deployed there: nothing answers on the port
    assert h[nothing[0]] == {
        "State": "unhealthy",
        "Reason": "Target.FailedHealthChecks",
        "Description": "Health checks failed",
    }
    assert h[mismatch[0]]["Reason"] == "Target.ResponseCodeMismatch"
    assert h[mismatch[0]]["Description"] == "Health checks failed with these codes: [502]"
    assert h[timeout[0]] == {
        "State": "unhealthy",
        "Reason": "Target.Timeout",
        "Description": "Request timed out",
    }
    assert h[healthy[0]] == {"State": "healthy"}


def test_a_new_target_is_initial_then_checked(aws, monkeypatch):
    _aws_hour(monkeypatch, HOLD)
    arn = _balancer(aws, HealthCheckIntervalSeconds=10, HealthyThresholdCount=2)
    ids = _instances(aws, 1, "healthy")
    aws["elbv2"].register_targets(TargetGroupArn=arn, Targets=[{"Id": ids[0]}])
    first = _health(aws, arn)[ids[0]]
    assert first["State"] == "initial"
    assert first["Reason"] in ("Elb.RegistrationInProgress", "Elb.InitialHealthChecking")
    _aws_hour(monkeypatch, PASS)  # past 10 s + 2 x 10 s of checks
    assert _health(aws, arn)[ids[0]] == {"State": "healthy"}


def test_deregistration_drains_for_the_delay_then_is_unused(aws, monkeypatch):
    _aws_hour(monkeypatch, HOLD)
    arn = _balancer(aws)
    ids = _instances(aws, 1, "healthy")
    aws["elbv2"].modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "3600"}],
    )
    aws["elbv2"].register_targets(TargetGroupArn=arn, Targets=[{"Id": ids[0]}])
    aws["elbv2"].deregister_targets(TargetGroupArn=arn, Targets=[{"Id": ids[0]}])
    draining = _health(aws, arn)  # listed without Targets while it drains, as on AWS
    assert draining[ids[0]]["State"] == "draining"
    assert draining[ids[0]]["Reason"] == "Target.DeregistrationInProgress"
    _aws_hour(monkeypatch, PASS)  # the delay, an AWS hour, is over
    assert _health(aws, arn) == {}
    assert _health(aws, arn, ids)[ids[0]]["Reason"] == "Target.NotRegistered"


def test_deregistration_delay_accepts_0_to_3600_inclusive(aws):
    arn = _balancer(aws)
    for ok in ("0", "3600"):
        aws["elbv2"].modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": ok}],
        )
    attrs = aws["elbv2"].describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "3600"} in attrs
    with pytest.raises(ClientError) as exc:
        aws["elbv2"].modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "3601"}],
        )
    assert exc.value.response["Error"]["Code"] == "ValidationError"


def test_a_target_group_no_load_balancer_uses_is_not_in_use(aws):
    arn = _balancer(aws, listener=False)
    ids = _instances(aws, 1, "healthy")
    aws["elbv2"].register_targets(TargetGroupArn=arn, Targets=[{"Id": ids[0]}])
    assert _health(aws, arn)[ids[0]]["Reason"] == "Target.NotInUse"


# ---- Auto Scaling ----------------------------------------------------------------------------


def _group(aws: dict[str, Any], *, desired: int = 1, target_group: str | None = None) -> str:
    ec2 = aws["ec2"]
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    ec2.create_launch_template(
        LaunchTemplateName="lt1",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
    )
    aws["autoscaling"].create_auto_scaling_group(
        AutoScalingGroupName="asg1",
        LaunchTemplate={"LaunchTemplateName": "lt1"},
        MinSize=0,
        MaxSize=6,
        DesiredCapacity=desired,
        VPCZoneIdentifier=subnets[0],
        TargetGroupARNs=[target_group] if target_group else [],
    )
    return "asg1"


def _states(aws: dict[str, Any], name: str = "asg1") -> dict[str, str]:
    resp = aws["autoscaling"].describe_auto_scaling_groups(AutoScalingGroupNames=[name])
    validate("autoscaling", "DescribeAutoScalingGroups", resp)
    return {i["InstanceId"]: i["LifecycleState"] for i in resp["AutoScalingGroups"][0]["Instances"]}


def test_a_launch_hook_holds_the_instance_until_continue(aws, monkeypatch):
    # an AWS hour = 60 s here: the hook's heartbeat cannot run out on a busy machine
    monkeypatch.setattr(clock, "CLOCK", clock.Clock(start_delay=0.03, event=0.01, slow_event=60))
    arn = _balancer(aws)
    _group(aws, target_group=arn)
    asg = aws["autoscaling"]
    asg.put_lifecycle_hook(
        LifecycleHookName="warm-up",
        AutoScalingGroupName="asg1",
        LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
        HeartbeatTimeout=3600,
        DefaultResult="ABANDON",
    )
    asg.set_desired_capacity(AutoScalingGroupName="asg1", DesiredCapacity=2)
    waiting = [i for i, s in _states(aws).items() if s == "Pending:Wait"]
    assert len(waiting) == 1
    # Auto Scaling registers an instance with the target group only once it is InService
    assert waiting[0] not in _health(aws, arn)
    asg.record_lifecycle_action_heartbeat(
        LifecycleHookName="warm-up", AutoScalingGroupName="asg1", InstanceId=waiting[0]
    )
    asg.complete_lifecycle_action(
        LifecycleHookName="warm-up",
        AutoScalingGroupName="asg1",
        LifecycleActionResult="CONTINUE",
        InstanceId=waiting[0],
    )
    assert _states(aws)[waiting[0]] == "InService"
    assert waiting[0] in _health(aws, arn)
    with pytest.raises(ClientError) as exc:
        asg.complete_lifecycle_action(
            LifecycleHookName="warm-up",
            AutoScalingGroupName="asg1",
            LifecycleActionResult="CONTINUE",
            InstanceId=waiting[0],
        )
    assert "No active Lifecycle Action" in exc.value.response["Error"]["Message"]


def test_a_hook_that_times_out_abandons_and_the_group_launches_again(aws, monkeypatch):
    _aws_hour(monkeypatch, HOLD)
    _group(aws)
    asg = aws["autoscaling"]
    asg.put_lifecycle_hook(
        LifecycleHookName="never-answered",
        AutoScalingGroupName="asg1",
        LifecycleTransition="autoscaling:EC2_INSTANCE_LAUNCHING",
        HeartbeatTimeout=1800,
        DefaultResult="ABANDON",
    )
    asg.set_desired_capacity(AutoScalingGroupName="asg1", DesiredCapacity=2)
    first = {i for i, s in _states(aws).items() if s == "Pending:Wait"}
    assert len(first) == 1
    _aws_hour(monkeypatch, PASS)  # the heartbeat runs out
    states = _states(aws)
    assert not first & set(states)  # abandoned and terminated
    term = aws["ec2"].describe_instances(InstanceIds=sorted(first))["Reservations"]
    assert {i["State"]["Name"] for r in term for i in r["Instances"]} == {"terminated"}
    # the first back-off (60 AWS seconds) is over by the next call; the relaunched instance's
    # heartbeat must not run out before we look at it
    _aws_hour(monkeypatch, HOLD)
    assert any(s == "Pending:Wait" for s in _states(aws).values())  # relaunched
    acts = asg.describe_scaling_activities(AutoScalingGroupName="asg1")
    validate("autoscaling", "DescribeScalingActivities", acts)
    cancelled = [a for a in acts["Activities"] if a["StatusCode"] == "Cancelled"]
    assert cancelled
    assert "was abandoned: Heartbeat Timeout" in cancelled[-1]["StatusMessage"]


def test_suspended_launch_launches_nothing_and_terminate_terminates_nothing(aws):
    _group(aws, desired=2)
    asg = aws["autoscaling"]
    asg.suspend_processes(AutoScalingGroupName="asg1", ScalingProcesses=["Launch", "Terminate"])
    asg.set_desired_capacity(AutoScalingGroupName="asg1", DesiredCapacity=4)
    assert len(_states(aws)) == 2
    asg.set_desired_capacity(AutoScalingGroupName="asg1", DesiredCapacity=0)
    assert len(_states(aws)) == 2
    asg.resume_processes(AutoScalingGroupName="asg1", ScalingProcesses=["Launch"])
    asg.set_desired_capacity(AutoScalingGroupName="asg1", DesiredCapacity=3)
    assert len(_states(aws)) == 3


def test_suspended_add_to_load_balancer_registers_nothing(aws):
    arn = _balancer(aws)
    _group(aws, desired=1, target_group=arn)
    before = set(_health(aws, arn))
    aws["autoscaling"].suspend_processes(
        AutoScalingGroupName="asg1", ScalingProcesses=["AddToLoadBalancer"]
    )
    aws["autoscaling"].set_desired_capacity(AutoScalingGroupName="asg1", DesiredCapacity=3)
    assert len(_states(aws)) == 3
    assert set(_health(aws, arn)) == before


# ---- CodeDeploy on an Auto Scaling group behind a target group --------------------------------


def test_codedeploy_hook_scale_out_and_traffic_events(aws, monkeypatch):
    from wizard.sandbox.fleetworld import FleetWorld
    from wizard.sandbox.world import START_SH, appspec, zip_bundle

    w = FleetWorld(None)
    bucket = w.bucket()
    role = w.service_role()
    profile = w.instance_profile(bucket=bucket)
    bal = w.load_balancer()
    lt = w.launch_template(profile, security_groups=[bal.instance_security_group])
    asg = w.auto_scaling_group(
        lt,
        desired=1,
        minimum=0,
        maximum=4,
        target_group_arns=[bal.target_group_arn],
        tags={"sandbox:target-health": "healthy"},
    )
    app, group = w.fleet_application(role, asg, target_group=bal.target_group)
    cd, autoscaling = w.client("codedeploy"), w.client("autoscaling")
    resp = cd.get_deployment_group(applicationName=app, deploymentGroupName=group)
    validate("codedeploy", "GetDeploymentGroup", resp)
    (entry,) = resp["deploymentGroupInfo"]["autoScalingGroups"]
    assert entry["name"] == asg
    assert entry["hook"].startswith(f"CodeDeploy-managed-automatic-launch-deployment-hook-{group}-")
    (hook,) = autoscaling.describe_lifecycle_hooks(AutoScalingGroupName=asg)["LifecycleHooks"]
    assert hook["LifecycleHookName"] == entry["hook"]
    assert hook["LifecycleTransition"] == "autoscaling:EC2_INSTANCE_LAUNCHING"
    assert (hook["HeartbeatTimeout"], hook["DefaultResult"]) == (600, "ABANDON")
    assert hook["NotificationMetadata"] == resp["deploymentGroupInfo"]["deploymentGroupId"]

    # nothing deployed yet: CodeDeploy lets a launch continue at once
    autoscaling.set_desired_capacity(AutoScalingGroupName=asg, DesiredCapacity=2)
    assert sorted(_states(aws, asg).values()) == ["InService", "InService"]
    assert cd.list_deployments(applicationName=app, deploymentGroupName=group)["deployments"] == []

    spec = appspec("/var/www/app", {"ApplicationStart": [{"location": "scripts/start.sh"}]})
    etag = w.put_bundle(
        bucket, "app.zip", zip_bundle({"appspec.yml": spec, "scripts/start.sh": START_SH})
    )
    first = w.wait(w.deploy(group, bucket, "app.zip", etag=etag))
    assert first["status"] == "Succeeded", first
    events = [
        e["lifecycleEventName"] for e in w.targets(first["deploymentId"])[0]["lifecycleEvents"]
    ]
    assert events[:3] == ["BeforeBlockTraffic", "BlockTraffic", "AfterBlockTraffic"]
    assert events[-3:] == ["BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic"]

    # a scale-out: Pending:Wait while CodeDeploy deploys the last successful revision
    autoscaling.set_desired_capacity(AutoScalingGroupName=asg, DesiredCapacity=3)
    new = [i for i, s in _states(aws, asg).items() if s == "Pending:Wait"]
    assert len(new) == 1
    ids = cd.list_deployments(applicationName=app, deploymentGroupName=group)["deployments"]
    scale_out = next(i for i in ids if i != first["deploymentId"])
    info = w.wait(scale_out)
    assert info["creator"] == "autoscaling"
    assert info["status"] == "Succeeded", info
    assert info["revision"]["s3Location"]["key"] == "app.zip"
    assert [t["targetId"] for t in w.targets(scale_out)] == new
    assert _states(aws, asg)[new[0]] == "InService"
    _aws_hour(monkeypatch, PASS)  # past the new target's initial health checks
    assert _health(aws, bal.target_group_arn)[new[0]] == {"State": "healthy"}

    # CodeDeploy removes its hook when the group leaves the deployment group
    out = cd.update_deployment_group(
        applicationName=app, currentDeploymentGroupName=group, autoScalingGroups=[]
    )
    assert out["hooksNotCleanedUp"] == []
    assert autoscaling.describe_lifecycle_hooks(AutoScalingGroupName=asg)["LifecycleHooks"] == []
    with pytest.raises(ClientError) as exc:
        cd.update_deployment_group(
            applicationName=app, currentDeploymentGroupName=group, autoScalingGroups=["nope"]
        )
    assert exc.value.response["Error"]["Code"] == "InvalidAutoScalingGroupException"


def test_block_traffic_drains_during_the_event(aws, monkeypatch):
    """BlockTraffic deregisters when it starts: the target drains for the deregistration delay
    while the event waits, then is unused; AllowTraffic registers it again."""
    from wizard.sandbox.fleetworld import FleetWorld
    from wizard.sandbox.world import START_SH, appspec, zip_bundle

    w = FleetWorld(None)
    bucket = w.bucket()
    profile = w.instance_profile(bucket=bucket)
    bal = w.load_balancer(deregistration_delay=600, interval=5, healthy_threshold=2)
    asg = w.auto_scaling_group(
        w.launch_template(profile, security_groups=[bal.instance_security_group]),
        desired=1,
        target_group_arns=[bal.target_group_arn],
        tags={"sandbox:target-health": "healthy"},
    )
    _, group = w.fleet_application(w.service_role(), asg, target_group=bal.target_group)
    spec = appspec("/var/www/app", {"ApplicationStart": [{"location": "scripts/start.sh"}]})
    bundle = zip_bundle({"appspec.yml": spec, "scripts/start.sh": START_SH})
    etag = w.put_bundle(bucket, "app.zip", bundle)
    (iid,) = w.asg_instances(asg)
    _aws_hour(monkeypatch, PASS)  # past the initial health checks (5 s + 2 x 5 s)
    assert _health(aws, bal.target_group_arn)[iid] == {"State": "healthy"}

    # the deployment is planned under HOLD: BlockTraffic waits 600 s + 5 s (wall seconds now),
    # and the target drains for the 600 s; reaching that state is the only wait (a state that
    # holds, so a busy machine can be slow to get there but cannot miss it)
    _aws_hour(monkeypatch, HOLD)
    did = w.deploy(group, bucket, "app.zip", etag=etag)
    state: dict[str, Any] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and state.get("State") != "draining":
        time.sleep(0.05)
        state = _health(aws, bal.target_group_arn).get(iid) or {}
    assert state == {
        "State": "draining",
        "Reason": "Target.DeregistrationInProgress",
        "Description": "Target deregistration is in progress",
    }
    target = w.targets(did)[0]
    events = {e["lifecycleEventName"]: e["status"] for e in target["lifecycleEvents"]}
    assert events["BlockTraffic"] == "InProgress"  # CodeDeploy waits out the draining

    _aws_hour(monkeypatch, PASS)  # the deregistration delay is over: no longer listed, unused
    assert _health(aws, bal.target_group_arn) == {}
    gone = _health(aws, bal.target_group_arn, [iid])[iid]
    assert (gone["State"], gone["Reason"]) == ("unused", "Target.NotRegistered")


def test_allow_traffic_registers_the_instance_again(aws):
    """After a deployment through a target group the instance is registered again, its initial
    health checks behind it (CodeDeploy's AllowTraffic waited for them)."""
    from wizard.sandbox.fleetworld import FleetWorld
    from wizard.sandbox.world import START_SH, appspec, zip_bundle

    w = FleetWorld(None)
    bucket = w.bucket()
    profile = w.instance_profile(bucket=bucket)
    bal = w.load_balancer(deregistration_delay=30, interval=5, healthy_threshold=2)
    asg = w.auto_scaling_group(
        w.launch_template(profile, security_groups=[bal.instance_security_group]),
        desired=2,
        target_group_arns=[bal.target_group_arn],
        tags={"sandbox:target-health": "healthy"},
    )
    _, group = w.fleet_application(w.service_role(), asg, target_group=bal.target_group)
    spec = appspec("/var/www/app", {"ApplicationStart": [{"location": "scripts/start.sh"}]})
    bundle = zip_bundle({"appspec.yml": spec, "scripts/start.sh": START_SH})
    etag = w.put_bundle(bucket, "app.zip", bundle)
    info = w.wait(w.deploy(group, bucket, "app.zip", etag=etag))
    assert info["status"] == "Succeeded", info
    # both are registered again and healthy (AllowTraffic waited for their checks)
    health = _health(aws, bal.target_group_arn)
    assert health == {i: {"State": "healthy"} for i in w.asg_instances(asg)}
