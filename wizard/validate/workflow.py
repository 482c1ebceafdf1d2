"""Validate a GitHub Actions workflow: the SchemaStore schema plus the AWS credential rules.

Rules: workflow.yaml, workflow.duplicate-key, workflow.schema, workflow.oidc-permissions (a job that
assumes a role through OIDC needs `id-token: write`), workflow.permissions-contents (setting
`permissions` drops everything not listed, so actions/checkout needs `contents: read`),
workflow.plaintext-secret, workflow.static-keys (long-lived keys where OIDC would do),
workflow.node-runtime (an action major, or a release pinned by SHA, that runs on a Node version
GitHub removed from its hosted runners), workflow.crlf, workflow.invisible-char. `on:` is read as
the key "on" (YAML 1.2 booleans).
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from wizard.validate import yamlnodes as yn
from wizard.validate.appspec import text_findings
from wizard.validate.model import ERROR, WARNING, Finding, quote, sort_findings
from wizard.validate.schema import WORKFLOW
from wizard.validate.travis import AWS_KEY_ID, schema_check

CONFIGURE = "aws-actions/configure-aws-credentials"

# `runs.using` of action.yml at each major tag of these actions (read from their public
# repositories): the majors whose Node runtime GitHub has removed from its hosted runners, and the
# current major to move to. Node 20 was removed on 16 September 2026; Node 12 and 16 long before.
REMOVED_NODE: dict[str, tuple[dict[int, int], str]] = {
    "actions/checkout": ({2: 12, 3: 16, 4: 20}, "v7"),
    CONFIGURE: ({1: 12, 2: 16, 3: 16, 4: 20, 5: 20}, "v6"),
    "actions/setup-node": ({1: 12, 2: 12, 3: 16, 4: 20}, "v7"),
    "actions/setup-python": ({1: 12, 2: 12, 3: 16, 4: 16, 5: 20}, "v7"),
    "actions/cache": ({1: 12, 2: 12, 3: 16, 4: 20}, "v5"),
    "actions/upload-artifact": ({2: 12, 3: 16, 4: 20, 5: 20}, "v7"),
    "actions/download-artifact": ({2: 12, 4: 20, 5: 20, 6: 20}, "v8"),
}
_MAJOR = re.compile(r"v(\d+)(?:\.\d+){0,2}")
_SHA = re.compile(r"[0-9a-f]{40}")


@functools.lru_cache(maxsize=1)
def _pinned_releases() -> dict[str, dict[str, list[str]]]:
    """{action: {commit: [release, runtime]}} for releases on a removed Node runtime."""
    text = resources.files("wizard.validate").joinpath("schemas", "action-runtimes.json")
    return json.loads(text.read_text("utf-8"))["actions"]


def node_runtime_problem(uses: str) -> str | None:
    """Why `uses: OWNER/REPO@REF` runs on a Node runtime GitHub removed, or None."""
    name, _, ref = uses.strip().partition("@")
    name = name.lower()
    if name not in REMOVED_NODE or not ref:
        return None
    majors, current = REMOVED_NODE[name]
    release, node = None, None
    m = _MAJOR.fullmatch(ref)
    if m and int(m.group(1)) in majors:
        release, node = ref, majors[int(m.group(1))]
    elif _SHA.fullmatch(ref) and ref in _pinned_releases().get(name, {}):
        rel, runtime = _pinned_releases()[name][ref]
        release, node = f"{ref[:12]}… ({rel})", int(runtime.removeprefix("node"))
    if node is None:
        return None
    when = "on 16 September 2026" if node == 20 else "in an earlier round"
    return (
        f"{name}@{release} runs on Node {node}, which GitHub removed from its hosted runners "
        f"{when}: use {name}@{current} (Node 24)"
    )


def validate_workflow_text(text: str, path: str = "workflow.yml") -> list[Finding]:
    """Every finding for one workflow file. Never raises."""
    try:
        return sort_findings(_validate(text))
    except RecursionError:
        return [Finding(1, 1, ERROR, "workflow.yaml", "not valid YAML: nesting too deep to read")]
    except Exception as exc:
        return [Finding(1, 1, ERROR, "workflow.yaml", f"could not be checked ({quote(exc)})")]


def _validate(text: str) -> list[Finding]:
    findings = text_findings(text, "workflow")
    root, loader, data, more = yn.parse_document(text, "workflow")
    findings += more
    if root is None or data is None:
        if not more:
            findings.append(Finding(1, 1, ERROR, "workflow.empty", "the workflow is empty"))
        return findings
    if not isinstance(root, MappingNode):
        findings.append(
            Finding(*yn.pos(root), ERROR, "workflow.structure", "a workflow is a mapping of keys")
        )
        return findings
    own = _rules(loader, root)
    findings += own
    taken = {(f.line, f.column) for f in own}
    for f in schema_check(data, loader, root, WORKFLOW, "workflow.schema", "GitHub workflow"):
        if (f.line, f.column) not in taken:
            findings.append(f)
    return findings


def _map(loader: Any, node: Node | None) -> dict[str, tuple[Node, Node]]:
    if not isinstance(node, MappingNode):
        return {}
    return {name: (k, v) for name, k, v in yn.items(loader, node)}


def _text(loader: Any, node: Node | None) -> str | None:
    if not isinstance(node, ScalarNode):
        return None
    v = yn.value(loader, node)
    return v if isinstance(v, str) else None


def _grants_id_token(loader: Any, node: Node | None) -> bool | None:
    """True/False when `permissions` is set at this level, None when it is not set."""
    if node is None:
        return None
    t = _text(loader, node)
    if t is not None:
        return t == "write-all"
    perms = _map(loader, node)
    return _text(loader, perms.get("id-token", (None, None))[1]) == "write"


def _rules(loader: Any, root: MappingNode) -> list[Finding]:
    out: list[Finding] = []
    top = _map(loader, root)
    wf_perm = top.get("permissions", (None, None))
    jobs = _map(loader, top.get("jobs", (None, None))[1])
    for job_name, (jkey, jnode) in jobs.items():
        job = _map(loader, jnode)
        job_perm = job.get("permissions", (None, None))
        steps = job.get("steps", (None, None))[1]
        for step in steps.value if isinstance(steps, SequenceNode) else []:
            s = _map(loader, step)
            uses = _text(loader, s.get("uses", (None, None))[1]) or ""
            if why := node_runtime_problem(uses):
                out.append(Finding(*yn.pos(s["uses"][1]), WARNING, "workflow.node-runtime", why))
            if not uses.lower().startswith(CONFIGURE):
                continue
            with_ = _map(loader, s.get("with", (None, None))[1])
            role = "role-to-assume" in with_
            key_id = with_.get("aws-access-key-id")
            if key_id is not None:
                value = _text(loader, key_id[1]) or ""
                if AWS_KEY_ID.search(value) or (value and "${{" not in value):
                    out.append(
                        Finding(
                            *yn.pos(key_id[1]),
                            ERROR,
                            "workflow.plaintext-secret",
                            "an access key is written in the workflow; use OIDC (role-to-assume) "
                            "or at least ${{ secrets.NAME }}, and rotate the key",
                        )
                    )
                elif not role:
                    out.append(
                        Finding(
                            *yn.pos(key_id[0]),
                            WARNING,
                            "workflow.static-keys",
                            "long-lived access keys from secrets; OIDC with role-to-assume needs "
                            "no stored keys (wizard setup creates the role)",
                        )
                    )
            if not role or key_id is not None:
                continue
            grant = _grants_id_token(loader, job_perm[1])
            level = job_perm if grant is not None else wf_perm
            if grant is None:
                grant = _grants_id_token(loader, wf_perm[1])
            if not grant:
                anchor = level[0] if level[0] is not None else jkey
                out.append(
                    Finding(
                        *yn.pos(anchor),
                        ERROR,
                        "workflow.oidc-permissions",
                        f"job {quote(job_name)} assumes a role with OIDC but cannot get a token: "
                        "add `permissions: {id-token: write, contents: read}`",
                    )
                )
            else:
                perms = _map(loader, level[1])
                if perms and "contents" not in perms:
                    out.append(
                        Finding(
                            *yn.pos(level[0]),
                            WARNING,
                            "workflow.permissions-contents",
                            "listing permissions drops every other one: add `contents: read` "
                            "so actions/checkout can read the repository",
                        )
                    )
    return out
