"""AwsContext: the one place that talks to boto3.

One `boto3.Session` per run; clients are created once, cached and shared by every thread (botocore
clients are thread-safe, sessions are not, so client creation is serialised under a lock).
Retries use botocore's standard mode. Every client carries a user-agent suffix naming the
tool and version, and bounded connect/read timeouts: nothing waits forever on an endpoint that
accepts a connection and never answers. An endpoint that answers with something other than an
AWS API response (an HTML page, a plain-text error) is reported as such, in one line, instead of
as a parser error.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from wizard import __version__
from wizard.errors import AccessDeniedError, CredentialsError, EndpointError, WizardError, shown

if TYPE_CHECKING:  # pragma: no cover
    import boto3

SANDBOX_ACCESS_KEY = "sandbox"
SANDBOX_SECRET_KEY = "sandbox"
SANDBOX_DEFAULT_REGION = "us-east-1"

# Seconds. AWS API calls answer in well under a second; the read timeout bounds an endpoint that
# accepts and never answers (botocore's default is 60 s per attempt, times every retry).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# The first call of a run (sts:GetCallerIdentity) decides whether the endpoint is usable at all:
# it gets a shorter read timeout and fewer attempts, so a dead endpoint is named in seconds.
PROBE_READ_TIMEOUT = 10.0
PROBE_MAX_ATTEMPTS = 2  # in all, the first try included
# region names as AWS spells them (us-east-1, us-gov-west-1, eu-isoe-west-1); fullmatch, so a
# trailing newline is not a region (botocore's own check is anchored with `$`)
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


@dataclass(frozen=True)
class Identity:
    account: str
    arn: str
    user_id: str


def validate_endpoint_url(url: str) -> str:
    """Reject an endpoint URL botocore would choke on later with an obscure error.

    Returns `url`; raises CredentialsError (exit 2) for anything but http(s)://HOST[:PORT][/PATH]
    without spaces or control characters.
    """
    if not url.isprintable() or " " in url:
        raise CredentialsError(f"malformed endpoint URL {shown(url)}: spaces or control characters")
    try:
        parsed = urlparse(url)
    except ValueError:
        raise CredentialsError(f"malformed endpoint URL {shown(url)}") from None
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise CredentialsError(
            f"malformed endpoint URL {shown(url)}: expected http(s)://HOST[:PORT]",
        )
    try:
        parsed.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise CredentialsError(f"malformed endpoint URL {shown(url)}: bad port") from None
    return url


MAX_CONFIG_BYTES = (
    10 << 20
)  # ~/.aws/config and credentials are kilobytes; botocore reads them whole


def _check_config_files() -> None:
    """The AWS config and credentials files must be regular files of a sane size (or absent).

    botocore reads them whole with configparser: pointed at /dev/zero it would read forever, at a
    FIFO it would wait for a writer. `/dev/null` (os.devnull) stays allowed: it is the usual way
    to say "no file". Raises CredentialsError (exit 2) naming the variable.
    """
    import os

    from wizard.fileio import file_kind, human_size

    for var, default in (
        ("AWS_CONFIG_FILE", "~/.aws/config"),
        ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
    ):
        path = os.environ.get(var) or default
        if path == os.devnull:
            continue
        try:
            st = os.stat(os.path.expanduser(path))
        except (OSError, ValueError):
            continue  # absent (or unreadable): botocore treats it as empty or says so itself
        kind = file_kind(st.st_mode)
        where = f"{var}={shown(path)}" if os.environ.get(var) else shown(path)
        if kind is not None:
            raise CredentialsError(f"{where} is {kind}, not a regular file")
        if st.st_size > MAX_CONFIG_BYTES:
            raise CredentialsError(
                f"{where} is {human_size(st.st_size)}: not an AWS config or credentials file"
            )


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
        _check_config_files()
        self.sandbox = sandbox
        # told at birth (`--sandbox`: this process runs the emulator), not learned from a
        # `wizard sandbox` server's STS answer
        self._told_sandbox = sandbox
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
        except botocore.exceptions.ProfileNotFound as exc:
            # the name may come from AWS_PROFILE rather than --profile: name what botocore tried
            raise CredentialsError(
                f"unknown AWS profile {shown(exc.kwargs.get('profile', profile))}",
                hint="List profiles with `aws configure list-profiles`.",
            ) from None
        self.profile = profile
        self.region: str = self.session.region_name or ""
        if not self.region:
            raise CredentialsError(
                "no AWS region configured",
                hint="Pass --region, set AWS_REGION, or add one to your profile.",
            )
        if not _REGION.fullmatch(self.region):
            raise CredentialsError(
                f"unknown AWS region {shown(self.region)}",
                hint="Use a name like us-east-1 or eu-west-2.",
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

    def _config(self, service: str, *, probe: bool = False):
        from botocore.config import Config

        cfg = Config(
            retries={"mode": "standard", "total_max_attempts": PROBE_MAX_ATTEMPTS}
            if probe
            else {"mode": "standard", "max_attempts": self.max_attempts},
            user_agent_extra=f"codedeploy-wizard/{__version__}",
            max_pool_connections=64,
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=PROBE_READ_TIMEOUT if probe else READ_TIMEOUT,
        )
        if service == "s3" and self.endpoint_url:
            cfg = cfg.merge(Config(s3={"addressing_style": "path"}))
        return cfg

    def client(self, service: str, region: str | None = None, *, probe: bool = False) -> Any:
        """A cached, thread-safe client for `service` (in `region`, default the context's).

        `probe` gives the short-timeout, two-attempt client the first call of a run uses.
        """
        key = (service + (":probe" if probe else ""), region or self.region)
        client = self._clients.get(key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                kwargs: dict[str, Any] = {
                    "region_name": key[1],
                    "config": self._config(service, probe=probe),
                }
                if self.endpoint_url:
                    kwargs["endpoint_url"] = self.endpoint_url
                client = self.session.client(service, **kwargs)
                client.meta.events.register("before-parse", _AnswerCheck(client.meta.endpoint_url))
                self._clients[key] = client
        return client

    def identity(self) -> Identity:
        """Who we are, through STS GetCallerIdentity (cached).

        Usually the run's first call, so it is made with the short-timeout probe client: an
        endpoint that cannot answer it is named within about PROBE_READ_TIMEOUT x
        PROBE_MAX_ATTEMPTS seconds. Raises CredentialsError / EndpointError (exit 2).
        """
        if self._identity is None:
            with translate_aws_errors("sts:GetCallerIdentity"):
                sts = self.client("sts", probe=True)
                resp = sts.get_caller_identity()
            try:
                self._identity = Identity(resp["Account"], resp["Arn"], resp["UserId"])
            except KeyError:
                raise EndpointError(
                    f"{sts.meta.endpoint_url} is not an AWS endpoint: its GetCallerIdentity "
                    "answer names no account",
                    hint=_ENDPOINT_HINT,
                ) from None
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
            # the emulator this process started (--sandbox), which ends with it; False for a
            # `wizard sandbox` server in another terminal, which answers STS with its header
            "embedded": self.embedded,
        }

    @property
    def embedded(self) -> bool:
        """True when this process runs the sandbox (`--sandbox`): it ends with the process. A
        `wizard sandbox` server in another terminal is learned from its STS answer instead
        (`sandbox` True, `embedded` False)."""
        return getattr(self, "sandbox_server", None) is not None or self._told_sandbox


_ENDPOINT_HINT = "Check --endpoint-url / AWS_ENDPOINT_URL, or a proxy in the way."


class _AnswerCheck:
    """botocore `before-parse` hook: refuse an answer no AWS API gives, before it is parsed.

    AWS API responses are XML or JSON (or empty); only an operation that returns a payload or a
    stream (S3 GetObject) may return other bytes, and then only on success. Anything else — an
    HTML page from a web server or a captive portal, a plain-text "Internal Server Error" — means
    the endpoint is not AWS: raising here names it in one line and spares the retries.
    """

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def __call__(self, operation_model: Any, response_dict: dict, **_: Any) -> None:
        body = response_dict.get("body")
        if not isinstance(body, (bytes, bytearray)) or not body:
            return
        status = int(response_dict.get("status_code") or 0)
        if status < 300 and _returns_raw_bytes(operation_model):
            return
        head = bytes(body[:512]).lstrip(b"\xef\xbb\xbf \t\r\n")
        if head[:14].lower().startswith((b"<!doctype html", b"<html")):
            what = "an HTML page"
        elif not head or head[:1] in (b"<", b"{"):
            return
        else:
            text = head[:40].decode("utf-8", "replace")
            what = f"the text {shown(text, 50)}"
        raise EndpointError(
            f"{self.endpoint} is not an AWS endpoint: {operation_model.name} got HTTP {status} "
            f"and {what}",
            hint=_ENDPOINT_HINT,
        )


def _returns_raw_bytes(operation_model: Any) -> bool:
    shape = operation_model.output_shape
    return bool(
        operation_model.has_streaming_output
        or (shape is not None and shape.serialization.get("payload"))
    )


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
    from botocore.parsers import ResponseParserError

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
    if isinstance(exc, (bx.ConnectionError, bx.HTTPClientError)):
        return _unreachable(exc)
    if isinstance(exc, bx.InvalidRegionError):
        return CredentialsError(
            f"unknown AWS region {shown(exc.kwargs.get('region_name'))}",
            hint="Use a name like us-east-1 or eu-west-2.",
        )
    if isinstance(exc, bx.InvalidEndpointConfigurationError):
        return CredentialsError(f"invalid endpoint configuration: {exc}")
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        return CredentialsError(f"malformed endpoint URL: {exc}")
    if isinstance(exc, ResponseParserError):
        return EndpointError(
            "the endpoint's answer is not an AWS API response (it could not be parsed)",
            hint=_ENDPOINT_HINT,
            detail=str(exc),
        )
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
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        if code.isdigit() and int(status) >= 500:
            # botocore names an error it could not parse by its HTTP status: no AWS error body
            return WizardError(
                f"{op} failed with HTTP {code} and no AWS error, even after retries",
                hint="AWS or the endpoint is having trouble; try again later.",
            )
        return None
    return None


def _unreachable(exc: Exception) -> WizardError:
    """One line for every way a connection can fail (botocore's ConnectionError and
    HTTPClientError families), naming the endpoint and what happened."""
    import botocore.exceptions as bx

    url = (exc.kwargs.get("endpoint_url") or "").rstrip("/")  # type: ignore[attr-defined]
    error = str(exc.kwargs.get("error", ""))  # type: ignore[attr-defined]
    if isinstance(exc, bx.ProxyConnectionError):
        proxy = exc.kwargs.get("proxy_url", "")
        return CredentialsError(
            f"cannot reach the HTTP proxy {proxy}", hint="Check HTTPS_PROXY / HTTP_PROXY."
        )
    if isinstance(exc, bx.ConnectTimeoutError):
        why = f"no answer to the connection within {CONNECT_TIMEOUT:g} s"
    elif isinstance(exc, bx.ReadTimeoutError):
        why = "it accepted the connection but did not answer in time"
    elif isinstance(exc, bx.ConnectionClosedError):
        why = "it closed the connection without an answer"
    elif isinstance(exc, bx.SSLError):
        why = "the TLS handshake failed"
        if "WRONG_VERSION_NUMBER" in error or "record layer" in error:
            why += " (is it a plain http:// endpoint?)"
        elif "CERTIFICATE_VERIFY_FAILED" in error:
            why += " (its certificate is not trusted; see AWS_CA_BUNDLE)"
    elif isinstance(exc, bx.EndpointConnectionError):
        why = "connection refused or no route to it"
        if "Name or service not known" in error or "nodename nor servname" in error:
            why = "its host name does not resolve"
    else:
        why = "the connection failed"
    return CredentialsError(
        f"cannot reach the AWS endpoint {url}".rstrip() + f": {why}",
        hint="Check the endpoint URL and your network.",
        detail=str(exc),
    )


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
