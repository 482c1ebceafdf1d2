"""Diagnostic checks for CodeDeploy deployments.

Never imports Textual and never imports the sandbox: checks see AWS (or the emulator) only through
the AWS APIs, so their verdicts are independent of the emulator's ground truth.
"""
