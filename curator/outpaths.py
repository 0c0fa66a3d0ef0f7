"""The one output-path guard: every command and every recipe stage asks it before writing.

An output may never resolve to one of the command's inputs, to another output of the same
command, to the current folder or one of its parents, to something that is not a regular file
(a FIFO, a device), or to a folder we did not write. A folder output (a `datasets` folder) only
ever replaces a folder that carries our marker file, or an empty one. The check runs before
anything is opened, so a refused command writes nothing (exit 2, one line).

Paths are compared after resolving symlinks and `..`, and existing files are also compared by
inode, so a symlink or hard link to an input is caught too.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

from curator.errors import UsageError

# Written inside every folder output we create; only a folder holding it may be replaced.
MARKER_NAME = ".sft-curator-output"
# Names that end like these are files; an output without a suffix is a folder output.
_FILE_SUFFIXES = (".jsonl.gz", ".json.gz", ".jsonl", ".json", ".parquet", ".html", ".csv", ".sqlite", ".db",
                  ".txt", ".yaml", ".yml", ".md", ".tsv", ".gz", ".xlsx")

Output = tuple[str, "str | os.PathLike[str] | None"]


def _real(p: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.expanduser(os.fspath(p) or ".")))


def _inode(p: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _inside(child: Path, parent: Path) -> bool:
    return child != parent and parent in child.parents


def is_folder_output(p: str | os.PathLike[str]) -> bool:
    """Whether an output path names a folder (no file suffix) rather than a file."""
    return not str(p).lower().endswith(_FILE_SUFFIXES) and not Path(p).suffix


def folder_is_ours(p: Path) -> bool:
    """A folder we may replace: it carries our marker, or it is empty."""
    try:
        return (p / MARKER_NAME).is_file() or not any(p.iterdir())
    except OSError:
        return False


def check_output(label: str, path: str | os.PathLike[str], *, folder_ok: bool | None = None) -> Path:
    """One output on its own: returns its resolved path, or raises `UsageError`."""
    shown = os.fspath(path)
    real = _real(path)
    cwd = Path(os.path.realpath(os.getcwd()))
    if real == cwd or _inside(cwd, real):
        raise UsageError(f"{label} {shown}: refusing to write over the current folder or one of its parents; "
                         f"name a new file or folder")
    for parent in real.parents:
        if parent.exists():
            if not parent.is_dir():
                raise UsageError(f"{label} {shown}: {parent} is a file, so nothing can be written inside it")
            break
    folder = is_folder_output(path) if folder_ok is None else folder_ok
    if real.exists() or real.is_symlink():
        if real.is_dir():
            if not folder:
                raise UsageError(f"{label} {shown}: is an existing folder; give a file name such as "
                                 f"{Path(shown) / 'data.jsonl'}")
            if not folder_is_ours(real):
                raise UsageError(f"{label} {shown}: is a folder with other files in it that sft-curator did not "
                                 f"write; refusing to replace it — name a new folder")
        elif not real.is_file():
            raise UsageError(f"{label} {shown}: is not a regular file (a pipe or device?); write to a file")
    return real


def check_outputs(outputs: Sequence[Output], inputs: Iterable[str | os.PathLike[str]] = (), *,
                  root: str | os.PathLike[str] | None = None, folder_ok: bool | None = None) -> dict[str, Path]:
    """Check a command's outputs (label, path) against each other and its inputs.

    `root` (recipe stages): every output must resolve inside it. `folder_ok`: True when the
    outputs are folders whatever their names (a model folder), None to judge by the suffix.
    Returns label -> resolved path.
    Raises `UsageError` with one line naming both clashing paths.
    """
    resolved: dict[str, Path] = {}
    seen: dict[Path, str] = {}
    for label, path in outputs:
        if path is None:
            continue
        real = check_output(label, path, folder_ok=folder_ok)
        if root is not None:
            r = _real(root)
            if not _inside(real, r):
                raise UsageError(f"{label} {os.fspath(path)}: outside the run folder {r}; outputs of a recipe stay "
                                 f"inside it")
        if real in seen:
            raise UsageError(f"{label} and {seen[real]} both name {os.fspath(path)}: give each output its own path")
        seen[real] = label
        resolved[label] = real
    ins = [(os.fspath(p), _real(p)) for p in inputs]
    for label, real in resolved.items():
        ino = _inode(real)
        for shown, rin in ins:
            if real == rin or (ino is not None and ino == _inode(rin)):
                raise UsageError(f"{label} {real}: is also an input ({shown}); writing it would destroy the input — "
                                 f"choose another output path")
            if _inside(real, rin):
                raise UsageError(f"{label} {real}: is inside the input folder {shown}; write outside it")
            if _inside(rin, real):
                raise UsageError(f"{label} {real}: would replace the folder holding the input {shown}")
    return resolved


def write_marker(folder: str | os.PathLike[str]) -> None:
    """Mark a folder as written by us, so a later run may replace it."""
    (Path(folder) / MARKER_NAME).write_bytes(b"written by sft-curator; a later run may replace this folder\n")
