"""Bad input, as a table: every command and every kind of input a user (or a script) gets wrong.

Each row runs the real CLI (`wizard.cli.main`, in-process for speed; as a subprocess only where a
terminal matters) and asserts what a user would notice:

- the exit code (1: the command ran and found a problem; 2: usage, configuration, credentials);
- exactly one line on stderr, holding the words that name the problem, no traceback, no
  "unexpected error", and not a pasted megabyte echoed back;
- nothing changed on disk (the project folder is compared before and after);
- for rows that reach the sandbox, nothing changed in the account either;
- and, for endpoints that fail, a bounded number of attempts (at most PROBE_MAX_ATTEMPTS
  connections, each under the short timeouts), counted by the fake server rather than timed, so
  a loaded machine cannot fail a row; a watchdog fails a row that hangs instead of the suite.

Endpoints are tiny local servers on 127.0.0.1, port 0: one refuses, one closes the connection,
one answers 500 in plain text, one answers an HTML page, one speaks plain HTTP to a TLS client,
one accepts and never answers.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import socket
import socketserver
import stat
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import clean_env
from wizard import cli

APP = b"application: shop\n"
WATCHDOG_SECONDS = 30  # far above the slowest row (about 2 s); a hang fails, it never blocks


# --------------------------------------------------------------------------- fixtures of rows
def fifo(name: str) -> Callable[[Path], None]:
    def make(root: Path) -> None:
        os.mkfifo(root / name)

    return make


def sparse(name: str, size: int) -> Callable[[Path], None]:
    """A file of `size` bytes without writing them (a 50 MB appspec in no time)."""

    def make(root: Path) -> None:
        with open(root / name, "wb") as fh:
            fh.write(b"version: 0.0\nos: linux\n")
            fh.truncate(size)

    return make


def encrypted_zip(name: str) -> Callable[[Path], None]:
    """A zip whose entries say they are encrypted (flag bit 0), as `zip -e` makes them."""

    def make(root: Path) -> None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("appspec.yml", "version: 0.0\nos: linux\n")
            zf.writestr("scripts/start.sh", "#!/bin/sh\n")
        data = bytearray(buf.getvalue())
        for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = data.find(sig)
            while at != -1:
                data[at + flag_at] |= 1
                at = data.find(sig, at + 4)
        (root / name).write_bytes(bytes(data))

    return make


def bundle_with_fifo(root: Path) -> None:
    (root / "scripts").mkdir()
    (root / "appspec.yml").write_text(
        "version: 0.0\nos: linux\nfiles:\n  - source: /\n    destination: /var/www/shop\n"
        "hooks:\n  ApplicationStart:\n    - location: scripts/start.sh\n"
    )
    os.mkfifo(root / "scripts" / "start.sh")


def nested_app(root: Path) -> None:
    (root / "app").mkdir()
    bundle_with_fifo(root / "app")


# --------------------------------------------------------------------------- the table
@dataclass
class Row:
    id: str
    argv: list[str]
    code: int
    says: str  # words the one stderr line must hold ({endpoint} is filled in)
    files: dict[str, bytes | Callable[[Path], None]] = field(default_factory=dict)
    env: dict[str, str | None] = field(default_factory=dict)  # None removes the variable
    endpoint: str | None = None  # a fake server from `endpoints`, as AWS_ENDPOINT_URL
    sandbox: bool = False  # talk to the session's sandbox (and check the account is unchanged)
    subprocess: bool = False  # needs a real process (stdin from /dev/null)
    xfail: str | None = None

    def param(self) -> Any:
        marks = [pytest.mark.xfail(reason=self.xfail, strict=True)] if self.xfail else []
        return pytest.param(self, id=self.id, marks=marks)


def project(content: bytes) -> dict[str, bytes | Callable[[Path], None]]:
    return {".codedeploy-wizard.yml": content}


P = project
LONG_ID = "d-" + "A" * 100_000

ROWS: list[Row] = [
    # ---------------------------------------------------------------- the project file
    Row("pf-not-utf8", ["plan"], 2, "line 1 column 15: not UTF-8", P(b"application: d\xe9mo\n")),
    Row("pf-deep-5000", ["plan"], 2, "nested deeper than", P(b"[" * 5000 + b"]" * 5000)),
    Row("pf-dup-top", ["plan"], 2, "duplicate key 'application'", P(APP + APP)),
    Row(
        "pf-dup-nested",
        ["apply", "--yes"],
        2,
        "duplicate key 'ci.branch'",
        P(APP + b"ci:\n  branch: a\n  branch: b\n"),
    ),
    Row("pf-yaml-syntax", ["plan"], 2, "not valid YAML", P(b"application: [shop\n")),
    Row("pf-empty", ["plan"], 2, "application: is required", P(b"")),
    Row("pf-list", ["plan"], 2, "must be a YAML mapping", P(b"- application\n")),
    Row("pf-missing", ["plan"], 2, "no project file at"),
    Row("pf-directory", ["plan"], 2, "is a directory", {".codedeploy-wizard.yml/x": b""}),
    Row(
        "pf-huge",
        ["plan"],
        2,
        "more than the 1.0 MiB limit",
        {".codedeploy-wizard.yml": sparse(".codedeploy-wizard.yml", 50 << 20)},
    ),
    Row("pf-config-dev-zero", ["setup", "--yes", "--config", "/dev/zero"], 2, "character device"),
    Row(
        "pf-config-fifo",
        ["setup", "--yes", "--config", "pipe.yml"],
        2,
        "FIFO",
        {"pipe.yml": fifo("pipe.yml")},
    ),
    Row(
        "pf-role-newline",
        ["plan"],
        2,
        "roles.instance_role: must not contain a control character",
        P(APP + b'roles: {instance_role: "role\\n"}\n'),
    ),
    Row(
        "pf-role-unicode",
        ["files", "--yes"],
        2,
        "roles.instance_role: must be 1-64 characters of ASCII",
        P(APP + "roles: {instance_role: rôle-ünï}\n".encode()),
    ),
    Row(
        "pf-repo-newline",
        ["plan"],
        2,
        "ci.repository: must not contain a control character",
        P(APP + b'ci: {provider: github, repository: "o/r\\n"}\n'),
    ),
    Row(
        "pf-tag-newline",
        ["destroy", "--yes"],
        2,
        "instances.tag.value: must not contain a control character",
        P(APP + b'instances: {tag: {value: "a\\nb"}}\n'),
    ),
    Row(
        "pf-branch-wildcard",
        ["plan"],
        2,
        "ci.branch: must name one branch: wildcards are not supported",
        P(APP + b"ci: {provider: github, repository: o/r, branch: '*'}\n"),
    ),
    Row(
        "pf-branch-not-a-ref",
        ["files", "--yes"],
        2,
        "ci.branch: must be a git branch name",
        P(APP + b"ci: {branch: 'feature..x'}\n"),
    ),
    Row("pf-app-space", ["plan"], 2, "application: must be 1-100", P(b"application: my app\n")),
    Row(
        "pf-app-comma",
        ["deploy"],
        2,
        "application: must be 1-100 characters of ASCII letters, digits and ._+=@-",
        P(b"application: a,b\n"),
    ),
    Row("pf-app-type", ["plan"], 2, "application: must be a string", P(b"application: [a]\n")),
    Row(
        "pf-unknown-key",
        ["plan"],
        2,
        "aplication: unknown key (did you mean 'application'?)",
        P(APP + b"aplication: x\n"),
    ),
    Row(
        "pf-long-key",
        ["plan"],
        2,
        "not valid YAML",
        P(APP + b"k" * 200_000 + b": 1\n"),
    ),
    Row(
        "pf-bucket-name",
        ["plan"],
        2,
        "bucket.name: must be lowercase",
        P(APP + b"bucket: {name: My_Bucket}\n"),
    ),
    Row(
        "pf-prefix-dotdot",
        ["plan"],
        2,
        "bucket.prefix: must not contain '.' or '..'",
        P(APP + b"bucket: {prefix: ../../etc/}\n"),
    ),
    Row(
        "pf-destination-oversized",
        ["plan"],
        2,
        "bundle.destination: must be shorter than 4096 bytes",
        P(APP + b"bundle: {destination: /" + b"d" * 5000 + b"}\n"),
    ),
    Row(
        "pf-launch-range",
        ["apply", "--yes"],
        2,
        "instances.launch: must be between 0 and 100",
        P(APP + b"instances: {launch: 100000}\n"),
    ),
    Row("pf-region-unknown", ["plan"], 2, "region: is not a region", P(APP + b"region: mars-1\n")),
    Row(
        "pf-nul-in-source",
        ["deploy"],
        2,
        "bundle.source: must not contain a control character (U+0000)",
        P(APP + b'bundle: {source: "a\\0b"}\n'),
    ),
    Row(
        "pf-hooks-recursive",
        ["files", "--yes"],
        2,
        "bundle.hooks[0]",
        P(APP + b"bundle: {hooks: &h [*h]}\n"),
    ),
    Row(
        "pf-validate-default-paths-bad-project",
        ["validate"],
        2,
        "nothing to validate",
        P(b"application: d\xe9mo\n"),
    ),
    # ---------------------------------------------------------------- flags
    Row("flag-region-empty", ["whoami", "--region", ""], 2, "argument --region: must not be empty"),
    Row("flag-region-unknown", ["whoami", "--region", "nowhere-1"], 2, "unknown AWS region"),
    Row("flag-region-newline", ["whoami", "--region", "us-east-1\n"], 2, "control character"),
    Row(
        "flag-profile-empty",
        ["whoami", "--profile", ""],
        2,
        "argument --profile: must not be empty",
    ),
    Row("flag-profile-unknown", ["whoami", "--profile", "nope"], 2, "unknown AWS profile 'nope'"),
    Row(
        "flag-endpoint-no-scheme",
        ["whoami", "--endpoint-url", "localhost:1"],
        2,
        "malformed endpoint",
    ),
    Row("flag-endpoint-ftp", ["whoami", "--endpoint-url", "ftp://x"], 2, "malformed endpoint"),
    Row("flag-endpoint-port", ["whoami", "--endpoint-url", "http://h:port"], 2, "bad port"),
    Row("flag-endpoint-empty", ["whoami", "--endpoint-url", ""], 2, "must not be empty"),
    Row("flag-project-dir-empty", ["plan", "--project-dir", ""], 2, "must not be empty"),
    Row("flag-project-dir-file", ["plan", "--project-dir", "/dev/null"], 2, "cannot read"),
    Row(
        "flag-scenario-alone", ["whoami", "--scenario", "healthy"], 2, "--scenario needs --sandbox"
    ),
    Row("flag-port-range", ["sandbox", "--port", "99999"], 2, "is not a port"),
    Row("flag-port-word", ["sandbox", "--port", "http"], 2, "is not a port"),
    Row(
        "flag-scenario-unknown", ["sandbox", "--scenario", "nosuch"], 2, "unknown sandbox scenario"
    ),
    Row(
        "flag-description-long",
        ["deploy", "--description", "x" * 101],
        2,
        "longer than 100 characters",
    ),
    Row("flag-check-empty", ["diagnose", "--check", "", "d-0QBAGMJSZ"], 2, "must not be empty"),
    Row("flag-unknown-command", ["deploi"], 2, "invalid choice: 'deploi'"),
    Row("flag-unknown-option", ["plan", "--jsn"], 2, "unrecognized arguments: --jsn"),
    Row("flag-missing-value", ["whoami", "--region"], 2, "expected one argument"),
    Row(
        "flag-application-name",
        ["diagnose", "--application", "my app", "--deployment-group", "g"],
        2,
        "is not an application name",
    ),
    Row(
        "flag-file-exists-behavior",
        ["deploy", "--file-exists-behavior", "CLOBBER"],
        2,
        "invalid choice: 'CLOBBER'",
    ),
    # ---------------------------------------------------------------- ids
    Row("id-100k", ["diagnose", LONG_ID], 2, "is not a deployment id"),
    Row("id-lowercase", ["diagnose", "d-0qbagmjsz"], 2, "is not a deployment id"),
    Row("id-newline", ["diagnose", "d-0QBAGMJSZ\n"], 2, "is not a deployment id"),
    Row("id-arn", ["diagnose", "arn:aws:codedeploy:x"], 2, "is not a deployment id"),
    Row(
        "id-unknown-in-sandbox",
        ["diagnose", "d-ZZZZZZZZZ"],
        2,
        "d-ZZZZZZZZZ",
        sandbox=True,
        xfail=None,
    ),
    # ---------------------------------------------------------------- environment variables
    Row(
        "env-profile-unknown",
        ["whoami"],
        2,
        "unknown AWS profile 'nosuch'",
        env={"AWS_PROFILE": "nosuch"},
    ),
    Row(
        "env-profile-unknown-plan",
        ["plan"],
        2,
        "unknown AWS profile 'nosuch'",
        P(APP),
        env={"AWS_PROFILE": "nosuch"},
    ),
    Row(
        "env-region-unknown",
        ["whoami"],
        2,
        "unknown AWS region 'mars-1'",
        env={"AWS_REGION": "mars-1"},
    ),
    Row(
        "env-region-newline",
        ["whoami"],
        2,
        "unknown AWS region 'us-east-1\\n'",
        env={"AWS_REGION": "us-east-1\n"},
    ),
    Row(
        "env-no-region",
        ["whoami"],
        2,
        "no AWS region",
        env={"AWS_REGION": None, "AWS_DEFAULT_REGION": None},
    ),
    Row(
        "env-no-credentials",
        ["whoami"],
        2,
        "no AWS credentials",
        env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
    ),
    Row(
        "env-endpoint-ftp",
        ["plan"],
        2,
        "malformed endpoint URL 'ftp://x'",
        P(APP),
        env={"AWS_ENDPOINT_URL": "ftp://x"},
    ),
    Row(
        "env-endpoint-newline",
        ["whoami"],
        2,
        "malformed endpoint URL",
        env={"AWS_ENDPOINT_URL": "http://127.0.0.1:1\n"},
    ),
    Row(
        "env-config-file-device",
        ["whoami"],
        2,
        "AWS_CONFIG_FILE",
        env={"AWS_CONFIG_FILE": "/dev/zero"},
    ),
    Row(
        "env-credentials-file-fifo",
        ["whoami"],
        2,
        "AWS_SHARED_CREDENTIALS_FILE",
        {"creds": fifo("creds")},
        env={
            "AWS_SHARED_CREDENTIALS_FILE": "creds",
            "AWS_ACCESS_KEY_ID": None,
            "AWS_SECRET_ACCESS_KEY": None,
        },
    ),
    # ---------------------------------------------------------------- endpoints
    Row(
        "ep-refused", ["whoami"], 2, "cannot reach the AWS endpoint {endpoint}", endpoint="refused"
    ),
    Row(
        "ep-refused-plan",
        ["plan"],
        2,
        "cannot reach the AWS endpoint {endpoint}",
        P(APP),
        endpoint="refused",
    ),
    Row(
        "ep-closed",
        ["whoami"],
        2,
        "cannot reach the AWS endpoint {endpoint}: it closed the connection",
        endpoint="closed",
    ),
    Row("ep-closed-destroy", ["destroy"], 2, "it closed the connection", P(APP), endpoint="closed"),
    Row("ep-500-text", ["whoami"], 2, "{endpoint} is not an AWS endpoint", endpoint="text500"),
    Row(
        "ep-500-text-diagnose",
        ["diagnose", "d-0QBAGMJSZ"],
        2,
        "is not an AWS endpoint",
        endpoint="text500",
    ),
    Row(
        "ep-html",
        ["whoami"],
        2,
        "is not an AWS endpoint: GetCallerIdentity got HTTP 200 and an HTML page",
        endpoint="html",
    ),
    Row(
        "ep-html-path",
        ["plan"],
        2,
        "{endpoint} is not an AWS endpoint",
        P(APP),
        endpoint="htmlpath",
    ),
    Row(
        "ep-tls-to-plain",
        ["whoami"],
        2,
        "TLS handshake failed (is it a plain http:// endpoint?)",
        endpoint="tls",
    ),
    Row("ep-silent", ["whoami"], 2, "did not answer in time", endpoint="silent"),
    Row(
        "ep-silent-apply",
        ["apply", "--yes"],
        2,
        "did not answer in time",
        P(APP),
        endpoint="silent",
    ),
    # ---------------------------------------------------------------- no terminal
    Row("tty-setup", ["setup"], 2, "`wizard setup --yes`"),
    Row("tty-no-command", [], 2, "needs a terminal"),
    Row("tty-no-command-sandbox", ["--sandbox"], 2, "needs a terminal"),
    Row("tty-setup-subprocess", ["setup"], 2, "`wizard setup --yes`", subprocess=True),
    Row(
        "tty-apply-confirm",
        ["apply"],
        2,
        "no terminal to confirm on",
        P(b"application: bad-inputs-apply\n"),
        sandbox=True,
    ),
    # ---------------------------------------------------------------- files and folders
    Row("file-dev-zero", ["validate", "/dev/zero"], 2, "not a regular file"),
    Row("file-dev-null", ["validate", "/dev/null"], 2, "not a regular file"),
    Row("file-fifo", ["validate", "appspec.yml"], 2, "FIFO", {"appspec.yml": fifo("appspec.yml")}),
    Row("file-fifo-any-name", ["validate", "p"], 2, "FIFO", {"p": fifo("p")}),
    Row("file-fifo-as-zip", ["validate", "b.zip"], 2, "FIFO", {"b.zip": fifo("b.zip")}),
    Row(
        "file-appspec-50mb",
        ["validate", "appspec.yml"],
        1,
        "1 error(s)",
        {"appspec.yml": sparse("appspec.yml", 50 << 20)},
    ),
    Row("file-missing", ["validate", "nope.yml"], 2, "no such file"),
    Row("file-bundle-with-fifo", ["validate", "."], 1, "error(s)", {"x": bundle_with_fifo}),
    Row(
        "file-deploy-bundle-fifo",
        ["deploy"],
        1,
        "scripts/start.sh in the bundle folder is a FIFO",
        {".codedeploy-wizard.yml": APP + b"bundle: {source: app}\n", "x": nested_app},
    ),
    Row(
        "file-encrypted-zip",
        ["validate", "bundle.zip"],
        1,
        "error(s)",
        {"bundle.zip": encrypted_zip("bundle.zip")},
    ),
    Row(
        "file-not-an-archive",
        ["validate", "bundle.zip"],
        1,
        "1 error(s)",
        {"bundle.zip": b"this is not a zip"},
    ),
    Row(
        "file-appspec-not-utf8",
        ["validate", "appspec.yml"],
        1,
        "1 error(s)",
        {"appspec.yml": b"version: 0.0\nos: l\xefnux\n"},
    ),
    Row(
        "file-appspec-deep",
        ["validate", "appspec.yml"],
        1,
        "error(s)",
        {"appspec.yml": b"version: 0.0\nos: linux\nhooks: " + b"[" * 5000 + b"]" * 5000 + b"\n"},
    ),
    Row(
        "file-travis-dev-zero-symlink",
        ["validate", ".travis.yml"],
        2,
        "not a regular file",
        {".travis.yml": lambda root: os.symlink("/dev/zero", root / ".travis.yml")},
    ),
    # ---------------------------------------------------------------- writes the system refuses
    # a folder in the way is a file (ENOTDIR/EEXIST: refused even to root, like a read-only
    # mount): one line naming the path and why, exit 2, nothing written, nothing in AWS
    Row(
        "write-files-hooks-folder-is-a-file",
        ["files", "--yes"],
        2,
        "scripts/application_start.sh: ",
        {**P(APP + b"ci:\n  provider: none\n"), "scripts": b"not a folder\n"},
    ),
    Row(
        "write-setup-hooks-folder-is-a-file",
        ["setup", "--yes", "--no-wait"],
        2,
        "scripts is a file, not a folder. Nothing was changed",
        {**P(b"application: bi-setup-ro\nci:\n  provider: none\n"), "scripts": b"x\n"},
        sandbox=True,
    ),
    Row(
        "write-files-workflow-folder-is-a-file",
        ["files", "--yes"],
        2,
        ".github is a file, not a folder. Nothing was written",
        {**P(APP + b"ci:\n  provider: github\n  repository: o/r\n"), ".github": b"x\n"},
        sandbox=True,
    ),
    Row(
        "write-project-dir-under-a-file",
        ["files", "--yes", "--project-dir", "notes.txt/app"],
        2,
        "cannot read notes.txt/app/.codedeploy-wizard.yml: notes.txt is a file, not a folder",
        {"notes.txt": b"x\n"},
    ),
]


# --------------------------------------------------------------------------- fake endpoints
HITS: dict[str, int] = {}  # connections each fake endpoint accepted (reset for every row)


class _Handler(socketserver.BaseRequestHandler):
    server: Any

    def handle(self) -> None:
        HITS[self.server.mode] = HITS.get(self.server.mode, 0) + 1
        sock = self.request
        sock.settimeout(5)
        try:
            sock.recv(65536)
        except OSError:
            return
        mode = self.server.mode
        if mode == "closed":
            return  # close without a byte of answer
        if mode == "silent":
            self.server.release.wait(WATCHDOG_SECONDS)
            return
        if mode == "text500":
            status, ctype, body = (
                "500 Internal Server Error",
                "text/plain",
                b"Internal Server Error",
            )
        elif mode == "html":
            status, ctype, body = (
                "200 OK",
                "text/html",
                b"<!DOCTYPE html><html><body>Hi</body></html>",
            )
        else:  # htmlpath: a web site's 404 page
            status, ctype, body = "404 Not Found", "text/html", b"<html><h1>Not Found</h1></html>"
        head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
        sock.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@pytest.fixture(scope="module")
def endpoints() -> Iterator[dict[str, str]]:
    release = threading.Event()
    servers = []
    urls: dict[str, str] = {}
    for mode in ("closed", "silent", "text500", "html", "htmlpath"):
        srv = _Server(("127.0.0.1", 0), _Handler)
        srv.mode = mode  # type: ignore[attr-defined]
        srv.release = release  # type: ignore[attr-defined]
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers.append(srv)
        urls[mode] = f"http://127.0.0.1:{srv.server_address[1]}"
    urls["htmlpath"] += "/console/"
    urls["tls"] = urls["text500"].replace("http://", "https://")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        urls["refused"] = f"http://127.0.0.1:{s.getsockname()[1]}"
    yield urls
    release.set()
    for srv in servers:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Seconds instead of tens of seconds: the same code path, a table that stays fast."""
    from wizard import aws

    monkeypatch.setattr(aws, "PROBE_READ_TIMEOUT", 0.5)
    monkeypatch.setattr(aws, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(aws, "CONNECT_TIMEOUT", 1.0)


# --------------------------------------------------------------------------- what must not change
def tree(root: Path) -> dict[str, tuple]:
    """Every entry under `root`: type, mode, size, and a hash of small regular files."""
    out: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            digest = ""
            if stat.S_ISREG(st.st_mode) and st.st_size <= 1 << 20:
                digest = hashlib.sha256(Path(full).read_bytes()).hexdigest()
            out[os.path.relpath(full, root)] = (st.st_mode, st.st_size, st.st_mtime_ns, digest)
    return out


def account(sandbox_server: Any) -> dict[str, Any]:
    """What a bad input must never create in the account."""
    import boto3

    env = sandbox_server.env("us-east-1")
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )

    def client(name: str) -> Any:
        return session.client(name, endpoint_url=env["AWS_ENDPOINT_URL"])

    reservations = client("ec2").describe_instances()["Reservations"]
    return {
        "roles": sorted(r["RoleName"] for r in client("iam").list_roles()["Roles"]),
        "users": sorted(u["UserName"] for u in client("iam").list_users()["Users"]),
        "buckets": sorted(b["Name"] for b in client("s3").list_buckets()["Buckets"]),
        "apps": sorted(client("codedeploy").list_applications()["applications"]),
        "instances": sorted(i["InstanceId"] for r in reservations for i in r["Instances"]),
    }


# --------------------------------------------------------------------------- running a row
class _Watchdog(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _Watchdog(f"no answer within {WATCHDOG_SECONDS} s")


def run_in_process(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal, end of input at once
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(WATCHDOG_SECONDS)
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 2
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    out = capsys.readouterr()
    return code, out.out, out.err


def environment(
    row: Row, root: Path, endpoints: dict[str, str], sandbox_env: dict | None
) -> dict[str, str]:
    env = {
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ACCESS_KEY_ID": "bad-inputs",
        "AWS_SECRET_ACCESS_KEY": "bad-inputs",
        "AWS_REGION": "us-east-1",
    }
    if sandbox_env:
        env.update({k: v for k, v in sandbox_env.items() if k.startswith("AWS_")})
    if row.endpoint:
        env["AWS_ENDPOINT_URL"] = endpoints[row.endpoint]
    for key, value in row.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(root / value) if key.endswith("_FILE") and "/" not in value else value
    return env


@pytest.mark.parametrize("row", [r.param() for r in ROWS])
def test_bad_input(
    row: Row, tmp_path: Path, monkeypatch, capsys, endpoints, short_timeouts, request
):
    root = tmp_path / "project"
    root.mkdir()
    for name, content in row.files.items():
        if callable(content):
            content(root)
        else:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(content)
    sandbox_env = None
    before_account = None
    if row.sandbox:
        server = request.getfixturevalue("sandbox_server")
        sandbox_env = server.env("us-east-1")
        before_account = account(server)
    env = environment(row, root, endpoints, sandbox_env)
    before = tree(root)
    HITS.clear()

    if row.subprocess:
        proc = subprocess.run(
            [sys.executable, "-m", "wizard", *row.argv],
            env=clean_env(**env),
            cwd=root,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=WATCHDOG_SECONDS,
        )
        code, out, err = proc.returncode, proc.stdout, proc.stderr
    else:
        for key in list(os.environ):
            if key.startswith(("AWS_", "BOTO_")) or key in ("HTTP_PROXY", "HTTPS_PROXY"):
                monkeypatch.delenv(key, raising=False)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        monkeypatch.chdir(root)
        code, out, err = run_in_process(list(row.argv), monkeypatch, capsys)

    # the sandbox labels itself on stderr (a banner, not an error): the one line is the rest
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("SANDBOX:")]
    assert "Traceback" not in err + out and "unexpected error" not in err, err
    assert "ZipInfo" not in err + out and " object at 0x" not in err + out, err + out  # no reprs
    assert len(lines) == 1, err
    says = row.says.format(endpoint=endpoints.get(row.endpoint or "", ""))
    assert says in lines[0], lines[0]
    assert len(lines[0]) < 400, lines[0][:400]
    assert code == row.code, (code, err)
    if row.endpoint:  # a bounded wait: few attempts, each under the short timeouts
        from wizard.aws import PROBE_MAX_ATTEMPTS

        server = {"tls": "text500"}.get(row.endpoint, row.endpoint)
        assert HITS.get(server, 0) <= PROBE_MAX_ATTEMPTS, HITS
    assert tree(root) == before, "the project folder changed"
    if before_account is not None:
        assert account(request.getfixturevalue("sandbox_server")) == before_account


def test_the_table_is_large_and_covers_every_command():
    assert len(ROWS) >= 80
    commands = {r.argv[0] if r.argv and not r.argv[0].startswith("-") else "setup" for r in ROWS}
    assert set(cli.COMMANDS) <= commands | {"deploi"}, set(cli.COMMANDS) - commands
