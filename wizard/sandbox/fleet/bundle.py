"""DownloadBundle: fetch the revision from S3 as the instance role, and unpack it like the agent."""

from __future__ import annotations

import io
import posixpath
import tarfile
import zipfile
from dataclasses import dataclass, field
from typing import Any

from wizard.sandbox import iam_sim
from wizard.sandbox.fleet.context import DeploymentContext
from wizard.sandbox.fleet.instance import Facts

MSG_ACCESS_DENIED = "Access Denied"
MSG_NO_KEY = "The specified key does not exist."
MSG_NO_BUCKET = "The specified bucket does not exist"
MSG_REDIRECT = (
    "The bucket you are attempting to access must be addressed using the specified endpoint. "
    "Please send all future requests to this endpoint."
)


@dataclass
class Bundle:
    """An unpacked revision: file paths (relative, after stripping), their bytes and modes."""

    files: dict[str, bytes] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)
    error: str | None = None
    modes: dict[str, int] = field(default_factory=dict)  # Unix permission bits, when recorded

    def is_dir(self, rel: str) -> bool:
        return rel in ("", ".") or rel in self.dirs

    def mode(self, rel: str) -> int:
        """The file's permission bits after unpacking: the archive's, else 0644 (umask 022)."""
        return self.modes.get(rel) or 0o644

    def executable(self, rel: str) -> bool:
        return bool(self.mode(rel) & 0o111)

    def walk(self, rel: str) -> list[str]:
        """Files under a directory (relative paths), sorted."""
        if rel in ("", "."):
            return sorted(self.files)
        prefix = rel.rstrip("/") + "/"
        return sorted(f for f in self.files if f.startswith(prefix))


def norm_rel(name: str) -> str:
    name = name.replace("\\", "/")
    while name.startswith("./"):
        name = name[2:]
    return posixpath.normpath(name.lstrip("/")) if name.strip("/") else ""


def unpack(data: bytes, bundle_type: str) -> Bundle:
    """Unpack like the agent: zip, tar, tgz; strip one top-level folder holding the appspec."""
    entries: dict[str, bytes] = {}
    dirs: set[str] = set()
    modes: dict[str, int] = {}
    kind = (bundle_type or "zip").lower()
    try:
        if kind == "zip":
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for info in zf.infolist():
                    rel = norm_rel(info.filename)
                    if not rel:
                        continue
                    if info.is_dir():
                        dirs.add(rel)
                    else:
                        entries[rel] = zf.read(info)[:65536]
                        if info.create_system == 3:  # made on Unix: unzip restores the mode
                            modes[rel] = (info.external_attr >> 16) & 0o7777
        elif kind in ("tar", "tgz"):
            mode = "r:gz" if kind == "tgz" else "r:"
            with tarfile.open(fileobj=io.BytesIO(data), mode=mode) as tf:
                for member in tf.getmembers():
                    rel = norm_rel(member.name)
                    if not rel:
                        continue
                    if member.isdir():
                        dirs.add(rel)
                    elif member.isfile():
                        fh = tf.extractfile(member)
                        entries[rel] = fh.read(65536) if fh else b""
                        modes[rel] = member.mode & 0o7777
        else:
            return Bundle(error=f"Unsupported bundle type: {bundle_type}")
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        label = "zip" if kind == "zip" else "tar"
        return Bundle(error=f"Error extracting {label} archive: {exc}")
    for rel in list(entries):
        parent = posixpath.dirname(rel)
        while parent:
            dirs.add(parent)
            parent = posixpath.dirname(parent)
    top = {p.split("/", 1)[0] for p in list(entries) + list(dirs)}
    if len(top) == 1:
        (only,) = top
        if only in dirs:
            children = {
                p[len(only) + 1 :].split("/", 1)[0]
                for p in list(entries) + list(dirs)
                if p.startswith(only + "/")
            }
            if any("appspec" in c.lower() for c in children):
                cut = len(only) + 1
                entries = {p[cut:]: v for p, v in entries.items() if p.startswith(only + "/")}
                dirs = {p[cut:] for p in dirs if p.startswith(only + "/")}
                modes = {p[cut:]: m for p, m in modes.items() if p.startswith(only + "/")}
    return Bundle(files=entries, dirs=dirs, modes=modes)


def find_appspec(bundle: Bundle) -> str | None:
    for name in ("appspec.yml", "appspec.yaml"):
        if name in bundle.files:
            return name
    return None


def _allowed(
    ctx: DeploymentContext, role_arn: str, action: str, resource: str, policy: Any
) -> bool:
    key = (role_arn, action, resource)
    if key not in ctx._decisions:
        try:
            ctx._decisions[key] = iam_sim.role_allows(
                ctx.account, role_arn, action, resource, resource_policy=policy
            ).allowed
        except iam_sim.NoSuchEntity:
            ctx._decisions[key] = False
    return ctx._decisions[key]


def download(ctx: DeploymentContext, facts: Facts) -> tuple[str | None, Bundle | None]:
    """DownloadBundle: the error message the agent would report, or the unpacked bundle."""
    from moto.s3.models import s3_backends

    rev = ctx.revision or {}
    if rev.get("revisionType", "S3") != "S3" or not rev.get("s3Location"):
        return f"Unsupported revision type {rev.get('revisionType')!r} in the sandbox", None
    loc = rev["s3Location"]
    bucket_name, key = loc.get("bucket", ""), loc.get("key", "")
    version = loc.get("version")
    s3 = s3_backends[ctx.account]["aws"]
    bucket = s3.buckets.get(bucket_name)
    if bucket is None:
        return MSG_NO_BUCKET, None
    if getattr(bucket, "region_name", ctx.region) != facts.region:
        return MSG_REDIRECT, None
    policy = bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy
    resource = f"arn:aws:s3:::{bucket_name}/{key}"
    action = "s3:GetObjectVersion" if version else "s3:GetObject"
    assert facts.role_arn
    if not _allowed(ctx, facts.role_arn, action, resource, policy):
        return MSG_ACCESS_DENIED, None
    if ctx._object is None and ctx._object_error is None:
        try:
            obj = s3.get_object(bucket_name, key, version_id=version)
        except Exception:
            obj = None
        if obj is None:
            ctx._object_error = "missing"
        else:
            ctx._object = obj
    if ctx._object is None:
        if _allowed(ctx, facts.role_arn, "s3:ListBucket", f"arn:aws:s3:::{bucket_name}", policy):
            return MSG_NO_KEY, None
        return MSG_ACCESS_DENIED, None
    if not _kms_readable(ctx, facts, ctx._object):
        return MSG_ACCESS_DENIED, None
    etag = loc.get("eTag")
    actual = ctx._object.etag
    if etag and etag.strip('"') != actual.strip('"'):
        return f"Expected deployment artifact bundle etag {etag} but was actually {actual}", None
    if ctx._bundle is None:
        ctx._bundle = unpack(ctx._object.value, loc.get("bundleType") or "zip")
    if ctx._bundle.error:
        return ctx._bundle.error, None
    return None, ctx._bundle


def _kms_readable(ctx: DeploymentContext, facts: Facts, obj: Any) -> bool:
    """SSE-KMS with a customer key: the role needs kms:Decrypt (identity and key policy)."""
    if getattr(obj, "encryption", None) != "aws:kms":
        return True
    key_id = getattr(obj, "kms_key_id", None)
    if not key_id or "alias/aws/s3" in str(key_id):
        return True  # the AWS managed key serves every principal allowed to use S3
    try:
        from moto.kms.models import kms_backends

        key = kms_backends[ctx.account][ctx.region].describe_key(str(key_id))
    except Exception:
        return False
    assert facts.role_arn
    return _allowed(ctx, facts.role_arn, "kms:Decrypt", key.arn, key.policy)
