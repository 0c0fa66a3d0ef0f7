"""`DatasetCounts`: quick numbers about a dataset (`curate stats`): records, turns, roles, characters per role.

Kept as a small accumulator over a stream so memory stays flat; `curate report` builds the
full picture with plots on top of numbers like these.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from curator.record import Conversation


@dataclass
class DatasetCounts:
    records: int = 0
    turns: int = 0
    multi_turn: int = 0
    with_tools: int = 0
    with_reasoning: int = 0
    with_system: int = 0
    roles: Counter = field(default_factory=Counter)
    chars: Counter = field(default_factory=Counter)
    max_chars: Counter = field(default_factory=Counter)
    sources: Counter = field(default_factory=Counter)

    def add(self, conv: Conversation) -> None:
        self.records += 1
        self.turns += len(conv.messages)
        users = 0
        for m in conv.messages:
            self.roles[m.role] += 1
            n = len(m.content)
            self.chars[m.role] += n
            if n > self.max_chars[m.role]:
                self.max_chars[m.role] = n
            users += m.role == "user"
        self.multi_turn += users > 1
        self.with_tools += bool(conv.tools or any(m.tool_calls for m in conv.messages))
        self.with_reasoning += any(m.reasoning for m in conv.messages)
        self.with_system += any(m.role == "system" for m in conv.messages)
        self.sources[conv.meta.get("source", "?")] += 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "turns": self.turns,
            "turns_per_record": round(self.turns / self.records, 3) if self.records else 0,
            "multi_turn": self.multi_turn,
            "with_tools": self.with_tools,
            "with_reasoning": self.with_reasoning,
            "with_system": self.with_system,
            "roles": dict(self.roles),
            "chars_per_role": {r: {"total": self.chars[r], "mean": round(self.chars[r] / self.roles[r], 1),
                                   "max": self.max_chars[r]} for r in self.roles},
            "sources": dict(self.sources),
        }
