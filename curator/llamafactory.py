"""`--dataset-info NAME`: the LLaMA-Factory `dataset_info.json` entry for an output file, so the
file trains there unchanged (`dataset: NAME`, `dataset_dir:` the output's folder).

Entries follow LLaMA-Factory's data/README.md: Alpaca uses `columns` prompt/query/response/
system/history; ShareGPT uses `formatting: sharegpt` with `columns` messages/system/tools (our
writer's tags are LLaMA-Factory's defaults: from/value, human/gpt/observation/function_call);
OpenAI-style `messages` is ShareGPT formatting with role/content tags. Optional columns
(system, history, tools) are listed only when the written file has them: LLaMA-Factory looks up
every listed column in each row. An existing dataset_info.json beside the output is kept: the
entry is added, and a name already used for another file is an error rather than an overwrite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curator.atomic import atomic_open
from curator.errors import UsageError

FORMATS = ("alpaca", "sharegpt", "messages")
SUFFIXES = (".json", ".jsonl", ".parquet")


def entry(fmt: str, file_name: str, keys: set[str] | None = None) -> dict[str, Any]:
    """The entry for a file in `fmt`; `keys` (the file's top-level keys) drops absent optional columns."""
    def cols(required: dict[str, str], optional: dict[str, str]) -> dict[str, str]:
        return {**required, **{k: v for k, v in optional.items() if keys is None or v in keys}}

    if fmt == "alpaca":
        return {"file_name": file_name, "columns": cols({"prompt": "instruction", "response": "output"},
                                                        {"query": "input", "system": "system", "history": "history"})}
    if fmt == "sharegpt":
        return {"file_name": file_name, "formatting": "sharegpt",
                "columns": cols({"messages": "conversations"}, {"system": "system", "tools": "tools"}),
                "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                         "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"}}
    if fmt == "messages":
        return {"file_name": file_name, "formatting": "sharegpt",
                "columns": cols({"messages": "messages"}, {"tools": "tools"}),
                "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                         "assistant_tag": "assistant", "observation_tag": "tool", "system_tag": "system"}}
    raise UsageError(f"--dataset-info needs --to alpaca, sharegpt or messages (got {fmt})")


def info_path(out: Path) -> Path:
    return out.parent / "dataset_info.json"


def check(out: Path, name: str, fmt: str) -> None:
    """Validate before the run, so a conflict exits 2 before anything is written."""
    if not name.strip():
        raise UsageError("--dataset-info needs a dataset name, e.g. --dataset-info my_sft_zh")
    if not out.name.endswith(SUFFIXES):
        raise UsageError(f"--dataset-info: LLaMA-Factory reads {', '.join(SUFFIXES)} files; {out.name} is not one")
    entry(fmt, out.name)  # the format is one LLaMA-Factory reads
    path = info_path(out)
    if path.exists():
        old = _load(path).get(name)
        if isinstance(old, dict) and old.get("file_name") != out.name:
            raise UsageError(f"{path} already has an entry {name!r} for {old.get('file_name')!r}; choose another "
                             "--dataset-info name (the existing entry is kept)")


def file_keys(out: Path) -> set[str]:
    """Top-level keys of the rows written to `out` (.json array, .jsonl or .parquet)."""
    if out.name.endswith(".parquet"):
        import pyarrow.parquet as pq

        return set(pq.read_schema(out).names)
    text = out.read_text(encoding="utf-8")
    rows = json.loads(text) if out.name.endswith(".json") else [json.loads(x) for x in text.splitlines() if x.strip()]
    return {k for r in rows if isinstance(r, dict) for k in r}


def write(out: Path, name: str, fmt: str) -> Path:
    """Add (or refresh) entry `name` for `out` in the dataset_info.json beside it."""
    path = info_path(out)
    data = _load(path) if path.exists() else {}
    data[name] = entry(fmt, out.name, file_keys(out))
    with atomic_open(path, "wb") as fh:
        fh.write((json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    return path


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise UsageError(f"{path}: not readable JSON ({e}); fix or move it, then run again") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a JSON object of dataset entries")
    return data
