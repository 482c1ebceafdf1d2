"""One apply at a time per project directory: an advisory lock on the directory itself.

`flock(2)` on a descriptor of the project directory (no lock file is left in the user's tree, and
the kernel drops the lock when the process ends, even on `kill -9`, so a crashed apply never
leaves a stale lock). A second `wizard apply`, `setup --yes`, `destroy` or the TUI's Apply on the
same directory stops at once with one line. The lock covers this machine only; across machines
the launch is made idempotent by RunInstances' ClientToken (`wizard.steps.instances`).

Where `fcntl` does not exist (Windows) there is no lock; the ClientToken still holds.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from wizard.errors import WizardError


class ProjectBusy(WizardError):
    """Another wizard process holds the project directory (exit 1)."""


@contextlib.contextmanager
def project_lock(project_dir: str | os.PathLike[str], command: str) -> Iterator[None]:
    """Hold the project directory's lock for the block; ProjectBusy at once when it is held.

    Raises ProjectBusy (exit 1) and changes nothing when another process holds it.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    path = os.path.abspath(project_dir)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        yield  # a missing folder is reported by whoever reads the project file
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ProjectBusy(
                f"another wizard apply, setup or destroy is running for {path}",
                hint=f"Wait for it to finish, then run `wizard {command}` again.",
            ) from None
        except OSError:
            pass  # a file system without flock: go on unlocked (the ClientToken still holds)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
