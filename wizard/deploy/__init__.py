"""`wizard deploy`: bundle a folder, upload it, create the deployment and follow it.

- `bundle`: the revision archive (deterministic zip, appspec at the root, validated first).
- `run`: upload to the revision bucket, register the revision, create the deployment.
- `follow`: poll the deployment and its targets, one event per state change.

No Textual here; the TUI lives in `wizard/screens/deploy.py`.
"""
