"""iam.*: the service role CodeDeploy assumes, and the instance profile behind the agent."""

from __future__ import annotations

from typing import Any

from checks import policy
from checks.evidence import Unavailable
from checks.group import MISSING_CODES
from checks.interpret import count_phrase, id_list
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check
from wizard import naming

CODEDEPLOY_ROLE_POLICY = "service-role/AWSCodeDeployRole"
CODEDEPLOY = "codedeploy.amazonaws.com"
EC2 = "ec2.amazonaws.com"


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


@check("iam.service-role", "Service role", priority=5)
def service_role(ctx) -> Result:
    """The service role exists, is trusted by codedeploy.amazonaws.com and has AWSCodeDeployRole."""
    try:
        group = ctx.ev.group()
    except Unavailable as u:
        if u.code in MISSING_CODES:
            return skip(f"skipped: {u.reason}")
        raise
    arn = group.get("serviceRoleArn") or ""
    if not arn:
        return fail("the deployment group has no service role")
    name = role_name(arn)
    app, grp = group.get("applicationName"), group.get("deploymentGroupName")
    evidence: dict[str, Any] = {"service_role_arn": arn}
    role = ctx.ev.role(name)
    if role is None:
        return fail(
            f"service role {name} does not exist",
            evidence=evidence,
            fix=Fix(
                "Recreate the service role (wizard apply does it), then point the group at it.",
                [
                    "wizard apply",
                    f"aws deploy update-deployment-group --application-name {app} "
                    f"--current-deployment-group-name {grp} --service-role-arn {arn}",
                ],
            ),
        )
    trust = policy.parse(role.get("AssumeRolePolicyDocument"))
    evidence["trusted_services"] = policy.trusted_services(trust)
    attached = [p.get("PolicyArn", "") for p in ctx.ev.attached_policies(name)]
    evidence["attached_policies"] = attached
    problems: list[str] = []
    fixes: list[Fix] = []
    if not policy.trusts(trust, CODEDEPLOY):
        hint = (
            " (it trusts ec2.amazonaws.com: is this the instance role?)"
            if EC2 in evidence["trusted_services"]
            else ""
        )
        problems.append(f"{name} is not trusted by {CODEDEPLOY}{hint}")
        fixes.append(
            Fix(
                f"Let CodeDeploy assume {name} (a trust statement with confused-deputy "
                "conditions).",
                [
                    f"aws iam update-assume-role-policy --role-name {name} --policy-document "
                    f"file://codedeploy-trust.json   # Principal.Service={CODEDEPLOY}, "
                    "Condition aws:SourceAccount=ACCOUNT"
                ],
                automatic=True,
                action="service-role-trust",
                params={"role": name, "application": app},
            )
        )
    has_managed = any(a.endswith(CODEDEPLOY_ROLE_POLICY) for a in attached)
    if not has_managed:
        attach = Fix(
            f"Attach the managed policy AWSCodeDeployRole to {name}.",
            [
                f"aws iam attach-role-policy --role-name {name} --policy-arn "
                f"arn:aws:iam::aws:policy/{CODEDEPLOY_ROLE_POLICY}"
            ],
            automatic=True,
            action="attach-codedeploy-role",
            params={"role": name},
        )
        if ctx.deployment_code() in ("IAM_ROLE_PERMISSIONS",) or not attached:
            problems.append(f"{name} does not have AWSCodeDeployRole")
            fixes.append(attach)
        elif not problems:
            return warn(
                f"{name} lacks AWSCodeDeployRole (custom policies attached: check they cover EC2 "
                "and Auto Scaling)",
                evidence=evidence,
                fix=attach,
            )
    if problems:
        fix = fixes[0]
        if len(fixes) > 1:
            fix = Fix(
                " ".join(f.summary for f in fixes),
                [c for f in fixes for c in f.commands],
                automatic=True,
                action="multi",
                params={"fixes": [{"action": f.action, "params": f.params} for f in fixes]},
            )
        return fail("; ".join(problems), evidence=evidence, fix=fix)
    return passed(f"{name} is trusted by CodeDeploy and has AWSCodeDeployRole", evidence=evidence)


def _suggest_profile(ctx, good: dict[str, int]) -> str | None:
    """The profile to associate: the one most instances already use, else the one setup makes
    (`wizard.naming.instance_profile`)."""
    if good:
        return max(good.items(), key=lambda kv: kv[1])[0]
    app = ctx.ev.application
    if app:
        cand = naming.instance_profile(app)
        prof = ctx.ev.instance_profile(cand)
        if prof and any(
            policy.trusts(r.get("AssumeRolePolicyDocument"), EC2) for r in prof.get("Roles", [])
        ):
            return cand
    return None


@check("iam.instance-profile", "Instance profile", priority=20)
def instance_profile(ctx) -> Result:
    """Every target has an instance profile whose role trusts ec2.amazonaws.com."""
    insts = ctx.ev.instances()
    if not insts:
        return skip("no instances to look at")
    profiles = ctx.ev.instance_profiles()
    problems: dict[str, list[str]] = {}
    good: dict[str, int] = {}
    per_profile: dict[str, dict[str, Any]] = {}
    gone: list[str] = []
    for iid, inst in sorted(insts.items()):
        if (inst.get("State") or {}).get("Name") in ("terminated", "shutting-down"):
            # a terminated instance has lost its profile association: not evidence of a problem
            gone.append(iid)
            continue
        arn = (inst.get("IamInstanceProfile") or {}).get("Arn")
        if not arn:
            problems.setdefault("no instance profile", []).append(iid)
            continue
        pname = role_name(arn)
        prof = profiles.get(arn)
        if prof is None:
            problems.setdefault(f"instance profile {pname} does not exist", []).append(iid)
            continue
        roles = prof.get("Roles") or []
        per_profile[pname] = {"roles": [r["RoleName"] for r in roles]}
        if not roles:
            problems.setdefault(f"instance profile {pname} has no role", []).append(iid)
            continue
        if not any(policy.trusts(r.get("AssumeRolePolicyDocument"), EC2) for r in roles):
            rn = roles[0]["RoleName"]
            problems.setdefault(f"role {rn} (profile {pname}) does not trust {EC2}", []).append(iid)
            per_profile[pname]["trusted_services"] = policy.trusted_services(
                roles[0].get("AssumeRolePolicyDocument")
            )
            continue
        good[pname] = good.get(pname, 0) + 1
    if gone and len(gone) == len(insts):
        return info(
            f"{len(gone)} instance(s) terminated since ({', '.join(gone[:5])}): no profile to see",
            evidence={"terminated": gone},
            instances=gone,
        )
    total = len(insts) - len(gone)
    evidence: dict[str, Any] = {"profiles": per_profile, "instances": total, "terminated": gone}
    if not problems:
        names = ", ".join(sorted(good))
        pointed = ctx.pointed("iam.instance-profile")
        strong = [f for f in pointed if f.cause.key == "no-credentials"]
        if strong:
            return warn(
                f"profiles look right now ({names}), but {count_phrase(len(strong), total)} failed "
                "with 'Missing credentials': restart the agent and deploy again",
                evidence=evidence,
                instances=sorted(f.instance_id for f in strong),
                fix=Fix(
                    "Restart the agent so it picks up credentials.",
                    ["sudo systemctl restart codedeploy-agent"],
                ),
            )
        return passed(
            f"{count_phrase(total, total)} {'has' if total == 1 else 'have'} a profile whose role "
            f"trusts ec2 ({names})",
            evidence=evidence,
        )
    groups = sorted(problems.items(), key=lambda kv: -len(kv[1]))
    evidence["problems"] = {k: v for k, v in groups}
    missing = problems.get("no instance profile", [])
    if missing:
        pending = ctx.ev.pending_associations(missing)
        if pending:
            evidence["pending_associations"] = pending
    summary = "; ".join(f"{count_phrase(len(ids), total)}: {what}" for what, ids in groups)
    ids = sorted({i for _, v in groups for i in v})
    fix: Fix
    what, first_ids = groups[0]
    if what == "no instance profile":
        name = _suggest_profile(ctx, good)
        cmd_name = name or "PROFILE_NAME"
        what_profile = (
            f"the instance profile {name}"
            if name
            else "an instance profile whose role trusts ec2.amazonaws.com (none found to suggest; "
            "`wizard apply` creates one)"
        )
        fix = Fix(
            f"Attach {what_profile} to {id_list(first_ids)}, then restart the agent "
            "(it caches missing credentials).",
            [
                f"aws ec2 associate-iam-instance-profile --instance-id {i} --iam-instance-profile "
                f"Name={cmd_name}"
                for i in first_ids[:3]
            ]
            + ["sudo systemctl restart codedeploy-agent   # on each instance"],
            automatic=name is not None,
            action="associate-profile" if name else None,
            params={"profile": name, "instances": first_ids} if name else {},
        )
    elif "does not trust" in what:
        rn = what.split()[1]
        fix = Fix(
            f"Let EC2 assume {rn}: its trust policy must name {EC2}.",
            [
                f"aws iam update-assume-role-policy --role-name {rn} --policy-document file://ec2-trust.json"
            ],
        )
    elif "has no role" in what:
        pn = what.split()[2]
        fix = Fix(
            f"Add the instance role to profile {pn}.",
            [f"aws iam add-role-to-instance-profile --instance-profile-name {pn} --role-name ROLE"],
        )
    else:
        fix = Fix(
            "Recreate the profile (wizard apply) or associate an existing one.", ["wizard apply"]
        )
    return fail(summary, evidence=evidence, instances=ids, fix=fix)
