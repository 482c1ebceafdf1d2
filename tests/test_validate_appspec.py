"""The appspec validator: every rule of reference §4 with rule id and position; the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED
from wizard.validate.appspec import validate_appspec_text
from wizard.validate.rules import RULES

CORPUS = SHARED / "corpus" / "appspec"

GOOD = """\
version: 0.0
os: linux
files:
  - source: /
    destination: /var/www/app
file_exists_behavior: OVERWRITE
permissions:
  - object: /var/www/app
    pattern: "**"
    except: [cache]
    type: [file, directory]
    owner: web
    group: web
    mode: 644
    acls: [u:deploy:rwx, d:g:web:r-x]
    context: {name: unconfined_u, type: httpd_sys_content_t, range: s0}
hooks:
  ApplicationStop:
    - location: scripts/stop.sh
      timeout: 60
  ApplicationStart:
    - location: scripts/start.sh
      timeout: 300
      runas: web
"""


def rules(text: str, severity: str | None = None) -> set[str]:
    res = validate_appspec_text(text)
    return {f.rule for f in res.findings if severity is None or f.severity == severity}


def find(text: str, rule: str):
    res = validate_appspec_text(text)
    hits = [f for f in res.findings if f.rule == rule]
    assert hits, f"expected {rule} in {res.findings}"
    return hits[0]


def test_good_appspec_is_clean():
    res = validate_appspec_text(GOOD)
    assert res.platform == "server"
    assert res.ok
    assert res.findings == []
    assert res.data["version"] == 0.0
    assert res.data["hooks"]["ApplicationStart"][0]["runas"] == "web"


def test_version_zero_integer_accepted_string_rejected():
    assert validate_appspec_text("version: 0\nos: linux\n").ok
    f = find('version: "0.0"\nos: linux\n', "appspec.version")
    assert (f.line, f.column, f.severity) == (1, 10, "error")
    assert "remove the quotes" in f.message
    assert "appspec.version" in rules("version: 1.0\nos: linux\n", "error")
    assert "appspec.version" in rules("os: linux\nfiles: []\n", "error")
    assert "appspec.version" in rules("version: true\nos: linux\n", "error")


def test_os_rules():
    f = find("version: 0.0\nos: ubuntu\n", "appspec.os")
    assert (f.line, f.column) == (2, 5)
    assert "linux" in f.message
    assert "lower case" in find("version: 0.0\nos: Linux\n", "appspec.os").message
    assert "appspec.os" in rules("version: 0.0\nfiles: []\n", "error")


def test_empty_and_comment_only_files():
    assert rules("") == {"appspec.empty"}
    assert rules("# nothing\n\n") == {"appspec.empty"}
    assert not validate_appspec_text("   \n").ok


def test_yaml_syntax_error_has_position():
    f = find(
        "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n  - location: a\n bad: [\n",
        "appspec.yaml",
    )
    assert f.severity == "error" and f.line >= 5
    tab = find("version: 0.0\nos: linux\nfiles:\n\t- source: /\n", "appspec.yaml")
    assert "tab" in tab.message


def test_duplicate_keys_detected_with_both_lines():
    text = (
        "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: a.sh\n"
        "  ApplicationStart:\n    - location: b.sh\n"
    )
    f = find(text, "appspec.duplicate-key")
    assert (f.line, f.column) == (6, 3)
    assert "line 4" in f.message


def test_misspelt_hook_names_flagged_with_suggestion():
    text = "version: 0.0\nos: linux\nhooks:\n  ApplicatiionStart:\n    - location: a.sh\n"
    f = find(text, "appspec.hook-unknown")
    assert (f.line, f.column, f.severity) == (4, 3, "error")
    assert "'ApplicationStart'" in f.message
    assert (
        "'BeforeInstall'"
        in find(
            "version: 0.0\nos: linux\nhooks:\n  Before Install:\n    - location: a.sh\n",
            "appspec.hook-unknown",
        ).message
    )


@pytest.mark.parametrize("event", ["DownloadBundle", "Install", "BlockTraffic", "AllowTraffic"])
def test_agent_events_take_no_scripts(event):
    text = f"version: 0.0\nos: linux\nhooks:\n  {event}:\n    - location: a.sh\n"
    assert "appspec.hook-no-scripts" in rules(text, "error")


def test_hook_dedented_to_top_level_and_capitalised_keys():
    text = (
        "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: a.sh\n"
        "ApplicationStart:\n  - location: b.sh\n"
    )
    f = find(text, "appspec.unknown-key")
    assert f.line == 6 and f.severity == "error" and "indent it under" in f.message
    assert "'hooks'" in find("version: 0.0\nos: linux\nHooks: {}\n", "appspec.unknown-key").message
    w = find("version: 0.0\nos: linux\nowner: me\n", "appspec.unknown-key")
    assert w.severity == "warning"


def test_hook_location_rules():
    base = "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: {}\n"
    assert "appspec.hook-location" in rules(base.format("/scripts/a.sh"), "warning")
    assert "appspec.hook-location" not in rules(base.format("/scripts/a.sh"), "error")
    assert "appspec.hook-location" in rules(base.format("''"), "error")
    assert "appspec.hook-location" in rules(base.format("../a.sh"), "error")
    assert "appspec.hook-location" in rules(
        "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - timeout: 5\n", "error"
    )
    assert rules(base.format("scripts/a.sh")) == set()


def test_timeouts():
    base = "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n{}"
    one = "    - location: a.sh\n      timeout: {}\n"
    assert "appspec.timeout" in rules(base.format(one.format(0)), "error")
    # script_info.rb: `(timeout || 3600).to_i` — text that reads as a whole number is fine
    assert rules(base.format(one.format("'30'"))) == set()
    assert "appspec.timeout" in rules(base.format(one.format(3601)), "error")
    assert "appspec.timeout" in rules(base.format(one.format("1.5")), "warning")
    assert "appspec.timeout" not in rules(base.format(one.format("1.5")), "error")
    two = base.format(one.format(2000) + one.format(2000))
    f = find(two, "appspec.timeout-total")
    assert f.line == 4 and "4000" in f.message and "agent accepts" in f.message
    assert validate_appspec_text(base.format(one.format(1800) + one.format(1800))).ok


def test_windows_rules_runas_and_permissions():
    text = (
        "version: 0.0\nos: windows\nfiles:\n  - source: app\n    destination: C:\\app\n"
        "permissions:\n  - object: C:\\app\n    owner: x\n"
        "hooks:\n  AfterInstall:\n    - location: s.bat\n      runas: Administrator\n"
    )
    res = validate_appspec_text(text)
    by_rule = {f.rule: f for f in res.findings}
    assert by_rule["appspec.permissions-windows"].severity == "error"
    assert by_rule["appspec.runas-windows"].severity == "warning"
    assert by_rule["appspec.runas-windows"].line == 12


def test_files_rules():
    base = "version: 0.0\nos: linux\nfiles:\n{}"
    assert "appspec.files-destination" in rules(
        base.format("  - source: /\n    destination: var/www\n"), "error"
    )
    f = find(base.format("  - source: /\n    destination: C:\\www\n"), "appspec.files-destination")
    assert "Windows path" in f.message
    assert "appspec.files-source" in rules(base.format("  - destination: /x\n"), "error")
    assert "appspec.files-source" in rules(base.format("  - source: /*\n    destination: /x\n"))
    dup = base.format(
        "  - source: a/app.conf\n    destination: /etc\n"
        "  - source: b/app.conf\n    destination: /etc/\n"
    )
    f = find(dup, "appspec.files-duplicate")
    assert f.line == 6 and "/etc/app.conf" in f.message
    same = base.format("  - source: /\n    destination: /x\n  - source: .\n    destination: /x\n")
    assert "appspec.files-duplicate" in rules(same, "error")
    shared_folder = base.format(
        "  - source: a.conf\n    destination: /etc\n  - source: b.conf\n    destination: /etc\n"
    )
    assert validate_appspec_text(shared_folder).ok
    w = find(
        base.format("  - source: /\n    destination: /x\n    overwrite: true\n"),
        "appspec.files-unknown-key",
    )
    assert w.severity == "warning" and "file_exists_behavior" in w.message


def test_file_exists_behavior_values():
    assert validate_appspec_text("version: 0.0\nos: linux\nfile_exists_behavior: RETAIN\n").ok
    f = find(
        "version: 0.0\nos: linux\nfile_exists_behavior: overwrite\n", "appspec.file-exists-behavior"
    )
    assert "OVERWRITE" in f.message


def test_mode_octal_trap_and_bad_modes():
    base = "version: 0.0\nos: linux\npermissions:\n  - object: /x\n    mode: {}\n"
    f = find(base.format("0644"), "appspec.mode")
    assert (f.line, f.column) == (5, 11)
    assert "420" in f.message and "644" in f.message
    assert "appspec.mode" in rules(base.format("888"), "error")
    assert "appspec.mode" in rules(base.format("77777"), "error")
    assert "appspec.mode" not in rules(base.format("755"))
    assert "appspec.mode" not in rules(base.format('"0644"'))


def test_acls_and_context():
    base = "version: 0.0\nos: linux\npermissions:\n  - object: /x\n    {}\n"
    assert "appspec.acls" in rules(base.format("acls: ['u::rwx']"), "error")
    # ace_info.rb: two parts name a user (`deploy:rwx` is user deploy)
    assert "appspec.acls" not in rules(base.format("acls: ['deploy:rwx']"))
    assert "appspec.acls" not in rules(base.format("acls: ['u:deploy:rwx', 'd:g:web:r-x']"))
    f = find(base.format("acls: ['m:bob:rwx', 'o:bob:r']"), "appspec.acls")
    assert (f.line, f.column, f.agent) == (5, 12, "rejects") and "mask" in f.message
    assert "appspec.context" in rules(base.format("context: {name: u}"), "error")
    # context_info.rb: name is optional (a warning), type is required
    ok = base.format("context: {type: httpd_sys_content_t, range: s0}")
    assert validate_appspec_text(ok).ok and "appspec.context" in rules(ok, "warning")
    assert "appspec.permissions-object" in rules(
        "version: 0.0\nos: linux\npermissions:\n  - owner: x\n", "error"
    )
    assert "appspec.permissions-type" in rules(base.format("type: [files]"), "error")


def test_crlf_and_invisible_characters():
    crlf = GOOD.replace("\n", "\r\n")
    res = validate_appspec_text(crlf)
    assert {f.rule for f in res.findings} == {"appspec.crlf"}
    assert res.ok  # a warning only: YAML reads CRLF
    nbsp = "version: 0.0\nos:\u00a0linux\n"
    f = find(nbsp, "appspec.invisible-char")
    assert (f.line, f.column, f.severity) == (2, 4, "error")
    assert "appspec.invisible-char" not in rules("version: 0.0\nos: linux # \u200b\n")


def test_ecs_and_lambda_are_another_platform_not_failures():
    ecs = (
        "version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n"
        "      Properties:\n        TaskDefinition: arn\n"
    )
    res = validate_appspec_text(ecs)
    assert res.platform == "ecs" and res.ok
    assert [f.rule for f in res.findings] == ["appspec.platform"]
    lam = "version: 0.0\nResources:\n  - fn:\n      Type: AWS::Lambda::Function\n"
    assert validate_appspec_text(lam).platform == "lambda"
    sam = (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
    )
    res = validate_appspec_text(sam)
    assert res.platform == "unknown" and not res.ok


def test_json_appspec_with_tabs_is_read():
    text = (
        '{\n\t"version": 0.0,\n\t"os": "linux",\n'
        '\t"files": [{"source": "/", "destination": "/x"}]\n}\n'
    )
    res = validate_appspec_text(text)
    assert res.ok, res.findings
    assert res.platform == "server"


def test_top_level_not_a_mapping():
    assert "appspec.structure" in rules("- a\n- b\n")
    assert "appspec.structure" in rules("just text\n")


def test_anchors_aliases_and_recursion_do_not_crash():
    text = "version: 0.0\nos: linux\nx: &a [*a]\n"
    validate_appspec_text(text)
    merged = (
        "version: 0.0\nos: linux\nhooks:\n  ApplicationStart: &s\n    - location: a.sh\n"
        "  AfterInstall: *s\n"
    )
    res = validate_appspec_text(merged)
    # Psych 4 (Ruby 3.1+) `YAML.load` refuses aliases: the agent fails on this file
    f = find(merged, "appspec.alias")
    assert not res.ok and (f.line, f.column, f.agent) == (6, 17, "rejects")
    assert "Unknown alias: s" in f.message


def test_every_finding_says_how_the_agent_takes_it():
    for text in (GOOD, "version: 1\nos: x\n", "version: 0.0\nos: linux\nHooks: {}\n"):
        for f in validate_appspec_text(text).findings:
            assert f.agent in ("rejects", "accepts")
            if f.severity == "error" and f.agent == "accepts":
                assert "agent accepts" in f.message


def test_result_positions_name_the_node():
    res = validate_appspec_text(GOOD)
    assert res.position("files", 0, "destination") == (5, 18)
    assert res.position("hooks", "ApplicationStart", 0, "location") == (22, 17)
    assert res.position("nothing") == (1, 1)


# ------------------------------------------------------------------------- the public corpus
# Expected verdict per file: (platform, ok, error rule ids that must be among the findings).
# Looked at by hand: a leading separator in a hook location (`/scripts/x.sh`, `\x.bat`) is a
# warning (the agent joins the location to the bundle folder, so it still works); `overwrite:`
# under files is a warning (ignored key); YAML syntax errors are errors.
CORPUS_VERDICTS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "001.yml": ("server", False, ("appspec.unknown-key",)),  # hooks dedented to top level
    "002.yml": ("lambda", True, ()),
    "003.yml": ("server", False, ("appspec.files-source",)),  # `/*` is not a glob
    "004.yml": ("server", True, ()),
    "005.yml": ("server", True, ()),
    "006.yml": ("server", True, ()),
    "007.yaml": ("server", False, ("appspec.files-destination",)),
    "008.yml": ("server", True, ()),
    "009.yml": ("server", True, ()),
    "010.yml": ("server", True, ()),
    "011.yml": ("server", True, ()),
    "012.yml": ("server", True, ()),
    "013.yml": ("server", True, ()),
    "014.yml": ("server", True, ()),
    "015.yml": ("server", True, ()),
    "016.yml": ("server", True, ()),
    "017.yml": ("server", True, ()),
    "018.yml": ("server", True, ()),
    "019.yml": ("server", True, ()),
    "020.yml": ("unknown", False, ("appspec.yaml",)),  # ` files:` indented by one space
    "021.yml": ("server", True, ()),
    "022.yml": ("server", True, ()),
    "023.yml": ("server", True, ()),
    "024.yml": ("unknown", False, ("appspec.not-appspec",)),  # a create-deployment request
    "025.yml": ("lambda", True, ()),
    "026.json": ("ecs", False, ("appspec.platform",)),  # files mixed with ECS Resources
    "027.json": ("lambda", True, ()),
    "028.yml": ("server", True, ()),
    "029.yml": ("server", True, ()),
    "030.yml": ("server", True, ()),
    "031.yaml": ("unknown", False, ("appspec.yaml",)),  # a SAM template with a `//` line
    "032.yaml": ("ecs", True, ()),  # CRLF: warning only
    "033.yaml": ("ecs", True, ()),
    "034.yml": ("server", True, ()),
    "035.yml": ("server", True, ()),
    "036.yml": ("server", False, ("appspec.unknown-key",)),  # stray backslash dedents a hook
    "037.yml": ("server", True, ()),
    "038.yml": ("server", True, ()),
    "039.yml": ("server", True, ()),
    "040.yml": ("server", True, ()),
    "041.yml": ("server", True, ()),
    "042.yml": ("server", True, ()),
    "043.yml": ("server", True, ()),
    "044.yml": ("lambda", True, ()),
    "045.yml": ("server", True, ()),
    "046.yml": ("server", True, ()),
    "047.yml": ("server", True, ()),
    "048.yml": ("server", True, ()),
    "049.yml": ("server", False, ("appspec.hook-unknown",)),  # "Before Install"
    "050.yml": ("server", True, ()),
    "051.yml": ("server", True, ()),
    "052.yml": ("ecs", True, ()),
    "053.yml": ("server", True, ()),
    "054.yml": ("server", False, ("appspec.os",)),  # os: ubuntu
    "055.yml": ("server", True, ()),
    "056.yml": ("server", True, ()),
    "057.yml": ("server", True, ()),
    "058.yml": ("server", False, ("appspec.hook-unknown", "appspec.unknown-key")),
    "059.yml": ("server", True, ()),
    "060.yml": ("server", True, ()),
    "061.yml": ("server", True, ()),
    "062.yml": ("server", True, ()),
    "063.yml": ("server", True, ()),
    "064.yml": ("server", True, ()),
    "065.yml": ("server", True, ()),
    "066.yml": ("server", True, ()),
    "067.yml": ("server", True, ()),
    "068.yml": ("server", True, ()),
    "069.yml": ("server", False, ("appspec.hook-no-scripts",)),  # Install takes no scripts
    "070.yml": ("server", False, ("appspec.files-source", "appspec.hook-unknown")),
    "071.yml": ("server", False, ("appspec.files-source",)),
    "072.yml": ("server", True, ()),
    "073.yml": ("server", True, ()),
    "074.yml": ("server", False, ("appspec.files-destination", "appspec.files-source")),
    "075.yml": ("server", True, ()),
    "076.yaml": ("server", True, ()),
    "077.yaml": ("unknown", False, ("appspec.yaml",)),  # BeforeInstall over-indented
    "078.yaml": ("ecs", True, ()),
    "079.yaml": ("server", True, ()),
    "080.yml": ("server", True, ()),
    "081.yml": ("server", False, ("appspec.unknown-key",)),  # Files:, Hooks:
    "082.yml": ("server", True, ()),
    "083.yml": ("server", True, ()),
    "084.yml": ("server", True, ()),
    "085.yml": ("server", True, ()),
    "086.yml": ("server", True, ()),
    "087.yml": ("server", True, ()),
    "088.yml": ("server", True, ()),
    "089.yml": ("server", True, ()),
    "090.yml": ("server", True, ()),
    "091.yml": ("server", False, ("appspec.version",)),  # version: 1.1
    "092.yml": ("server", True, ()),
    "093.yml": ("server", True, ()),
    "094.yml": ("server", True, ()),
    "095.json": ("unknown", False, ("appspec.not-appspec",)),  # a MoveApps manifest
    "096.json": ("ecs", False, ("appspec.version",)),  # no version at all
    "097.yml": ("server", True, ()),
    "098.yml": ("server", False, ("appspec.mode",)),  # mode: 0644
    "099.yml": ("server", True, ()),
    "100.yml": ("server", True, ()),
    "101.yml": ("unknown", False, ("appspec.yaml",)),  # `version 0.0` without a colon
    "102.yml": ("server", True, ()),
    "103.yml": ("server", False, ("appspec.os",)),
    "104.yml": ("server", True, ()),
    "105.yml": ("server", True, ()),  # a command as location: warning
    "106.yml": (
        "server",
        False,
        ("appspec.duplicate-key", "appspec.files-destination", "appspec.unknown-key"),
    ),
    "107.yml": ("ecs", True, ()),
}


def _corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(p for p in CORPUS.iterdir() if p.suffix in (".yml", ".yaml", ".json"))


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared appspec corpus is not present")
def test_corpus_verdicts():
    """The public corpus (an extra beside the clone): one test over every file, so that a
    clone without it skips once; every rule it exercises also has a fixture in this repo."""
    names = {p.name for p in _corpus_files()}
    assert names == set(CORPUS_VERDICTS), names ^ set(CORPUS_VERDICTS)
    wrong = []
    for name in sorted(CORPUS_VERDICTS):
        text = (CORPUS / name).read_bytes().decode("utf-8", errors="replace")
        res = validate_appspec_text(text, path=name)
        platform, ok, must = CORPUS_VERDICTS[name]
        errors = {f.rule for f in res.findings if f.severity == "error"}
        if (res.platform, res.ok) != (platform, ok) or not set(must) <= errors:
            wrong.append((name, res.platform, res.ok, sorted(errors)))
        for f in res.findings:
            assert f.line >= 1 and f.column >= 1, (name, f)
            assert f.severity in ("error", "warning"), (name, f)
            assert f.rule in RULES, (name, f)
    assert wrong == []


def test_backslash_location_on_linux():
    text = "version: 0.0\nos: linux\nhooks:\n  AfterInstall:\n    - location: scripts\\a.sh\n"
    f = find(text, "appspec.hook-location")
    assert "'scripts/a.sh'" in f.message
    assert validate_appspec_text(text.replace("linux", "windows")).ok


def test_appspec_validator_imports_nothing_heavy():
    """The sandbox's simulated agent imports it: only PyYAML and the standard library."""
    import subprocess
    import sys

    code = (
        "import sys, wizard.validate.appspec\n"
        "heavy = {'jsonschema', 'ruamel', 'boto3', 'botocore', 'textual', 'moto'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
