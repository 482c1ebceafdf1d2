"""The shell Run Command meets on a simulated instance: bash's grammar, the instance's commands.

`AWS-RunShellScript` writes its `commands` to `_script.sh` and runs it with `/bin/sh` (bash in
POSIX mode on Amazon Linux, dash on Ubuntu), so errors name that file and follow that shell's
wording. The script is parsed by bashlex (a maintained port of bash's own grammar): lists (`;`,
`&&`, `||`, newlines), pipelines (`|`, `!`), `{ }` and `( )`, `if`/`elif`/`else`, `for`,
redirections (`>`, `>>`, `<`, `2>&1`, `>/dev/null`, here-documents), quoting, `$?`, `$VAR`,
`${VAR}`, `$(…)` and pathname expansion (`*`, `?`, `[…]`). Commands run against the
instance's simulated state:

    echo, printf, true, false, exit, cd, export, test/[, command -v, which, sudo [-u USER]
    cat, head, tail [-n N], grep [-q -i -v -c -E -F], wc -l, sort, ls [-a -l -d -1], stat -c
    id, whoami, getenforce, ps -o user= -C ruby, systemctl/service (codedeploy-agent,
    amazon-ssm-agent), journalctl -u UNIT, rpm -q, dpkg -s, yum/dnf info, ruby -v,
    /opt/codedeploy-agent/bin/codedeploy-agent --version|status, uname, hostname, date

Anything else is not found (exit 127), as on an instance where it is not installed.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

AGENT_BIN = "/opt/codedeploy-agent/bin/codedeploy-agent"
_PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


class _Exit(Exception):
    def __init__(self, code: int):
        self.code = code


@dataclass
class _Io:
    """What one command reads and writes."""

    stdin: str = ""
    out: list[str] = field(default_factory=list)
    err: list[str] = field(default_factory=list)

    def write(self, text: str) -> None:
        self.out.append(text if text.endswith("\n") or not text else text + "\n")

    def error(self, text: str) -> None:
        self.err.append(text if text.endswith("\n") else text + "\n")


class Shell:
    """Runs one Run Command script on one simulated instance (see the module docstring).

    `host` gives the instance: `facts` (users, agent, image, versions), `st` (filesystem,
    logs) and `agent_state()`. `script_path` is the `_script.sh` errors are reported against.
    """

    def __init__(self, host: Any, script_path: str, dash: bool, boot: bool = False):
        self.host = host
        self.script = script_path
        self.dash = dash
        # first boot (cloud-init running user data): what the sandbox does not model is taken
        # to work (package managers, downloads), so the commands it does model take effect
        self.boot = boot
        self.status = 0
        self.user = "root"
        self.cwd = "/"
        self.vars: dict[str, str] = {"HOME": "/root", "USER": "root", "PATH": ":".join(_PATH_DIRS)}
        self.line = 1
        self._source = ""
        self.errexit = False  # set -e
        self._testing = 0  # inside an if condition

    # ---- running ------------------------------------------------------------------------

    def run(self, text: str) -> tuple[int, str, str]:
        """Run the whole script: (exit status, stdout, stderr)."""
        import bashlex

        io = _Io()
        self._source = text
        try:
            nodes = bashlex.parse(text)
        except Exception as exc:  # bashlex.errors.ParsingError and its relatives
            position = getattr(exc, "position", 0) or 0
            self.line = text.count("\n", 0, position) + 1
            message = str(getattr(exc, "message", "") or exc).split(" (position")[0]
            io.error(f"{self._where()} syntax error: {message}")
            return 2, "", "".join(io.err)
        try:
            for node in nodes:
                self.status = self._node(node, io)
        except _Exit as done:
            self.status = done.code
        return self.status, "".join(io.out), "".join(io.err)

    def _where(self) -> str:
        return f"{self.script}: {self.line}:" if self.dash else f"{self.script}: line {self.line}:"

    def _node(self, node: Any, io: _Io, guarded: bool = False) -> int:
        """Run one node; under `set -e` a failing command ends the script unless it is tested
        (an `if` condition, the left of `&&`/`||`, a `!` pipeline)."""
        status = self._run_node(node, io)
        negated = node.kind == "pipeline" and any(
            p.kind == "reservedword" and p.word == "!" for p in node.parts
        )
        plain = node.kind in ("command", "pipeline", "compound")
        if status and self.errexit and plain and not guarded and not negated and not self._testing:
            raise _Exit(status)
        return status

    def _run_node(self, node: Any, io: _Io) -> int:
        kind = node.kind
        self.line = self._source.count("\n", 0, node.pos[0]) + 1
        if kind == "list":
            return self._list(node.parts, io)
        if kind == "pipeline":
            return self._pipeline(node, io)
        if kind == "command":
            return self._command(node, io)
        if kind == "compound":
            sub = _Io(io.stdin)
            status = self._list(node.list, sub)
            return self._redirected(getattr(node, "redirects", []) or [], sub, io, status)
        if kind == "if":
            return self._if(node, io)
        if kind == "for":
            return self._for(node, io)
        if kind in ("reservedword", "operator"):
            return self.status
        io.error(f"{self._where()} {kind}: not supported in the sandbox shell")
        return 2

    def _list(self, parts: list[Any], io: _Io) -> int:
        status = self.status
        skip = False
        for index, part in enumerate(parts):
            if part.kind == "operator":
                if part.op == "&&":
                    skip = status != 0
                elif part.op == "||":
                    skip = status == 0
                else:  # ; & newline
                    skip = False
                continue
            if part.kind in ("reservedword",) and part.word in ("{", "}", "(", ")"):
                continue
            if skip:
                continue
            following = next((p for p in parts[index + 1 :] if p.kind == "operator"), None)
            guarded = following is not None and following.op in ("&&", "||")
            status = self._node(part, io, guarded=guarded)
            self.status = status
        return status

    def _pipeline(self, node: Any, io: _Io) -> int:
        negate = False
        commands = []
        for part in node.parts:
            if part.kind == "reservedword" and part.word == "!":
                negate = True
            elif part.kind != "pipe":
                commands.append(part)
        data = io.stdin
        status = 0
        for index, command in enumerate(commands):
            sub = _Io(data)
            status = self._run_node(command, sub)
            io.err.extend(sub.err)
            if index == len(commands) - 1:
                io.out.extend(sub.out)
            else:
                data = "".join(sub.out)
        return (0 if status else 1) if negate else status

    def _if(self, node: Any, io: _Io) -> int:
        parts = list(node.parts)
        i = 0
        while i < len(parts):
            word = parts[i].word if parts[i].kind == "reservedword" else None
            if word in ("if", "elif"):
                condition = parts[i + 1]
                body = parts[i + 3]
                self._testing += 1
                try:
                    tested = self._node(condition, io)
                finally:
                    self._testing -= 1
                if tested == 0:
                    return self._node(body, io)
                i += 4
            elif word == "else":
                return self._node(parts[i + 1], io)
            else:
                i += 1
        return 0

    def _for(self, node: Any, io: _Io) -> int:
        parts = list(node.parts)
        name = parts[1].word
        items: list[str] = []
        body = None
        i = 2
        if i < len(parts) and parts[i].kind == "reservedword" and parts[i].word == "in":
            i += 1
            while i < len(parts) and parts[i].kind == "word":
                items += self._expand_split(parts[i])
                i += 1
        for part in parts[i:]:
            if part.kind not in ("reservedword",):
                body = part
        status = 0
        for item in items:
            self.vars[name] = item
            if body is not None:
                status = self._node(body, io)
        return status

    # ---- one simple command --------------------------------------------------------------

    def _command(self, node: Any, io: _Io) -> int:
        argv: list[str] = []
        redirects = []
        assignments = []
        for part in node.parts:
            if part.kind == "word":
                argv += self._expand_split(part)
            elif part.kind == "assignment":
                assignments.append(part)
            elif part.kind == "redirect":
                redirects.append(part)
        for a in assignments:
            raw = self._raw(a)
            name, _, value = raw.partition("=")
            if not argv:
                self.vars[name] = self._expand(value)
        sub = _Io(io.stdin)
        for r in redirects:
            if r.type in ("<", "<<", "<<<"):
                sub.stdin = self._input(r, io)
        status = self._call(argv, sub) if argv else 0
        return self._redirected(redirects, sub, io, status)

    def _input(self, r: Any, io: _Io) -> str:
        heredoc = getattr(r, "heredoc", None)
        if heredoc is not None:
            body = heredoc.value.rsplit("\n", 1)[0]
            return self._expand(body, quoted=True) + "\n"
        path = self._path(self._expand(self._raw(r.output)))
        node = self.host.st.fs.get(path)
        if node is None or node.kind != "file":
            io.error(f"{self._where()} {path}: No such file or directory")
            return ""
        return self._content(path)

    def _redirected(self, redirects: list[Any], sub: _Io, io: _Io, status: int) -> int:
        """Send the command's output where its redirections say, in order (as bash does)."""
        fds: dict[int, tuple[str, Any]] = {1: ("out", None), 2: ("err", None)}
        for r in redirects:
            if r.type in ("<", "<<", "<<<"):
                continue
            source = r.input if isinstance(getattr(r, "input", None), int) else 1
            if r.type == ">&" and isinstance(r.output, int):
                fds[source] = fds.get(r.output, ("out", None))
                continue
            target = self._expand(self._raw(r.output)) if not isinstance(r.output, int) else ""
            if r.type in ("&>", ">&"):
                pair = self._target(target, append=False)
                fds[1] = fds[2] = pair
                continue
            fds[source] = self._target(target, append=r.type == ">>")
        streams = {1: "".join(sub.out), 2: "".join(sub.err)}
        for fd in (1, 2):
            kind, where = fds[fd]
            text = streams[fd]
            if kind == "out":
                io.out.append(text) if text else None
            elif kind == "err":
                io.err.append(text) if text else None
            elif kind == "file":
                self._write(where[0], text, where[1])
        return status

    def _target(self, target: str, append: bool) -> tuple[str, Any]:
        if target == "/dev/null":
            return ("null", None)
        if target in ("/dev/stderr",):
            return ("err", None)
        if target in ("/dev/stdout",):
            return ("out", None)
        path = self._path(target)
        if not append:
            self._write(path, "", False)
        return ("file", (path, True))

    def _write(self, path: str, text: str, append: bool) -> None:
        from wizard.sandbox.fleet.filesystem import Node

        fs = self.host.st.fs
        parent = fs.get(posixpath.dirname(path))
        if parent is None or parent.kind != "dir":
            return
        node = fs.get(path)
        if node is None:
            node = fs[path] = Node("file", self.user, self.user, "644", "shell", "")
        if node.kind == "file":
            node.content = (node.content if append else "") + text

    # ---- words ---------------------------------------------------------------------------

    def _raw(self, node: Any) -> str:
        return self._source[node.pos[0] : node.pos[1]]

    def _expand_split(self, node: Any) -> list[str]:
        raw = self._raw(node)
        text = self._expand(raw)
        quoted = any(q in raw for q in ("'", '"', "\\"))
        words = [text] if quoted or "$" not in raw else text.split()
        if quoted or not any(c in raw for c in "*?["):
            return words
        return [match for word in words for match in self._glob(word)]

    def _glob(self, pattern: str) -> list[str]:
        """Pathname expansion: the matching paths, sorted; the word itself when none match."""
        absolute = self._path(pattern)
        depth = absolute.count("/")
        found = sorted(
            p for p in self.host.st.fs if p.count("/") == depth and fnmatch.fnmatchcase(p, absolute)
        )
        if not found:
            return [pattern]
        if pattern.startswith("/"):
            return found
        prefix = self.cwd.rstrip("/") + "/"
        return [p[len(prefix) :] if p.startswith(prefix) else p for p in found]

    def _expand(self, raw: str, quoted: bool = False) -> str:
        """Quote removal and parameter / command expansion of one word (no globbing)."""
        out: list[str] = []
        i = 0
        in_double = quoted
        while i < len(raw):
            c = raw[i]
            if c == "'" and not in_double:
                end = raw.find("'", i + 1)
                end = len(raw) if end < 0 else end
                out.append(raw[i + 1 : end])
                i = end + 1
            elif c == '"' and not quoted:
                in_double = not in_double
                i += 1
            elif c == "\\" and i + 1 < len(raw):
                nxt = raw[i + 1]
                if not in_double or nxt in '$`"\\\n':
                    out.append(nxt)
                else:
                    out.append(c + nxt)
                i += 2
            elif c == "$" and i + 1 < len(raw):
                value, i = self._dollar(raw, i)
                out.append(value)
            else:
                out.append(c)
                i += 1
        return "".join(out)

    def _dollar(self, raw: str, i: int) -> tuple[str, int]:
        nxt = raw[i + 1]
        if nxt == "?":
            return str(self.status), i + 2
        if nxt == "$":
            return "4242", i + 2
        if nxt == "{":
            end = raw.find("}", i)
            end = len(raw) if end < 0 else end
            name = raw[i + 2 : end]
            default = None
            if ":-" in name:
                name, default = name.split(":-", 1)
            value = self.vars.get(name, "")
            return (value or (default or "")), end + 1
        if nxt == "(":
            depth, j = 1, i + 2
            while j < len(raw) and depth:
                depth += {"(": 1, ")": -1}.get(raw[j], 0)
                j += 1
            inner = raw[i + 2 : j - 1]
            child = Shell(self.host, self.script, self.dash)
            child.vars = dict(self.vars)
            child.status = self.status
            _, out, _ = child.run(inner)
            return out.rstrip("\n"), j
        m = re.match(r"[A-Za-z_][A-Za-z0-9_]*", raw[i + 1 :])
        if m:
            return self.vars.get(m.group(0), ""), i + 1 + m.end()
        return "$", i + 1

    # ---- commands ------------------------------------------------------------------------

    def _call(self, argv: list[str], io: _Io) -> int:
        user = self.user
        try:
            if argv[0] == "sudo":
                argv = argv[1:]
                target = "root"
                while argv and argv[0].startswith("-"):
                    flag = argv.pop(0)
                    if flag == "-u" and argv:
                        target = argv.pop(0)
                if target not in self.host.facts.users:
                    io.error(f"sudo: unknown user {target}")
                    return 1
                if not argv:
                    io.error("usage: sudo -u user command")
                    return 1
                self.user = target
            name = argv[0]
            if name == AGENT_BIN or name.endswith("/codedeploy-agent"):
                return self.agent_cli(argv[1:], io, name)
            if self.boot and posixpath.basename(name) == "install":
                return self.host.run_installer(argv[1:], io)
            if "/" in name:
                path = self._path(name)
                base = posixpath.basename(path)
                if posixpath.dirname(path) in _PATH_DIRS and hasattr(self, "cmd_" + _ident(base)):
                    name = base
                else:
                    node = self.host.st.fs.get(path)
                    if node is None:
                        io.error(f"{self._where()} {argv[0]}: No such file or directory")
                        return 127
                    io.error(f"{self._where()} {argv[0]}: Permission denied")
                    return 126
            handler = getattr(self, "cmd_" + _ident(name), None)
            if name == "[":
                handler = self.cmd_test
                argv = argv[:-1] if argv[-1] == "]" else argv
            if handler is None and self.boot:
                return 0
            if handler is None:
                if self.dash:
                    io.error(f"{self._where()} {name}: not found")
                else:
                    io.error(f"{self._where()} {name}: command not found")
                return 127
            return handler(argv[1:], io)
        finally:
            self.user = user

    def _path(self, p: str) -> str:
        if p.startswith("~"):
            p = self.vars.get("HOME", "/root") + p[1:]
        return posixpath.normpath(p if p.startswith("/") else posixpath.join(self.cwd, p))

    def _content(self, path: str) -> str:
        st = self.host.st
        if path in st.logs:
            return "".join(line + "\n" for line in st.logs[path])
        node = st.fs.get(path)
        text = node.content if node is not None else ""
        return text if not text or text.endswith("\n") else text + "\n"

    def _lines(self, args: list[str], io: _Io, name: str) -> tuple[list[str] | None, int]:
        """The lines of the named files (or stdin): (lines, status)."""
        if not args:
            return io.stdin.splitlines(), 0
        lines: list[str] = []
        status = 0
        for raw in args:
            path = self._path(raw)
            node = self.host.st.fs.get(path)
            if node is None:
                io.error(f"{name}: {raw}: No such file or directory")
                status = 1
            elif node.kind == "dir":
                io.error(f"{name}: {raw}: Is a directory")
                status = 1
            else:
                lines += self._content(path).splitlines()
        return lines, status

    # builtins
    def cmd_echo(self, args: list[str], io: _Io) -> int:
        newline = True
        if args and args[0] == "-n":
            newline, args = False, args[1:]
        elif args and args[0] == "-e":
            args = [a.encode().decode("unicode_escape") for a in args[1:]]
        io.out.append(" ".join(args) + ("\n" if newline else ""))
        return 0

    def cmd_printf(self, args: list[str], io: _Io) -> int:
        if not args:
            io.error("printf: usage: printf [-v var] format [arguments]")
            return 2
        fmt = args[0].replace("\\n", "\n").replace("\\t", "\t")
        values = args[1:]
        try:
            io.out.append(fmt % tuple(values) if values else fmt.replace("%%", "%"))
        except (TypeError, ValueError):
            io.out.append(fmt + " ".join(values))
        return 0

    def cmd_set(self, args: list[str], io: _Io) -> int:
        """`set -e` / `set +e` / `set -o errexit` matter here; the other options are accepted."""
        i = 0
        while i < len(args):
            arg = args[i]
            if arg in ("-o", "+o") and i + 1 < len(args):
                if args[i + 1] == "errexit":
                    self.errexit = arg == "-o"
                elif args[i + 1] == "pipefail" and self.dash:
                    io.error(f"{self._where()} set: Illegal option -o pipefail")
                    raise _Exit(2)
                i += 2
                continue
            if arg[:1] in "-+" and "e" in arg[1:]:
                self.errexit = arg[0] == "-"
            if arg[:1] == "-" and arg.endswith("o") and i + 1 < len(args):
                i += 1
                if args[i] == "pipefail" and self.dash:
                    io.error(f"{self._where()} set: Illegal option -o pipefail")
                    raise _Exit(2)
            i += 1
        return 0

    def cmd_true(self, args: list[str], io: _Io) -> int:
        return 0

    def cmd_false(self, args: list[str], io: _Io) -> int:
        return 1

    def cmd_exit(self, args: list[str], io: _Io) -> int:
        try:
            code = int(args[0]) if args else self.status
        except ValueError:
            io.error(f"{self._where()} exit: {args[0]}: numeric argument required")
            code = 2
        raise _Exit(code & 0xFF)

    def cmd_cd(self, args: list[str], io: _Io) -> int:
        target = self._path(args[0]) if args else self.vars.get("HOME", "/root")
        node = self.host.st.fs.get(target)
        if node is None or node.kind != "dir":
            shown = args[0] if args else target
            io.error(f"{self._where()} cd: {shown}: No such file or directory")
            return 1 if not self.dash else 2
        self.cwd = target
        return 0

    def cmd_export(self, args: list[str], io: _Io) -> int:
        for a in args:
            if "=" in a:
                name, _, value = a.partition("=")
                self.vars[name] = value
        return 0

    def cmd_command(self, args: list[str], io: _Io) -> int:
        if args and args[0] == "-v" and len(args) > 1:
            return self.cmd_which(args[1:], io, quiet_missing=True)
        return self._call(args, io) if args else 0

    def cmd_which(self, args: list[str], io: _Io, quiet_missing: bool = False) -> int:
        status = 0
        for name in args:
            if name == "codedeploy-agent" and self.host.agent_state() != "absent":
                io.write(AGENT_BIN)
            elif hasattr(self, "cmd_" + _ident(name)):
                io.write(f"/usr/bin/{name}")
            else:
                if not quiet_missing:
                    io.error(f"which: no {name} in ({self.vars['PATH']})")
                status = 1
        return status

    def cmd_whoami(self, args: list[str], io: _Io) -> int:
        io.write(self.user)
        return 0

    def cmd_hostname(self, args: list[str], io: _Io) -> int:
        io.write(f"ip-{self.host.facts.private_ip.replace('.', '-')}.ec2.internal")
        return 0

    def cmd_uname(self, args: list[str], io: _Io) -> int:
        io.write("Linux" if not args or args == ["-s"] else "Linux x86_64")
        return 0

    def cmd_date(self, args: list[str], io: _Io) -> int:
        from datetime import datetime, timezone

        io.write(datetime.now(timezone.utc).strftime("%a %b %d %H:%M:%S UTC %Y"))
        return 0

    def cmd_getenforce(self, args: list[str], io: _Io) -> int:
        io.write("Disabled")
        return 0

    def cmd_test(self, args: list[str], io: _Io) -> int:
        if len(args) == 1:
            return 0 if args[0] else 1
        if len(args) == 3 and args[1] in ("=", "==", "!="):
            same = args[0] == args[2]
            return 0 if same == (args[1] != "!=") else 1
        if len(args) != 2:
            return 2
        flag, raw = args
        if flag == "-n":
            return 0 if raw else 1
        if flag == "-z":
            return 1 if raw else 0
        node = self.host.st.fs.get(self._path(raw))
        if flag == "-e":
            return 0 if node else 1
        if flag == "-d":
            return 0 if node and node.kind == "dir" else 1
        if flag == "-f":
            return 0 if node and node.kind == "file" else 1
        if flag == "-s":
            return 0 if node and node.kind == "file" and self._content(self._path(raw)) else 1
        if flag in ("-w", "-r", "-x"):
            from wizard.sandbox.fleet.filesystem import has_bit

            if node is None:
                return 1
            return 0 if has_bit(node, self.user, {"-r": 4, "-w": 2, "-x": 1}[flag]) else 1
        return 2

    # text
    def cmd_cat(self, args: list[str], io: _Io) -> int:
        files = [a for a in args if not a.startswith("-") or a == "-"]
        lines, status = self._lines([f for f in files if f != "-"], io, "cat")
        if not files:
            io.out.append(io.stdin)
            return 0
        if lines:
            io.out.append("\n".join(lines) + "\n")
        return status

    def cmd_head(self, args: list[str], io: _Io) -> int:
        n, files = _count_and_files(args, 10)
        if n is None:
            io.error(f"head: invalid number of lines: '{files[0]}'")
            return 1
        lines, status = self._lines(files, io, "head")
        for line in (lines or [])[:n]:
            io.write(line)
        return status

    def cmd_tail(self, args: list[str], io: _Io) -> int:
        n, files = _count_and_files(args, 10)
        if n is None:
            io.error(f"tail: invalid number of lines: '{files[0]}'")
            return 1
        status = 0
        out: list[str] = []
        if not files:
            out = io.stdin.splitlines()
        for raw in files:
            path = self._path(raw)
            node = self.host.st.fs.get(path)
            if node is None:
                io.error(f"tail: cannot open '{raw}' for reading: No such file or directory")
                status = 1
            elif node.kind == "dir":
                io.error(f"tail: error reading '{raw}': Is a directory")
                status = 1
            else:
                out += self._content(path).splitlines()
        for line in out[-n:] if n else []:
            io.write(line)
        return status

    def cmd_grep(self, args: list[str], io: _Io) -> int:
        flags, rest, patterns = "", [], []
        context = {"A": 0, "B": 0}
        limit = None
        i = 0
        while i < len(args):
            a = args[i]
            if a.startswith("-") and len(a) > 1 and not rest:
                letters = a[1:]
                key = letters[0]
                if key in "ABCme":
                    value = letters[1:] or (args[i + 1] if i + 1 < len(args) else "")
                    i += 0 if letters[1:] else 1
                    if key == "e":
                        patterns.append(value)
                    elif not value.isdigit():
                        io.error(f"grep: {value}: invalid context length argument")
                        return 2
                    elif key == "m":
                        limit = int(value)
                    else:
                        for k in ("A", "B") if key == "C" else (key,):
                            context[k] = int(value)
                else:
                    flags += letters
            else:
                rest.append(a)
            i += 1
        if not patterns:
            if not rest:
                io.error("Usage: grep [OPTION]... PATTERNS [FILE]...")
                return 2
            patterns, rest = [rest[0]], rest[1:]
        lines, status = self._lines(rest, io, "grep")
        lines = lines or []
        regexes = []
        for pattern in patterns:
            regex = re.escape(pattern) if "F" in flags else _bre(pattern, "E" in flags)
            try:
                regexes.append(re.compile(regex, re.I if "i" in flags else 0))
            except re.error:
                regexes.append(re.compile(re.escape(pattern), re.I if "i" in flags else 0))
        hits = [
            n
            for n, line in enumerate(lines)
            if any(r.search(line) for r in regexes) != ("v" in flags)
        ][:limit]
        if "c" in flags:
            io.write(str(len(hits)))
        elif "q" not in flags:
            shown: list[int] = []
            for n in hits:
                for k in range(max(0, n - context["B"]), min(len(lines), n + context["A"] + 1)):
                    if k not in shown:
                        shown.append(k)
            for k in shown:
                io.write(lines[k])
        if status and not hits:
            return 2
        return 0 if hits else 1

    def cmd_wc(self, args: list[str], io: _Io) -> int:
        files = [a for a in args if not a.startswith("-")]
        lines, status = self._lines(files, io, "wc")
        count = len(lines or [])
        io.write(f"{count} {files[0]}" if files else str(count))
        return status

    def cmd_sort(self, args: list[str], io: _Io) -> int:
        files = [a for a in args if not a.startswith("-")]
        lines, status = self._lines(files, io, "sort")
        for line in sorted(lines or [], reverse="-r" in args):
            io.write(line)
        return status

    # files
    def cmd_ls(self, args: list[str], io: _Io) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-") and len(a) > 1)
        paths = [a for a in args if not a.startswith("-")] or [self.cwd]
        status = 0
        fs = self.host.st.fs
        for raw in paths:
            path = self._path(raw)
            node = fs.get(path)
            if node is None:
                io.error(f"ls: cannot access '{raw}': No such file or directory")
                status = 2
                continue
            if node.kind == "file" or "d" in flags:
                io.write(self._ls_line(path, raw, node) if "l" in flags else raw)
                continue
            prefix = path.rstrip("/") + "/"
            names = sorted(
                p[len(prefix) :]
                for p in fs
                if p.startswith(prefix) and "/" not in p[len(prefix) :] and p != path
            )
            if "a" in flags:
                names = [".", "..", *names]
            elif "A" not in flags:
                names = [n for n in names if not n.startswith(".")]
            if "l" in flags:
                io.write(f"total {4 * len(names)}")
                for name in names:
                    child_path = posixpath.normpath(prefix + name)
                    io.write(self._ls_line(child_path, name, fs.get(child_path, node)))
            else:
                for name in names:
                    io.write(name)
        return status

    def _ls_line(self, path: str, shown: str, node: Any) -> str:
        kind = "d" if node.kind == "dir" else "-"
        size = 4096 if node.kind == "dir" else len(self._content(path).encode())
        links = 2 if node.kind == "dir" else 1
        return (
            f"{kind}{_rwx(node.mode)} {links} {node.owner} {node.group} {size} Jan  1 00:00 {shown}"
        )

    def cmd_stat(self, args: list[str], io: _Io) -> int:
        fmt = None
        paths = []
        i = 0
        while i < len(args):
            a = args[i]
            if a in ("-c", "--format") and i + 1 < len(args):
                fmt = args[i + 1]
                i += 2
                continue
            if a.startswith("--format="):
                fmt = a.split("=", 1)[1]
            elif not a.startswith("-"):
                paths.append(a)
            i += 1
        if not paths:
            io.error("stat: missing operand")
            return 1
        status = 0
        for raw in paths:
            path = self._path(raw)
            node = self.host.st.fs.get(path)
            if node is None:
                io.error(f"stat: cannot statx '{raw}': No such file or directory")
                status = 1
                continue
            kind = "directory" if node.kind == "dir" else "regular file"
            mode = node.mode.lstrip("0") or "0"
            if fmt is None:
                io.write(
                    f"  File: {raw}\n  Size: {len(self._content(path))}\t{kind}\n"
                    f"Access: (0{mode}/{'d' if node.kind == 'dir' else '-'}{_rwx(node.mode)})  "
                    f"Uid: ( {self._uid(node.owner)}/ {node.owner})   "
                    f"Gid: ( {self._uid(node.group)}/ {node.group})"
                )
                continue
            text = (
                fmt.replace("%U", node.owner)
                .replace("%G", node.group)
                .replace("%a", mode)
                .replace("%A", ("d" if node.kind == "dir" else "-") + _rwx(node.mode))
                .replace("%n", raw)
                .replace("%F", kind)
                .replace("%u", str(self._uid(node.owner)))
                .replace("%g", str(self._uid(node.group)))
            )
            io.write(text)
        return status

    # downloads (first boot only: the sandbox has no network, the boot takes them to work)
    def cmd_wget(self, args: list[str], io: _Io) -> int:
        if not self.boot:
            return self._call(["wget-is-not-installed", *args], io)
        target = None
        urls = [a for a in args if "://" in a]
        for flag in ("-O", "--output-document"):
            if flag in args and args.index(flag) + 1 < len(args):
                target = args[args.index(flag) + 1]
        if target is None and urls:
            target = urls[0].rstrip("/").rsplit("/", 1)[-1]
        if target and target != "-":
            self._write(self._path(target), "", False)
        return 0

    def cmd_curl(self, args: list[str], io: _Io) -> int:
        if not self.boot:
            return self._call(["curl-is-not-installed", *args], io)
        for flag in ("-o", "--output"):
            if flag in args and args.index(flag) + 1 < len(args):
                self._write(self._path(args[args.index(flag) + 1]), "", False)
        if "-O" in args or "--remote-name" in args:
            urls = [a for a in args if "://" in a]
            if urls:
                self._write(self._path(urls[0].rstrip("/").rsplit("/", 1)[-1]), "", False)
        return 0

    # changing files and users
    def _parent_ok(self, path: str, io: _Io, name: str, raw: str) -> bool:
        parent = self.host.st.fs.get(posixpath.dirname(path))
        if parent is None or parent.kind != "dir":
            io.error(f"{name}: cannot create '{raw}': No such file or directory")
            return False
        return True

    def cmd_mkdir(self, args: list[str], io: _Io) -> int:
        from wizard.sandbox.fleet.filesystem import Node, ensure_dirs

        parents = any(a.startswith("-") and "p" in a for a in args)
        mode = "755"
        if "-m" in args and args.index("-m") + 1 < len(args):
            mode = args[args.index("-m") + 1]
        status = 0
        fs = self.host.st.fs
        for raw in [a for a in args if not a.startswith("-") and a != mode]:
            path = self._path(raw)
            if path in fs:
                if not parents:
                    io.error(f"mkdir: cannot create directory '{raw}': File exists")
                    status = 1
                continue
            if parents:
                ensure_dirs(fs, path, self.user, self.user, "755", "shell")
                fs[path].mode = mode
            elif self._parent_ok(path, io, "mkdir", raw):
                fs[path] = Node("dir", self.user, self.user, mode, "shell")
            else:
                status = 1
        return status

    def cmd_touch(self, args: list[str], io: _Io) -> int:
        status = 0
        for raw in [a for a in args if not a.startswith("-")]:
            path = self._path(raw)
            if path not in self.host.st.fs:
                if self._parent_ok(path, io, "touch", raw):
                    self._write(path, "", True)
                else:
                    status = 1
        return status

    def cmd_chown(self, args: list[str], io: _Io) -> int:
        words = [a for a in args if not a.startswith("-")]
        if len(words) < 2:
            io.error("chown: missing operand")
            return 1
        owner, _, group = words[0].partition(":")
        recursive = any(a.startswith("-") and "R" in a for a in args)
        for name in (owner, group):
            if name and name not in self.host.facts.users:
                io.error(f"chown: invalid user: '{words[0]}'")
                return 1
        return self._each(words[1:], io, "chown", recursive, owner=owner, group=group)

    def cmd_chmod(self, args: list[str], io: _Io) -> int:
        words = [a for a in args if not a.startswith("-") or re.fullmatch(r"-[rwxX]+", a)]
        if len(words) < 2:
            io.error("chmod: missing operand")
            return 1
        spec = words[0]
        if not re.fullmatch(r"[0-7]{1,4}|([ugoa]*[-+=][rwxX]*)(,[ugoa]*[-+=][rwxX]*)*", spec):
            io.error(f"chmod: invalid mode: '{spec}'")
            return 1
        recursive = any(a.startswith("-") and "R" in a for a in args)
        fs = self.host.st.fs
        status = 0
        for raw in words[1:]:
            path = self._path(raw)
            if path not in fs:
                io.error(f"chmod: cannot access '{raw}': No such file or directory")
                status = 1
                continue
            prefix = path.rstrip("/") + "/"
            for p in [path] + ([q for q in fs if q.startswith(prefix)] if recursive else []):
                fs[p].mode = _chmod(fs[p].mode, spec)
        return status

    def _each(self, paths: list[str], io: _Io, name: str, recursive: bool, **change: str) -> int:
        fs = self.host.st.fs
        status = 0
        for raw in paths:
            path = self._path(raw)
            if path not in fs:
                io.error(f"{name}: cannot access '{raw}': No such file or directory")
                status = 1
                continue
            prefix = path.rstrip("/") + "/"
            for p in [path] + ([q for q in fs if q.startswith(prefix)] if recursive else []):
                node = fs[p]
                for attr, value in change.items():
                    if value:
                        setattr(node, attr, value)
        return status

    def cmd_useradd(self, args: list[str], io: _Io) -> int:
        names = [a for a in args if not a.startswith("-")]
        if not names:
            io.error("Usage: useradd [options] LOGIN")
            return 2
        name = names[-1]
        if name in self.host.facts.users:
            io.error(f"useradd: user '{name}' already exists")
            return 9
        self.host.add_user(name)
        return 0

    cmd_adduser = cmd_useradd

    def cmd_sed(self, args: list[str], io: _Io) -> int:
        """`sed -i 's/OLD/NEW/[g]' FILE…` (the edit user data makes to agent config files)."""
        if "-i" not in args:
            io.error("sed: only in-place substitution (sed -i 's/a/b/' FILE) is modelled")
            return 1
        words = [a for a in args if a != "-i"]
        if not words:
            return 1
        m = re.fullmatch(r"s(.)(.*?)\1(.*?)\1(g?)", words[0])
        if not m:
            io.error(f"sed: -e expression #1, char 1: unknown command: `{words[0][:1]}'")
            return 1
        _, old, new, flag = m.groups()
        status = 0
        for raw in words[1:]:
            path = self._path(raw)
            node = self.host.st.fs.get(path)
            if node is None or node.kind != "file":
                io.error(f"sed: can't read {raw}: No such file or directory")
                status = 2
                continue
            try:
                pattern = re.compile(_bre(old, False))
            except re.error:
                pattern = re.compile(re.escape(old))
            repl = new.replace("&", r"\g<0>")
            count = 0 if flag else 1
            lines = node.content.split("\n")
            node.content = "\n".join(pattern.sub(repl, line, count=count) for line in lines)
        return status

    # users and processes
    def _uid(self, user: str) -> int | None:
        facts = self.host.facts
        if user not in facts.users:
            return None
        if user == "root":
            return 0
        if user == facts.default_user:
            return 1000
        others = sorted(u for u in facts.users if u not in ("root", facts.default_user))
        return 1001 + others.index(user)

    def cmd_id(self, args: list[str], io: _Io) -> int:
        flags = "".join(a[1:] for a in args if a.startswith("-"))
        users = [a for a in args if not a.startswith("-")]
        user = users[0] if users else self.user
        uid = self._uid(user)
        if uid is None:
            io.error(f"id: '{user}': no such user")
            return 1
        if "n" in flags and ("u" in flags or "g" in flags):
            io.write(user)
        elif "u" in flags or "g" in flags:
            io.write(str(uid))
        else:
            io.write(f"uid={uid}({user}) gid={uid}({user}) groups={uid}({user})")
        return 0

    def cmd_ps(self, args: list[str], io: _Io) -> int:
        if "-C" in args:
            at = args.index("-C")
            name = args[at + 1] if at + 1 < len(args) else ""
            if not any(a.startswith("user=") for a in args):
                io.write("USER")
            if name == "ruby" and self.host.agent_state() == "running":
                io.write(self.host.facts.agent_user)
                return 0
            return 1
        io.write("  PID TTY          TIME CMD")
        return 0

    # services and packages
    def cmd_systemctl(self, args: list[str], io: _Io) -> int:
        words = [a for a in args if not a.startswith("-")]
        if len(words) < 2:
            io.error("Too few arguments.")
            return 1
        now = "--now" in args
        status = 0
        for unit in words[1:]:
            status = self._service(words[0], unit.removesuffix(".service"), io, now=now)
        return status

    def cmd_service(self, args: list[str], io: _Io) -> int:
        if len(args) < 2:
            io.error("Usage: service < option > | --status-all | [ service_name [ command ] ]")
            return 1
        verb = {"status": "status", "start": "start", "stop": "stop", "restart": "restart"}.get(
            args[1], args[1]
        )
        return self._service(verb, args[0], io)

    def _service(self, verb: str, unit: str, io: _Io, now: bool = False) -> int:
        state = self.host.agent_state()
        if verb in ("enable", "disable") and unit == "codedeploy-agent":
            if state == "absent":
                io.error(f"Failed to {verb} unit: Unit file {unit}.service does not exist.")
                return 1
            if now:
                return self._service("start" if verb == "enable" else "stop", unit, io)
            return 0
        if unit == "amazon-ssm-agent":
            if verb == "is-active":
                io.write("active")
            return 0
        if unit != "codedeploy-agent":
            if verb == "is-active":
                io.write("inactive")
                return 3
            io.error(f"Failed to {verb} {unit}.service: Unit {unit}.service not found.")
            return 5 if verb != "status" else 4
        if verb == "is-active":
            shown = {"running": "active", "failed": "failed"}.get(state, "inactive")
            io.write(shown)
            return 0 if state == "running" else 3
        if verb == "is-enabled":
            if state == "absent":
                io.error(
                    "Failed to get unit file state for codedeploy-agent.service: "
                    "No such file or directory"
                )
                return 1
            io.write("enabled")
            return 0
        if verb in ("start", "restart"):
            if state == "absent":
                io.error(f"Failed to {verb} {unit}.service: Unit {unit}.service not found.")
                return 5
            if state == "failed" or self.host.agent_broken():
                self.host.set_agent("failed")
                io.error(
                    f"Job for {unit}.service failed because the control process exited with error "
                    f'code.\nSee "systemctl status {unit}.service" and "journalctl -xeu '
                    f'{unit}.service" for details.'
                )
                return 1
            self.host.set_agent("running")
            return 0
        if verb == "stop":
            if state != "absent":
                self.host.set_agent("stopped")
            return 0
        if verb == "status":
            if state == "absent":
                io.error(f"Unit {unit}.service could not be found.")
                return 4
            active = {
                "running": "active (running)",
                "failed": "failed (Result: exit-code)",
            }.get(state, "inactive (dead)")
            io.write(
                f"● {unit}.service - LSB: AWS CodeDeploy Host Agent\n"
                f"     Loaded: loaded (/etc/init.d/codedeploy-agent; generated)\n"
                f"     Active: {active}"
            )
            return 0 if state == "running" else 3
        io.error(f"Unknown command verb {verb}.")
        return 1

    def cmd_journalctl(self, args: list[str], io: _Io) -> int:
        unit = None
        n = None
        i = 0
        while i < len(args):
            if args[i] in ("-u", "--unit") and i + 1 < len(args):
                unit = args[i + 1].removesuffix(".service")
                i += 2
                continue
            if args[i] == "-n" and i + 1 < len(args):
                n = int(args[i + 1]) if args[i + 1].isdigit() else None
                i += 2
                continue
            i += 1
        lines = self.host.journal(unit)
        if not lines:
            io.write("-- No entries --")
            return 0
        for line in lines[-n:] if n else lines:
            io.write(line)
        return 0

    def cmd_rpm(self, args: list[str], io: _Io) -> int:
        names = [a for a in args if not a.startswith("-")]
        if self.host.facts.image.package_type != "rpm":
            if self.dash:
                io.error(f"{self._where()} rpm: not found")
            else:
                io.error(f"{self._where()} rpm: command not found")
            return 127
        status = 0
        for name in names:
            package = self.host.package(name)
            if package is None:
                io.write(f"package {name} is not installed")
                status = 1
            else:
                io.write(f"{name}-{package[0]}-{package[1]}.noarch")
        return status

    def cmd_dpkg(self, args: list[str], io: _Io) -> int:
        names = [a for a in args if not a.startswith("-")]
        if self.host.facts.image.package_type != "deb":
            io.error(f"{self._where()} dpkg: command not found")
            return 127
        status = 0
        for name in names:
            package = self.host.package(name)
            if package is None:
                io.error(
                    f"dpkg-query: package '{name}' is not installed and no information is available"
                )
                status = 1
            else:
                io.write(
                    f"Package: {name}\nStatus: install ok installed\nArchitecture: all\n"
                    f"Version: {package[0]}-{package[1]}"
                )
        return status

    def cmd_yum(self, args: list[str], io: _Io) -> int:
        if self.host.facts.image.package_type != "rpm":
            return self._call(["rpm-not-here", *args], io)
        words = [a for a in args if not a.startswith("-")]
        if words[:1] in (["info"], ["list"]) and len(words) > 1:
            package = self.host.package(words[1])
            if package is None:
                io.error("Error: No matching Packages to list")
                return 1
            io.write(
                f"Installed Packages\nName         : {words[1]}\n"
                f"Version      : {package[0]}\nRelease      : {package[1]}"
            )
            return 0
        if self.boot:
            return 0  # first boot: the package manager is taken to work (fleet.agent reads it)
        io.error("This system does not allow package changes from Run Command in the sandbox")
        return 1

    cmd_dnf = cmd_yum

    def cmd_ruby(self, args: list[str], io: _Io) -> int:
        ruby = self.host.facts.ruby
        if ruby is None:
            if self.dash:
                io.error(f"{self._where()} ruby: not found")
            else:
                io.error(f"{self._where()} ruby: command not found")
            return 127
        if args[:1] in (["-v"], ["--version"]):
            io.write(f"ruby {ruby} (x86_64-linux)")
        return 0

    def agent_cli(self, args: list[str], io: _Io, name: str) -> int:
        """`codedeploy-agent` on the instance: 1.x has no --version (GLI: unknown option)."""
        facts = self.host.facts
        if self.host.agent_state() == "absent" or facts.agent_version is None:
            io.error(f"{self._where()} {name}: No such file or directory")
            return 127
        major = int(facts.agent_version.split(".")[0])
        if args[:1] in (["--version"], ["-v"], ["version"]):
            if major >= 2:
                io.write(f"agent_version: {facts.agent_version}")
                return 0
            io.error(f"error: Unknown option {args[0]}")
            return 64
        if args[:1] == ["status"]:
            if self.host.agent_state() == "running":
                io.write("The AWS CodeDeploy agent is running as PID 1234")
                return 0
            io.error("error: No AWS CodeDeploy agent running")
            return 1
        io.error("error: Unknown command")
        return 64


def _ident(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _chmod(mode: str, spec: str) -> str:
    """The octal mode after `chmod SPEC` (octal, or symbolic such as `+x`, `u+x,go-w`)."""
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return spec.lstrip("0") or "0"
    try:
        bits = int(mode, 8)
    except ValueError:
        bits = 0o644
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)([-+=])([rwxX]*)", clause)
        if not m:
            continue
        who, op, perms = m.groups()
        who = who or "a"
        value = sum({"r": 4, "w": 2, "x": 1, "X": 1}[c] for c in set(perms))
        mask = 0
        for w, shift in (("u", 6), ("g", 3), ("o", 0)):
            if w in who or "a" in who:
                mask |= value << shift
                if op == "=":
                    bits &= ~(7 << shift)
        bits = bits | mask if op in "+=" else bits & ~mask
    return format(bits & 0o7777, "o")


def _rwx(mode: str) -> str:
    out = ""
    for digit in mode[-3:].rjust(3, "0"):
        d = int(digit, 8) if digit.isdigit() else 0
        out += ("r" if d & 4 else "-") + ("w" if d & 2 else "-") + ("x" if d & 1 else "-")
    return out


def _count_and_files(args: list[str], default: int) -> tuple[int | None, list[str]]:
    n = default
    files: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        value = None
        if a == "-n" and i + 1 < len(args):
            value = args[i + 1]
            i += 1
        elif a.startswith("-n"):
            value = a[2:]
        elif a.startswith("-") and a[1:].isdigit():
            value = a[1:]
        elif not a.startswith("-"):
            files.append(a)
        if value is not None:
            try:
                n = int(value.lstrip("+"))
            except ValueError:
                return None, [value]
        i += 1
    return n, files


def _bre(pattern: str, extended: bool) -> str:
    """A grep pattern as a Python regex (basic: `\\|`, `\\(`, `\\)`, `\\{`, `\\}` are operators)."""
    if extended:
        return pattern
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "|(){}+?":
            out.append(pattern[i + 1])
            i += 2
            continue
        if c in "|(){}+?":
            out.append("\\" + c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def split_words(line: str) -> list[str]:
    """shlex-split one line (used for simple parsing outside the shell)."""
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()
