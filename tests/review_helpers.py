"""Data builders shared by the tests/test_review*.py modules."""

from __future__ import annotations

from pathlib import Path

import orjson

INJECTION = [
    "[bold red]not bold[/] and [link=http://evil]click[/link]",
    "\x1b[31mred?\x1b[0m \x1b]0;pwned-title\x07 \x1b[2J\x1b[H clear?",
    "bell\x07 backspace\x08 nul\x00 c1\x9b31m rtl\u202eevil",
]


def conv(i: int, user: str, answer: str, **meta) -> dict:
    return {"id": f"r{i}", "messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}],
            "meta": meta}


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def dataset(path: Path, n: int = 6) -> Path:
    rows = [conv(i, f"question {i} about {'cats' if i % 2 else 'dogs'}", f"answer {i}", score=i / 10)
            for i in range(n)]
    return write_jsonl(path, rows)


def injection_file(path: Path) -> Path:
    rows = [conv(i, text, text, source=text) for i, text in enumerate(INJECTION)]
    rows[0]["id"] = "[red]id[/red]\x1b[5m"
    return write_jsonl(path, rows)
