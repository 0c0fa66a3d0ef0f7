"""The one data model: a `Conversation` of `Message`s.

The canonical file is JSONL of ``{"id", "messages", "tools"?, "meta"}`` — the shape OpenAI and
Volcengine Ark fine-tuning accept, so canonical output can be uploaded as is. Every format
converts into and out of this model (see `curator.formats`).

Messages carry their chain of thought separately from the answer (`reasoning`, written as
`reasoning_content` like Ark and the DeepSeek API) so that stages can filter, measure or drop it
without parsing ``<think>`` tags again.

Dataclasses with `slots` rather than pydantic: conversion runs at >100k records/s and pydantic's
validation would cost more than the whole budget. Validation of user data lives in
`curator.validate`, where it can produce row-level messages instead of exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import xxhash

ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")


@dataclass(slots=True)
class Message:
    """One turn. `weight` is the loss weight (0 or 1); None means the trainer's default
    (assistant turns trained, everything else masked)."""

    role: str
    content: str
    reasoning: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    weight: float | None = None

    def to_dict(self, *, reasoning: bool = True, weight: bool = True) -> dict[str, Any]:
        """Canonical dict. `reasoning=False` leaves the chain of thought out (requests to a
        teacher); `weight=False` leaves the loss weight out (it is not part of a chat request)."""
        d: dict[str, Any] = {"role": self.role, "content": self.content}
        if reasoning and self.reasoning is not None:
            d["reasoning_content"] = self.reasoning
        if self.tool_calls is not None:
            d["tool_calls"] = self.tool_calls
        if self.name is not None:
            d["name"] = self.name
        if self.tool_call_id is not None:
            d["tool_call_id"] = self.tool_call_id
        if weight and self.weight is not None:
            d["weight"] = self.weight
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Message":
        """Build from an already-valid canonical dict (use `curator.formats` for user input)."""
        return cls(
            role=d["role"],
            content=d.get("content") or "",
            reasoning=d.get("reasoning_content"),
            tool_calls=d.get("tool_calls"),
            name=d.get("name"),
            tool_call_id=d.get("tool_call_id"),
            weight=d.get("weight"),
        )


@dataclass(slots=True)
class Conversation:
    """A record. `meta` holds source, lineage, scores, tags and generation info.

    `origin` is where the record was read from (file, 1-based line or row); it is not written
    out, it only lets later stages name the input line in a reject message.
    """

    messages: list[Message]
    id: str = ""
    tools: list[dict[str, Any]] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    origin: tuple[str, int] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = content_id(self.messages, self.tools)
            self.meta["id_hashed"] = True

    # -- views used by filters, dedup, distill ---------------------------------------------
    def prompt_messages(self) -> list[Message]:
        """Everything before the last assistant turn (the context the answer responds to)."""
        idx = self.last_index("assistant")
        return list(self.messages if idx is None else self.messages[:idx])

    def last_index(self, role: str) -> int | None:
        for i in range(len(self.messages) - 1, -1, -1):
            if self.messages[i].role == role:
                return i
        return None

    def last(self, role: str) -> Message | None:
        i = self.last_index(role)
        return None if i is None else self.messages[i]

    def texts(self, role: str | None = None) -> Iterator[str]:
        for m in self.messages:
            if role is None or m.role == role:
                yield m.content

    def prompt_text(self) -> str:
        """The user side as one string (all user turns), used for dedup keys and language ID."""
        return "\n".join(m.content for m in self.messages if m.role == "user")

    def answer_text(self) -> str:
        """The assistant side as one string (all assistant turns, answers only)."""
        return "\n".join(m.content for m in self.messages if m.role == "assistant")

    def add_lineage(self, step: str) -> None:
        lineage = self.meta.get("lineage")
        if lineage is None:  # absent, or null in the input: a new list (in the key's place, if it had one)
            self.meta["lineage"] = [step]
        else:
            lineage.append(step)

    # -- canonical form ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "messages": [m.to_dict() for m in self.messages]}
        if self.tools is not None:
            d["tools"] = self.tools
        d["meta"] = self.meta
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Conversation":
        """Build from an already-valid canonical dict (use `curator.formats` for user input)."""
        return cls(
            messages=[Message.from_dict(m) for m in d["messages"]],
            id=d.get("id") or "",
            tools=d.get("tools"),
            meta=dict(d.get("meta") or {}),
        )

    def copy(self) -> "Conversation":
        """A copy whose messages and meta can be changed without touching this one."""
        import copy as _copy

        return Conversation(
            messages=[_copy.copy(m) for m in self.messages],
            id=self.id,
            tools=self.tools,
            meta=_copy.deepcopy(self.meta),
            origin=self.origin,
        )


_SEP_FIELD = "\x1f"
_SEP_MSG = "\x1e"


def content_id(messages: list[Message], tools: list[dict[str, Any]] | None = None) -> str:
    """A stable id from content: same messages (and tools) -> same id, on every machine.

    xxh3-128 rather than sha256: ids are for identity, not security, and this runs per record.
    """
    parts = []
    for m in messages:
        parts.append(m.role)
        parts.append(m.content)
        if m.reasoning:
            parts.append(m.reasoning)
        if m.tool_calls:
            parts.append(repr(m.tool_calls))
        parts.append(_SEP_MSG)
    if tools:
        parts.append(repr(tools))
    return hash_parts(parts)


def hash_parts(parts: list[str]) -> str:
    """The id of the texts `content_id` lists (role, content, reasoning, tool calls, then the
    message separator, per message): exposed so the plain-row path (`curator.fastpath`) can hash
    a row's texts without building `Message`s, and get the same id."""
    return xxhash.xxh3_128_hexdigest(_SEP_FIELD.join(parts).encode("utf-8", "surrogatepass"))[:24]
