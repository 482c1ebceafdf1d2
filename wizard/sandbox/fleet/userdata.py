"""What an instance's user data does at first boot, as far as the CodeDeploy agent is concerned.

cloud-init runs user data that starts with `#!` as a script (and `#cloud-config` `runcmd`
lines); anything else is not run. From the text the sandbox reads what a real boot would do:
the packages it installs (`yum`/`dnf`/`apt-get`/`apt install`, `amazon-linux-extras install`),
whether it runs the agent installer (`./install auto|rpm|deb`, the `latest/` installer, with
`-v KEY` pinning a release such as `releases/codedeploy-agent-1.1.2-1855.noarch.rpm`), or
installs the agent through SSM Distributor (`AWSCodeDeployAgent`).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

_INSTALL = re.compile(
    r"\b(?:yum|dnf|apt-get|apt|amazon-linux-extras)\b[^\n;&|]*?\binstall\b([^\n;&|]*)"
)
_INSTALLER = re.compile(
    r"(?:^|[\s;&|(])(?:sudo\s+)?(?:\S*/)?install\s+(?P<args>[^\n;&|]*\b(?:auto|rpm|deb|zypper)\b[^\n;&|]*)",
    re.M,
)
_PIN = re.compile(r"(?:-v|--version)(?:\s+|=)(\S+)")
_RELEASE = re.compile(r"codedeploy-agent[-_](\d+(?:\.\d+)+)-(\d+)")
_AGENT_MARKERS = ("aws-codedeploy-", "codedeploy-agent", "awscodedeployagent")


@dataclass
class UserData:
    """The parts of a boot script that decide the agent (empty when nothing runs)."""

    text: str = ""
    runs: bool = False  # cloud-init runs it (a `#!` script or cloud-config)
    packages: set[str] = field(default_factory=set)
    installer: bool = False  # runs the agent's `install` script
    installer_v2: bool = False  # the `latestv2/` installer (agent 2.x, no Ruby)
    pinned: tuple[str, str] | None = None  # (version, build) from `-v releases/…`
    pin_key: str | None = None
    ssm_package: bool = False  # installs AWSCodeDeployAgent through SSM
    mentions_agent: bool = False  # names the agent without installing it (a baked AMI)


def decode(instance: Any) -> str:
    """The instance's user data as text (moto keeps it base64-encoded)."""
    data = getattr(instance, "user_data", None)
    if isinstance(data, list):
        data = data[0] if data else None
    if data is None:
        return ""
    try:
        if isinstance(data, bytes):
            raw = data
        elif hasattr(data, "decode") and not isinstance(data, str):
            return data.decode()
        else:
            raw = base64.b64decode(str(data))
        if raw[:2] == b"\x1f\x8b":  # cloud-init accepts gzip-compressed user data
            import gzip

            raw = gzip.decompress(raw)
        return raw.decode(errors="replace")
    except Exception:
        return str(data)


def parse(text: str) -> UserData:
    """Read a boot script: see the module docstring for what is recognised."""
    out = UserData(text=text)
    head = text.lstrip("\ufeff")
    first = head.split("\n", 1)[0]
    script = first.startswith("#!") and "\r" not in first
    cloud_config = first.strip().lower() == "#cloud-config"
    multipart = first.lower().startswith("content-type: multipart")
    out.runs = script or cloud_config or multipart
    lower = text.lower()
    out.mentions_agent = any(m in lower for m in _AGENT_MARKERS)
    if not out.runs:
        return out
    for match in _INSTALL.finditer(text):
        for word in match.group(1).split():
            if not word.startswith("-"):
                out.packages.add(word.strip("'\"").lower())
    out.ssm_package = "awscodedeployagent" in lower
    if "aws-codedeploy-" in lower or "/install" in lower:
        for match in _INSTALLER.finditer(text):
            out.installer = True
            pin = _PIN.search(match.group("args"))
            if pin:
                out.pin_key = pin.group(1).strip("'\"")
                release = _RELEASE.search(out.pin_key)
                if release:
                    out.pinned = (release.group(1), release.group(2))
    out.installer_v2 = out.installer and "latestv2/" in lower
    return out
