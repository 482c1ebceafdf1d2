"""Bucket step against moto: region, LocationConstraint, settings, conflicts, ownership, destroy."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.steps_support import make_project, moto_account, sc_for
from wizard import TAG_KEY
from wizard.steps import bucket
from wizard.steps.base import ConflictError

ACCOUNT = "123456789012"


@pytest.fixture
def aws(aws_credentials):
    yield from moto_account()


def _settings(s3, name):
    pab = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    enc = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
    return {
        "region": s3.get_bucket_location(Bucket=name)["LocationConstraint"],
        "pab": pab,
        "versioning": s3.get_bucket_versioning(Bucket=name).get("Status"),
        "sse": enc[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "tags": {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]},
    }


@pytest.mark.parametrize(
    ("region", "constraint"), [("us-east-1", None), ("eu-west-1", "eu-west-1")]
)
def test_creates_a_private_versioned_encrypted_bucket_in_the_project_region(
    aws, region, constraint
):
    sc = sc_for(aws, make_project("shop", region=region))
    (change,) = bucket.plan(sc)
    assert change.action == "create"
    name = f"shop-codedeploy-{ACCOUNT}-{region}"
    assert change.name == name
    bucket.apply(sc, change)
    got = _settings(boto3.client("s3", region_name=region), name)
    assert got["region"] == constraint
    assert all(got["pab"].values()) and len(got["pab"]) == 4
    assert got["versioning"] == "Enabled"
    assert got["sse"] == "AES256"
    assert got["tags"] == {TAG_KEY: "shop"}
    assert [c.action for c in bucket.plan(sc)] == ["noop"]


def test_our_bucket_with_versioning_suspended_is_updated(aws):
    sc = sc_for(aws, make_project("shop"))
    bucket.apply(sc, bucket.plan(sc)[0])
    s3 = boto3.client("s3")
    s3.put_bucket_versioning(Bucket=sc.bucket, VersioningConfiguration={"Status": "Suspended"})
    (change,) = bucket.plan(sc)
    assert change.action == "update"
    assert change.calls == ["s3:PutBucketVersioning"]
    bucket.apply(sc, change)
    assert s3.get_bucket_versioning(Bucket=sc.bucket)["Status"] == "Enabled"


def test_a_bucket_in_another_region_is_a_conflict(aws):
    boto3.client("s3", region_name="eu-west-1").create_bucket(
        Bucket="shop-releases", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    sc = sc_for(aws, make_project("shop", bucket={"name": "shop-releases"}))
    (change,) = bucket.plan(sc)
    assert change.action == "conflict"
    assert "eu-west-1" in change.description and "us-east-1" in change.description


def test_a_foreign_bucket_of_the_configured_name_is_a_conflict(aws):
    boto3.client("s3").create_bucket(Bucket="shop-releases")
    sc = sc_for(aws, make_project("shop", bucket={"name": "shop-releases"}))
    (change,) = bucket.plan(sc)
    assert change.action == "conflict"
    assert "put-bucket-tagging" in change.fix


def test_an_untagged_bucket_with_the_derived_name_is_a_conflict_not_adopted(aws):
    """The derived name is guessable; a bucket made by hand is not the wizard's to take over."""
    sc = sc_for(aws, make_project("shop"))
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=sc.bucket)
    (change,) = bucket.plan(sc)
    assert change.action == "conflict"
    assert "not created by the wizard" in change.description
    assert f"put-bucket-tagging --bucket {sc.bucket}" in change.fix
    with pytest.raises(ConflictError):
        bucket.apply(sc, change)
    with pytest.raises(ClientError):  # still untagged, nothing was written to it
        s3.get_bucket_tagging(Bucket=sc.bucket)
    assert s3.get_bucket_versioning(Bucket=sc.bucket).get("Status") is None


def test_the_bucket_is_created_with_its_tags_so_no_kill_leaves_it_untagged(aws):
    sc = sc_for(aws, make_project("shop", region="eu-west-1"))
    s3 = sc.client("s3")
    sent: list[dict] = []
    s3.meta.events.register(
        "provide-client-params.s3.CreateBucket", lambda params, **_: sent.append(dict(params))
    )
    (change,) = bucket.plan(sc)
    bucket.apply(sc, change)
    assert sent[0]["CreateBucketConfiguration"] == {
        "LocationConstraint": "eu-west-1",
        "Tags": [{"Key": TAG_KEY, "Value": "shop"}],
    }
    assert _settings(boto3.client("s3", region_name="eu-west-1"), sc.bucket)["tags"] == {
        TAG_KEY: "shop"
    }


def test_tags_refused_at_creation_fall_back_to_tagging_after(aws, monkeypatch):
    sc = sc_for(aws, make_project("shop"))
    s3 = sc.client("s3")
    real = s3.create_bucket
    seen: list[dict] = []

    def no_tags_here(**kw):
        seen.append(kw)
        if "Tags" in kw.get("CreateBucketConfiguration", {}):
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "not allowed: s3:TagResource"}},
                "CreateBucket",
            )
        return real(**kw)

    monkeypatch.setattr(s3, "create_bucket", no_tags_here)
    bucket.apply(sc, bucket.plan(sc)[0])
    assert len(seen) == 2 and "CreateBucketConfiguration" not in seen[1]
    assert _settings(boto3.client("s3"), sc.bucket)["tags"] == {TAG_KEY: "shop"}


def test_destroy_empties_every_version_then_deletes(aws):
    sc = sc_for(aws, make_project("shop"))
    bucket.apply(sc, bucket.plan(sc)[0])
    s3 = boto3.client("s3")
    for body in (b"1", b"2"):
        s3.put_object(Bucket=sc.bucket, Key="releases/a.zip", Body=body)
    s3.delete_object(Bucket=sc.bucket, Key="releases/a.zip")  # leaves a delete marker
    (change,) = bucket.destroy_plan(sc)
    assert change.action == "delete"
    bucket.destroy(sc, change)
    assert sc.bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket.destroy_plan(sc) == []
    bucket.destroy(sc, change)  # idempotent
