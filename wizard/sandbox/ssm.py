"""SSM for the sandbox: DescribeInstanceInformation and Run Command on simulated instances.

Run Command contract (so diagnose looks inside instances the same way on AWS and here):
`AWS-RunShellScript` with `{"commands": [lines]}` runs on instances whose SSM agent is online
(`sandbox:ssm`, default: online when the instance role has AmazonSSMManagedInstanceCore). Each
line is interpreted on its own, no pipes; the supported lines print what a real Amazon Linux
instance prints, errors on stderr, with the real exit status:

    echo TEXT                          ($? expands to the previous line's exit status)
    systemctl is-active|start|stop|restart codedeploy-agent
    cat FILE                           (/opt/codedeploy-agent/.version, logs, deployed files)
    stat -c FORMAT PATH                (%U %G %a %n %F)
    id [-u|-g|-un] USER
    ps -o user= -C ruby                (the agent's user; exit 1 when it is not running)
    ls [-A|-a|-1|-l] PATH
    tail -n N FILE                     (agent log, deployments log, a deployment's scripts.log)
    test -e|-f|-d PATH, getenforce, whoami, true, false

Anything else: `bash: line N: CMD: command not found`, exit 127. The command's ResponseCode is
the last line's exit status, as with a real shell script. `AWS-ConfigureAWSPackage` with
`action=Install, name=AWSCodeDeployAgent` installs and starts the simulated agent.
"""

from __future__ import annotations

import posixpath
import shlex
from datetime import timedelta
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ssm import responses as ssm_responses

from wizard.sandbox import clock
from wizard.sandbox.awserror import AwsError
from wizard.sandbox.codedeploy.runner import advance_all
from wizard.sandbox.fleet.filesystem import has_bit
from wizard.sandbox.fleet.instance import Facts, InstanceState, gather, state_of

STDOUT_LIMIT = 24000
SSM_AGENT_VERSION = "3.3.1142.0"


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


# ---- the mini shell -------------------------------------------------------------------------


class Shell:
    """Interprets one line at a time against a simulated instance."""

    def __init__(self, instance: Any, facts: Facts, st: InstanceState):
        self.instance = instance
        self.facts = facts
        self.st = st
        self.status = 0
        self.user = "root"
        self.stdout: list[str] = []
        self.stderr: list[str] = []

    # helpers
    def out(self, text: str) -> None:
        self.stdout.append(text if text.endswith("\n") or not text else text + "\n")

    def err(self, text: str) -> None:
        self.stderr.append(text if text.endswith("\n") else text + "\n")

    def agent_state(self) -> str:
        return self.st.agent_override or self.facts.agent

    def uid(self, user: str) -> int | None:
        if user not in self.facts.users:
            return None
        if user == "root":
            return 0
        if user == self.facts.default_user:
            return 1000
        others = sorted(u for u in self.facts.users if u not in ("root", self.facts.default_user))
        return 1001 + others.index(user)

    def run(self, script: str) -> int:
        for number, raw in enumerate(script.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            line = line.replace("$?", str(self.status))
            try:
                argv = shlex.split(line)
            except ValueError:
                self.err(f"bash: line {number}: unexpected EOF while looking for matching quote")
                self.status = 2
                continue
            if not argv:
                continue
            self.user = "root"
            if argv[0] == "sudo":
                argv = argv[1:]
                while argv and argv[0].startswith("-"):
                    flag = argv.pop(0)
                    if flag == "-u" and argv:
                        self.user = argv.pop(0)
                if self.user not in self.facts.users:
                    self.err(f"sudo: unknown user {self.user}")
                    self.status = 1
                    continue
                if not argv:
                    self.err("usage: sudo -u user command")
                    self.status = 1
                    continue
            handler = getattr(self, "cmd_" + argv[0].replace("-", "_"), None)
            if argv[0] == "[":
                handler = self.cmd_test
                argv = argv[:-1] if argv[-1] == "]" else argv
            if handler is None:
                self.err(f"bash: line {number}: {argv[0]}: command not found")
                self.status = 127
            else:
                self.status = handler(argv[1:])
        return self.status

    # commands
    def cmd_echo(self, args: list[str]) -> int:
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        text = " ".join(args)
        self.stdout.append(text + ("\n" if newline else ""))
        return 0

    def cmd_true(self, args: list[str]) -> int:
        return 0

    def cmd_false(self, args: list[str]) -> int:
        return 1

    def cmd_whoami(self, args: list[str]) -> int:
        self.out(self.user)
        return 0

    def cmd_getenforce(self, args: list[str]) -> int:
        self.out("Disabled")
        return 0

    def cmd_systemctl(self, args: list[str]) -> int:
        args = [a for a in args if not a.startswith("-")]
        if len(args) < 2:
            self.err("Too few arguments.")
            return 1
        verb, unit = args[0], args[1].removesuffix(".service")
        state = self.agent_state()
        if unit == "amazon-ssm-agent":
            if verb == "is-active":
                self.out("active")
            return 0
        if unit != "codedeploy-agent":
            if verb == "is-active":
                self.out("inactive")
                return 3
            self.err(f"Failed to {verb} {unit}.service: Unit {unit}.service not found.")
            return 5
        if verb == "is-active":
            if state == "running":
                self.out("active")
                return 0
            self.out("inactive")
            return 3
        if verb in ("start", "restart"):
            if state == "absent":
                self.err(f"Failed to {verb} {unit}.service: Unit {unit}.service not found.")
                return 5
            self.st.agent_override = "running"
            return 0
        if verb == "stop":
            if state != "absent":
                self.st.agent_override = "stopped"
            return 0
        if verb == "status":
            if state == "absent":
                self.err(f"Unit {unit}.service could not be found.")
                return 4
            active = "active (running)" if state == "running" else "inactive (dead)"
            self.out(f"● {unit}.service - LSB: AWS CodeDeploy Host Agent\n   Active: {active}")
            return 0 if state == "running" else 3
        self.err(f"Unknown command verb {verb}.")
        return 1

    def _path(self, p: str) -> str:
        return posixpath.normpath(p) if p.startswith("/") else posixpath.normpath("/root/" + p)

    def cmd_cat(self, args: list[str]) -> int:
        status = 0
        for raw in [a for a in args if not a.startswith("-")]:
            path = self._path(raw)
            node = self.st.fs.get(path)
            if node is None:
                self.err(f"cat: {raw}: No such file or directory")
                status = 1
            elif node.kind == "dir":
                self.err(f"cat: {raw}: Is a directory")
                status = 1
            elif path in self.st.logs:
                self.stdout.append("".join(line + "\n" for line in self.st.logs[path]))
            else:
                self.out(node.content)
        return status

    def cmd_stat(self, args: list[str]) -> int:
        fmt = "%n"
        paths = []
        i = 0
        while i < len(args):
            a = args[i]
            if a in ("-c", "--format") and i + 1 < len(args):
                fmt = args[i + 1]
                i += 2
                continue
            if a.startswith("--format="):
                fmt = a.split("=", 1)[1]
            elif a.startswith("-L") or a.startswith("-"):
                pass
            else:
                paths.append(a)
            i += 1
        if not paths:
            self.err("stat: missing operand")
            return 1
        status = 0
        for raw in paths:
            path = self._path(raw)
            node = self.st.fs.get(path)
            if node is None:
                self.err(f"stat: cannot statx '{raw}': No such file or directory")
                status = 1
                continue
            kind = "directory" if node.kind == "dir" else "regular file"
            text = (
                fmt.replace("%U", node.owner)
                .replace("%G", node.group)
                .replace("%a", node.mode.lstrip("0") or "0")
                .replace("%n", raw)
                .replace("%F", kind)
            )
            self.out(text)
        return status

    def cmd_id(self, args: list[str]) -> int:
        flags = [a for a in args if a.startswith("-")]
        users = [a for a in args if not a.startswith("-")]
        user = users[0] if users else "root"
        uid = self.uid(user)
        if uid is None:
            self.err(f"id: '{user}': no such user")
            return 1
        if "-un" in flags or ("-u" in flags and "-n" in flags):
            self.out(user)
        elif "-u" in flags or "-g" in flags:
            self.out(str(uid))
        else:
            self.out(f"uid={uid}({user}) gid={uid}({user}) groups={uid}({user})")
        return 0

    def cmd_ps(self, args: list[str]) -> int:
        if "-C" in args:
            name = args[args.index("-C") + 1] if args.index("-C") + 1 < len(args) else ""
            header = not any(a.startswith("user=") for a in args)
            if header:
                self.out("USER")
            if name == "ruby" and self.agent_state() == "running":
                self.out(self.facts.agent_user)
                return 0
            return 1
        self.out("  PID TTY          TIME CMD")
        return 0

    def cmd_ls(self, args: list[str]) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
        paths = [a for a in args if not a.startswith("-")] or ["/root"]
        status = 0
        for raw in paths:
            path = self._path(raw)
            node = self.st.fs.get(path)
            if node is None:
                self.err(f"ls: cannot access '{raw}': No such file or directory")
                status = 2
                continue
            if node.kind == "file":
                self.out(raw)
                continue
            prefix = path.rstrip("/") + "/"
            names = sorted(
                p[len(prefix) :]
                for p in self.st.fs
                if p.startswith(prefix) and "/" not in p[len(prefix) :] and p != path
            )
            if "a" in flags:
                names = [".", "..", *names]
            if "l" in flags:
                for name in names:
                    child = self.st.fs.get(prefix + name, node)
                    kind = "d" if child.kind == "dir" else "-"
                    self.out(
                        f"{kind}{_rwx(child.mode)} 1 {child.owner} {child.group} 0 "
                        f"Jan  1 00:00 {name}"
                    )
            else:
                for name in names:
                    self.out(name)
        return status

    def cmd_tail(self, args: list[str]) -> int:
        n = 10
        files = []
        i = 0
        while i < len(args):
            a = args[i]
            if a == "-n" and i + 1 < len(args):
                try:
                    n = int(args[i + 1].lstrip("+"))
                except ValueError:
                    self.err(f"tail: invalid number of lines: '{args[i + 1]}'")
                    return 1
                i += 2
                continue
            if a.startswith("-n"):
                n = int(a[2:] or 10)
            elif a.startswith("-") and a[1:].isdigit():
                n = int(a[1:])
            elif not a.startswith("-"):
                files.append(a)
            i += 1
        status = 0
        for raw in files:
            path = self._path(raw)
            node = self.st.fs.get(path)
            if node is None:
                self.err(f"tail: cannot open '{raw}' for reading: No such file or directory")
                status = 1
                continue
            if node.kind == "dir":
                self.err(f"tail: error reading '{raw}': Is a directory")
                status = 1
                continue
            lines = self.st.logs.get(path) or (node.content.splitlines() if node.content else [])
            for line in lines[-n:] if n else []:
                self.out(line)
        return status

    def cmd_test(self, args: list[str]) -> int:
        if len(args) != 2:
            return 2
        flag, raw = args
        node = self.st.fs.get(self._path(raw))
        if flag == "-e":
            return 0 if node else 1
        if flag == "-d":
            return 0 if node and node.kind == "dir" else 1
        if flag == "-f":
            return 0 if node and node.kind == "file" else 1
        if flag in ("-w", "-r", "-x"):
            if node is None:
                return 1
            bit = {"-r": 4, "-w": 2, "-x": 1}[flag]
            return 0 if has_bit(node, self.user, bit) else 1
        return 2


def _rwx(mode: str) -> str:
    out = ""
    for digit in mode[-3:].rjust(3, "0"):
        d = int(digit, 8) if digit.isdigit() else 0
        out += ("r" if d & 4 else "-") + ("w" if d & 2 else "-") + ("x" if d & 1 else "-")
    return out


def execute(
    instance: Any, facts: Facts, document: str, params: dict[str, Any]
) -> tuple[int, str, str]:
    """Run one document on one simulated instance: (exit status, stdout, stderr)."""
    st = state_of(instance, facts)
    shell = Shell(instance, facts, st)
    if document == "AWS-RunShellScript":
        commands = params.get("commands") or []
        script = "\n".join(commands if isinstance(commands, list) else [str(commands)])
        code = shell.run(script)
    elif document == "AWS-ConfigureAWSPackage":
        action = (params.get("action") or [""])[0]
        name = (params.get("name") or [""])[0]
        if name in ("AWSCodeDeployAgent", "AWSCodeDeployAgentV2") and action == "Install":
            st.agent_override = "running"
            facts.agent = "running"
            state_of(instance, facts)
            shell.out(f"Initiating {name} 1.7.1 install\nSuccessfully installed {name} 1.7.1")
            code = 0
        elif action == "Uninstall":
            st.agent_override = "absent"
            shell.out(f"Successfully uninstalled {name}")
            code = 0
        else:
            shell.err(f"Failed to {action} package {name}")
            code = 1
    else:
        shell.err(f"document {document} is not supported by the sandbox")
        code = 1
    return code, "".join(shell.stdout)[:STDOUT_LIMIT], "".join(shell.stderr)[:8000]


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
        command = backend.send_command(
            comment=self._get_param("Comment", ""),
            document_name=document,
            timeout_seconds=self._get_int_param("TimeoutSeconds"),
            instance_ids=list(ids),
            max_concurrency=self._get_param("MaxConcurrency", "50"),
            max_errors=self._get_param("MaxErrors", "0"),
            notification_config=self._get_param("NotificationConfig"),
            output_s3_bucket_name=self._get_param("OutputS3BucketName", ""),
            output_s3_key_prefix=self._get_param("OutputS3KeyPrefix", ""),
            output_s3_region=self._get_param("OutputS3Region", ""),
            parameters=params,
            service_role_arn=self._get_param("ServiceRoleArn", ""),
            targets=self._get_param("Targets", []),
        )
        results = {}
        now = utcnow()
        for inst, facts in checked:
            if document == "AWS-RunPowerShellScript":
                code, out, errs = 1, "", "Windows PowerShell is not available on Linux\n"
            else:
                code, out, errs = execute(inst, facts, document, params)
            results[inst.id] = {
                "code": code,
                "stdout": out,
                "stderr": errs,
                "start": now,
                "end": now,
            }
        if not self._get_param("Targets"):
            # moto adds every instance of the region when Targets is empty
            command.instance_ids = list(dict.fromkeys(checked_ids))
            command.target_count = len(command.instance_ids)
        # instances chosen by Targets (tags): run where SSM is online, else undeliverable
        for iid in command.instance_ids:
            if iid in results:
                continue
            inst = _find_instance(account, region, iid)
            facts = gather(account, region, inst) if inst is not None else None
            if inst is not None and facts is not None and facts.ssm_online:
                code, out, errs = execute(inst, facts, document, params)
                results[iid] = {"code": code, "stdout": out, "stderr": errs}
            else:
                results[iid] = {"code": -1, "stdout": "", "stderr": "", "undeliverable": True}
            results[iid].update(start=now, end=now)
        command._sandbox_results = results
        failed = sum(1 for r in results.values() if r["code"] != 0)
        command.error_count = failed
        command.completed_count = len(results)
        command.status = "Failed" if failed else "Success"
        command.status_details = command.status
    return ActionResult({"Command": command.response_object()})


def _plugin_name(document: str) -> str:
    return {
        "AWS-RunShellScript": "aws:runShellScript",
        "AWS-RunPowerShellScript": "aws:runPowerShellScript",
        "AWS-ConfigureAWSPackage": "configurePackage",
    }.get(document, "aws:runShellScript")


def _invocation(command: Any, instance_id: str) -> dict[str, Any] | None:
    results = getattr(command, "_sandbox_results", None)
    if results is None or instance_id not in results:
        return None
    r = results[instance_id]
    status = "Success" if r["code"] == 0 else "Failed"
    details = "Undeliverable" if r.get("undeliverable") else status
    return {
        "CommandId": command.command_id,
        "InstanceId": instance_id,
        "Comment": command.comment,
        "DocumentName": command.document_name,
        "DocumentVersion": "$DEFAULT",
        "PluginName": _plugin_name(command.document_name),
        "ResponseCode": r["code"],
        "ExecutionStartDateTime": r["start"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "ExecutionElapsedTime": "PT0.01S",
        "ExecutionEndDateTime": r["end"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": r["stdout"],
        "StandardOutputUrl": "",
        "StandardErrorContent": r["stderr"],
        "StandardErrorUrl": "",
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
            }
            if details:
                r = command._sandbox_results[iid]
                output = r["stdout"]
                if r["stderr"]:
                    output += "\n----------ERROR-------\n" + r["stderr"]
                item["CommandPlugins"] = [
                    {
                        "Name": inv["PluginName"],
                        "Status": inv["Status"],
                        "StatusDetails": inv["StatusDetails"],
                        "ResponseCode": r["code"],
                        "ResponseStartDateTime": r["start"],
                        "ResponseFinishDateTime": r["end"],
                        "Output": output[:2500],
                        "StandardOutputUrl": "",
                        "StandardErrorUrl": "",
                        "OutputS3Region": command.backend_region,
                        "OutputS3BucketName": "",
                        "OutputS3KeyPrefix": "",
                    }
                ]
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
    "get_command_invocation": get_command_invocation,
    "list_command_invocations": list_command_invocations,
}


def install() -> None:
    cls = ssm_responses.SimpleSystemManagerResponse
    for name, fn in HANDLERS.items():
        setattr(cls, name, fn)
