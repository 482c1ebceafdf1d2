"""Does a hook script leave a process holding the agent's output pipes? Decided from its bytes.

The agent runs a hook with `Open3.popen3` and reads the script's stdout and stderr until both
close (aws/aws-codedeploy-agent, lib/instance_agent/plugins/codedeploy/hook_executor.rb
`execute_script`), then waits for it up to the hook's `timeout`. A process the script starts
inherits those pipes: started with `&` (or `nohup … &`: nohup redirects only when its output is a
terminal) without sending both stdout and stderr elsewhere, it keeps them open after the script
exits, and the event ends only at the timeout, ScriptTimedOut. A server run in the foreground
(anywhere at the script's top level) never lets the script end at all. AWS documents it:
CodeDeploy User Guide, "Troubleshoot EC2/On-Premises deployment issues" → "Long-running
processes can cause deployments to fail" (redirect the output:
`myapp > /dev/null 2> /dev/null < /dev/null &`),
https://docs.aws.amazon.com/codedeploy/latest/userguide/troubleshooting-deployments.html
"""

from __future__ import annotations

import itertools
import posixpath
from typing import Any

# what runs the next word as the command (their options are skipped)
_WRAPPERS = {"exec", "nohup", "sudo", "env", "setsid", "nice"}


def _redirect(redirects: list[Any], fds: dict[int, str]) -> dict[int, str]:
    """fd 1 and 2 after `redirects`, each 'pipe' (the agent's) or 'away'."""
    fds = dict(fds)
    for r in redirects:
        kind, src, dst = r.type, getattr(r, "input", None), getattr(r, "output", None)
        if kind in ("&>", "&>>") or (kind == ">&" and not isinstance(dst, int) and src is None):
            fds[1] = fds[2] = "away"
        elif kind == ">&" and isinstance(dst, int):
            fds[src if src is not None else 1] = fds.get(dst, "away")
        elif kind in (">", ">>", ">|", ">&"):
            fds[src if src is not None else 1] = "away"
    return fds


def _words(cmd: Any) -> list[str]:
    return [p.word for p in cmd.parts if p.kind == "word"]


def _server(words: list[str]) -> bool:
    """A command that serves in the foreground until stopped."""
    while words and (words[0] in _WRAPPERS or "=" in words[0] or words[0].startswith("-")):
        words = words[1:]
        if words and words[0] in ("-u", "-g") and len(words) > 1:
            words = words[2:]
    if not words:
        return False
    name, args = posixpath.basename(words[0]), words[1:]
    if name in ("node", "nodejs"):
        once = {"-e", "--eval", "-p", "--print", "-c", "--check", "-v", "--version", "-h"}
        return any(not a.startswith("-") for a in args) and not once & set(args)
    if name == "java":
        return "-jar" in args
    if name in ("npm", "yarn", "pnpm"):
        return args[:1] == ["start"] or args[:2] == ["run", "start"]
    if name.startswith("python"):
        return args[:2] == ["-m", "http.server"] or "runserver" in args
    if name == "gunicorn":
        return "--daemon" not in args and "-D" not in args
    return name == "uvicorn"


def _holds(node: Any, fds: dict[int, str]) -> bool:
    """Does `node`, run with `&`, keep a pipe of the agent open?"""
    if node.kind == "command":
        after = _redirect([p for p in node.parts if p.kind == "redirect"], fds)
        return "pipe" in (after[1], after[2])
    if node.kind == "pipeline":
        cmds = [p for p in node.parts if p.kind == "command"]
        return any(_holds(c, fds if c is cmds[-1] else {**fds, 1: "away"}) for c in cmds)
    after = _redirect(getattr(node, "redirects", None) or [], fds)
    return "pipe" in (after[1], after[2])


def _scan(nodes: list[Any], fds: dict[int, str]) -> tuple[Any, dict[int, str]]:
    """The first backgrounded node that holds a pipe (or None), and fds after `exec >…`."""
    for node in nodes:
        if node.kind == "command" and _words(node) == ["exec"]:
            fds = _redirect([p for p in node.parts if p.kind == "redirect"], fds)
            continue
        parts = list(getattr(node, "parts", None) or getattr(node, "list", None) or [])
        if node.kind == "list":
            for item, nxt in itertools.pairwise(parts):
                if nxt.kind == "operator" and nxt.op == "&" and _holds(item, fds):
                    return item, fds
        if node.kind in ("list", "compound", "if", "for", "while", "until"):
            inner = _redirect(getattr(node, "redirects", None) or [], fds)
            found, _ = _scan([p for p in parts if p.kind not in ("operator",)], inner)
            if found is not None:
                return found, fds
    return None, fds


def _foreground(nodes: list[Any]) -> Any:
    """The first top-level command run without `&` that serves until stopped, wherever it
    stands in the script."""
    for node in nodes:
        if node.kind == "command" and _server(_words(node)):
            return node
        if node.kind == "list":
            parts = [*node.parts, None]
            for item, nxt in itertools.pairwise(parts):
                backgrounded = nxt is not None and nxt.kind == "operator" and nxt.op == "&"
                if item.kind == "command" and not backgrounded and _server(_words(item)):
                    return item
    return None


def holding_line(data: bytes) -> tuple[int, str] | None:
    """(line number, the line) of the first command that holds the agent's output pipes open
    until the hook's timeout, or None when the bytes show none (or are not a shell script)."""
    import bashlex

    text = data.decode("utf-8", "replace")
    first = text.split("\n", 1)[0]
    if first.startswith("#!") and not any(s in first for s in ("sh", "bash")):
        return None
    try:
        nodes = bashlex.parse(text)
    except Exception:  # bashlex.errors.ParsingError and kin: the bytes say nothing certain
        return None
    found, _ = _scan(nodes, {1: "pipe", 2: "pipe"})
    server = _foreground(nodes)
    if server is not None and (found is None or server.pos[0] < found.pos[0]):
        found = server  # the script waits for it: it never gets further
    if found is None:
        return None
    line = text.count("\n", 0, found.pos[0]) + 1
    return line, text.splitlines()[line - 1].strip()
