"""What CodeDeploy redeploys: the deployment group's last successful revision."""

from __future__ import annotations

from typing import Any

from wizard.sandbox import clock
from wizard.sandbox.codedeploy.runner import run_of


def last_good_revision(backend: Any, group: Any) -> dict[str, Any] | None:
    """Without a revision, CodeDeploy redeploys the group's target (last successful) revision."""
    best = None
    for d in backend.deployments.values():
        if d.deployment_group is not group:
            continue
        run = run_of(d, backend)
        with clock.LOCK:
            if run.status(run.tick()) == "Succeeded" and (best is None or run.created > best[0]):
                best = (run.created, d.revision)
    return best[1] if best else None
