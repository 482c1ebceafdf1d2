"""Auto Scaling step against moto: launch template, the group, the service role's scoped policy,
adopting an existing group, updates, waiting for capacity and destroy by the ownership tag."""

from __future__ import annotations

import base64
import json

import boto3
import pytest

from tests.steps_support import CallRecorder, make_project, moto_account, no_sleep, sc_for
from wizard import TAG_KEY, naming
from wizard.errors import WizardError
from wizard.steps import autoscaling, engine, roles

REGION = "us-east-1"
ACCOUNT = "123456789012"
SIZES = {"min": 2, "max": 4, "desired": 2}


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _asg():
    return boto3.client("autoscaling", region_name=REGION)


def _ec2():
    return boto3.client("ec2", region_name=REGION)


def _project(lb: dict | None = None, **sizes):
    extra = {"load_balancer": lb} if lb else {}
    return make_project("shop", instances={"auto_scaling": {**SIZES, **sizes}}, **extra)


def _run(aws, project):
    """Apply the steps up to this one (roles, load balancer) and this one; return its plan."""
    from wizard.steps import loadbalancer

    sc = sc_for(aws, project)
    for mod in (roles, loadbalancer, autoscaling):
        changes = mod.plan(sc)
        for ch in changes:
            assert ch.action != "conflict", ch.description
            mod.apply(sc, ch)
    return sc, changes


def _template_data(name="shop-codedeploy"):
    return _ec2().describe_launch_template_versions(LaunchTemplateName=name, Versions=["$Default"])[
        "LaunchTemplateVersions"
    ][0]


def test_a_new_group_from_a_launch_template_with_the_agent_imdsv2_and_the_profile(aws):
    project = _project(lb={"create": True})
    sc, changes = _run(aws, project)
    assert [(c.resource, c.action) for c in changes] == [
        ("ec2:launch-template", "create"),
        ("iam:role-policy", "create"),
        ("autoscaling:group", "create"),
    ]
    assert "IMDSv2 required" in changes[0].description
    version = _template_data()
    data = version["LaunchTemplateData"]
    param = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    ami = boto3.client("ssm", region_name=REGION).get_parameter(Name=param)["Parameter"]["Value"]
    assert data["ImageId"] == ami
    assert data["InstanceType"] == "t3.micro"
    assert data["IamInstanceProfile"]["Name"] == "shop-codedeploy-ec2"
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    script = base64.b64decode(data["UserData"]).decode()
    assert "aws-codedeploy-us-east-1.s3.us-east-1.amazonaws.com/latest/install" in script
    sg = _ec2().describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["shop-instances"]}]
    )["SecurityGroups"][0]
    assert data["SecurityGroupIds"] == [sg["GroupId"]]

    group = _asg().describe_auto_scaling_groups(AutoScalingGroupNames=["shop-asg"])[
        "AutoScalingGroups"
    ][0]
    assert (group["MinSize"], group["DesiredCapacity"], group["MaxSize"]) == (2, 2, 4)
    assert group["LaunchTemplate"]["LaunchTemplateName"] == "shop-codedeploy"
    assert group["HealthCheckType"] == "EC2"
    tg = boto3.client("elbv2", region_name=REGION).describe_target_groups(Names=["shop-tg"])
    assert group["TargetGroupARNs"] == [tg["TargetGroups"][0]["TargetGroupArn"]]
    tags = {t["Key"]: (t["Value"], t["PropagateAtLaunch"]) for t in group["Tags"]}
    assert tags[TAG_KEY] == ("shop", True) and tags["Name"] == ("shop", True)
    in_service = [i for i in group["Instances"] if i["LifecycleState"] == "InService"]
    assert len(in_service) == 2
    assert sc.outputs["auto_scaling_group"] == "shop-asg"

    recorder = CallRecorder(aws)
    again = autoscaling.plan(sc_for(aws, project))
    assert {c.action for c in again} == {"noop"}, [c.description for c in again]
    assert recorder.mutating() == []


def test_the_service_role_may_launch_only_from_our_template_and_pass_only_our_role(aws):
    _run(aws, _project())
    lt = _ec2().describe_launch_templates(LaunchTemplateNames=["shop-codedeploy"])[
        "LaunchTemplates"
    ][0]
    doc = boto3.client("iam").get_role_policy(
        RoleName="shop-codedeploy-service", PolicyName=naming.LAUNCH_TEMPLATE_POLICY
    )["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    by_action = {s["Action"]: s for s in doc["Statement"]}
    assert set(by_action) == {"ec2:RunInstances", "ec2:CreateTags", "iam:PassRole"}
    assert by_action["ec2:RunInstances"]["Condition"] == {
        "ArnLike": {
            "ec2:LaunchTemplate": f"arn:aws:ec2:{REGION}:{ACCOUNT}:launch-template/"
            f"{lt['LaunchTemplateId']}"
        }
    }
    assert by_action["ec2:CreateTags"]["Condition"] == {
        "StringEquals": {"ec2:CreateAction": "RunInstances"}
    }
    passing = by_action["iam:PassRole"]
    assert passing["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/shop-codedeploy-ec2"
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}


def test_new_sizes_and_a_new_instance_type_are_planned_updates(aws):
    _run(aws, _project())
    project = make_project(
        "shop",
        # desired stays: moto cannot launch from a template version added later (its
        # CreateLaunchTemplateVersion keeps UserData unparsed), and nothing here needs a launch
        instances={"auto_scaling": {"min": 1, "max": 6, "desired": 2}, "instance_type": "t3.small"},
    )
    sc = sc_for(aws, project)
    changes = {c.resource: c for c in autoscaling.plan(sc)}
    lt = changes["ec2:launch-template"]
    assert lt.action == "update" and "instance type t3.micro → t3.small" in lt.description
    assert "start-instance-refresh --auto-scaling-group-name shop-asg" in lt.warning
    group = changes["autoscaling:group"]
    assert group.action == "update"
    assert "min 2 → 1" in group.description and "max 4 → 6" in group.description
    for ch in changes.values():
        autoscaling.apply(sc, ch)
    assert _template_data()["LaunchTemplateData"]["InstanceType"] == "t3.small"
    assert _template_data()["VersionNumber"] == 2
    got = _asg().describe_auto_scaling_groups(AutoScalingGroupNames=["shop-asg"])[
        "AutoScalingGroups"
    ][0]
    assert (got["MinSize"], got["DesiredCapacity"], got["MaxSize"]) == (1, 2, 6)
    assert {c.action for c in autoscaling.plan(sc_for(aws, project))} == {"noop"}


def _their_group(name="web", profile=None):
    ec2 = _ec2()
    data = {"ImageId": "ami-12c6146b", "InstanceType": "t3.micro"}
    if profile:
        data["IamInstanceProfile"] = {"Name": profile}
    lt = ec2.create_launch_template(LaunchTemplateName=f"{name}-lt", LaunchTemplateData=data)
    subnet = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])[
        "Subnets"
    ][0]["SubnetId"]
    _asg().create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchTemplate={"LaunchTemplateId": lt["LaunchTemplate"]["LaunchTemplateId"]},
        MinSize=1,
        MaxSize=3,
        DesiredCapacity=1,
        VPCZoneIdentifier=subnet,
    )
    return lt["LaunchTemplate"]["LaunchTemplateId"]


def test_a_group_of_that_name_without_our_tag_is_a_conflict_that_offers_adoption(aws):
    _their_group("shop-asg")
    sc = sc_for(aws, _project())
    [group] = [c for c in autoscaling.plan(sc) if c.resource == "autoscaling:group"]
    assert group.action == "conflict"
    assert "instances.auto_scaling: {name: shop-asg}" in group.fix
    assert "aws autoscaling create-or-update-tags" in group.fix


def test_adopting_a_group_leaves_it_alone_and_scopes_the_policy_to_its_template(aws):
    iam = boto3.client("iam")
    iam.create_role(RoleName="web-role", AssumeRolePolicyDocument="{}")
    iam.create_instance_profile(InstanceProfileName="web-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="web-profile", RoleName="web-role")
    template_id = _their_group("web", profile="web-profile")

    missing = make_project("shop", instances={"auto_scaling": {"name": "nope"}})
    [absent] = autoscaling.plan(sc_for(aws, missing))
    assert absent.action == "conflict" and "no Auto Scaling group nope" in absent.description

    project = make_project("shop", instances={"auto_scaling": {"name": "web"}})
    sc = sc_for(aws, project)
    for ch in roles.plan(sc):
        roles.apply(sc, ch)
    policy, group = autoscaling.plan(sc)
    assert group.action == "noop" and "leaves it as it is" in group.description
    assert "instance profile web-profile" in group.warning
    assert "s3://shop-codedeploy-" in group.warning
    assert policy.resource == "iam:role-policy" and policy.action == "create"
    assert "web-lt" in policy.description and "web-role" in policy.description
    recorder = CallRecorder(aws)
    for ch in (policy, group):
        autoscaling.apply(sc, ch)
    assert [c for c in recorder.mutating() if not c.startswith("iam:")] == []
    doc = iam.get_role_policy(
        RoleName="shop-codedeploy-service", PolicyName=naming.LAUNCH_TEMPLATE_POLICY
    )["PolicyDocument"]
    text = json.dumps(doc)
    assert template_id in text and "role/web-role" in text
    # the wizard's own instances step has nothing to do with the group's instances
    assert [c for c in engine.build_plan(aws, project).changes if c.step == "instances"] == []


def test_waiting_for_capacity_gives_up_with_a_clear_error(aws, monkeypatch):
    project = _project()
    sc = sc_for(aws, project)
    slept = []
    sc.sleep = slept.append
    monkeypatch.setattr(autoscaling, "get_group", lambda sc, name: {"Instances": []})
    with pytest.raises(WizardError, match="2 instances of shop-asg to be in service"):
        autoscaling.wait_in_service(sc, "shop-asg", 2)
    assert sum(slept) >= autoscaling.IN_SERVICE_TIMEOUT
    assert max(slept) == 10.0


def test_destroy_deletes_the_group_with_its_instances_then_the_template(aws):
    project = _project()
    _run(aws, project)
    _their_group("theirs")
    plan = engine.build_destroy_plan(aws, project)
    order = [(c.resource, c.name) for c in plan.changes]
    assert order.index(("autoscaling:group", "shop-asg")) < order.index(
        ("ec2:launch-template", "shop-codedeploy")
    )
    assert ("autoscaling:group", "theirs") not in order
    # the group's instances carry the ownership tag, but are not the instances step's to detach
    assert not [c for c in plan.changes if c.step == "instances"]
    result = engine.apply_destroy(aws, project, plan, sleep=no_sleep)
    assert result.ok, result.error
    names = [
        g["AutoScalingGroupName"]
        for g in _asg().describe_auto_scaling_groups()["AutoScalingGroups"]
    ]
    assert names == ["theirs"]
    assert [
        t["LaunchTemplateName"] for t in _ec2().describe_launch_templates()["LaunchTemplates"]
    ] == ["theirs-lt"]
    assert not [c for c in engine.build_destroy_plan(aws, project).changes if c.action == "delete"]


def test_a_group_the_project_no_longer_uses_is_named_with_a_warning(aws):
    _run(aws, _project())
    tagged = make_project("shop")
    [left] = autoscaling.plan(sc_for(aws, tagged))
    assert left.action == "noop" and left.name == "shop-asg"
    assert "no longer uses it" in left.description
    assert "wizard destroy" in left.warning and "--force-delete" in left.warning
    assert autoscaling.plan(sc_for(aws, make_project("other"))) == []
