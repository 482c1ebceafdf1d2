"""Time to first paint of `wizard --sandbox`, and to the account on screen, next to a bare Textual
hello-world in the same run (issue 11.9).

Each measurement is a fresh interpreter (imports included, as a user sees it), run headless at
80x24; the child prints a line when Textual hands a frame to the driver, and the parent takes the
wall time to that line:

- hello-world: its first frame;
- `wizard --sandbox` (the real command: `wizard.cli.main(["--sandbox", …])` in an empty folder):
  its first frame that shows the current step, then the first frame whose header shows the
  sandbox account (the emulator has started in a worker, and GetCallerIdentity answered).

Bytecode: a user's Python writes `__pycache__` on the first run and reads it afterwards. A machine
that sets PYTHONDONTWRITEBYTECODE (this one does) would compile the wizard's own modules from source
on every run and charge that to the wizard only (Textual's bytecode came with its install), so the
children write and read theirs under a temporary PYTHONPYCACHEPREFIX, filled by the warm-up run —
both programs alike, the source tree untouched. `--no-bytecode-cache` keeps this machine's setting.

Run: .venv/bin/python bench/tui_start.py [--runs N]
Targets: first frame ≤ 1.5 × hello-world (medians); account shown ≤ 1.2 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

HELLO = """
import os
from textual.app import App
from textual.widgets import Static

original = App._display

def display(self, screen, renderable):
    original(self, screen, renderable)
    print("PAINTED", flush=True)
    os._exit(0)

App._display = display

class Hello(App):
    def compose(self):
        yield Static("Hello, world")

Hello().run(headless=True, size=(80, 24))
"""

WIZARD = """
import os, sys
from textual.app import App

original_display = App._display
painted = False

def display(self, screen, renderable):
    global painted
    original_display(self, screen, renderable)
    pane = getattr(screen, "pane", None)
    if not painted and pane is not None and pane.is_mounted:  # the first frame with the step
        painted = True
        print("PAINTED", flush=True)
    if painted:
        try:
            account = str(screen.query_one("#ctx-account").render())
        except Exception:
            return
        if any(ch.isdigit() for ch in account):
            print("ACCOUNT", flush=True)
            os._exit(0)

App._display = display
original_run = App.run
App.run = lambda self, **kw: original_run(self, headless=True, size=(80, 24))

import wizard.cli as cli
cli._check_terminal = lambda args: None  # headless: no terminal, on purpose
sys.exit(cli.main(["--sandbox", "--project-dir", sys.argv[1]]))
"""


CHILD_ENV = dict(os.environ)


def once(code: str, *args: str, marks: tuple[str, ...] = ("PAINTED",)) -> list[float]:
    """Seconds from start to each of `marks` printed by the child."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=CHILD_ENV,
    )
    assert proc.stdout is not None
    out = []
    for mark in marks:
        line = proc.stdout.readline()
        if mark not in line:
            proc.kill()
            raise SystemExit(f"child did not print {mark}: {line!r}")
        out.append(time.perf_counter() - start)
    proc.wait(timeout=60)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument(
        "--no-bytecode-cache",
        action="store_true",
        help="keep PYTHONDONTWRITEBYTECODE as set here (the wizard compiles its modules each run)",
    )
    args = parser.parse_args()
    hello: list[float] = []
    paint: list[float] = []
    account: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as tmp:
        if not args.no_bytecode_cache:
            CHILD_ENV.pop("PYTHONDONTWRITEBYTECODE", None)
            CHILD_ENV["PYTHONPYCACHEPREFIX"] = f"{tmp}/pycache"
        once(HELLO)  # warm the page cache for both
        once(WIZARD, f"{tmp}/warm", marks=("PAINTED", "ACCOUNT"))
        for i in range(args.runs):  # interleaved, so machine load hits both alike
            hello += once(HELLO)
            first, shown = once(WIZARD, f"{tmp}/demo{i}", marks=("PAINTED", "ACCOUNT"))
            paint.append(first)
            account.append(shown)
    h, p, a = (statistics.median(x) for x in (hello, paint, account))
    ok_paint, ok_account = p / h <= 1.5, a <= 1.2
    print(f"hello-world first frame          median {h * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"wizard --sandbox first frame     median {p * 1000:7.1f} ms  ratio {p / h:.2f}")
    print(f"wizard --sandbox account shown   median {a * 1000:7.1f} ms  ratio {a / h:.2f}")
    print(f"first frame ≤ 1.5 × hello-world: {'OK' if ok_paint else 'TOO SLOW'}")
    print(f"account shown ≤ 1.2 s:           {'OK' if ok_account else 'TOO SLOW'}")
    return 0 if ok_paint and ok_account else 1


if __name__ == "__main__":
    sys.exit(main())
