"""`wizard deploy [--wait] [--json]`: bundle, upload, create the deployment, follow it, diagnose.

When it follows (the choice, since "follow it live" and `--wait` must both mean something):
- on a terminal, `wizard deploy` follows the deployment live until it ends, then exits 0 on
  Succeeded and 1 on Failed/Stopped (after printing the diagnosis);
- `--wait` follows even without a terminal (CI, scripts), with the same exit status;
- without a terminal and without `--wait`, it prints the deployment id and console URL and exits 0
  once the deployment is created, like `aws deploy create-deployment`.
What the bundle leaves out (secrets, VCS, caches, `.codedeployignore` rules; see
`wizard.deploy.bundle`) is listed on stderr in one line before the upload.
Each state change is one line on stdout (the deployment, each instance, each lifecycle event of
each instance); a failed hook's log tail is printed under its line. Progress of the bundle and
upload goes to stderr. Ctrl-C stops following; on a terminal it then asks whether to stop the
deployment too (default no). With `--json`, stdout holds only the document
`{"deployment_id", "status", "bundle": {"bucket", "key", "etag"}, "diagnosis", "rollback"}` and
every line goes to stderr; `diagnosis` is the `wizard diagnose --json` document of a failed
deployment, else null; `rollback` is `{"deployment_id", "status", "revision"}` when CodeDeploy
rolled the deployment back automatically (followed to its end), else null.

With `--sandbox --scenario NAME` the bundle goes to the seeded world's application, group and
bucket (the project file is optional then), so `wizard deploy --sandbox --scenario healthy` tries
a real bundle end to end without any AWS account.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from wizard import config
from wizard.commands._context import aws_context, embedded, is_tty, later
from wizard.deploy.bundle import IGNORE_FILE, BundleError, describe_left_out, make_bundle
from wizard.deploy.follow import FollowEvent, follow
from wizard.deploy.run import DeploymentHandle, start_deployment
from wizard.output import ask_yes_no, error_line, info, print_json, style

_COLOURS = {"Succeeded": "green", "Failed": "red", "Stopped": "yellow", "Skipped": "dim"}


def _project(args: argparse.Namespace) -> config.Project:
    """The project file; with `--sandbox --scenario` and no file, defaults around bundle `.`."""
    if getattr(args, "scenario", None) and not config.exists(args.project_dir):
        return config.from_dict({"application": "sandbox-app"})
    return config.load(args.project_dir)


def _into_scenario(project: config.Project, scenario: dict[str, Any]) -> config.Project:
    """Deploy the user's bundle into the seeded sandbox world instead of the project's names."""
    import dataclasses

    bucket = dataclasses.replace(project.bucket, name=scenario.get("bucket") or project.bucket.name)
    info(
        f"scenario {scenario.get('scenario')}: deploying to application "
        f"{scenario['application']}, group {scenario['deployment_group']}"
    )
    return dataclasses.replace(
        project,
        application=scenario["application"],
        deployment_group=scenario["deployment_group"],
        bucket=bucket,
    )


def run(args: argparse.Namespace) -> int:
    project = _project(args)
    if not args.region and project.region:
        args.region = project.region
    as_json = bool(args.json)
    tty = is_tty()
    follow_it = bool(args.wait) or (tty and not as_json)
    out = sys.stderr if as_json else sys.stdout

    def emit(line: str) -> None:
        print(line, file=out, flush=True)

    # offline first: a bundle that cannot work is refused before any AWS call or upload
    try:
        bundle = make_bundle(project, args.project_dir)
    except BundleError as exc:
        error_line(exc)
        for problem in exc.problems[1:]:
            info(f"  - {problem}")
        return exc.exit_code
    if bundle.left_out:
        info(
            f"left out of the bundle: {describe_left_out(bundle.left_out)} (secrets, VCS and "
            f"caches by default; {IGNORE_FILE} adds rules, `!name` there brings one back)"
        )
    try:
        with aws_context(args, banner=not as_json) as ctx:
            if getattr(ctx, "scenario", None):
                project = _into_scenario(project, ctx.scenario)
            handle = start_deployment(
                ctx,
                project,
                args.project_dir,
                file_exists_behavior=args.file_exists_behavior,
                ignore_application_stop_failures=bool(
                    getattr(args, "ignore_application_stop_failures", False)
                ),
                description=args.description,
                progress=lambda stage, msg: info(f"{stage:<8} {msg}"),
                bundle=bundle,
            )
            emit(f"deployment {handle.deployment_id}")
            emit(f"console    {handle.console_url or 'sandbox (no AWS console)'}")
            # the sandbox this command started ends with it, and the deployment with it:
            # returning at once would leave nothing to look at later, so it is followed
            if not follow_it and not embedded(ctx):
                status = _status(ctx, handle)
                if as_json:
                    print_json(_doc(handle, status, None))
                else:
                    info(
                        "not following (no terminal; --wait follows). When it has ended: "
                        f"wizard diagnose {handle.deployment_id}"
                    )
                return 0
            rollback: dict[str, Any] = {}
            failed: dict[str, dict[str, str]] = {}  # instance -> its failed lifecycle event
            overview: dict[str, int] = {}
            printer = _printer(emit, out)

            def on_event(ev: FollowEvent) -> None:
                if ev.kind == "rollback" and ev.rollback_id:
                    rollback.update(
                        deployment_id=ev.rollback_id, status=ev.status, revision=ev.revision
                    )
                own = ev.deployment_id == handle.deployment_id and not ev.rollback_of
                if own and ev.kind == "lifecycle" and ev.status == "Failed" and ev.target_id:
                    failed[ev.target_id] = {
                        "instance": ev.target_id,
                        "lifecycle_event": ev.lifecycle_event or "",
                        "error_code": ev.error_code,
                    }
                if own and ev.kind == "deployment" and ev.overview:
                    overview.update(ev.overview)
                printer(ev)

            try:
                status = follow(ctx, handle.deployment_id, on_event, region=handle.region)
            except KeyboardInterrupt:
                return _interrupted(ctx, handle, tty and not as_json)
            diagnosis = None
            if status != "Succeeded":
                diagnosis = _diagnose(ctx, handle, emit, as_json)
            elif failed:
                why = (
                    later(ctx, f"wizard diagnose {handle.deployment_id}") if embedded(ctx) else None
                )
                emit(
                    _partial_success(
                        handle.deployment_id, list(failed.values()), overview, out, why
                    )
                )
            else:
                emit(style("deployment succeeded", "green", "bold", stream=out))
            if as_json:
                doc = _doc(handle, status, diagnosis, rollback or None)
                doc["failed_instances"] = list(failed.values())
                print_json(doc)
            return 0 if status == "Succeeded" else 1
    finally:
        bundle.cleanup()


def _partial_success(
    deployment_id: str,
    failed: list[dict[str, str]],
    overview: dict[str, int],
    stream: Any,
    why: str | None = None,
) -> str:
    """The closing line of a deployment that Succeeded with some instances Failed.

    CodeDeploy calls a deployment successful when at least the deployment configuration's
    minimum healthy hosts got the revision (CodeDeploy User Guide, "Working with deployment
    configurations": HalfAtATime succeeds if at least half of the instances, rounded up, do), so
    the failed instances are easy to miss: they did not finish the revision (behind a load
    balancer, one that failed AllowTraffic is out of service). `failed` holds {instance,
    lifecycle_event, error_code}.
    """
    total = sum(v for v in overview.values() if isinstance(v, int)) or len(failed)
    shown = ", ".join(
        f"{f['instance']} at {f['lifecycle_event'] or 'an unknown event'}"
        + (f" ({f['error_code']})" if f["error_code"] else "")
        for f in failed[:5]
    )
    more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
    head = style("deployment succeeded", "green", "bold", stream=stream)
    warn = style(f"but {len(failed)} of {total} instances failed", "yellow", "bold", stream=stream)
    return (
        f"{head}, {warn}: {shown}{more}. The deployment configuration's minimum healthy hosts "
        f"allowed it; those instances did not finish this revision. Why: "
        f"{why or f'wizard diagnose {deployment_id}'}"
    )


def _doc(
    handle: DeploymentHandle, status: str, diagnosis: Any, rollback: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The `deploy --json` document; `rollback` is {deployment_id, status, revision} when
    CodeDeploy rolled the deployment back automatically, else null."""
    return {
        "deployment_id": handle.deployment_id,
        "status": status,
        "bundle": handle.bundle_doc(),
        "diagnosis": diagnosis,
        "rollback": rollback,
    }


def _status(ctx: Any, handle: DeploymentHandle) -> str:
    cd = ctx.client("codedeploy", handle.region)
    return cd.get_deployment(deploymentId=handle.deployment_id)["deploymentInfo"]["status"]


def _printer(emit: Any, stream: Any) -> Any:
    """One line per state change, the status coloured on a terminal, log tails indented."""

    def on_event(ev: FollowEvent) -> None:
        line = ev.line()
        colour = _COLOURS.get(ev.status)
        if colour:
            line = line.replace(f" {ev.status}", " " + style(ev.status, colour, stream=stream), 1)
        emit(line)
        for tail in ev.log_lines():
            emit(f"          | {tail}")

    return on_event


def _diagnose(ctx: Any, handle: DeploymentHandle, emit: Any, as_json: bool) -> Any:
    """Run diagnose on the failed deployment; print it (plain) and return its document."""
    from wizard.deploy.diagnosis import diagnose_deployment
    from wizard.output import use_color

    info(f"diagnosing {handle.deployment_id} …")
    result = diagnose_deployment(ctx, handle.deployment_id, color=use_color())
    if result.error:
        info(result.text)
    elif not as_json:
        emit("")
        emit(result.text)
    return result.doc


def _interrupted(ctx: Any, handle: DeploymentHandle, ask: bool) -> int:
    info(f"\nstopped following {handle.deployment_id}; the deployment goes on")
    if ask:
        try:
            stop = ask_yes_no(f"Stop deployment {handle.deployment_id} too?")
        except KeyboardInterrupt:
            stop = False
        if stop:
            cd = ctx.client("codedeploy", handle.region)
            resp = cd.stop_deployment(deploymentId=handle.deployment_id)
            info(f"stop requested: {resp.get('status', '')} {resp.get('statusMessage', '')}")
    return 130
