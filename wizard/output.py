"""Terminal output helpers: colour only on a TTY and never with NO_COLOR; JSON on stdout only."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


def use_color(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


_CODES = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "bold": "1", "dim": "2"}


def style(text: str, *names: str, stream: TextIO | None = None) -> str:
    if not names or not use_color(stream):
        return text
    codes = ";".join(_CODES[n] for n in names)
    return f"\x1b[{codes}m{text}\x1b[0m"


def print_json(doc: Any) -> None:
    """The one JSON document a --json command prints."""
    sys.stdout.write(json.dumps(doc, indent=2, default=str) + "\n")
    sys.stdout.flush()


def ask_yes_no(question: str) -> bool:
    """Ask `question [y/N]` on the terminal; only y/yes is a yes (end of input is a no)."""
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def info(message: str) -> None:
    """Progress and logs go to stderr so stdout stays machine-readable."""
    print(message, file=sys.stderr)


def error_line(exc: BaseException) -> None:
    from wizard.errors import ConfigError, WizardError

    if isinstance(exc, WizardError):
        print(style("error:", "red", "bold", stream=sys.stderr), exc.one_line(), file=sys.stderr)
        if isinstance(exc, ConfigError) and len(exc.errors) > 1:
            for line in exc.errors:
                print(f"  - {line}", file=sys.stderr)
    else:
        print(style("error:", "red", "bold", stream=sys.stderr), str(exc), file=sys.stderr)


def sandbox_banner(endpoint: str, account: str, region: str) -> str:
    return (
        f"SANDBOX: emulated AWS account {account} in {region} at {endpoint} "
        "(nothing real is touched)"
    )
