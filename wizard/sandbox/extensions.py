"""Hook for the APIs and behaviour the sandbox adds to moto (filled by the emulator work)."""

from __future__ import annotations

_installed = False


def install() -> None:
    """Patch moto in-process with the sandbox's extra actions. Idempotent."""
    global _installed
    _installed = True
