"""The revision bucket: in the project's region, private, versioned, encrypted, tagged.

A bucket in another region is a conflict that cannot be fixed in place (CodeDeploy only reads
revisions from a bucket in the deployment's region, reference §3 C). A bucket without our tag is a
conflict too, whatever its name, like a role: the derived name (application, account, region) is
easy to guess, and a bucket someone made by hand is not the wizard's to reconfigure. The fix names
the tagging command that hands it over.

So that an interrupted apply cannot leave an untagged bucket of its own behind, CreateBucket
carries the tags itself (`CreateBucketConfiguration.Tags`, S3 API reference: "You must have the
s3:TagResource permission to create a general purpose bucket with tags"); PutBucketTagging follows
for endpoints that ignore them. Where S3 refuses tags at creation (an older endpoint, or no
s3:TagResource), the bucket is created untagged and tagged at once.
"""

from __future__ import annotations

from typing import Any

from wizard import TAG_KEY
from wizard.steps.base import Change, ConflictError, StepContext, error_code, tag_dict, tag_hint

NAME = "bucket"
CHECKS = ["s3.bundle-region", "s3.bundle-readable"]
PAB = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
ENCRYPTION = {
    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}],
}


def _region_of(location: str | None) -> str:
    if not location:
        return "us-east-1"
    if location == "EU":
        return "eu-west-1"
    return location


def discover(sc: StepContext) -> dict[str, Any]:
    """Read-only: does the bucket exist, where, whose, and how is it set up."""
    s3 = sc.client("s3")
    name = sc.bucket
    state: dict[str, Any] = {"name": name, "exists": False}
    try:
        s3.head_bucket(Bucket=name)
    except Exception as exc:
        code = error_code(exc)
        if code in ("404", "NoSuchBucket", "NotFound"):
            return state
        if code in ("403", "AccessDenied", "Forbidden"):
            state["foreign"] = True
            state["exists"] = True
            return state
        if code not in ("301", "PermanentRedirect", "400"):
            raise
    state["exists"] = True
    loc = s3.get_bucket_location(Bucket=name).get("LocationConstraint")
    state["region"] = _region_of(loc)
    try:
        state["tags"] = tag_dict(s3.get_bucket_tagging(Bucket=name).get("TagSet", []))
    except Exception as exc:
        if error_code(exc) not in ("NoSuchTagSet", "NoSuchTagSetError"):
            raise
        state["tags"] = {}
    if state["region"] != sc.region:
        return state
    try:
        cfg = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        state["pab"] = all(cfg.get(k) for k in PAB)
    except Exception as exc:
        if error_code(exc) != "NoSuchPublicAccessBlockConfiguration":
            raise
        state["pab"] = False
    state["versioning"] = s3.get_bucket_versioning(Bucket=name).get("Status") == "Enabled"
    try:
        rules = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        state["encryption"] = bool(rules)
    except Exception as exc:
        if error_code(exc) != "ServerSideEncryptionConfigurationNotFoundError":
            raise
        state["encryption"] = False
    return state


def plan(sc: StepContext) -> list[Change]:
    st = discover(sc)
    name = st["name"]
    base = {"step": NAME, "resource": "s3:bucket", "name": name, "checks": list(CHECKS)}
    settings_calls = [
        "s3:PutPublicAccessBlock",
        "s3:PutBucketVersioning",
        "s3:PutBucketEncryption",
    ]
    if not st["exists"]:
        where = (
            "us-east-1 (no LocationConstraint)"
            if sc.region == "us-east-1"
            else f"{sc.region} (LocationConstraint {sc.region})"
        )
        return [
            Change(
                **base,
                action="create",
                description=(
                    f"create the revision bucket {name} in {where}: public access blocked, "
                    "versioning on, SSE-S3 encryption"
                ),
                calls=["s3:CreateBucket", "s3:PutBucketTagging", *settings_calls],
            )
        ]
    if st.get("foreign"):
        return [
            Change(
                **base,
                action="conflict",
                description=(
                    f"the bucket {name} exists but S3 refuses to show it: another AWS account "
                    "owns the name, or this principal may not read it (s3:ListBucket)"
                ),
                fix="Set bucket.name in the project file to a name of your own.",
            )
        ]
    if st["region"] != sc.region:
        return [
            Change(
                **base,
                action="conflict",
                description=(
                    f"the bucket {name} is in {st['region']}, but the deployment group is in "
                    f"{sc.region}; CodeDeploy reads revisions only from a bucket in its own region"
                ),
                fix="Set bucket.name to a new bucket (the wizard creates it in the right region).",
            )
        ]
    ours = st["tags"].get(TAG_KEY) == sc.application
    if not ours:
        return [
            Change(
                **base,
                action="conflict",
                description=(
                    f"the bucket {name} exists and was not created by the wizard (it has no "
                    f"{TAG_KEY}={sc.application} tag)"
                ),
                fix=tag_hint(
                    f"aws s3api put-bucket-tagging --bucket {name} "
                    f"--tagging 'TagSet=[{{Key={TAG_KEY},Value={sc.application}}}]'"
                ),
            )
        ]
    missing = [
        label
        for key, label in (
            ("pab", "block public access"),
            ("versioning", "turn versioning on"),
            ("encryption", "turn default encryption on"),
        )
        if not st.get(key)
    ]
    calls = [
        call
        for key, call in zip(("pab", "versioning", "encryption"), settings_calls, strict=True)
        if not st.get(key)
    ]
    if missing:
        return [
            Change(
                **base,
                action="update",
                description=f"update the bucket {name}: " + "; ".join(missing),
                calls=calls,
            )
        ]
    return [
        Change(
            **base,
            action="noop",
            description=f"the revision bucket {name} is ready in {sc.region}",
        )
    ]


def apply(sc: StepContext, change: Change) -> None:
    """Create or converge the bucket; each setting is written only when it is not already so."""
    s3 = sc.client("s3")
    name = sc.bucket
    st = discover(sc)
    created = False
    if not st["exists"]:
        created = _create(sc, s3, name)
        s3.get_waiter("bucket_exists").wait(Bucket=name, WaiterConfig={"Delay": 1})
        st = discover(sc) if not created else {"exists": True, "region": sc.region, "tags": {}}
    if st.get("foreign"):
        raise ConflictError(f"the bucket name {name} is taken by another AWS account")
    if st["region"] != sc.region:
        raise ConflictError(f"the bucket {name} is in {st['region']}, not {sc.region}")
    tags = st.get("tags", {})
    if tags.get(TAG_KEY) != sc.application:
        if not created:
            raise ConflictError(f"the bucket {name} exists and was not created by the wizard")
        merged = {**tags, **sc.tags}
        s3.put_bucket_tagging(
            Bucket=name,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
        )
    if not st.get("pab"):
        s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=dict(PAB))
    if not st.get("versioning"):
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if not st.get("encryption"):
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=ENCRYPTION)
    sc.outputs["bucket"] = name


def _create(sc: StepContext, s3: Any, name: str) -> bool:
    """CreateBucket, tagged at birth where S3 allows; False when it already existed (ours).

    BucketAlreadyOwnedByYou means another apply in this account created it a moment ago (or
    someone did by hand): the caller reads its tags again to tell which.
    """
    config: dict[str, Any] = {}
    if sc.region != "us-east-1":
        config["LocationConstraint"] = sc.region
    attempts = [config]
    if _create_takes_tags(s3):
        attempts.insert(0, {**config, "Tags": sc.tag_list()})
    for i, cfg in enumerate(attempts):
        kwargs: dict[str, Any] = {"Bucket": name}
        if cfg:
            kwargs["CreateBucketConfiguration"] = cfg
        try:
            s3.create_bucket(**kwargs)
            return True
        except Exception as exc:
            code = error_code(exc)
            if code == "BucketAlreadyOwnedByYou":
                return False
            if code == "BucketAlreadyExists" or i == len(attempts) - 1:
                raise
            # tags at creation refused (no s3:TagResource, or an endpoint without the feature):
            # create it plainly; PutBucketTagging below tags it
    return True  # pragma: no cover - the loop returns or raises


def _create_takes_tags(s3: Any) -> bool:
    """Does this botocore know CreateBucketConfiguration.Tags (added in 2025)?"""
    try:
        shape = s3.meta.service_model.operation_model("CreateBucket").input_shape
        return "Tags" in shape.members["CreateBucketConfiguration"].members
    except Exception:  # pragma: no cover - a model without the shape
        return False


# --------------------------------------------------------------------------- destroy
def destroy_plan(sc: StepContext) -> list[Change]:
    st = discover(sc)
    if not st["exists"] or st.get("foreign"):
        return []
    base = {"step": NAME, "resource": "s3:bucket", "name": st["name"]}
    if st["tags"].get(TAG_KEY) != sc.application:
        return [
            Change(
                **base,
                action="noop",
                description=f"leave the bucket {st['name']} alone: the wizard did not create it",
            )
        ]
    return [
        Change(
            **base,
            action="delete",
            description=f"empty the bucket {st['name']} (every object version) and delete it",
            calls=["s3:ListObjectVersions", "s3:DeleteObjects", "s3:DeleteBucket"],
        )
    ]


def destroy(sc: StepContext, change: Change) -> None:
    s3 = sc.client("s3")
    name = change.name
    try:
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=name)
        for page in pages:
            keys = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            for i in range(0, len(keys), 1000):
                s3.delete_objects(
                    Bucket=name, Delete={"Objects": keys[i : i + 1000], "Quiet": True}
                )
        s3.delete_bucket(Bucket=name)
    except Exception as exc:
        if error_code(exc) not in ("NoSuchBucket", "404"):
            raise
