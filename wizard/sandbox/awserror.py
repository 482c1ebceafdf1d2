"""The AWS error the sandbox raises: serialised by moto with the service's own error model."""

from __future__ import annotations

from moto.core.exceptions import ServiceException


class AwsError(ServiceException):
    """`AwsError(code, message)`: code is the botocore error shape name (e.g. InvalidRoleException).

    Defined outside `moto.*` so moto serialises it with the model of the service being called.
    """
