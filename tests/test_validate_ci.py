""".travis.yml and GitHub workflow rules: each with its rule id and the position to jump to."""

from __future__ import annotations

from wizard.validate.travis import validate_travis_text
from wizard.validate.workflow import validate_workflow_text

GOOD_TRAVIS = """\
language: python
before_deploy:
  - mkdir -p out
  - test -f out/app.zip || zip -qr out/app.zip . -x '.git/*'
deploy:
  - provider: s3
    access_key_id: $AWS_ACCESS_KEY_ID
    secret_access_key:
      secure: "abc=="
    bucket: b
    local_dir: out
    upload_dir: rel
    region: us-east-1
    on:
      branch: main
    edge: true
  - provider: codedeploy
    access_key_id: $AWS_ACCESS_KEY_ID
    secret_access_key: $AWS_SECRET_ACCESS_KEY
    bucket: b
    key: rel/app.zip
    bundle_type: zip
    application: app
    deployment_group: app-group
    region: us-east-1
    wait_until_deployed: true
    on:
      branch: main
    edge: true
"""


def by_rule(findings):
    out: dict[str, list] = {}
    for f in findings:
        out.setdefault(f.rule, []).append(f)
    return out


def test_good_travis_is_clean():
    assert validate_travis_text(GOOD_TRAVIS) == []


def test_on_key_is_not_a_boolean():
    # a YAML 1.1 loader would turn `on:` into True and the schema would reject the entry
    assert "travis.schema" not in by_rule(validate_travis_text(GOOD_TRAVIS))


def test_duplicate_keys_are_flagged():
    text = GOOD_TRAVIS + "language: ruby\n"
    f = by_rule(validate_travis_text(text))["travis.duplicate-key"][0]
    assert (f.line, f.column) == (30, 1) and "line 1" in f.message


def test_plaintext_secrets():
    text = GOOD_TRAVIS.replace(
        "secret_access_key: $AWS_SECRET_ACCESS_KEY", "secret_access_key: s3cr3t"
    )
    f = by_rule(validate_travis_text(text))["travis.plaintext-secret"][0]
    assert (f.line, f.column) == (19, 24) and "travis encrypt" in f.message
    env = "env:\n  global:\n    - AWS_SECRET_ACCESS_KEY=abc\n    - PLAIN=1\n" + GOOD_TRAVIS
    hits = by_rule(validate_travis_text(env))["travis.plaintext-secret"]
    assert [h.line for h in hits] == [3]
    keyid = GOOD_TRAVIS.replace("$AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE", 1)
    assert "travis.plaintext-secret" in by_rule(validate_travis_text(keyid))


def test_v1_forms():
    text = GOOD_TRAVIS.replace(
        "    bundle_type: zip\n", "    bundle-type: zip\n    skip_cleanup: true\n"
    )
    rules = by_rule(validate_travis_text(text))
    assert rules["travis.dashed-key"][0].line == 22
    assert rules["travis.v1-key"][0].severity == "warning"


def test_key_and_bucket_mismatch():
    text = GOOD_TRAVIS.replace("key: rel/app.zip", "key: latest/app.zip")
    f = by_rule(validate_travis_text(text))["travis.key-mismatch"][0]
    assert f.line == 21 and "'rel'" in f.message
    text = GOOD_TRAVIS.replace("key: rel/app.zip", "key: rel/other.zip")
    assert (
        "before_deploy builds 'app.zip'"
        in by_rule(validate_travis_text(text))["travis.key-mismatch"][0].message
    )
    text = GOOD_TRAVIS.replace("    bucket: b\n    key:", "    bucket: c\n    key:")
    assert "travis.bucket-mismatch" in by_rule(validate_travis_text(text))


def test_before_deploy_that_changes_directory():
    text = GOOD_TRAVIS.replace("  - mkdir -p out\n", "  - cd build && mkdir -p out\n")
    f = by_rule(validate_travis_text(text))["travis.before-deploy-cd"][0]
    assert (f.line, f.column) == (3, 5)
    subshell = GOOD_TRAVIS.replace("  - mkdir -p out\n", "  - (cd build && make)\n")
    assert "travis.before-deploy-cd" not in by_rule(validate_travis_text(subshell))
    mk = GOOD_TRAVIS.replace("mkdir -p out", "mkdir out")
    assert "travis.before-deploy-idempotent" in by_rule(validate_travis_text(mk))


def test_order_and_missing_upload():
    s3_block = GOOD_TRAVIS[
        GOOD_TRAVIS.index("  - provider: s3") : GOOD_TRAVIS.index("  - provider: codedeploy")
    ]
    swapped = GOOD_TRAVIS.replace(s3_block, "") + s3_block
    assert "travis.deploy-order" in by_rule(validate_travis_text(swapped))
    alone = GOOD_TRAVIS.replace(s3_block, "")
    f = by_rule(validate_travis_text(alone))["travis.no-upload"][0]
    assert f.severity == "warning"


def test_schema_errors_point_at_the_key():
    text = GOOD_TRAVIS.replace(
        "    wait_until_deployed: true\n", "    wait_until_deployed: true\n    colour: red\n"
    )
    f = by_rule(validate_travis_text(text))["travis.schema"][0]
    assert (f.line, f.column) == (27, 5) and "'colour'" in f.message


def test_yaml_errors_and_empty():
    assert [f.rule for f in validate_travis_text("deploy: [\n")] == ["travis.yaml"]
    assert [f.rule for f in validate_travis_text("")] == ["travis.empty"]


GOOD_WF = """\
name: deploy
on:
  push:
    branches: [main]
permissions:
  id-token: write
  contents: read
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v7
      - uses: aws-actions/configure-aws-credentials@v6
        with:
          role-to-assume: arn:aws:iam::123456789012:role/x
          aws-region: us-east-1
"""


def test_good_workflow_is_clean():
    assert validate_workflow_text(GOOD_WF) == []


def test_oidc_needs_id_token_permission():
    text = GOOD_WF.replace("permissions:\n  id-token: write\n  contents: read\n", "")
    f = by_rule(validate_workflow_text(text))["workflow.oidc-permissions"][0]
    assert (f.line, f.column) == (6, 3) and "id-token: write" in f.message
    read_only = GOOD_WF.replace("id-token: write", "id-token: read")
    assert "workflow.oidc-permissions" in by_rule(validate_workflow_text(read_only))
    job_level = text.replace(
        "    runs-on: ubuntu-latest\n",
        "    runs-on: ubuntu-latest\n"
        "    permissions:\n      id-token: write\n      contents: read\n",
    )
    assert validate_workflow_text(job_level) == []
    no_contents = GOOD_WF.replace("  contents: read\n", "")
    assert by_rule(validate_workflow_text(no_contents))["workflow.permissions-contents"][
        0
    ].severity == ("warning")


def test_static_and_plaintext_keys():
    text = GOOD_WF.replace(
        "          role-to-assume: arn:aws:iam::123456789012:role/x\n",
        "          aws-access-key-id: ${{ secrets.KEY }}\n"
        "          aws-secret-access-key: ${{ secrets.SECRET }}\n",
    )
    assert by_rule(validate_workflow_text(text))["workflow.static-keys"][0].severity == "warning"
    plain = text.replace("${{ secrets.KEY }}", "AKIAIOSFODNN7EXAMPLE")
    assert "workflow.plaintext-secret" in by_rule(validate_workflow_text(plain))


def test_workflow_schema_errors():
    text = GOOD_WF.replace(
        "    runs-on: ubuntu-latest\n", "    runs-on: ubuntu-latest\n    colour: red\n"
    )
    f = by_rule(validate_workflow_text(text))["workflow.schema"][0]
    assert (f.line, f.column) == (11, 5)


def test_every_rule_id_in_the_sources_is_catalogued():
    import re
    from pathlib import Path

    from wizard.validate.rules import RULES

    src = Path(__file__).resolve().parents[1] / "wizard" / "validate"
    found = set()
    for path in src.glob("*.py"):
        text = path.read_text()
        found |= set(re.findall(r'"((?:appspec|travis|workflow|bundle|validate)\.[a-z-]+)"', text))
        for prefix in ("appspec", "travis", "workflow"):
            for suffix in re.findall(r'f"\{prefix\}\.([a-z-]+)"', text):
                found.add(f"{prefix}.{suffix}")
        for name in ("except", "type", "owner", "group"):
            found.add(f"appspec.permissions-{name}")
    found -= {"appspec.yml", "appspec.json", "workflow.yml"}  # file names, not rules
    assert found - set(RULES) == set()


def test_rules_apply_inside_stages():
    text = """\
language: python
before_deploy: cd dist
jobs:
  include:
    - stage: deploy
      deploy:
        - provider: codedeploy
          application: a
          bucket: b
          key: k.zip
        - provider: s3
          bucket: b
          local_dir: out
"""
    rules = by_rule(validate_travis_text(text))
    assert rules["travis.before-deploy-cd"][0].line == 2
    assert rules["travis.deploy-order"][0].line == 11


def test_removed_node_runtimes_are_warned_about():
    LINE = GOOD_WF.splitlines().index("      - uses: actions/checkout@v7") + 1
    old = GOOD_WF.replace("checkout@v7", "checkout@v4").replace("credentials@v6", "credentials@v5")
    found = by_rule(validate_workflow_text(old))["workflow.node-runtime"]
    assert [(f.line, f.column, f.severity) for f in found] == [
        (LINE, 15, "warning"),
        (LINE + 1, 15, "warning"),
    ]
    assert "Node 20" in found[0].message and "actions/checkout@v7" in found[0].message
    sha = old.replace("checkout@v4", "checkout@11bd71901bbe5b1630ceea73d27597364c9af683")
    msg = by_rule(validate_workflow_text(sha))["workflow.node-runtime"][0].message
    assert "(v4.2.2)" in msg
    legacy = GOOD_WF.replace("checkout@v7", "setup-python@v4")
    assert "Node 16" in by_rule(validate_workflow_text(legacy))["workflow.node-runtime"][0].message


PAGES = """\
language: ruby
script: bundle exec jekyll build
deploy:
  - provider: pages
    github_token: $GITHUB_TOKEN
    github_url: github.example.com
    local_dir: _site
    on:
      branch: main
"""


def test_travis_schema_aliases_are_honoured():
    """travis-yml's schema names `github_token` an alias of pages' `token` (Travis accepts it)."""
    assert validate_travis_text(PAGES) == []
    typo = PAGES.replace("github_token", "github_tokn")
    assert "travis.schema" in by_rule(validate_travis_text(typo))
