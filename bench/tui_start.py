"""Time to first paint of the wizard's TUI next to a bare Textual hello-world (issue 7).

Each measurement is a fresh interpreter (imports included, as a user sees it), run headless;
the child prints a line when Textual hands its first frame to the driver (for the wizard: the
first frame that shows the current step), and the parent takes the wall time to that line.
The wizard child starts the way `wizard setup` does: it hands the app a factory for the
AwsContext (explicit region and keys, an endpoint nothing listens on, so no network is needed),
which the app calls in a worker after the first frame; the identity check follows.

Run: .venv/bin/python bench/tui_start.py [--runs N]
Target: wizard ≤ 1.5 × hello-world (medians).
"""

from __future__ import annotations

import argparse
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
from wizard.app import create_app

original = App._display

def display(self, screen, renderable):
    original(self, screen, renderable)
    pane = getattr(screen, "pane", None)
    if pane is not None and pane.is_mounted:  # the first frame that shows the step
        print("PAINTED", flush=True)
        os._exit(0)

App._display = display

def make_context():  # as `wizard setup` does: built in a worker after the first frame
    from wizard.aws import AwsContext

    return AwsContext(region="us-east-1", endpoint_url="http://127.0.0.1:9",
                      access_key="bench", secret_key="bench", max_attempts=1)

create_app(make_context, sys.argv[1], region="us-east-1").run(headless=True, size=(80, 24))
"""


def once(code: str, *args: str) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - start
    proc.wait(timeout=30)
    if "PAINTED" not in line:
        raise SystemExit(f"child did not paint: {line!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tui-") as project_dir:
        once(HELLO)  # warm the page cache for both
        once(WIZARD, project_dir)
        hello: list[float] = []
        wizard: list[float] = []
        for _ in range(args.runs):  # interleaved, so machine load hits both alike
            hello.append(once(HELLO))
            wizard.append(once(WIZARD, project_dir))
    h, w = statistics.median(hello), statistics.median(wizard)
    print(f"hello-world first paint  median {h * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"wizard first paint       median {w * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"ratio {w / h:.2f}  (target ≤ 1.50): {'OK' if w / h <= 1.5 else 'TOO SLOW'}")
    return 0 if w / h <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
