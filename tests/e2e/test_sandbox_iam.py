"""`wizard sandbox --enforce-iam` (issue 12 item 5): callers' IAM policies are checked as AWS
checks them; a least-privilege user gets AccessDenied exactly where AWS would."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import clean_env

pytestmark = pytest.mark.e2e
ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def enforced() -> Iterator[dict[str, str]]:
    """A `wizard sandbox --enforce-iam` process: its environment lines (endpoint, admin key)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard", "sandbox", "--enforce-iam"],
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    env: dict[str, str] = {}
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line)
        if line.startswith("export "):
            key, _, value = line[len("export ") :].strip().partition("=")
            env[key] = value
        if line.startswith("# Press Ctrl-C"):
            break
    assert any("IAM is enforced" in line for line in lines), lines
    yield env
    proc.terminate()
    proc.wait(timeout=30)


def client(env: dict[str, str], service: str, key: tuple[str, str] | None = None) -> Any:
    access, secret = key or (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
    return boto3.client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id=access,
        aws_secret_access_key=secret,
    )


def user(env: dict[str, str], name: str, statements: list[dict[str, Any]]) -> tuple[str, str]:
    iam = client(env, "iam")
    iam.create_user(UserName=name)
    policy = {"Version": "2012-10-17", "Statement": statements}
    iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def denied(call: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as exc:
        call()
    return exc.value.response["Error"]


def test_least_privilege_ci_user_is_denied_where_aws_would(enforced: dict[str, str]) -> None:
    cd = client(enforced, "codedeploy")
    cd.create_application(applicationName="renderer")
    group_arn = f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:deploymentgroup:renderer/renderer-group"
    ci = user(
        enforced,
        "ci",
        [
            {
                "Effect": "Allow",
                "Action": ["codedeploy:CreateDeployment", "codedeploy:GetDeployment"],
                "Resource": group_arn,
            },
            {
                "Effect": "Allow",
                "Action": "codedeploy:RegisterApplicationRevision",
                "Resource": f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:application:renderer",
            },
        ],
    )
    mine = client(enforced, "codedeploy", ci)
    error = denied(lambda: mine.create_application(applicationName="other"))
    assert error["Code"] == "AccessDeniedException"
    assert error["Message"] == (
        f"User: arn:aws:iam::{ACCOUNT}:user/ci is not authorized to perform: "
        f"codedeploy:CreateApplication on resource: arn:aws:codedeploy:us-east-1:{ACCOUNT}:"
        "application:other because no identity-based policy allows the "
        "codedeploy:CreateApplication action"
    )
    revision = {
        "revisionType": "S3",
        "s3Location": {"bucket": "b", "key": "k.zip", "bundleType": "zip"},
    }
    mine.register_application_revision(applicationName="renderer", revision=revision)
    other = denied(
        lambda: mine.register_application_revision(applicationName="other", revision=revision)
    )
    assert other["Code"] == "AccessDeniedException"
    assert denied(lambda: client(enforced, "iam", ci).list_roles())["Code"] == "AccessDenied"
    ec2 = denied(lambda: client(enforced, "ec2", ci).describe_instances())
    assert ec2["Code"] == "UnauthorizedOperation"
    assert denied(lambda: client(enforced, "s3", ci).list_buckets())["Code"] == "AccessDenied"
    # who am I is always allowed
    assert client(enforced, "sts", ci).get_caller_identity()["Arn"].endswith(":user/ci")


def test_pass_role_is_checked_for_the_service_role(enforced: dict[str, str]) -> None:
    iam = client(enforced, "iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codedeploy.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam.create_role(RoleName="cd-service", AssumeRolePolicyDocument=json.dumps(trust))
    role_arn = role["Role"]["Arn"]
    client(enforced, "codedeploy").create_application(applicationName="passrole")
    ops = user(
        enforced,
        "ops",
        [{"Effect": "Allow", "Action": "codedeploy:CreateDeploymentGroup", "Resource": "*"}],
    )
    error = denied(
        lambda: client(enforced, "codedeploy", ops).create_deployment_group(
            applicationName="passrole",
            deploymentGroupName="g",
            serviceRoleArn=role_arn,
        )
    )
    assert error["Code"] == "AccessDeniedException"
    assert f"perform: iam:PassRole on resource: {role_arn}" in error["Message"]


def test_unknown_keys_and_bucket_policies(enforced: dict[str, str]) -> None:
    bogus = client(enforced, "codedeploy", ("AKIAEXAMPLEEXAMPLE00", "nope"))
    assert denied(bogus.list_applications)["Code"] == "UnrecognizedClientException"
    s3 = client(enforced, "s3")
    s3.create_bucket(Bucket="revisions")
    reader = user(
        enforced,
        "reader",
        [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::revisions/*"}],
    )
    s3.put_object(Bucket="revisions", Key="app.zip", Body=b"zip")
    theirs = client(enforced, "s3", reader)
    assert theirs.get_object(Bucket="revisions", Key="app.zip")["Body"].read() == b"zip"
    deny = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:user/reader"},
                "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::revisions/*",
            }
        ],
    }
    s3.put_bucket_policy(Bucket="revisions", Policy=json.dumps(deny))
    error = denied(lambda: theirs.get_object(Bucket="revisions", Key="app.zip"))
    assert error["Code"] == "AccessDenied"
