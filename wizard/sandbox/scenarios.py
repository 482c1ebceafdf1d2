"""Ready-made sandbox worlds: `wizard sandbox --scenario NAME` (and `--sandbox --scenario NAME`).

Each scenario is built only through ordinary AWS API calls against the endpoint (IAM roles and
instance profiles, EC2 instances with user data and tags, an S3 bucket with a real zip bundle,
a CodeDeploy application and deployment group), then creates one deployment and waits until it
has finished. `seed()` returns what a caller needs to look at it:
`{"application", "deployment_group", "deployment_id", "instance_ids", "bucket", "key",
"expected": {"status", "error_code", "event", "lifecycle_error", "script", "message"}}`.

Scenario names (`wizard sandbox --list-scenarios`):

    healthy                     2 instances, AllAtOnce, ApplicationStart hook: Succeeded
    no-instances                tag filter matches nothing: NO_INSTANCES
    service-role-untrusted      service role trusts ec2 only: IAM_ROLE_PERMISSIONS
    no-instance-profile         instances without a profile: agent cannot receive the event
    profile-role-untrusted      profile role trusts lambda, not ec2: same symptom
    role-no-s3-read             instance role cannot read the bundle: Access Denied
    bucket-policy-deny          bucket policy denies the role: Access Denied
    bucket-other-region         bucket in eu-west-1, instances in us-east-1
    object-missing              revision key does not exist
    agent-absent                user data never installs the agent
    agent-stopped               user data installs the agent, then stops and disables it
    appspec-missing             parent folder zipped with __MACOSX: no appspec at the root
    appspec-invalid             `os: ubuntu` in the appspec
    hook-misspelt               `ApplicationStarts:` hook: succeeds, the hook never runs
    hook-script-missing         hook names a script the bundle lacks: ScriptMissing
    hook-failed                 ApplicationStart exits 3 with a log line: ScriptFailed
    hook-timeout                ValidateService times out: ScriptTimedOut
    runas-missing               hook runs as user `deploy` that does not exist
    destination-not-writable    user data runs the agent as `cdagent`, makes /var/www root 755
    file-exists                 user data puts a page where the revision's goes (DISALLOW)
    health-constraints-invalid  HalfAtATime on a single instance

Every world is made of what a user builds (AMI, user data, roles, bucket, bundle, group); only
`hook-failed` and `hook-timeout` state their failure with a `sandbox:hook:` tag, because an
application error and a process that never returns depend on the environment the script runs
in, which no AWS API shows.

The `sandbox:` instance tags (DESIGN.md, a contract): `sandbox:agent` running|stopped|absent
(default: running when the user data installs the agent), `sandbox:ssm` online|offline
(default: online when the instance role has AmazonSSMManagedInstanceCore), `sandbox:users`
(comma-separated extra OS users; root and the AMI's default user always exist),
`sandbox:dir:/abs/path` and `sandbox:file:/abs/path` as `owner:group:mode`,
`sandbox:hook:EVENT` as `exit=N` or `timeout`, optionally `;log=TEXT` (the log tail; a literal
`\\n` separates lines; applies to the first script of that event; an event without scripts runs
nothing), `sandbox:agent-user` (default root; that user always exists).

The clock is compressed: each lifecycle event takes 0.12 s unless
`CODEDEPLOY_WIZARD_SANDBOX_EVENT_SECONDS` says otherwise; a deployment starts 2 events after it
is created; a hung script or an agent that never answers takes 5 events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from wizard.errors import UsageError
from wizard.sandbox.world import (
    START_SH,
    VALIDATE_SH,
    World,
    agent_user_data,
    appspec,
    zip_bundle,
)

KEY = "releases/app.zip"


def _dest(w: World) -> str:
    return f"/var/www/{w.name}"


def _files(w: World, hooks: dict[str, list[dict[str, Any]]] | None = None) -> dict[str, str]:
    hooks = (
        {"ApplicationStart": [{"location": "scripts/start.sh", "timeout": 60}]}
        if hooks is None
        else hooks
    )
    return {
        "appspec.yml": appspec(_dest(w), hooks),
        "index.html": "<h1>hello from the sandbox</h1>\n",
        "scripts/start.sh": START_SH,
        "scripts/validate.sh": VALIDATE_SH,
    }


def build(
    w: World,
    *,
    count: int = 2,
    files: dict[str, str | bytes] | None = None,
    wrap: str | None = None,
    tags: dict[str, str] | None = None,
    profile: bool = True,
    profile_service: str = "ec2.amazonaws.com",
    s3_read: bool = True,
    ssm: bool = True,
    agent: bool = True,
    bucket_region: str | None = None,
    bucket_policy: Callable[[str, str], dict[str, Any]] | None = None,
    upload: bool = True,
    config: str = "CodeDeployDefault.AllAtOnce",
    tag_value: str | None = None,
    untrust_service_role: bool = False,
    file_exists_behavior: str | None = None,
    wait: bool = True,
    ami: str = "al2023",
    user_data: str | None = None,
    metadata_options: dict[str, Any] | None = None,
    archive: bytes | None = None,
) -> dict[str, Any]:
    """The standard world with one thing changed; deploys once and (by default) waits.

    `ami` (a key of `world.AMI_PARAMETERS`), `user_data` and `metadata_options` shape the
    instances as RunInstances would; the default user data installs the latest agent for
    that OS; `ssm=False` leaves AmazonSSMManagedInstanceCore off the instance role (SSM never
    reaches the instances). `archive` uploads those bytes as the bundle instead of zipping `files`.
    """
    bucket = w.bucket(region=bucket_region)
    service_role = w.service_role()
    profile_name = None
    if profile:
        profile_name = w.instance_profile(
            bucket=bucket, service=profile_service, s3_read=s3_read, ssm=ssm
        )
    if bucket_policy is not None:
        role_arn = f"arn:aws:iam::{w.account}:role/{profile_name}"
        w.client("s3", bucket_region).put_bucket_policy(
            Bucket=bucket, Policy=json.dumps(bucket_policy(bucket, role_arn))
        )
    ids = w.launch(
        count,
        tags=tags,
        profile=profile_name,
        agent=agent,
        ami=ami,
        user_data=user_data,
        metadata_options=metadata_options,
    )
    app, group = w.application(service_role, config=config, tag_value=tag_value)
    if untrust_service_role:
        name = service_role.rsplit("/", 1)[-1]
        w.client("iam").update_assume_role_policy(
            RoleName=name,
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )
    etag = None
    if upload:
        data = archive or zip_bundle(files if files is not None else _files(w), wrap=wrap)
        etag = w.put_bundle(bucket, KEY, data, region=bucket_region)
    deployment_id = w.deploy(
        group, bucket, KEY, etag=etag, file_exists_behavior=file_exists_behavior
    )
    info = w.wait(deployment_id) if wait else None
    return {
        "application": app,
        "deployment_group": group,
        "deployment_id": deployment_id,
        "instance_ids": ids,
        "bucket": bucket,
        "key": KEY,
        "service_role_arn": service_role,
        "instance_profile": profile_name,
        "destination": _dest(w),
        "status": info["status"] if info else None,
    }


def _deny_policy(bucket: str, role_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyTheAppRole",
                "Effect": "Deny",
                "Principal": {"AWS": role_arn},
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def _exp(
    status: str,
    error_code: str | None = None,
    event: str | None = None,
    lifecycle_error: str | None = None,
    message: str | None = None,
    script: str | None = None,
    log: str | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "error_code": error_code,
        "event": event,
        "lifecycle_error": lifecycle_error,
        "script": script,
        "message": message,
        "log": log,
    }


AGENT_MSG = "CodeDeploy agent was not able to receive the lifecycle event"


def _healthy(w: World) -> dict[str, Any]:
    return {**build(w), "expected": _exp("Succeeded")}


def _no_instances(w: World) -> dict[str, Any]:
    return {
        **build(w, tag_value=w.name.upper()),
        "expected": _exp("Failed", "NO_INSTANCES", message="no instances were found"),
    }


def _service_role_untrusted(w: World) -> dict[str, Any]:
    return {
        **build(w, untrust_service_role=True),
        "expected": _exp(
            "Failed",
            "IAM_ROLE_PERMISSIONS",
            message="does not have the permissions required to assume the role",
        ),
    }


def _no_instance_profile(w: World) -> dict[str, Any]:
    return {
        **build(w, profile=False),
        "expected": _exp(
            "Failed", "HEALTH_CONSTRAINTS", "ApplicationStop", "UnknownError", AGENT_MSG, ""
        ),
    }


def _profile_role_untrusted(w: World) -> dict[str, Any]:
    return {
        **build(w, profile_service="lambda.amazonaws.com"),
        "expected": _exp(
            "Failed", "HEALTH_CONSTRAINTS", "ApplicationStop", "UnknownError", AGENT_MSG, ""
        ),
    }


def _role_no_s3_read(w: World) -> dict[str, Any]:
    return {
        **build(w, s3_read=False),
        "expected": _exp(
            "Failed", "HEALTH_CONSTRAINTS", "DownloadBundle", "UnknownError", "Access Denied", ""
        ),
    }


def _bucket_policy_deny(w: World) -> dict[str, Any]:
    return {
        **build(w, bucket_policy=_deny_policy),
        "expected": _exp(
            "Failed", "HEALTH_CONSTRAINTS", "DownloadBundle", "UnknownError", "Access Denied", ""
        ),
    }


def _bucket_other_region(w: World) -> dict[str, Any]:
    return {
        **build(w, bucket_region="eu-west-1" if w.region != "eu-west-1" else "us-west-2"),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "DownloadBundle",
            "UnknownError",
            "must be addressed using the specified endpoint",
            "",
        ),
    }


def _object_missing(w: World) -> dict[str, Any]:
    return {
        **build(w, upload=False),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "DownloadBundle",
            "UnknownError",
            "The specified key does not exist",
            "",
        ),
    }


def _agent_absent(w: World) -> dict[str, Any]:
    return {
        **build(w, agent=False),
        "expected": _exp(
            "Failed", "HEALTH_CONSTRAINTS", "ApplicationStop", "UnknownError", AGENT_MSG, ""
        ),
    }


def _with_agent(w: World, extra: str) -> str:
    """The standard agent-installing user data, then `extra` (first boot runs both)."""
    return agent_user_data(w.region) + extra


def _agent_stopped(w: World) -> dict[str, Any]:
    # the user data installs the agent, then stops and disables it (what a golden-AMI bake or
    # a cost-saving script does); no tag needed
    stop = "systemctl stop codedeploy-agent\nsystemctl disable codedeploy-agent\n"
    return {
        **build(w, user_data=_with_agent(w, stop)),
        "expected": _exp(
            "Failed", "HEALTH_CONSTRAINTS", "ApplicationStop", "UnknownError", AGENT_MSG, ""
        ),
    }


def _appspec_missing(w: World) -> dict[str, Any]:
    files: dict[str, str | bytes] = dict(_files(w))
    bundle = {f"{w.name}/{k}": v for k, v in files.items()}
    bundle[f"__MACOSX/{w.name}/._appspec.yml"] = b"\x00\x05\x16\x07"
    return {
        **build(w, files=bundle),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "BeforeInstall",
            "UnknownError",
            "did not find an AppSpec file within the unpacked revision directory",
            "",
        ),
    }


def _appspec_invalid(w: World) -> dict[str, Any]:
    files = _files(w)
    files["appspec.yml"] = files["appspec.yml"].replace("os: linux", "os: ubuntu")
    return {
        **build(w, files=files),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "BeforeInstall",
            "UnknownError",
            "unsupported operating system (ubuntu)",
            "",
        ),
    }


def _hook_misspelt(w: World) -> dict[str, Any]:
    files = _files(w, {"ApplicationStarts": [{"location": "scripts/start.sh"}]})
    return {**build(w, files=files), "expected": _exp("Succeeded")}


def _hook_script_missing(w: World) -> dict[str, Any]:
    files = _files(w, {"ApplicationStart": [{"location": "scripts/run.sh"}]})
    return {
        **build(w, files=files),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "ApplicationStart",
            "ScriptMissing",
            # the agent names the script by its absolute path (hook_executor.rb, File.expand_path)
            "/deployment-archive/scripts/run.sh",
            "scripts/run.sh",
        ),
    }


def _hook_failed(w: World) -> dict[str, Any]:
    tags = {"sandbox:hook:ApplicationStart": "exit=3;log=Error: port 8080 already in use"}
    return {
        **build(w, tags=tags),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "ApplicationStart",
            "ScriptFailed",
            "failed with exit code 3",
            "scripts/start.sh",
            "port 8080 already in use",
        ),
    }


def _hook_timeout(w: World) -> dict[str, Any]:
    hooks = {
        "ApplicationStart": [{"location": "scripts/start.sh", "timeout": 60}],
        "ValidateService": [{"location": "scripts/validate.sh", "timeout": 30}],
    }
    tags = {"sandbox:hook:ValidateService": "timeout;log=waiting for http://localhost/"}
    return {
        **build(w, files=_files(w, hooks), tags=tags),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "ValidateService",
            "ScriptTimedOut",
            "failed to complete in 30 seconds",
            "scripts/validate.sh",
        ),
    }


def _runas_missing(w: World) -> dict[str, Any]:
    hooks = {"ApplicationStart": [{"location": "scripts/start.sh", "runas": "deploy"}]}
    return {
        **build(w, files=_files(w, hooks)),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "ApplicationStart",
            "ScriptFailed",
            "run as user deploy failed with exit code 1",
            "scripts/start.sh",
            "su: user deploy does not exist",
        ),
    }


def _destination_not_writable(w: World) -> dict[str, Any]:
    # the user data runs the agent as `cdagent` (its init script's CODEDEPLOY_USER) and makes
    # /var/www as root (755): the agent cannot create the destination under it
    boot = (
        "useradd --system cdagent\n"
        "mkdir -p /var/www\n"
        'sed -i \'s/CODEDEPLOY_USER=""/CODEDEPLOY_USER="cdagent"/\' /etc/init.d/codedeploy-agent\n'
        "systemctl restart codedeploy-agent\n"
    )
    return {
        **build(w, user_data=_with_agent(w, boot)),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "Install",
            "UnknownError",
            f"Permission denied @ dir_s_mkdir - /var/www/{w.name}",
            "",
        ),
    }


def _file_exists(w: World) -> dict[str, Any]:
    # the user data puts a placeholder page where the revision's index.html goes
    page = f"/var/www/{w.name}/index.html"
    boot = f"mkdir -p /var/www/{w.name}\necho 'coming soon' > {page}\n"
    return {
        **build(w, user_data=_with_agent(w, boot)),
        "expected": _exp(
            "Failed",
            "HEALTH_CONSTRAINTS",
            "Install",
            "UnknownError",
            f"a specified file already exists at this location: /var/www/{w.name}/index.html",
            "",
        ),
    }


def _health_constraints_invalid(w: World) -> dict[str, Any]:
    return {
        **build(w, count=1, config="CodeDeployDefault.HalfAtATime"),
        "expected": _exp("Failed", "HEALTH_CONSTRAINTS_INVALID"),
    }


SCENARIOS: dict[str, tuple[str, Callable[[World], dict[str, Any]]]] = {
    "healthy": ("2 instances, AllAtOnce, a start hook: the deployment succeeds", _healthy),
    "no-instances": ("the tag filter matches no instance: NO_INSTANCES", _no_instances),
    "service-role-untrusted": (
        "service role trusts ec2 only: IAM_ROLE_PERMISSIONS",
        _service_role_untrusted,
    ),
    "no-instance-profile": (
        "instances without an instance profile: the agent gets no credentials",
        _no_instance_profile,
    ),
    "profile-role-untrusted": (
        "the profile's role does not trust ec2.amazonaws.com",
        _profile_role_untrusted,
    ),
    "role-no-s3-read": ("instance role cannot read the bundle: Access Denied", _role_no_s3_read),
    "bucket-policy-deny": ("bucket policy denies the instance role", _bucket_policy_deny),
    "bucket-other-region": (
        "bundle bucket in eu-west-1, instances in us-east-1",
        _bucket_other_region,
    ),
    "object-missing": ("the revision's S3 key does not exist", _object_missing),
    "agent-absent": ("user data never installs the CodeDeploy agent", _agent_absent),
    "agent-stopped": (
        "user data installs the CodeDeploy agent, then stops it",
        _agent_stopped,
    ),
    "appspec-missing": (
        "parent folder zipped: no appspec.yml at the bundle root",
        _appspec_missing,
    ),
    "appspec-invalid": ("appspec says `os: ubuntu`", _appspec_invalid),
    "hook-misspelt": ("`ApplicationStarts:` hook: succeeds, the hook never runs", _hook_misspelt),
    "hook-script-missing": (
        "hook names a script the bundle lacks: ScriptMissing",
        _hook_script_missing,
    ),
    "hook-failed": ("ApplicationStart exits 3: ScriptFailed with a log tail", _hook_failed),
    "hook-timeout": ("ValidateService hangs: ScriptTimedOut", _hook_timeout),
    "runas-missing": ("hook runs as user `deploy`, who does not exist", _runas_missing),
    "destination-not-writable": (
        "user data runs the agent as cdagent, /var/www is root's: Permission denied",
        _destination_not_writable,
    ),
    "file-exists": (
        "a page the user data wrote blocks the install under DISALLOW",
        _file_exists,
    ),
    "health-constraints-invalid": (
        "HalfAtATime on one instance: HEALTH_CONSTRAINTS_INVALID",
        _health_constraints_invalid,
    ),
}


def catalogue() -> list[tuple[str, str]]:
    """(name, one-line summary) of every scenario, in a stable order."""
    return [(name, summary) for name, (summary, _) in SCENARIOS.items()]


def seed(
    name: str,
    endpoint_url: str,
    region: str = "us-east-1",
    credentials: tuple[str, str] = ("sandbox", "sandbox"),
) -> dict[str, Any]:
    """Build scenario `name` against the endpoint; one finished deployment; what to look at."""
    if name not in SCENARIOS:
        known = ", ".join(SCENARIOS)
        raise UsageError(f"unknown sandbox scenario {name!r}; known: {known}")
    base = f"sbx-{name}"
    w = World(endpoint_url, region=region, name=base, credentials=credentials)
    if _application_exists(w, base):
        w = World(
            endpoint_url,
            region=region,
            name=f"{base}-{uuid.uuid4().hex[:4]}",
            credentials=credentials,
        )
    result = SCENARIOS[name][1](w)
    result["scenario"] = name
    result["region"] = region
    return result


def _application_exists(w: World, name: str) -> bool:
    try:
        w.client("codedeploy").get_application(applicationName=name)
    except Exception:
        return False
    return True
