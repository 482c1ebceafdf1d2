"""The engine end to end under moto: idempotence, resumability, conflicts, AccessDenied, destroy."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.steps_support import CallRecorder, make_project, moto_account, no_sleep
from wizard.errors import AccessDeniedError
from wizard.steps import engine
from wizard.steps.base import ConflictError

ACCOUNT = "123456789012"
GITHUB = {"provider": "github", "repository": "acme/shop", "branch": "main"}


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _project(**kw):
    return make_project("shop", instances={"launch": 2}, ci=kw.pop("ci", GITHUB), **kw)


def _inventory():
    """What exists in the account, counted the way a duplicate would show."""
    iam = boto3.client("iam")
    ec2 = boto3.client("ec2", region_name="us-east-1")
    live = [
        i
        for r in ec2.describe_instances(
            Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}]
        )["Reservations"]
        for i in r["Instances"]
    ]
    return {
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "profiles": sorted(
            p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
        ),
        "oidc": len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]),
        "instances": len(live),
        "buckets": [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]],
        "apps": boto3.client("codedeploy", region_name="us-east-1").list_applications()[
            "applications"
        ],
    }


EXPECTED = {
    "roles": ["shop-codedeploy-deploy", "shop-codedeploy-ec2", "shop-codedeploy-service"],
    "profiles": ["shop-codedeploy-ec2"],
    "oidc": 1,
    "instances": 2,
    "buckets": [f"shop-codedeploy-{ACCOUNT}-us-east-1"],
    "apps": ["shop"],
}


def test_apply_then_apply_again_changes_nothing_and_makes_no_mutating_call(aws):
    project = _project()
    plan = engine.build_plan(aws, project)
    assert plan.counts()["create"] == 9 and not plan.conflicts
    events = []
    result = engine.apply_plan(
        aws, project, plan, lambda c, s, m: events.append((c.resource, s)), sleep=no_sleep
    )
    assert result.ok, result.error
    assert len(result.done) == 9
    assert [s for _, s in events] == ["start", "done"] * 9
    assert (
        result.outputs["deploy_role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/shop-codedeploy-deploy"
    )
    assert len(result.outputs["instance_ids"]) == 2
    assert "iam.service-role" in result.checks and "group.instances-matched" in result.checks
    assert _inventory() == EXPECTED

    recorder = CallRecorder(aws)
    again = engine.build_plan(aws, project)
    assert {c.action for c in again.changes} == {"noop"}
    second = engine.apply_plan(aws, project, again, sleep=no_sleep)
    assert second.ok and second.done == []
    assert recorder.calls, "the hook saw no calls at all"
    assert recorder.mutating() == []
    assert _inventory() == EXPECTED


# after the instance role, its profile, the bucket, the instances, the application, the OIDC
# provider: every step, and the half-done states inside the roles, application and CI steps
@pytest.mark.parametrize("stop_after", [0, 1, 3, 4, 5, 7])
def test_an_apply_interrupted_after_any_change_finishes_without_duplicates(
    aws, monkeypatch, stop_after
):
    project = _project()
    plan = engine.build_plan(aws, project)
    target = plan.changes[stop_after]
    module = engine.MODULES[target.step]
    real = module.apply

    def apply_then_die(sc, change):
        real(sc, change)
        if change is target:
            raise KeyboardInterrupt  # as if killed right after this change

    monkeypatch.setattr(module, "apply", apply_then_die)
    with pytest.raises(KeyboardInterrupt):
        engine.apply_plan(aws, project, plan, sleep=no_sleep)
    monkeypatch.setattr(module, "apply", real)

    resumed = engine.build_plan(aws, project)
    assert not resumed.conflicts, [c.description for c in resumed.conflicts]
    assert resumed.changes[stop_after].action == "noop"
    result = engine.apply_plan(aws, project, resumed, sleep=no_sleep)
    assert result.ok, result.error
    assert _inventory() == EXPECTED
    assert {c.action for c in engine.build_plan(aws, project).changes} == {"noop"}


def test_a_failure_mid_apply_is_reported_with_what_was_done(aws, monkeypatch):
    project = _project()
    plan = engine.build_plan(aws, project)
    from wizard.steps import bucket

    def denied(sc, change):
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDenied",
                    "Message": "User: arn:aws:iam::123456789012:user/dev is not authorized to "
                    "perform: s3:CreateBucket on resource: arn:aws:s3:::shop",
                }
            },
            "CreateBucket",
        )

    monkeypatch.setattr(bucket, "apply", denied)
    events = []
    result = engine.apply_plan(aws, project, plan, lambda c, s, m: events.append((s, m)))
    assert not result.ok
    assert isinstance(result.error, AccessDeniedError)
    assert result.error.exit_code == 1
    assert "s3:CreateBucket" in result.error.message
    assert aws.identity().arn in result.error.message  # names the caller
    assert result.failed.resource == "s3:bucket"
    assert [c.resource for c in result.done] == ["iam:role", "iam:instance-profile", "iam:role"]
    assert events[-1][0] == "failed"


def test_conflicts_stop_apply_before_any_change(aws):
    boto3.client("iam").create_role(
        RoleName="shop-codedeploy-service", AssumeRolePolicyDocument="{}"
    )
    project = _project()
    plan = engine.build_plan(aws, project)
    assert [c.name for c in plan.conflicts] == ["shop-codedeploy-service"]
    recorder = CallRecorder(aws)
    result = engine.apply_plan(aws, project, plan)
    assert isinstance(result.error, ConflictError)
    assert "tag-role" in result.error.fix
    assert result.done == []
    assert recorder.mutating() == []


def test_plan_json_has_the_design_shape(aws):
    doc = engine.build_plan(aws, _project()).to_json()
    assert doc["schema_version"] == 1
    assert (doc["region"], doc["account"]) == ("us-east-1", ACCOUNT)
    for change in doc["changes"]:
        assert {"resource", "name", "action", "description", "calls"} <= set(change)
        assert change["action"] in ("create", "update", "adopt", "noop", "conflict")


def test_travis_access_key_only_when_asked(aws):
    project = _project(ci={"provider": "travis"})
    result = engine.apply_plan(aws, project, engine.build_plan(aws, project), sleep=no_sleep)
    assert "access_key" not in result.outputs
    plan = engine.build_plan(aws, project, create_access_key=True)
    assert [c.resource for c in plan.mutating] == ["iam:access-key"]
    result = engine.apply_plan(aws, project, plan, create_access_key=True)
    assert result.outputs["access_key"]["SecretAccessKey"]
    keys = boto3.client("iam").list_access_keys(UserName="shop-codedeploy-ci")
    assert len(keys["AccessKeyMetadata"]) == 1


def test_destroy_removes_everything_tagged_and_is_idempotent(aws):
    from moto.codedeploy.responses import CodeDeployResponse

    from wizard.sandbox import extensions

    extensions.install()
    if not hasattr(CodeDeployResponse, "delete_deployment_group"):
        pytest.skip("DeleteDeploymentGroup is not emulated yet (sandbox extension pending)")
    project = _project()
    engine.apply_plan(aws, project, engine.build_plan(aws, project), sleep=no_sleep)
    boto3.client("iam").create_role(RoleName="keep-me", AssumeRolePolicyDocument="{}")
    dplan = engine.build_destroy_plan(aws, project)
    assert [c.resource for c in dplan.mutating] == [
        "ec2:instance",
        "codedeploy:deployment-group",
        "codedeploy:application",
        "s3:bucket",
        "iam:role",
        "iam:oidc-provider",
        "iam:instance-profile",
        "iam:role",
        "iam:role",
    ]
    result = engine.apply_destroy(aws, project, dplan)
    assert result.ok, result.error
    assert _inventory() == {
        "roles": ["keep-me"],
        "profiles": [],
        "oidc": 0,
        "instances": 0,
        "buckets": [],
        "apps": [],
    }
    assert engine.build_destroy_plan(aws, project).mutating == []


def test_access_denied_while_discovering_names_service_action_and_caller(aws, monkeypatch):
    iam = aws.client("iam")

    def denied(**kw):
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "denied"}}, "GetRole")

    monkeypatch.setattr(iam, "get_role", denied)
    with pytest.raises(AccessDeniedError) as info:
        engine.build_plan(aws, _project())
    assert info.value.message == f"access denied: {aws.identity().arn} may not call iam:GetRole"


def test_destroy_in_another_region_keeps_the_global_iam_of_the_live_setup(aws):
    """IAM is global: `destroy` with another AWS_REGION must not break the setup in us-east-1."""
    from wizard.aws import AwsContext

    project = _project()
    engine.apply_plan(aws, project, engine.build_plan(aws, project), sleep=no_sleep)
    elsewhere = engine.build_destroy_plan(AwsContext(region="eu-west-1"), project)
    assert elsewhere.mutating == []
    kept = [c for c in elsewhere.changes if c.resource.startswith("iam:")]
    assert {c.resource for c in kept} >= {"iam:role", "iam:instance-profile"}
    assert all("run `wizard destroy --region us-east-1`" in c.description for c in kept)
    # in its own region the same roles are deleted as before
    home = engine.build_destroy_plan(aws, project)
    assert [c.name for c in home.mutating if c.resource == "iam:role"] == [
        "shop-codedeploy-deploy",
        "shop-codedeploy-ec2",
        "shop-codedeploy-service",
    ]


def test_plan_in_another_region_does_not_take_over_the_live_setups_iam(aws):
    from wizard.aws import AwsContext

    project = _project()
    engine.apply_plan(aws, project, engine.build_plan(aws, project), sleep=no_sleep)
    plan = engine.build_plan(AwsContext(region="eu-west-1"), project)
    updates = [c for c in plan.changes if c.action == "update"]
    assert not [c for c in updates if c.resource.startswith("iam:")]
    conflicts = {c.name for c in plan.conflicts}
    assert {"shop-codedeploy-ec2", "shop-codedeploy-service"} <= conflicts
    assert all("serves the setup in us-east-1" in c.description for c in plan.conflicts)
    # the home region is untouched: still nothing to do there
    assert engine.build_plan(aws, project).mutating == []
