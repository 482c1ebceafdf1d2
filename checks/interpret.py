"""What the deployment's own words mean: error codes and message fragments mapped to causes.

Sources: the domain reference (§1-§3). We match stable fragments, never whole sentences, and point
each failure at the check ids that can confirm it, most specific first. The ranking of root causes
uses these pointers: a failing check that explains many failed instances comes first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

LIFECYCLE_ORDER = (
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)
INSTALL_OR_LATER = {"Install", "AfterInstall", "ApplicationStart", "ValidateService"}
AGENT_EVENTS = {"DownloadBundle", "Install", "BlockTraffic", "AllowTraffic"}

# deployment errorInformation.code -> (check ids, explanation)
DEPLOYMENT_CODES: dict[str, tuple[tuple[str, ...], str]] = {
    "NO_INSTANCES": (
        ("group.instances-matched", "asg.suspended-processes", "asg.scale-out"),
        "the group's tag filters and Auto Scaling groups gave no instance to deploy to",
    ),
    "HEALTH_CONSTRAINTS_INVALID": (
        ("group.health",),
        "the deployment config's minimum healthy hosts cannot be met by this fleet",
    ),
    "IAM_ROLE_MISSING": (("iam.service-role",), "the service role does not exist"),
    "IAM_ROLE_PERMISSIONS": (
        ("iam.service-role",),
        "CodeDeploy cannot assume the service role, or it lacks permissions",
    ),
    "AGENT_ISSUE": (("agent.running", "iam.instance-profile"), "the CodeDeploy agent did not run"),
    "REVISION_MISSING": (("s3.bundle-exists",), "the revision is missing"),
    "DEPLOYMENT_GROUP_MISSING": (("group.instances-matched",), "the deployment group was deleted"),
    "APPLICATION_MISSING": (("group.instances-matched",), "the application was deleted"),
    "HEALTH_CONSTRAINTS": ((), "too many instances failed"),
    "TIMEOUT": ((), "a lifecycle event passed its time window (instance stopped mid-event?)"),
    "MANUAL_STOP": ((), "the deployment was stopped by a StopDeployment call"),
    "THROTTLED": ((), "CodeDeploy was throttled: retry"),
    "INTERNAL_ERROR": ((), "an internal CodeDeploy error: retry"),
    "ALARM_ACTIVE": ((), "a CloudWatch alarm of the group is in ALARM"),
}


@dataclass(frozen=True)
class Cause:
    """A named cause and the checks (most specific first) that confirm it."""

    key: str
    label: str
    checks: tuple[str, ...]


# (regex on message, lifecycle error code or None, cause). First match wins: order matters —
# the specific fragments first, the generic words last: a file clash at
# /var/www/app/appspec.yml is a file clash, not an AppSpec problem, and "Access Denied" in a
# hook's log is the hook's business (script errors never reach these rules, see `classify`).
_RULES: list[tuple[re.Pattern[str], str | None, Cause]] = [
    (
        re.compile(r"Missing credentials|instance profile", re.I),
        None,
        Cause(
            "no-credentials",
            "the agent has no credentials (instance profile)",
            ("iam.instance-profile",),
        ),
    ),
    (
        re.compile(r"Signature expired|RequestTimeTooSkewed|clock skew", re.I),
        None,
        Cause("clock-skew", "the instance clock is skewed (Signature expired)", ("agent.clock",)),
    ),
    (
        re.compile(r"metadata service, code 401|HTTP error from metadata service", re.I),
        None,
        Cause("imdsv2", "IMDSv2 is required but the agent is too old for it", ("agent.imds",)),
    ),
    (
        re.compile(r"after an agent restart", re.I),
        None,
        Cause("agent-restart", "the agent restarted during the event", ("agent.restart",)),
    ),
    (
        re.compile(r"Cannot reach InstanceService|execution expired|Failed to open TCP", re.I),
        None,
        Cause("no-network", "the agent cannot reach CodeDeploy or S3", ("agent.running",)),
    ),
    (
        re.compile(r"not able to receive the lifecycle event|agent.*did not receive", re.I),
        None,
        Cause(
            "agent-not-receiving",
            "the CodeDeploy agent did not pick up the lifecycle event",
            ("iam.instance-profile", "agent.imds", "agent.running"),
        ),
    ),
    (
        # installer.rb: "a specified file already exists at this location: PATH"
        re.compile(r"already exists at this location", re.I),
        None,
        Cause(
            "file-exists",
            "files not put there by this deployment group already exist at the destination",
            ("dest.file-exists",),
        ),
    ),
    (
        re.compile(
            r"su: user \S+ does not exist|su: must be run from a terminal|user .* does not exist",
            re.I,
        ),
        None,
        Cause("runas", "a hook's runas user does not exist or cannot be used", ("dest.writable",)),
    ),
    (
        re.compile(
            r"Permission denied @ (rb_sysopen|dir_s_mkdir|rb_file_s_rename|apply2files)", re.I
        ),
        None,
        Cause("dest-permission", "the agent cannot write the destination", ("dest.writable",)),
    ),
    (
        re.compile(r"No such file or directory @ rb_sysopen", re.I),
        None,
        Cause("files-source", "a `files` source is not in the bundle", ("bundle.appspec",)),
    ),
    (
        re.compile(r"KMS|kms:Decrypt|aws:kms", re.I),
        None,
        Cause("kms", "the bundle is SSE-KMS encrypted and the role cannot decrypt it", ("s3.kms",)),
    ),
    (
        re.compile(r"must be addressed using the specified endpoint|PermanentRedirect", re.I),
        None,
        Cause("bucket-region", "the bucket is in another region", ("s3.bundle-region",)),
    ),
    (
        re.compile(r"Expected deployment artifact bundle etag", re.I),
        None,
        Cause("etag", "the bundle changed after the deployment was created", ("s3.bundle-exists",)),
    ),
    (
        re.compile(r"NoSuchKey|specified key does not exist|404 Not Found|NoSuchBucket", re.I),
        None,
        Cause("bundle-missing", "the revision object is missing", ("s3.bundle-exists",)),
    ),
    (
        re.compile(r"Access ?Denied|not opened for reading|\b403\b|Forbidden", re.I),
        None,
        Cause(
            "s3-denied",
            "the instance role may not read the bundle (Access Denied)",
            ("s3.bundle-readable", "s3.kms", "iam.instance-profile"),
        ),
    ),
    (
        re.compile(r"Error extracting|not a zip|not in gzip format|invalid tar", re.I),
        None,
        Cause(
            "bad-archive", "the bundle archive is corrupt or of the wrong type", ("bundle.appspec",)
        ),
    ),
    (
        # the agent's own words for the appspec (application_specification.rb, command_executor.rb)
        # and Psych's YAML errors; never a bare "appspec" that may be part of a path
        re.compile(
            r"did not find an AppSpec file|application specification file|AppSpec file|"
            r"^\(<unknown>\):|unknown lifecycle events",
            re.I | re.M,
        ),
        None,
        Cause("appspec", "the AppSpec file is missing or invalid", ("bundle.appspec",)),
    ),
    (
        re.compile(r"Permission denied", re.I),
        "UnknownError",
        Cause("dest-permission", "the agent cannot write the destination", ("dest.writable",)),
    ),
]

_BY_ERROR_CODE: dict[str, Cause] = {
    "ScriptMissing": Cause(
        "script-missing", "a hook script is not in the bundle", ("bundle.appspec",)
    ),
    "ScriptNotExecutable": Cause(
        "script-not-executable",
        "a hook script cannot be made executable (read-only or noexec mount)",
        ("hooks.failed",),
    ),
    "ScriptTimedOut": Cause("script-timeout", "a hook script timed out", ("hooks.failed",)),
    "ScriptFailed": Cause("script-failed", "a hook script failed", ("hooks.failed",)),
}
_UNKNOWN = Cause("unknown", "an error the agent did not classify", ("deployment.status",))
# BlockTraffic/AllowTraffic are CodeDeploy's own events (not the agent's): their failure is told by
# the target group (health checks, deregistration delay), not by a message (User Guide,
# "Troubleshooting a failed AllowTraffic lifecycle event with no error reported")
_BY_EVENT: dict[str, Cause] = {
    "AllowTraffic": Cause(
        "allow-traffic",
        "the instance did not pass the load balancer's health checks",
        ("lb.target-health",),
    ),
    "BlockTraffic": Cause(
        "block-traffic",
        "deregistering from the load balancer did not finish",
        ("lb.deregistration-delay", "lb.target-health"),
    ),
}
# these events run the scripts of the last successful revision (aws-codedeploy-agent,
# hook_executor.rb MAPPING_BETWEEN_HOOKS_AND_DEPLOYMENTS: LastSuccessfulOrIgnore)
PREVIOUS_REVISION_EVENTS = ("ApplicationStop", "BeforeBlockTraffic", "AfterBlockTraffic")
_PREVIOUS_REVISION = Cause(
    "previous-revision",
    "a script of the last successful revision failed (it runs before this revision's own)",
    ("hooks.previous-revision",),
)


@dataclass
class Failure:
    """The first failed (or never-run) lifecycle event of one target."""

    instance_id: str
    event: str | None
    error_code: str | None
    script_name: str | None
    message: str
    log_tail: str
    target_status: str
    cause: Cause
    events: dict[str, str] = field(default_factory=dict)

    def short(self) -> str:
        where = f"{self.event}: " if self.event else ""
        return f"{where}{self.cause.label}"


def classify(message: str, error_code: str | None, log_tail: str = "") -> Cause:
    """The cause behind one lifecycle diagnostic, from its message and log tail together: the
    rules go from the most specific fragment to the most generic, so a 401 from the metadata
    service in the agent's log explains a generic 'not able to receive' message."""
    if error_code in ("ScriptFailed", "ScriptTimedOut"):
        # a script failure can still be a runas problem
        text = f"{message or ''}\n{log_tail or ''}"
        for rx, _code, cause in _RULES:
            if cause.key == "runas" and rx.search(text):
                return cause
        return _BY_ERROR_CODE[error_code]
    if error_code in _BY_ERROR_CODE:
        return _BY_ERROR_CODE[error_code]
    text = f"{message or ''}\n{log_tail or ''}"
    for rx, code, cause in _RULES:
        if code is not None and code != error_code:
            continue
        if rx.search(text):
            return cause
    return _UNKNOWN


def first_failure(target: dict[str, Any]) -> Failure | None:
    """Interpret one BatchGetDeploymentTargets `instanceTarget` (or deploymentTarget)."""
    inst = target.get("instanceTarget") or target
    instance_id = inst.get("targetId") or inst.get("instanceId") or "?"
    instance_id = instance_id.rsplit("/", 1)[-1]
    status = inst.get("status", "Unknown")
    events = inst.get("lifecycleEvents") or []
    by_name = {e.get("lifecycleEventName", "?"): e.get("status", "?") for e in events}
    for ev in events:
        if ev.get("status") == "Failed":
            diag = ev.get("diagnostics") or {}
            code = diag.get("errorCode")
            msg = diag.get("message") or ""
            cause = _BY_EVENT.get(ev.get("lifecycleEventName") or "") or classify(
                msg, code, diag.get("logTail") or ""
            )
            if ev.get("lifecycleEventName") in PREVIOUS_REVISION_EVENTS and code in _BY_ERROR_CODE:
                cause = _PREVIOUS_REVISION  # not this revision's script: the last successful one's
            return Failure(
                instance_id=instance_id,
                event=ev.get("lifecycleEventName"),
                error_code=code,
                script_name=diag.get("scriptName") or None,
                message=msg,
                log_tail=diag.get("logTail") or "",
                target_status=status,
                cause=cause,
                events=by_name,
            )
    if status == "Failed":
        # failed with no failed event: every event Skipped/Pending means the agent never ran
        never_ran = events and all(e.get("status") in ("Skipped", "Pending") for e in events)
        cause = (
            Cause(
                "agent-not-receiving",
                "the agent never ran any lifecycle event",
                ("iam.instance-profile", "agent.imds", "agent.running"),
            )
            if never_ran or not events
            else _UNKNOWN
        )
        return Failure(instance_id, None, None, None, "", "", status, cause, by_name)
    return None


@dataclass
class Waiting:
    """Where an in-flight target stands: the event it waits on and since when."""

    instance_id: str
    event: str | None
    event_status: str  # Pending: the agent has not picked it up; InProgress: a script runs
    since: Any  # datetime the event (or the target) started, when known
    target_status: str


def waiting(target: dict[str, Any]) -> Waiting | None:
    """The first lifecycle event of an InProgress/Pending target that is not done yet."""
    inst = target.get("instanceTarget") or target
    status = inst.get("status", "Unknown")
    if status not in ("InProgress", "Pending", "Ready"):
        return None
    iid = str(inst.get("targetId") or inst.get("instanceId") or "?").rsplit("/", 1)[-1]
    events = inst.get("lifecycleEvents") or []
    for ev in events:
        st = ev.get("status")
        if st in ("Pending", "InProgress", "Unknown"):
            return Waiting(
                iid,
                ev.get("lifecycleEventName"),
                st,
                ev.get("startTime") or inst.get("lastUpdatedAt"),
                status,
            )
    return Waiting(iid, None, "Pending", inst.get("lastUpdatedAt"), status)


def agent_reached(target: dict[str, Any]) -> bool:
    """True when the lifecycle shows the agent working on this instance (an event it ran)."""
    inst = target.get("instanceTarget") or target
    for ev in inst.get("lifecycleEvents") or []:
        name = ev.get("lifecycleEventName")
        st = ev.get("status")
        if st == "Succeeded" and name != "ApplicationStop":
            return True
        if st == "Failed":
            diag = ev.get("diagnostics") or {}
            cause = classify(diag.get("message") or "", diag.get("errorCode"))
            if cause.key not in ("agent-not-receiving", "no-credentials", "no-network", "imdsv2"):
                return True
    return False


def reached_install(target: dict[str, Any]) -> bool:
    """True when the target got as far as (or past) the Install event."""
    inst = target.get("instanceTarget") or target
    for ev in inst.get("lifecycleEvents") or []:
        if ev.get("lifecycleEventName") in INSTALL_OR_LATER and ev.get("status") in (
            "Succeeded",
            "Failed",
            "InProgress",
        ):
            return True
    return False


def group_by(items: Iterable[Failure], key: Any) -> list[tuple[Any, list[Failure]]]:
    """Group failures by `key(failure)`, largest group first, stable otherwise."""
    groups: dict[Any, list[Failure]] = {}
    for f in items:
        groups.setdefault(key(f), []).append(f)
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))


def count_phrase(n: int, total: int | None, noun: str = "instance") -> str:
    """'37 of 40 instances', '1 instance', 'all 3 instances'."""
    plural = noun if n == 1 else noun + "s"
    if total is None or total == n:
        return f"all {n} {plural}" if total and n > 1 else f"{n} {plural}"
    return f"{n} of {total} {noun}s"


def id_list(ids: list[str], limit: int = 5) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", … (+{len(ids) - limit})" if len(ids) > limit else "")
