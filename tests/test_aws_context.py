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


# ---------------------------------------------------------------------- bounded, named failures
def test_every_client_has_bounded_timeouts_and_the_probe_fails_fast(aws_credentials):
    from wizard import aws

    ctx = AwsContext(region="us-east-1")
    cfg = ctx.client("codedeploy").meta.config
    assert (cfg.connect_timeout, cfg.read_timeout) == (aws.CONNECT_TIMEOUT, aws.READ_TIMEOUT)
    assert cfg.read_timeout <= 30 and cfg.retries["total_max_attempts"] == 6  # 5 retries
    probe = ctx.client("sts", probe=True).meta.config
    assert probe.read_timeout == aws.PROBE_READ_TIMEOUT <= 10
    assert probe.retries["total_max_attempts"] == aws.PROBE_MAX_ATTEMPTS == 2
    assert ctx.client("sts", probe=True) is not ctx.client("sts")


def test_a_profile_named_by_aws_profile_is_named(aws_credentials, monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "nosuch")
    with pytest.raises(CredentialsError, match="unknown AWS profile 'nosuch'"):
        AwsContext()


@pytest.mark.parametrize("region", ["us-east-1\n", "US-EAST-1", "us east 1", "eu-west-1 "])
def test_a_region_must_be_spelled_as_aws_does(aws_credentials, region):
    with pytest.raises(CredentialsError, match="unknown AWS region"):
        AwsContext(region=region)


def test_config_files_must_be_regular_files(aws_credentials, monkeypatch, tmp_path):
    import os

    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/zero")
    with pytest.raises(CredentialsError, match="AWS_CONFIG_FILE='/dev/zero' is a character"):
        AwsContext(region="us-east-1")
    os.mkfifo(tmp_path / "creds")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)  # "no file": allowed
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "creds"))
    with pytest.raises(CredentialsError, match="FIFO"):
        AwsContext(region="us-east-1")


@pytest.mark.parametrize(
    ("exc", "fragment"),
    [
        (
            bx.ConnectionClosedError(endpoint_url="http://h:1/"),
            "http://h:1: it closed the connection",
        ),
        (bx.ReadTimeoutError(endpoint_url="http://h:1"), "did not answer in time"),
        (bx.ConnectTimeoutError(endpoint_url="http://h:1"), "no answer to the connection"),
        (
            bx.SSLError(endpoint_url="https://h:1", error="[SSL: WRONG_VERSION_NUMBER] wrong"),
            "is it a plain http:// endpoint?",
        ),
        (bx.ProxyConnectionError(proxy_url="http://proxy:3128", error="x"), "proxy"),
        (bx.HTTPClientError(error="boom"), "cannot reach the AWS endpoint"),
    ],
)
def test_every_way_a_connection_fails_is_one_line_exit_2(exc, fragment):
    mapped = explain(exc)
    assert isinstance(mapped, CredentialsError) and mapped.exit_code == 2
    assert fragment in mapped.one_line() and "\n" not in mapped.one_line()


def test_a_server_error_without_an_aws_body_is_named_after_retries():
    exc = bx.ClientError(
        {"Error": {"Code": "500", "Message": ""}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        "GetRole",
    )
    assert "HTTP 500 and no AWS error" in explain(exc).one_line()


def test_aws_answers_are_never_mistaken_for_a_foreign_endpoint(aws_credentials):
    """An HTML *object* in S3 and AWS's XML/JSON errors pass the answer check untouched."""
    from moto import mock_aws

    page = b"<!DOCTYPE html><html><body>a page we deploy</body></html>"
    with mock_aws():
        ctx = AwsContext(region="us-east-1")
        s3 = ctx.client("s3")
        s3.create_bucket(Bucket="pages")
        s3.put_object(Bucket="pages", Key="index.html", Body=page, ContentType="text/html")
        assert s3.get_object(Bucket="pages", Key="index.html")["Body"].read() == page
        with pytest.raises(bx.ClientError) as info:
            s3.head_object(Bucket="pages", Key="missing")  # empty body, status 404
        assert info.value.response["Error"]["Code"] == "404"
        with pytest.raises(bx.ClientError) as info:
            ctx.client("codedeploy").get_application(applicationName="nope")  # JSON error
        assert "ApplicationDoesNotExist" in info.value.response["Error"]["Code"]
