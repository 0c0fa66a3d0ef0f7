"""Small helpers shared by filter modules: role checks, tokenizer loading, dotted meta lookup."""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any, Iterator

from curator.errors import UsageError
from curator.record import ROLES, Conversation, Message

_tok_lock = threading.Lock()


def check_roles(roles: list[str], param: str = "roles") -> None:
    for r in roles:
        if r not in ROLES:
            from curator.filters.base import suggest

            raise UsageError(f"{param}: unknown role {r!r}{suggest(r, ROLES)} (roles: {', '.join(ROLES)})")


def messages_of(conv: Conversation, roles: list[str]) -> Iterator[tuple[int, Message]]:
    for i, m in enumerate(conv.messages):
        if m.role in roles:
            yield i, m


def check_bounds(lo: float | None, hi: float | None, what: str) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise UsageError(f"min_{what}={lo} is above max_{what}={hi}")


@lru_cache(maxsize=4)
def _load_tokenizer(path: str) -> Any:
    # transformers is heavy: imported only when a filter chain asks for token counts.
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as e:  # noqa: BLE001 - any load failure is a usage problem with the path
        raise UsageError(f"tokenizer {path!r} could not be loaded: {e}") from None


def count_tokens(path: str, text: str) -> int:
    with _tok_lock:
        tok = _load_tokenizer(path)
    return len(tok(text, add_special_tokens=False)["input_ids"])


def meta_lookup(conv: Conversation, dotted: str) -> Any:
    """`meta.extra.answer` -> conv.meta["extra"]["answer"]; None when any step is missing."""
    return lookup(conv.meta, dotted)


def lookup(meta: dict[str, Any], dotted: str) -> Any:
    """`meta_lookup` in a record's meta dict."""
    parts = dotted.split(".")
    if parts and parts[0] == "meta":
        parts = parts[1:]
    cur: Any = meta
    for p in parts:
        if not isinstance(cur, dict) or p not in cur:
            return None
        cur = cur[p]
    return cur


def clip(text: str, n: int = 60) -> str:
    """A short quote of `text` for reject messages."""
    t = " ".join(text.split())
    return repr(t if len(t) <= n else t[: n - 1] + "…")
