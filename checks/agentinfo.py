"""What the CodeDeploy agent needs from its instance: versions, the OS's Ruby, IMDSv2.

Facts (cited where they come from):

- IMDSv2: the agent reads its region and credentials from the instance metadata service; token
  (IMDSv2) support arrived with agent 1.2.1 (aws-codedeploy-agent commits "[IMDSv2 support] Update
  agent code to use IMDSv2" and "[Agent 1.2.1] Add fallback to IMDSv1", September 2020). An older
  agent on an instance with `MetadataOptions.HttpTokens=required` gets HTTP 401 and never polls.
- Ruby: the 1.x agent runs on the OS's Ruby. `bin/install`'s `supported_ruby_versions` tops out at
  2.7 up to 1.4.0; 1.5.0 adds 3.0 (release notes: "Added: Support for Ruby 3 / Ubuntu 22.04");
  1.6.0 adds 3.1 and 3.2, and 1.7.0 supports them on Ubuntu ("Added: Support for Ruby versions 3.1
  and 3.2 on Ubuntu").
- The version file `/opt/codedeploy-agent/.version` holds e.g. `OFFICIAL_1.7.1-110_rpm` (older:
  `agent_version: OFFICIAL_1.0-1.1597_rpm`).
- The installer (`bin/install`) logs to `/tmp/codedeploy-agent.update.log`; `install auto -v
  VERSION` pins a release instead of the latest.
"""

from __future__ import annotations

import re
from typing import Any

IMDSV2_MIN = (1, 2, 1)
INSTALLER_LOG = "/tmp/codedeploy-agent.update.log"

_VERSION = re.compile(r"(\d+)\.(\d+)(?:[.-](\d+))?")

# (distribution, version prefix) -> the Ruby its package manager installs
_RUBY = [
    ("ubuntu", "18.04", (2, 5)),
    ("ubuntu", "20.04", (2, 7)),
    ("ubuntu", "22.04", (3, 0)),
    ("ubuntu", "24.04", (3, 2)),
    ("ubuntu", "24.10", (3, 3)),
    ("ubuntu", "25.", (3, 3)),
    ("amazon linux", "2023", (3, 2)),
    ("amazon linux", "2", (2, 6)),
    ("red hat", "9", (3, 0)),
    ("red hat", "8", (2, 5)),
    ("debian", "12", (3, 1)),
    ("debian", "11", (2, 7)),
]


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """(1, 7, 1) from 'OFFICIAL_1.7.1-110_rpm'; (1, 0, 1) from 'OFFICIAL_1.0-1.1597_rpm'."""
    if not text:
        return None
    m = _VERSION.search(text)
    if not m:
        return None
    return int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)


def show(version: tuple[int, int, int] | None) -> str:
    return ".".join(map(str, version)) if version else "unknown"


def os_of(ssm: dict[str, Any] | None, image: dict[str, Any] | None) -> tuple[str, str] | None:
    """('Ubuntu', '24.04') from SSM's PlatformName/PlatformVersion, else from the AMI's name."""
    if ssm and ssm.get("PlatformName"):
        return str(ssm["PlatformName"]), str(ssm.get("PlatformVersion") or "")
    text = " ".join(str((image or {}).get(k) or "") for k in ("Name", "Description")).lower()
    if not text.strip():
        return None
    m = re.search(r"ubuntu[^0-9]*(\d\d\.\d\d)", text)
    if m:
        return "Ubuntu", m.group(1)
    if "al2023" in text or "amazon linux 2023" in text:
        return "Amazon Linux", "2023"
    if "amzn2" in text or "amazon linux 2" in text:
        return "Amazon Linux", "2"
    m = re.search(r"rhel-(\d+)", text)
    if m:
        return "Red Hat Enterprise Linux", m.group(1)
    m = re.search(r"debian-(\d+)", text)
    if m:
        return "Debian", m.group(1)
    if "windows" in text:
        return "Windows", ""
    return None


def ruby_of(os: tuple[str, str] | None) -> tuple[int, int] | None:
    if not os:
        return None
    name, version = os[0].lower(), os[1]
    for distro, prefix, ruby in _RUBY:
        if distro in name and version.startswith(prefix):
            return ruby
    return None


def min_agent_for(os: tuple[str, str] | None) -> tuple[tuple[int, int, int], str] | None:
    """The oldest 1.x agent that runs on this OS's Ruby, and why (None: any, or unknown)."""
    ruby = ruby_of(os)
    if ruby is None or os is None:
        return None
    shown = f"{os[0]} {os[1]} ships Ruby {ruby[0]}.{ruby[1]}"
    if ruby >= (3, 3):
        return (99, 0, 0), f"{shown}, which no 1.x agent supports (use agent 2.x)"
    if ruby >= (3, 1):
        need = (1, 7, 0) if "ubuntu" in os[0].lower() else (1, 6, 0)
        return need, f"{shown}: agent {show(need)} or later"
    if ruby >= (3, 0):
        return (1, 5, 0), f"{shown}: agent 1.5.0 or later"
    return None


def default_user(os: tuple[str, str] | None) -> str:
    """The AMI's login user, for commands a person runs as that user."""
    name = (os or ("", ""))[0].lower()
    if "ubuntu" in name:
        return "ubuntu"
    if "debian" in name:
        return "admin"
    return "ec2-user"


def installer_in_user_data(text: str | None) -> dict[str, Any]:
    """Does the user data install the agent, and does it pin a version?

    {'known': False} when the user data could not be read; else {'known': True, 'installs': bool,
    'pinned': version or None, 'line': the installer line, 'without_ruby': it runs the 1.x
    installer (`install auto`) without installing Ruby first}.
    """
    if text is None:
        return {"known": False}
    low = text.lower()
    installs = any(m in low for m in ("aws-codedeploy-", "codedeploy-agent", "awscodedeployagent"))
    line = next(
        (
            ln.strip()
            for ln in text.splitlines()
            if "install" in ln and ("auto" in ln or "codedeploy" in ln.lower())
        ),
        None,
    )
    pinned = None
    m = re.search(r"install\s+auto\s+(?:-v|--version)\s+(\S+)", text)
    if m:
        pinned = parse_version(m.group(1))
    # the 1.x installer (`latest/install`) is a Ruby script and no AMI of AWS's guide ships Ruby:
    # the user data must install it first (`latestv2/` installs agent 2.x, which needs none)
    runs_installer = bool(re.search(r"(?:^|[\s;&|(/])install\s+auto\b", text, re.M))
    installs_ruby = bool(
        re.search(
            r"\b(?:yum|dnf|apt-get|apt|zypper|amazon-linux-extras)\b[^\n;&|]*\binstall\b"
            r"[^\n;&|]*\bruby",
            text,
        )
    )
    return {
        "known": True,
        "installs": installs,
        "pinned": pinned,
        "line": line,
        "without_ruby": runs_installer and not installs_ruby and "latestv2/" not in low,
    }
