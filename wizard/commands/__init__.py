"""One module per CLI command, each exposing `run(args) -> int` (imported lazily by cli.py)."""
