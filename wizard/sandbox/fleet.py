"""The simulated fleet: one CodeDeploy agent per emulated EC2 instance.

The agent decides every lifecycle event from real emulated state, the way the 1.x Ruby agent
does on a real instance (reference §3):

- it can only receive lifecycle events when it runs (`sandbox:agent`, default from user data)
  and has credentials: an instance profile whose role trusts `ec2.amazonaws.com`;
- ApplicationStop runs the scripts of the last successful revision of the deployment group on
  that instance;
- DownloadBundle reads the S3 object with the instance role (our IAM evaluation, the bucket
  policy included), from the instance's region, checks the ETag, and unpacks the archive
  (one top-level folder is stripped only when it holds the appspec);
- BeforeInstall parses the appspec with the agent's own rules (not the wizard's validator:
  the agent is lenient where a validator is strict — a misspelt hook name is ignored — and the
  emulator must reach its verdicts independently of the tool it tests);
- Install copies files into a per-instance simulated filesystem (directories and files from
  `sandbox:dir:`/`sandbox:file:` tags, files of earlier deployments), honouring
  file_exists_behavior and the agent user's write permission;
- hook scripts must exist in the bundle; `sandbox:hook:EVENT` makes one fail or time out.

The clock is compressed: an event takes `CLOCK.event` seconds (0.12 s by default,
`CODEDEPLOY_WIZARD_SANDBOX_EVENT_SECONDS` to change it).
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from wizard.sandbox import iam_sim

LOCK = threading.RLock()

EVENTS = (
    "ApplicationStop",
    "DownloadBundle",
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)
SCRIPT_EVENTS = (
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
)
AGENT_LOG = "/var/log/aws/codedeploy-agent/codedeploy-agent.log"
DEPLOYMENTS_LOG = (
    "/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log"
)
DEPLOY_ROOT = "/opt/codedeploy-agent/deployment-root"
AGENT_VERSION_FILE = "/opt/codedeploy-agent/.version"

MSG_AGENT = (
    "CodeDeploy agent was not able to receive the lifecycle event. Check the CodeDeploy agent "
    "logs on your host and make sure the agent is running and can connect to the CodeDeploy "
    "server."
)
MSG_NO_CREDENTIALS = (
    "Missing credentials - please check if this instance was started with an IAM instance profile"
)
MSG_ACCESS_DENIED = "Access Denied"
MSG_NO_KEY = "The specified key does not exist."
MSG_NO_BUCKET = "The specified bucket does not exist"
MSG_REDIRECT = (
    "The bucket you are attempting to access must be addressed using the specified endpoint. "
    "Please send all future requests to this endpoint."
)


@dataclass
class Clock:
    """Compressed time: how long things take in the sandbox, in wall seconds."""

    start_delay: float = 0.25
    event: float = 0.12
    slow_event: float = 0.6  # a script that times out, an agent that never answers

    @classmethod
    def from_env(cls) -> Clock:
        raw = os.environ.get("CODEDEPLOY_WIZARD_SANDBOX_EVENT_SECONDS")
        try:
            event = float(raw) if raw else 0.12
        except ValueError:
            event = 0.12
        event = max(0.0, event)
        return cls(start_delay=max(0.05, 2 * event), event=event, slow_event=5 * event)


CLOCK = Clock.from_env()


# ---- per-instance state ----------------------------------------------------------------


@dataclass
class Node:
    kind: str  # "file" | "dir"
    owner: str = "root"
    group: str = "root"
    mode: str = "755"
    origin: str = "os"  # os | tag | deploy:<group id> | agent
    content: str = ""


@dataclass
class GroupRecord:
    """What the agent remembers of the last successful install for a deployment group."""

    deployment_id: str
    hooks: dict[str, Any]
    bundle_files: frozenset[str]
    installed: list[str]
    root_dir: str


@dataclass
class InstanceState:
    fs: dict[str, Node] = field(default_factory=dict)
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    logs: dict[str, list[str]] = field(default_factory=dict)
    agent_override: str | None = None  # set by Run Command (install/start/stop the agent)

    def log(self, path: str, line: str) -> None:
        self.logs.setdefault(path, []).append(line)
        parent = posixpath.dirname(path)
        ensure_dirs(self.fs, parent, "root", "root", "755", "agent")
        self.fs.setdefault(path, Node("file", "root", "root", "644", "agent"))


def ensure_dirs(fs: dict[str, Node], path: str, owner: str, group: str, mode: str, origin: str):
    parts = [p for p in path.split("/") if p]
    cur = ""
    for part in parts:
        cur += "/" + part
        if cur not in fs:
            fs[cur] = Node("dir", owner, group, mode, origin)


BASE_DIRS = [
    "/etc",
    "/home",
    "/opt",
    "/root",
    "/srv",
    "/tmp",
    "/usr",
    "/usr/local",
    "/var",
    "/var/log",
    "/var/lib",
    "/var/tmp",
]


@dataclass
class Facts:
    """What the agent sees on one instance, read from EC2/IAM and the `sandbox:` tags."""

    instance_id: str
    account: str
    region: str
    state: str
    tags: dict[str, str]
    default_user: str
    agent: str  # running | stopped | absent
    agent_user: str
    users: set[str]
    profile_arn: str | None
    role_arn: str | None
    credentials: bool
    ssm_online: bool
    ssm_registered: bool
    platform_name: str
    platform_version: str
    private_ip: str


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _iam(account: str) -> Any:
    return iam_sim.iam_backend(account)


def instance_tags(instance: Any) -> dict[str, str]:
    return {t["key"]: t["value"] for t in instance.get_tags()}


def _user_data(instance: Any) -> str:
    data = getattr(instance, "user_data", None)
    if isinstance(data, list):
        data = data[0] if data else None
    if data is None:
        return ""
    try:
        if hasattr(data, "decode") and not isinstance(data, (bytes, str)):
            return data.decode()
        if isinstance(data, bytes):
            return data.decode(errors="replace")
        import base64

        return base64.b64decode(str(data)).decode(errors="replace")
    except Exception:
        return str(data)


def installs_agent(user_data: str) -> bool:
    """Does this user data install the CodeDeploy agent (install script or SSM package)?"""
    text = user_data.lower()
    return any(
        marker in text for marker in ("aws-codedeploy-", "codedeploy-agent", "awscodedeployagent")
    )


def _ami_user(ec2: Any, image_id: str) -> tuple[str, str, str]:
    name = ""
    try:
        name = (ec2.amis.get(image_id).name or "").lower()  # type: ignore[union-attr]
    except Exception:
        name = ""
    if "ubuntu" in name:
        return "ubuntu", "Ubuntu", "24.04"
    return "ec2-user", "Amazon Linux", "2023"


SSM_POLICY_NAMES = ("AmazonSSMManagedInstanceCore", "AmazonEC2RoleforSSM")


def gather(account: str, region: str, instance: Any) -> Facts:
    """Read one instance's facts from the moto backends (no side effects)."""
    ec2 = _ec2(account, region)
    tags = instance_tags(instance)
    default_user, platform_name, platform_version = _ami_user(ec2, instance.image_id)
    agent = tags.get("sandbox:agent", "").strip().lower()
    if agent not in ("running", "stopped", "absent"):
        agent = "running" if installs_agent(_user_data(instance)) else "absent"
    override = getattr(getattr(instance, "_sandbox_state", None), "agent_override", None)
    if override:
        agent = override
    users = {"root", default_user}
    users |= {u.strip() for u in tags.get("sandbox:users", "").split(",") if u.strip()}
    agent_user = tags.get("sandbox:agent-user", "").strip() or "root"
    users.add(agent_user)  # the agent runs as this user, so it exists
    profile_arn = None
    prof = getattr(instance, "iam_instance_profile", None)
    if isinstance(prof, dict):
        profile_arn = prof.get("Arn")
    role_arn = None
    credentials = False
    has_ssm_policy = False
    if profile_arn:
        iam = _iam(account)
        try:
            profile = iam.get_instance_profile_by_arn(profile_arn)
        except Exception:
            profile = None
        if profile is not None and profile.roles:
            role = profile.roles[0]
            role_arn = role.arn
            credentials = iam_sim.trusts(role.assume_role_policy_document, "ec2.amazonaws.com")
            has_ssm_policy = any(
                arn.rsplit("/", 1)[-1] in SSM_POLICY_NAMES for arn in role.managed_policies
            )
    ssm_tag = tags.get("sandbox:ssm", "").strip().lower()
    ssm_registered = has_ssm_policy and credentials
    if ssm_tag == "online":
        ssm_online, ssm_registered = True, True
    elif ssm_tag == "offline":
        ssm_online = False
    else:
        ssm_online = ssm_registered
    return Facts(
        instance_id=instance.id,
        account=account,
        region=region,
        state=instance.state,
        tags=tags,
        default_user=default_user,
        agent=agent,
        agent_user=agent_user,
        users=users,
        profile_arn=profile_arn,
        role_arn=role_arn,
        credentials=credentials,
        ssm_online=ssm_online and instance.state == "running",
        ssm_registered=ssm_registered,
        platform_name=platform_name,
        platform_version=platform_version,
        private_ip=getattr(instance, "private_ip", "") or "",
    )


def state_of(instance: Any, facts: Facts) -> InstanceState:
    """The instance's simulated OS state, created on first use, `sandbox:` tags re-applied."""
    with LOCK:
        st = getattr(instance, "_sandbox_state", None)
        if st is None:
            st = InstanceState()
            fs = st.fs
            fs["/"] = Node("dir")
            for d in BASE_DIRS:
                fs[d] = Node("dir", mode="1777" if d in ("/tmp", "/var/tmp") else "755")
            fs["/root"].mode = "550"
            home = f"/home/{facts.default_user}"
            fs[home] = Node("dir", facts.default_user, facts.default_user, "700")
            instance._sandbox_state = st
        _apply_tags(st, facts)
        _agent_files(st, facts)
        return st


def _apply_tags(st: InstanceState, facts: Facts) -> None:
    wanted: dict[str, Node] = {}
    for key, value in facts.tags.items():
        for prefix, kind in (("sandbox:dir:", "dir"), ("sandbox:file:", "file")):
            if key.startswith(prefix):
                path = posixpath.normpath("/" + key[len(prefix) :].lstrip("/"))
                parts = [*value.split(":"), "", "", ""][:3]
                owner = parts[0] or "root"
                group = parts[1] or owner
                mode = parts[2] or ("755" if kind == "dir" else "644")
                wanted[path] = Node(kind, owner, group, mode, "tag")
    for path, node in list(st.fs.items()):
        if node.origin == "tag" and path not in wanted:
            del st.fs[path]
    for path, node in wanted.items():
        ensure_dirs(st.fs, posixpath.dirname(path), "root", "root", "755", "os")
        st.fs[path] = node


def _agent_files(st: InstanceState, facts: Facts) -> None:
    if facts.agent == "absent":
        return
    ensure_dirs(st.fs, DEPLOY_ROOT, "root", "root", "755", "agent")
    ensure_dirs(st.fs, "/etc/codedeploy-agent/conf", "root", "root", "755", "agent")
    if AGENT_VERSION_FILE not in st.fs:
        kind = "deb" if facts.default_user == "ubuntu" else "rpm"
        st.fs[AGENT_VERSION_FILE] = Node(
            "file", "root", "root", "644", "agent", f"OFFICIAL_1.7.1-110_{kind}"
        )
    if AGENT_LOG not in st.logs:
        st.log(
            AGENT_LOG,
            f"{_ts(datetime.now(timezone.utc))} INFO  [codedeploy-agent(1)]: "
            "master 1: Spawned child 1/1",
        )


def _ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S")


# ---- file permissions --------------------------------------------------------------------


def has_bit(node: Node, user: str, bit: int) -> bool:
    """Does `user` have permission `bit` (4 read, 2 write, 1 search/execute) on `node`?"""
    try:
        owner_bits, group_bits, other_bits = (int(d, 8) for d in node.mode[-3:].rjust(3, "0"))
    except ValueError:
        return False
    if user == "root":  # root may read and write anything, and run what anyone may run
        return bit != 1 or node.kind == "dir" or bool((owner_bits | group_bits | other_bits) & 1)
    if node.owner == user:
        bits = owner_bits
    elif node.group == user:
        bits = group_bits
    else:
        bits = other_bits
    return bool(bits & bit)


def can_write(node: Node, user: str) -> bool:
    """May `user` create entries in directory `node` (write + search)?"""
    if user == "root":
        return True
    try:
        digits = node.mode[-3:].rjust(3, "0")
        owner_bits, group_bits, other_bits = (int(d, 8) for d in digits)
    except ValueError:
        return False
    if node.owner == user:
        bits = owner_bits
    elif node.group == user:
        bits = group_bits
    else:
        bits = other_bits
    return bits & 0o3 == 0o3


def nearest_existing(fs: dict[str, Node], path: str) -> str:
    cur = path
    while cur not in fs and cur != "/":
        cur = posixpath.dirname(cur)
    return cur


# ---- the revision ------------------------------------------------------------------------


@dataclass
class Bundle:
    """An unpacked revision: file paths (relative, after stripping) and their text."""

    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    error: str | None = None

    def is_dir(self, rel: str) -> bool:
        return rel in ("", ".") or rel in self.dirs

    def walk(self, rel: str) -> list[str]:
        """Files under a directory (relative paths), sorted."""
        if rel in ("", "."):
            return sorted(self.files)
        prefix = rel.rstrip("/") + "/"
        return sorted(f for f in self.files if f.startswith(prefix))


def _norm_rel(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return posixpath.normpath(name.lstrip("/")) if name.strip("/") else ""


def unpack(data: bytes, bundle_type: str) -> Bundle:
    """Unpack like the agent: zip, tar, tgz; strip one top-level folder holding the appspec."""
    entries: dict[str, bytes] = {}
    dirs: set[str] = set()
    kind = (bundle_type or "zip").lower()
    try:
        if kind == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    rel = _norm_rel(info.filename)
                    if not rel:
                        continue
                    if info.is_dir():
                        dirs.add(rel)
                    else:
                        entries[rel] = zf.read(info)[:65536]
        elif kind in ("tar", "tgz"):
            mode = "r:gz" if kind == "tgz" else "r:"
            with tarfile.open(fileobj=io.BytesIO(data), mode=mode) as tf:
                for member in tf.getmembers():
                    rel = _norm_rel(member.name)
                    if not rel:
                        continue
                    if member.isdir():
                        dirs.add(rel)
                    elif member.isfile():
                        fh = tf.extractfile(member)
                        entries[rel] = fh.read(65536) if fh else b""
        else:
            return Bundle(error=f"Unsupported bundle type: {bundle_type}")
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        label = "zip" if kind == "zip" else "tar"
        return Bundle(error=f"Error extracting {label} archive: {exc}")
    for rel in list(entries):
        parent = posixpath.dirname(rel)
        while parent:
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    top = {p.split("/", 1)[0] for p in list(entries) + list(dirs)}
    if len(top) == 1:
        (only,) = top
        if only in dirs:
            children = {
                p[len(only) + 1 :].split("/", 1)[0]
                for p in list(entries) + list(dirs)
                if p.startswith(only + "/")
            }
            if any("appspec" in c.lower() for c in children):
                cut = len(only) + 1
                entries = {p[cut:]: v for p, v in entries.items() if p.startswith(only + "/")}
                dirs = {p[cut:] for p in dirs if p.startswith(only + "/")}
    return Bundle(files=entries, dirs=dirs)


# ---- appspec: the agent's rules --------------------------------------------------------


class AppSpecError(Exception):
    """The agent rejected the appspec (message as the agent words it)."""


@dataclass
class AppSpec:
    os: str
    files: list[tuple[str, str]]
    permissions: list[dict[str, Any]]
    hooks: dict[str, list[dict[str, Any]]]
    file_exists_behavior: str | None


def parse_appspec(text: str, instance_os: str = "linux") -> AppSpec:
    """Parse and check an appspec the way the 1.x agent does (lenient where it is lenient)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{problem} {context}" if context else problem
        raise AppSpecError(f"(<unknown>): {detail}{where}") from None
    if data is None or isinstance(data, (str, int, float)):
        raise AppSpecError("undefined method `[]' for nil:NilClass")
    if not isinstance(data, dict):
        raise AppSpecError("no implicit conversion of String into Integer")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, (int, float)) or version != 0:
        shown = "" if version is None else version
        raise AppSpecError(
            f"The deployment failed because an invalid version value ({shown}) was entered in "
            'the application specification file. Make sure your AppSpec file specifies "0.0" '
            "as the version, and then try again."
        )
    os_name = data.get("os")
    if os_name not in ("linux", "windows") or os_name != instance_os:
        raise AppSpecError(
            "The deployment failed because the application specification file specifies an "
            f"unsupported operating system ({'' if os_name is None else os_name}). Specify "
            'either "linux" or "windows" in the os section of the AppSpec file, and then try '
            "again."
        )
    hooks: dict[str, list[dict[str, Any]]] = {}
    raw_hooks = data.get("hooks") or {}
    if not isinstance(raw_hooks, dict):
        raise AppSpecError(f"undefined method `each_pair' for {type(raw_hooks).__name__}")
    for event, scripts in raw_hooks.items():
        current = []
        for script in scripts or []:
            if (
                not isinstance(script, dict)
                or script.get("location") is None
                or not str(script.get("location")).strip()
            ):
                raise AppSpecError(
                    "The deployment failed because the application specification file "
                    "specifies a script with no location value. Specify the location in the "
                    "hooks section of the AppSpec file, and then try again."
                )
            timeout = script.get("timeout") or 3600
            try:
                timeout = int(str(timeout).strip().split(".")[0])
            except ValueError:
                timeout = 0
            if timeout <= 0:
                raise AppSpecError(
                    "The deployment failed because an invalid timeout value was provided for a "
                    "script in the application specification file. Make corrections in the hooks "
                    "section of the AppSpec file, and then try again."
                )
            runas = script.get("runas")
            current.append(
                {
                    "location": str(script["location"]).strip(),
                    "timeout": timeout,
                    "runas": None if runas is None else str(runas).strip(),
                }
            )
        hooks[str(event)] = current
    files = []
    for mapping in data.get("files") or []:
        if not isinstance(mapping, dict):
            raise AppSpecError("no implicit conversion of String into Integer")
        src, dst = mapping.get("source"), mapping.get("destination")
        if src is None or str(src) == "":
            raise AppSpecError(
                "The deployment failed because the application specification file specifies "
                "a file with no source value. Update the files section of the AppSpec file, "
                "and then try again."
            )
        if dst is None or str(dst) == "":
            raise AppSpecError(
                "The deployment failed because the application specification file specifies "
                "a file with no destination value. Update the files section of the AppSpec "
                "file, and then try again."
            )
        files.append((str(src), str(dst)))
    permissions = []
    for perm in data.get("permissions") or []:
        if not isinstance(perm, dict) or perm.get("object") is None:
            raise AppSpecError(
                "The deployment failed because a permission listed in the application "
                "specification file has no object value. Update the permissions section of the "
                "AppSpec file, and then try again."
            )
        for kind in perm.get("type") or ["file", "directory"]:
            if kind not in ("file", "directory"):
                raise AppSpecError(
                    "The deployment failed because the application specification file "
                    "specifies a permission for an object type not supported for permissions "
                    f"({kind}). Update the permissions section of the AppSpec file, and then try "
                    "again."
                )
        permissions.append(perm)
    feb = data.get("file_exists_behavior")
    if feb is not None and str(feb).upper() not in ("DISALLOW", "OVERWRITE", "RETAIN"):
        raise AppSpecError(
            "The deployment failed because an invalid option was specified for "
            f"fileExistsBehavior: {feb}. Valid options include OVERWRITE, RETAIN, and DISALLOW."
        )
    return AppSpec(
        os=str(os_name),
        files=files,
        permissions=permissions,
        hooks=hooks,
        file_exists_behavior=str(feb).upper() if feb is not None else None,
    )


def find_appspec(bundle: Bundle) -> str | None:
    for name in ("appspec.yml", "appspec.yaml"):
        if name in bundle.files:
            return name
    return None


# ---- one target's run --------------------------------------------------------------------


@dataclass
class EventOutcome:
    name: str
    duration: float
    status: str  # Succeeded | Failed | Skipped
    diagnostics: dict[str, str] | None = None


@dataclass
class TargetOutcome:
    events: list[EventOutcome]
    status: str  # Succeeded | Failed
    effects: list[Any] = field(default_factory=list)  # callables applied when the target ends


def _diag(code: str, message: str, script: str = "", log: str = "") -> dict[str, str]:
    return {"errorCode": code, "scriptName": script, "message": message, "logTail": log[-2048:]}


def _ok(log: str = "") -> dict[str, str]:
    return _diag("Success", "Succeeded", "", log)


@dataclass
class DeploymentContext:
    """Everything about one deployment the agents share (computed once per deployment)."""

    account: str
    region: str
    deployment_id: str
    group_id: str
    application: str
    group_name: str
    revision: dict[str, Any]
    file_exists_behavior: str | None
    ignore_stop_failures: bool
    started: datetime
    _bundle: Bundle | None = None
    _object: Any = None
    _object_error: str | None = None
    _decisions: dict[tuple[str, str, str], bool] = field(default_factory=dict)

    @property
    def root_dir(self) -> str:
        return f"{DEPLOY_ROOT}/{self.group_id}/{self.deployment_id}"


def _parse_hook_tag(value: str) -> tuple[str, int, str]:
    """`exit=N` | `timeout`, optional `;log=TEXT` -> (kind, code, log)."""
    kind, code, log = "exit", 1, ""
    for part in value.split(";"):
        part = part.strip()
        if part.startswith("log="):
            log = part[4:]
        elif part == "timeout":
            kind = "timeout"
        elif part.startswith("exit="):
            try:
                code = int(part[5:])
            except ValueError:
                code = 1
    return kind, code, log


def run_scripts(
    event: str,
    hooks: dict[str, list[dict[str, Any]]],
    bundle_files: frozenset[str] | set[str],
    facts: Facts,
    st: InstanceState,
    ctx: DeploymentContext,
    at: datetime,
    root_dir: str | None = None,
) -> EventOutcome:
    """Run the hook scripts of one event; the result as CodeDeploy reports it.

    `root_dir` is the deployment directory the scripts run from (ApplicationStop: the last
    successful deployment's), where scripts.log is written.
    """
    scripts = hooks.get(event) or []
    if not scripts:
        return EventOutcome(event, CLOCK.event, "Succeeded", _ok())
    log: list[str] = [f"LifecycleEvent - {event}\n"]
    forced = facts.tags.get(f"sandbox:hook:{event}")
    scripts_log = f"{root_dir or ctx.root_dir}/logs/scripts.log"
    duration = CLOCK.event
    outcome: EventOutcome | None = None
    for index, script in enumerate(scripts):
        location = script["location"]
        rel = _norm_rel(location)
        if rel not in bundle_files:
            outcome = EventOutcome(
                event,
                duration,
                "Failed",
                _diag(
                    "ScriptMissing",
                    f"Script does not exist at specified location: {location}",
                    location,
                    "".join(log),
                ),
            )
            break
        log.append(f"Script - {location}\n")
        runas = script.get("runas")
        if runas and facts.agent_user != "root":
            log.append("[stderr]su: must be run from a terminal\n")
            code = 1
        elif runas and runas not in facts.users:
            log.append(f"[stderr]su: user {runas} does not exist\n")
            code = 1
        elif forced and index == 0:
            kind, code, text = _parse_hook_tag(forced)
            stream = "[stdout]" if kind == "timeout" else "[stderr]"
            for line in text.split("\\n") if text else []:
                log.append(f"{stream}{line}\n")
            if kind == "timeout":
                duration = CLOCK.slow_event
                outcome = EventOutcome(
                    event,
                    duration,
                    "Failed",
                    _diag(
                        "ScriptTimedOut",
                        f"Script at specified location: {location} failed to complete in "
                        f"{script['timeout']} seconds",
                        location,
                        "".join(log),
                    ),
                )
                break
        else:
            code = 0
        if code != 0:
            what = f"Script at specified location: {location}"
            if runas:
                what += f" run as user {runas}"
            outcome = EventOutcome(
                event,
                duration,
                "Failed",
                _diag(
                    "ScriptFailed", f"{what} failed with exit code {code}", location, "".join(log)
                ),
            )
            break
    stamp = at.strftime("%Y-%m-%d %H:%M:%S")
    for line in log:
        st.log(scripts_log, f"{stamp} {line.rstrip(chr(10))}")
    if outcome is None:
        outcome = EventOutcome(event, duration, "Succeeded", _ok("".join(log)))
    return outcome


def _allowed(
    ctx: DeploymentContext, role_arn: str, action: str, resource: str, policy: Any
) -> bool:
    key = (role_arn, action, resource)
    if key not in ctx._decisions:
        try:
            ctx._decisions[key] = iam_sim.role_allows(
                ctx.account, role_arn, action, resource, resource_policy=policy
            ).allowed
        except iam_sim.NoSuchEntity:
            ctx._decisions[key] = False
    return ctx._decisions[key]


def download(ctx: DeploymentContext, facts: Facts) -> tuple[str | None, Bundle | None]:
    """DownloadBundle: the error message the agent would report, or the unpacked bundle."""
    from moto.s3.models import s3_backends

    rev = ctx.revision or {}
    if rev.get("revisionType", "S3") != "S3" or not rev.get("s3Location"):
        return f"Unsupported revision type {rev.get('revisionType')!r} in the sandbox", None
    loc = rev["s3Location"]
    bucket_name, key = loc.get("bucket", ""), loc.get("key", "")
    version = loc.get("version")
    s3 = s3_backends[ctx.account]["aws"]
    bucket = s3.buckets.get(bucket_name)
    if bucket is None:
        return MSG_NO_BUCKET, None
    if getattr(bucket, "region_name", ctx.region) != facts.region:
        return MSG_REDIRECT, None
    policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    resource = f"arn:aws:s3:::{bucket_name}/{key}"
    action = "s3:GetObjectVersion" if version else "s3:GetObject"
    assert facts.role_arn
    if not _allowed(ctx, facts.role_arn, action, resource, policy):
        return MSG_ACCESS_DENIED, None
    if ctx._object is None and ctx._object_error is None:
        try:
            obj = s3.get_object(bucket_name, key, version_id=version)
        except Exception:
            obj = None
        if obj is None:
            ctx._object_error = "missing"
        else:
            ctx._object = obj
    if ctx._object is None:
        if _allowed(ctx, facts.role_arn, "s3:ListBucket", f"arn:aws:s3:::{bucket_name}", policy):
            return MSG_NO_KEY, None
        return MSG_ACCESS_DENIED, None
    if not _kms_readable(ctx, facts, ctx._object):
        return MSG_ACCESS_DENIED, None
    etag = loc.get("eTag")
    actual = ctx._object.etag
    if etag and etag.strip('"') != actual.strip('"'):
        return f"Expected deployment artifact bundle etag {etag} but was actually {actual}", None
    if ctx._bundle is None:
        ctx._bundle = unpack(ctx._object.value, loc.get("bundleType") or "zip")
    if ctx._bundle.error:
        return ctx._bundle.error, None
    return None, ctx._bundle


def _kms_readable(ctx: DeploymentContext, facts: Facts, obj: Any) -> bool:
    """SSE-KMS with a customer key: the role needs kms:Decrypt (identity and key policy)."""
    if getattr(obj, "encryption", None) != "aws:kms":
        return True
    key_id = getattr(obj, "kms_key_id", None)
    if not key_id or "alias/aws/s3" in str(key_id):
        return True  # the AWS managed key serves every principal allowed to use S3
    try:
        from moto.kms.models import kms_backends

        key = kms_backends[ctx.account][ctx.region].describe_key(str(key_id))
    except Exception:
        return False
    assert facts.role_arn
    return _allowed(ctx, facts.role_arn, "kms:Decrypt", key.arn, key.policy)


def _copy_plan(
    spec: AppSpec, bundle: Bundle, ctx: DeploymentContext
) -> tuple[list[tuple[str, str]], list[str]]:
    """(file copies [(dest, src_rel)], directories to create) from the appspec's files."""
    copies: list[tuple[str, str]] = []
    mkdirs: list[str] = []
    for src, dst in spec.files:
        rel = _norm_rel(src)
        dst = posixpath.normpath(dst)
        if bundle.is_dir(rel):
            mkdirs.append(dst)
            base = rel if rel not in ("", ".") else ""
            for f in bundle.walk(base):
                tail = f[len(base) + 1 :] if base else f
                copies.append((posixpath.join(dst, tail), f))
        else:
            copies.append((posixpath.join(dst, posixpath.basename(rel)), rel))
    return copies, mkdirs


def install(
    spec: AppSpec, bundle: Bundle, facts: Facts, st: InstanceState, ctx: DeploymentContext
) -> tuple[str | None, list[str], Any]:
    """Install: the error message, the installed paths, and the effect to apply at the end."""
    behavior = (spec.file_exists_behavior or ctx.file_exists_behavior or "DISALLOW").upper()
    record = st.groups.get(ctx.group_id)
    previous = set(record.installed) if record else set()
    # the agent first removes what the last install of this group put there
    fs = {p: n for p, n in st.fs.items() if p not in previous or n.kind == "dir"}
    copies, mkdirs = _copy_plan(spec, bundle, ctx)
    user = facts.agent_user
    planned: dict[str, Node] = {}
    for dst, rel in copies:
        if rel not in bundle.files:
            return (
                f"No such file or directory @ rb_sysopen - {ctx.root_dir}/deployment-archive/{rel}",
                [],
                None,
            )
        existing = fs.get(dst)
        if existing is not None and existing.kind == "file":
            if behavior == "DISALLOW":
                return (
                    "The deployment failed because a specified file already exists at this "
                    f"location: {dst}",
                    [],
                    None,
                )
            if behavior == "RETAIN":
                continue
    for path in mkdirs + [posixpath.dirname(d) for d, _ in copies]:
        missing = []
        cur = path
        while cur not in fs and cur not in planned and cur != "/":
            missing.append(cur)
            cur = posixpath.dirname(cur)
        for d in reversed(missing):
            parent = posixpath.dirname(d)
            pnode = planned.get(parent) or fs.get(parent)
            if pnode is None or pnode.kind != "dir" or not can_write(pnode, user):
                return f"Permission denied @ dir_s_mkdir - {d}", [], None
            planned[d] = Node("dir", user, user, "755", f"deploy:{ctx.group_id}")
    installed: list[str] = []
    for dst, rel in copies:
        existing = fs.get(dst)
        if existing is not None and existing.kind == "file" and behavior == "RETAIN":
            continue
        parent = posixpath.dirname(dst)
        pnode = planned.get(parent) or fs.get(parent)
        if pnode is None or pnode.kind != "dir" or not can_write(pnode, user):
            return f"Permission denied @ rb_sysopen - {dst}", [], None
        data = bundle.files.get(rel, b"")
        mode = "755" if data.startswith(b"#!") else "644"
        text = data.decode("utf-8", errors="replace") if len(data) <= 16384 else ""
        planned[dst] = Node("file", user, user, mode, f"deploy:{ctx.group_id}", text)
        installed.append(dst)
    for perm in spec.permissions:
        owner, group = perm.get("owner"), perm.get("group")
        if owner is not None and str(owner) not in facts.users:
            return f"can't find user for {owner}", [], None
        types = perm.get("type") or ["file", "directory"]
        obj = posixpath.normpath(str(perm["object"]))
        for path, node in planned.items():
            if not (path == obj or path.startswith(obj.rstrip("/") + "/")):
                continue
            if ("directory" if node.kind == "dir" else "file") not in types:
                continue
            if owner is not None:
                node.owner = str(owner)
            if group is not None:
                node.group = str(group)
            if perm.get("mode") is not None:
                node.mode = str(perm["mode"])

    def effect() -> None:
        for p in previous:
            node = st.fs.get(p)
            if node is not None and node.kind == "file" and node.origin == f"deploy:{ctx.group_id}":
                del st.fs[p]
        for p, node in planned.items():
            st.fs[p] = node

    return None, installed, effect


def plan_target(ctx: DeploymentContext, instance: Any) -> TargetOutcome:
    """Decide every lifecycle event of one target from the emulated state right now."""
    facts = gather(ctx.account, ctx.region, instance)
    st = state_of(instance, facts)
    events: list[EventOutcome] = []
    at = ctx.started

    def finish(status: str, effects: list[Any]) -> TargetOutcome:
        done = {e.name for e in events}
        for name in EVENTS:
            if name not in done:
                events.append(EventOutcome(name, 0.0, "Skipped", None))
        if facts.agent == "running" and facts.credentials:
            _agent_log(st, ctx, events)
        return TargetOutcome(events, status, effects)

    if facts.agent != "running" or not facts.credentials:
        if facts.agent == "running" and not facts.credentials:
            st.log(
                AGENT_LOG,
                f"{_ts(at)} ERROR [codedeploy-agent(1)]: InstanceAgent::Plugins::"
                f"CodeDeployPlugin::CommandPoller: {MSG_NO_CREDENTIALS}",
            )
        events.append(
            EventOutcome(EVENTS[0], CLOCK.slow_event, "Failed", _diag("UnknownError", MSG_AGENT))
        )
        return finish("Failed", [])
    st.log(
        AGENT_LOG,
        f"{_ts(at)} INFO  [codedeploy-agent(1)]: InstanceAgent::Plugins::"
        f"CodeDeployPlugin::CommandPoller: Received command for deployment {ctx.deployment_id}",
    )

    # ApplicationStop: from the last successful revision of this group
    record = st.groups.get(ctx.group_id)
    if record is not None:
        stop = run_scripts(
            "ApplicationStop",
            record.hooks,
            record.bundle_files,
            facts,
            st,
            ctx,
            at,
            record.root_dir,
        )
    else:
        stop = EventOutcome("ApplicationStop", CLOCK.event, "Succeeded", _ok())
    if stop.status == "Failed" and ctx.ignore_stop_failures:
        stop.status = "Succeeded"
    events.append(stop)
    if stop.status == "Failed":
        return finish("Failed", [])

    error, bundle = download(ctx, facts)
    if error is not None or bundle is None:
        events.append(
            EventOutcome(
                "DownloadBundle", CLOCK.event, "Failed", _diag("UnknownError", error or "")
            )
        )
        return finish("Failed", [])
    events.append(EventOutcome("DownloadBundle", CLOCK.event, "Succeeded", _ok()))

    name = find_appspec(bundle)
    if name is None:
        archive = f"{ctx.root_dir}/deployment-archive"
        message = (
            "The CodeDeploy agent did not find an AppSpec file within the unpacked revision "
            'directory at revision-relative path "appspec.yml". The revision was unpacked to '
            f'directory "{archive}", and the AppSpec file was expected but not found at path '
            f'"{archive}/appspec.yml". Consult the AWS CodeDeploy Appspec documentation for '
            "more information at "
            "http://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file.html"
        )
        events.append(
            EventOutcome("BeforeInstall", CLOCK.event, "Failed", _diag("UnknownError", message))
        )
        return finish("Failed", [])
    try:
        spec = parse_appspec(bundle.files[name].decode("utf-8", errors="replace"))
    except AppSpecError as exc:
        events.append(
            EventOutcome("BeforeInstall", CLOCK.event, "Failed", _diag("UnknownError", str(exc)))
        )
        return finish("Failed", [])
    files = frozenset(bundle.files)
    before = run_scripts("BeforeInstall", spec.hooks, files, facts, st, ctx, at)
    events.append(before)
    if before.status == "Failed":
        return finish("Failed", [])

    error, installed, effect = install(spec, bundle, facts, st, ctx)
    if error is not None:
        events.append(EventOutcome("Install", CLOCK.event, "Failed", _diag("UnknownError", error)))
        return finish("Failed", [])
    events.append(EventOutcome("Install", CLOCK.event, "Succeeded", _ok()))

    def remember() -> None:
        # the agent records the install (cleanup file, "last successful install") when the
        # Install step succeeds, whatever the later hooks do
        st.groups[ctx.group_id] = GroupRecord(
            ctx.deployment_id, spec.hooks, files, installed, ctx.root_dir
        )

    effects = [effect, remember]
    for event in ("AfterInstall", "ApplicationStart", "ValidateService"):
        outcome = run_scripts(event, spec.hooks, files, facts, st, ctx, at)
        events.append(outcome)
        if outcome.status == "Failed":
            return finish("Failed", effects)
    return finish("Succeeded", effects)


def _agent_log(st: InstanceState, ctx: DeploymentContext, events: list[EventOutcome]) -> None:
    """What the agent writes to its own log and the deployments log while it works."""
    offset = 0.0
    prefix = "InstanceAgent::Plugins::CodeDeployPlugin::CommandPoller"
    for ev in events:
        if ev.status == "Skipped":
            continue
        stamp = _ts(ctx.started + timedelta(seconds=offset))
        offset += ev.duration
        st.log(
            DEPLOYMENTS_LOG,
            f"[{stamp}] [{ctx.deployment_id}] LifecycleEvent - {ev.name}: {ev.status}",
        )
        st.log(
            AGENT_LOG,
            f"{stamp} INFO  [codedeploy-agent(1)]: {prefix}: Calling "
            f'PutHostCommandComplete: "{"Failed" if ev.status == "Failed" else "Succeeded"}"',
        )
        if ev.status == "Failed" and ev.diagnostics:
            st.log(
                AGENT_LOG,
                f"{stamp} ERROR [codedeploy-agent(1)]: {prefix}: Error during perform: "
                f"{ev.diagnostics['errorCode']} - {ev.diagnostics['message']}",
            )


def when(ctx: DeploymentContext, offset: float) -> datetime:
    return ctx.started + timedelta(seconds=offset)
