"""The embedded AWS emulator: moto's server plus what moto lacks, and a simulated fleet.

- `server`: SandboxServer, moto's WSGI app on loopback (every response carries
  `x-codedeploy-wizard-sandbox: 1`).
- `extensions.install()`: patches moto in-process (server and `mock_aws`) with the modules below.
- `codedeploy` (package): the CodeDeploy handlers (deployments, groups, configs, revisions), the
  lifecycle runner that carries a deployment through its batches on the compressed clock
  (`clock`), targeting, rollback, and the traffic-control hook for load balancers.
- `fleet` (package): the simulated CodeDeploy agent on each instance — instance facts and
  filesystem, the agent, DownloadBundle, the agent's appspec rules, Install, the hook script
  executor, and one target's lifecycle — deciding every event from emulated state and the
  `sandbox:` instance tags.
- `ssm`: DescribeInstanceInformation and Run Command on the simulated instances.
- `iam_sim`: IAM policy evaluation (SimulatePrincipalPolicy, and what the fleet asks).
- `world`, `scenarios`: ready-made worlds built through boto3 (`wizard sandbox --scenario NAME`);
  the scenario names and the `sandbox:` tag contract are documented in `scenarios`.

Never imports `checks/`: the emulator is the ground truth that diagnose is tested against, so the
two must reach their verdicts independently.
"""
