"""Errors that reach the user as one line and an exit code, never as a traceback."""

from __future__ import annotations

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
        if not self.hint:
            return self.message
        # the hint is a second sentence: end the first one so the two do not run together
        sep = " " if self.message.rstrip().endswith((".", "!", "?", ":")) else ". "
        return f"{self.message.rstrip()}{sep}{self.hint}"


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


class AccessDeniedError(WizardError):
    """AWS refused an action: names the action and the principal (exit 1)."""

    exit_code = EXIT_PROBLEM
