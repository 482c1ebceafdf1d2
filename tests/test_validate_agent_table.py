"""Differential table: `wizard validate` against the CodeDeploy agent, rule by rule.

One small appspec per rule of the agent's parser (aws/aws-codedeploy-agent 1.8.x,
lib/instance_agent/plugins/codedeploy/…; the `source` column names the file), written for this
project from reading that code and its tests (test/instance_agent/plugins/codedeploy/
application_specification_test.rb), with the agent's verdict and the words of its message (or,
when it accepts, what happens). Each row asserts our verdict:

- agent rejects → an error with that rule, marked `agent == "rejects"`, carrying the agent's words;
- agent accepts → nothing marked "rejects"; `ours` says whether we stay silent, warn (something
  happens silently) or, stricter by design, error with a message saying the agent accepts the file.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from wizard.validate.appspec import ace_problem, range_problem, validate_appspec_text
from wizard.validate.model import ACCEPTS, REJECTS

HEAD = "version: 0.0\nos: linux\n"
SPEC = "application_specification/application_specification.rb"
ACE = "application_specification/ace_info.rb"
CTX = "application_specification/context_info.rb"
RANGE = "application_specification/range_info.rb"
MODE = "application_specification/mode_info.rb"
SCRIPT = "application_specification/script_info.rb"
FILE = "application_specification/file_info.rb"
PERM = "application_specification/linux_permission_info.rb"
INSTALL = "install_instruction.rb"
INSTALLER = "installer.rb"
LINUX = "platform/linux_util.rb"
HOOKS = "hook_executor.rb"
PSYCH = "Psych 4 YAML.load (safe_load) on Ruby 3.1+"
DESIGN = "stricter by design"


@dataclass(frozen=True)
class Row:
    name: str
    source: str  # the agent file the rule comes from
    text: str  # the appspec (HEAD is prepended unless the text starts with "!")
    agent: str  # "rejects" (the deployment fails) | "accepts"
    says: str  # the agent's words (rejects), or what happens (accepts, "" when nothing)
    rule: str  # our rule id ("" when we say nothing)
    ours: str  # "error" | "warning" | "none"

    @property
    def appspec(self) -> str:
        return self.text[1:] if self.text.startswith("!") else HEAD + self.text


def perm(body: str) -> str:
    return "permissions:\n  - object: /var/www\n" + body


def acl(entry: str) -> str:
    return perm(f"    acls: ['{entry}']\n")


def ctx(body: str) -> str:
    return perm(f"    context: {{{body}}}\n")


def hook(body: str) -> str:
    return "hooks:\n  ApplicationStart:\n    - location: scripts/start.sh\n" + body


R, A = REJECTS, ACCEPTS
TABLE: list[Row] = [
    # ---- the document (application_specification.rb, initialize / parse_version / parse_os)
    Row("empty file", SPEC, "!", R, "was empty", "appspec.empty", "error"),
    Row("comments only", SPEC, "!# nothing\n", R, "was empty", "appspec.empty", "error"),
    Row("null document", SPEC, "!---\n", R, "was empty", "appspec.empty", "error"),
    Row("a list", SPEC, "!- a\n", R, "cannot read its version", "appspec.structure", "error"),
    Row("no version", SPEC, "!os: linux\n", R, "invalid version value ()", "appspec.version",
        "error"),
    Row("version as text", SPEC, '!version: "0.0"\nos: linux\n', R, "invalid version value",
        "appspec.version", "error"),
    Row("version 1.0", SPEC, "!version: 1.0\nos: linux\n", R, "invalid version value",
        "appspec.version", "error"),
    Row("version 0 (Ruby 0 == 0.0)", SPEC, "!version: 0\nos: linux\n", A, "", "", "none"),
    Row("no os", SPEC, "!version: 0.0\n", R, "unsupported operating system ()", "appspec.os",
        "error"),
    Row("os Linux", SPEC, "!version: 0.0\nos: Linux\n", R, "unsupported operating system",
        "appspec.os", "error"),
    Row("os ubuntu", SPEC, "!version: 0.0\nos: ubuntu\n", R, "unsupported operating system",
        "appspec.os", "error"),
    Row("os windows", SPEC, "!version: 0.0\nos: windows\n", A, "", "", "none"),
    Row("file_exists_behavior lower case", SPEC, "file_exists_behavior: overwrite\n", R,
        "invalid file_exists_behavior value", "appspec.file-exists-behavior", "error"),
    Row("file_exists_behavior RETAIN", SPEC, "file_exists_behavior: RETAIN\n", A, "", "", "none"),
    Row("file_exists_behavior empty", SPEC, "file_exists_behavior:\n", A, "", "", "none"),
    Row("unknown top-level key", SPEC, "notes: hello\n", A, "ignored", "appspec.unknown-key",
        "warning"),
    Row("Hooks capitalised", DESIGN, "Hooks:\n  ApplicationStart:\n    - location: a.sh\n", A,
        "ignores it", "appspec.unknown-key", "error"),
    Row("hook dedented to the top level", DESIGN, "ApplicationStart:\n  - location: a.sh\n", A,
        "scripts never run", "appspec.unknown-key", "error"),
    # ---- hooks (parse_hooks, script_info.rb, linux_util.rb prepare_script_command)
    Row("hooks as a list", SPEC, "hooks:\n  - ApplicationStart\n", R, "each_pair",
        "appspec.hooks", "error"),
    Row("hooks empty", SPEC, "hooks:\n", A, "", "", "none"),
    Row("event without scripts", SPEC, "hooks:\n  ApplicationStart:\n", A, "skips",
        "appspec.hook-empty", "warning"),
    Row("scripts as a mapping", SPEC, "hooks:\n  ApplicationStart:\n    location: a.sh\n", R,
        "fails reading", "appspec.hook-scripts", "error"),
    Row("script as plain text", SPEC, "hooks:\n  ApplicationStart:\n    - scripts/a.sh\n", R,
        "fails reading", "appspec.hook-scripts", "error"),
    Row("script without location", SPEC, "hooks:\n  ApplicationStart:\n    - timeout: 5\n", R,
        "no location value", "appspec.hook-location", "error"),
    Row("location empty", SPEC, "hooks:\n  ApplicationStart:\n    - location:\n", R,
        "no location value", "appspec.hook-location", "error"),
    Row("location blank", SCRIPT, "hooks:\n  ApplicationStart:\n    - location: '  '\n", R,
        "no location value", "appspec.hook-location", "error"),
    Row("location with a leading slash", HOOKS,
        "hooks:\n  ApplicationStart:\n    - location: /scripts/a.sh\n", A, "relative to the bundle",
        "appspec.hook-location", "warning"),
    Row("location outside the bundle", DESIGN,
        "hooks:\n  ApplicationStart:\n    - location: ../a.sh\n", A, "leaves the bundle",
        "appspec.hook-location", "error"),
    Row("timeout not a number", SCRIPT, hook("      timeout: abc\n"), R, "invalid timeout value",
        "appspec.timeout", "error"),
    Row("timeout 0", SCRIPT, hook("      timeout: 0\n"), R, "invalid timeout value",
        "appspec.timeout", "error"),
    Row("timeout negative", SCRIPT, hook("      timeout: -5\n"), R, "invalid timeout value",
        "appspec.timeout", "error"),
    Row("timeout 0.5 (to_i is 0)", SCRIPT, hook("      timeout: 0.5\n"), R,
        "invalid timeout value", "appspec.timeout", "error"),
    Row("timeout true", SCRIPT, hook("      timeout: true\n"), R, "to_i", "appspec.timeout",
        "error"),
    Row("timeout as text '30'", SCRIPT, hook("      timeout: '30'\n"), A, "", "", "none"),
    Row("timeout 1.5 (to_i is 1)", SCRIPT, hook("      timeout: 1.5\n"), A, "as 1 s",
        "appspec.timeout", "warning"),
    Row("timeout '5m' (to_i is 5)", SCRIPT, hook("      timeout: 5m\n"), A, "as 5 s",
        "appspec.timeout", "warning"),
    Row("timeout empty", SCRIPT, hook("      timeout:\n"), A, "3600", "appspec.timeout",
        "warning"),
    Row("timeout over 3600", DESIGN, hook("      timeout: 3601\n"), A, "agent accepts",
        "appspec.timeout", "error"),
    Row("timeouts of one event over 3600", DESIGN,
        hook("      timeout: 2000\n    - location: b.sh\n      timeout: 2000\n"), A,
        "agent accepts", "appspec.timeout-total", "error"),
    Row("runas empty", LINUX, hook("      runas:\n"), A, "as its own user", "appspec.runas",
        "warning"),
    Row("runas empty text", LINUX, hook("      runas: ''\n"), A, "as root", "appspec.runas",
        "warning"),
    Row("runas two words", LINUX, hook("      runas: bob smith\n"), R, "su bob smith -c",
        "appspec.runas", "error"),
    Row("sudo", SPEC, hook("      sudo: true\n      runas: deploy\n"), A, "", "", "none"),
    Row("unknown script key", SPEC, hook("      user: deploy\n"), A, "ignored",
        "appspec.hook-unknown-key", "warning"),
    Row("misspelt event", DESIGN, "hooks:\n  AfterInstal:\n    - location: a.sh\n", A,
        "never runs", "appspec.hook-unknown", "error"),
    Row("scripts on Install", DESIGN, "hooks:\n  Install:\n    - location: a.sh\n", A,
        "never runs", "appspec.hook-no-scripts", "error"),
    # ---- files (parse_files, file_info.rb, installer.rb, install_instruction.rb copy)
    Row("files as a mapping", SPEC, "files:\n  source: /\n  destination: /x\n", R,
        "fails reading", "appspec.files", "error"),
    Row("files entry as text", FILE, "files:\n  - /\n", R, "no source file", "appspec.files",
        "error"),
    Row("no source", FILE, "files:\n  - destination: /x\n", R,
        "destination file, but no source file", "appspec.files-source", "error"),
    Row("source empty", FILE, "files:\n  - source:\n    destination: /x\n", R, "no source file",
        "appspec.files-source", "error"),
    Row("no destination", FILE, "files:\n  - source: /\n", R, "specifies only a source file",
        "appspec.files-destination", "error"),
    Row("source empty text (the whole bundle)", INSTALLER,
        "files:\n  - source: ''\n    destination: /x\n", A, "", "", "none"),
    Row("files empty", SPEC, "files:\n", A, "nothing will be copied", "appspec.files-empty",
        "warning"),
    Row("source a glob", INSTALLER, "files:\n  - source: '*.php'\n    destination: /x\n", R,
        "No such file", "appspec.files-source", "error"),
    Row("same file twice", INSTALL,
        "files:\n  - source: a.conf\n    destination: /etc\n  - source: a.conf\n"
        "    destination: /etc\n", R, "two source files", "appspec.files-duplicate", "error"),
    Row("destination relative", DESIGN, "files:\n  - source: /\n    destination: var/www\n", A,
        "working directory", "appspec.files-destination", "error"),
    Row("source outside the bundle", DESIGN, "files:\n  - source: ../x\n    destination: /x\n",
        A, "agent accepts", "appspec.files-source", "error"),
    # ---- permissions (parse_permissions, linux_permission_info.rb, mode_info.rb)
    Row("permission without object", SPEC, "permissions:\n  - owner: web\n", R,
        "no object value", "appspec.permissions-object", "error"),
    Row("object empty text", PERM, "permissions:\n  - object: ''\n", R, "no object value",
        "appspec.permissions-object", "error"),
    Row("object relative", DESIGN, "permissions:\n  - object: var/www\n    owner: web\n", A,
        "never applied", "appspec.permissions-object", "error"),
    Row("permissions on windows", SPEC,
        "!version: 0.0\nos: windows\npermissions:\n  - object: C:\\app\n", R,
        "Windows Server", "appspec.permissions-windows", "error"),
    Row("empty permissions on windows", SPEC, "!version: 0.0\nos: windows\npermissions: []\n", A,
        "", "", "none"),
    Row("type files", SPEC, perm("    type: [files]\n"), R, "object type not supported",
        "appspec.permissions-type", "error"),
    Row("type as text", SPEC, perm("    type: file\n"), R, "fails reading",
        "appspec.permissions-type", "error"),
    Row("except as text", SPEC, perm("    except: cache\n"), R, "fails reading",
        "appspec.permissions-except", "error"),
    Row("mode 5 digits", MODE, perm("    mode: 12345\n"), R, "length of a permissions mode",
        "appspec.mode", "error"),
    Row("mode with a letter", MODE, perm("    mode: 12a\n"), R, "invalid character (a)",
        "appspec.mode", "error"),
    Row("mode 8", MODE, perm("    mode: 8\n"), R, "invalid character (8)", "appspec.mode",
        "error"),
    Row("mode 0755 (YAML octal 493)", MODE, perm("    mode: 0755\n"), R,
        "invalid character (9)", "appspec.mode", "error"),
    Row("mode 0644 (YAML octal 420)", DESIGN, perm("    mode: 0644\n"), A,
        "applies mode 420", "appspec.mode", "error"),
    Row("mode '0644' quoted", MODE, perm("    mode: '0644'\n"), A, "", "", "none"),
    Row("mode 7 (padded to 007)", MODE, perm("    mode: 7\n"), A, "", "", "none"),
    Row("mode empty text", DESIGN, perm("    mode: ''\n"), A, "applies mode 000", "appspec.mode",
        "error"),
    Row("mode empty", MODE, perm("    mode:\n"), A, "leaves modes", "appspec.mode", "warning"),
    Row("owner empty text", INSTALL, perm("    owner: ''\n"), R, "can't find user",
        "appspec.permissions-owner", "error"),
    Row("owner empty", INSTALL, perm("    owner:\n"), A, "leaves the owner",
        "appspec.permissions-owner", "warning"),
    Row("the same object twice", INSTALL,
        "permissions:\n  - object: /var/www\n    owner: web\n  - object: /var/www\n    mode: 644\n",
        R, "specified more than once", "appspec.permissions-duplicate", "error"),
    Row("an object under another one's **", INSTALL,
        "permissions:\n  - object: /var/www\n    owner: web\n  - object: /var/www/html\n"
        "    mode: 644\n", R, "specified more than once", "appspec.permissions-duplicate",
        "error"),
    Row("one object, two patterns", INSTALL,
        "permissions:\n  - object: /var/www\n    pattern: '*.php'\n    mode: 640\n"
        "  - object: /var/www\n    pattern: '*.html'\n    mode: 644\n", A, "", "", "none"),
    # ---- acls (ace_info.rb; the agent's own test cases among them)
    Row("acl mask with a name", ACE, acl("m:bob:rwx"), R, "invalid acl entry", "appspec.acls",
        "error"),
    Row("acl other with a name", ACE, acl("o:bob:r"), R, "invalid acl entry", "appspec.acls",
        "error"),
    Row("acl default other with a name", ACE, acl("d:other:name:rwx"), R, "invalid acl entry",
        "appspec.acls", "error"),
    Row("acl base user", ACE, acl("u::7"), R, "use mode to set the base acl entry",
        "appspec.acls", "error"),
    Row("acl base group", ACE, acl("g::r"), R, "use mode to set the base acl entry",
        "appspec.acls", "error"),
    Row("acl base other", ACE, acl("o:7"), R, "use mode to set the base acl entry",
        "appspec.acls", "error"),
    Row("acl too few parts", ACE, acl("7"), R, "invalid acl entry", "appspec.acls", "error"),
    Row("acl too many parts", ACE, acl("d:u:bob:7:rwx"), R, "invalid acl entry", "appspec.acls",
        "error"),
    Row("acl default twice", ACE, acl("d:d:bob:7"), R, "invalid acl entry", "appspec.acls",
        "error"),
    Row("acl unknown type", ACE, acl("x:bob:rwx"), R, "invalid acl entry", "appspec.acls",
        "error"),
    Row("acl bad permission", ACE, acl("user:bob:rwxd"), R, "invalid acl entry",
        "appspec.acls", "error"),
    Row("acl as text", ACE, perm("    acls: u:bob:rwx\n"), R, "fails reading", "appspec.acls",
        "error"),
    Row("acl user", ACE, acl("u:bob:rwx"), A, "", "", "none"),
    Row("acl without a type (a user)", ACE, acl("bob:rwx"), A, "", "", "none"),
    Row("acl default base user", ACE, acl("d:u::rwx"), A, "", "", "none"),
    Row("acl default other", ACE, acl("d:o:r"), A, "", "", "none"),
    Row("acl mask", ACE, perm("    acls: ['m::rwx', 'mask:', 'bob:0']\n"), A, "", "", "none"),
    Row("acl octal digit", ACE, acl("u:bob:7"), A, "", "", "none"),
    # ---- context (context_info.rb, range_info.rb, install_instruction.rb ChangeContextCommand)
    Row("context without type", CTX, ctx("name: name"), R, "invalid context type",
        "appspec.context", "error"),
    Row("context as text", CTX, perm("    context: httpd_sys_content_t\n"), R,
        "invalid context type", "appspec.context", "error"),
    Row("context without name", CTX, ctx("type: httpd_sys_content_t, range: s0"), A,
        "system_u", "appspec.context", "warning"),
    Row("context without range", INSTALL, ctx("name: system_u, type: httpd_sys_content_t"), R,
        "get_range", "appspec.context", "error"),
    Row("context key user", CTX, ctx("name: u, type: t, range: s0, user: u"), A, "ignored",
        "appspec.context", "warning"),
    Row("range backwards", RANGE, ctx("name: u, type: t, range: s3-s2:c0"), R, "SELinux range",
        "appspec.context", "error"),
    Row("range s3-", RANGE, ctx("name: u, type: t, range: s3-"), R, "invalid range part",
        "appspec.context", "error"),
    Row("range :c0", RANGE, ctx("name: u, type: t, range: ':c0'"), R, "invalid range part",
        "appspec.context", "error"),
    Row("range s", RANGE, ctx("name: u, type: t, range: s"), R, "invalid sensitivity",
        "appspec.context", "error"),
    Row("range s-1", RANGE, ctx("name: u, type: t, range: s-1"), R, "invalid sensitivity",
        "appspec.context", "error"),
    Row("range sd3", RANGE, ctx("name: u, type: t, range: sd3"), R, "invalid sensitivity",
        "appspec.context", "error"),
    Row("range d3", RANGE, ctx("name: u, type: t, range: d3"), R, "invalid sensitivity",
        "appspec.context", "error"),
    Row("range category span backwards", RANGE, ctx("name: u, type: t, range: 's0:c2.c1'"), R,
        "invalid category range", "appspec.context", "error"),
    Row("range category span cut", RANGE, ctx("name: u, type: t, range: 's0:c2.'"), R,
        "invalid range part", "appspec.context", "error"),
    Row("range s0:", RANGE, ctx("name: u, type: t, range: 's0:'"), R, "invalid range part",
        "appspec.context", "error"),
    Row("range category c", RANGE, ctx("name: u, type: t, range: 's0:c'"), R,
        "invalid category", "appspec.context", "error"),
    Row("range category c-1", RANGE, ctx("name: u, type: t, range: 's0:c-1'"), R,
        "invalid category", "appspec.context", "error"),
    Row("range category 1024", RANGE, ctx("name: u, type: t, range: 's0:c1024'"), R,
        "invalid category", "appspec.context", "error"),
    Row("range category cd3", RANGE, ctx("name: u, type: t, range: 's0:cd3'"), R,
        "invalid category", "appspec.context", "error"),
    Row("range duplicate categories", RANGE, ctx("name: u, type: t, range: 's0:c1,c1'"), R,
        "duplicate categories", "appspec.context", "error"),
    Row("range overlapping spans", RANGE, ctx("name: u, type: t, range: 's0:c0.c3,c2'"), R,
        "duplicate categories", "appspec.context", "error"),
    Row("range full", RANGE, ctx("name: u, type: t, range: 's3-s7:c5,c8.c10,c17'"), A, "", "",
        "none"),
    Row("range all categories", RANGE, ctx("name: u, type: t, range: 's0-s0:c0.c1023'"), A, "",
        "", "none"),
    Row("range trailing comma (Ruby split)", RANGE, ctx("name: u, type: t, range: 's0:c1,'"), A,
        "", "", "none"),
    # ---- YAML as the agent's Ruby reads it
    Row("alias", PSYCH,
        "hooks:\n  BeforeInstall: &s\n    - location: a.sh\n  AfterInstall: *s\n", R,
        "Unknown alias", "appspec.alias", "error"),
    Row("merge key with an alias", PSYCH,
        "x: &base {location: a.sh}\nhooks:\n  AfterInstall:\n    - <<: *base\n", R,
        "Unknown alias", "appspec.alias", "error"),
    Row("a date", PSYCH, "released: 2024-01-31\n", R, "Tried to load unspecified class",
        "appspec.yaml", "error"),
    Row("a symbol", PSYCH, hook("      runas: :deploy\n"), R, "Tried to load unspecified class",
        "appspec.yaml", "error"),
    Row("tab indentation", PSYCH, "files:\n\t- source: /\n", R, "YAML loader refuses",
        "appspec.yaml", "error"),
    Row("a second document", DESIGN, "---\nfiles: []\n", A, "only the first document",
        "appspec.yaml", "error"),
    Row("a key twice", DESIGN, "os: windows\n", A, "uses the last one", "appspec.duplicate-key",
        "error"),
    # ---- other platforms (ECS / Lambda AppSpec, user guide "AppSpec 'resources' section")
    Row("ECS", SPEC,
        "!version: 0.0\nResources:\n  - TargetService:\n      Type: AWS::ECS::Service\n", A,
        "another compute platform", "appspec.platform", "warning"),
    Row("ECS without version", SPEC,
        "!Resources:\n  - TargetService:\n      Type: AWS::ECS::Service\n", R,
        "invalid version value ()", "appspec.version", "error"),
    Row("ECS with files", SPEC,
        "!version: 0.0\nfiles:\n  - source: /\n    destination: /x\nResources:\n"
        "  - TargetService:\n      Type: AWS::ECS::Service\n", R, "neither platform",
        "appspec.platform", "error"),
]  # fmt: skip


@pytest.mark.parametrize("row", TABLE, ids=[r.name for r in TABLE])
def test_agent_rule(row: Row) -> None:
    res = validate_appspec_text(row.appspec)
    for f in res.findings:
        assert f.agent in (REJECTS, ACCEPTS), f  # every appspec finding says how the agent takes it
    rejects = [f for f in res.findings if f.agent == REJECTS]
    if row.agent == REJECTS:
        hits = [f for f in rejects if f.rule == row.rule and f.severity == "error"]
        assert hits, res.findings
        assert any(row.says.lower() in f.message.lower() for f in hits), hits
        return
    assert rejects == [], rejects
    if row.ours == "none":
        assert res.findings == [], res.findings
        return
    hits = [f for f in res.findings if f.rule == row.rule and f.severity == row.ours]
    assert hits, res.findings
    assert any(row.says.lower() in f.message.lower() for f in hits), hits
    if row.ours == "error":  # stricter by design: say the agent would accept the file
        assert all("agent accepts" in f.message for f in res.errors), res.errors
    else:
        assert res.ok, res.errors


def test_table_covers_every_agent_file_and_both_verdicts() -> None:
    sources = {r.source for r in TABLE}
    for src in (SPEC, ACE, CTX, RANGE, MODE, SCRIPT, FILE, PERM, INSTALL, LINUX, PSYCH, DESIGN):
        assert src in sources, src
    assert sum(r.agent == REJECTS for r in TABLE) >= 60
    assert sum(r.agent == ACCEPTS for r in TABLE) >= 40
    assert len({r.name for r in TABLE}) == len(TABLE)


@pytest.mark.parametrize(
    "entry",
    ["u:bob:rwx", "bob:rwx", "d:u::rwx", "d:g::r-x", "default:user:bob:7", "m::rwx", "mask:",
     "bob:0", "d:o:r", "d:m:rwx", "u:m:rwx", "user:bob:", "g:web:r-x"],
)  # fmt: skip
def test_aces_the_agent_accepts(entry: str) -> None:
    assert ace_problem(entry) is None


@pytest.mark.parametrize(
    "entry",
    ["m:bob:rwx", "o:bob:r", "mask:x:r", "other:x:r", "u::rwx", "g::r", "o::r", "o:7", ":rwx",
     "7", "a:b:c:d:e", "x:u:bob:r", "d:d:bob:r", "d:z:bob:r", "u:bob:rwxd", "u:bob:77",
     "u:bob:8", "::rwx"],
)  # fmt: skip
def test_aces_the_agent_refuses(entry: str) -> None:
    assert ace_problem(entry)


@pytest.mark.parametrize(
    "text", ["s0", "s15", "s0-s15", "s3:c0", "s0:c0,c1023", "s0:c0.c5,c7", "s01", "s0:,"]
)
def test_ranges_the_agent_accepts(text: str) -> None:
    assert range_problem(text) is None


@pytest.mark.parametrize(
    "text",
    ["", "s", "S0", "s0-", "-s0", "s1-s0", "s0:", ":c1", "s0:c", "c0", "s0:c0.c0.c1", "s0:c1.c0",
     "s0:c1,,c2", "s0:,c1", "s0:c1024", "s0:c0.c1024", "s0:c1,c0.c2", "s 0", "s0::c1", "s٣"],
)  # fmt: skip
def test_ranges_the_agent_refuses(text: str) -> None:
    assert range_problem(text)
