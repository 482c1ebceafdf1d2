"""Bucket step against moto: region and LocationConstraint, settings, conflicts, adopt, destroy."""

from __future__ import annotations

import boto3
import pytest

from tests.steps_support import make_project, moto_account, sc_for
from wizard import TAG_KEY
from wizard.steps import bucket

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


def test_untagged_bucket_with_the_wizards_own_name_is_adopted(aws):
    sc = sc_for(aws, make_project("shop"))
    boto3.client("s3").create_bucket(Bucket=sc.bucket)  # as if interrupted before tagging
    (change,) = bucket.plan(sc)
    assert change.action == "adopt"
    bucket.apply(sc, change)
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
