"""Upload, register and create the deployment, against moto in-process (no network)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from wizard.config import from_dict
from wizard.deploy.run import console_url, git_short_sha, revision_key, start_deployment
from wizard.errors import WizardError

APPSPEC = "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /var/www/app\n"
ACCOUNT = "123456789012"


def _register_available() -> bool:
    """RegisterApplicationRevision comes from the sandbox's moto extensions."""
    from moto.codedeploy.responses import CodeDeployResponse

    from wizard.sandbox import extensions

    extensions.install()
    return hasattr(CodeDeployResponse, "register_application_revision")


@pytest.fixture
def world(aws_credentials, tmp_path: Path):
    """An application, a group and the revision bucket in moto; a project with a bundle."""
    import boto3
    import moto

    with moto.mock_aws():
        if not _register_available():
            pytest.skip("RegisterApplicationRevision is not in the emulator yet")
        from wizard.aws import AwsContext

        ctx = AwsContext(region="us-east-1")
        (tmp_path / "site").mkdir()
        (tmp_path / "site" / "appspec.yml").write_text(APPSPEC)
        (tmp_path / "site" / "index.html").write_text("hi\n")
        project = from_dict({"application": "shop", "bundle": {"source": "site"}})
        iam = boto3.client("iam", region_name="us-east-1")
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
        role = iam.create_role(
            RoleName="shop-codedeploy-service", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        iam.attach_role_policy(
            RoleName="shop-codedeploy-service",
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSCodeDeployRole",
        )
        cd = boto3.client("codedeploy", region_name="us-east-1")
        cd.create_application(applicationName="shop", computePlatform="Server")
        cd.create_deployment_group(
            applicationName="shop",
            deploymentGroupName="shop-group",
            serviceRoleArn=role,
            ec2TagFilters=[{"Key": "app", "Value": "shop", "Type": "KEY_AND_VALUE"}],
        )
        s3 = boto3.client("s3", region_name="us-east-1")
        bucket = project.bucket_name(ACCOUNT, "us-east-1")
        s3.create_bucket(Bucket=bucket)
        yield ctx, project, tmp_path, cd, s3, bucket


def test_uploads_under_the_prefix_and_pins_the_etag(world) -> None:
    ctx, project, project_dir, cd, s3, bucket = world
    stages: list[str] = []
    handle = start_deployment(
        ctx, project, project_dir, progress=lambda stage, msg: stages.append(stage)
    )
    assert re.fullmatch(r"releases/shop-[0-9a-z]+-\d{8}T\d{9}Z\.zip", handle.key)
    head = s3.head_object(Bucket=bucket, Key=handle.key)
    assert head["ETag"].strip('"') == handle.etag
    assert head["ContentType"] == "application/zip"
    info = cd.get_deployment(deploymentId=handle.deployment_id)["deploymentInfo"]
    loc = info["revision"]["s3Location"]
    assert (loc["bucket"], loc["key"], loc["bundleType"]) == (bucket, handle.key, "zip")
    assert loc["eTag"] == handle.etag
    assert info["deploymentGroupName"] == "shop-group"
    assert info["fileExistsBehavior"] == "DISALLOW"  # from the project file
    assert info["ignoreApplicationStopFailures"] is False
    assert handle.console_url == console_url("us-east-1", handle.deployment_id)
    assert {"bundle", "upload", "register", "create"} <= set(stages)
    assert handle.bundle is not None and not handle.bundle.path.exists()  # temp file removed


def test_flags_override_file_exists_behavior_and_description(world) -> None:
    ctx, project, project_dir, cd, _, _ = world
    handle = start_deployment(
        ctx, project, project_dir, file_exists_behavior="OVERWRITE", description="hotfix 42"
    )
    info = cd.get_deployment(deploymentId=handle.deployment_id)["deploymentInfo"]
    assert info["fileExistsBehavior"] == "OVERWRITE"
    assert info["description"] == "hotfix 42"


def test_ignore_application_stop_failures_reaches_create_deployment(world) -> None:
    ctx, project, project_dir, cd, _, _ = world
    handle = start_deployment(ctx, project, project_dir, ignore_application_stop_failures=True)
    info = cd.get_deployment(deploymentId=handle.deployment_id)["deploymentInfo"]
    assert info["ignoreApplicationStopFailures"] is True


def test_versioned_bucket_pins_the_version_id(world) -> None:
    ctx, project, project_dir, cd, s3, bucket = world
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    handle = start_deployment(ctx, project, project_dir)
    head = s3.head_object(Bucket=bucket, Key=handle.key)
    assert handle.version_id and handle.version_id == head["VersionId"]
    info = cd.get_deployment(deploymentId=handle.deployment_id)["deploymentInfo"]
    assert info["revision"]["s3Location"]["version"] == handle.version_id


def test_missing_group_is_reported_before_anything_is_uploaded(world) -> None:
    ctx, _, project_dir, _, s3, bucket = world
    project = from_dict(
        {"application": "shop", "deployment_group": "nope", "bundle": {"source": "site"}}
    )
    with pytest.raises(WizardError, match="deployment group 'nope' of 'shop' does not exist") as e:
        start_deployment(ctx, project, project_dir)
    assert e.value.exit_code == 2
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_missing_bucket_says_to_run_apply(world) -> None:
    ctx, _, project_dir, _, _, _ = world
    project = from_dict(
        {
            "application": "shop",
            "bucket": {"name": "no-such-bucket-xyz"},
            "bundle": {"source": "site"},
        }
    )
    with pytest.raises(WizardError, match="revision bucket no-such-bucket-xyz does not exist") as e:
        start_deployment(ctx, project, project_dir)
    assert "wizard apply" in (e.value.hint or "")


def test_revision_key_names_commit_and_time() -> None:
    project = from_dict({"application": "My.App+1@x", "bucket": {"prefix": "rel"}})
    when = datetime(2026, 11, 26, 4, 52, 1, 123456, tzinfo=timezone.utc)
    assert revision_key(project, "abc1234", when) == (
        "rel/My.App-1-x-abc1234-20261126T045201123Z.zip"
    )
    assert revision_key(project, None, when).endswith("-nogit-20261126T045201123Z.zip")


def test_git_short_sha_only_inside_a_repository(tmp_path: Path) -> None:
    assert git_short_sha(tmp_path) is None
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    env |= {"GIT_COMMITTER_EMAIL": "t@e", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=env)
    (tmp_path / "f").write_text("x")
    subprocess.run(["git", "-C", str(tmp_path), "add", "f"], check=True, env=env)
    subprocess.run(["git", "-C", str(tmp_path), "commit", "-qm", "x"], check=True, env=env)
    sha = git_short_sha(tmp_path)
    assert sha and re.fullmatch(r"[0-9a-f]{7,12}", sha)


def test_console_url_per_partition() -> None:
    assert console_url("eu-west-1", "d-ABC") == (
        "https://eu-west-1.console.aws.amazon.com/codesuite/codedeploy/deployments/d-ABC"
        "?region=eu-west-1"
    )
    assert console_url("cn-north-1", "d-ABC", "aws-cn").startswith(
        "https://cn-north-1.console.amazonaws.cn/"
    )
