"""AwsContext: shared clients, retry mode, user agent, and one-line errors for expected failures."""

from __future__ import annotations

import threading

import botocore.exceptions as bx
import pytest

from wizard import __version__
from wizard.aws import AwsContext, explain, translate_aws_errors
from wizard.errors import AccessDeniedError, CredentialsError


def test_clients_are_created_once_and_shared_across_threads(aws_credentials):
    ctx = AwsContext(region="us-east-1")
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(ctx.client("sts"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(c) for c in seen}) == 1
    assert ctx.client("sts", "eu-west-1") is not seen[0]


def test_standard_retries_and_user_agent(aws_credentials):
    client = AwsContext(region="us-east-1").client("codedeploy")
    cfg = client.meta.config
    assert cfg.retries["mode"] == "standard"
    assert f"codedeploy-wizard/{__version__}" in cfg.user_agent_extra


def test_identity_through_sts(aws_credentials):
    from moto import mock_aws

    with mock_aws():
        ctx = AwsContext(region="us-east-1")
        assert ctx.account == "123456789012"
        doc = ctx.describe()
    assert doc["region"] == "us-east-1" and doc["sandbox"] is False and doc["endpoint"] is None


def test_unknown_profile(aws_credentials):
    with pytest.raises(CredentialsError, match="unknown AWS profile 'nope'"):
        AwsContext(profile="nope")


def test_no_region(aws_credentials, monkeypatch):
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    with pytest.raises(CredentialsError, match="no AWS region"):
        AwsContext()


@pytest.mark.parametrize("url", ["localhost:4566", "ftp://x", "http://", "http://h:notaport"])
def test_malformed_endpoint(aws_credentials, url):
    with pytest.raises(CredentialsError, match="malformed endpoint URL"):
        AwsContext(region="us-east-1", endpoint_url=url)


def client_error(code: str, message: str = "msg", op: str = "GetRole") -> bx.ClientError:
    return bx.ClientError({"Error": {"Code": code, "Message": message}}, op)


@pytest.mark.parametrize(
    ("exc", "kind", "fragment"),
    [
        (bx.NoCredentialsError(), CredentialsError, "no AWS credentials"),
        (bx.NoRegionError(), CredentialsError, "no AWS region"),
        (bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), CredentialsError, "reach"),
        (client_error("InvalidClientTokenId"), CredentialsError, "not valid"),
        (client_error("ExpiredToken"), CredentialsError, "expired"),
        (client_error("SignatureDoesNotMatch"), CredentialsError, "secret access key"),
        (
            client_error("AccessDenied", "User: arn:aws:iam::1:user/bob is not authorized"),
            AccessDeniedError,
            "access denied for GetRole",
        ),
    ],
)
def test_expected_failures_become_one_line_errors(exc, kind, fragment):
    mapped = explain(exc)
    assert isinstance(mapped, kind)
    assert fragment in mapped.one_line()
    assert "\n" not in mapped.one_line()


def test_unexpected_client_errors_are_left_alone():
    assert explain(client_error("NoSuchEntity")) is None
    with pytest.raises(bx.ClientError), translate_aws_errors():
        raise client_error("NoSuchEntity")
