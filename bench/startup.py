"""Cold-start cost of `wizard --help`, next to a bare `python -c pass` (and `aws --version`).

Run: .venv/bin/python bench/startup.py [--runs N]
Target (issue 2): `wizard --help` within 0.15 s of `python -c pass` on the same machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def measure(cmd: list[str], runs: int) -> float:
    """Median wall time of `cmd` over `runs` runs (after one warm-up for the page cache)."""
    subprocess.run(cmd, capture_output=True, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    py = sys.executable
    rows = [
        ("python -c pass", [py, "-c", "pass"]),
        ("wizard --help", [py, "-m", "wizard", "--help"]),
        ("wizard --version", [py, "-m", "wizard", "--version"]),
    ]
    aws = shutil.which("aws")
    if aws:
        rows.append(("aws --version", [aws, "--version"]))
    results = {name: measure(cmd, args.runs) for name, cmd in rows}
    base = results["python -c pass"]
    print(f"{'command':20} {'median s':>9} {'vs python':>10} {'delta s':>8}")
    for name, t in results.items():
        print(f"{name:20} {t:9.3f} {t / base:9.2f}x {t - base:8.3f}")
    delta = results["wizard --help"] - base
    verdict = "OK" if delta <= 0.15 else "OVER TARGET"
    print(f"\nwizard --help costs {delta:.3f} s over bare python (target <= 0.150 s): {verdict}")
    return 0 if delta <= 0.15 else 1


if __name__ == "__main__":
    sys.exit(main())
