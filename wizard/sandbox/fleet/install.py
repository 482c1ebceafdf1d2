"""The Install step: copy the bundle's files into the instance's simulated filesystem."""

from __future__ import annotations

import posixpath
from typing import Any

from wizard.sandbox.fleet.appspec import AppSpec
from wizard.sandbox.fleet.bundle import Bundle, norm_rel
from wizard.sandbox.fleet.context import DeploymentContext
from wizard.sandbox.fleet.filesystem import Node, can_write
from wizard.sandbox.fleet.instance import Facts, InstanceState


def _copy_plan(
    spec: AppSpec, bundle: Bundle, ctx: DeploymentContext
) -> tuple[list[tuple[str, str]], list[str]]:
    """(file copies [(dest, src_rel)], directories to create) from the appspec's files."""
    copies: list[tuple[str, str]] = []
    mkdirs: list[str] = []
    for src, dst in spec.files:
        rel = norm_rel(src)
        dst = posixpath.normpath(dst)
        if bundle.is_dir(rel):
            mkdirs.append(dst)
            base = rel if rel not in ("", ".") else ""
            for f in bundle.walk(base):
                tail = f[len(base) + 1 :] if base else f
                copies.append((posixpath.join(dst, tail), f))
        else:
            copies.append((posixpath.join(dst, posixpath.basename(rel)), rel))
    return copies, mkdirs


def install(
    spec: AppSpec, bundle: Bundle, facts: Facts, st: InstanceState, ctx: DeploymentContext
) -> tuple[str | None, list[str], Any]:
    """Install: the error message, the installed paths, and the effect to apply at the end."""
    behavior = (spec.file_exists_behavior or ctx.file_exists_behavior or "DISALLOW").upper()
    record = st.groups.get(ctx.group_id)
    previous = set(record.installed) if record else set()
    # the agent first removes what the last install of this group put there
    fs = {p: n for p, n in st.fs.items() if p not in previous or n.kind == "dir"}
    copies, mkdirs = _copy_plan(spec, bundle, ctx)
    user = facts.agent_user
    planned: dict[str, Node] = {}
    for dst, rel in copies:
        if rel not in bundle.files:
            return (
                f"No such file or directory @ rb_sysopen - {ctx.root_dir}/deployment-archive/{rel}",
                [],
                None,
            )
        existing = fs.get(dst)
        if existing is not None and existing.kind == "file":
            if behavior == "DISALLOW":
                return (
                    "The deployment failed because a specified file already exists at this "
                    f"location: {dst}",
                    [],
                    None,
                )
            if behavior == "RETAIN":
                continue
    for path in mkdirs + [posixpath.dirname(d) for d, _ in copies]:
        missing = []
        cur = path
        while cur not in fs and cur not in planned and cur != "/":
            missing.append(cur)
            cur = posixpath.dirname(cur)
        for d in reversed(missing):
            parent = posixpath.dirname(d)
            pnode = planned.get(parent) or fs.get(parent)
            if pnode is None or pnode.kind != "dir" or not can_write(pnode, user):
                return f"Permission denied @ dir_s_mkdir - {d}", [], None
            planned[d] = Node("dir", user, user, "755", f"deploy:{ctx.group_id}")
    installed: list[str] = []
    for dst, rel in copies:
        existing = fs.get(dst)
        if existing is not None and existing.kind == "file" and behavior == "RETAIN":
            continue
        parent = posixpath.dirname(dst)
        pnode = planned.get(parent) or fs.get(parent)
        if pnode is None or pnode.kind != "dir" or not can_write(pnode, user):
            return f"Permission denied @ rb_sysopen - {dst}", [], None
        data = bundle.files.get(rel, b"")
        mode = format(bundle.mode(rel) & 0o777, "o")
        text = data.decode("utf-8", errors="replace") if len(data) <= 16384 else ""
        planned[dst] = Node("file", user, user, mode, f"deploy:{ctx.group_id}", text)
        installed.append(dst)
    for perm in spec.permissions:
        owner, group = perm.get("owner"), perm.get("group")
        if owner is not None and str(owner) not in facts.users:
            return f"can't find user for {owner}", [], None
        types = perm.get("type") or ["file", "directory"]
        obj = posixpath.normpath(str(perm["object"]))
        for path, node in planned.items():
            if not (path == obj or path.startswith(obj.rstrip("/") + "/")):
                continue
            if ("directory" if node.kind == "dir" else "file") not in types:
                continue
            if owner is not None:
                node.owner = str(owner)
            if group is not None:
                node.group = str(group)
            if perm.get("mode") is not None:
                node.mode = str(perm["mode"])

    def effect() -> None:
        for p in previous:
            node = st.fs.get(p)
            if node is not None and node.kind == "file" and node.origin == f"deploy:{ctx.group_id}":
                del st.fs[p]
        for p, node in planned.items():
            st.fs[p] = node

    return None, installed, effect
