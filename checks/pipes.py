"""A hook script line that keeps the CodeDeploy agent waiting until the hook's timeout.

The agent runs each hook script with `Open3.popen3` and reads its stdout and stderr until both
close (aws/aws-codedeploy-agent, lib/instance_agent/plugins/codedeploy/hook_executor.rb
`execute_script`). A process the script starts inherits those pipes, so:

- `cmd &` (and `nohup cmd &`: nohup redirects only when its output is a terminal) without sending
  *both* stdout and stderr elsewhere keeps them open after the script exits;
- a server run in the foreground (anywhere at the script's top level) never lets the script end;

and the event ends only at the hook's timeout (3600 s by default), as ScriptTimedOut. AWS
documents the kind and its fix: CodeDeploy User Guide, "Troubleshoot EC2/On-Premises deployment
issues" → "Long-running processes can cause deployments to fail" (redirect the output,
`myapp > /dev/null 2> /dev/null < /dev/null &`),
https://docs.aws.amazon.com/codedeploy/latest/userguide/troubleshooting-deployments.html

Decided from the script's bytes, parsed by bashlex (bash's grammar); kept conservative: what the
bytes do not show for certain is not claimed.
"""

from __future__ import annotations

import posixpath
from typing import Any

# words that run the next word as the command
_RUNNERS = ("exec", "nohup", "sudo", "env", "setsid", "nice")
_NODE_ONCE = {"-e", "--eval", "-p", "--print", "-c", "--check", "-v", "--version", "-h", "--help"}


def _after(redirects: list[Any], out: str, err: str) -> tuple[str, str]:
    """Where fd 1 and fd 2 go after `redirects`: 'agent' (its pipe) or 'elsewhere'."""
    fd = {1: out, 2: err}
    for r in redirects:
        src, dst = getattr(r, "input", None), getattr(r, "output", None)
        if r.type in ("&>", "&>>") or (r.type == ">&" and src is None and not isinstance(dst, int)):
            fd[1] = fd[2] = "elsewhere"
        elif r.type == ">&" and isinstance(dst, int):  # 2>&1: a copy of where 1 goes now
            fd[1 if src is None else src] = fd.get(dst, "elsewhere")
        elif r.type in (">", ">>", ">|", ">&"):
            fd[1 if src is None else src] = "elsewhere"
    return fd[1], fd[2]


def _redirects(node: Any) -> list[Any]:
    if node.kind == "command":
        return [p for p in node.parts if p.kind == "redirect"]
    return list(getattr(node, "redirects", None) or [])


def _keeps_pipe(node: Any, out: str, err: str) -> bool:
    if node.kind == "pipeline":  # only the last command's stdout reaches the agent
        cmds = [p for p in node.parts if p.kind == "command"]
        return any(_keeps_pipe(c, out if c is cmds[-1] else "elsewhere", err) for c in cmds)
    return "agent" in _after(_redirects(node), out, err)


def _command_words(node: Any) -> list[str]:
    words = [p.word for p in node.parts if p.kind == "word"]
    while words and (words[0] in _RUNNERS or words[0].startswith("-") or "=" in words[0]):
        words = words[1:]
        if len(words) > 1 and words[0] in ("-u", "-g"):  # sudo -u USER
            words = words[2:]
    return words


def serves_forever(words: list[str]) -> bool:
    """A well-known command that serves in the foreground until stopped (`node app.js`,
    `java -jar`, `npm start`, `python -m http.server`, `gunicorn` without --daemon, `uvicorn`)."""
    if not words:
        return False
    name, args = posixpath.basename(words[0]), words[1:]
    if name in ("node", "nodejs"):
        return any(not a.startswith("-") for a in args) and not _NODE_ONCE & set(args)
    if name == "java":
        return "-jar" in args
    if name in ("npm", "yarn", "pnpm"):
        return args[:1] == ["start"] or args[:2] == ["run", "start"]
    if name.startswith("python"):
        return args[:2] == ["-m", "http.server"] or "runserver" in args
    if name == "gunicorn":
        return not {"--daemon", "-D"} & set(args)
    return name == "uvicorn"


def _children(node: Any) -> list[Any]:
    items = getattr(node, "parts", None) or getattr(node, "list", None) or []
    return [p for p in items if p.kind not in ("operator", "reservedword", "word", "redirect")]


def _backgrounded(nodes: list[Any], out: str, err: str) -> Any:
    """The first node run with `&` that keeps the agent's pipe; `exec >…` lines move fd 1/2."""
    for node in nodes:
        if node.kind == "command" and [p.word for p in node.parts if p.kind == "word"] == ["exec"]:
            out, err = _after(_redirects(node), out, err)
            continue
        if node.kind == "list":
            parts = node.parts
            for i, item in enumerate(parts[:-1]):
                nxt = parts[i + 1]
                if nxt.kind == "operator" and nxt.op == "&" and _keeps_pipe(item, out, err):
                    return item
        if node.kind in ("list", "compound", "if", "for", "while", "until"):
            inner_out, inner_err = _after([] if node.kind == "list" else _redirects(node), out, err)
            found = _backgrounded(_children(node), inner_out, inner_err)
            if found is not None:
                return found
    return None


def _foreground_server(nodes: list[Any]) -> Any:
    """The first top-level command, not run with `&`, that serves until stopped: the script
    waits for it, wherever it stands (`node app.js` then `echo started` never echoes)."""
    for node in nodes:
        if node.kind == "command" and serves_forever(_command_words(node)):
            return node
        if node.kind == "list":
            parts = node.parts
            for i, item in enumerate(parts):
                nxt = parts[i + 1] if i + 1 < len(parts) else None
                if item.kind != "command" or (nxt is not None and getattr(nxt, "op", "") == "&"):
                    continue
                if serves_forever(_command_words(item)):
                    return item
    return None


def holding_line(data: bytes) -> dict[str, Any] | None:
    """The first line of a hook script that keeps the agent waiting until the hook's timeout.

    Returns {"line": 1-based number, "text": the line, "command": the command without its
    redirections, "how": "background" | "foreground"} or None when the bytes show none (a
    script that is not a shell script, or one bashlex cannot parse, says nothing certain).
    """
    import bashlex

    text = data.decode("utf-8", "replace")
    shebang = text.split("\n", 1)[0]
    if shebang.startswith("#!") and "sh" not in shebang:
        return None
    try:
        nodes = bashlex.parse(text)
    except Exception:  # bashlex.errors.ParsingError and kin
        return None
    found, how = _backgrounded(nodes, "agent", "agent"), "background"
    server = _foreground_server(nodes)
    if server is not None and (found is None or server.pos[0] < found.pos[0]):
        found, how = server, "foreground"  # the script never gets past it
    if found is None:
        return None
    number = text.count("\n", 0, found.pos[0]) + 1
    words = [p for p in getattr(found, "parts", []) if p.kind == "word"]
    command = text[found.pos[0] : found.pos[1]]
    if found.kind == "command" and words:
        command = text[words[0].pos[0] : words[-1].pos[1]]
    for runner in ("exec ", "nohup "):
        command = command.removeprefix(runner)
    return {
        "line": number,
        "text": text.splitlines()[number - 1].strip(),
        "command": command.strip(),
        "how": how,
    }


def explain(script: str, holds: dict[str, Any], timeout: int | None) -> tuple[str, str]:
    """(why, what to do) for a script line found by `holding_line`, in the words of a report.

    `timeout` is the hook's timeout in seconds (the appspec's, 3600 by default).
    """
    wait = f"the agent waits until the hook's timeout ({timeout or 3600} s)"
    line, cmd = f"line {holds['line']} `{holds['text']}`", holds["command"]
    detached = f"{cmd} > /dev/null 2>&1 < /dev/null &"
    if holds["how"] == "foreground":
        why = f"{script}'s {line} runs a server in the foreground, so the script never ends: {wait}"
        action = f"Start it detached with its output redirected (`nohup {detached}`)"
    else:
        why = f"{script}'s {line} keeps the agent's output pipe open: {wait}"
        action = f"Redirect the output of `{cmd}` and detach it (`{detached}`)"
    return why, action + ", or run it as a systemd service"
