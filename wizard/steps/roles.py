"""IAM roles: the instance role + its instance profile, and the CodeDeploy service role.

Two roles, never one for both principals (reference §6). A role or profile of the configured name
that does not carry our tag is a conflict: the wizard never rewrites someone else's role.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wizard import TAG_KEY, policies
from wizard.steps.base import (
    Change,
    ConflictError,
    StepContext,
    error_code,
    tag_dict,
    tag_hint,
)

NAME = "roles"
INSTANCE_ROLE_CHECKS = ["iam.instance-profile", "s3.bundle-readable"]
PROFILE_CHECKS = ["iam.instance-profile"]
SERVICE_ROLE_CHECKS = ["iam.service-role"]


@dataclass
class RoleSpec:
    """The role we want: trust, inline policies, managed policies attached and detached."""

    name: str
    label: str  # "instance role", "service role", "CI deploy role"
    trust: dict
    description: str
    inline: dict[str, dict] = field(default_factory=dict)
    managed: list[str] = field(default_factory=list)
    unwanted_managed: list[str] = field(default_factory=list)


def instance_role_spec(sc: StepContext) -> RoleSpec:
    p = sc.project
    ssm = policies.ssm_core_policy_arn(sc.partition)
    return RoleSpec(
        name=p.roles.instance_role,
        label="instance role",
        trust=policies.ec2_trust(),
        description=f"EC2 instances of {p.application}: read CodeDeploy revisions",
        inline={
            policies.REVISION_READ_POLICY: policies.revision_read_policy(
                sc.partition, sc.region, sc.bucket, p.bucket.prefix
            )
        },
        managed=[ssm] if p.roles.ssm else [],
        unwanted_managed=[] if p.roles.ssm else [ssm],
    )


def service_role_spec(sc: StepContext) -> RoleSpec:
    p = sc.project
    return RoleSpec(
        name=p.roles.service_role,
        label="service role",
        trust=policies.codedeploy_trust(sc.partition, sc.region, sc.account, p.application),
        description=f"CodeDeploy service role for {p.application}",
        managed=[policies.codedeploy_role_policy_arn(sc.partition)],
    )


# --------------------------------------------------------------------------- discover helpers
def get_role(iam: Any, name: str) -> dict | None:
    try:
        role = iam.get_role(RoleName=name)["Role"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    if "Tags" not in role:
        role["Tags"] = iam.list_role_tags(RoleName=name).get("Tags", [])
    return role


def get_profile(iam: Any, name: str) -> dict | None:
    try:
        prof = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise
    if "Tags" not in prof:
        prof["Tags"] = iam.list_instance_profile_tags(InstanceProfileName=name).get("Tags", [])
    return prof


def _inline(iam: Any, role: str, policy: str) -> dict | None:
    try:
        return iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
    except Exception as exc:
        if error_code(exc) == "NoSuchEntity":
            return None
        raise


def _attached(iam: Any, role: str) -> set[str]:
    pages = iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
    return {p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]}


def role_drift(iam: Any, spec: RoleSpec, role: dict) -> dict[str, Any]:
    """What differs between an existing role of ours and the spec (empty: nothing)."""
    drift: dict[str, Any] = {}
    if not policies.same_policy(role.get("AssumeRolePolicyDocument"), spec.trust):
        drift["trust"] = True
    stale = [
        name
        for name, doc in spec.inline.items()
        if not policies.same_policy(_inline(iam, spec.name, name), doc)
    ]
    if stale:
        drift["inline"] = stale
    attached = _attached(iam, spec.name)
    missing = [a for a in spec.managed if a not in attached]
    extra = [a for a in spec.unwanted_managed if a in attached]
    if missing:
        drift["attach"] = missing
    if extra:
        drift["detach"] = extra
    return drift


def _role_calls(spec: RoleSpec, drift: dict | None) -> list[str]:
    if drift is None:  # create
        calls = ["iam:CreateRole"]
        calls += ["iam:PutRolePolicy"] * bool(spec.inline)
        calls += ["iam:AttachRolePolicy"] * bool(spec.managed)
        return calls
    calls = []
    if drift.get("trust"):
        calls.append("iam:UpdateAssumeRolePolicy")
    if drift.get("inline"):
        calls.append("iam:PutRolePolicy")
    if drift.get("attach"):
        calls.append("iam:AttachRolePolicy")
    if drift.get("detach"):
        calls.append("iam:DetachRolePolicy")
    return calls


def _short(arn: str) -> str:
    return arn.split(":policy/", 1)[-1]


def plan_role(sc: StepContext, spec: RoleSpec, checks: list[str]) -> Change:
    """Discover one role and say what apply would do with it."""
    iam = sc.client("iam")
    role = get_role(iam, spec.name)
    base = {"step": NAME, "resource": "iam:role", "name": spec.name, "checks": list(checks)}
    what = _describe_spec(spec)
    if role is None:
        return Change(
            **base,
            action="create",
            description=f"create the {spec.label} {spec.name}: {what}",
            calls=_role_calls(spec, None),
            data={"spec": spec},
        )
    if not sc.owns(role["Tags"]):
        return Change(
            **base,
            action="conflict",
            description=(
                f"the {spec.label} {spec.name} already exists and was not created by the "
                f"wizard (no tag {TAG_KEY}={sc.application})"
            ),
            fix=tag_hint(
                f"aws iam tag-role --role-name {spec.name} "
                f"--tags Key={TAG_KEY},Value={sc.application}"
            ),
            data={"spec": spec},
        )
    drift = role_drift(iam, spec, role)
    if not drift:
        return Change(
            **base, action="noop", description=f"the {spec.label} {spec.name} is up to date"
        )
    parts = []
    if drift.get("trust"):
        parts.append("rewrite its trust policy")
    if drift.get("inline"):
        parts.append("rewrite inline policy " + ", ".join(drift["inline"]))
    if drift.get("attach"):
        parts.append("attach " + ", ".join(map(_short, drift["attach"])))
    if drift.get("detach"):
        parts.append("detach " + ", ".join(map(_short, drift["detach"])))
    return Change(
        **base,
        action="update",
        description=f"update the {spec.label} {spec.name}: " + "; ".join(parts),
        calls=_role_calls(spec, drift),
        data={"spec": spec},
    )


def _describe_spec(spec: RoleSpec) -> str:
    principal = spec.trust["Statement"][0]["Principal"]
    who = principal.get("Service") or principal.get("Federated", "").rsplit("/", 1)[-1]
    bits = [f"trusted by {who}"]
    if "Condition" in spec.trust["Statement"][0]:
        keys = [k for cond in spec.trust["Statement"][0]["Condition"].values() for k in cond]
        bits[0] += " when " + " and ".join(keys) + " match"
    bits += [f"inline policy {n}" for n in spec.inline]
    bits += [_short(a) for a in spec.managed]
    return ", ".join(bits)


def ensure_role(sc: StepContext, spec: RoleSpec) -> dict:
    """Create or converge one role of ours; idempotent, and makes no call when nothing differs."""
    iam = sc.client("iam")
    role = get_role(iam, spec.name)
    created = False
    if role is None:
        try:
            role = iam.create_role(
                RoleName=spec.name,
                AssumeRolePolicyDocument=policies.dumps(spec.trust),
                Description=spec.description[:1000],
                Tags=sc.tag_list(),
            )["Role"]
            created = True
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            role = get_role(iam, spec.name)
    if not created:
        assert role is not None
        if not sc.owns(role.get("Tags")):
            raise ConflictError(
                f"the {spec.label} {spec.name} exists and was not created by the wizard",
                fix=tag_hint(
                    f"aws iam tag-role --role-name {spec.name} "
                    f"--tags Key={TAG_KEY},Value={sc.application}"
                ),
            )
        if not policies.same_policy(role.get("AssumeRolePolicyDocument"), spec.trust):
            iam.update_assume_role_policy(
                RoleName=spec.name, PolicyDocument=policies.dumps(spec.trust)
            )
    for name, doc in spec.inline.items():
        if created or not policies.same_policy(_inline(iam, spec.name, name), doc):
            iam.put_role_policy(
                RoleName=spec.name, PolicyName=name, PolicyDocument=policies.dumps(doc)
            )
    attached = set() if created else _attached(iam, spec.name)
    for arn in spec.managed:
        if arn not in attached:
            iam.attach_role_policy(RoleName=spec.name, PolicyArn=arn)
    for arn in spec.unwanted_managed:
        if arn in attached:
            iam.detach_role_policy(RoleName=spec.name, PolicyArn=arn)
    return role


# --------------------------------------------------------------------------- instance profile
def plan_profile(sc: StepContext) -> Change:
    name = sc.project.roles.instance_role
    iam = sc.client("iam")
    prof = get_profile(iam, name)
    base = {
        "step": NAME,
        "resource": "iam:instance-profile",
        "name": name,
        "checks": list(PROFILE_CHECKS),
    }
    if prof is None:
        return Change(
            **base,
            action="create",
            description=f"create the instance profile {name} holding the instance role {name}",
            calls=["iam:CreateInstanceProfile", "iam:AddRoleToInstanceProfile"],
        )
    if not sc.owns(prof["Tags"]):
        return Change(
            **base,
            action="conflict",
            description=(
                f"the instance profile {name} already exists and was not created by the wizard"
            ),
            fix=tag_hint(
                f"aws iam tag-instance-profile --instance-profile-name {name} "
                f"--tags Key={TAG_KEY},Value={sc.application}"
            ),
        )
    roles = [r["RoleName"] for r in prof.get("Roles", [])]
    if roles == [name]:
        return Change(
            **base, action="noop", description=f"the instance profile {name} holds its role"
        )
    calls = ["iam:RemoveRoleFromInstanceProfile"] * bool(roles) + ["iam:AddRoleToInstanceProfile"]
    return Change(
        **base,
        action="update",
        description=(
            f"put the role {name} into the instance profile {name}"
            + (f" (instead of {', '.join(roles)})" if roles else "")
        ),
        calls=calls,
    )


def ensure_profile(sc: StepContext) -> dict:
    name = sc.project.roles.instance_role
    iam = sc.client("iam")
    prof = get_profile(iam, name)
    created = False
    if prof is None:
        try:
            prof = iam.create_instance_profile(InstanceProfileName=name, Tags=sc.tag_list())[
                "InstanceProfile"
            ]
            created = True
        except Exception as exc:
            if error_code(exc) != "EntityAlreadyExists":
                raise
            prof = get_profile(iam, name)
            assert prof is not None
    if not created and not sc.owns(prof.get("Tags")):
        raise ConflictError(
            f"the instance profile {name} exists and was not created by the wizard",
            fix=tag_hint(
                f"aws iam tag-instance-profile --instance-profile-name {name} "
                f"--tags Key={TAG_KEY},Value={sc.application}"
            ),
        )
    roles = [r["RoleName"] for r in prof.get("Roles", [])]
    for other in roles:
        if other != name:
            iam.remove_role_from_instance_profile(InstanceProfileName=name, RoleName=other)
    if name not in roles:
        try:
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        except Exception as exc:
            # a profile holds one role (InstanceSessionsPerInstanceProfile: 1): LimitExceeded
            # here means another apply of this application added it a moment ago
            if error_code(exc) != "LimitExceeded":
                raise
            now = get_profile(iam, name) or {}
            if name not in [r["RoleName"] for r in now.get("Roles", [])]:
                raise
    sc.outputs["instance_profile_arn"] = prof.get("Arn")
    return prof


# --------------------------------------------------------------------------- the step
def plan(sc: StepContext) -> list[Change]:
    """Instance role, its profile, the service role."""
    return [
        plan_role(sc, instance_role_spec(sc), INSTANCE_ROLE_CHECKS),
        plan_profile(sc),
        plan_role(sc, service_role_spec(sc), SERVICE_ROLE_CHECKS),
    ]


def apply(sc: StepContext, change: Change) -> None:
    if change.resource == "iam:instance-profile":
        ensure_profile(sc)
        sc.cache["fresh_profile"] = sc.cache.get("fresh_profile") or change.action == "create"
        return
    spec: RoleSpec = change.data["spec"]
    role = ensure_role(sc, spec)
    if spec.name == sc.project.roles.service_role:
        sc.outputs["service_role_arn"] = role.get("Arn") or sc.role_arn(spec.name)
        sc.cache["fresh_service_role"] = change.action == "create"
    else:
        sc.outputs["instance_role_arn"] = role.get("Arn") or sc.role_arn(spec.name)


# --------------------------------------------------------------------------- destroy
def delete_role(iam: Any, name: str) -> None:
    """Delete a role with everything hanging on it. Missing pieces are fine (idempotent)."""
    try:
        for page in iam.get_paginator("list_instance_profiles_for_role").paginate(RoleName=name):
            for prof in page["InstanceProfiles"]:
                iam.remove_role_from_instance_profile(
                    InstanceProfileName=prof["InstanceProfileName"], RoleName=name
                )
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
            for pol in page["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=pol)
        for arn in _attached(iam, name):
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        iam.delete_role(RoleName=name)
    except Exception as exc:
        if error_code(exc) != "NoSuchEntity":
            raise


def plan_destroy_role(sc: StepContext, name: str, label: str) -> Change | None:
    role = get_role(sc.client("iam"), name)
    if role is None:
        return None
    base = {"step": NAME, "resource": "iam:role", "name": name}
    if not sc.owns(role["Tags"]):
        return Change(
            **base,
            action="noop",
            description=f"leave the {label} {name} alone: the wizard did not create it",
        )
    return Change(
        **base,
        action="delete",
        description=f"delete the {label} {name} with its policies",
        calls=[
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
            "iam:DeleteRole",
        ],
    )


def destroy_plan(sc: StepContext) -> list[Change]:
    """Profile before roles (a role in a profile cannot be deleted)."""
    out: list[Change] = []
    name = sc.project.roles.instance_role
    prof = get_profile(sc.client("iam"), name)
    if prof is not None:
        base = {"step": NAME, "resource": "iam:instance-profile", "name": name}
        if sc.owns(prof["Tags"]):
            out.append(
                Change(
                    **base,
                    action="delete",
                    description=f"delete the instance profile {name}",
                    calls=["iam:RemoveRoleFromInstanceProfile", "iam:DeleteInstanceProfile"],
                )
            )
        else:
            out.append(
                Change(
                    **base,
                    action="noop",
                    description=f"leave the instance profile {name} alone: not the wizard's",
                )
            )
    for role_name, label in (
        (name, "instance role"),
        (sc.project.roles.service_role, "service role"),
    ):
        ch = plan_destroy_role(sc, role_name, label)
        if ch:
            out.append(ch)
    return out


def destroy(sc: StepContext, change: Change) -> None:
    iam = sc.client("iam")
    if change.resource == "iam:instance-profile":
        prof = get_profile(iam, change.name)
        if prof is None:
            return
        for r in prof.get("Roles", []):
            iam.remove_role_from_instance_profile(
                InstanceProfileName=change.name, RoleName=r["RoleName"]
            )
        try:
            iam.delete_instance_profile(InstanceProfileName=change.name)
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
        return
    delete_role(iam, change.name)


__all__ = [
    "NAME",
    "RoleSpec",
    "apply",
    "destroy",
    "destroy_plan",
    "ensure_role",
    "get_profile",
    "get_role",
    "instance_role_spec",
    "plan",
    "service_role_spec",
    "tag_dict",
]
