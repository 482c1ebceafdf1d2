"""Roles step against moto: trust documents, least-privilege policies, conflicts, drift updates."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.steps_support import make_project, moto_account, sc_for
from wizard import TAG_KEY
from wizard.steps import roles
from wizard.steps.base import ConflictError

ACCOUNT = "123456789012"


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _apply_all(sc):
    for ch in roles.plan(sc):
        roles.apply(sc, ch)


def _attached(iam, name):
    return {
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]
    }


def test_creates_two_separate_roles_with_the_right_trust_and_policies(aws):
    project = make_project("shop")
    sc = sc_for(aws, project)
    plan = roles.plan(sc)
    assert [(c.resource, c.action) for c in plan] == [
        ("iam:role", "create"),
        ("iam:instance-profile", "create"),
        ("iam:role", "create"),
    ]
    _apply_all(sc)
    iam = boto3.client("iam")

    ec2_role = iam.get_role(RoleName="shop-codedeploy-ec2")["Role"]
    stmt = ec2_role["AssumeRolePolicyDocument"]["Statement"]
    assert stmt == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert {"Key": TAG_KEY, "Value": "shop"} in ec2_role["Tags"]
    inline = iam.get_role_policy(
        RoleName="shop-codedeploy-ec2", PolicyName="codedeploy-wizard-revision-read"
    )["PolicyDocument"]
    bucket = f"shop-codedeploy-{ACCOUNT}-us-east-1"
    by_sid = {s["Sid"]: s for s in inline["Statement"]}
    assert by_sid["ReadRevisions"]["Resource"] == f"arn:aws:s3:::{bucket}/releases/*"
    assert set(by_sid["ReadRevisions"]["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
    assert by_sid["ListRevisions"]["Resource"] == f"arn:aws:s3:::{bucket}"
    assert by_sid["ListRevisions"]["Condition"] == {"StringLike": {"s3:prefix": ["releases/*"]}}
    assert by_sid["ReadAgentInstaller"]["Resource"] == "arn:aws:s3:::aws-codedeploy-us-east-1/*"
    assert "*" not in json.dumps([s["Action"] for s in inline["Statement"]])
    assert _attached(iam, "shop-codedeploy-ec2") == {
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    }

    prof = iam.get_instance_profile(InstanceProfileName="shop-codedeploy-ec2")["InstanceProfile"]
    assert [r["RoleName"] for r in prof["Roles"]] == ["shop-codedeploy-ec2"]
    assert {"Key": TAG_KEY, "Value": "shop"} in prof["Tags"]

    svc = iam.get_role(RoleName="shop-codedeploy-service")["Role"]
    (s,) = svc["AssumeRolePolicyDocument"]["Statement"]
    assert s["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    assert s["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnLike": {
            "aws:SourceArn": f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:deploymentgroup:shop/*"
        },
    }
    assert _attached(iam, "shop-codedeploy-service") == {
        "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"
    }
    # second plan: nothing to do
    assert [c.action for c in roles.plan(sc)] == ["noop"] * 3


def test_ssm_off_plans_detaching_it_from_our_role(aws):
    sc = sc_for(aws, make_project("shop"))
    _apply_all(sc)
    sc2 = sc_for(aws, make_project("shop", roles={"ssm": False}))
    change = roles.plan(sc2)[0]
    assert change.action == "update"
    assert "detach AmazonSSMManagedInstanceCore" in change.description
    assert change.calls == ["iam:DetachRolePolicy"]
    roles.apply(sc2, change)
    assert _attached(boto3.client("iam"), "shop-codedeploy-ec2") == set()


def test_a_weakened_trust_on_our_role_is_planned_as_an_update(aws):
    sc = sc_for(aws, make_project("shop"))
    _apply_all(sc)
    iam = boto3.client("iam")
    loose = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codedeploy.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.update_assume_role_policy(
        RoleName="shop-codedeploy-service", PolicyDocument=json.dumps(loose)
    )
    change = roles.plan(sc)[2]
    assert change.action == "update"
    assert change.calls == ["iam:UpdateAssumeRolePolicy"]
    roles.apply(sc, change)
    doc = iam.get_role(RoleName="shop-codedeploy-service")["Role"]["AssumeRolePolicyDocument"]
    assert "aws:SourceAccount" in json.dumps(doc)


def test_a_role_of_that_name_without_our_tag_is_a_conflict_and_is_not_touched(aws):
    iam = boto3.client("iam")
    iam.create_role(RoleName="shop-codedeploy-ec2", AssumeRolePolicyDocument="{}")
    sc = sc_for(aws, make_project("shop"))
    change = roles.plan(sc)[0]
    assert change.action == "conflict"
    assert "not created by the wizard" in change.description
    assert "aws iam tag-role --role-name shop-codedeploy-ec2" in change.fix
    try:
        roles.apply(sc, change)
    except ConflictError:
        pass
    else:  # pragma: no cover
        raise AssertionError("apply overwrote a foreign role")
    assert iam.list_role_policies(RoleName="shop-codedeploy-ec2")["PolicyNames"] == []


def test_a_foreign_instance_profile_is_a_conflict(aws):
    boto3.client("iam").create_instance_profile(InstanceProfileName="shop-codedeploy-ec2")
    change = roles.plan(sc_for(aws, make_project("shop")))[1]
    assert change.resource == "iam:instance-profile"
    assert change.action == "conflict"


def test_profile_left_empty_by_an_interrupted_apply_gets_its_role(aws):
    sc = sc_for(aws, make_project("shop"))
    spec = roles.instance_role_spec(sc)
    roles.ensure_role(sc, spec)
    boto3.client("iam").create_instance_profile(
        InstanceProfileName="shop-codedeploy-ec2", Tags=[{"Key": TAG_KEY, "Value": "shop"}]
    )
    change = roles.plan(sc)[1]
    assert change.action == "update"
    roles.apply(sc, change)
    prof = boto3.client("iam").get_instance_profile(InstanceProfileName="shop-codedeploy-ec2")
    assert [r["RoleName"] for r in prof["InstanceProfile"]["Roles"]] == ["shop-codedeploy-ec2"]


def test_destroy_removes_only_our_roles(aws):
    sc = sc_for(aws, make_project("shop"))
    _apply_all(sc)
    iam = boto3.client("iam")
    iam.create_role(RoleName="other", AssumeRolePolicyDocument="{}")
    plan = roles.destroy_plan(sc)
    assert [(c.resource, c.action) for c in plan] == [
        ("iam:instance-profile", "delete"),
        ("iam:role", "delete"),
        ("iam:role", "delete"),
    ]
    for ch in plan:
        roles.destroy(sc, ch)
    names = {r["RoleName"] for r in iam.list_roles()["Roles"]}
    assert names == {"other"}
    assert iam.list_instance_profiles()["InstanceProfiles"] == []
    assert roles.destroy_plan(sc) == []
