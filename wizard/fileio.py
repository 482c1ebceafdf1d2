"""Writing files without losing anything: atomic replace, backups, kept modes."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path


def atomic_write(
    path: str | os.PathLike[str],
    content: str | bytes,
    *,
    mode: int | None = None,
    backup: bool = True,
) -> Path | None:
    """Write `content` to `path` via a temp file + rename in the same folder.

    The old file's permission bits are kept unless `mode` is given. With `backup`, the previous
    content is kept as `<name>.bak.<timestamp>` and its path returned.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    old_mode = None
    backup_path = None
    if path.exists():
        old_mode = path.stat().st_mode & 0o7777
        if backup:
            backup_path = path.with_name(f"{path.name}.bak.{time.strftime('%Y%m%d-%H%M%S')}")
            n = 1
            while backup_path.exists():
                backup_path = path.with_name(
                    f"{path.name}.bak.{time.strftime('%Y%m%d-%H%M%S')}-{n}"
                )
                n += 1
            backup_path.write_bytes(path.read_bytes())
            os.chmod(backup_path, old_mode)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        final_mode = mode if mode is not None else (old_mode if old_mode is not None else 0o644)
        os.chmod(tmp, final_mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return backup_path
