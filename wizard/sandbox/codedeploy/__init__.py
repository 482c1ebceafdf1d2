"""CodeDeploy as the sandbox serves it: moto's backend plus deployments that actually run.

The handlers are installed as methods on `moto.codedeploy.responses.CodeDeployResponse`, so
moto's server and `mock_aws` both serve them; state lives on moto's backend objects. They add
what moto lacks (targets, instances, configs, revisions, UpdateDeploymentGroup, StopDeployment,
deletes) and replace what must move with the simulated clock (GetDeployment, CreateDeployment …).

- `deployments`: Create/Get/BatchGet/List/StopDeployment and the target/instance reads;
- `groups`: applications and deployment groups;
- `configs`: deployment configurations (predefined and custom);
- `revisions`: registered and deployed application revisions;
- `runner`: the lifecycle runner — the simulated life of one deployment on the clock;
- `targeting`: the service role and the instances a group reaches;
- `rollback`: the last successful revision a deployment falls back to;
- `traffic`: where a load balancer's BlockTraffic/AllowTraffic plug into the runner;
- `common`: the error, pagination and required-name helpers every handler uses.
"""

from __future__ import annotations

from typing import Any


def handlers() -> dict[str, Any]:
    """Every CodeDeploy action the sandbox serves itself: {moto method name: handler}."""
    from wizard.sandbox.codedeploy import configs, deployments, groups, revisions

    out: dict[str, Any] = {}
    for module in (deployments, groups, configs, revisions):
        out.update(module.HANDLERS)
    return out


def install() -> None:
    """Put the handlers on moto's CodeDeployResponse (idempotent)."""
    from moto.codedeploy import responses as cd_responses

    for name, fn in handlers().items():
        setattr(cd_responses.CodeDeployResponse, name, fn)
