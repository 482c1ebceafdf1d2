"""A newcomer's first run, timed: `wizard --sandbox --project-dir demo` (the README's first
command) in an empty folder, every default, only ^n and Enter, read-then-press at a brisk pace,
in a real terminal (tmux), until the first deployment has succeeded (issue 11). Prints the keys
pressed and when each step appeared.

Run: .venv/bin/python bench/first_run.py [--size 80x24] [--reaction 0.15]
Target: a succeeded first deployment in at most 15 keys.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.tui import tmux  # the repository's own driver (after the path above)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="80x24", help="terminal WIDTHxHEIGHT")
    parser.add_argument("--reaction", type=float, default=0.15, help="seconds to read a step")
    args = parser.parse_args()
    width, height = (int(x) for x in args.size.lower().split("x"))
    if not tmux.available():
        raise SystemExit("tmux is not installed")
    with tempfile.TemporaryDirectory(prefix="bench-first-run-") as tmp:
        walk = tmux.first_run(
            width, height, folder=Path(tmp), state_home=Path(tmp) / "state", reaction=args.reaction
        )
    print(f"terminal {width}x{height}, {args.reaction:.2f} s to read each step")
    for what, at in walk.marks.items():
        print(f"  {at:6.2f} s  {what}")
    print(f"keys: {len(walk.keys)} ({' '.join(walk.keys)})")
    if not walk.ok:
        print(walk.failure)
        print(walk.screen)
        return 1
    total = walk.marks["deployment finished"]
    print(f"first deployment Succeeded after {len(walk.keys)} keys and {total:.1f} s")
    return 0 if len(walk.keys) <= 15 else 1


if __name__ == "__main__":
    sys.exit(main())
