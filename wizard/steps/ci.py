"""The CI identity that deploys: a GitHub Actions OIDC role, or a Travis CI IAM user.

Both may only upload a bundle under the revision prefix, register the revision, create and read a
deployment of this group and read deployment configs (reference §6). An account has at most one
OIDC provider per URL, so an existing GitHub provider is used, never duplicated, and `destroy`
deletes it only when the wizard created it (our tag) and no other role still trusts it.

The Travis user's access key is created only when asked (`--create-access-key`); it is returned in
the apply result to be printed once, and never written anywhere.
"""

from __future__ import annotations

from typing import Any

from wizard import TAG_KEY, naming, policies
from wizard.steps import roles
from wizard.steps.base import Change, ConflictError, StepContext, error_code, tag_dict, tag_hint

NAME = "ci"
CHECKS: list[str] = []


def deploy_role_name(project: Any) -> str:
    """Name of the GitHub Actions deploy role (ci.provider github); see `wizard.naming`."""
    return naming.deploy_role(project.application)


def ci_user_name(project: Any) -> str:
    """Name of the Travis CI IAM user (ci.provider travis); see `wizard.naming`."""
    return naming.ci_user(project.application)


def deploy_role_arn(project: Any, account: str, partition: str = "aws") -> str:
    return naming.deploy_role_arn(project.application, account, partition)


def _deploy_policy(sc: StepContext) -> dict:
    p = sc.project
    return policies.deploy_policy(
        sc.partition,
        sc.region,
        sc.account,
        sc.bucket,
        p.bucket.prefix,
        p.application,
        p.deployment_group,
        head_bundle=p.ci.provider == "travis",  # dpl's codedeploy provider runs HeadObject
        put_acl=p.ci.provider == "travis",  # dpl's s3 provider sends x-amz-acl: private
    )


def deploy_role_spec(sc: StepContext) -> roles.RoleSpec:
    p = sc.project
    return roles.RoleSpec(
        name=deploy_role_name(p),
        label="CI deploy role",
        trust=policies.github_trust(sc.partition, sc.account, p.ci.repository or "", p.ci.branch),
        description=f"GitHub Actions of {p.ci.repository} ({p.ci.branch}) deploy {p.application}",
        inline={policies.DEPLOY_POLICY: _deploy_policy(sc)},
    )


# --------------------------------------------------------------------------- OIDC provider
def find_provider(sc: StepContext) -> str | None:
    """ARN of the account's GitHub Actions OIDC provider, if there is one."""
    iam = sc.client("iam")
    for prov in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", []):
        if prov["Arn"].endswith("/" + policies.GITHUB_OIDC_HOST):
            return prov["Arn"]
    return None


def _provider(sc: StepContext, arn: str) -> dict:
    return sc.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def plan_provider(sc: StepContext) -> Change:
    base = {"step": NAME, "resource": "iam:oidc-provider", "name": policies.GITHUB_OIDC_HOST}
    arn = find_provider(sc)
    if arn is None:
        return Change(
            **base,
            action="create",
            description=(
                f"create the IAM OIDC provider for GitHub Actions ({policies.GITHUB_OIDC_URL}, "
                f"audience {policies.GITHUB_AUDIENCE})"
            ),
            calls=["iam:CreateOpenIDConnectProvider"],
        )
    prov = _provider(sc, arn)
    ours = tag_dict(prov.get("Tags")).get(TAG_KEY) == sc.application
    whose = "the wizard's" if ours else "the account's existing"
    if policies.GITHUB_AUDIENCE not in prov.get("ClientIDList", []):
        return Change(
            **base,
            action="update",
            description=(
                f"add the audience {policies.GITHUB_AUDIENCE} to {whose} GitHub OIDC provider "
                "(an account has only one per URL)"
            ),
            calls=["iam:AddClientIDToOpenIDConnectProvider"],
            data={"arn": arn},
        )
    return Change(
        **base,
        action="noop",
        description=f"use {whose} GitHub OIDC provider (an account has only one per URL)",
        data={"arn": arn},
    )


def ensure_provider(sc: StepContext) -> str:
    iam = sc.client("iam")
    arn = find_provider(sc)
    if arn is None:
        try:
            arn = iam.create_open_id_connect_provider(
                Url=policies.GITHUB_OIDC_URL,
                ClientIDList=[policies.GITHUB_AUDIENCE],
                ThumbprintList=list(policies.GITHUB_THUMBPRINTS),
                Tags=sc.tag_list(),
            )["OpenIDConnectProviderArn"]
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            arn = find_provider(sc)
            assert arn is not None
        return arn
    if policies.GITHUB_AUDIENCE not in _provider(sc, arn).get("ClientIDList", []):
        iam.add_client_id_to_open_id_connect_provider(
            OpenIDConnectProviderArn=arn, ClientID=policies.GITHUB_AUDIENCE
        )
    return arn


# --------------------------------------------------------------------------- travis user
def get_user(iam: Any, name: str) -> dict | None:
    try:
        user = iam.get_user(UserName=name)["User"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    if "Tags" not in user:
        user["Tags"] = iam.list_user_tags(UserName=name).get("Tags", [])
    return user


def _user_policy(iam: Any, name: str) -> dict | None:
    try:
        return iam.get_user_policy(UserName=name, PolicyName=policies.DEPLOY_POLICY)[
            "PolicyDocument"
        ]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


# how the plan says the Travis user has no key yet: each front end names what it offers (the CLI
# a flag, the TUI the Done screen's button); the plan is built once, in the CLI's words, and the
# TUI shows it through `in_tui_words`
KEY_NOTE = {
    "cli": "no access key (use --create-access-key to create one, shown once)",
    "tui": "no access key (press CI access key on the Done screen to create one, shown once)",
}


def in_tui_words(text: str) -> str:
    """A plan text (a Change's description) as the TUI says it: what the CLI does with a flag,
    the TUI does with a button."""
    return text.replace(KEY_NOTE["cli"], KEY_NOTE["tui"])


def plan_user(sc: StepContext) -> Change:
    iam = sc.client("iam")
    name = ci_user_name(sc.project)
    base = {"step": NAME, "resource": "iam:user", "name": name}
    user = get_user(iam, name)
    key_note = KEY_NOTE["cli"]
    if user is None:
        return Change(
            **base,
            action="create",
            description=(
                f"create the IAM user {name} for Travis CI, allowed only to upload bundles under "
                f"{sc.project.bucket.prefix} and deploy to {sc.project.deployment_group}; "
                f"{key_note}"
            ),
            calls=["iam:CreateUser", "iam:PutUserPolicy"],
        )
    if not sc.owns(user["Tags"]):
        return Change(
            **base,
            action="conflict",
            description=f"the IAM user {name} exists and was not created by the wizard",
            fix=tag_hint(
                f"aws iam tag-user --user-name {name} --tags Key={TAG_KEY},Value={sc.application}"
            ),
        )
    if not policies.same_policy(_user_policy(iam, name), _deploy_policy(sc)):
        return Change(
            **base,
            action="update",
            description=f"rewrite the deploy policy of the IAM user {name}",
            calls=["iam:PutUserPolicy"],
        )
    return Change(**base, action="noop", description=f"the IAM user {name} is set up for Travis CI")


def ensure_user(sc: StepContext) -> None:
    iam = sc.client("iam")
    name = ci_user_name(sc.project)
    user = get_user(iam, name)
    created = False
    if user is None:
        try:
            iam.create_user(UserName=name, Tags=sc.tag_list())
            created = True
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            user = get_user(iam, name)
    if not created and user is not None and not sc.owns(user["Tags"]):
        raise ConflictError(f"the IAM user {name} exists and was not created by the wizard")
    doc = _deploy_policy(sc)
    if created or not policies.same_policy(_user_policy(iam, name), doc):
        iam.put_user_policy(
            UserName=name, PolicyName=policies.DEPLOY_POLICY, PolicyDocument=policies.dumps(doc)
        )
    sc.outputs["ci_user"] = name


def access_key_change(sc: StepContext) -> Change:
    name = ci_user_name(sc.project)
    return Change(
        step=NAME,
        resource="iam:access-key",
        name=name,
        action="create",
        description=f"create an access key for {name} (printed once, never saved)",
        calls=["iam:CreateAccessKey"],
    )


def create_access_key(sc: StepContext) -> dict[str, str]:
    """A new key for the CI user; AccessKeyId and SecretAccessKey, for printing once."""
    iam = sc.client("iam")
    name = ci_user_name(sc.project)
    keys = iam.list_access_keys(UserName=name).get("AccessKeyMetadata", [])
    if len(keys) >= 2:
        raise ConflictError(
            f"the IAM user {name} already has two access keys (the most IAM allows)",
            fix=f"Delete an unused one: aws iam delete-access-key --user-name {name} "
            f"--access-key-id {keys[0]['AccessKeyId']}",
        )
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"AccessKeyId": key["AccessKeyId"], "SecretAccessKey": key["SecretAccessKey"]}


def travis_commands(key: dict[str, str]) -> list[str]:
    """How to store the key in the repository settings (never in .travis.yml in plain text).

    The secret never appears on a command line (shell history, `ps`): the second command reads it
    from the terminal (`wizard.render.travis.env_set_command`, which the generated .travis.yml
    shows too). The access key id is not a secret and is written out.
    """
    from wizard.render.travis import FROM_STDIN_HINT, env_set_command

    return [
        env_set_command("AWS_ACCESS_KEY_ID", key["AccessKeyId"]),
        f"{env_set_command('AWS_SECRET_ACCESS_KEY')}   # {FROM_STDIN_HINT}",
    ]


# --------------------------------------------------------------------------- the step
def plan(sc: StepContext) -> list[Change]:
    provider = sc.project.ci.provider
    if provider == "github":
        role = roles.plan_role(sc, deploy_role_spec(sc), CHECKS)
        role.step = NAME
        return [plan_provider(sc), role]
    if provider == "travis":
        return [plan_user(sc)]
    return []


def apply(sc: StepContext, change: Change) -> None:
    if change.resource == "iam:oidc-provider":
        sc.outputs["oidc_provider_arn"] = ensure_provider(sc)
    elif change.resource == "iam:role":
        role = roles.ensure_role(sc, change.data["spec"])
        sc.outputs["deploy_role_arn"] = role.get("Arn") or sc.role_arn(change.name)
    elif change.resource == "iam:user":
        ensure_user(sc)
    elif change.resource == "iam:access-key":
        sc.outputs["access_key"] = create_access_key(sc)


# --------------------------------------------------------------------------- destroy
def _trusting_roles(sc: StepContext, provider_arn: str, ignore: set[str]) -> list[str]:
    iam = sc.client("iam")
    out = []
    for page in iam.get_paginator("list_roles").paginate():
        for role in page["Roles"]:
            if role["RoleName"] in ignore:
                continue
            doc = role.get("AssumeRolePolicyDocument")
            text = doc if isinstance(doc, str) else policies.dumps(doc or {})
            if provider_arn in text or policies.GITHUB_OIDC_HOST in text:
                out.append(role["RoleName"])
    return out


def destroy_plan(sc: StepContext) -> list[Change]:
    out: list[Change] = []
    iam = sc.client("iam")
    role_change = roles.plan_destroy_role(sc, deploy_role_name(sc.project), "CI deploy role")
    if role_change:
        role_change.step = NAME
        out.append(role_change)
    arn = find_provider(sc)
    if arn:
        prov = _provider(sc, arn)
        base = {"step": NAME, "resource": "iam:oidc-provider", "name": policies.GITHUB_OIDC_HOST}
        if tag_dict(prov.get("Tags")).get(TAG_KEY) != sc.application:
            out.append(
                Change(
                    **base,
                    action="noop",
                    description=(
                        "leave the GitHub OIDC provider alone: the wizard did not create it"
                    ),
                )
            )
        else:
            users = _trusting_roles(sc, arn, {deploy_role_name(sc.project)})
            if users:
                out.append(
                    Change(
                        **base,
                        action="noop",
                        description=(
                            "keep the GitHub OIDC provider: other roles still trust it "
                            f"({', '.join(users[:5])})"
                        ),
                    )
                )
            else:
                out.append(
                    Change(
                        **base,
                        action="delete",
                        description="delete the GitHub OIDC provider the wizard created",
                        calls=["iam:DeleteOpenIDConnectProvider"],
                        data={"arn": arn},
                    )
                )
    name = ci_user_name(sc.project)
    user = get_user(iam, name)
    if user is not None:
        base = {"step": NAME, "resource": "iam:user", "name": name}
        if sc.owns(user["Tags"]):
            out.append(
                Change(
                    **base,
                    action="delete",
                    description=f"delete the IAM user {name} with its access keys and policy",
                    calls=["iam:DeleteAccessKey", "iam:DeleteUserPolicy", "iam:DeleteUser"],
                )
            )
        else:
            out.append(
                Change(
                    **base,
                    action="noop",
                    description=f"leave the IAM user {name} alone: the wizard did not create it",
                )
            )
    return out


def destroy(sc: StepContext, change: Change) -> None:
    iam = sc.client("iam")
    try:
        if change.resource == "iam:role":
            roles.delete_role(iam, change.name)
        elif change.resource == "iam:oidc-provider":
            iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=change.data["arn"])
        elif change.resource == "iam:user":
            for key in iam.list_access_keys(UserName=change.name).get("AccessKeyMetadata", []):
                iam.delete_access_key(UserName=change.name, AccessKeyId=key["AccessKeyId"])
            for pol in iam.list_user_policies(UserName=change.name).get("PolicyNames", []):
                iam.delete_user_policy(UserName=change.name, PolicyName=pol)
            for pol in iam.list_attached_user_policies(UserName=change.name).get(
                "AttachedPolicies", []
            ):
                iam.detach_user_policy(UserName=change.name, PolicyArn=pol["PolicyArn"])
            iam.delete_user(UserName=change.name)
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise
