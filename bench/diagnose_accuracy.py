"""How often `wizard diagnose` names the right first root cause and the right first fix line.

Builds every world in one sandbox: the README's scenarios (`wizard sandbox --list-scenarios`,
expectations from tests/e2e/test_diagnose_scenarios.py) and the issue-13 worlds of the tests
(tests/e2e/diagnose_worlds.py), diagnoses each deployment through the AWS APIs, and counts:

- root: the first root cause is the expected check (and its summary has the expected words);
- fix: in addition, the first line of its fix (what people act on) and its first command say what
  the expert answer says.

Run from the repository root: `python bench/diagnose_accuracy.py [-v] [NAME…]`.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _scenario_worlds() -> dict[str, tuple[Any, Any]]:
    from tests.e2e.diagnose_worlds import Expect
    from tests.e2e.test_diagnose_scenarios import EXPECTED
    from wizard.sandbox import scenarios

    out: dict[str, tuple[Any, Any]] = {}
    for name, _summary in scenarios.catalogue():
        if name == "healthy":
            out[name] = (name, None)
            continue
        root, summary, fix, command, automatic = EXPECTED[name]
        out[name] = (name, Expect(root, tuple(summary), tuple(fix), tuple(command), automatic))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="only these worlds")
    parser.add_argument("-v", "--verbose", action="store_true", help="print what was said")
    args = parser.parse_args(argv)

    from checks.runner import diagnose
    from tests.e2e import diagnose_worlds as dw
    from wizard.aws import AwsContext
    from wizard.sandbox import scenarios
    from wizard.sandbox.server import SandboxServer
    from wizard.sandbox.world import World

    server = SandboxServer()
    server.start()
    ctx = AwsContext(
        region="us-east-1",
        endpoint_url=server.url,
        sandbox=True,
        access_key="sandbox",
        secret_key="sandbox",
    )
    rows: list[tuple[str, str, bool, bool, str]] = []
    try:
        for name, (scenario, expect) in _scenario_worlds().items():
            if args.names and name not in args.names:
                continue
            seeded = scenarios.seed(scenario, server.url)
            doc = dw.as_json(diagnose(ctx, deployment_id=seeded["deployment_id"]))
            if expect is None:  # healthy: right means nothing is blamed
                ok = doc["root_causes"] == []
                rows.append(("README", name, ok, ok, str(doc["root_causes"])))
                continue
            root, fix, said = dw.check(doc, expect)
            rows.append(("README", name, root, fix, said))
        for name, (build, expect_of) in dw.WORLDS.items():
            if args.names and name not in args.names:
                continue
            w = World(server.url, name=f"bench-{name}"[:28].rstrip("-"))
            with dw.world_clock(name):
                built = build(w)
                doc = dw.as_json(diagnose(ctx, deployment_id=built.deployment_id))
            root, fix, said = dw.check(doc, expect_of(built))
            rows.append(("tests", name, root, fix, said))
    finally:
        server.stop()

    width = max(len(r[1]) for r in rows) if rows else 10
    for source, name, root, fix, said in rows:
        mark = ("✓" if root else "✗") + ("✓" if fix else "✗")
        line = f"{mark}  {source:<6} {name:<{width}}"
        print(line + (f"  {said[:160]}" if args.verbose or not fix else ""))
    for source in ("README", "tests"):
        mine = [r for r in rows if r[0] == source]
        if mine:
            print(
                f"{source}: right first root cause {sum(r[2] for r in mine)}/{len(mine)}, "
                f"right first fix line {sum(r[3] for r in mine)}/{len(mine)}"
            )
    return 0


if __name__ == "__main__":
    t0 = time.monotonic()
    code = main()
    print(f"({time.monotonic() - t0:.1f} s)")
    raise SystemExit(code)
