"""Setup steps, one module per resource family: discover → plan → apply → verify.

Contract shared by the CLI (`plan`, `apply`, `setup --yes`, `destroy`) and the TUI:

- `wizard.steps.base.Change` is one line of a plan (create | update | adopt | noop | conflict)
  with a human description and the AWS API calls it will make; `Plan` is the ordered list
  plus helpers.
- `wizard.steps.engine` exposes `build_plan(ctx, project) -> Plan`, `apply_plan(ctx, project, plan,
  progress=None) -> ApplyResult`, `build_destroy_plan(ctx, project) -> Plan` and
  `apply_destroy(ctx, project, plan, progress=None)`. `progress(change, state, message)` is called
  from the worker thread as each change starts/finishes, so a UI can show live progress.

No module here imports Textual.
"""
