"""The project file `.codedeploy-wizard.yml`: load, validate, resolve defaults, save.

Only `application` is required. Every other value has a default derived from it; `resolve()` fills
the ones that need the account or region (the bucket name). Validation names the key and the rule,
using the limits AWS itself enforces, so that a bad name fails here rather than halfway through an
apply. No secrets are ever stored here.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wizard import PROJECT_FILE, TAG_KEY, naming
from wizard.errors import ConfigError, shown

HOOK_EVENTS = (
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeBlockTraffic",
    "AfterBlockTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)
AMI_ALIASES = ("al2023", "ubuntu-24.04")
CI_PROVIDERS = ("travis", "github", "none")
FILE_EXISTS = ("DISALLOW", "OVERWRITE", "RETAIN")

# Every pattern is used with fullmatch (`$` would accept a trailing newline) and ASCII classes
# where the service allows ASCII only (`\w` alone matches `ü`).
# IAM API reference, CreateRole `RoleName` / CreateUser `UserName`: `[\w+=,.@-]+`, 1-64,
# "upper and lowercase alphanumeric characters with no spaces" (ASCII).
_IAM_NAME = re.compile(r"[\w+=,.@-]{1,64}", re.ASCII)
# CodeDeploy API reference, CreateApplication `applicationName` / CreateDeploymentGroup
# `deploymentGroupName` / `deploymentConfigName`: 1-100 of `[A-Za-z0-9+=,.@_-]` (the service
# model's pattern; the user guide's "CodeDeploy quotas" lists the same characters).
_CD_NAME = re.compile(r"[A-Za-z0-9._+=,@-]{1,100}")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_AMI_ID = re.compile(r"ami-[0-9a-f]{8,17}")
_SUBNET_ID = re.compile(r"subnet-[0-9a-f]{8,17}")
_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
# CreateAutoScalingGroup: "any ASCII character 33 to 126 … You cannot use a colon (:) in the name"
_ASG_NAME = re.compile(r"[!-9;-~]{1,255}")
# CreateTargetGroup: at most 32 alphanumeric characters or hyphens, no hyphen at either end
_TG_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?")
_TG_ARN = re.compile(
    r"arn:[\w-]+:elasticloadbalancing:[\w-]+:\d{12}:targetgroup/[\w-]{1,32}/\w+", re.ASCII
)
MAX_ASG_SIZE = 10000
# GitHub: an account or organisation name is 1-39 letters, digits and hyphens, not starting with
# a hyphen (GitHub's sign-up form; older accounts may hold a double or trailing hyphen, and
# Enterprise Managed Users an underscore: "About Enterprise Managed Users", usernames). A
# repository name is at most 100 of letters, digits, `.`, `-` and `_` (GitHub replaces any other
# character with `-` when a repository is created), and neither `.` nor `..`.
_GH_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,38}")
_GH_REPO = re.compile(r"[A-Za-z0-9._-]{1,100}")
# Tags, as IAM, S3, CodeDeploy and the Resource Groups Tagging API define them (IAM API
# reference, Tag `Key` / `Value`: `[\p{L}\p{Z}\p{N}_.:/=+\-@]`; EC2 user guide, "Tag
# restrictions": "letters, numbers, and spaces representable in UTF-8, and + - = . _ : / @").
# Every resource the wizard tags carries the application as a tag value, so it obeys this too.
_TAG_PUNCT = frozenset("_.:/=+-@")
# S3 user guide, "Naming Amazon S3 objects": the safe characters for key names are letters,
# digits and ! - _ . * ' ( ) with / as the folder delimiter. `*` is left out as well: the prefix
# becomes part of IAM policy resource ARNs, where it would be a wildcard.
_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9!_.'()-]+")
PATH_MAX = 4096  # Linux: a path of at most 4095 bytes plus the NUL (limits.h)
NAME_MAX = 255  # Linux: one path component of at most 255 bytes
WINDOWS_MAX_PATH = 260  # Windows: MAX_PATH, the classic limit the CodeDeploy agent runs under


def bad_character(value: str) -> str | None:
    """A description of the first control character (or lone surrogate) in `value`, else None.

    YAML's double-quoted escapes can put any of them in a value ("a\\nb", "\\0"); none belongs
    in a name, a path or a tag, and a newline would break every file the wizard writes.
    """
    import unicodedata

    for ch in value:
        if unicodedata.category(ch) in ("Cc", "Cs"):
            return f"a control character (U+{ord(ch):04X})"
    return None


# --------------------------------------------------------------------------- rules (reusable)
def check_iam_name(value: str) -> str | None:
    """IAM role / instance profile / user names: 1-64 ASCII letters, digits and +=,.@_-."""
    if not _IAM_NAME.fullmatch(value or ""):
        return "must be 1-64 characters of ASCII letters, digits and +=,.@_-"
    return None


def check_codedeploy_name(value: str) -> str | None:
    """CodeDeploy application, deployment group and deployment config names (1-100 characters)."""
    if not _CD_NAME.fullmatch(value or ""):
        return "must be 1-100 characters of ASCII letters, digits and ._+=,@-"
    return None


def check_bucket_name(value: str) -> str | None:
    """S3 general purpose bucket naming rules (S3 user guide, "General purpose bucket naming
    rules")."""
    if not 3 <= len(value or "") <= 63:
        return "must be 3-63 characters long"
    if not _BUCKET.fullmatch(value):
        return (
            "must be lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit"
        )
    if ".." in value or ".-" in value or "-." in value:
        return "must not contain two adjacent periods or a period next to a hyphen"
    if _IPV4.fullmatch(value):
        return "must not be formatted as an IP address"
    for prefix in ("xn--", "sthree-", "amzn-s3-demo-"):
        if value.startswith(prefix):
            return f"must not start with {prefix!r}"
    for suffix in ("-s3alias", "--ol-s3", "--x-s3", ".mrap", "--table-s3"):
        if value.endswith(suffix):
            return f"must not end with {suffix!r}"
    return None


def _tag_text_ok(value: str) -> bool:
    import unicodedata

    return all(unicodedata.category(c)[0] in "LNZ" or c in _TAG_PUNCT for c in value)


def check_tag(key: str, value: str) -> str | None:
    """Tag rules every AWS service shares: key 1-128, value 0-256 characters, only letters,
    digits, spaces and _.:/=+-@ (no control characters), no `aws:` prefix on the key."""
    if not key or len(key) > 128:
        return "tag key must be 1-128 characters"
    if len(value) > 256:
        return "tag value must be at most 256 characters"
    if key.lower().startswith("aws:"):
        return "tag key must not start with 'aws:' (reserved by AWS)"
    if not _tag_text_ok(key) or not _tag_text_ok(value):
        return "tags may hold letters, digits, spaces and _.:/=+-@ only"
    return None


def check_application(value: str) -> str | None:
    """An application name: a CodeDeploy name that is also a valid tag value (the wizard tags
    everything it creates `codedeploy-wizard:application=<application>`, and tag values allow no
    comma)."""
    # one rule for both, so the message never lists a character it then refuses (',')
    if check_codedeploy_name(value) or not _tag_text_ok(value):
        return (
            "must be 1-100 characters of ASCII letters, digits and ._+=@- (a CodeDeploy name "
            "that is also the value of the codedeploy-wizard:application tag, so no ',')"
        )
    return None


def check_repository(value: str) -> str | None:
    """A GitHub repository as OWNER/NAME (see `_GH_OWNER` / `_GH_REPO` for GitHub's rules)."""
    owner, sep, name = value.partition("/")
    if not sep or not _GH_OWNER.fullmatch(owner) or not _GH_REPO.fullmatch(name):
        return (
            "must be OWNER/NAME as on GitHub (owner: 1-39 letters, digits and hyphens; "
            "name: up to 100 letters, digits and .-_)"
        )
    if name in (".", ".."):
        return "must name a repository, not '.' or '..'"
    return None


def check_branch(value: str, provider: str = "travis") -> str | None:
    """A git branch name, by `git check-ref-format --branch` (git-check-ref-format(1)).

    A wildcard is refused, on purpose: git allows no `*`, `?` or `[` in a ref, and the GitHub
    deploy role trusts the OIDC subject `repo:OWNER/NAME:ref:refs/heads/BRANCH` with StringEquals
    (wizard.policies.github_trust), so the branch named here is the only one that can deploy.
    For GitHub the name also goes into a workflow branch filter, where `+` and a leading `!` are
    pattern syntax (GitHub Actions, "Filter pattern cheat sheet"), and into an IAM policy, whose
    text is limited to Latin-1 and where `${` starts a policy variable (IAM JSON policy elements,
    "Policy variables").
    """
    if not value:
        return "must be a git branch name"
    if any(c in value for c in "*?["):
        return (
            "must name one branch: wildcards are not supported (the CI trust and the CI "
            "configuration name exactly one branch that may deploy)"
        )
    bad = (
        value.startswith(("-", "/", "."))
        or value.endswith(("/", ".", ".lock"))
        or value == "@"
        or value == "HEAD"
        or any(s in value for s in ("..", "//", "@{", "/.", ".lock/"))
        or any(ord(c) < 0x20 or c == "\x7f" or c in " ~^:\\" for c in value)
    )
    if bad:
        return (
            "must be a git branch name (git check-ref-format: no spaces, control characters, "
            "~^:\\, '..', '@{', and no part starting with '.' or ending with '.lock')"
        )
    if provider == "github":
        if "+" in value or value.startswith("!"):
            return (
                "must not hold '+' or start with '!' for GitHub (pattern syntax in branch filters)"
            )
        if "${" in value or any(ord(c) > 0xFF for c in value):
            return "must hold only Latin-1 characters and no '${' for GitHub (IAM policy text)"
    return None


def check_prefix(value: str) -> str | None:
    """An S3 key prefix for revisions: relative folders of S3's safe characters, no `.`/`..`."""
    if len(value) > 512:
        return "must be at most 512 characters"
    if value.startswith("/"):
        return "must be relative (no leading '/')"
    parts = value.rstrip("/").split("/") if value else []
    for part in parts:
        if part in (".", ".."):
            return "must not contain '.' or '..' folders (S3 keys are not paths to resolve)"
        if not _PREFIX_SEGMENT.fullmatch(part):
            return (
                "must be folders of letters, digits and !_.'()- separated by single '/' "
                "(S3's safe key characters)"
            )
    return None


def check_destination(value: str, os_name: str) -> str | None:
    """Where the agent copies the bundle: an absolute, normalised path within the OS's limits."""
    if os_name == "windows":
        if not re.match(r"[A-Za-z]:[\\/]", value):
            return "must be an absolute Windows path such as C:\\app"
        if len(value) >= WINDOWS_MAX_PATH:
            return f"must be shorter than {WINDOWS_MAX_PATH} characters (Windows MAX_PATH)"
        if any(c in value[2:] for c in '<>:"|?*'):
            return 'must not contain <>:"|?* (Windows file names)'
        return None
    if not value.startswith("/"):
        return "must be an absolute path (starting with /) on linux"
    size = len(value.encode("utf-8", "surrogatepass"))
    if size >= PATH_MAX:
        return f"must be shorter than {PATH_MAX} bytes (Linux PATH_MAX)"
    parts = value.split("/")
    if any(len(p.encode("utf-8", "surrogatepass")) > NAME_MAX for p in parts):
        return f"must not have a folder name longer than {NAME_MAX} bytes (Linux NAME_MAX)"
    if any(p in (".", "..") for p in parts):
        return "must not contain '.' or '..' (name the folder itself)"
    return None


def known_regions() -> set[str]:
    """Regions botocore knows for CodeDeploy, in every partition."""
    import botocore.session

    sess = botocore.session.get_session()
    regions: set[str] = set()
    for partition in sess.get_available_partitions():
        regions.update(sess.get_available_regions("codedeploy", partition_name=partition))
    return regions


def check_region(value: str) -> str | None:
    if value not in known_regions():
        return "is not a region botocore knows for CodeDeploy"
    return None


# --------------------------------------------------------------------------- the model
@dataclass
class TagFilter:
    key: str = TAG_KEY
    value: str = ""


@dataclass
class AutoScaling:
    """`instances.auto_scaling`: a new group (min/max/desired) or an existing one (`name`)."""

    name: str | None = None  # adopt this existing group; min/max/desired then unused
    min: int = 1
    max: int = 1
    desired: int = 1

    def to_dict(self) -> dict[str, Any]:
        if self.name:
            return {"name": self.name}
        return {"min": self.min, "max": self.max, "desired": self.desired}


@dataclass
class Instances:
    tag: TagFilter = field(default_factory=TagFilter)
    launch: int = 0
    instance_type: str = "t3.micro"
    ami: str = "al2023"
    subnet: str | None = None
    auto_scaling: AutoScaling | None = None  # opt-in: an Auto Scaling group instead of tags


@dataclass
class LoadBalancer:
    """`load_balancer`: traffic control through a target group (created or adopted)."""

    create: bool = False  # an ALB + target group + HTTP listener on the default VPC
    target_group: str | None = None  # adopt this target group (name or ARN)
    health_check_path: str = "/"  # for a created target group
    port: int = 80  # the port the application listens on (target group and health check)

    @property
    def enabled(self) -> bool:
        return self.create or bool(self.target_group)


@dataclass
class Rollback:
    """`rollback`: the deployment group's autoRollbackConfiguration."""

    on_failure: bool = True  # DEPLOYMENT_FAILURE
    on_stop: bool = False  # DEPLOYMENT_STOP_ON_REQUEST

    @property
    def events(self) -> list[str]:
        return ["DEPLOYMENT_FAILURE"] * self.on_failure + [
            "DEPLOYMENT_STOP_ON_REQUEST"
        ] * self.on_stop


@dataclass
class Roles:
    instance_role: str = ""
    service_role: str = ""
    ssm: bool = True


@dataclass
class Bucket:
    name: str | None = None
    prefix: str = "releases/"


@dataclass
class Bundle:
    source: str = "."
    destination: str = ""
    os: str = "linux"
    hooks: list[str] = field(default_factory=lambda: ["ApplicationStart"])
    file_exists_behavior: str = "DISALLOW"


@dataclass
class CI:
    provider: str = "travis"
    branch: str = "master"
    repository: str | None = None
    slack: bool = False
    pin_actions: str = "tag"  # GitHub workflow: "tag" (@v7) or "sha" (the release commit)


@dataclass
class Project:
    """Every answer setup needs. Defaults are filled from `application` by `load`/`from_dict`."""

    application: str
    region: str | None = None
    deployment_group: str = ""
    deployment_config: str = "CodeDeployDefault.AllAtOnce"
    instances: Instances = field(default_factory=Instances)
    roles: Roles = field(default_factory=Roles)
    bucket: Bucket = field(default_factory=Bucket)
    bundle: Bundle = field(default_factory=Bundle)
    ci: CI = field(default_factory=CI)
    load_balancer: LoadBalancer = field(default_factory=LoadBalancer)
    rollback: Rollback = field(default_factory=Rollback)

    # ---------------------------------------------------------------- derived names
    def bucket_name(self, account: str, region: str) -> str:
        """The configured bucket, or `<application>-codedeploy-<account>-<region>` made valid."""
        return self.bucket.name or naming.bucket(self.application, account, region)

    def effective_region(self, session_region: str | None) -> str:
        return self.region or session_region or ""

    def tags(self) -> dict[str, str]:
        """The ownership tag every created resource carries."""
        return {TAG_KEY: self.application}

    def to_dict(self, *, minimal: bool = False) -> dict[str, Any]:
        """Plain data for YAML. `minimal` drops values equal to their derived defaults."""
        data = dataclasses.asdict(self)
        if self.instances.auto_scaling is not None:  # {name} or {min, max, desired}, never both
            data["instances"]["auto_scaling"] = self.instances.auto_scaling.to_dict()
        if not minimal:
            return data
        default = from_dict({"application": self.application}).to_dict()
        return _strip_defaults(data, default) | {"application": self.application}


def _strip_defaults(data: dict, default: dict) -> dict:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dval = default.get(key)
        if isinstance(value, dict) and isinstance(dval, dict):
            sub = _strip_defaults(value, dval)
            if sub:
                out[key] = sub
        elif value != dval:
            out[key] = value
    return out


# --------------------------------------------------------------------------- validation
class _Validator:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def err(self, key: str, rule: str) -> None:
        self.errors.append(f"{key}: {rule}")

    def section(self, data: Any, key: str, allowed: set[str]) -> dict:
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.err(key, f"must be a mapping, not {_typename(data)}")
            return {}
        for unknown in sorted(set(map(str, data)) - allowed):
            near = _nearest(unknown[:100], allowed)
            name = unknown if len(unknown) <= 60 and not bad_character(unknown) else shown(unknown)
            self.err(
                f"{key}.{name}" if key else name,
                "unknown key" + (f" (did you mean {near!r}?)" if near else ""),
            )
        return data

    def typed(self, data: dict, key: str, path: str, types: tuple, default: Any) -> Any:
        if key not in data or (data[key] is None and type(None) in types):
            return default if key not in data else None
        value = data[key]
        # bool is an int in Python; never accept it where a number is wanted
        if isinstance(value, bool) and bool not in types:
            self.err(path, f"must be {_names(types)}, not a boolean")
            return default
        if not isinstance(value, types):
            self.err(path, f"must be {_names(types)}, not {_typename(value)}")
            return default
        if isinstance(value, str) and (bad := bad_character(value)):
            self.err(path, f"must not contain {bad}")
            return default
        return value


def _typename(v: Any) -> str:
    return {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "a boolean",
    }.get(type(v), type(v).__name__ if v is not None else "empty")


def _names(types: tuple) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}
    return " or ".join(names.get(t, "empty") for t in types if t is not type(None)) + (
        " or empty" if type(None) in types else ""
    )


def _nearest(word: str, options: set[str]) -> str | None:
    import difflib

    hits = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.75)
    return hits[0] if hits else None


_TOP = {
    "application",
    "region",
    "deployment_group",
    "deployment_config",
    "instances",
    "roles",
    "bucket",
    "bundle",
    "ci",
    "load_balancer",
    "rollback",
}


def from_dict(data: Any, *, check_region_known: bool = True) -> Project:
    """Build and validate a Project; raise ConfigError listing every problem (key: rule).

    `data` is the parsed project file (a mapping). Names are checked by the rules AWS applies
    (see the `check_*` functions); a value derived from `application` is checked only when the
    application itself is valid, so that one bad name is reported once, under `application`.
    """
    v = _Validator()
    if not isinstance(data, dict):
        raise ConfigError(
            "the project file must be a YAML mapping", errors=["(top): must be a mapping"]
        )
    v.section(data, "", _TOP)
    if data.get("application") is None:
        v.err("application", "is required")
        app = ""
    else:
        app = v.typed(data, "application", "application", (str,), None)
        if app is None:  # wrong type or a control character: already reported
            app = ""
        elif rule := check_application(app):
            v.err("application", rule)
    # the names derived from a bad application would only repeat its error under other keys
    base = app if app and not check_application(app) else "app"
    p = Project(application=app)

    region = v.typed(data, "region", "region", (str, type(None)), None)
    if region and check_region_known and (rule := check_region(region)):
        v.err("region", rule)
    p.region = region

    p.deployment_group = v.typed(data, "deployment_group", "deployment_group", (str,), "") or (
        naming.deployment_group(base)
    )
    if rule := check_codedeploy_name(p.deployment_group):
        v.err("deployment_group", rule)
    p.deployment_config = v.typed(
        data, "deployment_config", "deployment_config", (str,), p.deployment_config
    )
    if rule := check_codedeploy_name(p.deployment_config):
        v.err("deployment_config", rule)

    # instances
    inst = v.section(
        data.get("instances"),
        "instances",
        {"tag", "launch", "instance_type", "ami", "subnet", "auto_scaling"},
    )
    tag = v.section(inst.get("tag"), "instances.tag", {"key", "value"})
    p.instances.tag.key = v.typed(tag, "key", "instances.tag.key", (str,), TAG_KEY)
    p.instances.tag.value = v.typed(tag, "value", "instances.tag.value", (str,), base)
    if rule := check_tag(p.instances.tag.key, p.instances.tag.value):
        v.err("instances.tag", rule)
    launch = v.typed(inst, "launch", "instances.launch", (int,), 0)
    if not 0 <= launch <= 100:
        v.err("instances.launch", "must be between 0 and 100 (0 adopts running tagged instances)")
        launch = 0
    p.instances.launch = launch
    p.instances.instance_type = v.typed(
        inst, "instance_type", "instances.instance_type", (str,), "t3.micro"
    )
    if not _INSTANCE_TYPE.fullmatch(p.instances.instance_type):
        v.err("instances.instance_type", "must look like an EC2 instance type, e.g. t3.micro")
    p.instances.ami = v.typed(inst, "ami", "instances.ami", (str,), "al2023")
    if p.instances.ami not in AMI_ALIASES and not _AMI_ID.fullmatch(p.instances.ami):
        v.err("instances.ami", f"must be one of {', '.join(AMI_ALIASES)} or an AMI id (ami-…)")
    p.instances.subnet = v.typed(inst, "subnet", "instances.subnet", (str, type(None)), None)
    if p.instances.subnet and not _SUBNET_ID.fullmatch(p.instances.subnet):
        v.err("instances.subnet", "must be a subnet id (subnet-…) or empty for the default VPC")

    p.instances.auto_scaling = _auto_scaling(v, inst, data.get("bundle"))

    # roles
    roles = v.section(data.get("roles"), "roles", {"instance_role", "service_role", "ssm"})
    p.roles.instance_role = v.typed(roles, "instance_role", "roles.instance_role", (str,), "") or (
        naming.instance_role(base)
    )
    p.roles.service_role = v.typed(roles, "service_role", "roles.service_role", (str,), "") or (
        naming.service_role(base)
    )
    p.roles.ssm = v.typed(roles, "ssm", "roles.ssm", (bool,), True)
    for key in ("instance_role", "service_role"):
        if rule := check_iam_name(getattr(p.roles, key)):
            v.err(f"roles.{key}", rule)
    if p.roles.instance_role == p.roles.service_role:
        v.err(
            "roles.service_role",
            "must differ from roles.instance_role (one role per principal: EC2 and CodeDeploy)",
        )

    # bucket
    bucket = v.section(data.get("bucket"), "bucket", {"name", "prefix"})
    p.bucket.name = v.typed(bucket, "name", "bucket.name", (str, type(None)), None)
    if p.bucket.name and (rule := check_bucket_name(p.bucket.name)):
        v.err("bucket.name", rule)
    prefix = v.typed(bucket, "prefix", "bucket.prefix", (str, type(None)), "releases/") or ""
    if rule := check_prefix(prefix):
        v.err("bucket.prefix", rule)
    p.bucket.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"

    # bundle
    bundle = v.section(
        data.get("bundle"),
        "bundle",
        {"source", "destination", "os", "hooks", "file_exists_behavior"},
    )
    p.bundle.source = v.typed(bundle, "source", "bundle.source", (str,), ".") or "."
    if len(p.bundle.source.encode("utf-8", "surrogatepass")) >= PATH_MAX:
        v.err("bundle.source", f"must be shorter than {PATH_MAX} bytes")
    p.bundle.os = v.typed(bundle, "os", "bundle.os", (str,), "linux")
    if p.bundle.os not in ("linux", "windows"):
        v.err("bundle.os", "must be linux or windows")
    default_dest = naming.destination(base, p.bundle.os)
    p.bundle.destination = (
        v.typed(bundle, "destination", "bundle.destination", (str,), "") or default_dest
    )
    if rule := check_destination(p.bundle.destination, p.bundle.os):
        v.err("bundle.destination", rule)
    hooks = v.typed(bundle, "hooks", "bundle.hooks", (list, type(None)), ["ApplicationStart"])
    hooks = hooks or []
    for i, hook in enumerate(hooks):
        if hook not in HOOK_EVENTS:
            near = _nearest(str(hook)[:100], set(HOOK_EVENTS)) if isinstance(hook, str) else None
            v.err(
                f"bundle.hooks[{i}]",
                f"{shown(hook)} is not a lifecycle event that takes scripts"
                + (f" (did you mean {near!r}?)" if near else ""),
            )
    hooks = [h for h in hooks if h in HOOK_EVENTS]
    if len(set(hooks)) != len(hooks):
        v.err("bundle.hooks", "lists an event twice")
    p.bundle.hooks = list(dict.fromkeys(hooks))
    p.bundle.file_exists_behavior = v.typed(
        bundle, "file_exists_behavior", "bundle.file_exists_behavior", (str,), "DISALLOW"
    )
    if p.bundle.file_exists_behavior not in FILE_EXISTS:
        v.err("bundle.file_exists_behavior", f"must be one of {', '.join(FILE_EXISTS)}")

    # ci
    ci = v.section(
        data.get("ci"), "ci", {"provider", "branch", "repository", "slack", "pin_actions"}
    )
    p.ci.provider = v.typed(ci, "provider", "ci.provider", (str,), "travis")
    if p.ci.provider not in CI_PROVIDERS:
        v.err("ci.provider", f"must be one of {', '.join(CI_PROVIDERS)}")
    p.ci.branch = v.typed(ci, "branch", "ci.branch", (str,), "master")
    if rule := check_branch(p.ci.branch, p.ci.provider):
        v.err("ci.branch", rule)
    p.ci.repository = v.typed(ci, "repository", "ci.repository", (str, type(None)), None)
    if p.ci.repository and (rule := check_repository(p.ci.repository)):
        v.err("ci.repository", rule)
    if p.ci.provider == "github" and ci.get("repository") is None:
        v.err("ci.repository", "is required for ci.provider github (the OIDC trust names it)")
    p.ci.slack = v.typed(ci, "slack", "ci.slack", (bool,), False)
    p.ci.pin_actions = v.typed(ci, "pin_actions", "ci.pin_actions", (str,), "tag")
    if p.ci.pin_actions not in ("tag", "sha"):
        v.err("ci.pin_actions", "must be tag (@v7) or sha (pinned to the release commit)")

    p.load_balancer = _load_balancer(v, data.get("load_balancer"))
    rollback = v.section(data.get("rollback"), "rollback", {"on_failure", "on_stop"})
    p.rollback.on_failure = v.typed(rollback, "on_failure", "rollback.on_failure", (bool,), True)
    p.rollback.on_stop = v.typed(rollback, "on_stop", "rollback.on_stop", (bool,), False)

    if v.errors:
        raise ConfigError(
            f"invalid project file: {v.errors[0]}"
            + (f" (and {len(v.errors) - 1} more)" if len(v.errors) > 1 else ""),
            errors=v.errors,
        )
    return p


def _auto_scaling(v: _Validator, inst: dict, bundle: Any) -> AutoScaling | None:
    """`instances.auto_scaling`: {min, max, desired} for a new group, or {name} to adopt one."""
    raw = inst.get("auto_scaling")
    if raw is None:
        return None
    key = "instances.auto_scaling"
    section = v.section(raw, key, {"min", "max", "desired", "name"})
    if not section:
        if isinstance(raw, dict):
            v.err(key, "give min/max/desired for a new group, or name to adopt an existing one")
        return None
    asg = AutoScaling()
    sizes = [k for k in ("min", "max", "desired") if k in section]
    if "name" in section:
        asg.name = v.typed(section, "name", f"{key}.name", (str,), None)
        if sizes:
            v.err(key, "name adopts an existing group; min/max/desired only size a new one")
        if asg.name is not None and not _ASG_NAME.fullmatch(asg.name):
            v.err(f"{key}.name", "must be 1-255 printable ASCII characters without ':' or spaces")
        # the existing group's launch template decides these; a value here would be ignored
        for unused in ("ami", "instance_type", "subnet"):
            if unused in inst:
                v.err(f"instances.{unused}", "is not used when adopting an existing group")
    else:
        asg.min = v.typed(section, "min", f"{key}.min", (int,), 1)
        asg.desired = v.typed(section, "desired", f"{key}.desired", (int,), asg.min)
        asg.max = v.typed(section, "max", f"{key}.max", (int,), max(asg.min, asg.desired))
        if not 0 <= asg.min <= asg.desired <= asg.max:
            v.err(
                key,
                f"needs 0 <= min <= desired <= max (got min {asg.min}, desired {asg.desired}, "
                f"max {asg.max})",
            )
        if not 1 <= asg.max <= MAX_ASG_SIZE:
            v.err(f"{key}.max", f"must be between 1 and {MAX_ASG_SIZE}")
        os_name = bundle.get("os") if isinstance(bundle, dict) else None
        if os_name == "windows":
            v.err(
                key,
                "the wizard's launch template installs the Linux agent, but bundle.os is "
                "windows; adopt a Windows group with auto_scaling: {name: GROUP}",
            )
    # the group, not a tag filter, decides the targets
    if "tag" in inst:
        v.err(
            "instances.tag",
            "is not used with instances.auto_scaling (the group's instances are the targets)",
        )
    if inst.get("launch"):
        v.err("instances.launch", "must be 0 with instances.auto_scaling (the group launches)")
    return asg


def _load_balancer(v: _Validator, raw: Any) -> LoadBalancer:
    lb = LoadBalancer()
    section = v.section(
        raw, "load_balancer", {"create", "target_group", "health_check_path", "port"}
    )
    if not section:
        return lb
    lb.create = v.typed(section, "create", "load_balancer.create", (bool,), False)
    lb.target_group = v.typed(
        section, "target_group", "load_balancer.target_group", (str, type(None)), None
    )
    if lb.create and lb.target_group:
        v.err(
            "load_balancer",
            "create makes a new target group and target_group adopts one: choose one",
        )
    if lb.target_group and not (
        _TG_NAME.fullmatch(lb.target_group) or _TG_ARN.fullmatch(lb.target_group)
    ):
        v.err(
            "load_balancer.target_group",
            "must be a target group name (1-32 letters, digits and hyphens, no hyphen at "
            "either end) or its ARN",
        )
    if not lb.enabled and set(section) - {"create"}:
        v.err("load_balancer", "set create: true, or target_group: NAME to adopt one")
    lb.health_check_path = v.typed(
        section, "health_check_path", "load_balancer.health_check_path", (str,), "/"
    )
    path = lb.health_check_path
    if not path.startswith("/") or len(path) > 1024 or not path.isprintable() or " " in path:
        v.err(
            "load_balancer.health_check_path",
            "must be a URL path starting with / (1-1024 characters, no spaces)",
        )
    if "health_check_path" in section and lb.target_group:
        v.err(
            "load_balancer.health_check_path",
            "applies only to a target group the wizard creates; an adopted one keeps its own",
        )
    lb.port = v.typed(section, "port", "load_balancer.port", (int,), 80)
    if not 1 <= lb.port <= 65535:
        v.err("load_balancer.port", "must be between 1 and 65535")
    if "port" in section and lb.target_group:
        v.err("load_balancer.port", "applies only to a target group the wizard creates")
    return lb


# --------------------------------------------------------------------------- files
def project_path(project_dir: str | os.PathLike[str] | None = None) -> Path:
    return Path(project_dir or ".") / PROJECT_FILE


MAX_FILE_BYTES = 1 << 20  # a project file is a few hundred bytes; 1 MiB is far beyond any real one
MAX_DEPTH = 32  # the deepest real key is 3 levels down; YAML nested thousands deep is an attack


def load(project_dir: str | os.PathLike[str] | None = None, path: str | None = None) -> Project:
    """Load and validate the project file (`path`, or `.codedeploy-wizard.yml` in `project_dir`).

    Raises ConfigError (exit 2) with one line naming the file — and the key where there is one —
    when the file is missing, not a regular file, larger than MAX_FILE_BYTES, not UTF-8, not
    YAML, nested deeper than MAX_DEPTH, holds a key twice, or breaks a rule of `from_dict`.
    """
    from wizard.fileio import FileRefused, read_regular

    file = Path(path) if path else project_path(project_dir)
    try:
        raw = read_regular(file, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ConfigError(
            f"no project file at {file}",
            hint="Run `wizard` to create one, or write `application: NAME` into it.",
        ) from None
    except FileRefused as exc:
        raise ConfigError(f"{file} {exc.reason}", hint="Name the project file itself.") from None
    except OSError as exc:
        from wizard.fileio import os_reason  # "notes.txt is a file, not a folder" for ENOTDIR

        raise ConfigError(f"cannot read {file}: {os_reason(exc, file)}") from None
    data = parse_yaml(raw, str(file))
    if data is None:
        data = {}
    try:
        return from_dict(data)
    except ConfigError as exc:
        exc.message = f"{file}: {exc.message}"
        raise


def parse_yaml(raw: bytes, name: str) -> Any:
    """Parse a project file's bytes with YAML's safe loader, refusing what a person never writes.

    Raises ConfigError naming `name` (and the line, and the key) for bytes that are not UTF-8,
    invalid YAML, nesting deeper than MAX_DEPTH, and a key given twice in one mapping (YAML
    forbids it; PyYAML would silently keep the last value).
    """
    import yaml

    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise ConfigError(
            f"{name}: line {line} column {column}: not UTF-8 text (byte 0x{byte})",
            hint="Save the file as UTF-8.",
        ) from None
    loader = _loader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_keys(node, name)
        return loader.construct_document(node) if node is not None else None
    except _TooDeep as exc:
        raise ConfigError(
            f"{name}: line {exc.line}: nested deeper than {MAX_DEPTH} levels",
            hint="A project file needs three.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{name}:{where}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


@functools.lru_cache(maxsize=1)
def _loader_class():
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that stops composing past MAX_DEPTH (PyYAML's composer recurses, so
        thousands of `[` would end in a RecursionError) instead of recursing into it."""

        _depth = 0

        def compose_node(self, parent, index):  # type: ignore[override]
            self._depth += 1
            try:
                if self._depth > MAX_DEPTH:
                    raise _TooDeep(self.peek_event().start_mark.line + 1)
                return super().compose_node(parent, index)
            finally:
                self._depth -= 1

    return Loader


def _loader(text: str):
    return _loader_class()(text)


def _check_keys(root: Any, name: str) -> None:
    """Refuse a mapping that holds a key twice, naming its dotted path (`instances.tag.key`).

    Walks the node graph once (an alias is visited once however often it is used, so a
    "billion laughs" document costs nothing); `<<` merge keys may be overridden, as YAML 1.1
    intends.
    """
    import yaml

    seen: set[int] = set()
    stack: list[tuple[Any, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is not None:
                    if key in keys:
                        dotted = f"{path}.{key}" if path else key
                        raise ConfigError(
                            f"{name}: line {key_node.start_mark.line + 1}: "
                            f"duplicate key {shown(dotted)}",
                            hint="YAML keys must be unique; keep one.",
                        )
                    keys.add(key)
                child = f"{path}.{key}" if path else str(key)
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append((item, f"{path}[{i}]"))


def exists(project_dir: str | os.PathLike[str] | None = None) -> bool:
    return project_path(project_dir).is_file()


def save(project: Project, project_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the project file atomically, keeping the user's comments and key order.

    Only values that differ from their derived defaults are written, so the file stays short and
    a changed application name still moves the derived names with it.
    """
    from wizard.fileio import atomic_write

    file = project_path(project_dir)
    data = project.to_dict(minimal=True)
    if file.exists():
        text = _merge_yaml(file.read_text(encoding="utf-8"), data)
    else:
        text = _dump_yaml(data)
    atomic_write(file, text, backup=False)
    return file


def _dump_yaml(data: dict) -> str:
    import yaml

    header = "# codedeploy-wizard project file: every answer setup needs. No secrets here.\n"
    return header + yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _merge_yaml(old_text: str, data: dict) -> str:
    """Round-trip merge with ruamel.yaml so comments and order survive."""
    import io

    from ruamel.yaml import YAML

    yml = YAML()
    yml.preserve_quotes = True
    try:
        doc = yml.load(old_text)
    except Exception:
        return _dump_yaml(data)
    if not isinstance(doc, dict):
        return _dump_yaml(data)
    _merge_into(doc, data)
    buf = io.StringIO()
    yml.dump(doc, buf)
    return buf.getvalue()


def _merge_into(doc: Any, data: dict) -> None:
    for key in list(doc.keys()):
        if key not in data:
            del doc[key]
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(doc.get(key), dict):
            _merge_into(doc[key], value)
        elif doc.get(key) != value:
            doc[key] = value
