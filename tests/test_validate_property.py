"""Property tests: whatever text or bytes the validators get, they return findings, never raise."""

from __future__ import annotations

import zipfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wizard.validate.appspec import validate_appspec_text
from wizard.validate.bundle import validate_bundle
from wizard.validate.dispatch import validate_text
from wizard.validate.model import Finding
from wizard.validate.rules import RULES

KEYS = st.sampled_from(
    [
        "version", "os", "files", "hooks", "permissions", "file_exists_behavior", "source",
        "destination", "location", "timeout", "runas", "mode", "acls", "context", "object",
        "Resources", "ApplicationStart", "Install", "deploy", "provider", "on", "jobs", "steps",
        "permissions", "uses", "with", "role-to-assume", "key", "bucket", "before_deploy",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5000, 5000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["0.0", "0644", "linux", "windows", "/", "/*", "C:\\x", "u::rwx", "$X"]),
)
DOCS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(KEYS, st.text(max_size=8)), children, max_size=5),
    ),
    max_leaves=25,
)
KINDS = ("appspec", "travis", "workflow")


def _check(findings: list[Finding]) -> None:
    for f in findings:
        assert isinstance(f, Finding)
        assert f.severity in ("error", "warning")
        assert f.line >= 1 and f.column >= 1
        assert isinstance(f.message, str) and f.rule in RULES, f.rule
        # the validators' last-resort guard must not be what kept them from raising
        assert "could not be checked" not in f.message, f


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCS)
def test_structured_yaml_never_raises(doc):
    text = yaml.safe_dump(doc, allow_unicode=True)
    res = validate_appspec_text(text)
    _check(res.findings)
    assert res.platform in ("server", "ecs", "lambda", "unknown")
    for kind in KINDS[1:]:
        _check(validate_text(text, kind))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_raises(text):
    _check(validate_appspec_text(text).findings)
    for kind in KINDS[1:]:
        _check(validate_text(text, kind))


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data):
    text = data.decode("utf-8", errors="surrogateescape")
    for kind in KINDS:
        _check(validate_text(text, kind))


YAMLISH = st.lists(
    st.sampled_from(
        [
            "version: 0.0", "os: linux", "files:", "  - source: /", "    destination: /x",
            "hooks:", "  ApplicationStart:", "    - location: a.sh", "      timeout: 5",
            "  - &a [*a]", "<<: *a", "x: &a {<<: *a}", "- ", ":", "? [a, b]", "  : c", "!!binary a",
            "!!python/object:os.system x", "\t- tab", "'unclosed", "{a: 1, a: 2}", "---", "...",
            "on: push", "deploy:", "  provider: s3", "jobs:", "  a: {steps: [{uses: x}]}",
            "d: 2001-13-45", "t: 12:30:45", "n: .inf", "z: 0x1F", "\u200bkey: v", "\ufeffk: v",
        ]
    ),
    max_size=14,
)  # fmt: skip


@settings(max_examples=250, deadline=None)
@given(YAMLISH)
def test_yaml_fragments_never_raise(lines):
    text = "\n".join(lines) + "\n"
    _check(validate_appspec_text(text).findings)
    for kind in KINDS[1:]:
        _check(validate_text(text, kind))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=200), st.text(max_size=200))
def test_bundles_never_raise(tmp_path: Path, junk: bytes, appspec: str):
    raw = tmp_path / "junk.zip"
    raw.write_bytes(junk)
    _check(validate_bundle(raw).findings)
    archive = tmp_path / "b.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("appspec.yml", appspec)
    _check(validate_bundle(archive).findings)


def test_alias_bomb_is_refused_quickly():
    rows = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 9):
        rows.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    text = "\n".join([*rows, "deploy: *a8", "jobs: *a8", "version: 0.0", "os: linux", ""])
    for kind in KINDS:
        findings = validate_text(text, kind)
        _check(findings)
    assert any("expands to more than" in f.message for f in validate_text(text, "travis"))
