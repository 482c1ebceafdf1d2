"""Drive the real `wizard` in a tmux pane, as a person types: look at the screen, press a key.

Used by tests/tui/test_tui_first_run.py (the defaults reach a succeeded deployment at 80x24 and
100x30) and bench/first_run.py (the keypress count and the times). The app runs exactly as a
user starts it (`wizard --sandbox` in an empty folder, a real terminal of the given size); the
only thing read back is what `tmux capture-pane` shows.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


def available() -> bool:
    return shutil.which("tmux") is not None


class Pane:
    """One detached tmux session of a fixed size running one command."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.name = f"cdw-{uuid.uuid4().hex[:8]}"
        self.socket = f"cdw-{uuid.uuid4().hex[:8]}"  # a private server: no user session touched

    def _tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def start(self, argv: list[str], cwd: Path, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # the pane stays open after the app exits (remain-on-exit), so its last words are read
        command = f"cd {shlex.quote(str(cwd))} && exec env {exports} {shlex.join(argv)}"
        self._tmux(
            "new-session", "-d", "-s", self.name, "-x", str(self.width), "-y", str(self.height)
        )
        self._tmux("set-option", "-t", self.name, "remain-on-exit", "on")
        self._tmux("respawn-pane", "-k", "-t", self.name, command)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name, check=False)

    def dead(self) -> bool:
        out = self._tmux("display-message", "-p", "-t", self.name, "#{pane_dead}", check=False)
        return out.strip() == "1"

    def press(self, key: str) -> None:
        self._tmux("send-keys", "-t", self.name, key)

    def close(self) -> None:
        self._tmux("kill-server", check=False)


@dataclass
class Walk:
    """What a walk saw: the keys pressed, when things appeared, the last screen."""

    keys: list[str] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)  # event -> seconds since start
    screen: str = ""
    ok: bool = False
    failure: str = ""


class WalkFailed(AssertionError):
    pass


def wait_for(
    pane: Pane, seen: Callable[[str], bool], what: str, timeout: float, start: float, walk: Walk
) -> str:
    """Poll the screen until `seen(screen)`; record when; fail with the screen if it never is."""
    deadline = time.monotonic() + timeout
    while True:
        text = pane.screen()
        if seen(text):
            walk.marks.setdefault(what, time.monotonic() - start)
            return text
        if pane.dead() or time.monotonic() > deadline:
            walk.screen = text
            raise WalkFailed(f"waited {timeout:.0f} s for {what}; the screen shows:\n{text}")
        time.sleep(0.05)


def first_run(
    width: int,
    height: int,
    *,
    folder: Path,
    state_home: Path,
    reaction: float = 0.15,
    timeout: float = 90.0,
) -> Walk:
    """The README's first command, `wizard --sandbox --project-dir demo`, run in the empty
    `folder` (so `folder/demo` does not exist yet), every default, only ^n and Enter.

    A person reads the step's title before pressing (`reaction` seconds after it appears) but
    does not wait for the step to finish loading: Next on a loading step is queued by the app.
    Ends when the first deployment's result is on screen; `ok` when it succeeded.
    """
    walk = Walk()
    pane = Pane(width, height)
    env = {
        "XDG_STATE_HOME": str(state_home),
        "TERM": "xterm-256color",
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
    }
    argv = [sys.executable, "-m", "wizard", "--sandbox", "--project-dir", "demo"]
    start = time.monotonic()
    pane.start(argv, folder, env)

    def step(title: str) -> Callable[[str], bool]:
        return lambda text: f"▶ {title}" in text

    def press(key: str) -> None:
        time.sleep(reaction)
        walk.keys.append(key)
        pane.press(key)

    try:
        wait_for(pane, step("Credentials"), "first frame", timeout, start, walk)
        wait_for(pane, lambda t: "account 123456789012" in t, "account shown", 20, start, walk)
        for title in ("Roles", "Instances", "Bucket", "Application", "Files", "Review", "Apply"):
            press("C-n")
            wait_for(pane, step(title), title, timeout, start, walk)
        wait_for(pane, lambda t: "Apply now" in t, "apply ready", timeout, start, walk)
        press("Enter")
        # seen to start, Next is queued until apply ends (pressed before the app took the Enter,
        # Next would only say "apply the plan first")
        wait_for(
            pane, lambda t: "Applying" in t or "Applied" in t, "apply started", 30, start, walk
        )
        press("C-n")
        wait_for(pane, step("Done"), "Done", timeout, start, walk)
        wait_for(pane, lambda t: "Deploy now" in t, "deploy ready", timeout, start, walk)
        press("Enter")
        final = wait_for(
            pane,
            lambda t: "Deployment Succeeded" in t or "Deployment Failed" in t or "Error" in t,
            "deployment finished",
            timeout,
            start,
            walk,
        )
        walk.screen = final
        walk.ok = "Deployment Succeeded" in final
        if not walk.ok:
            walk.failure = "the first deployment did not succeed"
    except WalkFailed as exc:
        walk.failure = str(exc)
    finally:
        if not walk.screen:
            walk.screen = pane.screen()
        pane.close()
    return walk
