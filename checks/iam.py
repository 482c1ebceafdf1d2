"""iam.*: the service role CodeDeploy assumes, and the instance profile behind the agent."""

from __future__ import annotations

import json
import posixpath
from typing import Any

from checks import policy
from checks.evidence import Unavailable, error_code
from checks.group import MISSING_CODES
from checks.interpret import count_phrase, id_list
from checks.model import Fix, Result, fail, info, passed, skip, warn
from checks.registry import check
from wizard import naming, policies

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
        # the existing statements are kept (what --fix does too); the new one carries the
        # confused-deputy conditions of reference §6
        merged = dict(trust) if isinstance(trust, dict) else {}
        stmts = merged.get("Statement") or []
        stmts = stmts if isinstance(stmts, list) else [stmts]
        account = arn.split(":")[4] if arn.count(":") >= 5 else ""
        partition = arn.split(":")[1] if arn.count(":") >= 5 else "aws"
        new_stmt = policies.codedeploy_trust(partition, ctx.ev.region, account, app or "*")[
            "Statement"
        ][0]
        doc = {"Version": merged.get("Version", "2012-10-17"), "Statement": [*stmts, new_stmt]}
        fixes.append(
            Fix(
                f"Let CodeDeploy assume {name}: add a trust statement for {CODEDEPLOY} (with "
                "confused-deputy conditions; the existing statements stay).",
                [
                    f"aws iam update-assume-role-policy --role-name {name} --policy-document "
                    f"'{json.dumps(doc, separators=(',', ':'))}'"
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


WIZARD_TAG = "codedeploy-wizard:application"
PROFILE_SCAN = 1000  # instance profiles looked at, at most
SIMULATED = 12  # candidates whose read access is simulated, at most


def _profile_reads(ctx, prof: dict[str, Any]) -> tuple[bool, str]:
    """May this profile's role read the revision? (SimulatePrincipalPolicy; policies read when
    simulation is not allowed, labelled weaker.)"""
    loc = ctx.ev.revision()
    role = (prof.get("Roles") or [{}])[0]
    if not loc:
        return True, "no revision to read"
    obj = f"arn:{getattr(ctx.aws, 'partition', 'aws')}:s3:::{loc['bucket']}/{loc['key']}"
    try:
        bucket_policy = ctx.ev.bucket_policy()
    except Unavailable:
        bucket_policy = None
    try:
        decision = ctx.ev.simulate(role["Arn"], ["s3:GetObject"], [obj], bucket_policy).get(
            "s3:GetObject"
        )
        return decision == "allowed", "simulated"
    except Unavailable:
        pass
    try:
        docs = ctx.ev.identity_policies(role["RoleName"])
    except Exception:  # may not read its policies either: not proven, not suggested
        return False, "not readable"
    verdict, _ = policy.evaluate(
        docs,
        "s3:GetObject",
        obj,
        resource_policy=bucket_policy,
        principal_arn=role["Arn"],
        account=role["Arn"].split(":")[4],
    )
    return verdict == "allowed", "read from its policies (weaker)"


def find_profiles(ctx) -> list[dict[str, Any]]:
    """Existing instance profiles that fit: a role trusting ec2.amazonaws.com that may read the
    revision (proven by simulation), tagged for this application first, then named after it.

    Each: {"name", "role", "tagged", "reads", "how"}. ListInstanceProfiles returns the roles with
    their trust policies; tags come from GetInstanceProfile (one call per candidate: listing
    operations leave tags out).
    """
    app = ctx.ev.application or ""

    def load() -> list[dict[str, Any]]:
        iam = ctx.ev.client("iam")
        profiles: list[dict[str, Any]] = []
        pages = iam.get_paginator("list_instance_profiles").paginate(
            PaginationConfig={"MaxItems": PROFILE_SCAN}
        )
        for page in pages:
            profiles.extend(page.get("InstanceProfiles", []))
        fit = [
            p
            for p in profiles
            if p.get("Roles")
            and any(policy.trusts(r.get("AssumeRolePolicyDocument"), EC2) for r in p["Roles"])
        ]

        def tags(p: dict[str, Any]) -> dict[str, str]:
            # listing operations do not return tags; GetInstanceProfile does
            try:
                got = ctx.ev.instance_profile(p["InstanceProfileName"]) or {}
            except Exception:  # tags are a preference, not a requirement
                return {}
            return {t["Key"]: t["Value"] for t in got.get("Tags", [])}

        named = [p for p in fit if app and app.lower() in p["InstanceProfileName"].lower()]
        others = [p for p in fit if p not in named]
        looked = (named + others)[: SIMULATED * 4]
        tag_sets = ctx.ev.fan_out(tags, looked)
        ranked = sorted(
            zip(looked, tag_sets, strict=True),
            key=lambda pt: (
                pt[1].get(WIZARD_TAG) != app,
                pt[0] not in named,
                pt[0]["InstanceProfileName"],
            ),
        )[:SIMULATED]
        out = []
        for prof, tg in ranked:
            reads, how = _profile_reads(ctx, prof)
            out.append(
                {
                    "name": prof["InstanceProfileName"],
                    "role": prof["Roles"][0]["RoleName"],
                    "tagged": tg.get(WIZARD_TAG) == app,
                    "reads": reads,
                    "how": how,
                }
            )
        return out

    return ctx.ev.memo("fitting-profiles", load)


def _suggest_profile(ctx, good: dict[str, int]) -> tuple[str | None, dict[str, Any]]:
    """The profile to associate: the one most instances already use, else an existing profile
    that fits (see `find_profiles`); with the evidence of the search."""
    if good:
        return max(good.items(), key=lambda kv: kv[1])[0], {"from": "the other instances"}
    try:
        found = find_profiles(ctx)
    except Exception as exc:  # may not list profiles: say so, offer to create one
        return None, {"search": f"ListInstanceProfiles failed: {error_code(exc) or exc}"}
    ok = [f for f in found if f["reads"]]
    evidence = {"fitting_profiles": found}
    return (ok[0]["name"] if ok else None), evidence


def _attach_fix(ctx, name: str | None, ids: list[str], search: dict[str, Any]) -> Fix:
    """Attach a fitting existing profile, or create the least-privilege one and attach it."""
    restart = (
        "sudo systemctl restart codedeploy-agent   # on each instance: it caches no-credentials"
    )
    if name:
        fits = next((f for f in search.get("fitting_profiles", []) if f["name"] == name), None)
        why = ""
        if fits:
            why = " (its role trusts ec2 and may read the revision" + (
                f"; tagged for {ctx.ev.application})" if fits["tagged"] else ")"
            )
        return Fix(
            f"Attach the instance profile {name}{why} to {id_list(ids)}, then restart the agent.",
            [
                f"aws ec2 associate-iam-instance-profile --instance-id {i} --iam-instance-profile "
                f"Name={name}"
                for i in ids[:3]
            ]
            + [restart],
            automatic=True,
            action="associate-profile",
            params={"profile": name, "instances": ids},
        )
    app = ctx.ev.application or "app"
    loc = ctx.ev.revision() or {}
    bucket = loc.get("bucket")
    prefix = posixpath.dirname(loc.get("key") or "")
    prefix = prefix + "/" if prefix else ""
    new = naming.instance_profile(app)  # the name setup gives it (role and profile alike)
    if ctx.ev.role(new) is not None or ctx.ev.instance_profile(new) is not None:
        new = f"{new}-diag"
    if not bucket:
        return Fix(
            f"Create an instance profile whose role trusts ec2.amazonaws.com (wizard apply does) "
            f"and attach it to {id_list(ids)}.",
            ["wizard apply"],
        )
    trust = json.dumps(policies.ec2_trust(), separators=(",", ":"))
    return Fix(
        f"No existing profile fits: create {new} (a role trusting ec2.amazonaws.com that may "
        f"only read s3://{bucket}/{prefix}*) and attach it to {id_list(ids)}, then restart the "
        "agent.",
        [
            f"aws iam create-role --role-name {new} --assume-role-policy-document '{trust}'",
            f"aws iam create-instance-profile --instance-profile-name {new} && aws iam "
            f"add-role-to-instance-profile --instance-profile-name {new} --role-name {new}",
            f"aws ec2 associate-iam-instance-profile --instance-id {ids[0]} "
            f"--iam-instance-profile Name={new}",
            restart,
        ],
        automatic=True,
        action="create-profile",
        params={
            "name": new,
            "bucket": bucket,
            "prefix": prefix,
            "instances": ids,
            "application": ctx.ev.application,
        },
    )


@check("iam.instance-profile", "Instance profile", priority=20)
def instance_profile(ctx) -> Result:
    """Every target has an instance profile whose role trusts ec2.amazonaws.com."""
    insts = ctx.ev.instances()
    if not insts:
        return skip("nothing to look at: no instances")
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
        name, search = _suggest_profile(ctx, good)
        evidence["profile_search"] = search
        fix = _attach_fix(ctx, name, first_ids, search)
    elif "does not trust" in what:
        rn = what.split()[1]
        trust = json.dumps(policies.ec2_trust(), separators=(",", ":"))
        fix = Fix(
            f"Let EC2 assume {rn}: replace its trust policy with one naming {EC2} (an instance "
            "role needs no other principal), then restart the agent.",
            [
                f"aws iam update-assume-role-policy --role-name {rn} --policy-document '{trust}'",
                "sudo systemctl restart codedeploy-agent   # on each instance",
            ],
        )
    elif "has no role" in what:
        pn = what.split()[2]
        # the console names a profile like its role: that role, if it trusts EC2, is the one
        same = ctx.ev.role(pn)
        rn = pn if same and policy.trusts(same.get("AssumeRolePolicyDocument"), EC2) else "ROLE"
        fix = Fix(
            f"Add the instance role{' ' + rn if rn != 'ROLE' else ''} to profile {pn}, then "
            "restart the agent.",
            [
                f"aws iam add-role-to-instance-profile --instance-profile-name {pn} "
                f"--role-name {rn}",
                "sudo systemctl restart codedeploy-agent   # on each instance",
            ],
        )
    else:
        fix = Fix(
            "Recreate the profile (wizard apply) or associate an existing one.", ["wizard apply"]
        )
    return fail(summary, evidence=evidence, instances=ids, fix=fix)
