"""Validate an AppSpec file offline, rule by rule as the CodeDeploy agent parses it.

Ground truth is the agent's own parser, aws/aws-codedeploy-agent (1.8.x), under
`lib/instance_agent/plugins/codedeploy/` (below: AGENT/…): `application_specification/
application_specification.rb` (top level, hooks, files, permissions), `ace_info.rb` (ACL entries),
`context_info.rb` and `range_info.rb` (SELinux context), `mode_info.rb`, `script_info.rb`,
`file_info.rb`, `linux_permission_info.rb`, and what Install does with the result
(`installer.rb`, `install_instruction.rb`) and how hooks run (`hook_executor.rb`,
`platform/linux_util.rb`). Each rule below cites the file it comes from.

Every finding says how the agent would take the file (`Finding.agent`):
- "rejects": the agent refuses the appspec (AppSpecValidationException, or a Ruby error while it
  parses or installs), so the deployment fails on every instance. Error, with the agent's meaning.
- "accepts": the agent takes the file. A warning when something happens silently (a script runs
  as the agent's user, the SELinux user is left to the default); an error only for the rules that
  are stricter by design, where something the author wrote would silently not happen (a misspelt
  hook whose scripts never run, a key the agent ignores, a permission that matches nothing, the
  3600 s event limit). Those messages say that the agent accepts the file and what would happen.

The YAML is read like the agent's Ruby loader (Psych, YAML 1.1): `0644` is the number 420, only
the first document counts, and on Ruby 3.1 or later (Psych 4: `YAML.load` is `safe_load`) aliases,
dates and `:symbols` are refused. ECS and Lambda appspecs are recognised as another platform.
Only PyYAML and the standard library: diagnose's bundle check imports this module.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wizard.validate import yamlnodes as yn
from wizard.validate.model import (
    ACCEPTS,
    ERROR,
    REJECTS,
    WARNING,
    Finding,
    quote,
    sort_findings,
)

SCRIPT_EVENTS = (
    "BeforeBlockTraffic",
    "AfterBlockTraffic",
    "ApplicationStop",
    "BeforeInstall",
    "AfterInstall",
    "ApplicationStart",
    "ValidateService",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)
AGENT_EVENTS = ("Start", "DownloadBundle", "Install", "BlockTraffic", "AllowTraffic", "End")
TOP_KEYS = ("version", "os", "files", "permissions", "hooks", "file_exists_behavior")
FILE_EXISTS = ("DISALLOW", "OVERWRITE", "RETAIN")
OSES = ("linux", "windows")
SCRIPT_KEYS = ("location", "timeout", "runas", "sudo")  # AGENT/application_specification.rb
PERMISSION_KEYS = (
    "object",
    "pattern",
    "except",
    "type",
    "owner",
    "group",
    "mode",
    "acls",
    "context",
)
CONTEXT_KEYS = ("name", "type", "range")  # AGENT/application_specification/context_info.rb
MAX_EVENT_TIMEOUT = 3600
RUBY = "Ruby 3.1 or later, as on Amazon Linux 2023 and Ubuntu 24.04"

INVISIBLE = {
    "\u00a0": "no-break space",
    "\u00ad": "soft hyphen",
    "\u200b": "zero-width space",
    "\u200c": "zero-width non-joiner",
    "\u200d": "zero-width joiner",
    "\u200e": "left-to-right mark",
    "\u200f": "right-to-left mark",
    "\u2028": "line separator",
    "\u2029": "paragraph separator",
    "\u202a": "bidi embedding",
    "\u202b": "bidi embedding",
    "\u202c": "bidi pop",
    "\u202d": "bidi override",
    "\u202e": "bidi override",
    "\u202f": "narrow no-break space",
    "\u2060": "word joiner",
    "\u3000": "ideographic space",
    "\ufeff": "byte order mark",
}

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_RUBY_INT = re.compile(r"\s*([+-]?\d+(?:_\d+)*)")
# Psych's implicit dates and times (YAML 1.1 timestamps): year-month-day, optionally a time
_DATE = re.compile(r"\d{4}-(?:1[012]|0\d|\d)-(?:[12]\d|3[01]|0\d|\d)")
_TIME = re.compile(
    r"-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?"
    r"(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?"
)


@dataclass
class AppspecResult:
    """What the validator found: the platform, the parsed mapping (or None) and the findings."""

    platform: str  # "server" | "ecs" | "lambda" | "unknown"
    data: Any
    findings: list[Finding] = field(default_factory=list)
    root: Any = field(default=None, repr=False, compare=False)  # the YAML node tree
    loader: Any = field(default=None, repr=False, compare=False)

    def position(self, *path: str | int) -> tuple[int, int]:
        """1-based (line, column) of the value at `path` (keys and list indexes), e.g.
        `position("files", 0, "source")`; the deepest node that exists, (1, 1) without a tree."""
        node = self.root
        if node is None:
            return 1, 1
        for step in path:
            if isinstance(node, MappingNode) and isinstance(step, str):
                hit = next((v for n, _, v in yn.items(self.loader, node) if n == step), None)
                if hit is None:
                    break
                node = hit
            elif isinstance(node, SequenceNode) and isinstance(step, int):
                if step >= len(node.value):
                    break
                node = node.value[step]
            else:
                break
        return yn.pos(node)

    @property
    def ok(self) -> bool:
        """True when nothing would make a deployment fail or silently skip a script."""
        return not any(f.severity == ERROR for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def agent_rejects(self) -> bool:
        """True when the CodeDeploy agent itself would refuse this appspec."""
        return any(f.agent == REJECTS for f in self.findings)


def nearest(word: str, options: tuple[str, ...] | list[str]) -> str | None:
    """The option the user most likely meant: same letters ignoring case/spaces, else close."""
    squash = re.sub(r"[\s_-]+", "", word).lower()
    for opt in options:
        if re.sub(r"[\s_-]+", "", opt).lower() == squash:
            return opt
    lowered = {o.lower(): o for o in options}
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.75)
    return lowered[hits[0]] if hits else None


def _mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    near = nearest(word, options)
    return f" (did you mean {quote(near)}?)" if near and near != word else ""


# --------------------------------------------------------------------------- agent value rules
def ruby_to_i(text: str) -> int:
    """Ruby's String#to_i: the leading integer (underscores between digits allowed), else 0."""
    m = _RUBY_INT.match(text)
    return int(m.group(1).replace("_", "")) if m else 0


def ace_problem(ace: str) -> str | None:
    """Why the agent refuses one `acls` entry, or None when it accepts it.

    AGENT/application_specification/ace_info.rb (AceInfo#initialize): the entry is split on `:`
    from the right into 2-4 parts, `[d[efault]:][u[ser]|g[roup]|m[ask]|o[ther]:]NAME:PERMS`; a
    leading part may only be d/default (once); a mask or other entry may not name anyone; a base
    entry (user/group/other without a name) is refused unless it is a default (`d:`) entry; the
    permissions are one octal digit or any of `r`, `w`, `x`, `-`.
    """
    parts = ace.split(":")[::-1]  # Ruby's split(":", -1) keeps empty fields, as Python's does
    if not 2 <= len(parts) <= 4:
        return (
            f"an entry has 2 to 4 ':'-separated parts ([d:][u|g|m|o:]NAME:PERMS), not {len(parts)}"
        )
    default = False
    kind: str | None = None
    name = ""
    if len(parts) == 4:
        if parts[3] not in ("d", "default"):
            return f"the first of four parts must be d or default, not {quote(parts[3])}"
        default = True
    if len(parts) >= 3:
        lead = parts[2]
        if lead in ("d", "default"):
            if default:
                return "default (d:) is given twice"
            default = True
        elif lead in ("m", "mask"):
            kind = "mask"
        elif lead in ("o", "other"):
            kind = "other"
        elif lead in ("g", "group"):
            kind = "group"
        elif lead in ("u", "user"):
            kind = "user"
        else:
            return f"{quote(lead)} is not u, g, m, o (or user, group, mask, other) or d"
    who = parts[1]
    if who in ("m", "mask", "o", "other"):
        if kind is None:
            kind = "mask" if who in ("m", "mask") else "other"
        else:
            name = "mask" if who in ("m", "mask") else "other"
    else:
        kind = kind or "user"
        name = who
    if kind in ("mask", "other") and name:
        return f"a {kind} entry cannot name a user or group ({quote(name)})"
    if not default and kind != "mask" and not name:
        return (
            f"a {kind} entry without a name is the base entry, which the agent refuses ('Use "
            "mode to set the base acl entry'): set it with mode"
        )
    perms = parts[0]
    if len(perms) == 1 and perms in "01234567":
        return None
    bad = next((c for c in perms if c not in "rwx-"), None)
    if bad is not None:
        return (
            f"the permissions {quote(perms)} contain {quote(bad)}, which the agent refuses "
            f"('contains an invalid character ({bad})' … 'Invalid acl entry'): use r, w, x, - or "
            "one octal digit"
        )
    return None


def _split_parts(text: str, sep: str) -> list[str] | None:
    """AGENT/application_specification/range_info.rb (ensure_parts): one part, or two around the
    first `sep`, none of them empty; None when that does not hold."""
    parts = text.split(sep, 1)
    return parts if all(parts) else None


def _sensitivity(text: str) -> int | None:
    """range_info.rb (getSensitivityNumber): `s` followed by decimal digits."""
    if len(text) < 2 or not text.startswith("s") or not text[1:].isascii():
        return None
    return int(text[1:]) if text[1:].isdigit() else None


def _category(text: str) -> int | None:
    """range_info.rb (get_category_number): `c` followed by decimal digits, at most 1023."""
    if len(text) < 2 or not text.startswith("c") or not text[1:].isascii():
        return None
    if not text[1:].isdigit() or int(text[1:]) > 1023:
        return None
    return int(text[1:])


def range_problem(text: str) -> str | None:
    """Why the agent refuses an SELinux `range`, or None when it accepts it.

    AGENT/application_specification/range_info.rb (RangeInfo#initialize), format
    `sN[-sM][:cA[.cB][,cC…]]`: sensitivities are `s` + digits with the high one not below the
    low one; categories are `c0`…`c1023`, a `cA.cB` span must not run backwards, and no category
    may appear twice (spans included). Ruby's `split(",")` drops trailing empty fields, so a
    trailing comma is accepted.
    """
    parts = _split_parts(text, ":")
    if parts is None:
        return f"invalid range part {quote(text)}"
    levels = _split_parts(parts[0], "-")
    if levels is None:
        return f"invalid range part {quote(parts[0])}"
    low = _sensitivity(levels[0])
    if low is None:
        return f"invalid sensitivity {quote(levels[0])} (write s0, s1, …)"
    if len(levels) == 2:
        high = _sensitivity(levels[1])
        if high is None:
            return f"invalid sensitivity {quote(levels[1])} (write s0, s1, …)"
        if high < low:
            return f"the high sensitivity {levels[1]} is below the low one {levels[0]}"
    if len(parts) == 1:
        return None
    fields = parts[1].split(",")
    while fields and fields[-1] == "":
        fields.pop()
    seen: list[int] = []
    for item in fields:
        if "." in item:
            span = _split_parts(item, ".")
            if span is None:
                return f"invalid range part {quote(item)}"
            lo, hi = _category(span[0]), _category(span[1])
            bad = span[0] if lo is None else span[1] if hi is None else None
            if bad is not None:
                return f"invalid category {quote(bad)} (c0 … c1023)"
            assert lo is not None and hi is not None
            if hi < lo:
                return f"invalid category range {item} (runs backwards)"
            seen += range(lo, hi + 1)
        else:
            c = _category(item)
            if c is None:
                return f"invalid category {quote(item)} (c0 … c1023)"
            seen.append(c)
    if len(set(seen)) != len(seen):
        return "duplicate categories"
    return None


# --------------------------------------------------------------------------- text-level checks
def _comment_start(line: str) -> int:
    """Where a comment starts on a line (heuristic: `#` at the start or after a blank)."""
    for i, ch in enumerate(line):
        if ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return i
    return len(line)


def text_findings(text: str, prefix: str = "appspec") -> list[Finding]:
    """CRLF line endings and invisible characters outside comments."""
    out: list[Finding] = []
    if "\r\n" in text:
        line = text[: text.index("\r\n")].count("\n") + 1
        out.append(
            Finding(
                line,
                1,
                WARNING,
                f"{prefix}.crlf",
                "Windows (CRLF) line endings: YAML copes, but keep LF (hook scripts with CRLF "
                "fail with 'bad interpreter: ^M')",
            )
        )
    reported = 0
    for n, raw in enumerate(text.split("\n"), start=1):
        limit = _comment_start(raw)
        for col, ch in enumerate(raw[:limit], start=1):
            if ch in INVISIBLE and not (n == 1 and col == 1 and ch == "\ufeff"):
                out.append(
                    Finding(
                        n,
                        col,
                        ERROR,
                        f"{prefix}.invisible-char",
                        f"invisible character U+{ord(ch):04X} ({INVISIBLE[ch]}): it becomes part "
                        "of the key or value, so the agent reads another name than you see; "
                        "retype the line",
                    )
                )
                reported += 1
                break
        if reported >= 20:
            break
    return out


def _tidy_yaml_error(f: Finding) -> Finding:
    extra = " (a tab: YAML indentation must use spaces)" if "'\\t'" in f.message else ""
    return Finding(
        f.line,
        f.column,
        f.severity,
        f.rule,
        f"{f.message}{extra}; the agent's YAML loader refuses the file too",
        agent=REJECTS,
    )


# --------------------------------------------------------------------------- entry point
def validate_appspec_text(text: str, path: str = "appspec.yml") -> AppspecResult:
    """Validate the text of an appspec file. Never raises: every problem is a finding.

    Returns an AppspecResult: `platform` ("server", "ecs", "lambda" or "unknown"), the data as
    YAML 1.1 reads it (None when unreadable) and the findings, sorted by position.
    """
    try:
        return _validate(text, path)
    except RecursionError:
        return AppspecResult(
            "unknown",
            None,
            [
                Finding(
                    1,
                    1,
                    ERROR,
                    "appspec.yaml",
                    "not valid YAML: nesting too deep to read",
                    agent=REJECTS,
                )
            ],
        )
    except Exception as exc:  # a validator bug must not crash a user's run
        return AppspecResult(
            "unknown",
            None,
            [
                Finding(
                    1,
                    1,
                    ERROR,
                    "appspec.yaml",
                    f"could not be checked ({type(exc).__name__}: {exc})",
                )
            ],
        )


def _rest_has_content(text: str, line: int) -> bool:
    """Is there anything but blank lines, comments and document markers from `line` on?"""
    for raw in text.split("\n")[line - 1 :]:
        body = raw[: _comment_start(raw)].strip()
        if body and body not in ("---", "..."):
            return True
    return False


def _validate(text: str, path: str) -> AppspecResult:
    if not isinstance(text, str):
        raise TypeError("text must be str")
    findings = text_findings(text)
    empty = (
        "the file holds no settings: the agent fails with 'the application specification "
        "file was empty' (version and os are required)"
    )  # AGENT/application_specification/application_specification.rb (initialize)
    stripped = text.lstrip("\ufeff")
    if not stripped.strip():
        findings.append(Finding(1, 1, ERROR, "appspec.empty", empty, agent=REJECTS))
        return AppspecResult("unknown", None, sort_findings(findings))

    yaml_text = text
    if stripped.lstrip().startswith(("{", "[")):
        try:
            json.loads(stripped)
            yaml_text = text.replace("\t", " ")  # JSON allows tabs as blanks, YAML does not
        except ValueError:
            pass

    # AGENT/application_specification/application_specification.rb: `YAML.load(text)`; Psych
    # returns at the end of the first document, so anything after a second `---` is unread
    root, loader, err, second = yn.compose_first(yaml_text, yn.Yaml11Loader, "appspec.yaml")
    if err is not None:
        findings.append(_tidy_yaml_error(err))
        return AppspecResult("unknown", None, sort_findings(findings))
    if second is not None and _rest_has_content(yaml_text, second[0]):
        findings.append(
            Finding(
                *second,
                ERROR,
                "appspec.yaml",
                "a second YAML document (`---`): the agent accepts the file but reads only the "
                "first document, so everything from here on is silently ignored; put it all in "
                "one",
                agent=ACCEPTS,
            )
        )
    if root is None or yn.is_null(loader, root):
        findings.append(Finding(1, 1, ERROR, "appspec.empty", empty, agent=REJECTS))
        return AppspecResult("unknown", None, sort_findings(findings))
    findings += _psych_findings(loader, root)

    for f in yn.duplicate_keys(loader, root, "appspec.duplicate-key"):
        findings.append(
            Finding(
                f.line,
                f.column,
                f.severity,
                f.rule,
                f.message + " (the agent accepts the file and uses the last one)",
                agent=ACCEPTS,
            )
        )
    data = yn.value(loader, root)
    if data is yn.BAD:
        findings.append(
            Finding(
                *yn.pos(root),
                ERROR,
                "appspec.yaml",
                "not valid YAML: a value cannot be read",
                agent=REJECTS,
            )
        )
        data = None
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        # application_specification.rb reads yaml_hash['version']: a list or a number fails
        findings.append(
            Finding(
                *yn.pos(root),
                ERROR,
                "appspec.structure",
                f"an appspec is a mapping of settings (version, os, files, hooks), "
                f"not {yn.type_name(root, loader)}: the agent cannot read its version",
                agent=REJECTS,
            )
        )
        return AppspecResult("unknown", data, sort_findings(findings))

    v = _Checker(loader, root, findings)
    platform = v.platform(data)
    if platform == "server":
        v.server()
    return AppspecResult(platform, data, sort_findings(findings), root, loader)


def _psych_findings(loader: Any, root: Node) -> list[Finding]:
    """What Ruby 3.1+'s `YAML.load` (Psych 4 `safe_load`) refuses and PyYAML reads: aliases,
    implicit dates/times and `:symbols` (psych: visitors/to_ruby.rb, scalar_scanner.rb; Ruby
    bug #17866; ruby/psych#593 shows the 'Unknown alias' error)."""
    out: list[Finding] = []
    for ev in getattr(loader, "alias_events", [])[:5]:
        out.append(
            Finding(
                *yn.pos(ev),
                ERROR,
                "appspec.alias",
                f"YAML alias *{ev.anchor}: the agent's YAML loader refuses aliases on {RUBY} "
                f"('Unknown alias: {ev.anchor}' / 'Alias parsing was not enabled'), so the "
                "deployment fails; write the value out in full",
                agent=REJECTS,
            )
        )
    seen: set[int] = set()
    stack = [root]
    while stack and len(out) < 25:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack += [v, k]
        elif isinstance(node, SequenceNode):
            stack += node.value
        elif isinstance(node, ScalarNode) and node.style is None:
            raw = node.value
            what = None
            if _DATE.fullmatch(raw) or _TIME.fullmatch(raw):
                what = "a date (Ruby class Date/Time)"
            elif raw.startswith(":") and len(raw) > 1:
                what = "a Ruby symbol"
            if what:
                out.append(
                    Finding(
                        *yn.pos(node),
                        ERROR,
                        "appspec.yaml",
                        f"{quote(raw)} is read by the agent's YAML loader as {what}, which it "
                        f"refuses on {RUBY} ('Tried to load unspecified class'); quote it",
                        agent=REJECTS,
                    )
                )
    return out


class _Checker:
    def __init__(self, loader: Any, root: MappingNode, findings: list[Finding]) -> None:
        self.loader = loader
        self.root = root
        self.findings = findings
        self.top: dict[str, tuple[Node, Node]] = {}
        for name, k, val in yn.items(loader, root):
            self.top[name] = (k, val)  # the last one wins, as in YAML
        self.os: str | None = None

    # ------------------------------------------------------------------ helpers
    def reject(self, node: Any, rule: str, message: str) -> None:
        """The agent refuses the file (or fails while installing it): an error."""
        self.findings.append(Finding(*yn.pos(node), ERROR, rule, message, agent=REJECTS))

    def strict(self, node: Any, rule: str, message: str) -> None:
        """Stricter than the agent by design: the message says what would silently happen."""
        self.findings.append(Finding(*yn.pos(node), ERROR, rule, message, agent=ACCEPTS))

    def warn(self, node: Any, rule: str, message: str) -> None:
        """The agent accepts it; something happens silently that the author should know."""
        self.findings.append(Finding(*yn.pos(node), WARNING, rule, message, agent=ACCEPTS))

    def val(self, node: Node) -> Any:
        return yn.value(self.loader, node)

    def text(self, node: Node) -> str | None:
        """A scalar as the agent's `to_s` gives it (numbers too), or None for null/non-scalars."""
        if not isinstance(node, ScalarNode):
            return None
        v = self.val(node)
        if v is None or v is yn.BAD:
            return None
        if isinstance(v, str):
            return v
        return str(node.value)

    def is_text(self, node: Node) -> bool:
        """A scalar the agent gets as a Ruby String (not a number, boolean or null)."""
        return isinstance(node, ScalarNode) and isinstance(self.val(node), str)

    def null(self, node: Node | None) -> bool:
        return yn.is_null(self.loader, node)

    def falsy(self, node: Node | None) -> bool:
        """null or false: what Ruby's `x || default` replaces with the default."""
        return self.null(node) or (isinstance(node, ScalarNode) and self.val(node) is False)

    # ------------------------------------------------------------------ platform
    def platform(self, data: dict) -> str:
        keys = {str(k) for k in data}
        res_key = next((k for k in keys if k.lower() == "resources"), None)
        if "applicationName" in keys or "revision" in keys:
            self.reject(
                self.root,
                "appspec.not-appspec",
                "this is a create-deployment input (applicationName/revision), not an AppSpec "
                "file; its AppSpec is the text under revision.appSpecContent.content",
            )
            return "unknown"
        if res_key is None:
            if not {k.lower() for k in keys} & {*TOP_KEYS, "file"}:
                self.reject(
                    self.root,
                    "appspec.not-appspec",
                    "none of the AppSpec settings (version, os, files, hooks) is here: "
                    "this does not look like an AppSpec file",
                )
                return "unknown"
            return "server"
        resources = data.get(res_key)
        if "AWSTemplateFormatVersion" in keys or "Transform" in keys or isinstance(resources, dict):
            self.reject(
                self.root,
                "appspec.not-appspec",
                "this is a CloudFormation/SAM template (Resources is a mapping), "
                "not an AppSpec file",
            )
            return "unknown"
        found = " ".join(_strings(resources))
        if "AWS::ECS::Service" in found or "TargetService" in found:
            platform, label = "ecs", "an Amazon ECS"
        elif "AWS::Lambda::Function" in found or "TargetFunction" in found:
            platform, label = "lambda", "an AWS Lambda"
        else:
            self.reject(
                self.top[res_key][0],
                "appspec.platform",
                "Resources names neither an ECS service (TargetService, AWS::ECS::Service) nor a "
                "Lambda function (AWS::Lambda::Function)",
            )
            return "unknown"
        mixed = [k for k in ("files", "permissions") if k in self.top]
        if mixed:
            # an ECS/Lambda AppSpec has version, Resources and hooks only (user guide, "AppSpec
            # 'resources' section"); the EC2 agent would reject it for lack of `os`
            self.reject(
                self.top[mixed[0]][0],
                "appspec.platform",
                f"`{mixed[0]}` (EC2/On-Premises) mixed with {platform.upper()} Resources: "
                "neither platform can deploy this file; keep one of them",
            )
        else:
            self.warn(
                self.top[res_key][0],
                "appspec.platform",
                f"{label} AppSpec (Resources): another compute platform; only EC2/On-Premises "
                "(Server) appspecs are checked in depth",
            )
        self.version()
        return platform

    # ------------------------------------------------------------------ server platform
    def server(self) -> None:
        for name, (knode, _) in self.top.items():
            if name in TOP_KEYS:
                continue
            # application_specification.rb reads only the six keys above: the rest is ignored
            if name in SCRIPT_EVENTS or name in AGENT_EVENTS or nearest(name, SCRIPT_EVENTS):
                self.strict(
                    knode,
                    "appspec.unknown-key",
                    f"{quote(name)} at the top level: the agent accepts the file but ignores it, "
                    "so its scripts never run; indent it under `hooks:`",
                )
            elif nearest(name, TOP_KEYS):
                self.strict(
                    knode,
                    "appspec.unknown-key",
                    f"unknown key {quote(name)}: the agent accepts the file but ignores it"
                    f"{_mean(name, TOP_KEYS)}",
                )
            else:
                self.warn(
                    knode,
                    "appspec.unknown-key",
                    f"unknown key {quote(name)} is ignored by the agent",
                )
        self.version()
        self.os_()
        self.file_exists()
        self.files()
        self.permissions()
        self.hooks()

    def version(self) -> None:
        # application_specification.rb (parse_version): `[0.0].include?(version)`, Ruby's ==,
        # so 0 and 0.0 pass and the string "0.0" does not
        if "version" not in self.top:
            self.reject(
                self.root,
                "appspec.version",
                "`version: 0.0` is required: the agent fails with 'invalid version value ()'",
            )
            return
        node = self.top["version"][1]
        v = self.val(node)
        if isinstance(v, str) and v.strip() in ("0.0", "0"):
            self.reject(
                node,
                "appspec.version",
                f"version must be the number 0.0, not the string {quote(v)}: the agent fails "
                "with 'invalid version value'; remove the quotes",
            )
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or v != 0:
            shown = node.value if isinstance(node, ScalarNode) else yn.type_name(node)
            self.reject(
                node,
                "appspec.version",
                f"version must be 0.0 (the only AppSpec version), not {shown or 'empty'}: the "
                "agent fails with 'invalid version value'",
            )

    def os_(self) -> None:
        # application_specification.rb (parse_os): exactly "linux" or "windows"; and only the
        # instance's own (platform/linux_util.rb supported_oses is ['linux'])
        if "os" not in self.top:
            self.reject(
                self.root,
                "appspec.os",
                "`os: linux` or `os: windows` is required: the agent fails with 'unsupported "
                "operating system ()'",
            )
            return
        node = self.top["os"][1]
        v = self.text(node)
        if v in OSES:
            self.os = v
            return
        agent = " (the agent fails with 'unsupported operating system')"
        if v is None:
            self.reject(node, "appspec.os", "os must be linux or windows, not empty" + agent)
        elif v.lower() in OSES:
            self.reject(node, "appspec.os", f"os must be lower case: {v.lower()}" + agent)
            self.os = v.lower()
        else:
            hint = ""
            low = v.lower()
            if any(d in low for d in ("ubuntu", "amazon", "centos", "rhel", "redhat", "debian")):
                hint = " (every Linux distribution is `linux`)"
            elif "win" in low:
                hint = " (did you mean 'windows'?)"
            self.reject(
                node, "appspec.os", f"os must be linux or windows, not {quote(v)}{hint}" + agent
            )

    def file_exists(self) -> None:
        # application_specification.rb (parse_file_exists_behavior): null, or one of three
        if "file_exists_behavior" not in self.top:
            return
        node = self.top["file_exists_behavior"][1]
        if self.null(node):
            return
        v = self.text(node)
        if v in FILE_EXISTS:
            return
        hint = f" (write {v.upper()})" if v and v.upper() in FILE_EXISTS else ""
        self.reject(
            node,
            "appspec.file-exists-behavior",
            f"file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN, not {quote(v)}{hint}: "
            "the agent fails with 'invalid file_exists_behavior value'",
        )

    # ------------------------------------------------------------------ files
    def files(self) -> None:
        # application_specification.rb (parse_files): `(files || []).each`, each entry a
        # FileInfo (file_info.rb) needing a source and a destination
        if "files" not in self.top:
            return
        knode, node = self.top["files"]
        if self.falsy(node):
            self.warn(knode, "appspec.files-empty", "files is empty: nothing will be copied")
            return
        if not isinstance(node, SequenceNode):
            self.reject(
                node,
                "appspec.files",
                f"files must be a list of `- source: … destination: …`, not "
                f"{yn.type_name(node, self.loader)}: the agent fails reading it",
            )
            return
        if not node.value:
            self.warn(knode, "appspec.files-empty", "files is empty: nothing will be copied")
        seen: dict[tuple[str, str], Node] = {}
        landing: dict[tuple[str, str], Node] = {}
        for entry in node.value:
            if not isinstance(entry, MappingNode):
                self.reject(
                    entry,
                    "appspec.files",
                    "each files entry must be a mapping with source and destination: the agent "
                    "fails with 'specifies a destination file, but no source file'",
                )
                continue
            fields = {name: (k, val) for name, k, val in yn.items(self.loader, entry)}
            for name, (k, _) in fields.items():
                if name in ("source", "destination"):
                    continue
                self.warn(k, "appspec.files-unknown-key", _files_key_message(name))
            src = self._file_field(fields, "source", entry, "appspec.files-source")
            dst = self._file_field(fields, "destination", entry, "appspec.files-destination")
            if src is not None:
                self._check_source(src, fields["source"][1])
            if dst is not None:
                self._check_destination(dst, fields["destination"][1])
            if src is None or dst is None:
                continue
            nsrc, ndst = _norm(src, self.os), _norm(dst, self.os)
            if (nsrc, ndst) in seen:
                # install_instruction.rb (copy): one destination path, one source
                line, _ = yn.pos(seen[(nsrc, ndst)])
                self.reject(
                    entry,
                    "appspec.files-duplicate",
                    f"the same source and destination as the entry on line {line}: Install fails "
                    "with 'two source files … for the same destination'",
                )
                continue
            seen[(nsrc, ndst)] = entry
            base = nsrc.rsplit("/", 1)[-1]
            if "." in base.strip(".") and not base.startswith("."):  # looks like a file
                final = (ndst, base)
                if final in landing:
                    line, _ = yn.pos(landing[final])
                    self.reject(
                        entry,
                        "appspec.files-duplicate",
                        f"two files land on the same path {dst.rstrip('/')}/{base} (also from "
                        f"the entry on line {line}): Install fails with 'two source files … for "
                        "the same destination'",
                    )
                else:
                    landing[final] = entry

    def _file_field(
        self, fields: dict[str, tuple[Node, Node]], name: str, entry: Node, rule: str
    ) -> str | None:
        agent = (
            "'specifies a destination file, but no source file'"
            if name == "source"
            else "'specifies only a source file'"
        )
        if name not in fields or self.null(fields[name][1]):
            where = entry if name not in fields else fields[name][1]
            msg = f"this files entry has no {name}: the agent fails with {agent}"
            self.reject(where, rule, msg)
            return None
        node = fields[name][1]
        if not self.is_text(node):
            # installer.rb joins it to a path (File.join): a number or a list is a TypeError
            self.reject(
                node,
                rule,
                f"{name} must be a path, not {yn.type_name(node, self.loader)}: Install fails "
                "joining it to a path",
            )
            return None
        return self.text(node)

    def _check_source(self, src: str, node: Node) -> None:
        rule = "appspec.files-source"
        # installer.rb (generate_instructions): File.join(archive, source), taken literally
        if any(ch in src for ch in "*?[") and src.strip() not in ("/", "."):
            self.reject(
                node,
                rule,
                f"source {quote(src)} is taken literally, not as a glob: Install fails with 'No "
                "such file or directory' unless a file of exactly that name exists (use `/` for "
                "everything, or name the folder)",
            )
        if ".." in re.split(r"[\\/]+", src):
            self.strict(
                node,
                rule,
                f"source {quote(src)} leaves the bundle: the agent accepts it and copies from "
                "outside the unpacked revision (relative to the bundle root)",
            )
        if _DRIVE.match(src):
            self.reject(
                node,
                rule,
                f"source {quote(src)} must be relative to the bundle root, not a drive path: "
                "Install finds no such file",
            )

    def _check_destination(self, dst: str, node: Node) -> None:
        rule = "appspec.files-destination"
        is_win = bool(_DRIVE.match(dst)) or dst.startswith("\\\\")
        if self.os == "linux" and is_win:
            self.strict(
                node,
                rule,
                f"{quote(dst)} is a Windows path in a linux appspec: the agent accepts it and "
                "creates a folder of that odd name under its working directory",
            )
        elif self.os == "windows" and dst.startswith("/"):
            self.strict(
                node,
                rule,
                f"{quote(dst)} is a Linux path in a windows appspec: the agent accepts it and "
                "writes to the root of the agent's current drive",
            )
        elif not is_win and not dst.startswith("/"):
            # install_instruction.rb expands it with File.expand_path: against the agent's cwd
            self.strict(
                node,
                rule,
                f"destination {quote(dst)} must be an absolute path"
                + (" (e.g. C:\\app)" if self.os == "windows" else " (starting with /)")
                + ": the agent accepts it and resolves it against its own working directory",
            )
        if "$" in dst or ("%" in dst and self.os == "windows"):
            self.warn(
                node,
                rule,
                f"{quote(dst)}: variables are not expanded in an appspec; "
                "the path is taken literally",
            )

    # ------------------------------------------------------------------ permissions
    def permissions(self) -> None:
        # application_specification.rb (parse_permissions)
        if "permissions" not in self.top:
            return
        knode, node = self.top["permissions"]
        if self.falsy(node):
            return
        if not isinstance(node, SequenceNode):
            self.reject(
                node,
                "appspec.permissions",
                "permissions must be a list of `- object: …` entries: the agent fails reading it",
            )
            return
        if self.os == "windows" and node.value:
            self.reject(
                knode,
                "appspec.permissions-windows",
                "permissions apply to Linux only: the agent fails with 'specifies file "
                "permissions, but the deployment is targeting one or more Windows Server "
                "instances'",
            )
            return
        objects: list[tuple[str, Node, str, frozenset[str]]] = []
        for entry in node.value:
            if not isinstance(entry, MappingNode):
                self.reject(
                    entry,
                    "appspec.permissions",
                    "each permissions entry must be a mapping: the agent fails reading it",
                )
                continue
            fields = {name: (k, val) for name, k, val in yn.items(self.loader, entry)}
            for name, (k, _) in fields.items():
                if name not in PERMISSION_KEYS:
                    self.warn(
                        k,
                        "appspec.permissions-unknown-key",
                        f"unknown permissions key {quote(name)} is ignored"
                        f"{_mean(name, PERMISSION_KEYS)}",
                    )
            obj = self._perm_entry(entry, fields)
            if obj is not None:
                objects.append(obj)
        self._overlaps(objects)

    def _perm_entry(
        self, entry: Node, fields: dict[str, tuple[Node, Node]]
    ) -> tuple[str, Node, str, frozenset[str]] | None:
        """Check one entry; (object, node, pattern, types) when it names an object."""
        obj: str | None = None
        if "object" not in fields or self.null(fields["object"][1]):
            self.reject(
                entry if "object" not in fields else fields["object"][1],
                "appspec.permissions-object",
                "`object` is required: the agent fails with 'a permission … has no object value'",
            )
        else:
            onode = fields["object"][1]
            obj = (self.text(onode) or "").strip()  # linux_permission_info.rb: to_s, strip
            if not obj:
                self.reject(
                    onode,
                    "appspec.permissions-object",
                    "object must be a path, not empty: the agent fails with 'has no object value'",
                )
                obj = None
            elif not obj.startswith("/"):
                # installer.rb matches it against the absolute paths Install writes
                self.strict(
                    onode,
                    "appspec.permissions-object",
                    f"object {quote(obj)} must be an absolute path on the instance: the agent "
                    "accepts it, but it matches none of the deployed files, so these "
                    "permissions are never applied",
                )
                obj = None
        pattern = "**"
        if "pattern" in fields and not self.null(fields["pattern"][1]):
            if not self.is_text(fields["pattern"][1]):
                self.reject(
                    fields["pattern"][1],
                    "appspec.permissions-pattern",
                    'pattern must be a glob in quotes, e.g. "**": Install fails matching it',
                )
            else:
                pattern = self.text(fields["pattern"][1]) or "**"
        has_except = False
        if "except" in fields and not self.null(fields["except"][1]):
            has_except = self._str_list(fields["except"][1], "except")
        types = frozenset(("file", "directory"))
        if "type" in fields and not self.null(fields["type"][1]):
            tnode = fields["type"][1]
            if self._str_list(tnode, "type") and isinstance(tnode, SequenceNode):
                got = set()
                for item in tnode.value:
                    t = self.text(item)
                    if t is not None and t not in ("file", "directory"):
                        self.reject(
                            item,
                            "appspec.permissions-type",
                            f"type must be file or directory, not {quote(t)}: the agent fails "
                            "with 'a permission for an object type not supported'",
                        )
                    elif t:
                        got.add(t)
                types = frozenset(got)
        for name in ("owner", "group"):
            if name in fields:
                self._owner(fields[name], name)
        if "mode" in fields:
            self._mode(fields["mode"])
        if "acls" in fields and not self.null(fields["acls"][1]):
            self._acls(fields["acls"][1])
        if "context" in fields and not self.null(fields["context"][1]):
            self._context(fields["context"][1])
        if obj is None or has_except:
            return None
        return obj.rstrip("/") or "/", fields["object"][1], pattern, types

    def _overlaps(self, objects: list[tuple[str, Node, str, frozenset[str]]]) -> None:
        """install_instruction.rb (set_permissions): an object gets permissions once; a second
        entry matching the same installed path fails Install with 'the permissions setting for
        (…) is specified more than once'."""
        for i, (obj, node, pattern, types) in enumerate(objects):
            for prev, pnode, ppattern, ptypes in objects[:i]:
                if not types & ptypes:
                    continue
                same = obj == prev and pattern == ppattern
                inner, outer = (obj, prev) if len(obj) > len(prev) else (prev, obj)
                outer_pattern = ppattern if outer == prev else pattern
                nested = (
                    obj != prev
                    and outer_pattern == "**"
                    and inner.startswith(outer.rstrip("/") + "/")
                )
                if same or nested:
                    line, _ = yn.pos(pnode)
                    what = (
                        f"object {obj} is set twice (also on line {line})"
                        if same
                        else f"{inner} lies under {outer} (line {line}), whose pattern `**` "
                        f"already covers it"
                    )
                    self.reject(
                        node,
                        "appspec.permissions-duplicate",
                        f"{what}: Install fails with 'the permissions setting for (…) is "
                        "specified more than once' as soon as a file is deployed there; give "
                        "each path one entry (use pattern/except to split)",
                    )
                    break

    def _str_list(self, node: Node, name: str) -> bool:
        """`except`/`type` must be lists of text (parse_simple_glob_list, parse_type_list)."""
        if not isinstance(node, SequenceNode):
            self.reject(
                node,
                f"appspec.permissions-{name}",
                f"{name} must be a list (`- item` lines), not "
                f"{yn.type_name(node, self.loader)}: the agent fails reading it",
            )
            return False
        ok = True
        for item in node.value:
            if not self.is_text(item):
                self.reject(
                    item,
                    f"appspec.permissions-{name}",
                    f"{name} items must be text: the agent fails matching "
                    f"{yn.type_name(item, self.loader)}",
                )
                ok = False
        return ok and bool(node.value)

    def _owner(self, pair: tuple[Node, Node], name: str) -> None:
        # install_instruction.rb (ChangeOwnerCommand): Etc.getpwnam/getgrnam when not nil
        knode, node = pair
        if self.null(node):
            self.warn(
                knode,
                f"appspec.permissions-{name}",
                f"{name} is empty: the agent leaves the {name} as it is",
            )
        elif not self.is_text(node):
            self.reject(
                node,
                f"appspec.permissions-{name}",
                f"{name} must be a {'user' if name == 'owner' else 'group'} name, not "
                f"{yn.type_name(node, self.loader)}: Install fails looking it up",
            )
        elif not (self.text(node) or "").strip():
            self.reject(
                node,
                f"appspec.permissions-{name}",
                f"{name} is an empty name: Install fails looking it up ('can't find "
                f"{'user' if name == 'owner' else 'group'} for ')",
            )

    def _mode(self, pair: tuple[Node, Node]) -> None:
        # mode_info.rb (ModeInfo#initialize): mode.to_s, padded to 3 with zeros, at most 4
        # characters, each 0-7
        knode, node = pair
        if self.null(node):
            self.warn(knode, "appspec.mode", "mode is empty: the agent leaves modes as they are")
            return
        if not isinstance(node, ScalarNode):
            self.reject(
                node,
                "appspec.mode",
                f"mode must be 1-4 octal digits such as 644, not {yn.type_name(node, self.loader)}"
                ": the agent fails with 'contains an invalid character'",
            )
            return
        v = self.val(node)
        raw = str(node.value)
        if isinstance(v, bool):
            digits = "true" if v else "false"  # Ruby's true.to_s
        elif isinstance(v, float):
            digits = repr(v)
        else:
            digits = str(v)
        padded = digits.rjust(3, "0")
        problem = None
        if len(padded) > 4:
            problem = "'the length of a permissions mode … is invalid' (at most 4 digits)"
        elif any(c not in "01234567" for c in padded):
            bad = next(c for c in padded if c not in "01234567")
            problem = f"'contains an invalid character ({bad})'"
        # YAML 1.1, Psych as well, reads 0644 as the octal number 420
        trap = isinstance(v, int) and not isinstance(v, bool) and raw != digits
        trap = trap and bool(re.fullmatch(r"0[0-7]{1,3}", raw))
        if trap and problem:
            self.reject(
                node,
                "appspec.mode",
                f"mode {raw} is read by YAML 1.1 as an octal number (decimal {v}), and the agent "
                f"refuses mode {v}: {problem}; write {raw.lstrip('0') or '0'} without the "
                "leading zero",
            )
        elif trap:
            self.strict(
                node,
                "appspec.mode",
                f"mode {raw} is read by YAML 1.1 as an octal number (decimal {v}): the agent "
                f"accepts it and applies mode {v}; write {raw.lstrip('0') or '0'} without the "
                "leading zero",
            )
        elif problem:
            self.reject(
                node,
                "appspec.mode",
                f"mode {quote(digits)}: the agent fails with {problem}; write octal digits "
                "such as 644",
            )
        elif digits == "":
            self.strict(
                node,
                "appspec.mode",
                "mode is an empty string: the agent accepts it and applies mode 000, which "
                "locks everyone out; write the digits (644) or leave mode out",
            )

    def _acls(self, node: Node) -> None:
        # acl_info.rb (AclInfo#initialize): `acl.each`, each entry an AceInfo
        if not isinstance(node, SequenceNode):
            self.reject(
                node,
                "appspec.acls",
                "acls must be a list like `- u:deploy:rwx`: the agent fails reading it",
            )
            return
        for item in node.value:
            if not self.is_text(item):
                self.reject(
                    item,
                    "appspec.acls",
                    f"ACL entries are text like u:deploy:rwx, not "
                    f"{yn.type_name(item, self.loader)}: the agent fails reading it",
                )
                continue
            t = self.text(item) or ""
            why = ace_problem(t)
            if why:
                said = "agent refuses" in why
                agent = "" if said else "; the agent fails with 'Invalid acl entry'"
                self.reject(item, "appspec.acls", f"ACL entry {quote(t)}: {why}{agent}")

    def _context(self, node: Node) -> None:
        # context_info.rb (ContextInfo#initialize): `type` required, `name` optional (the
        # SELinux user), `range` parsed by range_info.rb
        if not isinstance(node, MappingNode):
            self.reject(
                node,
                "appspec.context",
                "context must be a mapping (name, type, range): the agent fails with 'an invalid "
                "context type'",
            )
            return
        fields = {name: (k, val) for name, k, val in yn.items(self.loader, node)}
        for name, (k, _) in fields.items():
            if name not in CONTEXT_KEYS:
                hint = " (the SELinux user is `name`)" if name == "user" else ""
                self.warn(
                    k,
                    "appspec.context",
                    f"unknown context key {quote(name)} is ignored"
                    + (hint or _mean(name, CONTEXT_KEYS)),
                )
        if "type" not in fields or self.null(fields["type"][1]):
            self.reject(
                node if "type" not in fields else fields["type"][1],
                "appspec.context",
                "context needs a `type` (an SELinux type such as httpd_sys_content_t): the agent "
                "fails with 'an invalid context type'",
            )
        elif not (self.text(fields["type"][1]) or "").strip():
            self.reject(
                fields["type"][1],
                "appspec.context",
                "context type is empty: Install fails running `semanage fcontext -a -t`",
            )
        if "name" not in fields or self.null(fields["name"][1]):
            self.warn(
                node if "name" not in fields else fields["name"][0],
                "appspec.context",
                "context has no `name`: the agent runs semanage without -s, so the SELinux user "
                "is the policy's default (system_u)",
            )
        if "range" not in fields or self.null(fields["range"][1]):
            # install_instruction.rb (ChangeContextCommand#to_h) calls range.get_range without
            # a nil check while Install writes its instructions
            self.reject(
                node,
                "appspec.context",
                "context has no `range`: the agent's parser accepts it, but Install then fails "
                "with \"undefined method 'get_range' for nil\" when the entry applies to a "
                "deployed file; add `range: s0`",
            )
            return
        rnode = fields["range"][1]
        if not self.is_text(rnode):
            self.reject(
                rnode,
                "appspec.context",
                f"range must be text such as s0 or s0-s0:c0.c1023, not "
                f"{yn.type_name(rnode, self.loader)}: the agent fails reading it",
            )
            return
        why = range_problem(self.text(rnode) or "")
        if why:
            self.reject(
                rnode,
                "appspec.context",
                f"SELinux range {quote(self.text(rnode))}: {why}; the agent refuses it "
                "(format sN[-sM][:cA[.cB],…])",
            )

    # ------------------------------------------------------------------ hooks
    def hooks(self) -> None:
        # application_specification.rb (parse_hooks): `(hooks || {}).each_pair`; a list fails
        # with "undefined method `each_pair'" (aws/aws-codedeploy-agent#247)
        if "hooks" not in self.top:
            return
        _, node = self.top["hooks"]
        if self.falsy(node):
            return
        if not isinstance(node, MappingNode):
            self.reject(
                node,
                "appspec.hooks",
                "hooks must be a mapping from event name to a list of scripts, not "
                + yn.type_name(node, self.loader)
                + ': the agent fails with "undefined method `each_pair\'"',
            )
            return
        for event, enode, scripts in yn.items(self.loader, node):
            entries = self._event(event, enode, scripts)
            if entries is None:
                continue
            if event in AGENT_EVENTS:
                # command_executor.rb runs hooks only for its lifecycle events' mapping
                alt = {
                    "Install": "BeforeInstall or AfterInstall",
                    "DownloadBundle": "BeforeInstall",
                    "BlockTraffic": "BeforeBlockTraffic or AfterBlockTraffic",
                    "AllowTraffic": "BeforeAllowTraffic or AfterAllowTraffic",
                }.get(event, "ApplicationStop … ValidateService")
                self.strict(
                    enode,
                    "appspec.hook-no-scripts",
                    f"{event} is run by the agent itself and takes no scripts: the agent accepts "
                    f"the file but never runs these; use {alt}",
                )
            elif event not in SCRIPT_EVENTS:
                self.strict(
                    enode,
                    "appspec.hook-unknown",
                    f"unknown lifecycle event {quote(event)}: the agent accepts the file but "
                    f"never runs its scripts{_mean(event, SCRIPT_EVENTS)}",
                )

    def _event(self, event: str, enode: Node, scripts: Node) -> list[Node] | None:
        """Check one event's scripts; the script entries, or None when there are none."""
        if self.falsy(scripts) or (isinstance(scripts, SequenceNode) and not scripts.value):
            # parse_hooks: `if scripts` skips null; an empty list is a no-op event
            self.warn(enode, "appspec.hook-empty", f"{event} lists no scripts: the agent skips it")
            return None
        if not isinstance(scripts, SequenceNode):
            self.reject(
                scripts,
                "appspec.hook-scripts",
                f"{event} must be a list of scripts (`- location: …`), not "
                + yn.type_name(scripts, self.loader)
                + ": the agent fails reading it",
            )
            return None
        total = 0
        all_timed = True
        for entry in scripts.value:
            if not isinstance(entry, MappingNode):
                self.reject(
                    entry,
                    "appspec.hook-scripts",
                    "each script must be a mapping with location (and timeout, runas): the "
                    "agent fails reading it",
                )
                continue
            fields = {name: (k, val) for name, k, val in yn.items(self.loader, entry)}
            for name, (k, _) in fields.items():
                if name not in SCRIPT_KEYS:
                    self.warn(
                        k,
                        "appspec.hook-unknown-key",
                        f"unknown script key {quote(name)} is ignored{_mean(name, SCRIPT_KEYS)}",
                    )
            self._location(entry, fields)
            t = self._timeout(fields)
            total += t or MAX_EVENT_TIMEOUT
            all_timed = all_timed and t is not None
            self._runas(fields)
        if all_timed and total > MAX_EVENT_TIMEOUT:
            self.strict(
                enode,
                "appspec.timeout-total",
                f"the timeouts of {event} add up to {total} s: the agent accepts the file, but "
                f"CodeDeploy allows one event at most {MAX_EVENT_TIMEOUT} s (AppSpec 'hooks' "
                "reference), so the event can time out before its scripts do",
            )
        return list(scripts.value)

    def _location(self, entry: Node, fields: dict[str, tuple[Node, Node]]) -> None:
        # parse_hooks / script_info.rb: a location that is present, not null and not blank
        # after `to_s.strip`; hook_executor.rb runs File.join(archive, location)
        if "location" not in fields or self.null(fields["location"][1]):
            self.reject(
                entry if "location" not in fields else fields["location"][1],
                "appspec.hook-location",
                "the script has no location: the agent fails with 'specifies a script with no "
                "location value'",
            )
            return
        node = fields["location"][1]
        loc = self.text(node)
        if not isinstance(node, ScalarNode):
            self.reject(
                node,
                "appspec.hook-location",
                f"location must be the path of a script, not {yn.type_name(node)}: the hook "
                "fails with ScriptMissing",
            )
            return
        if not loc or not loc.strip():
            self.reject(
                node,
                "appspec.hook-location",
                "location must name a script: the agent fails with 'specifies a script with no "
                "location value'",
            )
            return
        loc = loc.strip()
        if _DRIVE.match(loc):
            self.reject(
                node,
                "appspec.hook-location",
                f"location {quote(loc)} must be relative to the bundle root (e.g. "
                f"{quote(_DRIVE.sub('', loc).lstrip(chr(92) + '/'))}), not a drive path: the "
                "hook fails with ScriptMissing",
            )
        elif loc.startswith(("/", "\\")):
            # File.join(archive, "/x") is archive/x: legal, but misleading
            self.warn(
                node,
                "appspec.hook-location",
                f"location {quote(loc)} is read relative to the bundle root, not as an absolute "
                f"path; write {quote(loc.lstrip(chr(92) + '/'))} to say so",
            )
        elif " " in loc and re.search(r"\s-|^[^\s/\\.]+\s+\S", loc):
            self.warn(
                node,
                "appspec.hook-location",
                f"location {quote(loc)} looks like a command; it must be the path of a script "
                "(put the command inside the script), else the hook fails with ScriptMissing",
            )
        elif self.os == "linux" and "\\" in loc:
            self.reject(
                node,
                "appspec.hook-location",
                f"location {quote(loc)} uses Windows separators: on linux the hook fails with "
                f"ScriptMissing; write {quote(loc.replace(chr(92), '/'))}",
            )
        elif ".." in re.split(r"[\\/]+", loc):
            self.strict(
                node,
                "appspec.hook-location",
                f"location {quote(loc)} leaves the bundle: the agent accepts it and runs "
                "whatever is at that path on the instance; keep scripts inside the bundle",
            )

    def _timeout(self, fields: dict[str, tuple[Node, Node]]) -> int | None:
        """script_info.rb: `(timeout || 3600).to_i`, and it must be above 0. Returns the
        seconds the agent will use, or None when no timeout is given."""
        if "timeout" not in fields:
            return None
        knode, node = fields["timeout"]
        if self.falsy(node):  # `timeout || 3600`: null and false give the default
            self.warn(knode, "appspec.timeout", "timeout is empty: the agent uses 3600 s")
            return None
        v = self.val(node)
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            self.reject(
                node,
                "appspec.timeout",
                "timeout must be a whole number of seconds, not "
                f"{yn.type_name(node, self.loader)}: the agent fails converting it (to_i)",
            )
            return 0
        if isinstance(v, float):
            if v != v or v in (float("inf"), float("-inf")):
                self.reject(
                    node,
                    "appspec.timeout",
                    f"timeout {node.value} is not a number of seconds: the agent fails "
                    "converting it",
                )
                return 0
            seconds = int(v)
        elif isinstance(v, str):
            seconds = ruby_to_i(v)
        else:
            seconds = v
        if seconds <= 0:
            self.reject(
                node,
                "appspec.timeout",
                f"timeout {quote(v)} is read as {seconds} s: the agent fails with 'an invalid "
                "timeout value' (it must be above 0)",
            )
            return 0
        if isinstance(v, float) or (isinstance(v, str) and v.strip() != str(seconds)):
            self.warn(
                node,
                "appspec.timeout",
                f"timeout {quote(v)} is read by the agent as {seconds} s (Ruby to_i); write "
                f"{seconds}",
            )
        if seconds > MAX_EVENT_TIMEOUT:
            self.strict(
                node,
                "appspec.timeout",
                f"timeout {seconds} is above {MAX_EVENT_TIMEOUT} s: the agent accepts it, but "
                "CodeDeploy allows an event at most 3600 s (AppSpec 'hooks' reference), so it "
                "times out first",
            )
        return seconds

    def _runas(self, fields: dict[str, tuple[Node, Node]]) -> None:
        # parse_hooks: runas is `to_s.strip` unless null; platform/linux_util.rb then runs
        # `su RUNAS -c SCRIPT` whenever runas is not nil (an empty string too)
        if "runas" not in fields:
            return
        knode, node = fields["runas"]
        if self.os == "windows":
            self.warn(
                knode,
                "appspec.runas-windows",
                "runas is ignored on Windows (scripts run as the agent's account)",
            )
            return
        if self.null(node):
            self.warn(
                knode,
                "appspec.runas",
                "runas is empty: the agent runs the script as its own user (usually root)",
            )
            return
        user = (self.text(node) or "").strip()
        if not isinstance(node, ScalarNode):
            self.reject(
                node,
                "appspec.runas",
                f"runas must be one OS user name, not {yn.type_name(node, self.loader)}: the "
                "script fails to start",
            )
        elif not user:
            self.warn(
                node,
                "appspec.runas",
                "runas is an empty string: the agent runs `su  -c SCRIPT`, that is as root",
            )
        elif any(c.isspace() for c in user):
            self.reject(
                node,
                "appspec.runas",
                f"runas {quote(user)} is not one user name: the agent runs `su {user} -c "
                "SCRIPT`, which fails (ScriptFailed)",
            )


def _files_key_message(name: str) -> str:
    if name in ("overwrite", "file_exists_behavior"):
        return (
            f"{quote(name)} is not a files key and is ignored; use the top-level "
            "`file_exists_behavior: OVERWRITE`"
        )
    if name in ("mode", "owner", "group", "acls"):
        return f"{quote(name)} is not a files key and is ignored; set it under `permissions`"
    return f"unknown files key {quote(name)} is ignored{_mean(name, ('source', 'destination'))}"


def _norm(path: str, os_name: str | None) -> str:
    p = path.replace("\\", "/") if os_name != "linux" else path
    p = re.sub(r"/+", "/", p)
    while p.startswith("./"):
        p = p[2:]
    p = p.strip("/") if not _DRIVE.match(p) else p.rstrip("/")
    if p in (".", ""):
        p = ""
    return p.lower() if os_name == "windows" else p


def _strings(obj: Any, depth: int = 0, budget: list[int] | None = None) -> list[str]:
    """Keys and string values of a structure (for platform detection), at most 20000 looked at:
    YAML aliases can make a small file expand enormously."""
    budget = budget if budget is not None else [20_000]
    budget[0] -= 1
    if depth > 8 or budget[0] < 0:
        return []
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in list(obj.items())[:200]:
            out.append(str(k))
            out += _strings(v, depth + 1, budget)
    elif isinstance(obj, list):
        for v in obj[:200]:
            out += _strings(v, depth + 1, budget)
    elif isinstance(obj, str):
        out.append(obj)
    return out
