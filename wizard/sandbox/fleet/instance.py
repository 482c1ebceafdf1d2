"""One emulated instance as its agent sees it: facts read from EC2/IAM and the `sandbox:` tags,
and its simulated OS state (filesystem, logs, what each deployment group installed)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from wizard.sandbox import clock, iam_sim
from wizard.sandbox.fleet import firstboot, userdata
from wizard.sandbox.fleet.agent import LATEST, Boot, boot, imds_error, install_agent_files
from wizard.sandbox.fleet.filesystem import Node, ensure_dirs
from wizard.sandbox.fleet.images import IMAGES, OsImage, image_for

if TYPE_CHECKING:
    from wizard.sandbox.fleet.bundle import Bundle


@dataclass
class GroupRecord:
    """What the agent remembers of the last successful install for a deployment group."""

    deployment_id: str
    hooks: dict[str, Any]
    bundle: Bundle  # the revision's files, whose scripts the next deployment's first events run
    installed: list[str]
    root_dir: str


@dataclass
class InstanceState:
    fs: dict[str, Node] = field(default_factory=dict)
    groups: dict[str, GroupRecord] = field(default_factory=dict)
    logs: dict[str, list[str]] = field(default_factory=dict)
    agent_override: str | None = None  # set by Run Command (install/start/stop the agent)
    agent_version_override: tuple[str, str] | None = None  # an install through Run Command
    extra_users: set[str] = field(default_factory=set)  # users added through Run Command

    def log(self, path: str, line: str) -> None:
        self.logs.setdefault(path, []).append(line)
        parent = posixpath.dirname(path)
        ensure_dirs(self.fs, parent, "root", "root", "755", "agent")
        self.fs.setdefault(path, Node("file", "root", "root", "644", "agent"))


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
    agent_ready_in: float = 0.0  # seconds until the agent that user data installs runs
    agent_after_install: str = "running"  # what it is then (failed: it dies at start)
    image: OsImage = IMAGES["al2023"]
    packages: set[str] = field(default_factory=set)  # what the user data installed
    agent_version: str | None = None  # "1.7.1"; None when no agent was ever installed
    agent_build: str | None = None
    ruby: str | None = None
    imds_error: str | None = None  # why the agent cannot read instance metadata
    boot: Boot | None = None  # what the first boot logged

    @property
    def package_type(self) -> str:
        return self.image.package_type


def _ec2(account: str, region: str) -> Any:
    from moto.ec2.models import ec2_backends

    return ec2_backends[account][region]


def _iam(account: str) -> Any:
    return iam_sim.iam_backend(account)


def instance_tags(instance: Any) -> dict[str, str]:
    return {t["key"]: t["value"] for t in instance.get_tags()}


def image_of(ec2: Any, image_id: str) -> OsImage:
    """The OS behind an AMI id (Amazon Linux 2023 when the AMI is unknown)."""
    try:
        name = ec2.amis.get(image_id).name or ""  # type: ignore[union-attr]
    except Exception:
        name = ""
    return image_for(name)


def boot_of(instance: Any, image: OsImage) -> Boot:
    """What the instance's first boot did with the agent (computed once per instance)."""
    cached = getattr(instance, "_sandbox_boot", None)
    if cached is not None and cached[0] == image.key:
        return cached[1]
    launched = getattr(instance, "launch_time", None)
    try:
        when = datetime.fromisoformat(str(launched).replace("Z", "+00:00"))
    except ValueError:
        when = datetime.now(timezone.utc)
    text = userdata.decode(instance)
    result = boot(userdata.parse(text), image, when)
    result.first = firstboot.run(text, image, installs_agent=result.version is not None)
    instance._sandbox_boot = (image.key, result)
    return result


SSM_POLICY_NAMES = ("AmazonSSMManagedInstanceCore", "AmazonEC2RoleforSSM")


def gather(account: str, region: str, instance: Any) -> Facts:
    """Read one instance's facts from the moto backends (no side effects)."""
    ec2 = _ec2(account, region)
    tags = instance_tags(instance)
    image = image_of(ec2, instance.image_id)
    default_user = image.default_user
    age = uptime(instance)
    agent_ready_in = 0.0
    after_install = "running"
    started = boot_of(instance, image)
    agent = started.state
    version, build = started.version, started.build
    first = started.first
    if agent == "running" and first is not None and first.agent_stopped:
        agent = "stopped"  # the user data stopped it after the install
    if agent in ("running", "failed", "stopped") and age < clock.CLOCK.agent_install:
        # cloud-init is still installing it: not there yet (systemctl says inactive)
        after_install = agent
        agent, agent_ready_in = "absent", clock.CLOCK.agent_install - age
    tagged = tags.get("sandbox:agent", "").strip().lower()
    if tagged in ("running", "stopped", "absent"):
        agent, agent_ready_in = tagged, 0.0  # `sandbox:agent` states what APIs cannot show
        if tagged != "absent" and version is None:
            version, build = LATEST
    st = getattr(instance, "_sandbox_state", None)
    if st is not None and st.agent_version_override:
        version, build = st.agent_version_override
    if st is not None and st.agent_override:
        agent, agent_ready_in = st.agent_override, 0.0
    users = {"root", default_user}
    users |= {u.strip() for u in tags.get("sandbox:users", "").split(",") if u.strip()}
    if first is not None:
        users |= first.users
    if st is not None:
        users |= st.extra_users
    agent_user = (
        tags.get("sandbox:agent-user", "").strip()
        or (first.agent_user if first is not None else None)
        or "root"
    )
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
        ssm_registered = ssm_registered and age >= clock.CLOCK.boot  # registers once booted
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
        platform_name=image.platform_name,
        platform_version=image.platform_version,
        private_ip=getattr(instance, "private_ip", "") or "",
        agent_ready_in=agent_ready_in,
        agent_after_install=after_install,
        image=image,
        packages=started.packages,
        agent_version=version if agent != "absent" else None,
        agent_build=build if agent != "absent" else None,
        ruby=started.ruby,
        imds_error=imds_error(version, getattr(instance, "metadata_options", None)),
        boot=started,
    )


def uptime(instance: Any) -> float:
    """Seconds since the instance was launched (moto keeps `launch_time` as naive UTC)."""
    from datetime import datetime, timezone

    launched = getattr(instance, "launch_time", None)
    if not isinstance(launched, datetime):
        return float("inf")
    if launched.tzinfo is not None:
        launched = launched.astimezone(timezone.utc).replace(tzinfo=None)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    return max(0.0, (now - launched).total_seconds())


def state_of(instance: Any, facts: Facts) -> InstanceState:
    """The instance's simulated OS state, created on first use, `sandbox:` tags re-applied."""
    with clock.LOCK:
        st = getattr(instance, "_sandbox_state", None)
        if st is None:
            st = InstanceState(fs=firstboot.base_fs(facts.image))
            if facts.boot is not None and facts.boot.first is not None:
                facts.boot.first.apply(st.fs)
            for path, lines in (facts.boot.logs if facts.boot else {}).items():
                for line in lines:
                    st.log(path, line)
            instance._sandbox_state = st
        _apply_tags(st, facts)
        install_agent_files(st, facts)
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
