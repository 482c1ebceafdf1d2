"""Upload a bundle, register it as a revision and create the deployment (what CI does by hand).

Order matters for the user: the bundle is built and validated first (offline, so a bad bundle is
refused before any AWS call and nothing is uploaded), then the deployment group is looked up (so a
missing setup is reported before an orphan object lands in S3), then the upload, the revision
registration and CreateDeployment with the object's ETag (and version id on a versioned bucket)
pinned, so the agent refuses an object that was overwritten after the deployment was created.

Revision keys are `<bucket.prefix><application>-<git short sha | nogit>-<UTC timestamp>.zip`, the
timestamp to the millisecond, so two deployments never share (or overwrite) an object.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from wizard.aws import error_code, translate_aws_errors
from wizard.deploy.bundle import BundleInfo, make_bundle
from wizard.errors import AccessDeniedError, ConfigError, WizardError

if TYPE_CHECKING:  # pragma: no cover
    from wizard.aws import AwsContext
    from wizard.config import Project

Progress = Callable[[str, str], None]
"""progress(stage, message): stage is one of bundle, upload, register, create."""

_CONSOLE_HOSTS = {
    "aws": "{region}.console.aws.amazon.com",
    "aws-cn": "{region}.console.amazonaws.cn",
    "aws-us-gov": "{region}.console.amazonaws-us-gov.com",
}


@dataclass
class DeploymentHandle:
    """What was deployed and where to look at it. `console_url` is None in the sandbox."""

    deployment_id: str
    bucket: str
    key: str
    etag: str
    console_url: str | None
    version_id: str | None = None
    region: str = ""
    application: str = ""
    deployment_group: str = ""
    bundle: BundleInfo | None = None
    traffic: bool = False  # the group shifts load balancer traffic (set by `redeploy`)

    def bundle_doc(self) -> dict[str, str]:
        """The `bundle` object of the `deploy --json` document."""
        return {"bucket": self.bucket, "key": self.key, "etag": self.etag}


def console_url(region: str, deployment_id: str, partition: str = "aws") -> str:
    """The CodeDeploy console page of a deployment."""
    host = _CONSOLE_HOSTS.get(partition, _CONSOLE_HOSTS["aws"]).format(region=region)
    return f"https://{host}/codesuite/codedeploy/deployments/{deployment_id}?region={region}"


def git_short_sha(path: str | os.PathLike[str]) -> str | None:
    """The short commit id of the repository holding `path`, or None (no git, not a repo)."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and re.fullmatch(r"[0-9a-f]{4,40}", sha) else None


def revision_key(project: Project, commit: str | None, now: datetime | None = None) -> str:
    """`<prefix><application>-<commit|nogit>-<UTC YYYYmmddTHHMMSSmmmZ>.zip`."""
    now = now or datetime.now(timezone.utc)
    stamp = now.strftime("%Y%m%dT%H%M%S") + f"{now.microsecond // 1000:03d}Z"
    app = re.sub(r"[^A-Za-z0-9._-]+", "-", project.application).strip("-") or "app"
    return f"{project.bucket.prefix}{app}-{commit or 'nogit'}-{stamp}.zip"


def _client_error(exc: Exception, action: str) -> WizardError | None:
    """A one-line error for the CodeDeploy/S3 failures a user can act on."""
    import botocore.exceptions as bx

    if not isinstance(exc, bx.ClientError):
        return None
    from wizard.aws import explain

    mapped = explain(exc, action)
    if mapped is not None:
        return mapped
    err = exc.response.get("Error", {})
    code, msg = err.get("Code", ""), err.get("Message", "")
    hints = {
        "ApplicationDoesNotExistException": "Run `wizard apply` to create it.",
        "DeploymentGroupDoesNotExistException": "Run `wizard apply` to create it.",
        "DeploymentLimitExceededException": "Wait for the running deployment to end, or stop "
        "it: aws deploy stop-deployment --deployment-id ID",
        "NoSuchBucket": "Run `wizard apply` to create the revision bucket.",
        "InvalidRoleException": "Run `wizard diagnose --check iam.service-role`.",
    }
    return WizardError(f"{action} failed: {code}: {msg}".rstrip(": "), hint=hints.get(code))


def start_deployment(
    ctx: AwsContext,
    project: Project,
    project_dir: str | os.PathLike[str],
    *,
    file_exists_behavior: str | None = None,
    description: str | None = None,
    progress: Progress | None = None,
    bundle: BundleInfo | None = None,
    ignore_application_stop_failures: bool = False,
) -> DeploymentHandle:
    """Bundle `bundle.source`, upload it, register it and create the deployment.

    `ignore_application_stop_failures` passes CreateDeployment's
    `ignoreApplicationStopFailures`: the ApplicationStop (and BeforeBlockTraffic,
    AfterBlockTraffic) scripts come from the last successful revision, so a broken one there
    fails every later deployment until one deployment ignores it (CodeDeploy API reference,
    CreateDeployment). The temporary archive is removed afterwards unless the caller passed its
    own `bundle`.
    """
    say = progress or (lambda stage, message: None)
    own_bundle = bundle is None
    if bundle is None:
        bundle = make_bundle(project, project_dir)
    try:
        say(
            "bundle",
            f"{bundle.files} files, {_size(bundle.size)} (sha256 {bundle.sha256[:12]})",
        )
        for w in bundle.warnings:
            say("bundle", f"warning: {w}")
        return _deploy(
            ctx,
            project,
            bundle,
            file_exists_behavior,
            description,
            say,
            ignore_application_stop_failures=ignore_application_stop_failures,
        )
    finally:
        if own_bundle:
            bundle.cleanup()


def _deploy(
    ctx: AwsContext,
    project: Project,
    bundle: BundleInfo,
    file_exists_behavior: str | None,
    description: str | None,
    say: Progress,
    *,
    ignore_application_stop_failures: bool = False,
) -> DeploymentHandle:
    region = project.effective_region(ctx.region)
    cd = ctx.client("codedeploy", region)
    s3 = ctx.client("s3", region)
    app, group = project.application, project.deployment_group

    _preflight(ctx, cd, app, group, region, say)

    bucket = project.bucket_name(ctx.account, region)
    key = revision_key(project, git_short_sha(bundle.source or "."))
    say("upload", f"s3://{bucket}/{key}")
    etag, version = _upload(s3, bundle, bucket, key, say)

    revision: dict[str, Any] = {
        "revisionType": "S3",
        "s3Location": {"bucket": bucket, "key": key, "bundleType": "zip", "eTag": etag},
    }
    if version:
        revision["s3Location"]["version"] = version
    description = description or f"codedeploy-wizard: {Path(key).name}"
    try:
        with translate_aws_errors("codedeploy:RegisterApplicationRevision"):
            cd.register_application_revision(
                applicationName=app, revision=revision, description=description[:255]
            )
        say("register", f"revision registered with {app}")
        with translate_aws_errors("codedeploy:CreateDeployment"):
            resp = cd.create_deployment(
                applicationName=app,
                deploymentGroupName=group,
                revision=revision,
                description=description,
                fileExistsBehavior=file_exists_behavior or project.bundle.file_exists_behavior,
                ignoreApplicationStopFailures=ignore_application_stop_failures,
            )
    except Exception as exc:
        _raise_mapped(exc)
    deployment_id = resp["deploymentId"]
    say("create", f"deployment {deployment_id} created for group {group}")
    url = _console(ctx, region, deployment_id)
    return DeploymentHandle(
        deployment_id=deployment_id,
        bucket=bucket,
        key=key,
        etag=etag,
        console_url=url,
        version_id=version,
        region=region,
        application=app,
        deployment_group=group,
        bundle=bundle,
    )


ACTIVE = ("Created", "Queued", "InProgress", "Baking", "Ready")


def _preflight(ctx: AwsContext, cd: Any, app: str, group: str, region: str, say: Progress) -> None:
    """Before any upload: the group exists and has no deployment in flight.

    Both are read-only checks a least-privilege CI principal may not be allowed (the policy
    `wizard apply` makes for CI grants CreateDeployment, not these reads); access denied skips the
    check, and CreateDeployment has the last word.
    """
    try:
        with translate_aws_errors("codedeploy:GetDeploymentGroup"):
            cd.get_deployment_group(applicationName=app, deploymentGroupName=group)
    except AccessDeniedError:
        say("check", "cannot read the deployment group (access denied); going on")
        return
    except Exception as exc:
        mapped = _client_error(exc, "codedeploy:GetDeploymentGroup")
        if mapped is None:
            raise
        code = error_code(exc)
        hint = "Run `wizard apply` to create it."
        if getattr(ctx, "sandbox_server", None) is not None:  # --sandbox: a world of one command
            hint = (
                "This sandbox starts empty: try `--scenario healthy`, or keep one running with "
                "`wizard sandbox`, then `wizard apply` and `wizard deploy` with --endpoint-url."
            )
        # a setup that was never applied is a configuration error (exit 2), as in diagnose
        if code == "ApplicationDoesNotExistException":
            mapped = ConfigError(f"application {app!r} does not exist in {region}", hint=hint)
        elif code == "DeploymentGroupDoesNotExistException":
            mapped = ConfigError(
                f"deployment group {group!r} of {app!r} does not exist in {region}", hint=hint
            )
        raise mapped from exc
    try:
        with translate_aws_errors("codedeploy:ListDeployments"):
            active = cd.list_deployments(
                applicationName=app,
                deploymentGroupName=group,
                includeOnlyStatuses=list(ACTIVE),
            ).get("deployments", [])
    except AccessDeniedError:
        return
    if active:
        raise WizardError(
            f"deployment {active[0]} is still running on {app}/{group}; CodeDeploy allows one "
            "at a time",
            hint=f"Wait for it to end, or stop it: aws deploy stop-deployment --deployment-id "
            f"{active[0]}",
        )


def _upload(
    s3: Any, bundle: BundleInfo, bucket: str, key: str, say: Progress
) -> tuple[str, str | None]:
    """Managed (multipart above 64 MiB) upload, then HeadObject for the ETag and version id."""
    import boto3.exceptions
    from boto3.s3.transfer import TransferConfig

    total = max(bundle.size, 1)
    sent = [0, -1]

    def on_bytes(n: int) -> None:
        sent[0] += n
        pct = min(100, sent[0] * 100 // total)
        if pct // 25 != sent[1] // 25 and pct < 100:
            sent[1] = pct
            say("upload", f"{pct}% of {_size(bundle.size)}")

    cfg = TransferConfig(
        multipart_threshold=64 * 1024 * 1024,
        multipart_chunksize=16 * 1024 * 1024,
        max_concurrency=4,
    )
    try:
        with translate_aws_errors("s3:PutObject"):
            s3.upload_file(
                str(bundle.path),
                bucket,
                key,
                ExtraArgs={
                    "ContentType": "application/zip",
                    "Metadata": {"codedeploy-wizard-sha256": bundle.sha256},
                },
                Callback=on_bytes,
                Config=cfg,
            )
    except boto3.exceptions.S3UploadFailedError as exc:
        text = str(exc)
        if "NoSuchBucket" in text:
            raise WizardError(
                f"the revision bucket {bucket} does not exist",
                hint="Run `wizard apply` to create it.",
            ) from exc
        if "AccessDenied" in text or "Forbidden" in text:
            raise AccessDeniedError(
                f"access denied for s3:PutObject on s3://{bucket}/{key}"
            ) from exc
        raise WizardError(f"upload to s3://{bucket}/{key} failed: {text}") from exc
    except Exception as exc:
        mapped = _client_error(exc, "s3:PutObject")
        if mapped is None:
            raise
        raise mapped from exc
    with translate_aws_errors("s3:HeadObject"):
        head = s3.head_object(Bucket=bucket, Key=key)
    etag = str(head.get("ETag", "")).strip('"')
    version = head.get("VersionId")
    say("upload", f"done (ETag {etag}{', version ' + version if version else ''})")
    return etag, (version if version and version != "null" else None)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def redeploy(
    ctx: AwsContext,
    deployment_id: str,
    *,
    region: str | None = None,
    description: str | None = None,
    progress: Progress | None = None,
) -> DeploymentHandle:
    """A new deployment of the revision `deployment_id` deployed, to the same group.

    What the console's "Retry deployment" does and the User Guide calls redeploying a revision
    ("Redeploy and roll back a deployment with CodeDeploy"): GetDeployment gives the
    application, group, revision (with its pinned ETag/version) and fileExistsBehavior, and
    CreateDeployment starts them again under a new id; nothing is bundled or uploaded. For
    after fixes outside the bundle (a role, the agent), where the same bytes must now succeed.

    Raises WizardError (one line) for the CodeDeploy errors a user can act on.
    """
    say = progress or (lambda stage, message: None)
    region = region or ctx.region
    cd = ctx.client("codedeploy", region)
    try:
        with translate_aws_errors("codedeploy:GetDeployment"):
            info = cd.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
        app, group = info["applicationName"], info["deploymentGroupName"]
        revision = info.get("revision") or {}
        if not revision:
            raise WizardError(f"{deployment_id} names no revision to deploy again")
        _preflight(ctx, cd, app, group, region, say)
        s3loc = revision.get("s3Location") or {}
        where = (
            f"s3://{s3loc.get('bucket')}/{s3loc.get('key')}"
            if s3loc
            else revision.get("revisionType", "revision")
        )
        say("create", f"deploying {where} again (as {deployment_id} did)")
        kw: dict[str, Any] = {}
        if info.get("fileExistsBehavior"):
            kw["fileExistsBehavior"] = info["fileExistsBehavior"]
        with translate_aws_errors("codedeploy:CreateDeployment"):
            resp = cd.create_deployment(
                applicationName=app,
                deploymentGroupName=group,
                revision=revision,
                description=(description or f"codedeploy-wizard: again after {deployment_id}")[
                    :255
                ],
                **kw,
            )
    except WizardError:
        raise
    except Exception as exc:
        _raise_mapped(exc)
    new_id = resp["deploymentId"]
    say("create", f"deployment {new_id} created for group {group}")
    url = _console(ctx, region, new_id)
    return DeploymentHandle(
        deployment_id=new_id,
        bucket=s3loc.get("bucket", ""),
        key=s3loc.get("key", ""),
        etag=s3loc.get("eTag", ""),
        console_url=url,
        version_id=s3loc.get("version"),
        region=region,
        application=app,
        deployment_group=group,
        traffic=(info.get("deploymentStyle") or {}).get("deploymentOption")
        == "WITH_TRAFFIC_CONTROL",
    )


def _raise_mapped(exc: Exception) -> NoReturn:
    """Re-raise an AWS error of a CodeDeploy call as the wizard's one-line error (or as is)."""
    action = getattr(exc, "operation_name", "") or "CodeDeploy"
    mapped = _client_error(exc, f"codedeploy:{action}")
    if mapped is None:
        raise exc
    raise mapped from exc


def _console(ctx: Any, region: str, deployment_id: str) -> str | None:
    """The AWS console's page of a deployment; None in the sandbox (there is no console)."""
    if ctx.sandbox:
        return None
    return console_url(region, deployment_id, ctx.session.get_partition_for_region(region))
