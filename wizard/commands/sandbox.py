"""`wizard sandbox`: run the emulator in the foreground for the aws CLI, boto3 or tests.

This terminal runs the server until Ctrl-C, so the variables that point tools at it are for
ANOTHER terminal; the banner says so in words and prints them as one block of `export` lines
(no comment in between) that can be copied in one go.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from wizard.aws import SANDBOX_DEFAULT_REGION
from wizard.errors import UsageError


def access_admin() -> str:
    from wizard.sandbox.access import ADMIN

    return ADMIN


def run(args: argparse.Namespace) -> int:
    from wizard.sandbox.server import SandboxServer

    if args.list_scenarios:
        try:
            from wizard.sandbox import scenarios
        except ImportError:
            raise UsageError("sandbox scenarios are not available yet") from None
        for name, summary in scenarios.catalogue():
            print(f"{name:28} {summary}")
        return 0
    if args.port and not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {args.port}")
    region = args.region or SANDBOX_DEFAULT_REGION
    if args.scenario:
        from wizard.sandbox import scenarios

        known = [name for name, _ in scenarios.catalogue()]
        if args.scenario not in known:
            raise UsageError(
                f"unknown sandbox scenario {args.scenario!r}; see `wizard sandbox --list-scenarios`"
            )
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    server = SandboxServer(
        port=args.port or 0,
        scenario=args.scenario,
        region=region,
        enforce_iam=bool(getattr(args, "enforce_iam", False)),
    )
    server.start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        seeded = getattr(server, "seeded", None) or {}
        admin = access_admin() if server.enforce_iam else None
        print(banner(server.url, server.env(region), args.scenario, seeded, iam_admin=admin))
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        print("sandbox stopped", file=sys.stderr)
    return 0


def banner(
    url: str,
    env: dict[str, str],
    scenario: str | None,
    seeded: dict,
    iam_admin: str | None = None,
) -> str:
    """What `wizard sandbox` prints once it listens (every line but the export block is `#`).

    `iam_admin`: with --enforce-iam, the administrator whose key the export block holds."""
    lines = [f"# codedeploy-wizard SANDBOX (emulated AWS, nothing real) listening on {url}"]
    if iam_admin:
        lines += [
            "# IAM is enforced: callers need policies that allow each call. The key below is",
            f"# {iam_admin}'s (AdministratorAccess); create least-privilege users with it.",
        ]
    if scenario:
        lines.append(f"# scenario: {scenario}")
        for key in ("application", "deployment_group", "deployment_id"):
            if seeded.get(key):
                lines.append(f"#   {key}: {seeded[key]}")
    lines += [
        "#",
        "# This terminal now runs the sandbox: leave it open. Open ANOTHER terminal and paste",
        "# these lines there (they point the aws CLI, boto3 and `wizard` at the sandbox):",
        "",
        *(f"export {key}={value}" for key, value in env.items()),
        "",
        "# then, in that other terminal:  aws deploy list-applications   or   wizard whoami",
        "# Press Ctrl-C here to stop the sandbox (what it holds is lost).",
    ]
    return "\n".join(lines)
