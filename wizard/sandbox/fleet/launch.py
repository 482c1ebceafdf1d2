"""How the agent starts one hook script, decided from the script's bytes and the instance's OS.

The 1.x agent runs a hook with `Open3.popen3(env, command)` where `command` is the script's
absolute path, or `su USER -c PATH` when the appspec gives `runas`
(aws/aws-codedeploy-agent, lib/instance_agent/plugins/codedeploy/hook_executor.rb
`execute_script`, and lib/instance_agent/platform/linux_util.rb `prepare_script_command`). Before
that it makes the file executable itself (`FileUtils.chmod("+x")`), so a missing executable bit
is never a failure. What follows is the kernel's and the shells':

- without `runas`, Ruby execs the path directly (ruby/ruby process.c `proc_exec_cmd`). A shebang
  whose interpreter does not exist — `/bin/bash\\r` from CRLF line endings, or an interpreter the
  image lacks — makes execve fail with ENOENT, which Ruby raises as `Errno::ENOENT`; the agent
  reports it as ScriptFailed "failed with error Errno::ENOENT with message No such file or
  directory - PATH". A directory fails with EACCES the same way. A file that does not start with
  `#!` (no shebang, or a UTF-8 BOM before it) fails with ENOEXEC, and Ruby then runs it with
  `/bin/sh` (`try_with_sh`): bash in POSIX mode on Amazon Linux, dash on Ubuntu.
- with `runas`, the user's shell (bash) runs `-c PATH`: bash reports the same failures itself,
  as "bad interpreter" (exit 126) up to bash 5.1 and "cannot execute: required file not found"
  (exit 127) from bash 5.2, "Is a directory" (126); without a shebang bash runs the file itself.

A script that starts is then run by its interpreter. Its commands depend on the instance's
environment (what is installed, what PATH holds), which AWS's APIs do not show: they succeed
unless a `sandbox:hook:EVENT` tag says otherwise. The exceptions are decided from the bytes:
under the `/bin/sh` fallback the BOM line itself is a command that is not found, a line that is
only `\\r` is `$'\\r'`, and `set` with an option the shell does not know (`pipefail` in dash,
`pipefail\\r` anywhere) stops the script with status 2.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from wizard.sandbox.fleet.images import PACKAGED, OsImage

BOM = b"\xef\xbb\xbf"
ENOENT = "No such file or directory"
_SET_OPTIONS = {"errexit", "nounset", "xtrace", "verbose", "noglob", "noclobber", "allexport"}
_SET_LETTERS = {"e": "errexit", "u": "nounset", "x": "xtrace", "v": "verbose", "f": "noglob"}


@dataclass
class Launch:
    """The outcome of starting one script: did its own code run, and what the start printed."""

    runs: bool = True  # the script's commands ran (their outcome is the environment's)
    code: int = 0  # exit status when the start itself decided it
    stderr: list[str] = field(default_factory=list)
    error: str | None = None  # a Ruby exception the agent reports instead of an exit code


def _visible(text: str) -> str:
    """A name as bash prints it in "bad interpreter": control characters as ^X."""
    return "".join(f"^{chr(ord(c) + 64)}" if ord(c) < 32 else c for c in text)


def _quoted(text: str) -> str:
    """A name as coreutils quotes it in a UTF-8 locale: ‘…’ with C escapes."""
    escaped = text.replace("\\", "\\\\").replace("\r", "\\r").replace("\t", "\\t")
    return f"\u2018{escaped}\u2019"


def _interpreter_present(path: str, image: OsImage, packages: set[str]) -> bool:
    if any(c.isspace() for c in path):
        return False
    if path in image.interpreters:
        return True
    if path in PACKAGED:
        return any(p in packages for p in PACKAGED[path])
    return True  # an unknown path: whatever the environment installed, not ours to guess


def _env_finds(name: str, image: OsImage, packages: set[str]) -> bool:
    if not name or any(c.isspace() for c in name):
        return False
    for directory in ("/usr/bin", "/bin"):
        if f"{directory}/{name}" in image.interpreters:
            return True
    path = f"/usr/bin/{name}"
    if path in PACKAGED:
        return any(p in packages for p in PACKAGED[path])
    return True  # a command the environment may provide (a hook may have installed it)


def launch(
    data: bytes | None, path: str, runas: str | None, image: OsImage, packages: set[str]
) -> Launch:
    """Start the script at absolute `path` (`data` None: it is a directory) as the agent does.

    Returns whether its code runs, or the exit status / Ruby error the start produced and what
    it printed on stderr (lines without their trailing newline).
    """
    via_bash = runas is not None
    bash_52 = image.bash >= (5, 2)
    if data is None:
        if via_bash:
            return Launch(False, 126, [f"bash: {path}: Is a directory"])
        return Launch(False, 1, [], f"Errno::EACCES with message Permission denied - {path}")
    if data.startswith(b"#!"):
        line = data[2:].split(b"\n", 1)[0].decode("utf-8", errors="replace")
        # the kernel splits the line once, at the first space or tab; a CR is part of the name
        # (fs/binfmt_script.c)
        stripped = line.strip(" \t")
        parts = re.split(r"[ \t]+", stripped, maxsplit=1)
        interpreter = parts[0]
        argument = parts[1] if len(parts) > 1 else None
        if not interpreter:
            return _fallback(data, path, dash=image.dash and not via_bash, posix=not via_bash)
        if not _interpreter_present(interpreter, image, packages):
            if via_bash:
                if bash_52:  # bash 5.2 checks the interpreter itself
                    missing = "cannot execute: required file not found"
                    return Launch(False, 127, [f"bash: {path}: {missing}"])
                shown = _visible(interpreter)
                return Launch(False, 126, [f"bash: {path}: {shown}: bad interpreter: {ENOENT}"])
            return Launch(False, 1, [], f"Errno::ENOENT with message {ENOENT} - {path}")
        name = interpreter.rsplit("/", 1)[-1]
        if name == "env" and argument is not None:
            if not _env_finds(argument, image, packages):
                lines = [f"/usr/bin/env: {_quoted(argument)}: {ENOENT}"]
                if image.coreutils >= (8, 30) and any(c.isspace() for c in argument):
                    lines.append("/usr/bin/env: use -[v]S to pass options in shebang lines")
                return Launch(False, 127, lines)
        elif name in ("bash", "sh") and argument is not None and "\r" in argument:
            # bash rejects the CR as an option letter (the line's only argument, "-e\r")
            return Launch(False, 1, [f"{interpreter}: -\r: invalid option"])
        return Launch()
    # no `#!` at byte 0 (none at all, or a BOM before it): ENOEXEC, then a shell reads the file
    dash = image.dash and not via_bash
    return _fallback(data, path, dash=dash, posix=not via_bash)


def _fallback(data: bytes, path: str, *, dash: bool, posix: bool) -> Launch:
    """The shell that reads a script without a shebang: what its bytes alone decide."""
    out = Launch()
    errexit = False
    status = 0
    for number, raw in enumerate(data.decode("utf-8", errors="replace").split("\n"), start=1):
        where = f"{path}: {number}:" if dash else f"{path}: line {number}:"
        line = raw.lstrip(" \t")
        if number == 1 and line.startswith("\ufeff"):
            word = line.split(None, 1)[0] if line.strip() else line
            word = word.rstrip("\r")
            if dash:
                message = f"{where} {word}: not found"
            elif "/" in word:
                message = f"{where} {word}: No such file or directory"
            else:
                message = f"{where} {word}: command not found"
            out.stderr.append(message)
            status = 127
        elif not line.strip(" \t") or line.startswith("#"):
            continue
        elif line == "\r":
            cr = f"{where} \r: not found" if dash else f"{where} $'\\r': command not found"
            out.stderr.append(cr)
            status = 127
        else:
            # words split at blanks only: a CR stays part of the last word, as the shell sees it
            words = [w for w in re.split(r"[ \t]+", line) if w]
            if not words:
                continue
            if words[0] == "exit":
                try:
                    return _stop(out, int(words[1]) if len(words) > 1 else status)
                except ValueError:
                    return _stop(out, 2)
            if words[0] == "set":
                ok, errexit, message = _set(words[1:], errexit, dash=dash)
                if not ok:
                    out.stderr.append(f"{where} set: {message}")
                    # a special builtin's error ends a POSIX shell; bash stops under errexit
                    if posix or dash or errexit:
                        return _stop(out, 2)
                    status = 2
                    continue
            status = 0
        if status and errexit:
            return _stop(out, status)
    out.code = status
    out.runs = status == 0
    return out


def _stop(out: Launch, code: int) -> Launch:
    out.runs = False
    out.code = code
    return out


def _set(args: list[str], errexit: bool, *, dash: bool) -> tuple[bool, bool, str]:
    """Apply `set ARGS`: (valid, errexit after it, the shell's complaint when invalid)."""
    known = _SET_OPTIONS if dash else _SET_OPTIONS | {"pipefail"}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg or arg[0] not in "-+" or arg in ("-", "--"):
            break
        on = arg[0] == "-"
        letters = arg[1:]
        for j, letter in enumerate(letters):
            if letter == "o":
                name = letters[j + 1 :] or (args[i + 1] if i + 1 < len(args) else "")
                if not letters[j + 1 :]:
                    i += 1
                if name not in known:
                    if dash:
                        return False, errexit, f"Illegal option -o {name}"
                    return False, errexit, f"{name}: invalid option name"
                if name == "errexit":
                    errexit = on
                break
            if letter not in _SET_LETTERS and letter not in "abhkmnpBCEHPT":
                if dash:
                    return False, errexit, f"Illegal option -{letter}"
                return False, errexit, f"-{letter}: invalid option"
            if letter == "e":
                errexit = on
        i += 1
    return True, errexit, ""
