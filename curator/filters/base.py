"""The filter contract and the registry (building a filter with its parameters checked: `from_params`).

datatrove-style: a filter only answers one question about one record::

    @register
    @dataclass
    class MyFilter(Filter):
        name = "my_filter"; cost = 1
        threshold: int = 3              # a parameter: a dataclass field with a default
        def filter(self, conv):          # True to keep, or Drop(code, sentence)
            ...

Parameters are dataclass fields, so `curate filter --list` prints them with their defaults and
(`from_params.build`) a filter-chain file with an unknown or mistyped parameter fails before any data is read. The chain
(`curator.filters.chain`) handles ordering, counts and rejects; filters never see the sink.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from dataclasses import dataclass
from typing import Any, ClassVar, Iterable, Union

from curator.record import Conversation


@dataclass(frozen=True, slots=True)
class Drop:
    """Why a record is dropped: a machine-readable `code` and a sentence naming value and threshold."""

    code: str
    message: str


Verdict = Union[bool, Drop]


class Filter:
    """Base class. Subclasses are dataclasses whose fields are their parameters.

    `cost` orders a chain cheap-first (0 = a field lookup, 5 = a model call). `edits` marks a
    filter that may change the record it keeps (PII masking): the chain hands it a copy.
    """

    name: ClassVar[str] = ""
    cost: ClassVar[int] = 1
    codes: ClassVar[tuple[str, ...]] = ()
    edits: ClassVar[bool] = False

    def filter(self, conv: Conversation) -> Verdict:  # pragma: no cover - abstract
        raise NotImplementedError

    def setup(self) -> None:
        """Check parameters and prepare compiled state; raise UsageError on bad values."""

    def screen(self, view: Any) -> Any:
        """Optional batch fast path (`curator.filters.screen`): a bool array over the view's records,
        True where `filter` is proven to return True; None when this filter has none."""
        return None

    def __post_init__(self) -> None:
        self.setup()

    def param_values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


REGISTRY: dict[str, type[Filter]] = {}


def register(cls: type[Filter]) -> type[Filter]:
    if not cls.name or cls.name in REGISTRY:
        raise RuntimeError(f"filter {cls.__name__}: missing or duplicate name {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def param_help(cls: type[Filter]) -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help) for every parameter of a filter class."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
        out.append((f.name, _type_name(hints[f.name]), default, f.metadata.get("help", "")))
    return out


def _type_name(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__name__
    return str(tp).replace("typing.", "")


def suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return f" — did you mean {close[0]!r}?" if close else ""
