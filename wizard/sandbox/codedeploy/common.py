"""What every CodeDeploy handler needs: the error it raises, pagination, required names."""

from __future__ import annotations

from typing import Any

from wizard.sandbox.awserror import AwsError


def err(code: str, message: str) -> AwsError:
    """The CodeDeploy error `code` (a botocore error shape name) with AWS's message."""
    return AwsError(code, message)


def paginate(items: list[Any], token: str | None, size: int) -> tuple[list[Any], str | None]:
    """(page of at most `size` items from `token`, next token or None); a bad token raises
    InvalidNextTokenException as CodeDeploy does."""
    start = 0
    if token:
        try:
            start = int(token)
        except ValueError:
            raise err(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            ) from None
        if start < 0 or start > len(items):
            raise err(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            )
    page = items[start : start + size]
    nxt = str(start + size) if start + size < len(items) else None
    return page, nxt


def require_application(self: Any) -> str:
    """The request's applicationName, which must name an existing application."""
    backend = self.codedeploy_backend
    app = self._get_param("applicationName")
    if not app:
        raise err(
            "ApplicationNameRequiredException",
            "The minimum number of required application names was not specified.",
        )
    if app not in backend.applications:
        raise err(
            "ApplicationDoesNotExistException",
            f"The application {app} does not exist with the user or AWS account.",
        )
    return app
