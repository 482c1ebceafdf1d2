"""`wizard plan --json`, `apply --yes` twice and `destroy --yes` twice, as subprocesses against the
sandbox server over HTTP, checking the emulated account with boto3 after each step."""

from __future__ import annotations

import base64
import json
import uuid

import boto3
import pytest

from wizard import TAG_KEY
from wizard.sandbox.world import AGENT_USER_DATA

pytestmark = pytest.mark.e2e
REGION = "us-east-1"
ACCOUNT = "123456789012"


def _clients(url):
    kw = {
        "endpoint_url": url,
        "region_name": REGION,
        "aws_access_key_id": "sandbox",
        "aws_secret_access_key": "sandbox",
    }
    return {s: boto3.client(s, **kw) for s in ("iam", "s3", "ec2", "codedeploy", "ssm")}


def _instances(ec2, tag_value, states=("pending", "running")):
    resp = ec2.describe_instances(
        Filters=[
            {"Name": "tag:Name", "Values": [tag_value]},
            {"Name": "instance-state-name", "Values": list(states)},
        ]
    )
    return [i for r in resp["Reservations"] for i in r["Instances"]]


def _role_names(iam):
    return {r["RoleName"] for p in iam.get_paginator("list_roles").paginate() for r in p["Roles"]}


def test_plan_apply_apply_destroy_against_the_sandbox(
    sandbox_url, sandbox_env, run_wizard, tmp_path
):
    app = f"e2e-{uuid.uuid4().hex[:8]}"
    web = f"{app}-web"
    (tmp_path / ".codedeploy-wizard.yml").write_text(
        f"application: {app}\n"
        "deployment_config: CodeDeployDefault.OneAtATime\n"
        "instances:\n"
        f"  tag: {{key: Name, value: {web}}}\n"
        "  launch: 1\n"
        "ci:\n"
        "  provider: github\n"
        "  repository: acme/shop\n"
        "  branch: main\n"
    )
    c = _clients(sandbox_url)
    iam, s3, ec2, cd = c["iam"], c["s3"], c["ec2"], c["codedeploy"]
    # a running instance someone else launched with the group's tag and no profile: to be adopted
    # (its user data installs the agent, so the checks after apply pass)
    ami = c["ssm"].get_parameter(
        Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    )["Parameter"]["Value"]
    adopted = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        UserData=AGENT_USER_DATA.format(region=REGION),
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": web}]}],
    )["Instances"][0]["InstanceId"]
    common = ("--endpoint-url", sandbox_url, "--project-dir", str(tmp_path))

    def wizard(*args):
        return run_wizard(*args, *common, env=sandbox_env, timeout=180)

    # ---- plan --json: one document, changes nothing
    proc = wizard("plan", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["schema_version"] == 1 and doc["account"] == ACCOUNT and doc["region"] == REGION
    actions = {(ch["resource"], ch["action"]) for ch in doc["changes"]}
    assert ("ec2:instance", "adopt") in actions and ("ec2:instance", "create") in actions
    assert ("iam:oidc-provider", "create") in actions or ("iam:oidc-provider", "noop") in actions
    assert not any(a == "conflict" for _, a in actions)
    assert f"{app}-codedeploy-ec2" not in _role_names(iam)

    # ---- apply --yes
    proc = wizard("apply", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"[✓] create iam:role {app}-codedeploy-service" in proc.stdout
    assert "Next steps:" in proc.stdout

    # roles: trust documents and their conditions, policies, tags
    ec2_role = iam.get_role(RoleName=f"{app}-codedeploy-ec2")["Role"]
    assert ec2_role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    assert {"Key": TAG_KEY, "Value": app} in ec2_role["Tags"]
    read = iam.get_role_policy(
        RoleName=f"{app}-codedeploy-ec2", PolicyName="codedeploy-wizard-revision-read"
    )["PolicyDocument"]
    bucket = f"{app}-codedeploy-{ACCOUNT}-{REGION}"
    assert {s["Resource"] for s in read["Statement"]} == {
        f"arn:aws:s3:::{bucket}/releases/*",
        f"arn:aws:s3:::{bucket}",
        f"arn:aws:s3:::aws-codedeploy-{REGION}/*",
    }
    attached = iam.list_attached_role_policies(RoleName=f"{app}-codedeploy-ec2")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [
        "AmazonSSMManagedInstanceCore"
    ]
    svc = iam.get_role(RoleName=f"{app}-codedeploy-service")["Role"]
    (stmt,) = svc["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Principal"] == {"Service": "codedeploy.amazonaws.com"}
    assert stmt["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert stmt["Condition"]["ArnLike"] == {
        "aws:SourceArn": f"arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:{app}/*"
    }
    attached = iam.list_attached_role_policies(RoleName=f"{app}-codedeploy-service")
    assert [p["PolicyArn"] for p in attached["AttachedPolicies"]] == [
        "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole"
    ]
    deploy = iam.get_role(RoleName=f"{app}-codedeploy-deploy")["Role"]
    (stmt,) = deploy["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert stmt["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/shop:ref:refs/heads/main",
    }
    provs = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert len([p for p in provs if p["Arn"].endswith("token.actions.githubusercontent.com")]) == 1

    # instances: one launched with profile, tags and agent user data; the tagged one adopted
    live = _instances(ec2, web)
    assert len(live) == 2
    for inst in live:
        assert inst["IamInstanceProfile"]["Arn"].endswith(f"instance-profile/{app}-codedeploy-ec2")
    (launched,) = [i for i in live if i["InstanceId"] != adopted]
    tags = {t["Key"]: t["Value"] for t in launched["Tags"]}
    assert tags["Name"] == web and tags[TAG_KEY] == app
    ud = ec2.describe_instance_attribute(InstanceId=launched["InstanceId"], Attribute="userData")
    script = base64.b64decode(ud["UserData"]["Value"]).decode()
    assert f"https://aws-codedeploy-{REGION}.s3.{REGION}.amazonaws.com/latest/install" in script
    assert "dnf install" in script and "systemctl enable --now codedeploy-agent" in script

    # bucket settings
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] in (None, "")
    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(pab.values())
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert {"Key": TAG_KEY, "Value": app} in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]

    # group settings
    grp = cd.get_deployment_group(applicationName=app, deploymentGroupName=f"{app}-group")[
        "deploymentGroupInfo"
    ]
    assert grp["ec2TagFilters"] == [{"Key": "Name", "Value": web, "Type": "KEY_AND_VALUE"}]
    assert grp["deploymentConfigName"] == "CodeDeployDefault.OneAtATime"
    assert grp["serviceRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{app}-codedeploy-service"
    assert cd.get_application(applicationName=app)["application"]["computePlatform"] == "Server"

    # ---- apply again: every change a noop, nothing new in the account
    proc = wizard("apply", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Nothing to do: everything is set up." in proc.stdout
    assert "[✓] create" not in proc.stdout and "[✓] adopt" not in proc.stdout
    plan = json.loads(wizard("plan", "--json").stdout)
    assert {ch["action"] for ch in plan["changes"]} == {"noop"}
    assert len(_instances(ec2, web)) == 2

    # ---- destroy: ours gone, the adopted instance keeps running without our profile
    proc = wizard("destroy", "--yes")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not {
        f"{app}-codedeploy-ec2",
        f"{app}-codedeploy-service",
        f"{app}-codedeploy-deploy",
    } & (_role_names(iam))
    profiles = iam.list_instance_profiles()["InstanceProfiles"]
    assert f"{app}-codedeploy-ec2" not in {p["InstanceProfileName"] for p in profiles}
    assert bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert app not in cd.list_applications()["applications"]
    (still,) = _instances(ec2, web)
    assert still["InstanceId"] == adopted
    assert "IamInstanceProfile" not in still
    assert [i["InstanceId"] for i in _instances(ec2, web, ("terminated",))] == [
        launched["InstanceId"]
    ]

    proc = wizard("destroy", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "Nothing to remove" in proc.stdout
