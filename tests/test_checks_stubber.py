"""What no emulator produces, with botocore's Stubber (responses validated against the service
model, shaped like the AWS documentation's examples): denied simulation, clock skew, IMDSv2 401
with an old agent, an agent restart mid-event, an SSE-KMS bundle without kms:Decrypt; and the
batching rules
(25 targets per BatchGetDeploymentTargets, pagination) at the wire level.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from checks import s3 as s3_checks
from checks.evidence import Evidence
from checks.model import Status
from checks.runner import CheckContext, diagnose

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.timezone.utc)
DEP = "d-EXAMPLE11"
ACCOUNT = "111122223333"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/app-ec2"
PROFILE_ARN = f"arn:aws:iam::{ACCOUNT}:instance-profile/app-ec2"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


@pytest.fixture
def ctx(aws_credentials):
    from wizard.aws import AwsContext

    return AwsContext(region="us-east-1", max_attempts=1)


def deployment(
    status: str = "Failed",
    failed: int = 1,
    succeeded: int = 0,
    code: str | None = "HEALTH_CONSTRAINTS",
) -> dict[str, Any]:
    info: dict[str, Any] = {
        "applicationName": "app",
        "deploymentGroupName": "app-group",
        "deploymentConfigName": "CodeDeployDefault.AllAtOnce",
        "deploymentId": DEP,
        "status": status,
        "createTime": NOW,
        "creator": "user",
        "deploymentOverview": {
            "Pending": 0,
            "InProgress": 0,
            "Succeeded": succeeded,
            "Failed": failed,
            "Skipped": 0,
            "Ready": 0,
        },
        "revision": {
            "revisionType": "S3",
            "s3Location": {
                "bucket": "app-bundles",
                "key": "releases/app.zip",
                "bundleType": "zip",
                "eTag": "abc",
            },
        },
    }
    if code:
        info["errorInformation"] = {
            "code": code,
            "message": "The overall deployment failed because too many individual instances failed "
            "deployment, "
            "too few healthy instances are available for deployment, or some instances in your "
            "deployment "
            "group are experiencing problems.",
        }
    return {"deploymentInfo": info}


def instance_target(
    iid: str, event: str, message: str, code: str = "UnknownError", log: str = ""
) -> dict[str, Any]:
    events = []
    state = "Succeeded"
    for name in (
        "ApplicationStop",
        "DownloadBundle",
        "BeforeInstall",
        "Install",
        "AfterInstall",
        "ApplicationStart",
        "ValidateService",
    ):
        ev: dict[str, Any] = {
            "lifecycleEventName": name,
            "status": state if name != event else "Failed",
        }
        if name == event:
            ev["diagnostics"] = {
                "errorCode": code,
                "scriptName": "",
                "message": message,
                "logTail": log,
            }
            ev["startTime"], ev["endTime"] = NOW, NOW
            state = "Skipped"
        events.append(ev)
    return {
        "deploymentTargetType": "InstanceTarget",
        "instanceTarget": {
            "deploymentId": DEP,
            "targetId": iid,
            "targetArn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/{iid}",
            "status": "Failed",
            "lastUpdatedAt": NOW,
            "lifecycleEvents": events,
        },
    }


def stub_deployment(stub: Stubber, targets: list[dict[str, Any]]) -> None:
    ids = [t["instanceTarget"]["targetId"] for t in targets]
    stub.add_response("get_deployment", deployment(failed=len(ids)), {"deploymentId": DEP})
    stub.add_response(
        "list_deployment_targets",
        {"targetIds": ids},
        {"deploymentId": DEP, "targetFilters": {"TargetStatus": ["Failed"]}},
    )
    stub.add_response(
        "batch_get_deployment_targets",
        {"deploymentTargets": targets},
        {"deploymentId": DEP, "targetIds": ids},
    )


def test_batches_of_25_targets_and_pagination(ctx):
    ids = [f"i-{n:017x}" for n in range(60)]
    cd = ctx.client("codedeploy")
    with Stubber(cd) as stub:
        stub.add_response("get_deployment", deployment(failed=60), {"deploymentId": DEP})
        stub.add_response(
            "list_deployment_targets",
            {"targetIds": ids[:50], "nextToken": "page2"},
            {"deploymentId": DEP, "targetFilters": {"TargetStatus": ["Failed"]}},
        )
        stub.add_response(
            "list_deployment_targets",
            {"targetIds": ids[50:]},
            {
                "deploymentId": DEP,
                "targetFilters": {"TargetStatus": ["Failed"]},
                "nextToken": "page2",
            },
        )
        for chunk in (ids[:25], ids[25:50], ids[50:]):
            stub.add_response(
                "batch_get_deployment_targets",
                {
                    "deploymentTargets": [
                        instance_target(i, "DownloadBundle", "Access Denied") for i in chunk
                    ]
                },
                {"deploymentId": DEP, "targetIds": chunk},
            )
        ev = Evidence(ctx, deployment_id=DEP, workers=1)
        assert ev.target_ids() == ids  # all failed: no second, unfiltered listing
        failures = ev.failures()
        stub.assert_no_pending_responses()
    assert len(failures) == 60
    assert {f.cause.key for f in failures} == {"s3-denied"}


@pytest.mark.parametrize(
    ("message", "log", "check_id", "words"),
    [
        (
            "Signature expired: 20261120T094219Z is now earlier than 20261120T094723Z "
            "(20261120T095223Z - 5 min.)",
            "",
            "agent.clock",
            "clock",
        ),
        (
            "CodeDeploy agent was not able to receive the lifecycle event. Check the CodeDeploy "
            "agent logs "
            "on your host and make sure the agent is running and can connect to the CodeDeploy "
            "server.",
            "ERROR [codedeploy-agent(3120)]: "
            "InstanceAgent::Plugins::CodeDeployPlugin::CommandPoller: "
            "Error during perform: InstanceMetadata::InstanceMetadataError - HTTP error from "
            "metadata "
            "service, code 401",
            "agent.imds",
            "401",
        ),
        (
            "Failing in-progress lifecycle event after an agent restart.",
            "",
            "agent.restart",
            "restarted",
        ),
    ],
)
def test_agent_failures_no_emulator_produces(ctx, message, log, check_id, words):
    iid = "i-0123456789abcdef0"
    target = instance_target(
        iid, "DownloadBundle" if check_id != "agent.restart" else "AfterInstall", message, log=log
    )
    cd = ctx.client("codedeploy")
    with Stubber(cd) as stub:
        stub_deployment(stub, [target])
        stub.add_response(
            "get_deployment_group",
            {
                "deploymentGroupInfo": {
                    "applicationName": "app",
                    "deploymentGroupName": "app-group",
                    "deploymentGroupId": "a1b2c3d4-5678-90ab-cdef-11111EXAMPLE",
                    "ec2TagFilters": [{"Key": "Name", "Value": "app", "Type": "KEY_AND_VALUE"}],
                }
            },
            {"applicationName": "app", "deploymentGroupName": "app-group"},
        )
        ec2 = ctx.client("ec2")
        with Stubber(ec2) as estub:
            estub.add_response(
                "describe_instances",
                {
                    "Reservations": [
                        {
                            "Instances": [
                                {
                                    "InstanceId": iid,
                                    "State": {"Code": 16, "Name": "running"},
                                    "MetadataOptions": {
                                        "HttpTokens": "required",
                                        "State": "applied",
                                    },
                                }
                            ]
                        }
                    ]
                },
                None,  # any filters
            )
            report = diagnose(ctx, deployment_id=DEP, check_ids=["deployment.status", check_id])
    res = report.result(check_id)
    assert res.status is Status.FAIL, res
    assert words in res.summary
    assert res.instances == [iid]
    assert report.root_causes == [check_id]
    if check_id == "agent.imds":
        assert res.evidence["imdsv2_required_on"] == 1
        assert "IMDSv1" in res.fix.summary


def _primed(ctx, *, sse: dict[str, Any] | None = None) -> CheckContext:
    ev = Evidence(ctx, deployment_id=DEP, workers=1)
    ev.prime("deployment", deployment()["deploymentInfo"])
    ev.prime("failures", [])
    ev.prime(
        "instances",
        {
            "i-0123456789abcdef0": {
                "InstanceId": "i-0123456789abcdef0",
                "IamInstanceProfile": {"Arn": PROFILE_ARN},
            }
        },
    )
    ev.prime(
        "profiles",
        {
            PROFILE_ARN: {
                "Roles": [
                    {"RoleName": "app-ec2", "Arn": ROLE_ARN, "AssumeRolePolicyDocument": EC2_TRUST}
                ]
            }
        },
    )
    ev.prime("bucket-policy", None)
    ev.prime("head", {"ETag": '"abc"', "ContentLength": 10, **(sse or {})})
    return CheckContext(ctx, ev)


def test_denied_simulation_falls_back_to_reading_policies_weaker(ctx):
    iam = ctx.client("iam")
    denied = (
        f"User: arn:aws:iam::{ACCOUNT}:user/oncall is not authorized to perform: "
        f"iam:SimulatePrincipalPolicy on resource: {ROLE_ARN}"
    )
    with Stubber(iam) as stub:
        stub.add_client_error("simulate_principal_policy", "AccessDenied", denied, 403)
        stub.add_response(
            "list_role_policies",
            {"PolicyNames": ["read"], "IsTruncated": False},
            {"RoleName": "app-ec2"},
        )
        stub.add_response(
            "get_role_policy",
            {
                "RoleName": "app-ec2",
                "PolicyName": "read",
                "PolicyDocument": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}
                        ],
                    }
                ),
            },
            {"RoleName": "app-ec2", "PolicyName": "read"},
        )
        stub.add_response(
            "list_attached_role_policies",
            {"AttachedPolicies": [], "IsTruncated": False},
            {"RoleName": "app-ec2"},
        )
        res = s3_checks.bundle_readable(_primed(ctx))
    assert res.status is Status.FAIL
    assert "weaker" in res.summary
    assert (
        "you may not call iam:SimulatePrincipalPolicy" in res.evidence["roles"]["app-ec2"]["method"]
    )
    assert res.fix.action == "s3-read-policy"


def test_kms_encrypted_bundle_without_decrypt(ctx):
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN}
    kms, iam = ctx.client("kms"), ctx.client("iam")
    key_policy = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    )
    with Stubber(kms) as kstub, Stubber(iam) as istub:
        kstub.add_response(
            "describe_key",
            {
                "KeyMetadata": {
                    "KeyId": KEY_ARN.rsplit("/", 1)[-1],
                    "Arn": KEY_ARN,
                    "KeyManager": "CUSTOMER",
                    "Enabled": True,
                }
            },
            {"KeyId": KEY_ARN},
        )
        istub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    {
                        "EvalActionName": "kms:Decrypt",
                        "EvalResourceName": KEY_ARN,
                        "EvalDecision": "implicitDeny",
                    }
                ],
                "IsTruncated": False,
            },
            {
                "PolicySourceArn": ROLE_ARN,
                "ActionNames": ["kms:Decrypt"],
                "ResourceArns": [KEY_ARN],
            },
        )
        kstub.add_response(
            "get_key_policy",
            {"Policy": key_policy, "PolicyName": "default"},
            {"KeyId": KEY_ARN, "PolicyName": "default"},
        )
        res = s3_checks.kms(_primed(ctx, sse=sse))
    assert res.status is Status.FAIL
    assert "may not kms:Decrypt" in res.summary and "app-ec2" in res.summary
    assert (
        res.evidence["key_policy_denies"] == []
    )  # the key policy delegates to IAM: the role policy is what is missing
    assert "kms:Decrypt" in res.fix.commands[0]


def test_aws_managed_key_needs_nothing(ctx):
    sse = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": KEY_ARN}
    with Stubber(ctx.client("kms")) as kstub:
        kstub.add_response(
            "describe_key",
            {"KeyMetadata": {"KeyId": "k", "Arn": KEY_ARN, "KeyManager": "AWS"}},
            {"KeyId": KEY_ARN},
        )
        res = s3_checks.kms(_primed(ctx, sse=sse))
    assert res.status is Status.PASS and "AWS managed key" in res.summary


def test_resource_policy_refused_for_a_role_then_identity_simulated_and_bucket_policy_read(ctx):
    iam = ctx.client("iam")
    cctx = _primed(ctx)
    deny = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": {"AWS": ROLE_ARN},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::app-bundles/*",
                }
            ],
        }
    )
    cctx.ev.prime("bucket-policy", deny)
    obj = "arn:aws:s3:::app-bundles/releases/app.zip"
    with Stubber(iam) as stub:
        stub.add_client_error(
            "simulate_principal_policy",
            "InvalidInput",
            "Invalid Input: CallerArn is required if you include a ResourcePolicy and the "
            "PolicySourceArn is not the ARN for an IAM user.",
            400,
        )
        stub.add_response(
            "simulate_principal_policy",
            {
                "EvaluationResults": [
                    {
                        "EvalActionName": "s3:GetObject",
                        "EvalResourceName": obj,
                        "EvalDecision": "allowed",
                    }
                ],
                "IsTruncated": False,
            },
            {"PolicySourceArn": ROLE_ARN, "ActionNames": ["s3:GetObject"], "ResourceArns": [obj]},
        )
        res = s3_checks.bundle_readable(cctx)
        stub.assert_no_pending_responses()
    assert res.status is Status.FAIL
    assert "explicit Deny in the bucket policy" in res.summary
    assert res.evidence["roles"]["app-ec2"]["method"].startswith(
        "SimulatePrincipalPolicy (identity)"
    )
    assert not res.fix.automatic
