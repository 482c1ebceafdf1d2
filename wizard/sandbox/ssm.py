"""SSM for the sandbox: DescribeInstanceInformation and Run Command on simulated instances.

Run Command reaches an instance whose SSM agent is online (`sandbox:ssm`, default: online when
the instance role has AmazonSSMManagedInstanceCore and trusts ec2). `AWS-RunShellScript` runs
its `commands` in `wizard.sandbox.shell` (bash's grammar by bashlex, the instance's commands and
files, the image's /bin/sh wording); `AWS-ConfigureAWSPackage` with `action=Install,
name=AWSCodeDeployAgent` installs and starts the latest agent.

Commands move like SSM's: an invocation is `Pending`, then `InProgress`, then `Success` or
`Failed` (`StatusDetails` `Undeliverable` when the agent is unreachable) on the compressed clock,
so botocore's `command_executed` waiter works; the command's own status follows its
invocations. Fields AWS returns unset are empty, never placeholders (`NotificationConfig`,
`CloudWatchOutputConfig`).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ssm import responses as ssm_responses

from wizard.sandbox import clock
from wizard.sandbox.awserror import AwsError
from wizard.sandbox.codedeploy.runner import advance_all
from wizard.sandbox.fleet.agent import LATEST, LATEST_V2
from wizard.sandbox.fleet.instance import Facts, InstanceState, gather, state_of

STDOUT_LIMIT = 24000
SSM_AGENT_VERSION = "3.3.1142.0"
# what AWS returns for a command sent without them
EMPTY_NOTIFICATION = {"NotificationArn": "", "NotificationEvents": [], "NotificationType": ""}
EMPTY_CLOUDWATCH = {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False}


def _instances(account: str, region: str) -> list[Any]:
    from moto.ec2.models import ec2_backends

    return list(ec2_backends[account][region].all_instances())


def _find_instance(account: str, region: str, instance_id: str) -> Any | None:
    from moto.ec2.models import ec2_backends

    try:
        return ec2_backends[account][region].get_instance(instance_id)
    except Exception:
        return None


def info_for(facts: Facts, instance: Any) -> dict[str, Any]:
    now = utcnow()
    return {
        "InstanceId": facts.instance_id,
        "PingStatus": "Online" if facts.ssm_online else "ConnectionLost",
        "LastPingDateTime": now if facts.ssm_online else now - timedelta(hours=1),
        "AgentVersion": SSM_AGENT_VERSION,
        "IsLatestVersion": True,
        "PlatformType": "Linux",
        "PlatformName": facts.platform_name,
        "PlatformVersion": facts.platform_version,
        "ResourceType": "EC2Instance",
        "IPAddress": facts.private_ip,
        "ComputerName": f"ip-{facts.private_ip.replace('.', '-')}.ec2.internal",
        "IamRole": (facts.role_arn or "").rsplit("/", 1)[-1],
        "AssociationStatus": "Success",
        "SourceId": facts.instance_id,
        "SourceType": "AWS::EC2::Instance",
    }


def describe_instance_information(self: Any) -> ActionResult:
    advance_all()
    account, region = self.current_account, self.region
    wanted_ids: set[str] | None = None
    wanted_ping: set[str] | None = None
    wanted_tags: dict[str, set[str]] = {}
    for f in self._get_param("InstanceInformationFilterList") or []:
        key, values = f.get("key"), set(f.get("valueSet") or [])
        if key == "InstanceIds":
            wanted_ids = values
        elif key == "PingStatus":
            wanted_ping = values
        elif key not in (
            "PlatformTypes",
            "AgentVersion",
            "ResourceType",
            "IamRole",
            "ActivationIds",
            "AssociationStatus",
        ):
            raise AwsError("InvalidFilterKey", f"Invalid filter key {key}")
    for f in self._get_param("Filters") or []:
        key, values = f.get("Key", ""), set(f.get("Values") or [])
        if key == "InstanceIds":
            wanted_ids = values
        elif key == "PingStatus":
            wanted_ping = values
        elif key.startswith("tag:"):
            wanted_tags[key[4:]] = values
        elif key == "tag-key":
            wanted_tags.update({k: set() for k in values})
    out = []
    with clock.LOCK:
        for inst in _instances(account, region):
            if inst.state == "terminated":
                continue
            if wanted_ids is not None and inst.id not in wanted_ids:
                continue
            facts = gather(account, region, inst)
            if not facts.ssm_registered:
                continue
            info = info_for(facts, inst)
            if wanted_ping is not None and info["PingStatus"] not in wanted_ping:
                continue
            if any(
                k not in facts.tags or (vals and facts.tags[k] not in vals)
                for k, vals in wanted_tags.items()
            ):
                continue
            out.append(info)
    out.sort(key=lambda i: i["InstanceId"])
    size = int(self._get_param("MaxResults") or 50)
    start = int(self._get_param("NextToken") or 0)
    page = out[start : start + size]
    result: dict[str, Any] = {"InstanceInformationList": page}
    if start + size < len(out):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


# ---- Run Command --------------------------------------------------------------------------


class _Host:
    """One instance as the shell sees it (see `wizard.sandbox.shell.Shell`)."""

    def __init__(self, instance: Any, facts: Facts, st: InstanceState):
        self.instance = instance
        self.facts = facts
        self.st = st

    def agent_state(self) -> str:
        return self.st.agent_override or self.facts.agent

    def set_agent(self, state: str) -> None:
        self.st.agent_override = state

    def add_user(self, name: str) -> None:
        self.st.extra_users.add(name)
        self.facts.users.add(name)

    def agent_broken(self) -> bool:
        """Would the installed agent die at start (it does not run on this Ruby)?"""
        boot = self.facts.boot
        return bool(boot and boot.state == "failed" and not self.st.agent_version_override)

    def journal(self, unit: str | None) -> list[str]:
        if unit not in (None, "codedeploy-agent") or self.facts.boot is None:
            return []
        return list(self.facts.boot.journal)

    def package(self, name: str) -> tuple[str, str] | None:
        """(version, release) of an installed OS package, None when it is not installed."""
        facts = self.facts
        if name == "codedeploy-agent":
            if self.agent_state() == "absent" or facts.agent_version is None:
                return None
            return facts.agent_version, facts.agent_build or "0"
        if name in ("ruby", "ruby-full") and facts.ruby:
            return facts.ruby, "1"
        if name == "amazon-ssm-agent":
            return SSM_AGENT_VERSION, "1"
        return None


def execute(
    instance: Any, facts: Facts, document: str, params: dict[str, Any], command_id: str = ""
) -> tuple[int, str, str]:
    """Run one document on one simulated instance: (exit status, stdout, stderr)."""
    from wizard.sandbox.shell import Shell

    st = state_of(instance, facts)
    host = _Host(instance, facts, st)
    if document == "AWS-RunShellScript":
        commands = params.get("commands") or []
        script = "\n".join(commands if isinstance(commands, list) else [str(commands)])
        path = (
            f"/var/lib/amazon/ssm/{facts.instance_id}/document/orchestration/{command_id}/"
            "awsrunShellScript/0.awsrunShellScript/_script.sh"
        )
        code, out, err = Shell(host, path, dash=facts.image.dash).run(script)
    elif document == "AWS-ConfigureAWSPackage":
        action = (params.get("action") or [""])[0]
        name = (params.get("name") or [""])[0]
        out = err = ""
        if name in ("AWSCodeDeployAgent", "AWSCodeDeployAgentV2") and action == "Install":
            version = LATEST_V2 if name.endswith("V2") else LATEST
            st.agent_version_override = version
            st.agent_override = "running"
            state_of(instance, gather(facts.account, facts.region, instance))
            out = f"Initiating {name} {version[0]} install\n"
            out += f"Successfully installed {name} {version[0]}\n"
            code = 0
        elif action == "Uninstall":
            st.agent_override = "absent"
            out = f"Successfully uninstalled {name}\n"
            code = 0
        else:
            err = f"Failed to {action} package {name}\n"
            code = 1
    else:
        code, out, err = 1, "", f"document {document} is not supported by the sandbox\n"
    return code, out[:STDOUT_LIMIT], err[:8000]


def _phase(record: dict[str, Any]) -> str:
    """Where one invocation stands now: Pending, InProgress or its final status."""
    age = time.monotonic() - record["sent"]
    step = max(clock.CLOCK.event, 0.001)
    if age < step:
        return "Pending"
    if age < 2 * step:
        return "InProgress"
    return "Success" if record["code"] == 0 else "Failed"


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _command_view(command: Any) -> dict[str, Any]:
    """A command as SendCommand/ListCommands show it, its status following its invocations."""
    view = command.response_object()
    results = getattr(command, "_sandbox_results", None)
    if results is not None:
        phases = [_phase(r) for r in results.values()]
        done = [p for p in phases if p in ("Success", "Failed")]
        if len(done) < len(phases):
            status = "InProgress" if any(p != "Pending" for p in phases) else "Pending"
        else:
            status = "Failed" if "Failed" in done else "Success"
        view.update(
            Status=status,
            StatusDetails=status,
            CompletedCount=len(done),
            ErrorCount=sum(1 for p in done if p == "Failed"),
            DeliveryTimedOutCount=0,
        )
    view["NotificationConfig"] = dict(
        getattr(command, "_sandbox_notification", None) or EMPTY_NOTIFICATION
    )
    view["CloudWatchOutputConfig"] = dict(
        getattr(command, "_sandbox_cloudwatch", None) or EMPTY_CLOUDWATCH
    )
    view["DocumentVersion"] = "$DEFAULT"
    view["TimeoutSeconds"] = command.timeout_seconds
    view["TriggeredAlarms"] = []
    return view


def send_command(self: Any) -> ActionResult:
    advance_all()
    account, region = self.current_account, self.region
    document = self._get_param("DocumentName")
    ids = list(self._get_param("InstanceIds") or [])
    params = self._get_param("Parameters") or {}
    if not ids and not self._get_param("Targets"):
        raise AwsError("InvalidInstanceId", "Instance IDs or targets are required.")
    if document not in ("AWS-RunShellScript", "AWS-ConfigureAWSPackage", "AWS-RunPowerShellScript"):
        raise AwsError("InvalidDocument", f"Document {document} does not exist in your account.")
    with clock.LOCK:
        checked = []
        for instance_id in ids:
            inst = _find_instance(account, region, instance_id)
            facts = gather(account, region, inst) if inst is not None else None
            if inst is None or facts is None or not facts.ssm_online:
                raise AwsError(
                    "InvalidInstanceId",
                    f"Instances [[{instance_id}]] not in a valid state for account {account}",
                )
            checked.append((inst, facts))
        checked_ids = [inst.id for inst, _ in checked]
        backend = self.ssm_backend
        notification = self._get_param("NotificationConfig")
        command = backend.send_command(
            comment=self._get_param("Comment", ""),
            document_name=document,
            timeout_seconds=self._get_int_param("TimeoutSeconds"),
            instance_ids=list(ids),
            max_concurrency=self._get_param("MaxConcurrency", "50"),
            max_errors=self._get_param("MaxErrors", "0"),
            notification_config=notification,
            output_s3_bucket_name=self._get_param("OutputS3BucketName", ""),
            output_s3_key_prefix=self._get_param("OutputS3KeyPrefix", ""),
            output_s3_region=self._get_param("OutputS3Region", ""),
            parameters=params,
            service_role_arn=self._get_param("ServiceRoleArn", ""),
            targets=self._get_param("Targets", []),
        )
        command._sandbox_notification = notification or EMPTY_NOTIFICATION
        command._sandbox_cloudwatch = self._get_param("CloudWatchOutputConfig") or EMPTY_CLOUDWATCH
        if not self._get_param("Targets"):
            # moto adds every instance of the region when Targets is empty
            command.instance_ids = list(dict.fromkeys(checked_ids))
            command.target_count = len(command.instance_ids)
        results: dict[str, dict[str, Any]] = {}
        now, sent = utcnow(), time.monotonic()
        for iid in command.instance_ids:
            inst = _find_instance(account, region, iid)
            facts = gather(account, region, inst) if inst is not None else None
            if inst is None or facts is None or not facts.ssm_online:
                # chosen by Targets (tags) but unreachable: undeliverable
                results[iid] = {"code": -1, "stdout": "", "stderr": "", "undeliverable": True}
            elif document == "AWS-RunPowerShellScript":
                results[iid] = {
                    "code": 1,
                    "stdout": "",
                    "stderr": "Windows PowerShell is not available on Linux\n",
                }
            else:
                code, out, errs = execute(inst, facts, document, params, command.command_id)
                results[iid] = {"code": code, "stdout": out, "stderr": errs}
            results[iid].update(start=now, end=now, sent=sent)
        command._sandbox_results = results
        view = _command_view(command)
    return ActionResult({"Command": view})


def list_commands(self: Any) -> ActionResult:
    backend = self.ssm_backend
    commands = backend.list_commands(self._get_param("CommandId"), self._get_param("InstanceId"))
    return ActionResult({"Commands": [_command_view(c) for c in commands]})


def _plugin_name(document: str) -> str:
    return {
        "AWS-RunShellScript": "aws:runShellScript",
        "AWS-RunPowerShellScript": "aws:runPowerShellScript",
        "AWS-ConfigureAWSPackage": "configurePackage",
    }.get(document, "aws:runShellScript")


def _invocation(command: Any, instance_id: str) -> dict[str, Any] | None:
    """GetCommandInvocation's view of one instance's run, as it stands now."""
    results = getattr(command, "_sandbox_results", None)
    if results is None or instance_id not in results:
        return None
    r = results[instance_id]
    status = _phase(r)
    final = status in ("Success", "Failed")
    details = "Undeliverable" if final and r.get("undeliverable") else status
    started = status != "Pending" and not r.get("undeliverable")
    return {
        "CommandId": command.command_id,
        "InstanceId": instance_id,
        "Comment": command.comment,
        "DocumentName": command.document_name,
        "DocumentVersion": "$DEFAULT",
        "PluginName": _plugin_name(command.document_name),
        "ResponseCode": r["code"] if final else -1,
        "ExecutionStartDateTime": _iso(r["start"]) if started else "",
        "ExecutionElapsedTime": "PT0.031S" if final and started else "",
        "ExecutionEndDateTime": _iso(r["end"]) if final and started else "",
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": r["stdout"] if final else "",
        "StandardOutputUrl": "",
        "StandardErrorContent": r["stderr"] if final else "",
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": dict(
            getattr(command, "_sandbox_cloudwatch", None) or EMPTY_CLOUDWATCH
        ),
    }


def get_command_invocation(self: Any) -> ActionResult:
    command_id = self._get_param("CommandId")
    instance_id = self._get_param("InstanceId")
    backend = self.ssm_backend
    command = backend.get_command_by_id(command_id)
    inv = _invocation(command, instance_id)
    if inv is None:
        if getattr(command, "_sandbox_results", None) is None:
            return ActionResult(
                backend.get_command_invocation(
                    command_id, instance_id, self._get_param("PluginName")
                )
            )
        raise AwsError("InvocationDoesNotExist", "")
    plugin = self._get_param("PluginName")
    if plugin and plugin != inv["PluginName"]:
        raise AwsError("InvalidPluginName", "")
    return ActionResult(inv)


def list_command_invocations(self: Any) -> ActionResult:
    backend = self.ssm_backend
    command_id = self._get_param("CommandId")
    instance_id = self._get_param("InstanceId")
    details = bool(self._get_param("Details"))
    commands = [backend.get_command_by_id(command_id)] if command_id else list(backend._commands)
    out = []
    for command in commands:
        for iid in command.instance_ids:
            if instance_id and iid != instance_id:
                continue
            inv = _invocation(command, iid)
            if inv is None:
                continue
            item: dict[str, Any] = {
                "CommandId": command.command_id,
                "InstanceId": iid,
                "InstanceName": "",
                "Comment": command.comment,
                "DocumentName": command.document_name,
                "DocumentVersion": "$DEFAULT",
                "RequestedDateTime": command.requested_date_time,
                "Status": inv["Status"],
                "StatusDetails": inv["StatusDetails"],
                "StandardOutputUrl": "",
                "StandardErrorUrl": "",
                "CommandPlugins": [],
                "ServiceRole": command.service_role_arn,
                "NotificationConfig": dict(
                    getattr(command, "_sandbox_notification", None) or EMPTY_NOTIFICATION
                ),
                "CloudWatchOutputConfig": inv["CloudWatchOutputConfig"],
            }
            if details:
                r = command._sandbox_results[iid]
                output = r["stdout"]
                if r["stderr"]:
                    output += "\n----------ERROR-------\n" + r["stderr"]
                final = inv["Status"] in ("Success", "Failed")
                plugin: dict[str, Any] = {
                    "Name": inv["PluginName"],
                    "Status": inv["Status"],
                    "StatusDetails": inv["StatusDetails"],
                    "ResponseCode": inv["ResponseCode"],
                    "Output": output[:2500] if final else "",
                    "StandardOutputUrl": "",
                    "StandardErrorUrl": "",
                    "OutputS3Region": command.backend_region,
                    "OutputS3BucketName": "",
                    "OutputS3KeyPrefix": "",
                }
                if inv["ExecutionStartDateTime"]:
                    plugin["ResponseStartDateTime"] = r["start"]
                if inv["ExecutionEndDateTime"]:
                    plugin["ResponseFinishDateTime"] = r["end"]
                item["CommandPlugins"] = [plugin]
            out.append(item)
    size = int(self._get_param("MaxResults") or 50)
    start = int(self._get_param("NextToken") or 0)
    result: dict[str, Any] = {"CommandInvocations": out[start : start + size]}
    if start + size < len(out):
        result["NextToken"] = str(start + size)
    return ActionResult(result)


HANDLERS = {
    "describe_instance_information": describe_instance_information,
    "send_command": send_command,
    "list_commands": list_commands,
    "get_command_invocation": get_command_invocation,
    "list_command_invocations": list_command_invocations,
}


def install() -> None:
    cls = ssm_responses.SimpleSystemManagerResponse
    for name, fn in HANDLERS.items():
        setattr(cls, name, fn)
