"""Application step against moto: application and group settings, conflicts, planned updates."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.steps_support import make_project, moto_account, sc_for
from wizard import TAG_KEY
from wizard.steps import application, roles

ACCOUNT = "123456789012"


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _sandbox_has(action: str) -> bool:
    """Does moto, extended by the sandbox, implement this CodeDeploy action?"""
    from moto.codedeploy.responses import CodeDeployResponse

    from wizard.sandbox import extensions

    extensions.install()
    return hasattr(CodeDeployResponse, action)


def _setup(aws, project):
    sc = sc_for(aws, project)
    for ch in roles.plan(sc):
        roles.apply(sc, ch)
    for ch in application.plan(sc):
        application.apply(sc, ch)
    return sc


def test_creates_a_server_application_and_a_tag_filtered_group(aws):
    project = make_project(
        "shop",
        deployment_config="CodeDeployDefault.OneAtATime",
        instances={"tag": {"key": "Name", "value": "shop-web"}},
    )
    sc = sc_for(aws, project)
    for ch in roles.plan(sc):
        roles.apply(sc, ch)
    plan = application.plan(sc)
    assert [(c.resource, c.action) for c in plan] == [
        ("codedeploy:application", "create"),
        ("codedeploy:deployment-group", "create"),
    ]
    assert "iam.service-role" in plan[1].checks
    for ch in plan:
        application.apply(sc, ch)
    cd = boto3.client("codedeploy", region_name="us-east-1")
    assert cd.get_application(applicationName="shop")["application"]["computePlatform"] == "Server"
    grp = cd.get_deployment_group(applicationName="shop", deploymentGroupName="shop-group")[
        "deploymentGroupInfo"
    ]
    assert grp["ec2TagFilters"] == [{"Key": "Name", "Value": "shop-web", "Type": "KEY_AND_VALUE"}]
    assert grp["deploymentConfigName"] == "CodeDeployDefault.OneAtATime"
    assert grp["serviceRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/shop-codedeploy-service"
    for arn in (application.app_arn(sc), application.group_arn(sc)):
        tags = cd.list_tags_for_resource(ResourceArn=arn)["Tags"]
        assert {"Key": TAG_KEY, "Value": "shop"} in tags
    assert [c.action for c in application.plan(sc)] == ["noop", "noop"]


def test_an_application_without_our_tag_is_a_conflict(aws):
    boto3.client("codedeploy", region_name="us-east-1").create_application(
        applicationName="shop", computePlatform="Server"
    )
    plan = application.plan(sc_for(aws, make_project("shop")))
    assert plan[0].action == "conflict"
    assert "aws deploy tag-resource" in plan[0].fix
    assert plan[1].action == "create" or plan[1].action == "conflict"


def test_a_lambda_application_of_that_name_is_a_conflict(aws):
    boto3.client("codedeploy", region_name="us-east-1").create_application(
        applicationName="shop", computePlatform="Lambda"
    )
    plan = application.plan(sc_for(aws, make_project("shop")))
    assert plan[0].action == "conflict"
    assert "Lambda" in plan[0].description


def test_changed_settings_on_our_group_are_a_planned_update(aws):
    _setup(aws, make_project("shop"))
    changed = sc_for(
        aws,
        make_project(
            "shop",
            deployment_config="CodeDeployDefault.HalfAtATime",
            instances={"tag": {"key": "Name", "value": "web"}},
        ),
    )
    grp = application.plan(changed)[1]
    assert grp.action == "update"
    assert grp.calls == ["codedeploy:UpdateDeploymentGroup"]
    assert "CodeDeployDefault.AllAtOnce" in grp.description  # says what it is now
    assert set(grp.data["drift"]) == {"deploymentConfigName", "ec2TagFilters"}
    if not _sandbox_has("update_deployment_group"):
        pytest.skip("UpdateDeploymentGroup is not emulated yet (sandbox extension pending)")
    application.apply(changed, grp)
    info = boto3.client("codedeploy", region_name="us-east-1").get_deployment_group(
        applicationName="shop", deploymentGroupName="shop-group"
    )["deploymentGroupInfo"]
    assert info["deploymentConfigName"] == "CodeDeployDefault.HalfAtATime"
    assert info["ec2TagFilters"][0]["Value"] == "web"


def test_group_creation_is_retried_while_the_fresh_service_role_is_invisible(aws, monkeypatch):
    project = make_project("shop")
    sc = sc_for(aws, project)
    for ch in roles.plan(sc):
        roles.apply(sc, ch)
    app_change, grp_change = application.plan(sc)
    application.apply(sc, app_change)
    cd = sc.client("codedeploy")
    real = cd.create_deployment_group
    left = {"n": 3}
    slept: list[float] = []
    sc.sleep = slept.append

    def flaky(**kw):
        if left["n"]:
            left["n"] -= 1
            raise ClientError(
                {
                    "Error": {
                        "Code": "InvalidRoleException",
                        "Message": "AWS CodeDeploy does not have the permissions required to "
                        "assume the role arn:aws:iam::123456789012:role/shop-codedeploy-service.",
                    }
                },
                "CreateDeploymentGroup",
            )
        return real(**kw)

    monkeypatch.setattr(cd, "create_deployment_group", flaky)
    application.apply(sc, grp_change)
    assert slept == [2.0, 4.0, 8.0]
    assert application.get_group(sc) is not None


def test_destroy_plan_deletes_only_our_group_and_app(aws):
    sc = _setup(aws, make_project("shop"))
    plan = application.destroy_plan(sc)
    assert [(c.resource, c.action) for c in plan] == [
        ("codedeploy:deployment-group", "delete"),
        ("codedeploy:application", "delete"),
    ]
    cd = boto3.client("codedeploy", region_name="us-east-1")
    cd.create_deployment_group(
        applicationName="shop",
        deploymentGroupName="someone-elses",
        serviceRoleArn=f"arn:aws:iam::{ACCOUNT}:role/shop-codedeploy-service",
        ec2TagFilters=[{"Key": "Name", "Value": "x", "Type": "KEY_AND_VALUE"}],
    )
    plan = application.destroy_plan(sc)
    assert plan[1].action == "noop" and "someone-elses" in plan[1].description
    if not _sandbox_has("delete_deployment_group"):
        pytest.skip("DeleteDeploymentGroup is not emulated yet (sandbox extension pending)")
    for ch in plan:
        if ch.action == "delete":
            application.destroy(sc, ch)
    names = cd.list_deployment_groups(applicationName="shop")["deploymentGroups"]
    assert names == ["someone-elses"]


def test_an_unknown_custom_deployment_config_is_a_conflict(aws):
    if not _sandbox_has("get_deployment_config"):
        pytest.skip("GetDeploymentConfig is not emulated yet (sandbox extension pending)")
    plan = application.plan(sc_for(aws, make_project("shop", deployment_config="Ours.TwoAtATime")))
    (conflict,) = [c for c in plan if c.action == "conflict"]
    assert conflict.resource == "codedeploy:deployment-config"
    assert "create-deployment-config" in conflict.fix
