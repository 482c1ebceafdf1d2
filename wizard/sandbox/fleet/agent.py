"""The CodeDeploy agent on one instance: how the boot installed it (which version, on which
Ruby), whether it can read instance metadata, its files, and what it logs."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from wizard.sandbox.fleet.filesystem import Node, ensure_dirs

if TYPE_CHECKING:
    from wizard.sandbox.fleet.images import OsImage
    from wizard.sandbox.fleet.userdata import UserData

if TYPE_CHECKING:
    from wizard.sandbox.fleet.context import DeploymentContext, EventOutcome
    from wizard.sandbox.fleet.instance import Facts, InstanceState


AGENT_LOG = "/var/log/aws/codedeploy-agent/codedeploy-agent.log"
DEPLOYMENTS_LOG = (
    "/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log"
)
DEPLOY_ROOT = "/opt/codedeploy-agent/deployment-root"
AGENT_VERSION_FILE = "/opt/codedeploy-agent/.version"
AGENT_BIN = "/opt/codedeploy-agent/bin/codedeploy-agent"
CLOUD_INIT_OUTPUT = "/var/log/cloud-init-output.log"
CLOUD_INIT_LOG = "/var/log/cloud-init.log"
INSTALLER_LOG = "/tmp/codedeploy-agent.update.log"

# What `latest/install` installs ("AWS supports the latest minor version of the CodeDeploy agent.
# Currently the latest minor version is 1.7.x", CodeDeploy User Guide, "Working with the
# CodeDeploy agent").
LATEST = ("1.7.1", "110")
# `latestv2/install`: agent 2.x, which needs no Ruby (User Guide, "Install the CodeDeploy agent").
LATEST_V2 = ("2.0.0", "1")
# The first release that reads instance metadata with IMDSv2 tokens: tag v1.2.1, commits 49c1c45
# "[IMDSv2 support] Update agent code to use IMDSv2" and 44c805e "[Agent 1.2.1] Add fallback to
# IMDSv1" in aws/aws-codedeploy-agent. Earlier agents GET the metadata without a token, which
# IMDS refuses with 401 when HttpTokens is required (lib/instance_metadata.rb `http_get` up to
# 1.1.2: "HTTP error from metadata service, code 401").
IMDSV2_SINCE = (1, 2, 1)
# The Ruby each release runs on (bin/codedeploy-agent `ruby_versions` and bin/install
# `supported_ruby_versions` at each tag): 2.x from the start; 3.0 from 1.5.0 (commit 87f2935
# "adding support for ruby3.0"); 3.1 and 3.2 from 1.6.0 (commit 67a2faf, issue #355: "CodeDeploy
# Agent 1.6.0 adds AL2023 and Ruby 3.2 support"); nothing newer (issue #418, Ruby 3.3).
RUBY_SINCE = {(3, 0): (1, 5, 0), (3, 1): (1, 6, 0), (3, 2): (1, 6, 0)}

MSG_AGENT = (
    "CodeDeploy agent was not able to receive the lifecycle event. Check the CodeDeploy agent "
    "logs on your host and make sure the agent is running and can connect to the CodeDeploy "
    "server."
)
MSG_NO_CREDENTIALS = (
    "Missing credentials - please check if this instance was started with an IAM instance profile"
)


def installs_agent(user_data: str) -> bool:
    """Does this user data name the CodeDeploy agent (installer, package, or service)?"""
    text = user_data.lower()
    return any(
        marker in text for marker in ("aws-codedeploy-", "codedeploy-agent", "awscodedeployagent")
    )


def version_tuple(version: str) -> tuple[int, int, int]:
    """ "1.1.2" -> (1, 1, 2); the old "1.0-1.1597" scheme reads as (1, 0, 1)."""
    parts = [int(p) for p in re.findall(r"\d+", version)[:3]]
    parts += [0] * (3 - len(parts))
    return (parts[0], parts[1], parts[2])


def runs_on_ruby(version: str, ruby: str) -> bool:
    """Does agent `version` run on Ruby `ruby` (e.g. "3.2.2")? See RUBY_SINCE."""
    if version_tuple(version) >= (2, 0, 0):
        return True  # agent 2.x brings its own runtime
    major_minor = tuple(int(p) for p in ruby.split(".")[:2])
    if major_minor[0] == 2:
        return True
    since = RUBY_SINCE.get(major_minor)  # type: ignore[arg-type]
    return since is not None and version_tuple(version) >= since


@dataclass
class Boot:
    """What the first boot left of the agent: its state, version, and the lines it logged.

    `state` is `running`, `failed` (installed, the service dies at start) or `absent`; `logs`
    maps a file on the instance to the lines written there; `journal` is what
    `journalctl -u codedeploy-agent` shows.
    """

    state: str = "absent"
    version: str | None = None
    build: str | None = None
    package_type: str = "rpm"
    ruby: str | None = None
    packages: set[str] = field(default_factory=set)  # what the user data installs
    logs: dict[str, list[str]] = field(default_factory=dict)
    journal: list[str] = field(default_factory=list)
    first: Any = None  # fleet.firstboot.FirstBoot: users, files, the agent's user and state


def ruby_installed(packages: set[str], image: OsImage) -> str | None:
    """The Ruby the user data's packages bring (None: none). `rubyX.Y` picks that version."""
    for package in packages:
        m = re.fullmatch(r"ruby(\d)\.?(\d)", package)
        if m:
            return f"{m.group(1)}.{m.group(2)}.0"
    if packages & {"ruby", "ruby-full", "ruby-devel"}:
        return image.ruby
    return None


def boot(data: UserData, image: OsImage, launched: datetime) -> Boot:
    """Run the user data's agent install the way the instance's first boot would.

    The installer is a Ruby script (`#!/usr/bin/env ruby`, bin/install): without Ruby it never
    starts. It installs the pinned release or the latest with the OS's package manager: `gdebi`
    refuses a .deb whose Ruby dependency the OS cannot meet (nothing installed), `yum
    localinstall` installs an .rpm regardless and the agent then dies at start on a Ruby it
    does not support (issue #349: "cannot load such file -- net/smtp (LoadError)" on Ruby 3.2).
    """
    out = Boot(package_type=image.package_type)
    stamp = launched.strftime("%Y-%m-%dT%H:%M:%S")
    cloud = out.logs.setdefault(CLOUD_INIT_OUTPUT, [])
    cloud.append(f"Cloud-init v. 22.2.2 running 'modules:final' at {launched:%a, %d %b %Y %X}.")
    if not data.runs:
        if data.text.strip():
            out.logs[CLOUD_INIT_LOG] = [
                f"{stamp} - __init__.py[WARNING]: Unhandled non-multipart (text/x-not-multipart) "
                "userdata: 'b'" + data.text[:40].replace("\n", "\\n") + "...''"
            ]
        return out
    out.packages = set(data.packages)
    out.ruby = ruby_installed(data.packages, image)
    if data.ssm_package:
        out.state, (out.version, out.build) = "running", LATEST
        return out
    if not data.installer:
        if data.mentions_agent:  # an AMI with the agent baked in: it starts at boot
            out.state, (out.version, out.build) = "running", LATEST
        return out
    if data.installer_v2:
        out.state, (out.version, out.build) = "running", LATEST_V2
        return out
    if out.ruby is None:
        cloud.append("/usr/bin/env: ‘ruby’: No such file or directory")
        _user_data_failed(out, stamp, 127)
        return out
    version, build = data.pinned or LATEST
    kind = image.package_type
    key = data.pin_key or (
        f"releases/codedeploy-agent-{version}-{build}.noarch.rpm"
        if kind == "rpm"
        else f"releases/codedeploy-agent_{version}-{build}_all.deb"
    )
    log = out.logs.setdefault(INSTALLER_LOG, [])
    pid = 2107

    def info(text: str, level: str = "INFO") -> None:
        log.append(f"{level[0]}, [{stamp}.000000 #{pid}] {level:>5} -- : {text}")

    info("Starting Ruby version check.")
    info("Starting update check.")
    info("Attempting to automatically detect supported package manager type for system...")
    info(f"Downloading package from bucket aws-codedeploy-REGION and key {key}...")
    package_file = f"/tmp/{key.rsplit('/', 1)[-1].rsplit('.', 1)[0]}.tmp-20250115-{pid}-1x2y3z"
    package_file += ".rpm" if kind == "rpm" else ".deb"
    supported = runs_on_ruby(version, out.ruby)
    if kind == "deb":
        info(
            "Executing `/usr/bin/gdebi -n -o Dpkg::Options::=--force-confdef -o "
            f"Dpkg::Options::=--force-confold {package_file}`..."
        )
        if not supported:
            rubies = "|".join(_ruby_dependency(version))
            log.append("This package is uninstallable")
            log.append(f"Dependency is not satisfiable: {rubies}")
            info(f"Error installing {package_file}.", "ERROR")
            _user_data_failed(out, stamp, 1)
            return out
    else:
        info(f"Executing `/usr/bin/yum -y localinstall {package_file}`...")
    info("Update check complete.")
    info("Stopping updater.")
    out.version, out.build = version, build
    when = f"{launched:%b %d %H:%M:%S} ip-172-31-0-1"
    if supported:
        out.state = "running"
        out.journal = [
            f"{when} systemd[1]: Starting LSB: AWS CodeDeploy Host Agent...",
            f"{when} systemd[1]: Started LSB: AWS CodeDeploy Host Agent.",
        ]
        return out
    # installed, but the agent's vendored gems do not load on this Ruby
    missing = "webrick" if out.ruby.startswith("3.0") else "net/smtp"
    gem = "/opt/codedeploy-agent/vendor/gems/logging-1.8.2/lib/logging/appenders/email.rb:2"
    rubygems = f"/usr/share/ruby{out.ruby[:3]}-rubygems/rubygems/core_ext/kernel_require.rb"
    out.state = "failed"
    out.journal = [
        f"{when} systemd[1]: Starting LSB: AWS CodeDeploy Host Agent...",
        f"{when} codedeploy-agent[{pid}]: <internal:{rubygems}>:148:in `require': "
        f"cannot load such file -- {missing} (LoadError)",
        f"{when} codedeploy-agent[{pid}]: \tfrom {gem}:in `<top (required)>'",
        f"{when} systemd[1]: codedeploy-agent.service: Control process exited, code=exited, "
        "status=1/FAILURE",
        f"{when} systemd[1]: codedeploy-agent.service: Failed with result 'exit-code'.",
        f"{when} systemd[1]: Failed to start LSB: AWS CodeDeploy Host Agent.",
    ]
    return out


def _ruby_dependency(version: str) -> list[str]:
    """The Ruby packages a release's .deb depends on (any one of them)."""
    rubies = [f"ruby2.{minor}" for minor in range(8)]
    for ruby, since in RUBY_SINCE.items():
        if version_tuple(version) >= since:
            rubies.insert(0, f"ruby{ruby[0]}.{ruby[1]}")
    return rubies


def _user_data_failed(out: Boot, stamp: str, code: int) -> None:
    """cloud-init's words when the user-data script exits non-zero."""
    out.logs.setdefault(CLOUD_INIT_LOG, []).extend(
        [
            f"{stamp},000 - subp.py[DEBUG]: Unexpected error while running command.",
            f"Command: ['/var/lib/cloud/instance/scripts/part-001']\nExit code: {code}",
            f"{stamp},000 - cc_scripts_user.py[WARNING]: Failed to run module scripts_user "
            "(scripts in /var/lib/cloud/instance/scripts)",
        ]
    )
    out.logs[CLOUD_INIT_OUTPUT].append(
        f"{stamp},000 - util.py[WARNING]: Failed running /var/lib/cloud/instance/scripts/part-001 "
        f"[{code}]"
    )


def imds_error(version: str | None, options: Any) -> str | None:
    """Why this agent cannot read instance metadata (None: it can). `options`: moto's
    MetadataOptions. IMDS answers 401 to a GET without a token when HttpTokens is required,
    and nothing at all (403) when the endpoint is disabled."""
    if options is None or version is None:
        return None
    if getattr(options, "http_endpoint", "enabled") == "disabled":
        if version_tuple(version) >= IMDSV2_SINCE:
            return "HTTP error from metadata service: Forbidden, code 403"
        return "HTTP error from metadata service, code 403"
    required = getattr(options, "http_tokens", "optional") == "required"
    if required and version_tuple(version) < IMDSV2_SINCE:
        return "HTTP error from metadata service, code 401"
    return None


def install_agent_files(st: InstanceState, facts: Facts) -> None:
    """The agent's files on the instance (version file, directories, its log) once installed."""
    if facts.agent == "absent" or facts.agent_version is None:
        return
    ensure_dirs(st.fs, DEPLOY_ROOT, "root", "root", "755", "agent")
    ensure_dirs(st.fs, "/etc/codedeploy-agent/conf", "root", "root", "755", "agent")
    ensure_dirs(st.fs, "/opt/codedeploy-agent/bin", "root", "root", "755", "agent")
    content = version_file(facts.agent_version, facts.agent_build or "0", facts.package_type)
    node = st.fs.get(AGENT_VERSION_FILE)
    if node is None or node.content != content:
        st.fs[AGENT_VERSION_FILE] = Node("file", "root", "root", "644", "agent", content)
    st.fs.setdefault(AGENT_BIN, Node("file", "root", "root", "755", "agent", ""))
    if AGENT_LOG not in st.logs and facts.agent == "running":
        st.log(
            AGENT_LOG,
            f"{ts(datetime.now(timezone.utc))} INFO  [codedeploy-agent(1)]: "
            "master 1: Spawned child 1/1",
        )


def version_file(version: str, build: str, package_type: str) -> str:
    """/opt/codedeploy-agent/.version: `OFFICIAL_1.7.1-110_rpm` for 1.x, `agent_version:
    2.0.0` for 2.x (User Guide, "Determine the version of the CodeDeploy agent")."""
    if version_tuple(version) >= (2, 0, 0):
        return f"agent_version: {version}"
    return f"OFFICIAL_{version}-{build}_{package_type}"


def ts(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def write_agent_log(st: InstanceState, ctx: DeploymentContext, events: list[EventOutcome]) -> None:
    """What the agent writes to its own log and the deployments log while it works."""
    offset = 0.0
    prefix = "InstanceAgent::Plugins::CodeDeployPlugin::CommandPoller"
    for ev in events:
        if ev.status == "Skipped":
            continue
        stamp = ts(ctx.started + timedelta(seconds=offset))
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
