"""Errors that reach the user as one line and an exit code, never as a traceback."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_PROBLEM = 1  # the command ran and found or hit a problem
EXIT_USAGE = 2  # usage, configuration or credential errors


class WizardError(Exception):
    """An expected failure: `message` is shown as one line, `exit_code` is returned.

    `hint` is an optional second sentence (what to do next); `detail` is shown only with -v.
    """

    exit_code = EXIT_PROBLEM

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        detail: str | None = None,
        exit_code: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.detail = detail
        if exit_code is not None:
            self.exit_code = exit_code

    def one_line(self) -> str:
        """Message and hint as one line of at most MAX_LINE characters.

        Whatever user input a message echoes, the result holds no newline and no control
        character (escaped as in Python: a file name cannot move the cursor or fake a second
        line), and a value pasted 100,000 characters long is cut in the middle.
        """
        text = self.message.rstrip()
        if self.hint:
            # the hint is a second sentence: end the first one so the two do not run together
            sep = " " if text.endswith((".", "!", "?", ":")) else ". "
            text = f"{text}{sep}{self.hint}"
        return _cut(printable(text), MAX_LINE)


MAX_LINE = 1000  # characters in an error line; real ones are well under 300


def printable(text: str) -> str:
    """`text` with control characters (newline, ESC …) escaped as Python writes them, so a name
    echoed to a terminal stays on one line and cannot move the cursor."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return text[:half] + "…" + text[-half:]


def shown(value: Any, limit: int = 60) -> str:
    """`repr(value)` cut to at most `limit` characters, for echoing user input in a message.

    The repr makes control characters visible (`'role\\n'`); a long value keeps its start.
    """
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 2] + "…" + text[-1]


class UsageError(WizardError):
    """Bad flags or arguments (exit 2)."""

    exit_code = EXIT_USAGE


class ConfigError(WizardError):
    """The project file is missing or invalid (exit 2). `errors` holds one line per problem."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, errors: list[str] | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.errors = errors or []


class CredentialsError(WizardError):
    """No, unknown, invalid or expired credentials, no region, bad endpoint (exit 2)."""

    exit_code = EXIT_USAGE


class EndpointError(CredentialsError):
    """The endpoint answers, but not as an AWS API does: HTML, plain text (exit 2)."""


class AccessDeniedError(WizardError):
    """AWS refused an action: names the action and the principal (exit 1)."""

    exit_code = EXIT_PROBLEM
