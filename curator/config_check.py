"""The one check every stage config runs on itself: choices and ranges, read from its type hints.

A config dataclass declares what it accepts in its annotations and calls `check_config(self)` from
``__post_init__``:

    mode: Literal["fill", "regenerate"] = "fill"
    threshold: Annotated[float, Bounds(0, 1, lo_open=True, example="0.8")] = 0.7

so the CLI, a `curate run` recipe (whose stages run the same commands) and Python callers get the
same check and the same one-line message, naming the option as the user typed it
(``--mode 'x': choose fill or regenerate``). A `UsageError` is what the CLI turns into exit 2 and
one line. Checks that relate two fields (give exactly one of --budget or --fraction) stay in the
config's ``__post_init__`` after this call: they are rules, not declarations.

Why type hints rather than a table per config: the annotation is already where a reader looks for
what a field may hold, and `typing.Literal` also tells a type checker; one table would drift.
"""

from __future__ import annotations

import dataclasses
import math
import types
from dataclasses import dataclass
from typing import Annotated, Any, Iterable, Literal, Union, get_args, get_origin, get_type_hints

from curator.errors import UsageError

__all__ = ["Bounds", "check_config", "check_choice", "choices_text", "config_params", "option_name"]


@dataclass(frozen=True)
class Bounds:
    """A numeric bound for an ``Annotated`` field: lo <= value <= hi (open ends with lo_open/hi_open)."""

    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    example: str | None = None  # shown as ", e.g. 0.8" after the bound

    def holds(self, value: float) -> bool:
        if isinstance(value, float) and math.isnan(value):
            return False
        if self.lo is not None and (value <= self.lo if self.lo_open else value < self.lo):
            return False
        if self.hi is not None and (value >= self.hi if self.hi_open else value > self.hi):
            return False
        return True

    def describe(self) -> str:
        if self.lo is not None and self.hi is not None:
            text = (f"must be in {'(' if self.lo_open else '['}{_num(self.lo)}, "
                    f"{_num(self.hi)}{')' if self.hi_open else ']'}")
        elif self.lo is not None:
            text = f"must be {'>' if self.lo_open else '>='} {_num(self.lo)}"
        else:
            text = f"must be {'<' if self.hi_open else '<='} {_num(self.hi)}"
        return text + (f", e.g. {self.example}" if self.example else "")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def choices_text(allowed: Iterable[Any]) -> str:
    """``a, b or c`` — how every choice message lists the allowed values."""
    items = [str(a) for a in allowed]
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def check_choice(option: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise the usage error for a value outside `allowed` (for options that have no config)."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise UsageError(f"{option} {value!r}: choose {choices_text(allowed)}")


def option_name(f: dataclasses.Field) -> str:
    """The option as the user types it: ``metadata={"option": ...}`` or ``--field-name``."""
    return f.metadata.get("option") or "--" + f.name.rstrip("_").replace("_", "-")


def _rules(hint: Any) -> tuple[tuple[Any, ...] | None, Bounds | None]:
    """(allowed values, range) declared by one annotation; None where it declares none."""
    rng = None
    if get_origin(hint) is Annotated:
        rng = next((m for m in hint.__metadata__ if isinstance(m, Bounds)), None)
        hint = get_args(hint)[0]
    if get_origin(hint) in (Union, types.UnionType):  # Optional[...]: None is allowed, check the rest
        inner = [a for a in get_args(hint) if a is not type(None)]
        if len(inner) == 1:
            return _rules(inner[0])[0], rng
        return None, rng
    if get_origin(hint) is Literal:
        return get_args(hint), rng
    return None, rng


def _hints(cls: type) -> dict[str, Any]:
    """The resolved annotations; one that cannot be resolved (a name imported only for type
    checking) is skipped, as it cannot declare a choice or a range anyway."""
    try:
        return get_type_hints(cls, include_extras=True)
    except NameError:
        import sys

        ns = vars(sys.modules[cls.__module__])
        out: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            holder = types.SimpleNamespace(__annotations__={f.name: f.type})
            try:
                out.update(get_type_hints(holder, globalns=ns, include_extras=True))
            except NameError:  # a name imported only for type checking: it declares no choice or range
                continue
        return out


_CACHE: dict[type, list[tuple[str, str, tuple[Any, ...] | None, Bounds | None]]] = {}


def _plan(cls: type) -> list[tuple[str, str, tuple[Any, ...] | None, Bounds | None]]:
    plan = _CACHE.get(cls)
    if plan is None:
        hints = _hints(cls)
        plan = []
        for f in dataclasses.fields(cls):
            allowed, rng = _rules(hints.get(f.name))
            if allowed is not None or rng is not None:
                plan.append((f.name, option_name(f), allowed, rng))
        _CACHE[cls] = plan
    return plan


def check_config(cfg: Any) -> None:
    """Check every declared choice and range of a config dataclass; raise `UsageError` on the first
    value that breaks one (None passes: an unset optional option)."""
    for name, opt, allowed, rng in _plan(type(cfg)):
        value = getattr(cfg, name)
        if value is None:
            continue
        if allowed is not None:
            check_choice(opt, value, allowed)
        if rng is not None:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and rng.holds(value)
            if not ok:
                raise UsageError(f"{opt} {value}: {rng.describe()}")


def config_params(*configs: Any) -> dict[str, Any]:
    """The fields of validated config dataclasses as manifest parameters (nested configs as
    mappings, paths as strings), for a run started from Python rather than the CLI."""
    out: dict[str, Any] = {}
    for cfg in configs:
        if cfg is not None and dataclasses.is_dataclass(cfg):
            out.update({f.name: _plain(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)})
    return out


def _plain(value: Any) -> Any:
    from pathlib import PurePath

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
