"""`<out>.manifest.json`: what a command did, so a run can be audited and skipped when unchanged.

Holds the version, command line, parameters (secrets removed), input hashes, counts in / out /
rejected by reason (and, for sampling stages, excluded), and seconds.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Iterable

import orjson
import xxhash

from curator import __version__
from curator.atomic import atomic_write_bytes

# Parameter names whose values never reach disk or logs.
# "token" only as a whole word at the end (hf_token, --access-token), so tokenizer paths and
# max_tokens / token counts stay visible.
_SECRET_NAME = re.compile(r"(api[_-]?key|secret|password|authorization|bearer|(^|[_-])token$)", re.I)
# Values that look like keys even under an innocent name (sk-..., Bearer ...).
_SECRET_VALUE = re.compile(r"^(sk-|Bearer\s|hf_)[A-Za-z0-9_\-]{8,}")


def scrub(params: Any) -> Any:
    """Replace secret-looking values by "***" (recursively), keeping everything else."""
    if isinstance(params, dict):
        return {k: ("***" if _SECRET_NAME.search(str(k)) and not str(k).endswith("_env") and v
                    else scrub(v)) for k, v in params.items()}
    if isinstance(params, (list, tuple)):
        return [scrub(v) for v in params]
    if isinstance(params, str) and _SECRET_VALUE.match(params):
        return "***"
    if isinstance(params, Path):
        return str(params)
    return params


def scrub_argv(argv: Iterable[str]) -> list[str]:
    """The command line with the value after --api-key-like flags masked."""
    out: list[str] = []
    hide_next = False
    for a in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        flag, eq, val = a.partition("=")
        if flag.startswith("--") and _SECRET_NAME.search(flag) and not flag.endswith("-env"):
            if eq:
                out.append(f"{flag}=***")
            else:
                out.append(a)
                hide_next = True
            continue
        out.append("***" if _SECRET_VALUE.match(a) else a)
    return out


def file_hash(path: str | Path) -> str:
    """xxh3-128 of a file (or of every file in a folder, in name order)."""
    p = Path(path)
    h = xxhash.xxh3_128()
    files = sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p]
    for f in files:
        if p.is_dir():
            h.update(str(f.relative_to(p)).encode())
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def build_manifest(
    *,
    command: str,
    params: dict[str, Any],
    inputs: Iterable[str | Path],
    outputs: dict[str, str],
    counts: dict[str, Any],
    seconds: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    m: dict[str, Any] = {
        "tool": "sft-curator",
        "version": __version__,
        "command": command,
        "argv": scrub_argv(sys.argv),
        "params": scrub(params),
        "inputs": [{"path": str(p), "xxh3_128": file_hash(p)} for p in inputs if Path(p).exists()],
        "outputs": outputs,
        "counts": counts,
        "seconds": round(seconds, 3),
    }
    if extra:
        m.update(scrub(extra))
    return m


def write_manifest(path: str | Path, manifest: dict[str, Any]) -> None:
    atomic_write_bytes(path, orjson.dumps(manifest, option=orjson.OPT_INDENT_2, default=str) + b"\n")


def read_manifest(path: str | Path) -> dict[str, Any]:
    return orjson.loads(Path(path).read_bytes())
