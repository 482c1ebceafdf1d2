"""Rollback: the revision CodeDeploy falls back to, and automatic rollback deployments.

"CodeDeploy rolls back deployments by redeploying a previously deployed revision of an
application as a new deployment ... with a new deployment ID" ("Redeploy and roll back a
deployment with CodeDeploy", User Guide). It does so automatically when the deployment's
`autoRollbackConfiguration` (or, without one, its group's) is enabled for the event that ended
it: `DEPLOYMENT_FAILURE` for a failed deployment, `DEPLOYMENT_STOP_ON_REQUEST` for one stopped by
StopDeployment (or StopDeployment with `autoRollbackEnabled`). The rollback deployment has
`creator: codeDeployRollback` ("A rollback process created the deployment", DeploymentInfo in the
API reference) and `rollbackInfo.rollbackTriggeringDeploymentId`; the deployment it
rolls back gets `rollbackInfo.rollbackDeploymentId` (RollbackInfo, API reference). With no
earlier successful deployment in the group there is nothing to roll back to: the deployment
only says so in `rollbackInfo.rollbackMessage`.
"""

from __future__ import annotations

from typing import Any

from wizard.sandbox import clock
from wizard.sandbox.codedeploy.runner import DeploymentRun, run_of

# As CodeDeploy words it on the rollback deployment (observed in GetDeployment output).
MSG_TRIGGERED = "Deployment {new} is triggered to roll back deployment {old}."
# The API reference only says the message tells "whether the deployment can't be rolled back";
# these words are the sandbox's.
MSG_NOTHING = (
    "Automatic rollback of deployment {old} was not performed: the deployment group has no "
    "successful deployment to roll back to."
)


def last_good_revision(
    backend: Any, group: Any, before: DeploymentRun | None = None
) -> dict[str, Any] | None:
    """The revision of the group's last successful deployment (created before `before`, when
    given): what CodeDeploy redeploys without a revision, and what a rollback restores."""
    best = None
    for d in backend.deployments.values():
        if d.deployment_group is not group:
            continue
        run = run_of(d, backend)
        if before is not None and (run is before or run.created >= before.created):
            continue
        with clock.LOCK:
            if run.status(run.tick()) == "Succeeded" and (best is None or run.created > best[0]):
                best = (run.created, d.revision)
    return best[1] if best else None


def effective_rollback_config(deployment: Any) -> dict[str, Any]:
    """The automatic rollback configuration a deployment runs with (GetDeployment shows it)."""
    config = getattr(deployment, "auto_rollback_configuration", None) or getattr(
        deployment.deployment_group, "auto_rollback_configuration", None
    )
    if not config:
        return {"enabled": False}
    out: dict[str, Any] = {"enabled": bool(config.get("enabled"))}
    if config.get("events"):
        out["events"] = list(config["events"])
    return out


def after(run: DeploymentRun) -> None:
    """Called once when `run` has ended: start its automatic rollback if it is configured."""
    d = run.deployment
    if d.creator == "codeDeployRollback":
        return  # a rollback is not rolled back in turn
    config = effective_rollback_config(d)
    events = set(config.get("events") or []) if config["enabled"] else set()
    if run.final_status == "Failed":
        wanted = "DEPLOYMENT_FAILURE" in events
    elif run.final_status == "Stopped":
        wanted = run.rollback_requested or "DEPLOYMENT_STOP_ON_REQUEST" in events
    else:
        return
    if not wanted:
        return
    revision = last_good_revision(run.backend, d.deployment_group, before=run)
    if revision is None:
        run.rollback_info = {"rollbackMessage": MSG_NOTHING.format(old=d.deployment_id)}
        return
    from wizard.sandbox.codedeploy.deployments import new_deployment

    new, new_run = new_deployment(
        run.backend,
        d.deployment_group,
        revision,
        creator="codeDeployRollback",
        config_name=str(d.deployment_config_name),
        ignore_stop_failures=d.ignore_application_stop_failures,
        file_exists_behavior=d.file_exists_behavior,
        created=(run.created + run.end, run.at(run.end)),
    )
    message = MSG_TRIGGERED.format(new=new.deployment_id, old=d.deployment_id)
    run.rollback_info = {"rollbackDeploymentId": new.deployment_id, "rollbackMessage": message}
    new_run.rollback_info = {
        "rollbackTriggeringDeploymentId": d.deployment_id,
        "rollbackMessage": message,
    }
