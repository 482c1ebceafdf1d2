"""CI step against moto: GitHub OIDC provider and role, Travis user, access keys, destroy."""

from __future__ import annotations

import json

import boto3
import pytest

from tests.steps_support import make_project, moto_account, sc_for
from wizard import TAG_KEY, policies
from wizard.steps import ci

ACCOUNT = "123456789012"
GH = {"provider": "github", "repository": "acme/shop", "branch": "main"}


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _apply(sc):
    for ch in ci.plan(sc):
        if ch.action != "noop":
            ci.apply(sc, ch)


def _deploy_policy_is_least_privilege(doc, *, travis=False):
    by_sid = {s["Sid"]: s for s in doc["Statement"]}
    if travis:
        # dpl v2's s3 provider always sends `x-amz-acl: private` (needs s3:PutObjectAcl too)
        assert by_sid["UploadBundle"]["Action"] == ["s3:PutObject", "s3:PutObjectAcl"]
        by_sid["UploadBundle"] = {**by_sid["UploadBundle"], "Action": "s3:PutObject"}
        # dpl v2's codedeploy provider runs HeadObject (s3:GetObject) on the uploaded key
        assert by_sid.pop("ReadBackBundle") == {
            "Sid": "ReadBackBundle",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::shop-codedeploy-{ACCOUNT}-us-east-1/releases/*",
        }
    assert by_sid["UploadBundle"] == {
        "Sid": "UploadBundle",
        "Effect": "Allow",
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::shop-codedeploy-{ACCOUNT}-us-east-1/releases/*",
    }
    assert set(by_sid["RegisterRevision"]["Action"]) == {
        "codedeploy:RegisterApplicationRevision",
        "codedeploy:GetApplicationRevision",
    }
    assert by_sid["RegisterRevision"]["Resource"] == (
        f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:application:shop"
    )
    assert set(by_sid["Deploy"]["Action"]) == {
        "codedeploy:CreateDeployment",
        "codedeploy:GetDeployment",
    }
    assert by_sid["Deploy"]["Resource"] == (
        f"arn:aws:codedeploy:us-east-1:{ACCOUNT}:deploymentgroup:shop/shop-group"
    )
    assert by_sid["ReadDeploymentConfig"]["Action"] == "codedeploy:GetDeploymentConfig"
    assert len(by_sid) == 4


def test_github_gets_an_oidc_provider_and_a_role_scoped_to_repo_and_branch(aws):
    sc = sc_for(aws, make_project("shop", ci=GH))
    plan = ci.plan(sc)
    assert [(c.resource, c.action) for c in plan] == [
        ("iam:oidc-provider", "create"),
        ("iam:role", "create"),
    ]
    _apply(sc)
    iam = boto3.client("iam")
    (prov,) = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=prov["Arn"])
    assert got["ClientIDList"] == ["sts.amazonaws.com"]
    assert got["Url"].endswith("token.actions.githubusercontent.com")
    assert {"Key": TAG_KEY, "Value": "shop"} in got["Tags"]
    role = iam.get_role(RoleName="shop-codedeploy-deploy")["Role"]
    (stmt,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert stmt["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    }
    assert stmt["Condition"]["StringEquals"] == {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": "repo:acme/shop:ref:refs/heads/main",
    }
    doc = iam.get_role_policy(
        RoleName="shop-codedeploy-deploy", PolicyName="codedeploy-wizard-deploy"
    )
    _deploy_policy_is_least_privilege(doc["PolicyDocument"])
    assert [c.action for c in ci.plan(sc)] == ["noop", "noop"]


def test_an_existing_github_provider_is_used_never_duplicated(aws):
    iam = boto3.client("iam")
    iam.create_open_id_connect_provider(
        Url=policies.GITHUB_OIDC_URL, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    sc = sc_for(aws, make_project("shop", ci=GH))
    prov_change = ci.plan(sc)[0]
    assert prov_change.action == "noop"
    assert "existing" in prov_change.description
    _apply(sc)
    provs = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert len(provs) == 1
    # destroy leaves a provider it did not create
    dplan = ci.destroy_plan(sc)
    assert [(c.resource, c.action) for c in dplan] == [
        ("iam:role", "delete"),
        ("iam:oidc-provider", "noop"),
    ]


def test_an_existing_provider_without_the_sts_audience_gets_it_added(aws):
    iam = boto3.client("iam")
    iam.create_open_id_connect_provider(
        Url=policies.GITHUB_OIDC_URL, ClientIDList=["sigstore"], ThumbprintList=["a" * 40]
    )
    sc = sc_for(aws, make_project("shop", ci=GH))
    prov_change = ci.plan(sc)[0]
    assert prov_change.action == "update"
    assert prov_change.calls == ["iam:AddClientIDToOpenIDConnectProvider"]
    from wizard.sandbox import extensions

    extensions.install()  # plain moto lacks AddClientIDToOpenIDConnectProvider; the sandbox has it
    ci.apply(sc, prov_change)
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=prov_change.data["arn"])
    assert set(got["ClientIDList"]) == {"sigstore", "sts.amazonaws.com"}


def test_travis_user_has_only_the_deploy_policy_and_no_key_unless_asked(aws):
    sc = sc_for(aws, make_project("shop", ci={"provider": "travis"}))
    (change,) = ci.plan(sc)
    assert change.action == "create"
    assert "--create-access-key" in change.description
    _apply(sc)
    iam = boto3.client("iam")
    assert iam.list_access_keys(UserName="shop-codedeploy-ci")["AccessKeyMetadata"] == []
    assert iam.list_attached_user_policies(UserName="shop-codedeploy-ci")["AttachedPolicies"] == []
    doc = iam.get_user_policy(UserName="shop-codedeploy-ci", PolicyName="codedeploy-wizard-deploy")
    _deploy_policy_is_least_privilege(doc["PolicyDocument"], travis=True)
    key = ci.create_access_key(sc)
    assert key["AccessKeyId"].startswith("AKIA") or key["AccessKeyId"]
    cmds = ci.travis_commands(key)
    assert cmds[0] == f"travis env set AWS_ACCESS_KEY_ID {key['AccessKeyId']} --private"
    # the secret is read from the terminal, never written on a command line (shell history)
    assert cmds[1].startswith('travis env set AWS_SECRET_ACCESS_KEY "$(cat)" --private')
    assert key["SecretAccessKey"] not in "\n".join(cmds)
    # the generated .travis.yml shows the very same command (one helper makes the text)
    from wizard.render.travis import TravisTarget, render_travis

    target = TravisTarget("shop", "shop-group", "us-east-1", "b", "releases/", "main", ".")
    header = [ln for ln in render_travis(target).splitlines() if ln.startswith("#")]
    (shown,) = [ln for ln in header if "travis env set" in ln]
    assert shown == f"#   {cmds[1]}"
    assert "..." not in "\n".join(header)  # no placeholder to fill in on a command line
    ci.create_access_key(sc)
    with pytest.raises(ci.ConflictError, match="two access keys"):
        ci.create_access_key(sc)


def test_a_foreign_user_is_a_conflict(aws):
    boto3.client("iam").create_user(UserName="shop-codedeploy-ci")
    (change,) = ci.plan(sc_for(aws, make_project("shop", ci={"provider": "travis"})))
    assert change.action == "conflict"
    assert "aws iam tag-user" in change.fix


def test_destroy_removes_user_keys_role_and_our_provider(aws):
    iam = boto3.client("iam")
    for provider in (GH, {"provider": "travis"}):
        sc = sc_for(aws, make_project("shop", ci=provider))
        _apply(sc)
    ci.create_access_key(sc)
    sc = sc_for(aws, make_project("shop", ci=GH))
    dplan = ci.destroy_plan(sc)
    assert [(c.resource, c.action) for c in dplan] == [
        ("iam:role", "delete"),
        ("iam:oidc-provider", "delete"),
        ("iam:user", "delete"),
    ]
    for ch in dplan:
        ci.destroy(sc, ch)
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert iam.list_users()["Users"] == []
    assert iam.list_roles()["Roles"] == []
    assert ci.destroy_plan(sc) == []


def test_our_provider_is_kept_while_another_role_trusts_it(aws):
    sc = sc_for(aws, make_project("shop", ci=GH))
    _apply(sc)
    trust = policies.github_trust("aws", ACCOUNT, "acme/other", "main")
    boto3.client("iam").create_role(
        RoleName="other-deployer", AssumeRolePolicyDocument=json.dumps(trust)
    )
    prov = next(c for c in ci.destroy_plan(sc) if c.resource == "iam:oidc-provider")
    assert prov.action == "noop"
    assert "other-deployer" in prov.description
