"""The deployment group's fleet settings against moto: Auto Scaling group targets, traffic control
through a target group, automatic rollback, and the update an existing setup gets."""

from __future__ import annotations

import boto3
import pytest

from tests.steps_support import CallRecorder, make_project, moto_account, no_sleep, sc_for
from wizard.steps import application, engine, roles

REGION = "us-east-1"


@pytest.fixture
def aws(aws_credentials):
    from wizard.sandbox import extensions

    extensions.install()  # UpdateDeploymentGroup, DeleteDeploymentGroup
    yield from moto_account()


def _group():
    return boto3.client("codedeploy", region_name=REGION).get_deployment_group(
        applicationName="shop", deploymentGroupName="shop-group"
    )["deploymentGroupInfo"]


def _asg_names_answered(info: dict) -> bool:
    """Does the emulator answer autoScalingGroups in AWS's shape ([{name, hook}])?"""
    return all(isinstance(g, dict) and g.get("name") for g in info.get("autoScalingGroups") or [])


def _setup(aws, project):
    sc = sc_for(aws, project)
    for mod in (roles, application):
        for ch in mod.plan(sc):
            assert ch.action != "conflict", ch.description
            mod.apply(sc, ch)
    return sc


def test_a_tagged_group_rolls_back_on_failure_without_traffic_control_by_default(aws):
    _setup(aws, make_project("shop"))
    info = _group()
    assert info["autoRollbackConfiguration"] == {"enabled": True, "events": ["DEPLOYMENT_FAILURE"]}
    assert info["deploymentStyle"] == {
        "deploymentType": "IN_PLACE",
        "deploymentOption": "WITHOUT_TRAFFIC_CONTROL",
    }
    assert info["ec2TagFilters"][0]["Key"] == "codedeploy-wizard:application"
    assert not info.get("autoScalingGroups")


@pytest.mark.parametrize(
    ("rollback", "enabled", "events", "words"),
    [
        ({"on_failure": False}, False, [], "no automatic rollback"),
        ({"on_stop": True}, True, ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST"], "stop"),
    ],
)
def test_rollback_settings_are_planned_updates_that_say_what_was(
    aws, rollback, enabled, events, words
):
    _setup(aws, make_project("shop"))
    sc = sc_for(aws, make_project("shop", rollback=rollback))
    grp = application.plan(sc)[1]
    assert grp.action == "update" and grp.data["drift"] == ["autoRollbackConfiguration"]
    assert words in grp.description and "(now: rollback on DEPLOYMENT_FAILURE)" in grp.description
    application.apply(sc, grp)
    got = _group()["autoRollbackConfiguration"]
    assert got["enabled"] is enabled and sorted(got.get("events") or []) == sorted(events)
    assert application.plan(sc_for(aws, make_project("shop", rollback=rollback)))[1].action == (
        "noop"
    )


def test_a_setup_made_before_rollback_existed_gets_it_as_an_update(aws):
    project = make_project("shop")
    sc = _setup(aws, project)
    boto3.client("codedeploy", region_name=REGION).update_deployment_group(
        applicationName="shop",
        currentDeploymentGroupName="shop-group",
        autoRollbackConfiguration={"enabled": False, "events": []},
    )
    grp = application.plan(sc)[1]
    assert grp.action == "update" and "(now: no rollback)" in grp.description


def test_a_scaling_fleet_targets_the_group_through_the_target_group(aws):
    project = make_project(
        "shop",
        instances={"auto_scaling": {"min": 1, "max": 3, "desired": 1}},
        load_balancer={"create": True},
    )
    plan = engine.build_plan(aws, project)
    [grp] = [c for c in plan.changes if c.resource == "codedeploy:deployment-group"]
    assert "the Auto Scaling group shop-asg" in grp.description
    assert "traffic control through the target group shop-tg" in grp.description
    result = engine.apply_plan(aws, project, plan, sleep=no_sleep)
    assert result.ok, result.error
    info = _group()
    assert info["deploymentStyle"] == {
        "deploymentType": "IN_PLACE",
        "deploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert info["loadBalancerInfo"]["targetGroupInfoList"] == [{"name": "shop-tg"}]
    assert info["ec2TagFilters"] == []
    assert info["autoRollbackConfiguration"]["events"] == ["DEPLOYMENT_FAILURE"]
    if not _asg_names_answered(info):
        pytest.skip("the emulator does not answer autoScalingGroups as [{name, hook}] yet")
    assert [g["name"] for g in info["autoScalingGroups"]] == ["shop-asg"]
    recorder = CallRecorder(aws)
    again = engine.build_plan(aws, project)
    assert {c.action for c in again.changes} == {"noop"}, [
        c.description for c in again.changes if c.action != "noop"
    ]
    assert recorder.mutating() == []


def _existing_group_and_target_group() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    lt = ec2.create_launch_template(
        LaunchTemplateName="web-lt",
        LaunchTemplateData={"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"},
    )["LaunchTemplate"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
        "Subnets"
    ][0]
    boto3.client("autoscaling", region_name=REGION).create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplateId"]},
        MinSize=0,
        MaxSize=1,
        VPCZoneIdentifier=subnet["SubnetId"],
    )
    boto3.client("elbv2", region_name=REGION).create_target_group(
        Name="web-tg", Protocol="HTTP", Port=80, VpcId=subnet["VpcId"]
    )


def test_back_to_tags_clears_the_group_and_the_traffic_control(aws):
    _existing_group_and_target_group()
    fleet = make_project(
        "shop",
        instances={"auto_scaling": {"name": "web"}},
        load_balancer={"target_group": "web-tg"},
    )
    sc = sc_for(aws, fleet)
    for ch in roles.plan(sc):
        roles.apply(sc, ch)
    app, grp = application.plan(sc)
    application.apply(sc, app)
    cd = boto3.client("codedeploy", region_name=REGION)
    cd.create_deployment_group(
        applicationName="shop",
        deploymentGroupName="shop-group",
        serviceRoleArn=application.service_role_arn(sc),
        tags=sc.tag_list(),
        **{k: v for k, v in application.desired_group(sc).items() if k != "serviceRoleArn"},
    )
    tagged = sc_for(aws, make_project("shop"))
    grp = application.plan(tagged)[1]
    assert grp.action == "update"
    assert {"ec2TagFilters", "autoScalingGroups", "deploymentStyle"} <= set(grp.data["drift"])
    assert "WITH_TRAFFIC_CONTROL through web-tg" in grp.description
    application.apply(tagged, grp)
    info = _group()
    assert info["deploymentStyle"]["deploymentOption"] == "WITHOUT_TRAFFIC_CONTROL"
    assert info["ec2TagFilters"][0]["Value"] == "shop"
    assert not info.get("autoScalingGroups")


def test_a_deleted_launch_hook_is_planned_back(aws):
    """Someone deleted CodeDeploy's launch hook from the group: plan names it, apply takes the
    group out of the deployment group and back in, and CodeDeploy installs a new hook."""
    project = make_project("shop", instances={"auto_scaling": {"min": 1, "max": 3, "desired": 1}})
    result = engine.apply_plan(aws, project, engine.build_plan(aws, project), sleep=no_sleep)
    assert result.ok, result.error
    asg = boto3.client("autoscaling", region_name=REGION)
    (hook,) = asg.describe_lifecycle_hooks(AutoScalingGroupName="shop-asg")["LifecycleHooks"]
    asg.delete_lifecycle_hook(
        AutoScalingGroupName="shop-asg", LifecycleHookName=hook["LifecycleHookName"]
    )
    sc = sc_for(aws, project)
    grp = application.plan(sc)[1]
    assert grp.action == "update" and grp.data["drift"] == ["launchHook"], grp.description
    assert "reinstall its launch hook on shop-asg" in grp.description
    assert "launch hook is missing" in grp.description
    application.apply(sc, grp)
    (entry,) = _group()["autoScalingGroups"]
    hooks = asg.describe_lifecycle_hooks(AutoScalingGroupName="shop-asg")["LifecycleHooks"]
    assert [h["LifecycleHookName"] for h in hooks] == [entry["hook"]]
    assert application.plan(sc_for(aws, project))[1].action == "noop"
