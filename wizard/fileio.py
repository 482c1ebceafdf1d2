"""Files: writing without losing anything (atomic replace, backups, kept modes), and reading
untrusted paths without hanging or eating memory (regular files only, size caps)."""

from __future__ import annotations

import errno
import os
import tempfile
import time
from pathlib import Path

from wizard.errors import EXIT_USAGE, WizardError


class NotWritable(WizardError):
    """A file the wizard must write cannot be written: `path` (what the user knows, never the
    temporary file) and `reason` (the operating system's words: "Read-only file system",
    "Permission denied", "No space left on device", or "… is a file, not a folder").

    A configuration-class error (exit 2, README "Exit codes"): the folder or the disk is the
    problem, not the command. The TUI catches it, says it in one line and keeps the answers in
    memory; the CLI prints the line.
    """

    exit_code = EXIT_USAGE

    def __init__(
        self,
        path: str | os.PathLike[str],
        reason: str,
        *,
        hint: str | None = None,
        folder: bool = False,
    ) -> None:
        where = f"files in {path}" if folder else str(path)
        super().__init__(f"cannot write {where}: {reason}", hint=hint)
        self.path = Path(path)
        self.reason = reason


def os_reason(exc: OSError, path: str | os.PathLike[str] | None = None) -> str:
    """`exc` in the operating system's words ("Read-only file system"); for ENOTDIR/EEXIST,
    which of `path`'s parents is a file (the cause a user can act on)."""
    # ENOTDIR from open/stat; EEXIST from mkdir(exist_ok=True) on a file in the way
    if exc.errno in (errno.ENOTDIR, errno.EEXIST) and path is not None:
        for parent in Path(path).parents:  # as the user spelt it (relative stays relative)
            if os.path.lexists(parent) and not os.path.isdir(parent):
                return f"{parent} is a file, not a folder"
    return exc.strerror or str(exc)


def writable_reason(folder: str | os.PathLike[str]) -> str | None:
    """Why the wizard could not write files in `folder`, in the OS's words; None when it can.

    Tried for real (a nameless temporary file, gone when closed: O_TMPFILE where the system has
    it), because permission bits do not say it: root ignores them, and a read-only mount or a
    full disk refuses root too. A folder that does not exist yet is judged by its nearest
    existing parent (the wizard creates it on the first save). Creates nothing that stays.
    """
    target = Path(os.path.abspath(folder))
    probe = target
    while not os.path.lexists(probe) and probe.parent != probe:
        probe = probe.parent
    if not os.path.isdir(probe):
        return f"{probe} is a file, not a folder" if os.path.lexists(probe) else "no such folder"
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as exc:
        return os_reason(exc, probe)
    return None


def require_writable(folder: str | os.PathLike[str], *, hint: str | None = None) -> None:
    """NotWritable (exit 2, naming `folder` and the OS's reason) unless files can be written in
    `folder` (see `writable_reason`): asked before a command changes anything, so a read-only
    folder stops it before AWS is touched rather than after."""
    reason = writable_reason(folder)
    if reason is not None:
        raise NotWritable(os.path.abspath(folder), reason, hint=hint, folder=True)


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

    Raises NotWritable (naming `path` and the OS's reason; exit 2) when the folder, the backup or
    the file cannot be written: a read-only file system, no permission, a full disk, a parent
    that is a file. The old file is then as it was, and no temporary file is left.
    """
    path = Path(path)
    try:
        return _atomic_write(path, content, mode=mode, backup=backup)
    except OSError as exc:
        raise NotWritable(path, os_reason(exc, path)) from exc


def _atomic_write(
    path: Path, content: str | bytes, *, mode: int | None, backup: bool
) -> Path | None:
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


# ------------------------------------------------------------------------ reading untrusted paths
class FileRefused(Exception):
    """A path that is not a regular file we are willing to read; `reason` completes "PATH …"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def file_kind(mode: int) -> str | None:
    """What a non-regular file is, in words ('a directory', 'a FIFO' …); None for a regular file."""
    import stat

    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def unreadable_reason(path: str | os.PathLike[str]) -> str | None:
    """Why `path` cannot be opened as a regular file or listed as a folder, in words that follow
    "PATH: " ("no such file or folder", "cannot read: a FIFO (named pipe), not a regular file",
    "cannot read: a loop of symbolic links", "cannot read: permission denied" …); None when it can.

    Never blocks: only a regular file is opened (non-blocking, then checked again with fstat) and
    only a folder is listed. Symlinks are followed, as `open` does. One verdict whatever the name
    says, so `wizard validate` treats `fifo.zip` and `fifo.yml` alike.
    """
    import errno
    import stat

    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT and os.path.islink(path):
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return f"cannot read: a symbolic link to {target!r}, which does not exist"
        if exc.errno == errno.ENOENT:
            return "no such file or folder"
        if exc.errno == errno.ELOOP:
            return "cannot read: a loop of symbolic links"
        return f"cannot read: {(exc.strerror or str(exc)).lower()}"
    if stat.S_ISDIR(st.st_mode):
        try:
            with os.scandir(path) as entries:
                next(entries, None)
        except OSError as exc:
            return f"cannot read the folder: {(exc.strerror or str(exc)).lower()}"
        return None
    kind = file_kind(st.st_mode)
    if kind is not None:
        return f"cannot read: {kind}, not a regular file"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return f"cannot read: {(exc.strerror or str(exc)).lower()}"
    try:
        kind = file_kind(os.fstat(fd).st_mode)  # swapped since the stat: judge what was opened
    finally:
        os.close(fd)
    return f"cannot read: {kind}, not a regular file" if kind is not None else None


def human_size(n: int) -> str:
    """`n` bytes as '512 bytes', '1.0 MiB', '50.0 MiB'."""
    if n < 1024:
        return f"{n} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        n /= 1024
        if n < 1024:
            return f"{n:.1f} {unit}"
    return f"{n / 1024:.1f} TiB"


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of `path`, which must be a regular file of at most `limit` bytes.

    Never blocks and never reads more than `limit + 1` bytes: a FIFO, a device (`/dev/zero`), a
    socket or a directory is refused before it is read (a FIFO is opened non-blocking, so a pipe
    without a writer cannot hang us), and so is a file larger than `limit` — by its size, or by
    what it yields when the size lies (procfs). Symlinks are followed, as `open` does.

    Raises FileRefused (with a reason such as "is a FIFO (named pipe), not a regular file" or
    "is 50.0 MiB, more than the 1.0 MiB limit") and the usual OSError subclasses
    (FileNotFoundError, PermissionError …) for paths that cannot be opened.
    """
    st = os.stat(path)
    kind = file_kind(st.st_mode)
    if kind is not None:
        raise FileRefused(f"is {kind}, not a regular file")
    if st.st_size > limit:
        raise FileRefused(f"is {human_size(st.st_size)}, more than the {human_size(limit)} limit")
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    try:
        # the path may have been swapped between stat and open: decide on what we opened
        st = os.fstat(fd)
        kind = file_kind(st.st_mode)
        if kind is not None:
            raise FileRefused(f"is {kind}, not a regular file")
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileRefused(f"is more than the {human_size(limit)} limit")
        return b"".join(chunks)
    finally:
        os.close(fd)
