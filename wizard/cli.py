"""Argument parsing and dispatch. No business logic, and no heavy imports.

`wizard --help` must stay fast: nothing here imports boto3 or textual at module level. Each command
lives in `wizard.commands.<name>` and exposes `run(args) -> int`; a command whose module does not
exist yet prints "not available yet" and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

from wizard import __version__
from wizard.errors import EXIT_PROBLEM, EXIT_USAGE

COMMANDS: dict[str, str] = {
    "setup": "the TUI wizard (or --yes: non-interactive from the project file)",
    "plan": "what apply would create / update / adopt / leave alone; changes nothing",
    "apply": "carry out the plan; re-running on a finished setup changes nothing",
    "files": "write appspec.yml, hook skeletons and the CI config",
    "validate": "offline check of appspec.yml, a bundle, a .travis.yml or a workflow",
    "deploy": "bundle, upload, deploy and follow it live; diagnose on failure",
    "diagnose": "find the root cause of a failed deployment, and its fix",
    "destroy": "remove what the wizard created (found by its tags), with a plan first",
    "sandbox": "run the embedded AWS emulator in the foreground",
    "whoami": "account, caller ARN, region, endpoint (and whether it is the sandbox)",
}


def _add_globals(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global flags, accepted before or after the command name."""
    d = {"default": argparse.SUPPRESS} if suppress else {}
    g = parser.add_argument_group("global options")
    g.add_argument("--profile", metavar="NAME", help="AWS profile (default: AWS_PROFILE)", **d)
    g.add_argument("--region", metavar="REGION", help="AWS region (default: AWS_REGION)", **d)
    g.add_argument(
        "--endpoint-url", metavar="URL", help="AWS endpoint (default: AWS_ENDPOINT_URL)", **d
    )
    g.add_argument(
        "--sandbox",
        action="store_true",
        help="start the embedded AWS emulator for this run (no AWS account needed)",
        **d,
    )
    g.add_argument(
        "--scenario",
        metavar="NAME",
        help="with --sandbox: seed a ready-made world (see `wizard sandbox --list-scenarios`)",
        **d,
    )
    g.add_argument(
        "--project-dir",
        metavar="DIR",
        help="project directory (default: current directory)",
        **d,
    )
    g.add_argument("-v", "--verbose", action="count", help="show details and tracebacks", **d)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wizard",
        description="Set up AWS CodeDeploy for EC2 in minutes, and learn exactly why a "
        "deployment failed. With no command, opens the setup wizard.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 success, 1 a problem was found or hit, 2 usage/configuration/"
        "credential error.\nTry it with no AWS account: wizard --sandbox",
    )
    parser.add_argument("--version", action="version", version=f"wizard {__version__}")
    _add_globals(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    def cmd(name: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=COMMANDS[name], description=COMMANDS[name])
        _add_globals(p, suppress=True)
        return p

    def json_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON document on stdout")

    def yes_flag(p: argparse.ArgumentParser) -> None:
        p.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")

    p = cmd("setup")
    yes_flag(p)
    p.add_argument("--config", metavar="FILE", help="project file to read answers from")
    p.add_argument(
        "--create-access-key",
        action="store_true",
        help="(travis) create an access key for the CI user and print it once",
    )

    p = cmd("plan")
    json_flag(p)

    p = cmd("apply")
    yes_flag(p)
    p.add_argument(
        "--create-access-key",
        action="store_true",
        help="(travis) create an access key for the CI user and print it once",
    )

    p = cmd("files")
    yes_flag(p)

    p = cmd("validate")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files, bundle folders or archives")
    json_flag(p)

    p = cmd("deploy")
    p.add_argument(
        "--wait",
        action="store_true",
        help="follow until it ends even without a terminal (CI); exit 1 on Failed/Stopped. "
        "On a terminal deploy always follows; without one and without --wait it returns "
        "once the deployment is created",
    )
    p.add_argument(
        "--file-exists-behavior",
        choices=["DISALLOW", "OVERWRITE", "RETAIN"],
        help="what to do with files already at the destination",
    )
    p.add_argument(
        "--ignore-application-stop-failures",
        action="store_true",
        help="let this deployment go on when the previous revision's ApplicationStop script "
        "fails (it runs from the last successful revision; use once to get past a broken one)",
    )
    p.add_argument("--description", help="deployment description")
    json_flag(p)

    p = cmd("diagnose")
    p.add_argument("deployment_id", nargs="?", metavar="DEPLOYMENT_ID")
    json_flag(p)
    p.add_argument("--plain", action="store_true", help="plain text even on a terminal")
    p.add_argument("--fix", action="store_true", help="offer the safe automatic fixes")
    yes_flag(p)
    p.add_argument(
        "--check",
        action="append",
        metavar="ID",
        help="run only these checks (repeatable, globs allowed)",
    )
    p.add_argument("--list-checks", action="store_true", help="list the checks and exit")
    p.add_argument("--preflight", action="store_true", help="check a group before any deployment")
    p.add_argument("--local", action="store_true", help="also inspect this machine")
    p.add_argument("--application", metavar="NAME", help="application (default: project file)")
    p.add_argument(
        "--deployment-group", metavar="NAME", help="deployment group (default: project file)"
    )

    p = cmd("destroy")
    yes_flag(p)

    p = cmd("sandbox")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--list-scenarios", action="store_true", help="list scenarios and exit")

    p = cmd("whoami")
    json_flag(p)
    return parser


def _normalise(args: argparse.Namespace) -> argparse.Namespace:
    for name, default in (
        ("profile", None),
        ("region", None),
        ("endpoint_url", None),
        ("sandbox", False),
        ("scenario", None),
        ("project_dir", None),
        ("verbose", 0),
    ):
        if getattr(args, name, None) is None:
            setattr(args, name, default)
    args.verbose = args.verbose or 0
    args.project_dir = args.project_dir or os.getcwd()
    if args.command is None:
        args.command = "setup"
        args.yes = False
        args.config = None
        args.create_access_key = False
    return args


def _print_error(exc: BaseException, verbose: int) -> None:
    from wizard.output import error_line

    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    error_line(exc)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = _normalise(parser.parse_args(argv))
    module_name = f"wizard.commands.{args.command}"
    if importlib.util.find_spec(module_name) is None:
        print(f"wizard {args.command}: not available yet", file=sys.stderr)
        return EXIT_USAGE
    try:
        module = importlib.import_module(module_name)
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from wizard.errors import WizardError

        if not isinstance(exc, WizardError):
            from wizard.aws import explain

            mapped = explain(exc)
            if mapped is None:
                if args.verbose:
                    raise
                print(
                    f"wizard: unexpected error: {type(exc).__name__}: {exc} "
                    "(run with -v for details)",
                    file=sys.stderr,
                )
                return EXIT_PROBLEM
            mapped.__cause__ = exc
            exc = mapped
        _print_error(exc, args.verbose)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
