"""Validate a .travis.yml: the Travis schema, plus the rules that bite CodeDeploy deployments.

Rules (ids are stable): travis.yaml (syntax), travis.duplicate-key (YAML keeps the last silently),
travis.schema, travis.plaintext-secret, travis.dashed-key and travis.v1-key (dpl v1 forms),
travis.key-mismatch / travis.bucket-mismatch (the s3 upload and the codedeploy revision disagree),
travis.deploy-order, travis.no-upload, travis.codedeploy-missing, travis.before-deploy-cd,
travis.before-deploy-idempotent, travis.crlf, travis.invisible-char.

Read as Travis reads it: `on:` is the key "on", not the boolean true (YAML 1.2 booleans).
"""

from __future__ import annotations

import posixpath
import re
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wizard.validate import yamlnodes as yn
from wizard.validate.appspec import text_findings
from wizard.validate.model import ERROR, WARNING, Finding, quote, sort_findings
from wizard.validate.schema import TRAVIS, schema_findings

SECRET_KEYS = re.compile(
    r"(^|_)(secret|password|passwd|token|api_key|access_key_id|secret_access_key|private_key)$",
    re.I,
)
SECRET_ENV = re.compile(r"(SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY)", re.I)
AWS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")


def validate_travis_text(text: str, path: str = ".travis.yml") -> list[Finding]:
    """Every finding for one .travis.yml. Never raises."""
    try:
        return sort_findings(_validate(text))
    except RecursionError:
        return [Finding(1, 1, ERROR, "travis.yaml", "not valid YAML: nesting too deep to read")]
    except Exception as exc:
        return [Finding(1, 1, ERROR, "travis.yaml", f"could not be checked ({quote(exc)})")]


def _validate(text: str) -> list[Finding]:
    findings = text_findings(text, "travis")
    root, loader, data, more = yn.parse_document(text, "travis")
    findings += more
    if root is None or data is None:
        if not more and not text.strip():
            findings.append(Finding(1, 1, ERROR, "travis.empty", "the file is empty"))
        return findings
    if not isinstance(root, MappingNode):
        findings.append(
            Finding(*yn.pos(root), ERROR, "travis.structure", "a .travis.yml is a mapping of keys")
        )
        return findings
    own = _Rules(loader, root)
    own.run()
    findings += own.findings
    taken = {(f.line, f.column) for f in own.findings}
    for f in schema_check(data, loader, root, TRAVIS, "travis.schema", "Travis"):
        if (f.line, f.column) not in taken:
            findings.append(f)
    return findings


class TooLarge(Exception):
    """The document expands (through YAML aliases) to more values than is sane to check."""


MAX_VALUES = 200_000


def _jsonable(data: Any, depth: int = 0, budget: list[int] | None = None) -> Any:
    """Keys as strings (JSON Schema wants them), dates as text; cut cycles; refuse alias bombs."""
    budget = budget if budget is not None else [MAX_VALUES]
    budget[0] -= 1
    if budget[0] < 0:
        raise TooLarge
    if depth > 60:
        return None
    if isinstance(data, dict):
        return {str(k): _jsonable(v, depth + 1, budget) for k, v in data.items()}
    if isinstance(data, list):
        return [_jsonable(v, depth + 1, budget) for v in data]
    if isinstance(data, (str, int, float, bool)) or data is None:
        return data
    return str(data)


def schema_check(data: Any, loader: Any, root: Any, name: str, rule: str, label: str) -> list:
    """Schema findings, or one finding when the document is too large to check."""
    try:
        plain = _jsonable(data)
    except TooLarge:
        return [
            Finding(
                1,
                1,
                ERROR,
                rule,
                f"expands to more than {MAX_VALUES} values (YAML aliases): not checked against "
                f"the {label} schema",
            )
        ]
    return schema_findings(plain, loader, root, name, rule, label)


class _Rules:
    def __init__(self, loader: Any, root: MappingNode) -> None:
        self.loader = loader
        self.root = root
        self.findings: list[Finding] = []
        self.top = {name: (k, v) for name, k, v in yn.items(loader, root)}

    def add(self, node: Any, severity: str, rule: str, message: str) -> None:
        self.findings.append(Finding(*yn.pos(node), severity, rule, message))

    def text(self, node: Node | None) -> str | None:
        if not isinstance(node, ScalarNode):
            return None
        v = yn.value(self.loader, node)
        return v if isinstance(v, str) else (None if v is None or v is yn.BAD else str(v))

    def run(self) -> None:
        self.secrets(self.root, [], set())
        commands = self.before_deploy(self.top)
        self.deploy_rules(self.deploy_entries(self.top), commands)
        for job in self.jobs():  # stages inherit the top level's before_deploy
            fields = {name: (k, v) for name, k, v in yn.items(self.loader, job)}
            job_commands = self.before_deploy(fields) if "before_deploy" in fields else commands
            entries = self.deploy_entries(fields)
            if entries:
                self.deploy_rules(entries, job_commands)

    def jobs(self) -> list[MappingNode]:
        """Entries of jobs.include / matrix.include (each may have its own deploy)."""
        out: list[MappingNode] = []
        for key in ("jobs", "matrix"):
            if key not in self.top:
                continue
            for name, _, val in yn.items(self.loader, self.top[key][1]):
                if name == "include" and isinstance(val, SequenceNode):
                    out += [j for j in val.value if isinstance(j, MappingNode)]
        return out

    # ------------------------------------------------------------------ secrets
    def secrets(self, node: Node, path: list[str], seen: set[int]) -> None:
        if id(node) in seen or len(path) > 50:
            return
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for name, _k, v in yn.items(self.loader, node):
                if name == "secure":
                    continue
                if SECRET_KEYS.search(name) and isinstance(v, ScalarNode):
                    value = self.text(v)
                    if value and not value.strip().startswith("$"):
                        self.add(
                            v,
                            ERROR,
                            "travis.plaintext-secret",
                            f"{name} is in plain text: anyone who can read the repository has "
                            "it. Use a repository environment variable ($VAR) or "
                            f"`travis encrypt --add {'.'.join([*path, name])}`, and rotate it",
                        )
                        continue
                self.secrets(v, [*path, name], seen)
        elif isinstance(node, SequenceNode):
            for item in node.value:
                self.secrets(item, path, seen)
        elif isinstance(node, ScalarNode):
            value = self.text(node) or ""
            if AWS_KEY_ID.search(value):
                self.add(
                    node,
                    ERROR,
                    "travis.plaintext-secret",
                    "an AWS access key id is in plain text; use repository environment variables "
                    "or `secure:` values, and rotate the key",
                )
            elif path[:1] == ["env"] and "=" in value:
                name, _, val = value.strip().partition("=")
                name = name.split()[-1] if name.split() else name
                if SECRET_ENV.search(name) and val and not val.startswith("$"):
                    self.add(
                        node,
                        ERROR,
                        "travis.plaintext-secret",
                        f"{name} is set in plain text; use `travis encrypt {name}=... --add "
                        "env.global` or a repository environment variable",
                    )

    # ------------------------------------------------------------------ before_deploy
    def before_deploy(self, scope: dict[str, tuple[Node, Node]]) -> list[str]:
        if "before_deploy" not in scope:
            return []
        _, node = scope["before_deploy"]
        items = node.value if isinstance(node, SequenceNode) else [node]
        commands: list[str] = []
        for item in items:
            cmd = self.text(item)
            if cmd is None:
                continue
            commands.append(cmd)
            if _top_level_cd(cmd):
                self.add(
                    item,
                    ERROR,
                    "travis.before-deploy-cd",
                    "this changes the build's directory: dpl then runs from there and the next "
                    "provider's before_deploy runs again from there; use a subshell "
                    "`(cd DIR && ...)` or paths instead",
                )
            if re.search(r"(^|[;&|]\s*)mkdir\s+(?!.*(-p|--parents))", cmd):
                self.add(
                    item,
                    ERROR,
                    "travis.before-deploy-idempotent",
                    "`mkdir` without -p fails the second time: before_deploy runs once per "
                    "deploy provider; use `mkdir -p`",
                )
        return commands

    # ------------------------------------------------------------------ deploy
    def deploy_entries(
        self, scope: dict[str, tuple[Node, Node]]
    ) -> list[tuple[MappingNode, dict[str, tuple[Node, Node]]]]:
        if "deploy" not in scope:
            return []
        _, node = scope["deploy"]
        items = node.value if isinstance(node, SequenceNode) else [node]
        out = []
        for item in items:
            if isinstance(item, MappingNode):
                fields = {name: (k, v) for name, k, v in yn.items(self.loader, item)}
                out.append((item, fields))
                for name, (k, _) in fields.items():
                    if "-" in name:
                        self.add(
                            k,
                            ERROR,
                            "travis.dashed-key",
                            f"{quote(name)} is the dpl v1 spelling; dpl v2 reads "
                            f"{quote(name.replace('-', '_'))} and rejects the dashed key",
                        )
                    elif name == "skip_cleanup":
                        self.add(
                            k,
                            WARNING,
                            "travis.v1-key",
                            "skip_cleanup is dpl v1; in dpl v2 (edge: true) cleanup is off by "
                            "default: remove it (or use `cleanup: false`)",
                        )
        return out

    def deploy_rules(
        self, entries: list[tuple[MappingNode, dict[str, tuple[Node, Node]]]], commands: list[str]
    ) -> None:
        def prov(fields: dict[str, tuple[Node, Node]]) -> str:
            return (self.text(fields["provider"][1]) or "").lower() if "provider" in fields else ""

        s3 = [(i, n, f) for i, (n, f) in enumerate(entries) if prov(f) == "s3"]
        for i, node, fields in ((i, n, f) for i, (n, f) in enumerate(entries)):
            if prov(fields) != "codedeploy":
                continue
            rtype = fields.get("revision_type", (None, None))[1]
            revision_type = (self.text(rtype) or "s3").lower()
            if revision_type == "github":
                continue
            missing = [k for k in ("bucket", "key", "application") if k not in fields]
            if missing:
                self.add(
                    node,
                    ERROR,
                    "travis.codedeploy-missing",
                    f"the codedeploy deploy needs {', '.join(missing)} (the S3 revision to deploy)",
                )
            before = [x for x in s3 if x[0] < i]
            after = [x for x in s3 if x[0] > i]
            if not before and after:
                self.add(
                    after[0][1],
                    ERROR,
                    "travis.deploy-order",
                    "the s3 upload comes after the codedeploy deployment; providers run in order, "
                    "so CodeDeploy would deploy the previous (or no) bundle",
                )
            feeding = before or after
            if not feeding:
                self.add(
                    node,
                    WARNING,
                    "travis.no-upload",
                    "no s3 deploy uploads the bundle; unless something else does, the revision "
                    "key will not exist (REVISION_MISSING)",
                )
                continue
            self._match(fields, feeding[0][2], commands)

    def _match(
        self,
        cd: dict[str, tuple[Node, Node]],
        s3: dict[str, tuple[Node, Node]],
        commands: list[str],
    ) -> None:
        def val(fields: dict[str, tuple[Node, Node]], key: str) -> str | None:
            return self.text(fields[key][1]) if key in fields else None

        cd_bucket, s3_bucket = val(cd, "bucket"), val(s3, "bucket")
        if cd_bucket and s3_bucket and cd_bucket != s3_bucket:
            self.add(
                cd["bucket"][1],
                ERROR,
                "travis.bucket-mismatch",
                f"codedeploy reads bucket {quote(cd_bucket)} but the s3 upload writes to "
                f"{quote(s3_bucket)}",
            )
        key = val(cd, "key")
        if not key:
            return
        upload_dir = (val(s3, "upload_dir") or "").strip("/")
        key_dir = posixpath.dirname(key)
        if key_dir != upload_dir:
            where = f"upload_dir {quote(upload_dir)}" if upload_dir else "the bucket root"
            self.add(
                cd["key"][1],
                ERROR,
                "travis.key-mismatch",
                f"key {quote(key)} is not where the s3 upload puts files: {where}",
            )
        local_dir = (val(s3, "local_dir") or "").strip("/") or None
        built = _built_archives(commands)
        name = posixpath.basename(key)
        if local_dir and built:
            in_dir = [b for b in built if posixpath.dirname(b).strip("./") == local_dir.strip("./")]
            if in_dir and name not in {posixpath.basename(b) for b in in_dir}:
                self.add(
                    cd["key"][1],
                    ERROR,
                    "travis.key-mismatch",
                    f"key names {quote(name)} but before_deploy builds "
                    f"{quote(posixpath.basename(in_dir[0]))} in {local_dir}/",
                )
        bundle_type = val(cd, "bundle_type")
        ext = {"zip": ".zip", "tar": ".tar", "tgz": ".tgz"}.get((bundle_type or "").lower())
        if ext and not name.endswith(ext) and not (ext == ".tgz" and name.endswith(".tar.gz")):
            self.add(
                cd["bundle_type"][1],
                WARNING,
                "travis.key-mismatch",
                f"bundle_type {bundle_type} but the key ends in "
                f"{quote(posixpath.splitext(name)[1])}",
            )


def _top_level_cd(cmd: str) -> bool:
    """A `cd` that runs in the build's own shell (not inside parentheses)."""
    depth = 0
    cleaned = []
    for ch in cmd:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            cleaned.append(ch)
    flat = "".join(cleaned)
    return bool(re.search(r"(^|[;&|]\s*|\bthen\s+|\bdo\s+)\s*(cd|pushd)(\s|$)", flat.strip()))


def _built_archives(commands: list[str]) -> list[str]:
    out = []
    for cmd in commands:
        for m in re.finditer(r"\bzip\s+(?:-\S+\s+)*[\"']?([^\s\"']+\.zip)", cmd):
            path = m.group(1).replace("$TRAVIS_BUILD_DIR/", "").replace("${TRAVIS_BUILD_DIR}/", "")
            out.append(path)
        for m in re.finditer(r"\btar\s+(?:-?\S*c\S*\s+)(?:-\S+\s+)*[\"']?([^\s\"']+)", cmd):
            out.append(m.group(1))
    return out
