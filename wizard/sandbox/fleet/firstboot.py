"""The instance's first boot: cloud-init runs the user data, and what it leaves behind counts.

A user-data script (`#!`) is run by `wizard.sandbox.shell` as root on the image's fresh
filesystem, in boot mode: commands the sandbox does not model (package managers, downloads) are
taken to work, and those it does model take effect — `useradd`/`adduser` (OS users), `mkdir`,
`touch`, `echo … > FILE`, `chown`, `chmod` (files and directories the deployment will meet),
`systemctl stop|disable codedeploy-agent` (an installed agent left stopped), and the agent's own
`/etc/init.d/codedeploy-agent`, whose `CODEDEPLOY_USER=""` a `sed -i` can set to run the agent
as another user (the init script starts the agent as that user). So the worlds that once needed
`sandbox:users`, `sandbox:dir:`, `sandbox:file:`, `sandbox:agent-user` or `sandbox:agent=stopped`
can be built from what a user really writes in user data; the tags remain for what was done
some other way.
"""

from __future__ import annotations

import copy
import functools
import io as _io
from dataclasses import dataclass, field
from typing import Any

from wizard.sandbox.fleet.filesystem import BASE_DIRS, Node, ensure_dirs
from wizard.sandbox.fleet.images import OsImage

INIT_SCRIPT = "/etc/init.d/codedeploy-agent"
SCRIPT = "/var/lib/cloud/instance/scripts/part-001"


@dataclass
class FirstBoot:
    """What the user data changed: users, files and directories, the agent's user and state."""

    users: set[str] = field(default_factory=set)
    nodes: dict[str, Node] = field(default_factory=dict)
    agent_user: str | None = None
    agent_stopped: bool = False
    output: list[str] = field(default_factory=list)  # what the script printed (cloud-init log)

    def apply(self, fs: dict[str, Node]) -> None:
        """Put what the boot made into an instance's filesystem (copies: instances differ)."""
        for path, node in sorted(self.nodes.items()):
            ensure_dirs(fs, path.rsplit("/", 1)[0] or "/", "root", "root", "755", "os")
            fs[path] = copy.copy(node)


def base_fs(image: OsImage) -> dict[str, Node]:
    """The image's filesystem before the user data runs."""
    fs = {"/": Node("dir")}
    for d in BASE_DIRS:
        fs[d] = Node("dir", mode="1777" if d in ("/tmp", "/var/tmp") else "755")
    fs["/root"].mode = "550"
    home = f"/home/{image.default_user}"
    fs[home] = Node("dir", image.default_user, image.default_user, "700")
    return fs


class _BootHost:
    """The instance as the boot script meets it (see `wizard.sandbox.shell.Shell`)."""

    def __init__(self, image: OsImage, installs_agent: bool):
        self.image = image
        self.installs_agent = installs_agent
        self.state = "absent"
        self.st = _State(base_fs(image))
        self.facts = _Facts(image)

    def agent_state(self) -> str:
        return self.state

    def set_agent(self, state: str) -> None:
        if self.state != "absent":
            self.state = state

    def agent_broken(self) -> bool:
        return False

    def journal(self, unit: str | None) -> list[str]:
        return []

    def package(self, name: str) -> tuple[str, str] | None:
        return None

    def add_user(self, name: str) -> None:
        self.facts.users.add(name)
        home = f"/home/{name}"
        self.st.fs.setdefault(home, Node("dir", name, name, "700", "shell"))

    def run_installer(self, args: list[str], io: Any) -> int:
        """The agent's `install` script: lays down the service files (`agent.boot` decides
        whether the install itself works)."""
        if not self.installs_agent:
            return 1
        fs = self.st.fs
        ensure_dirs(fs, "/opt/codedeploy-agent/bin", "root", "root", "755", "agent")
        ensure_dirs(fs, "/etc/init.d", "root", "root", "755", "os")
        fs[INIT_SCRIPT] = Node(
            "file",
            "root",
            "root",
            "755",
            "agent",
            'CODEDEPLOY_USER=""\n',
        )
        self.state = "running"
        return 0


@dataclass
class _State:
    fs: dict[str, Node]
    logs: dict[str, list[str]] = field(default_factory=dict)
    agent_override: str | None = None


@dataclass
class _Facts:
    image: OsImage
    users: set[str] = field(default_factory=set)
    default_user: str = ""
    agent_user: str = "root"
    private_ip: str = "172.31.0.1"
    agent_version: str | None = None
    ruby: str | None = None

    def __post_init__(self) -> None:
        self.default_user = self.image.default_user
        self.users |= {"root", self.image.default_user}


def run(text: str, image: OsImage, installs_agent: bool) -> FirstBoot:
    """Run a user-data script the way cloud-init would (nothing when it is not a script).

    A fleet launched together shares one user data: the result is computed once per
    (text, image, agent) and shared (`FirstBoot.apply` copies what it puts on an instance).
    """
    return _run(text, image.key, installs_agent)


@functools.lru_cache(maxsize=256)
def _run(text: str, image_key: str, installs_agent: bool) -> FirstBoot:
    from wizard.sandbox.fleet.images import IMAGES
    from wizard.sandbox.shell import Shell

    image = IMAGES[image_key]
    out = FirstBoot()
    first = text.split("\n", 1)[0]
    if not first.startswith("#!") or "\r" in first:
        return out
    host = _BootHost(image, installs_agent)
    before = {p: copy.copy(n) for p, n in host.st.fs.items()}
    _, stdout, stderr = Shell(host, SCRIPT, dash=False, boot=True).run(text)
    out.output = (stdout + stderr).splitlines()
    out.users = host.facts.users - {"root", image.default_user}
    for path, node in host.st.fs.items():
        old = before.get(path)
        if path == INIT_SCRIPT or path.startswith("/opt/codedeploy-agent"):
            continue
        if old is None or (old.owner, old.group, old.mode, old.content) != (
            node.owner,
            node.group,
            node.mode,
            node.content,
        ):
            node.origin = "os"
            out.nodes[path] = node
    script = host.st.fs.get(INIT_SCRIPT)
    if script is not None:
        for line in _io.StringIO(script.content):
            key, _, value = line.strip().partition("=")
            if key == "CODEDEPLOY_USER" and value.strip('"'):
                out.agent_user = value.strip('"')
    out.agent_stopped = host.state == "stopped"
    return out
