"""The one redactor: everything we write or print about a run passes through here.

Messages, rejects, manifests (argv and parameters), cache rows and `curate run`'s echo all call
`redact`, so a key can only leak if all of them forget — and none of them has its own rules.
What becomes ``***``:

- the value of every secret we know: API keys read from an environment variable (the backends
  call `add_secret`), and the values of environment variables whose names look secret
  (``*_API_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD*``);
- URL user-info (``http://user:KEY@host`` -> ``http://***@host``) and secret-looking query
  parameters (``?api_key=KEY`` -> ``?api_key=***``);
- ``Bearer <token>``, ``sk-…`` and ``hf_…`` shaped tokens anywhere in a text;
- in mappings, the value under a secret-looking key (``api_key``, ``password``, ``hf_token``…).
"""

from __future__ import annotations

import os
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

MASK = "***"

# "token" only as a whole word at the end (hf_token, --access-token), so tokenizer paths and
# max_tokens / token counts stay visible; names ending in _env/-env hold a variable's NAME.
SECRET_NAME = re.compile(r"(api[_-]?key|secret|password|passwd|authorization|bearer|credential|(^|[_-])token$)", re.I)
_ENV_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.I)
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<info>[^/\s@?#\"']+)@")
_QUERY_SECRET = re.compile(r"(?P<k>[?&;](?:[A-Za-z0-9_\-]*(?:api[_-]?key|token|secret|password|passwd|signature|sig|auth)"
                           r"[A-Za-z0-9_\-]*|key|code)=)(?P<v>[^&#\s\"']+)", re.I)
_TOKENS = re.compile(r"(?P<b>\bBearer\s+)[A-Za-z0-9._~+/=\-]{6,}|\b(?:sk|rk|pk)-[A-Za-z0-9_\-]{8,}|\bhf_[A-Za-z0-9]{8,}"
                     r"|\bgh[pousr]_[A-Za-z0-9]{20,}|\bAKIA[A-Z0-9]{16}\b")
# every token shape above starts with one of these: a text with none of them cannot match
_TOKEN_LITERALS = ("Bearer", "sk-", "rk-", "pk-", "hf_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "AKIA")

_secrets: set[str] = set()
_by_length: tuple[str, ...] = ()  # the secrets, longest first (so a secret inside another goes with it)
_env_scanned = False


def add_secret(value: str | None) -> None:
    """Remember a secret's value (e.g. the API key a backend read) so it is masked everywhere."""
    global _by_length
    if value and len(value) >= 6 and value not in _secrets:
        _secrets.add(value)
        _by_length = tuple(sorted(_secrets, key=len, reverse=True))


def _scan_env() -> None:
    global _env_scanned
    if _env_scanned:
        return
    _env_scanned = True
    for name, value in os.environ.items():
        if _ENV_SECRET_NAME.search(name) and not name.upper().endswith("_ENV"):
            add_secret(value)


def redact_text(text: str) -> str:
    """A string with every known secret value and secret-shaped token replaced by ***."""
    if not text:
        return text
    _scan_env()
    for s in _by_length:
        if s in text:
            text = text.replace(s, MASK)
    # Each pattern is run only where its literal part occurs: a reject line's message and ids
    # (millions of them in a large dedup) rarely hold any, and the three scans were most of the
    # cost of writing a reject. The checks only skip scans that cannot match.
    if text.isalnum() and "AKIA" not in text:  # an id or a word: no pattern below can match
        return text
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: f"{m.group('scheme')}{MASK}@", text)
    if "=" in text:
        text = _QUERY_SECRET.sub(lambda m: f"{m.group('k')}{MASK}", text)
    if any(lit in text for lit in _TOKEN_LITERALS):
        text = _TOKENS.sub(lambda m: (m.group("b") or "") + MASK, text)
    return text


def is_secret_name(name: Any) -> bool:
    return _secret_name(str(name))


@lru_cache(maxsize=4096)  # the same few field names come back for every reject line
def _secret_name(n: str) -> bool:
    return bool(SECRET_NAME.search(n)) and not n.lower().endswith(("_env", "-env"))


def redact(obj: Any) -> Any:
    """Redact a value recursively: strings by `redact_text`, and in mappings the whole value under
    a secret-looking key. Paths become strings; other scalars are returned unchanged."""
    if isinstance(obj, str):
        return redact_text(obj)
    if isinstance(obj, dict):
        return {k: (MASK if is_secret_name(k) and v not in (None, "", False) else redact(v)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [redact(v) for v in obj]
    if isinstance(obj, Path):
        return redact_text(str(obj))
    return obj


def redact_argv(argv: list[str]) -> list[str]:
    """A command line with the value after a secret-named flag masked, and every word redacted."""
    out: list[str] = []
    hide_next = False
    for a in argv:
        if hide_next:
            out.append(MASK)
            hide_next = False
            continue
        flag, eq, _ = a.partition("=")
        if flag.startswith("--") and is_secret_name(flag.lstrip("-")):
            if eq:
                out.append(f"{flag}={MASK}")
            else:
                out.append(a)
                hide_next = True
            continue
        out.append(redact_text(a))
    return out


def install_excepthook() -> None:
    """Print an unexpected crash's traceback redacted too (an exception message can quote a URL
    with a key in it); set by the `curate` entry point."""
    import traceback

    def hook(exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(redact_text(text))

    sys.excepthook = hook
