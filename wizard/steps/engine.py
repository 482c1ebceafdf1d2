"""The setup engine: discover → plan → apply → verify over every step, and destroy.

No UI here: the CLI (`wizard plan/apply/destroy`) and the TUI both drive these four functions and
show the same change descriptions. `apply_plan` and `apply_destroy` never raise for an AWS
failure: they stop at the failing change and return an ApplyResult naming it, the error and what was
already done, so a worker thread can report it. Every apply is idempotent, so running it again after
an interruption finishes the job without duplicates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from wizard import naming
from wizard.errors import AccessDeniedError, WizardError
from wizard.steps import (
    application,
    autoscaling,
    bucket,
    ci,
    instances,
    loadbalancer,
    roles,
)
from wizard.steps.base import (
    ApplyResult,
    Change,
    ConflictError,
    Plan,
    Progress,
    StepContext,
    error_code,
    error_message,
)

# apply order: roles before what uses them; the instances need the profile, the group the role;
# the target group before the Auto Scaling group attached to it, both before the deployment group
STEPS = (roles, bucket, loadbalancer, autoscaling, instances, application, ci)
# destroy order: users of a resource before the resource; the deployment group (and with it
# CodeDeploy's lifecycle hook) before the Auto Scaling group, whose instances must be gone before
# the security groups they use
DESTROY_STEPS = (instances, application, autoscaling, loadbalancer, bucket, ci, roles)
MODULES = {m.NAME: m for m in STEPS}


def step_context(
    ctx: Any, project: Any, *, sleep: Callable[[float], None] | None = None
) -> StepContext:
    """Resolve region, account and partition once for a run."""
    import time

    from wizard.aws import translate_aws_errors

    region = project.effective_region(ctx.region)
    with translate_aws_errors("sts:GetCallerIdentity"):
        account = ctx.account
    partition = ctx.session.get_partition_for_region(region)
    return StepContext(
        ctx=ctx,
        project=project,
        region=region,
        account=account,
        partition=partition,
        sleep=sleep or time.sleep,
    )


def resolved(ctx: Any, project: Any) -> dict[str, Any]:
    """The resolved names a plan will use (what `wizard plan` prints above the changes)."""
    sc = step_context(ctx, project)
    p = project
    out = {
        "application": p.application,
        "region": sc.region,
        "account": sc.account,
        "deployment_group": p.deployment_group,
        "deployment_config": p.deployment_config,
        "instance_tag": f"{p.instances.tag.key}={p.instances.tag.value}",
        "instances": f"launch {p.instances.launch}" if p.instances.launch else "adopt tagged",
        "instance_role": p.roles.instance_role,
        "service_role": p.roles.service_role,
        "bucket": f"s3://{sc.bucket}/{p.bucket.prefix}",
        "ci": p.ci.provider,
    }
    asg = p.instances.auto_scaling
    if asg is not None:
        del out["instance_tag"]
        name = autoscaling.group_name(p)
        if asg.name:
            out["instances"] = f"the existing Auto Scaling group {name}"
        else:
            out["instances"] = (
                f"Auto Scaling group {name} (min {asg.min}, desired {asg.desired}, max "
                f"{asg.max}) from the launch template {naming.launch_template(p.application)}"
            )
    lb = p.load_balancer
    if lb.target_group:
        out["load_balancer"] = f"the existing target group {loadbalancer.target_group_name(p)}"
    elif lb.create:
        out["load_balancer"] = (
            f"{naming.load_balancer(p.application)} → target group "
            f"{loadbalancer.target_group_name(p)} (port {lb.port}, health check "
            f"{lb.health_check_path})"
        )
    out["rollback"] = ", ".join(p.rollback.events) or "off"
    if p.ci.provider == "github":
        out["ci_role"] = ci.deploy_role_name(p)
    elif p.ci.provider == "travis":
        out["ci_user"] = ci.ci_user_name(p)
    return out


def _principal(sc: StepContext) -> str:
    try:
        return sc.ctx.identity().arn
    except Exception:  # pragma: no cover - identity was read before; defensive
        return "the current principal"


STEP_SERVICE = {
    "roles": "iam",
    "bucket": "s3",
    "instances": "ec2",
    "autoscaling": "autoscaling",
    "loadbalancer": "elasticloadbalancing",
    "application": "codedeploy",
    "ci": "iam",
}


def explain_failure(
    sc: StepContext, exc: BaseException, change: Change | None = None, step: str | None = None
) -> Exception:
    """One line for a failed AWS call: AccessDenied names the action and the principal."""
    from wizard.aws import explain

    if isinstance(exc, WizardError):
        return exc
    code = error_code(exc)
    msg = error_message(exc)
    mapped = explain(exc)
    if isinstance(mapped, AccessDeniedError) or code in (
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
    ):
        m = re.search(r"perform:\s*([\w-]+:\w+)", msg)
        op = getattr(exc, "operation_name", "") or ""
        service = STEP_SERVICE.get(step or (change.step if change else ""), "")
        action = m.group(1) if m else (f"{service}:{op}" if service and op else op or "an action")
        return AccessDeniedError(
            f"access denied: {_principal(sc)} may not call {action}",
            hint="Grant it, or run with a principal that may.",
            detail=msg,
        )
    if mapped is not None:
        return mapped
    if code:
        what = f"{change.resource} {change.name}: " if change else ""
        op = getattr(exc, "operation_name", "")
        return WizardError(f"{what}{op} failed with {code}: {msg}", detail=str(exc))
    return exc if isinstance(exc, Exception) else WizardError(str(exc))


def _collect(
    sc: StepContext, module: Any, changes_fn: Callable[[Any], list[Change]]
) -> list[Change]:
    try:
        return changes_fn(sc)
    except ConflictError:
        raise
    except Exception as exc:
        raise explain_failure(sc, exc, step=module.NAME) from exc


def build_plan(
    ctx: Any,
    project: Any,
    *,
    create_access_key: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> Plan:
    """Discover every resource (read-only calls only) and say what apply would do."""
    sc = step_context(ctx, project, sleep=sleep)
    changes: list[Change] = []
    for mod in STEPS:
        changes.extend(_collect(sc, mod, mod.plan))
    if create_access_key and project.ci.provider == "travis":
        changes.append(ci.access_key_change(sc))
    home = _iam_home_region(sc)
    if home and home != sc.region:
        changes = [_no_takeover(c, home, sc.region) for c in changes]
    return Plan(region=sc.region, account=sc.account, changes=changes)


def _no_takeover(change: Change, home: str, region: str) -> Change:
    """Rewriting the IAM of the setup in `home` for `region` would break that live setup."""
    if not change.resource.startswith("iam:") or change.action != "update":
        return change
    what = change.resource.split(":", 1)[1].replace("-", " ")
    return Change(
        step=change.step,
        resource=change.resource,
        name=change.name,
        action="conflict",
        description=(
            f"the {what} {change.name} serves the setup in {home}; rewriting it for {region} "
            f"would break that setup"
        ),
        fix=(
            "Give this region's setup its own IAM names (another application name, or "
            "roles.instance_role / roles.service_role in the project file), or run "
            f"`wizard destroy --region {home}` first to move the setup."
        ),
    )


def verify_checks(plan: Plan) -> list[str]:
    """The diagnose check ids that prove the planned setup works, in a stable order."""
    seen: list[str] = []
    for change in plan.changes:
        for cid in change.checks:
            if cid not in seen:
                seen.append(cid)
    return seen


def _run(
    sc: StepContext,
    plan: Plan,
    changes: list[Change],
    run_one: Callable[[Change], None],
    progress: Progress | None,
) -> ApplyResult:
    result = ApplyResult(plan=plan, checks=verify_checks(plan))
    for change in changes:
        if change.action == "noop":
            if progress:
                progress(change, "done", "unchanged")
            continue
        if progress:
            progress(change, "start", change.description)
        try:
            run_one(change)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            err = explain_failure(sc, exc, change)
            result.failed = change
            result.error = err
            if progress:
                progress(change, "failed", str(getattr(err, "message", err)))
            break
        result.done.append(change)
        if progress:
            progress(change, "done", "done")
    result.outputs.update(sc.outputs)
    return result


def apply_plan(
    ctx: Any,
    project: Any,
    plan: Plan,
    progress: Progress | None = None,
    *,
    create_access_key: bool = False,
    sleep: Callable[[float], None] | None = None,
) -> ApplyResult:
    """Carry out a plan built by `build_plan`. Refuses (changes nothing) when it has conflicts.

    `progress(change, state, message)` is called with state "start", "done" or "failed", from the
    thread this runs on. With `create_access_key` (Travis) the result's outputs hold
    `access_key` = {AccessKeyId, SecretAccessKey}: print it once, never store it.
    """
    sc = step_context(ctx, project, sleep=sleep)
    if plan.conflicts:
        first = plan.conflicts[0]
        more = len(plan.conflicts) - 1
        result = ApplyResult(plan=plan, checks=verify_checks(plan))
        result.failed = first
        result.error = ConflictError(
            f"{first.description}"
            + (f" (and {more} more conflict{'s' * (more > 1)})" if more else ""),
            fix=first.fix,
        )
        return result
    changes = list(plan.changes)
    if (
        create_access_key
        and project.ci.provider == "travis"
        and not any(c.resource == "iam:access-key" for c in changes)
    ):
        changes.append(ci.access_key_change(sc))

    def run_one(change: Change) -> None:
        MODULES[change.step].apply(sc, change)

    result = _run(sc, plan, changes, run_one, progress)
    result.outputs.setdefault("application", project.application)
    result.outputs.setdefault("deployment_group", project.deployment_group)
    result.outputs.setdefault("bucket", sc.bucket)
    result.outputs.setdefault("region", sc.region)
    if project.ci.provider == "github":
        result.outputs.setdefault(
            "deploy_role_arn", ci.deploy_role_arn(project, sc.account, sc.partition)
        )
    return result


def build_destroy_plan(ctx: Any, project: Any) -> Plan:
    """Find what the wizard created for this application (by its tag), in deletion order."""
    sc = step_context(ctx, project)
    changes: list[Change] = []
    for mod in DESTROY_STEPS:
        changes.extend(_collect(sc, mod, mod.destroy_plan))
    home = _iam_home_region(sc)
    if home and home != sc.region:
        changes = [_keep_global(c, home) for c in changes]
    return Plan(region=sc.region, account=sc.account, changes=changes)


def _iam_home_region(sc: Any) -> str | None:
    """The region the application's IAM resources serve, read from its service role's trust.

    IAM is global: a destroy run in another region (a different AWS_REGION in the shell) must not
    delete the roles a live setup elsewhere depends on.
    """
    from wizard import policies

    try:
        role = roles.get_role(sc.client("iam"), sc.project.roles.service_role)
    except Exception:
        return None
    if role is None or not sc.owns(role["Tags"]):
        return None
    doc = policies.normalise(role.get("AssumeRolePolicyDocument"))
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements or []:
        for cond in ((st or {}).get("Condition") or {}).values():
            arn = (cond or {}).get("aws:SourceArn") if isinstance(cond, dict) else None
            parts = str(arn or "").split(":")
            if len(parts) > 3 and parts[2] == "codedeploy" and parts[3]:
                return parts[3]
    return None


def _keep_global(change: Change, home: str) -> Change:
    if not change.resource.startswith("iam:") or change.action != "delete":
        return change
    what = change.resource.split(":", 1)[1].replace("-", " ")
    return Change(
        step=change.step,
        resource=change.resource,
        name=change.name,
        action="noop",
        description=(
            f"keep the {what} {change.name}: IAM is global and it serves the setup in {home}; "
            f"run `wizard destroy --region {home}` to remove it"
        ),
    )


def apply_destroy(
    ctx: Any,
    project: Any,
    plan: Plan,
    progress: Progress | None = None,
    *,
    sleep: Callable[[float], None] | None = None,
) -> ApplyResult:
    """Delete what a destroy plan lists; idempotent (gone already is fine)."""
    sc = step_context(ctx, project, sleep=sleep)

    def run_one(change: Change) -> None:
        MODULES[change.step].destroy(sc, change)

    result = _run(sc, plan, list(plan.changes), run_one, progress)
    result.checks = []
    return result


__all__ = [
    "ApplyResult",
    "Change",
    "Plan",
    "apply_destroy",
    "apply_plan",
    "build_destroy_plan",
    "build_plan",
    "resolved",
    "step_context",
    "verify_checks",
]
