"""`wizard sandbox`: run the emulator in the foreground for the aws CLI, boto3 or tests."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from wizard.aws import SANDBOX_DEFAULT_REGION
from wizard.errors import UsageError


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

    server = SandboxServer(port=args.port or 0, scenario=args.scenario, region=region)
    server.start()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        print(f"# codedeploy-wizard SANDBOX (emulated AWS) listening on {server.url}")
        if args.scenario:
            seeded = getattr(server, "seeded", None) or {}
            print(f"# scenario: {args.scenario}")
            for key in ("application", "deployment_group", "deployment_id"):
                if seeded.get(key):
                    print(f"#   {key}: {seeded[key]}")
        print("# Use it from this shell with:")
        for key, value in server.env(region).items():
            print(f"export {key}={value}")
        print("# Press Ctrl-C to stop.", flush=True)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        print("sandbox stopped", file=sys.stderr)
    return 0
