"""Diagnostic checks for CodeDeploy deployments (`wizard diagnose`).

Never imports Textual and never imports the sandbox: checks see AWS (or the emulator) only through
the AWS APIs, so their verdicts are independent of the emulator's ground truth
(tests/test_layering_checks.py enforces it).

Public API (used by `wizard diagnose`, `wizard deploy`, the TUI):

- `checks.runner.diagnose(ctx, *, deployment_id=None, application=None, deployment_group=None,
  check_ids=None, preflight=False, local=False, on_result=None) -> Report`
  `Report.results` (catalogue order), `.root_causes` (failing ids, most likely first),
  `.deployment`, `.exit_code` (0/1), `.to_json()` (DESIGN.md document, schema_version 1).
  Raises `wizard.errors.UsageError` for an unknown check pattern or deployment.
- `checks.reporters.text.render(report, verbose=False, color=False) -> str` (flutter-doctor rows).
- `checks.registry.all_checks()`, `select(patterns)`; `checks.model.Check / Result / Fix / Status`.
- `checks.fixes.plan_fixes(report) -> [PlannedFix]`, `apply_fixes(ctx, fixes, progress=None)`,
  `rerun(ctx, report, applied_fixes) -> Report`.

Layout: `evidence` (every AWS fact, fetched once per run, batched at the API limits, shared by
threads), `interpret` (error codes and message fragments -> causes), `inside` (one read-only SSM Run
Command probe script), one module per area (`deployment`, `group`, `iam`, `s3`, `bundle`, `agent`,
`dest`, `hooks`, `local`), `runner`, `fixes`, `reporters`.
"""
