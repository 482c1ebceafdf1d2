"""Safe automatic fixes: shown as a plan, applied only after confirmation, then the checks re-run.

Every fix here only adds: it associates a profile with an instance that has none (creating the
least-privilege role and profile when none fits), adds a scoped inline read policy, adds a trust
statement (existing ones are kept), attaches the managed AWSCodeDeployRole, starts the agent, or
installs it through SSM `AWS-ConfigureAWSPackage`. Nothing is ever
deleted, detached or overwritten; bucket policies and key policies are never touched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from checks.model import Result
from checks.runner import Report, diagnose

# action -> checks to run again after it is applied
AFFECTS: dict[str, tuple[str, ...]] = {
    "associate-profile": ("iam.instance-profile", "s3.bundle-readable", "agent.running"),
    "create-profile": ("iam.instance-profile", "s3.bundle-readable", "agent.running"),
    "start-agent": ("agent.running",),
    "s3-read-policy": ("s3.bundle-readable",),
    "service-role-trust": ("iam.service-role",),
    "attach-codedeploy-role": ("iam.service-role",),
    "install-agent": ("agent.running",),
}
READ_POLICY_NAME = "codedeploy-wizard-revision-read"


@dataclass
class PlannedFix:
    """One automatic fix: what it will do, in words and API calls."""

    check_id: str
    action: str
    params: dict[str, Any]
    description: str
    calls: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check_id,
            "action": self.action,
            "description": self.description,
            "calls": self.calls,
        }


@dataclass
class FixOutcome:
    fix: PlannedFix
    ok: bool
    message: str


def _describe(action: str, p: dict[str, Any]) -> tuple[str, list[str]]:
    if action == "associate-profile":
        n = len(p["instances"])
        return (
            f"associate instance profile {p['profile']} with {n} instance(s) that have none",
            [f"ec2:AssociateIamInstanceProfile ×{n}"],
        )
    if action == "create-profile":
        n = len(p["instances"])
        return (
            f"create role and instance profile {p['name']} (trusts ec2.amazonaws.com; may read "
            f"s3://{p['bucket']}/{p.get('prefix') or ''}*), then associate it with {n} "
            "instance(s) that have none",
            [
                "iam:CreateRole",
                "iam:PutRolePolicy",
                "iam:CreateInstanceProfile",
                "iam:AddRoleToInstanceProfile",
                f"ec2:AssociateIamInstanceProfile ×{n}",
            ],
        )
    if action == "start-agent":
        n = len(p["instances"])
        return (
            f"start the CodeDeploy agent on {n} instance(s) (systemctl start codedeploy-agent "
            "through SSM Run Command)",
            [f"ssm:SendCommand ×{(n + 49) // 50}"],
        )
    if action == "s3-read-policy":
        prefix = p.get("prefix") or ""
        return (
            f"add inline policy {READ_POLICY_NAME} to role {p['role']}: s3:GetObject on "
            f"{p['bucket']}/{prefix + '/' if prefix else ''}*",
            ["iam:PutRolePolicy"],
        )
    if action == "service-role-trust":
        return (
            f"add a trust statement for codedeploy.amazonaws.com to role {p['role']} "
            "(with aws:SourceAccount/aws:SourceArn conditions; existing statements kept)",
            ["iam:GetRole", "iam:UpdateAssumeRolePolicy"],
        )
    if action == "attach-codedeploy-role":
        return (
            f"attach managed policy AWSCodeDeployRole to role {p['role']}",
            ["iam:AttachRolePolicy"],
        )
    if action == "install-agent":
        n = len(p["instances"])
        return (
            f"install and start the CodeDeploy agent on {n} instance(s) with "
            "AWS-ConfigureAWSPackage",
            [f"ssm:SendCommand ×{(n + 49) // 50}"],
        )
    return action, []


def plan_fixes(report: Report | list[Result]) -> list[PlannedFix]:
    """The automatic fixes of the failing results, in report order, without duplicates."""
    results = report.results if isinstance(report, Report) else report
    out: list[PlannedFix] = []
    seen: set[str] = set()
    for r in results:
        if not (r.status.problem and r.fix and r.fix.automatic and r.fix.action):
            continue
        items = (
            r.fix.params.get("fixes", [])
            if r.fix.action == "multi"
            else [{"action": r.fix.action, "params": r.fix.params}]
        )
        for item in items:
            key = json.dumps(item, sort_keys=True, default=str)
            if key in seen or item["action"] not in AFFECTS:
                continue
            seen.add(key)
            desc, calls = _describe(item["action"], item["params"])
            out.append(PlannedFix(r.id, item["action"], dict(item["params"]), desc, calls))
    return out


def _trust_statement(ctx: Any, application: str | None) -> dict[str, Any]:
    cond: dict[str, Any] = {"StringEquals": {"aws:SourceAccount": ctx.account}}
    if application:
        cond["ArnLike"] = {
            "aws:SourceArn": f"arn:{ctx.partition}:codedeploy:{ctx.region}:{ctx.account}:"
            f"deploymentgroup:{application}/*"
        }
    return {
        "Effect": "Allow",
        "Principal": {"Service": "codedeploy.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": cond,
    }


def _associate(ctx: Any, profile: str, instances: list[str]) -> tuple[int, int]:
    """Associate `profile` with each instance; (done, already had one). IAM is eventually
    consistent: a profile created a moment ago may be refused as invalid for a few seconds."""
    import time

    ec2 = ctx.client("ec2")
    done, skipped = 0, 0
    for iid in instances:
        for attempt in range(6):
            try:
                ec2.associate_iam_instance_profile(
                    IamInstanceProfile={"Name": profile}, InstanceId=iid
                )
                done += 1
                break
            except Exception as exc:  # already associated meanwhile: leave it
                if "IncorrectState" in str(exc) or "already" in str(exc).lower():
                    skipped += 1
                    break
                if "InvalidParameterValue" in str(exc) and attempt < 5:
                    time.sleep(0.5 * 2**attempt)  # the new profile is not visible to EC2 yet
                    continue
                raise
    return done, skipped


def _create_profile(ctx: Any, p: dict[str, Any]) -> str:
    """The least-privilege instance role and profile, as `wizard apply` makes them: trust in
    ec2.amazonaws.com only, read on the revision prefix, tagged for the application."""
    from wizard import policies

    iam = ctx.client("iam")
    name = p["name"]
    tags = [{"Key": "codedeploy-wizard:application", "Value": p.get("application") or name}]
    iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(policies.ec2_trust()),
        Description="CodeDeploy instance role (created by wizard diagnose --fix)",
        Tags=tags,
    )
    doc = policies.revision_read_policy(
        ctx.partition, ctx.region, p["bucket"], p.get("prefix") or ""
    )
    iam.put_role_policy(RoleName=name, PolicyName=READ_POLICY_NAME, PolicyDocument=json.dumps(doc))
    iam.create_instance_profile(InstanceProfileName=name, Tags=tags)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    done, skipped = _associate(ctx, name, list(p["instances"]))
    note = f", {skipped} already had one" if skipped else ""
    return (
        f"created {name} and associated it with {done} instance(s){note}; restart the agent on them"
    )


def _send_command(ctx: Any, ids: list[str], **kwargs: Any) -> list[str]:
    """SSM SendCommand to `ids` in batches of 50 (the most InstanceIds one call may name, SSM API
    reference); the command ids."""
    ssm = ctx.client("ssm")
    return [
        ssm.send_command(InstanceIds=ids[i : i + 50], **kwargs)["Command"]["CommandId"]
        for i in range(0, len(ids), 50)
    ]


def _apply_one(ctx: Any, fix: PlannedFix) -> str:
    p = fix.params
    if fix.action == "create-profile":
        return _create_profile(ctx, p)
    if fix.action == "start-agent":
        ids = list(p["instances"])
        commands = _send_command(
            ctx,
            ids,
            DocumentName="AWS-RunShellScript",
            Parameters={
                "commands": [
                    "systemctl enable codedeploy-agent",
                    "systemctl start codedeploy-agent",
                    "systemctl is-active codedeploy-agent",
                ]
            },
            Comment="codedeploy-wizard: start the CodeDeploy agent",
        )
        return f"start sent to {len(ids)} instance(s) (command {', '.join(commands)})"
    if fix.action == "associate-profile":
        done, skipped = _associate(ctx, p["profile"], list(p["instances"]))
        note = f", {skipped} already had one" if skipped else ""
        return f"associated {p['profile']} with {done} instance(s){note}; restart the agent on them"
    if fix.action == "s3-read-policy":
        prefix = p.get("prefix") or ""
        part = ctx.partition
        doc = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadRevisions",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                    "Resource": f"arn:{part}:s3:::{p['bucket']}/{prefix + '/' if prefix else ''}*",
                },
                {
                    "Sid": "ListRevisions",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": f"arn:{part}:s3:::{p['bucket']}",
                },
            ],
        }
        ctx.client("iam").put_role_policy(
            RoleName=p["role"], PolicyName=READ_POLICY_NAME, PolicyDocument=json.dumps(doc)
        )
        return f"role {p['role']} may now read s3://{p['bucket']}/{prefix}"
    if fix.action == "service-role-trust":
        from checks import policy

        iam = ctx.client("iam")
        role = iam.get_role(RoleName=p["role"])["Role"]
        doc = policy.parse(role.get("AssumeRolePolicyDocument"))
        if policy.trusts(doc, "codedeploy.amazonaws.com"):
            return f"role {p['role']} already trusts CodeDeploy"
        stmts = doc.get("Statement") or []
        stmts = stmts if isinstance(stmts, list) else [stmts]
        doc = {
            "Version": doc.get("Version", "2012-10-17"),
            "Statement": [*stmts, _trust_statement(ctx, p.get("application"))],
        }
        iam.update_assume_role_policy(RoleName=p["role"], PolicyDocument=json.dumps(doc))
        return f"role {p['role']} now trusts codedeploy.amazonaws.com"
    if fix.action == "attach-codedeploy-role":
        ctx.client("iam").attach_role_policy(
            RoleName=p["role"],
            PolicyArn=f"arn:{ctx.partition}:iam::aws:policy/service-role/AWSCodeDeployRole",
        )
        return f"attached AWSCodeDeployRole to {p['role']}"
    if fix.action == "install-agent":
        ids = list(p["instances"])
        commands = _send_command(
            ctx,
            ids,
            DocumentName="AWS-ConfigureAWSPackage",
            Parameters={"action": ["Install"], "name": ["AWSCodeDeployAgent"]},
            Comment="codedeploy-wizard: install the CodeDeploy agent",
        )
        return f"install started on {len(ids)} instance(s) (command {', '.join(commands)})"
    raise ValueError(f"unknown fix action {fix.action!r}")


def apply_fixes(
    ctx: Any,
    fixes: list[PlannedFix],
    progress: Callable[[PlannedFix, str, str], None] | None = None,
) -> list[FixOutcome]:
    """Apply each fix; one failing does not stop the others. `progress(fix, state, message)`."""
    out: list[FixOutcome] = []
    for fix in fixes:
        if progress:
            progress(fix, "start", fix.description)
        try:
            msg = _apply_one(ctx, fix)
            out.append(FixOutcome(fix, True, msg))
            if progress:
                progress(fix, "done", msg)
        except Exception as exc:
            from wizard.aws import explain

            mapped = explain(exc)
            msg = mapped.one_line() if mapped else f"{type(exc).__name__}: {exc}"
            out.append(FixOutcome(fix, False, msg))
            if progress:
                progress(fix, "failed", msg)
    return out


def affected_checks(fixes: list[PlannedFix]) -> list[str]:
    out: list[str] = []
    for f in fixes:
        for cid in (f.check_id, *AFFECTS.get(f.action, ())):
            if cid not in out:
                out.append(cid)
    return out


def rerun(
    ctx: Any,
    report: Report,
    fixes: list[PlannedFix],
    on_result: Callable[[Result], None] | None = None,
    outcomes: list[FixOutcome] | None = None,
) -> Report:
    """Run the checks the fixes touched again (fresh evidence), merge them into `report`, and rank
    the root causes again.

    The checks re-run are those the fixes affect plus every check that depends on them (one
    that was skipped because a fixed prerequisite failed runs now). The symptom is pointed at
    the new first cause, or, when none is left, says to deploy again
    (`Report.ready_to_redeploy`). `outcomes` (from `apply_fixes`) fill `Report.applied`.
    """
    from checks import registry
    from checks.runner import Report as _Report
    from checks.runner import _rank_results, finalize

    applied = [*report.applied]
    for o in outcomes or []:
        if o.ok:
            applied.append(f"{o.fix.description}: {o.message}")
    if outcomes is None:
        applied.extend(f.description for f in fixes)
    ids = [
        cid
        for cid in registry.dependents(affected_checks(fixes))
        if report.result(cid) is not None and cid != "deployment.status"
    ]
    if not ids:
        return report
    fixed_checks = {f.check_id for f in fixes}
    fixed_instances = {
        i for r in report.results if r.id in fixed_checks and r.status.problem for i in r.instances
    }
    fresh = diagnose(
        ctx,
        deployment_id=(report.deployment or {}).get("id"),
        application=report.application,
        deployment_group=report.deployment_group,
        check_ids=ids,
        preflight=report.preflight,
        on_result=on_result,
        fixed_instances=fixed_instances,
    )
    by_id = {r.id: r for r in fresh.results}
    results = [by_id.get(r.id, r) for r in report.results]
    merged = _Report(
        results=results,
        deployment=report.deployment,
        root_causes=[],
        application=report.application,
        deployment_group=report.deployment_group,
        region=report.region,
        sandbox=report.sandbox,
        preflight=report.preflight,
        seconds=report.seconds + fresh.seconds,
        notes=[*report.notes, f"re-ran after fixes: {', '.join(ids)}"],
        failures=report.failures,
        applied=applied,
    )
    merged.root_causes = finalize(results, _rank_results(results, merged), applied=applied)
    return merged
