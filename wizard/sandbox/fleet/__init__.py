"""The simulated fleet: one CodeDeploy agent per emulated EC2 instance.

The agent decides every lifecycle event from real emulated state, the way the 1.x Ruby agent does
on a real instance (reference §3). One idea per module:

- `instance`: what the agent sees on one instance (`Facts`: AMI/OS, users, profile and role,
  `sandbox:` tags) and the instance's simulated OS state (`InstanceState`: filesystem, logs, what
  each deployment group installed);
- `filesystem`: the simulated filesystem's nodes and Unix permission rules;
- `agent`: the agent itself on an instance — whether user data installs it, its files and logs;
- `context`: what one deployment shares with every agent, and what an event reports back
  (`EventOutcome`, diagnostics as CodeDeploy shows them);
- `bundle`: DownloadBundle — S3 access with the instance role (our IAM evaluation, bucket policy,
  KMS), the instance's region, the ETag, unpacking (one top-level folder stripped only when it
  holds the appspec);
- `appspec`: the agent's own appspec rules (lenient where the agent is lenient — a misspelt hook
  name is ignored — and independent of the wizard's validator, which it tests);
- `install`: the Install step — copies into the simulated filesystem under file_exists_behavior
  and the agent user's write permission;
- `scripts`: the hook script executor;
- `lifecycle`: one target's lifecycle events in order, from ApplicationStop to ValidateService
  (plus the traffic events when the deployment group has traffic control).
"""
