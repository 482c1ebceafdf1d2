"""Application revisions: what was registered or deployed, and their handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.core.utils import utcnow

from wizard.sandbox.codedeploy.common import err, paginate, require_application


@dataclass
class RevisionRecord:
    revision: dict[str, Any]
    description: str = ""
    register_time: datetime = field(default_factory=utcnow)
    first_used: datetime | None = None
    last_used: datetime | None = None
    groups: list[str] = field(default_factory=list)


def revision_store(backend: Any, app: str) -> dict[str, RevisionRecord]:
    if not hasattr(backend, "_sandbox_revisions"):
        backend._sandbox_revisions = {}
    return backend._sandbox_revisions.setdefault(app, {})


def _rev_key(revision: dict[str, Any]) -> str:
    kind = revision.get("revisionType") or "S3"
    if kind == "S3":
        loc = revision.get("s3Location") or {}
        return json.dumps(
            [
                "S3",
                loc.get("bucket"),
                loc.get("key"),
                loc.get("bundleType"),
                loc.get("version"),
                (loc.get("eTag") or "").strip('"') or None,
            ]
        )
    if kind == "GitHub":
        loc = revision.get("gitHubLocation") or {}
        return json.dumps(["GitHub", loc.get("repository"), loc.get("commitId")])
    return json.dumps([kind, json.dumps(revision, sort_keys=True, default=str)])


def validate_revision(revision: Any) -> dict[str, Any]:
    if not revision:
        raise err("RevisionRequiredException", "The revision ID was not specified.")
    kind = revision.get("revisionType")
    if kind not in ("S3", "GitHub", "String", "AppSpecContent"):
        raise err("InvalidRevisionException", "The revision was specified in an invalid format.")
    if kind == "S3":
        loc = revision.get("s3Location") or {}
        if not loc.get("bucket") or not loc.get("key"):
            raise err(
                "InvalidRevisionException",
                "The revision was specified in an invalid format: the S3 location needs a "
                "bucket and a key.",
            )
        if loc.get("bundleType") and loc["bundleType"] not in ("tar", "tgz", "zip", "YAML", "JSON"):
            raise err("InvalidRevisionException", f"Invalid bundle type: {loc['bundleType']}")
    return revision


def register_revision(
    backend: Any, app: str, revision: dict[str, Any], description: str = "", group: str = ""
) -> RevisionRecord:
    store = revision_store(backend, app)
    key = _rev_key(revision)
    rec = store.get(key)
    if rec is None:
        rec = RevisionRecord(revision=revision, description=description or "")
        store[key] = rec
    elif description:
        rec.description = description
    if group:
        now = utcnow()
        rec.first_used = rec.first_used or now
        rec.last_used = now
        if group not in rec.groups:
            rec.groups.append(group)
    return rec


def find_revision(backend: Any, app: str, revision: dict[str, Any]) -> RevisionRecord | None:
    store = revision_store(backend, app)
    rec = store.get(_rev_key(revision))
    if rec is not None:
        return rec
    if (revision.get("revisionType") or "S3") == "S3":
        want = revision.get("s3Location") or {}
        for candidate in store.values():
            loc = candidate.revision.get("s3Location") or {}
            if (loc.get("bucket"), loc.get("key")) != (want.get("bucket"), want.get("key")):
                continue
            if want.get("version") and want["version"] != loc.get("version"):
                continue
            if want.get("eTag") and (want["eTag"].strip('"') != (loc.get("eTag") or "").strip('"')):
                continue
            return candidate
    return None


def revision_info(rec: RevisionRecord) -> dict[str, Any]:
    info: dict[str, Any] = {
        "description": rec.description,
        "deploymentGroups": list(rec.groups),
        "registerTime": rec.register_time,
    }
    if rec.first_used:
        info["firstUsedTime"] = rec.first_used
        info["lastUsedTime"] = rec.last_used
    return info


def register_application_revision(self: Any) -> EmptyResult:
    app = require_application(self)
    revision = validate_revision(self._get_param("revision"))
    description = self._get_param("description") or ""
    if len(description) > 1024:
        raise err("DescriptionTooLongException", "The description is too long.")
    register_revision(self.codedeploy_backend, app, revision, description)
    return EmptyResult()


def get_application_revision(self: Any) -> ActionResult:
    app = require_application(self)
    revision = validate_revision(self._get_param("revision"))
    rec = find_revision(self.codedeploy_backend, app, revision)
    if rec is None:
        raise err(
            "RevisionDoesNotExistException",
            "The named revision does not exist with the user or AWS account.",
        )
    return ActionResult(
        {"applicationName": app, "revision": rec.revision, "revisionInfo": revision_info(rec)}
    )


def batch_get_application_revisions(self: Any) -> ActionResult:
    app = require_application(self)
    revisions = self._get_param("revisions") or []
    if not revisions:
        raise err("RevisionRequiredException", "The revision ID was not specified.")
    if len(revisions) > 25:
        raise err(
            "BatchLimitExceededException",
            "The maximum number of names or IDs allowed for this request (25) was exceeded.",
        )
    out, missing = [], 0
    for revision in revisions:
        rec = find_revision(self.codedeploy_backend, app, revision)
        if rec is None:
            missing += 1
        else:
            out.append(
                {"revisionLocation": rec.revision, "genericRevisionInfo": revision_info(rec)}
            )
    result: dict[str, Any] = {"applicationName": app, "revisions": out}
    if missing:
        result["errorMessage"] = f"{missing} revision(s) not found"
    return ActionResult(result)


def list_application_revisions(self: Any) -> ActionResult:
    app = require_application(self)
    bucket = self._get_param("s3Bucket")
    prefix = self._get_param("s3KeyPrefix")
    deployed = self._get_param("deployed") or "ignore"
    sort_by = self._get_param("sortBy")
    order = self._get_param("sortOrder") or "ascending"
    if prefix and not bucket:
        raise err(
            "BucketNameFilterRequiredException",
            "A bucket name is required if a key prefix is specified.",
        )
    recs = list(revision_store(self.codedeploy_backend, app).values())
    if bucket:
        recs = [r for r in recs if (r.revision.get("s3Location") or {}).get("bucket") == bucket]
    if prefix:
        recs = [
            r
            for r in recs
            if ((r.revision.get("s3Location") or {}).get("key") or "").startswith(prefix)
        ]
    if deployed == "include":
        recs = [r for r in recs if r.groups]
    elif deployed == "exclude":
        recs = [r for r in recs if not r.groups]
    if sort_by:
        attr = {
            "registerTime": "register_time",
            "firstUsedTime": "first_used",
            "lastUsedTime": "last_used",
        }.get(sort_by, "register_time")
        recs.sort(key=lambda r: getattr(r, attr) or datetime.min, reverse=order == "descending")
    page, nxt = paginate([r.revision for r in recs], self._get_param("nextToken"), 100)
    result: dict[str, Any] = {"revisions": page}
    if nxt:
        result["nextToken"] = nxt
    return ActionResult(result)


HANDLERS = {
    "register_application_revision": register_application_revision,
    "get_application_revision": get_application_revision,
    "batch_get_application_revisions": batch_get_application_revisions,
    "list_application_revisions": list_application_revisions,
}
