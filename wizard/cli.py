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
import re
import sys
from collections.abc import Callable
from typing import NoReturn

from wizard import __version__
from wizard.errors import EXIT_PROBLEM, EXIT_USAGE, shown

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


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: the usage block would make a bad flag several lines."""

    def error(self, message: str) -> NoReturn:
        from wizard.errors import UsageError

        line = UsageError(f"{self.prog}: {message}", hint=f"See `{self.prog} --help`.").one_line()
        self.exit(EXIT_USAGE, f"error: {line}\n")


def _text(what: str, limit: int = 256) -> Callable[[str], str]:
    """An argparse `type` for a flag's text: not empty, no control characters, at most `limit`
    characters (a pasted megabyte is refused in one line, not echoed)."""

    def check(value: str) -> str:
        if not value.strip():
            raise argparse.ArgumentTypeError("must not be empty")
        if not value.isprintable():
            raise argparse.ArgumentTypeError(f"{shown(value)} holds a control character")
        if len(value) > limit:
            raise argparse.ArgumentTypeError(f"{shown(value)} is longer than {limit} characters")
        return value

    check.__name__ = what  # argparse names the type in some messages
    return check


def _deployment_id(value: str) -> str:
    """CodeDeploy deployment ids are `d-` and nine capital letters or digits (d-0QBAGMJSZ)."""
    if not re.fullmatch(r"d-[A-Z0-9]{9}", value):
        raise argparse.ArgumentTypeError(
            f"{shown(value)} is not a deployment id (they look like d-0QBAGMJSZ)"
        )
    return value


def _codedeploy_name(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        # CodeDeploy API reference: application and deployment group names are 1-100 of
        # [A-Za-z0-9._+=,@-] (the rule the project file uses: wizard.config)
        if not re.fullmatch(r"[A-Za-z0-9._+=,@-]{1,100}", value):
            raise argparse.ArgumentTypeError(
                f"{shown(value)} is not {what} name (1-100 of letters, digits and ._+=,@-)"
            )
        return value

    check.__name__ = what
    return check


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{shown(value)} is not a port (0-65535; 0 picks one)")
    return port


def _add_globals(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """Global flags, accepted before or after the command name."""
    d = {"default": argparse.SUPPRESS} if suppress else {}
    g = parser.add_argument_group("global options")
    g.add_argument(
        "--profile",
        metavar="NAME",
        type=_text("--profile"),
        help="AWS profile (default: AWS_PROFILE)",
        **d,
    )
    g.add_argument(
        "--region",
        metavar="REGION",
        type=_text("--region", 64),
        help="AWS region (default: AWS_REGION)",
        **d,
    )
    g.add_argument(
        "--endpoint-url",
        metavar="URL",
        type=_text("--endpoint-url", 2048),
        help="AWS endpoint (default: AWS_ENDPOINT_URL)",
        **d,
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
        type=_text("--scenario", 64),
        help="with --sandbox: seed a ready-made world (see `wizard sandbox --list-scenarios`)",
        **d,
    )
    g.add_argument(
        "--project-dir",
        metavar="DIR",
        type=_text("--project-dir", 4095),
        help="project directory (default: current directory)",
        **d,
    )
    g.add_argument("-v", "--verbose", action="count", help="show details and tracebacks", **d)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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

    def apply_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--create-access-key",
            action="store_true",
            help="(travis) create an access key for the CI user and print it once, to a terminal",
        )
        p.add_argument(
            "--print-secret",
            action="store_true",
            help="print the new access key even when stdout is not a terminal (a file, a pipe)",
        )
        p.add_argument(
            "--no-wait",
            action="store_true",
            help="do not wait for new instances' agents before the checks (reported as "
            "'not verified yet')",
        )
        p.add_argument(
            "--wait-timeout",
            type=float,
            metavar="SECONDS",
            help="how long to wait for new instances' agents (default 600)",
        )

    p = cmd("setup")
    yes_flag(p)
    p.add_argument(
        "--config",
        metavar="FILE",
        type=_text("--config", 4095),
        help="project file to read answers from",
    )
    apply_flags(p)
    p.add_argument(
        "--no-files",
        action="store_true",
        help="with --yes: do not write appspec.yml, hook scripts and the CI config",
    )

    p = cmd("plan")
    json_flag(p)

    p = cmd("apply")
    yes_flag(p)
    apply_flags(p)

    p = cmd("files")
    yes_flag(p)

    p = cmd("validate")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files, bundle folders or archives")
    p.epilog = (
        "With no PATH: the bundle folder (bundle.source in the project file, by default the "
        "project folder) exactly as `wizard validate .` checks it (appspec.yml and the hook "
        "scripts it names), plus .travis.yml and .github/workflows/*.yml; a folder PATH is "
        "checked with the CI files in it too. "
        "Exit codes: 0 no error (warnings allowed); 1 a file was read and has an error (an "
        "invalid appspec or CI file, a corrupt archive, a file too large or not UTF-8); 2 a "
        "path cannot be read as a regular file or folder, whatever its name (missing, a FIFO, "
        "a device, a socket, a loop of symbolic links, no permission), or nothing to check."
    )
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
    # CodeDeploy quotas: a deployment description holds at most 100 characters
    p.add_argument("--description", type=_text("--description", 100), help="deployment description")
    json_flag(p)

    p = cmd("diagnose")
    p.add_argument("deployment_id", nargs="?", metavar="DEPLOYMENT_ID", type=_deployment_id)
    json_flag(p)
    p.add_argument("--plain", action="store_true", help="plain text even on a terminal")
    p.add_argument("--fix", action="store_true", help="offer the safe automatic fixes")
    yes_flag(p)
    p.add_argument(
        "--check",
        action="append",
        metavar="ID",
        type=_text("--check", 128),
        help="run only these checks (repeatable, globs allowed)",
    )
    p.add_argument("--list-checks", action="store_true", help="list the checks and exit")
    p.add_argument("--preflight", action="store_true", help="check a group before any deployment")
    p.add_argument("--local", action="store_true", help="also inspect this machine")
    p.add_argument(
        "--application",
        metavar="NAME",
        type=_codedeploy_name("an application"),
        help="application (default: project file)",
    )
    p.add_argument(
        "--deployment-group",
        metavar="NAME",
        type=_codedeploy_name("a deployment group"),
        help="deployment group (default: project file)",
    )

    p = cmd("destroy")
    yes_flag(p)

    p = cmd("sandbox")
    p.add_argument("--port", type=_port, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--list-scenarios", action="store_true", help="list scenarios and exit")
    p.add_argument(
        "--enforce-iam",
        action="store_true",
        help="check every caller's IAM policies as AWS does (prints an administrator's key)",
    )

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
        args.print_secret = False
        args.no_wait = False
        args.wait_timeout = None
        args.no_files = False
    return args


def _print_error(exc: BaseException, verbose: int) -> None:
    from wizard.output import error_line

    if verbose:
        import traceback

        traceback.print_exception(exc, file=sys.stderr)
    error_line(exc)


# commands that open the Textual UI, unless the predicate says this run does not
_TUI = {"setup": lambda args: not getattr(args, "yes", False)}


def _needs_terminal(args: argparse.Namespace) -> bool:
    wants_tui = _TUI.get(args.command)
    return bool(wants_tui and wants_tui(args))


def _check_terminal(args: argparse.Namespace) -> None:
    """A TUI without a terminal would draw escape codes into a pipe and wait forever."""
    from wizard.errors import UsageError

    if _needs_terminal(args) and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "the setup wizard needs a terminal (stdin and stdout are not one)",
            hint="Without a terminal, put the answers in .codedeploy-wizard.yml and run "
            "`wizard setup --yes`.",
        )


EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for `yes | head -1`


def _silence_broken_pipe() -> None:
    """The reader went away (`| head`): send what is left to /dev/null, so the interpreter's final
    flush does not print 'Exception ignored … BrokenPipeError' (Python docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError, AttributeError):
            pass
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 1 a problem found or hit, 2 usage/config).

    A closed pipe on stdout/stderr (`| head`) ends any command quietly with 141."""
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _silence_broken_pipe()
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = _normalise(parser.parse_args(argv))
    module_name = f"wizard.commands.{args.command}"
    if importlib.util.find_spec(module_name) is None:
        print(f"wizard {args.command}: not available yet", file=sys.stderr)
        return EXIT_USAGE
    try:
        _check_terminal(args)
        module = importlib.import_module(module_name)
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise  # main() ends it quietly
    except Exception as exc:
        from wizard.errors import WizardError

        if not isinstance(exc, WizardError):
            from wizard.aws import explain

            mapped = explain(exc)
            if mapped is None and isinstance(exc, OSError) and exc.filename:
                # a file the OS refused (read-only, full disk, no permission …): the path and
                # the OS's words, a configuration-class error (exit 2), never "unexpected"
                from wizard.fileio import os_reason

                mapped = WizardError(
                    f"{exc.filename}: {os_reason(exc, exc.filename)}", exit_code=EXIT_USAGE
                )
            if mapped is None:
                if args.verbose:
                    raise
                line = WizardError(
                    f"unexpected error: {type(exc).__name__}: {exc}",
                    hint="Run with -v for details.",
                ).one_line()
                print(f"wizard: {line}", file=sys.stderr)
                return EXIT_PROBLEM
            mapped.__cause__ = exc
            exc = mapped
        _print_error(exc, args.verbose)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
