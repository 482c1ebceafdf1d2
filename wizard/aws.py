"""AwsContext: the one place that talks to boto3.

One `boto3.Session` per run; clients are created once, cached and shared by every thread (botocore
clients are thread-safe, sessions are not, so client creation is serialised under a lock).
Retries use botocore's standard mode. Every client carries a user-agent suffix naming the
tool and version.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from wizard import __version__
from wizard.errors import AccessDeniedError, CredentialsError, WizardError

if TYPE_CHECKING:  # pragma: no cover
    import boto3

SANDBOX_ACCESS_KEY = "sandbox"
SANDBOX_SECRET_KEY = "sandbox"
SANDBOX_DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


def validate_endpoint_url(url: str) -> str:
    """Reject an endpoint URL botocore would choke on later with an obscure error."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CredentialsError(
            f"malformed endpoint URL {url!r}: expected http(s)://HOST[:PORT]",
        )
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise CredentialsError(f"malformed endpoint URL {url!r}: bad port") from None
    return url


class AwsContext:
    """Session, region, endpoint and shared clients for one run of the tool."""

    def __init__(
        self,
        *,
        profile: str | None = None,
        region: str | None = None,
        endpoint_url: str | None = None,
        sandbox: bool = False,
        access_key: str | None = None,
        secret_key: str | None = None,
        max_attempts: int = 5,
    ) -> None:
        import boto3
        import botocore.exceptions

        if endpoint_url:
            validate_endpoint_url(endpoint_url)
        self.sandbox = sandbox
        import os

        # like the AWS CLI v2: --region, then AWS_REGION, then AWS_DEFAULT_REGION / the profile
        region = region or os.environ.get("AWS_REGION") or None
        kwargs: dict[str, Any] = {}
        if access_key:
            kwargs = {"aws_access_key_id": access_key, "aws_secret_access_key": secret_key}
        try:
            self.session: boto3.session.Session = boto3.session.Session(
                profile_name=profile, region_name=region, **kwargs
            )
        except botocore.exceptions.ProfileNotFound:
            raise CredentialsError(
                f"unknown AWS profile {profile!r}",
                hint="List profiles with `aws configure list-profiles`.",
            ) from None
        self.profile = profile
        self.region: str = self.session.region_name or ""
        if not self.region:
            raise CredentialsError(
                "no AWS region configured",
                hint="Pass --region, set AWS_REGION, or add one to your profile.",
            )
        self.endpoint_url = endpoint_url or self._env_endpoint()
        self.max_attempts = max_attempts
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._identity: Identity | None = None

    @staticmethod
    def _env_endpoint() -> str | None:
        import os

        url = os.environ.get("AWS_ENDPOINT_URL")
        if url:
            validate_endpoint_url(url)
        return url or None

    def _config(self, service: str):
        from botocore.config import Config

        cfg = Config(
            retries={"mode": "standard", "max_attempts": self.max_attempts},
            user_agent_extra=f"codedeploy-wizard/{__version__}",
            max_pool_connections=64,
            connect_timeout=5,
            read_timeout=60,
        )
        if service == "s3" and self.endpoint_url:
            cfg = cfg.merge(Config(s3={"addressing_style": "path"}))
        return cfg

    def client(self, service: str, region: str | None = None) -> Any:
        """A cached, thread-safe client for `service` (in `region`, default the context's)."""
        key = (service, region or self.region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                kwargs: dict[str, Any] = {"region_name": key[1], "config": self._config(service)}
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                client = self.session.client(service, **kwargs)
                self._clients[key] = client
        return client

    def identity(self) -> Identity:
        """Who we are, through STS GetCallerIdentity (cached)."""
        if self._identity is None:
            with translate_aws_errors("sts:GetCallerIdentity"):
                resp = self.client("sts").get_caller_identity()
            self._identity = Identity(resp["Account"], resp["Arn"], resp["UserId"])
            headers = resp.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            if headers.get("x-codedeploy-wizard-sandbox"):
                self.sandbox = True
        return self._identity

    @property
    def account(self) -> str:
        return self.identity().account

    @property
    def partition(self) -> str:
        return self.session.get_partition_for_region(self.region)

    def describe(self) -> dict[str, Any]:
        """The `whoami --json` document."""
        ident = self.identity()
        return {
            "account": ident.account,
            "arn": ident.arn,
            "region": self.region,
            "endpoint": self.endpoint_url,
            "sandbox": self.sandbox,
        }


def error_code(exc: BaseException) -> str:
    """The AWS error code of a ClientError ('' for anything else)."""
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code", ""))
    return ""


_CREDENTIAL_CODES = {
    "InvalidClientTokenId": "the AWS access key id is not valid",
    "UnrecognizedClientException": "the AWS access key id is not valid",
    "SignatureDoesNotMatch": "the AWS secret access key does not match the access key id",
    "ExpiredToken": "the AWS credentials have expired",
    "ExpiredTokenException": "the AWS credentials have expired",
    "RequestExpired": "the request expired: check the machine's clock",
    "InvalidToken": "the AWS session token is not valid",
    "AuthFailure": "AWS could not validate the credentials",
}
_DENIED_CODES = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
}
_THROTTLE_CODES = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}


def explain(exc: BaseException, action: str | None = None) -> WizardError | None:
    """Map a botocore/boto3 exception to a one-line WizardError, or None if it is unexpected."""
    import botocore.exceptions as bx

    if isinstance(exc, WizardError):
        return exc
    if isinstance(exc, bx.NoCredentialsError):
        return CredentialsError(
            "no AWS credentials found",
            hint="Run `aws configure`, set AWS_PROFILE, or try `wizard --sandbox`.",
        )
    if isinstance(exc, bx.ProfileNotFound):
        return CredentialsError(f"unknown AWS profile: {exc.kwargs.get('profile')!r}")
    if isinstance(exc, bx.NoRegionError):
        return CredentialsError("no AWS region configured", hint="Pass --region or set AWS_REGION.")
    if isinstance(exc, (bx.TokenRetrievalError, bx.SSOTokenLoadError)):
        return CredentialsError(
            "the SSO session has expired or was never started",
            hint="Run `aws sso login`.",
        )
    if isinstance(exc, bx.PartialCredentialsError):
        return CredentialsError(f"incomplete AWS credentials: {exc}")
    if isinstance(exc, (bx.EndpointConnectionError, bx.ConnectTimeoutError)):
        return CredentialsError(
            f"cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url', '')}".rstrip(),
            hint="Check the endpoint URL and your network.",
        )
    if isinstance(exc, bx.ReadTimeoutError):
        return WizardError(f"the AWS endpoint stopped answering: {exc}")
    if isinstance(exc, bx.InvalidEndpointConfigurationError):
        return CredentialsError(f"invalid endpoint configuration: {exc}")
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        return CredentialsError(f"malformed endpoint URL: {exc}")
    if isinstance(exc, bx.ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "")
        msg = err.get("Message", "") or str(exc)
        op = action or exc.operation_name
        if code in _CREDENTIAL_CODES:
            return CredentialsError(
                _CREDENTIAL_CODES[code], hint="Check your credentials or profile.", detail=msg
            )
        if code in _DENIED_CODES or "not authorized" in msg:
            return AccessDeniedError(f"access denied for {op}: {msg}")
        if code in _THROTTLE_CODES:
            return WizardError(f"AWS throttled {op} even after retries: {msg}")
        return None
    return None


class translate_aws_errors:
    """Context manager: re-raise known AWS failures as WizardError, leave the rest alone."""

    def __init__(self, action: str | None = None) -> None:
        self.action = action

    def __enter__(self) -> translate_aws_errors:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc is None or isinstance(exc, WizardError):
            return False
        mapped = explain(exc, self.action)
        if mapped is not None:
            raise mapped from exc
        return False
