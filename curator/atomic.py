"""Atomic file writes: write to a temp file beside the target, then rename.

An interrupted command therefore leaves either the old file or the new one, never half of one.
Temp names carry the writing process's id (``.NAME.PID.xxxx.tmp``), so the next run of the same
output can tell a temp file left by a killed run (its process is gone) from one a live run is
still writing, and remove it (`clean_stale`).

`AtomicFile` splits the write into *finish* (flush, fsync, close: the data is durable but not
yet visible) and *commit* (the rename), so a command can prepare output, rejects and manifest
and then publish them in a fixed order (see `curator.runner`). Folders are swapped by rename
(`swap_folder`), never removed before their replacement is in place.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO, Iterator


def _current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# mkstemp creates files readable by the owner only (0600); outputs are ordinary data files, so
# give them the mode `open()` would (0666 minus the umask). Read once: umask is process-wide.
_FILE_MODE = 0o666 & ~_current_umask()


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename in `folder` durable (best effort: some filesystems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


class AtomicFile:
    """A temp file that becomes `path` on `commit()`; `abort()` removes it."""

    def __init__(self, path: str | os.PathLike[str], mode: str = "wb"):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(self.path), suffix=".tmp", dir=self.path.parent)
        self.tmp = Path(tmp)
        os.fchmod(fd, _FILE_MODE)
        self.fh: IO = os.fdopen(fd, mode)
        self.finished = False

    def finish(self) -> None:
        """Flush and fsync the temp file: durable, not yet visible under its name."""
        if not self.finished:
            self.fh.flush()
            os.fsync(self.fh.fileno())
            self.fh.close()
            self.finished = True

    def commit(self) -> None:
        self.finish()
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO]:
    """Open a temp file in the target's folder; on success fsync and rename it over `path`."""
    f = AtomicFile(path, mode)
    try:
        yield f.fh
        f.commit()
    except BaseException:
        f.abort()
        raise


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


# ------------------------------------------------------------------ folders and stale temps
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic step (Linux renameat2); False when not available."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def swap_folder(staging: Path, target: Path) -> None:
    """Put the finished folder `staging` at `target`. The old target is exchanged atomically where
    the OS can, else renamed aside first (`.NAME.PID.old`, restored by `clean_stale` if we die
    between the two renames); it is deleted only once the new folder is in place."""
    if not target.exists():
        os.replace(staging, target)
        fsync_dir(target.parent)
        return
    if _exchange(staging, target):
        fsync_dir(target.parent)
        shutil.rmtree(staging, ignore_errors=True)  # now holds the old folder
        return
    old = target.with_name(f"{temp_prefix(target)}old")
    os.replace(target, old)
    os.replace(staging, target)
    fsync_dir(target.parent)
    shutil.rmtree(old, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(target: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files and staging folders a killed run left for `target`; put back an old
    folder left aside between the two renames of a swap. Returns what was removed."""
    target = Path(target)
    folder = target.parent
    if not folder.is_dir():
        return []
    pat = re.compile(rf"^\.{re.escape(target.name)}\.(\d+)\.(.*)$")
    removed: list[Path] = []
    for p in folder.iterdir():
        m = pat.match(p.name)
        if not m or _pid_alive(int(m.group(1))):
            continue
        rest = m.group(2)
        if rest == "old" and p.is_dir():
            if not target.exists():  # killed between the two renames: the old folder goes back
                os.replace(p, target)
                continue
            shutil.rmtree(p, ignore_errors=True)
        elif rest.endswith(".tmp") or rest.endswith("staging"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
        else:
            continue
        removed.append(p)
    return removed
