"""The sandbox's IAM policy evaluation (what SimulatePrincipalPolicy and the fleet rely on)."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from wizard.sandbox import extensions, iam_sim
from wizard.sandbox.iam_sim import PolicySource, Principal, evaluate, normalise_context

BUCKET_OBJ = "arn:aws:s3:::revisions/releases/app.zip"
ROLE = "arn:aws:iam::123456789012:role/app-ec2"


def identity(*statements: dict) -> list[PolicySource]:
    return [PolicySource("p", "role", {"Version": "2012-10-17", "Statement": list(statements)})]


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def test_wildcards_in_actions_and_resources() -> None:
    policies = identity(allow("s3:Get*", "arn:aws:s3:::revisions/releases/*"))
    assert evaluate("s3:GetObject", BUCKET_OBJ, policies).decision == "allowed"
    assert evaluate("S3:getobject", BUCKET_OBJ, policies).decision == "allowed"
    assert evaluate("s3:PutObject", BUCKET_OBJ, policies).decision == "implicitDeny"
    assert evaluate("s3:GetObject", "arn:aws:s3:::other/x", policies).decision == "implicitDeny"
    single = identity(allow("s3:GetObjec?", "arn:aws:s3:::revisions/releases/app.???"))
    assert evaluate("s3:GetObject", BUCKET_OBJ, single).allowed


def test_explicit_deny_wins_over_any_allow() -> None:
    policies = identity(allow("s3:*"), deny("s3:GetObject", "arn:aws:s3:::revisions/*"))
    d = evaluate("s3:GetObject", BUCKET_OBJ, policies)
    assert d.decision == "explicitDeny"
    assert evaluate("s3:ListBucket", "arn:aws:s3:::revisions", policies).allowed


def test_allow_whose_condition_does_not_match_is_not_an_allow_and_not_a_deny() -> None:
    cond = {"StringEquals": {"aws:SourceAccount": "111111111111"}}
    policies = identity(allow("s3:GetObject", Condition=cond), allow("s3:ListBucket"))
    ctx = normalise_context({"aws:SourceAccount": "123456789012"})
    assert evaluate("s3:GetObject", BUCKET_OBJ, policies, context=ctx).decision == "implicitDeny"
    # another statement can still allow it: a non-matching condition is not a Deny
    policies += identity(allow("s3:GetObject"))
    assert evaluate("s3:GetObject", BUCKET_OBJ, policies, context=ctx).allowed


def test_string_and_arn_conditions_with_context_entries() -> None:
    like = {"ArnLike": {"aws:SourceArn": "arn:aws:codedeploy:*:123456789012:deploymentgroup:app/*"}}
    policies = identity(allow("sts:AssumeRole", Condition=like))
    ok = normalise_context(
        [
            {
                "ContextKeyName": "aws:SourceArn",
                "ContextKeyValues": [
                    "arn:aws:codedeploy:us-east-1:123456789012:deploymentgroup:app/prod"
                ],
                "ContextKeyType": "string",
            }
        ]
    )
    bad = normalise_context(
        {"aws:SourceArn": "arn:aws:codedeploy:us-east-1:999999999999:deploymentgroup:app/prod"}
    )
    assert evaluate("sts:AssumeRole", "*", policies, context=ok).allowed
    assert not evaluate("sts:AssumeRole", "*", policies, context=bad).allowed
    missing = evaluate("sts:AssumeRole", "*", policies, context={})
    assert not missing.allowed
    assert missing.missing_context == ["aws:SourceArn"]
    not_equals = identity(
        allow("s3:*", Condition={"StringNotEquals": {"aws:PrincipalTag/team": "web"}})
    )
    assert evaluate("s3:GetObject", BUCKET_OBJ, not_equals, context={}).allowed  # key absent
    if_exists = identity(allow("s3:*", Condition={"StringEqualsIfExists": {"s3:prefix": "x/"}}))
    assert evaluate("s3:GetObject", BUCKET_OBJ, if_exists, context={}).allowed
    string_like = identity(allow("s3:*", Condition={"StringLike": {"aws:userid": "AROA*:i-*"}}))
    assert evaluate(
        "s3:GetObject",
        BUCKET_OBJ,
        string_like,
        context=normalise_context({"aws:userid": "AROAX:i-0abc"}),
    ).allowed
    assert not evaluate(
        "s3:GetObject", BUCKET_OBJ, string_like, context=normalise_context({"aws:userid": "AIDAX"})
    ).allowed


def test_resource_policy_allows_or_denies_only_the_principals_it_names() -> None:
    bucket_policy = PolicySource(
        "ResourcePolicy",
        "resource",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE},
                    "Action": "s3:GetObject",
                    "Resource": BUCKET_OBJ,
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:DeleteObject",
                    "Resource": BUCKET_OBJ,
                },
            ]
        },
        is_resource_policy=True,
    )
    who = Principal(ROLE, None, "123456789012")
    other = Principal("arn:aws:iam::123456789012:role/other", None, "123456789012")
    assert evaluate(
        "s3:GetObject", BUCKET_OBJ, [], resource_policy=bucket_policy, principal=who
    ).allowed
    assert not evaluate(
        "s3:GetObject", BUCKET_OBJ, [], resource_policy=bucket_policy, principal=other
    ).allowed
    full = identity(allow("s3:*"))
    d = evaluate("s3:DeleteObject", BUCKET_OBJ, full, resource_policy=bucket_policy, principal=who)
    assert d.decision == "explicitDeny"


def test_not_action_and_policy_variables() -> None:
    policies = identity(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"),
    )
    assert evaluate("ec2:DescribeInstances", "*", policies).allowed
    assert not evaluate("iam:CreateUser", "*", policies).allowed
    only_home = identity(allow("s3:GetObject", "arn:aws:s3:::home/${aws:username}/*"))
    ctx = normalise_context({"aws:username": "alice"})
    assert evaluate("s3:GetObject", "arn:aws:s3:::home/alice/x", only_home, context=ctx).allowed
    assert not evaluate("s3:GetObject", "arn:aws:s3:::home/bob/x", only_home, context=ctx).allowed


def test_trust_policies() -> None:
    trust = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["ec2.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    assert iam_sim.trusts(json.dumps(trust), "ec2.amazonaws.com")
    assert not iam_sim.trusts(json.dumps(trust), "codedeploy.amazonaws.com")
    assert not iam_sim.trusts("", "ec2.amazonaws.com")


@pytest.fixture
def iam(aws_credentials):
    with mock_aws():
        extensions.install()
        yield boto3.client("iam", region_name="us-east-1")


def test_simulate_principal_policy_through_the_api(iam) -> None:
    iam.create_role(
        RoleName="app-ec2",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    iam.put_role_policy(
        RoleName="app-ec2",
        PolicyName="read",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [allow("s3:GetObject", "arn:aws:s3:::revisions/*")],
            }
        ),
    )
    iam.attach_role_policy(
        RoleName="app-ec2", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    resp = iam.simulate_principal_policy(
        PolicySourceArn=ROLE,
        ActionNames=["s3:GetObject", "s3:PutObject", "ssm:UpdateInstanceInformation"],
        ResourceArns=[BUCKET_OBJ],
        ResourcePolicy=json.dumps(
            {
                "Statement": [
                    deny(
                        "s3:GetObject",
                        BUCKET_OBJ,
                        Principal={"AWS": ROLE},
                        Condition={"Bool": {"aws:SecureTransport": "false"}},
                    )
                ]
            }
        ),
        ContextEntries=[
            {
                "ContextKeyName": "aws:SecureTransport",
                "ContextKeyValues": ["true"],
                "ContextKeyType": "boolean",
            }
        ],
    )
    decisions = {r["EvalActionName"]: r for r in resp["EvaluationResults"]}
    assert decisions["s3:GetObject"]["EvalDecision"] == "allowed"
    assert decisions["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyId"] == "read"
    assert decisions["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    assert decisions["ssm:UpdateInstanceInformation"]["EvalDecision"] == "allowed"
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.simulate_principal_policy(
            PolicySourceArn="arn:aws:iam::123456789012:role/nope", ActionNames=["s3:GetObject"]
        )


def test_managed_policies_the_app_attaches_exist(iam) -> None:
    for arn in (
        "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforAWSCodeDeploy",
    ):
        assert iam.get_policy(PolicyArn=arn)["Policy"]["Arn"] == arn


def test_resource_policy_naming_the_account_delegates_to_identity_policies() -> None:
    key_policy = PolicySource(
        "ResourcePolicy",
        "resource",
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ]
        },
        is_resource_policy=True,
    )
    who = Principal(ROLE, None, "123456789012")
    assert not evaluate("kms:Decrypt", "*", [], resource_policy=key_policy, principal=who).allowed
    granted = identity(allow("kms:Decrypt"))
    assert evaluate("kms:Decrypt", "*", granted, resource_policy=key_policy, principal=who).allowed
