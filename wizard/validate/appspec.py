"""Validate an AppSpec file offline, by the rules the CodeDeploy agent applies (reference §4).

Every finding has a stable rule id, a line and a column. A real deployment silently ignores some
mistakes (a misspelt hook name, a hook dedented to the top level, an unknown key): they are flagged
here because the script the user meant to run never runs. ECS and Lambda appspecs are recognised as
another platform and not failed. Only PyYAML and the standard library: the sandbox's simulated agent
imports this module to decide whether a bundle's appspec is valid.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wizard.validate import yamlnodes as yn
from wizard.validate.model import ERROR, WARNING, Finding, quote, sort_findings

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
MAX_EVENT_TIMEOUT = 3600

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
_MODE = re.compile(r"^[0-7]{1,4}$")
_ACL = re.compile(
    r"^(?:(?P<default>d|default):)?(?P<kind>u|user|g|group|m|mask|o|other):"
    r"(?P<name>[^:]*)(?::(?P<perms>[rwx-]{0,3}))?$"
)


@dataclass
class AppspecResult:
    """What the validator found: the platform, the parsed mapping (or None) and the findings."""

    platform: str  # "server" | "ecs" | "lambda" | "unknown"
    data: Any
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing would make a deployment fail or silently skip a script."""
        return not any(f.severity == ERROR for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]


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
                        "of the key or value; retype the line",
                    )
                )
                reported += 1
                break
        if reported >= 20:
            break
    return out


def _tidy_yaml_error(f: Finding) -> Finding:
    if "'\\t'" in f.message:
        return Finding(
            f.line,
            f.column,
            f.severity,
            f.rule,
            f.message + " (a tab: YAML indentation must use spaces)",
        )
    return f


# --------------------------------------------------------------------------- entry point
def validate_appspec_text(text: str, path: str = "appspec.yml") -> AppspecResult:
    """Validate the text of an appspec file. Never raises: every problem is a finding."""
    try:
        return _validate(text, path)
    except RecursionError:
        return AppspecResult(
            "unknown",
            None,
            [Finding(1, 1, ERROR, "appspec.yaml", "not valid YAML: nesting too deep to read")],
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


def _validate(text: str, path: str) -> AppspecResult:
    if not isinstance(text, str):
        raise TypeError("text must be str")
    findings = text_findings(text)
    stripped = text.lstrip("\ufeff")
    if not stripped.strip():
        findings.append(
            Finding(1, 1, ERROR, "appspec.empty", "the file is empty; the agent rejects it")
        )
        return AppspecResult("unknown", None, sort_findings(findings))

    yaml_text = text
    if stripped.lstrip().startswith(("{", "[")):
        try:
            json.loads(stripped)
            yaml_text = text.replace("\t", " ")  # JSON allows tabs as blanks, YAML does not
        except ValueError:
            pass

    root, loader, err = yn.compose(yaml_text, yn.Yaml11Loader, "appspec.yaml")
    if err is not None:
        findings.append(_tidy_yaml_error(err))
        return AppspecResult("unknown", None, sort_findings(findings))
    if root is None or yn.is_null(loader, root):
        findings.append(
            Finding(1, 1, ERROR, "appspec.empty", "the file holds no settings; the agent rejects")
        )
        return AppspecResult("unknown", None, sort_findings(findings))

    findings += yn.duplicate_keys(loader, root, "appspec.duplicate-key")
    data = yn.value(loader, root)
    if data is yn.BAD:
        findings.append(
            Finding(*yn.pos(root), ERROR, "appspec.yaml", "not valid YAML: a value cannot be read")
        )
        data = None
    if not isinstance(root, MappingNode) or not isinstance(data, dict):
        findings.append(
            Finding(
                *yn.pos(root),
                ERROR,
                "appspec.structure",
                f"an appspec is a mapping of settings (version, os, files, hooks), "
                f"not {yn.type_name(root, loader)}",
            )
        )
        return AppspecResult("unknown", data, sort_findings(findings))

    v = _Checker(loader, root, findings)
    platform = v.platform(data)
    if platform == "server":
        v.server()
    return AppspecResult(platform, data, sort_findings(findings))


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
    def add(self, node: Any, severity: str, rule: str, message: str) -> None:
        self.findings.append(Finding(*yn.pos(node), severity, rule, message))

    def val(self, node: Node) -> Any:
        return yn.value(self.loader, node)

    def text(self, node: Node) -> str | None:
        """A scalar as the user wrote it (numbers too), or None for empty/non-scalars."""
        if not isinstance(node, ScalarNode):
            return None
        v = self.val(node)
        if v is None or v is yn.BAD:
            return None
        if isinstance(v, str):
            return v
        return str(node.value)

    # ------------------------------------------------------------------ platform
    def platform(self, data: dict) -> str:
        keys = {str(k) for k in data}
        res_key = next((k for k in keys if k.lower() == "resources"), None)
        if "applicationName" in keys or "revision" in keys:
            self.add(
                self.root,
                ERROR,
                "appspec.not-appspec",
                "this is a create-deployment input (applicationName/revision), not an AppSpec "
                "file; its AppSpec is the text under revision.appSpecContent.content",
            )
            return "unknown"
        if res_key is None:
            if not {k.lower() for k in keys} & {*TOP_KEYS, "file"}:
                self.add(
                    self.root,
                    ERROR,
                    "appspec.not-appspec",
                    "none of the AppSpec settings (version, os, files, hooks) is here: "
                    "this does not look like an AppSpec file",
                )
                return "unknown"
            return "server"
        resources = data.get(res_key)
        if "AWSTemplateFormatVersion" in keys or "Transform" in keys or isinstance(resources, dict):
            self.add(
                self.root,
                ERROR,
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
            self.add(
                self.top[res_key][0],
                ERROR,
                "appspec.platform",
                "Resources names neither an ECS service (TargetService, AWS::ECS::Service) nor a "
                "Lambda function (AWS::Lambda::Function)",
            )
            return "unknown"
        self.add(
            self.top[res_key][0],
            WARNING,
            "appspec.platform",
            f"{label} AppSpec (Resources): another compute platform; only EC2/On-Premises "
            "(Server) appspecs are checked in depth",
        )
        if "version" in self.top:
            self.version()
        return platform

    # ------------------------------------------------------------------ server platform
    def server(self) -> None:
        for name, (knode, _) in self.top.items():
            if name in TOP_KEYS:
                continue
            if name in SCRIPT_EVENTS or name in AGENT_EVENTS or nearest(name, SCRIPT_EVENTS):
                self.add(
                    knode,
                    ERROR,
                    "appspec.unknown-key",
                    f"{quote(name)} at the top level is silently ignored: indent it under `hooks:`",
                )
            elif nearest(name, TOP_KEYS):
                self.add(
                    knode,
                    ERROR,
                    "appspec.unknown-key",
                    f"unknown key {quote(name)} is silently ignored{_mean(name, TOP_KEYS)}",
                )
            else:
                self.add(
                    knode,
                    WARNING,
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
        if "version" not in self.top:
            self.add(self.root, ERROR, "appspec.version", "`version: 0.0` is required")
            return
        node = self.top["version"][1]
        v = self.val(node)
        if isinstance(v, str) and v.strip() in ("0.0", "0"):
            self.add(
                node,
                ERROR,
                "appspec.version",
                f"version must be the number 0.0, not the string {quote(v)}: remove the quotes",
            )
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or v != 0:
            shown = node.value if isinstance(node, ScalarNode) else yn.type_name(node)
            self.add(
                node,
                ERROR,
                "appspec.version",
                f"version must be 0.0 (the only AppSpec version), not {shown or 'empty'}",
            )

    def os_(self) -> None:
        if "os" not in self.top:
            self.add(self.root, ERROR, "appspec.os", "`os: linux` or `os: windows` is required")
            return
        node = self.top["os"][1]
        v = self.text(node)
        if v in OSES:
            self.os = v
            return
        if v is None:
            self.add(node, ERROR, "appspec.os", "os must be linux or windows, not empty")
        elif v.lower() in OSES:
            self.add(node, ERROR, "appspec.os", f"os must be lower case: {v.lower()}")
            self.os = v.lower()
        else:
            hint = ""
            low = v.lower()
            if any(d in low for d in ("ubuntu", "amazon", "centos", "rhel", "redhat", "debian")):
                hint = " (every Linux distribution is `linux`)"
            elif "win" in low:
                hint = " (did you mean 'windows'?)"
            self.add(
                node, ERROR, "appspec.os", f"os must be linux or windows, not {quote(v)}{hint}"
            )

    def file_exists(self) -> None:
        if "file_exists_behavior" not in self.top:
            return
        node = self.top["file_exists_behavior"][1]
        v = self.text(node)
        if v in FILE_EXISTS:
            return
        hint = f" (write {v.upper()})" if v and v.upper() in FILE_EXISTS else ""
        self.add(
            node,
            ERROR,
            "appspec.file-exists-behavior",
            f"file_exists_behavior must be DISALLOW, OVERWRITE or RETAIN, not {quote(v)}{hint}",
        )

    # ------------------------------------------------------------------ files
    def files(self) -> None:
        if "files" not in self.top:
            return
        knode, node = self.top["files"]
        if yn.is_null(self.loader, node):
            self.add(
                knode, WARNING, "appspec.files-empty", "files is empty: nothing will be copied"
            )
            return
        if not isinstance(node, SequenceNode):
            self.add(
                node,
                ERROR,
                "appspec.files",
                f"files must be a list of `- source: … destination: …`, not "
                f"{yn.type_name(node, self.loader)}",
            )
            return
        seen: dict[tuple[str, str], Node] = {}
        landing: dict[tuple[str, str], Node] = {}
        for entry in node.value:
            if not isinstance(entry, MappingNode):
                self.add(
                    entry,
                    ERROR,
                    "appspec.files",
                    "each files entry must be a mapping with source and destination",
                )
                continue
            fields = {name: (k, val) for name, k, val in yn.items(self.loader, entry)}
            for name, (k, _) in fields.items():
                if name in ("source", "destination"):
                    continue
                self.add(k, WARNING, "appspec.files-unknown-key", _files_key_message(name))
            src = self._path_field(fields, "source", entry, "appspec.files-source")
            dst = self._path_field(fields, "destination", entry, "appspec.files-destination")
            if src is not None:
                self._check_source(src, fields["source"][1])
            if dst is not None:
                self._check_destination(dst, fields["destination"][1])
            if src is None or dst is None:
                continue
            nsrc, ndst = _norm(src, self.os), _norm(dst, self.os)
            if (nsrc, ndst) in seen:
                line, _ = yn.pos(seen[(nsrc, ndst)])
                self.add(
                    entry,
                    ERROR,
                    "appspec.files-duplicate",
                    f"the same source and destination as the entry on line {line}",
                )
                continue
            seen[(nsrc, ndst)] = entry
            base = nsrc.rsplit("/", 1)[-1]
            if "." in base.strip(".") and not base.startswith("."):  # looks like a file
                final = (ndst, base)
                if final in landing:
                    line, _ = yn.pos(landing[final])
                    self.add(
                        entry,
                        ERROR,
                        "appspec.files-duplicate",
                        f"two files land on the same path {dst.rstrip('/')}/{base} "
                        f"(also from the entry on line {line})",
                    )
                else:
                    landing[final] = entry

    def _path_field(
        self, fields: dict[str, tuple[Node, Node]], name: str, entry: Node, rule: str
    ) -> str | None:
        if name not in fields:
            self.add(entry, ERROR, rule, f"this files entry has no {name}")
            return None
        node = fields[name][1]
        v = self.text(node)
        if v is None or not v.strip():
            self.add(node, ERROR, rule, f"{name} must be a path, not empty")
            return None
        return v

    def _check_source(self, src: str, node: Node) -> None:
        if any(ch in src for ch in "*?[") and src.strip() not in ("/", "."):
            self.add(
                node,
                ERROR,
                "appspec.files-source",
                f"source {quote(src)} is taken literally, not as a glob; the agent looks for a "
                "file of exactly that name (use `/` for everything, or name the folder)",
            )
        parts = re.split(r"[\\/]+", src)
        if ".." in parts:
            self.add(
                node,
                ERROR,
                "appspec.files-source",
                f"source {quote(src)} leaves the bundle: it is relative to the bundle root",
            )
        if _DRIVE.match(src):
            self.add(
                node,
                ERROR,
                "appspec.files-source",
                f"source {quote(src)} must be relative to the bundle root, not a drive path",
            )

    def _check_destination(self, dst: str, node: Node) -> None:
        rule = "appspec.files-destination"
        is_win = bool(_DRIVE.match(dst)) or dst.startswith("\\\\")
        if self.os == "linux" and is_win:
            self.add(node, ERROR, rule, f"{quote(dst)} is a Windows path in a linux appspec")
        elif self.os == "windows" and dst.startswith("/"):
            self.add(node, ERROR, rule, f"{quote(dst)} is a Linux path in a windows appspec")
        elif not is_win and not dst.startswith("/"):
            self.add(
                node,
                ERROR,
                rule,
                f"destination {quote(dst)} must be an absolute path"
                + (" (e.g. C:\\app)" if self.os == "windows" else " (starting with /)"),
            )
        if "$" in dst or ("%" in dst and self.os == "windows"):
            self.add(
                node,
                WARNING,
                rule,
                f"{quote(dst)}: variables are not expanded in an appspec; "
                "the path is taken literally",
            )

    # ------------------------------------------------------------------ permissions
    def permissions(self) -> None:
        if "permissions" not in self.top:
            return
        knode, node = self.top["permissions"]
        if self.os == "windows":
            self.add(
                knode,
                ERROR,
                "appspec.permissions-windows",
                "permissions apply to Linux only; a windows appspec with permissions fails",
            )
            return
        if yn.is_null(self.loader, node):
            return
        if not isinstance(node, SequenceNode):
            self.add(
                node,
                ERROR,
                "appspec.permissions",
                "permissions must be a list of `- object: …` entries",
            )
            return
        known = ("object", "pattern", "except", "type", "owner", "group", "mode", "acls", "context")
        for entry in node.value:
            if not isinstance(entry, MappingNode):
                self.add(entry, ERROR, "appspec.permissions", "each entry must be a mapping")
                continue
            fields = {name: (k, val) for name, k, val in yn.items(self.loader, entry)}
            for name, (k, _) in fields.items():
                if name not in known:
                    self.add(
                        k,
                        WARNING,
                        "appspec.permissions-unknown-key",
                        f"unknown permissions key {quote(name)} is ignored{_mean(name, known)}",
                    )
            self._perm_entry(entry, fields)

    def _perm_entry(self, entry: Node, fields: dict[str, tuple[Node, Node]]) -> None:
        if "object" not in fields:
            self.add(entry, ERROR, "appspec.permissions-object", "`object` is required")
        else:
            obj = self.text(fields["object"][1])
            if not obj:
                self.add(
                    fields["object"][1],
                    ERROR,
                    "appspec.permissions-object",
                    "object must be a path, not empty",
                )
            elif not obj.startswith("/"):
                self.add(
                    fields["object"][1],
                    ERROR,
                    "appspec.permissions-object",
                    f"object {quote(obj)} must be an absolute path on the instance",
                )
        if "pattern" in fields and self.text(fields["pattern"][1]) is None:
            self.add(
                fields["pattern"][1],
                ERROR,
                "appspec.permissions-pattern",
                'pattern must be a glob in quotes, e.g. "**"',
            )
        for name in ("except", "type"):
            if name in fields:
                self._str_list(fields[name][1], name)
        if "type" in fields and isinstance(fields["type"][1], SequenceNode):
            for item in fields["type"][1].value:
                t = self.text(item)
                if t is not None and t not in ("file", "directory"):
                    self.add(
                        item,
                        ERROR,
                        "appspec.permissions-type",
                        f"type must be file or directory, not {quote(t)}",
                    )
        for name in ("owner", "group"):
            if name in fields and not self.text(fields[name][1]):
                self.add(
                    fields[name][1],
                    ERROR,
                    f"appspec.permissions-{name}",
                    f"{name} must be a user/group name, not empty",
                )
        if "mode" in fields:
            self._mode(fields["mode"][1])
        if "acls" in fields:
            self._acls(fields["acls"][1])
        if "context" in fields:
            self._context(fields["context"][1])

    def _str_list(self, node: Node, name: str) -> None:
        if not isinstance(node, SequenceNode):
            self.add(
                node,
                ERROR,
                f"appspec.permissions-{name}",
                f"{name} must be a list (`- item` lines), not {yn.type_name(node, self.loader)}",
            )
            return
        for item in node.value:
            if self.text(item) is None:
                self.add(item, ERROR, f"appspec.permissions-{name}", f"{name} items must be text")

    def _mode(self, node: Node) -> None:
        v = self.val(node)
        raw = node.value if isinstance(node, ScalarNode) else ""
        if isinstance(v, int) and not isinstance(v, bool):
            if isinstance(raw, str) and raw.startswith("0") and len(raw) > 1 and raw != str(v):
                self.add(
                    node,
                    ERROR,
                    "appspec.mode",
                    f"mode {raw} is read by YAML 1.1 as an octal number (decimal {v}), so the "
                    f"agent would apply mode {v}; write {raw.lstrip('0') or '0'} without the "
                    "leading zero",
                )
                return
            digits = str(v)
        elif isinstance(v, str):
            digits = v.strip()
        else:
            self.add(
                node,
                ERROR,
                "appspec.mode",
                f"mode must be 1-4 octal digits such as 644, not {yn.type_name(node, self.loader)}",
            )
            return
        if not _MODE.match(digits):
            self.add(
                node,
                ERROR,
                "appspec.mode",
                f"mode must be 1-4 octal digits (0-7) such as 644, not {quote(digits)}",
            )

    def _acls(self, node: Node) -> None:
        if not isinstance(node, SequenceNode):
            self.add(node, ERROR, "appspec.acls", "acls must be a list like `- u:deploy:rwx`")
            return
        for item in node.value:
            t = self.text(item)
            m = _ACL.match(t or "")
            if not m:
                self.add(
                    item,
                    ERROR,
                    "appspec.acls",
                    f"ACL entry {quote(t)} must look like u:NAME:rwx, g:NAME:r-x or d:u:NAME:rwx",
                )
            elif m.group("kind") in ("u", "user", "g", "group") and not m.group("name"):
                self.add(
                    item,
                    ERROR,
                    "appspec.acls",
                    f"ACL entry {quote(t)} has no user/group name; the base entry is set by "
                    "owner/group/mode and is rejected here",
                )

    def _context(self, node: Node) -> None:
        if not isinstance(node, MappingNode):
            self.add(node, ERROR, "appspec.context", "context must be a mapping: name, type, range")
            return
        fields = {name: (k, val) for name, k, val in yn.items(self.loader, node)}
        for name, (k, _) in fields.items():
            if name not in ("name", "user", "type", "range"):
                self.add(
                    k, WARNING, "appspec.context", f"unknown context key {quote(name)} is ignored"
                )
        if "type" not in fields or not self.text(fields["type"][1]):
            self.add(node, ERROR, "appspec.context", "context needs a `type` (an SELinux type)")
        if not any(n in fields and self.text(fields[n][1]) for n in ("name", "user")):
            self.add(node, ERROR, "appspec.context", "context needs a `name` (an SELinux user)")

    # ------------------------------------------------------------------ hooks
    def hooks(self) -> None:
        if "hooks" not in self.top:
            return
        _, node = self.top["hooks"]
        if yn.is_null(self.loader, node):
            return
        if not isinstance(node, MappingNode):
            self.add(
                node,
                ERROR,
                "appspec.hooks",
                "hooks must be a mapping from event name to a list of scripts, not "
                + yn.type_name(node, self.loader),
            )
            return
        for event, enode, scripts in yn.items(self.loader, node):
            if event in AGENT_EVENTS:
                alt = {
                    "Install": "BeforeInstall or AfterInstall",
                    "DownloadBundle": "BeforeInstall",
                    "BlockTraffic": "BeforeBlockTraffic or AfterBlockTraffic",
                    "AllowTraffic": "BeforeAllowTraffic or AfterAllowTraffic",
                }.get(event, "ApplicationStop … ValidateService")
                self.add(
                    enode,
                    ERROR,
                    "appspec.hook-no-scripts",
                    f"{event} is run by the agent itself and takes no scripts; use {alt}",
                )
                continue
            if event not in SCRIPT_EVENTS:
                self.add(
                    enode,
                    ERROR,
                    "appspec.hook-unknown",
                    f"unknown lifecycle event {quote(event)}: a deployment silently ignores it, so "
                    f"its scripts never run{_mean(event, SCRIPT_EVENTS)}",
                )
                continue
            self._event(event, enode, scripts)

    def _event(self, event: str, enode: Node, scripts: Node) -> None:
        if yn.is_null(self.loader, scripts) or (
            isinstance(scripts, SequenceNode) and not scripts.value
        ):
            self.add(
                enode, WARNING, "appspec.hook-empty", f"{event} lists no scripts: it is skipped"
            )
            return
        if not isinstance(scripts, SequenceNode):
            self.add(
                scripts,
                ERROR,
                "appspec.hook-scripts",
                f"{event} must be a list of scripts (`- location: …`), not "
                + yn.type_name(scripts, self.loader),
            )
            return
        total = 0
        for entry in scripts.value:
            if not isinstance(entry, MappingNode):
                self.add(
                    entry,
                    ERROR,
                    "appspec.hook-scripts",
                    "each script must be a mapping with location (and timeout, runas)",
                )
                continue
            fields = {name: (k, val) for name, k, val in yn.items(self.loader, entry)}
            for name, (k, _) in fields.items():
                if name not in ("location", "timeout", "runas"):
                    self.add(
                        k,
                        WARNING,
                        "appspec.hook-unknown-key",
                        f"unknown script key {quote(name)} is ignored"
                        f"{_mean(name, ('location', 'timeout', 'runas'))}",
                    )
            self._location(entry, fields)
            total += self._timeout(fields)
            self._runas(fields)
        if total > MAX_EVENT_TIMEOUT:
            self.add(
                enode,
                ERROR,
                "appspec.timeout-total",
                f"the timeouts of {event} add up to {total} s; an event may take at most "
                f"{MAX_EVENT_TIMEOUT} s",
            )

    def _location(self, entry: Node, fields: dict[str, tuple[Node, Node]]) -> None:
        if "location" not in fields:
            self.add(entry, ERROR, "appspec.hook-location", "the script has no location")
            return
        node = fields["location"][1]
        loc = self.text(node)
        if not loc or not loc.strip():
            self.add(node, ERROR, "appspec.hook-location", "location must name a script")
            return
        if _DRIVE.match(loc):
            self.add(
                node,
                ERROR,
                "appspec.hook-location",
                f"location {quote(loc)} must be relative to the bundle root (e.g. "
                f"{quote(_DRIVE.sub('', loc).lstrip(chr(92) + '/'))}), not a drive path",
            )
        elif loc.startswith(("/", "\\")):
            # the agent joins the location to the bundle folder (File.join), so a leading
            # separator still means "relative to the bundle root": legal, but misleading
            self.add(
                node,
                WARNING,
                "appspec.hook-location",
                f"location {quote(loc)} is read relative to the bundle root, not as an absolute "
                f"path; write {quote(loc.lstrip(chr(92) + '/'))} to say so",
            )
        elif " " in loc.strip() and re.search(r"\s-|^[^\s/\\.]+\s+\S", loc.strip()):
            self.add(
                node,
                WARNING,
                "appspec.hook-location",
                f"location {quote(loc)} looks like a command; it must be the path of a script "
                "(put the command inside the script)",
            )
        elif self.os == "linux" and "\\" in loc:
            self.add(
                node,
                ERROR,
                "appspec.hook-location",
                f"location {quote(loc)} uses Windows separators; on linux write "
                f"{quote(loc.replace(chr(92), '/'))}",
            )
        elif ".." in re.split(r"[\\/]+", loc):
            self.add(
                node,
                ERROR,
                "appspec.hook-location",
                f"location {quote(loc)} leaves the bundle; scripts must be inside it",
            )

    def _timeout(self, fields: dict[str, tuple[Node, Node]]) -> int:
        if "timeout" not in fields:
            return 0
        node = fields["timeout"][1]
        v = self.val(node)
        if isinstance(v, bool) or not isinstance(v, int):
            self.add(
                node,
                ERROR,
                "appspec.timeout",
                "timeout must be a whole number of seconds, not "
                + (repr(v) if isinstance(v, (str, float)) else yn.type_name(node, self.loader)),
            )
            return 0
        if v <= 0:
            self.add(node, ERROR, "appspec.timeout", f"timeout must be above 0, not {v}")
            return 0
        if v > MAX_EVENT_TIMEOUT:
            self.add(
                node,
                ERROR,
                "appspec.timeout",
                f"timeout {v} is above the maximum of {MAX_EVENT_TIMEOUT} s per event",
            )
        return v

    def _runas(self, fields: dict[str, tuple[Node, Node]]) -> None:
        if "runas" not in fields:
            return
        knode, node = fields["runas"]
        if self.os == "windows":
            self.add(
                knode,
                WARNING,
                "appspec.runas-windows",
                "runas is ignored on Windows (scripts run as the agent's account)",
            )
            return
        user = self.text(node)
        if not user or not user.strip() or any(c.isspace() for c in user.strip()):
            self.add(node, ERROR, "appspec.runas", "runas must be one OS user name")


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
