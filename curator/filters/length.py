"""`length`: characters (and tokens, given a tokenizer) per message of chosen roles and per conversation.

Defaults suit SFT: the minimum is 1 character, because "4" and "Yes." are good answers; web-text
defaults (>= 50 words) would drop most of a chat set. There is no maximum unless you set one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from curator.filters._util import check_bounds, check_roles, count_tokens, messages_of
from curator.filters.base import Drop, Filter, Verdict, register
from curator.record import Conversation


@register
@dataclass
class Length(Filter):
    name = "length"
    cost = 1
    codes = ("too_short", "too_long")

    roles: list[str] = field(default_factory=lambda: ["user", "assistant"],
                             metadata={"help": "roles whose messages are measured one by one"})
    min_chars: int | None = field(default=1, metadata={"help": "each message at least this many characters"})
    max_chars: int | None = field(default=None, metadata={"help": "each message at most this many characters"})
    min_conv_chars: int | None = field(default=None, metadata={"help": "whole conversation (all roles) at least"})
    max_conv_chars: int | None = field(default=None, metadata={"help": "whole conversation (all roles) at most"})
    tokenizer: str | None = field(default=None, metadata={"help": "local tokenizer folder for the token bounds"})
    min_tokens: int | None = field(default=None, metadata={"help": "each message at least this many tokens"})
    max_tokens: int | None = field(default=None, metadata={"help": "each message at most this many tokens"})
    min_conv_tokens: int | None = field(default=None, metadata={"help": "whole conversation at least (tokens)"})
    max_conv_tokens: int | None = field(default=None, metadata={"help": "whole conversation at most (tokens)"})

    def setup(self) -> None:
        from curator.errors import UsageError

        check_roles(self.roles)
        check_bounds(self.min_chars, self.max_chars, "chars")
        check_bounds(self.min_conv_chars, self.max_conv_chars, "conv_chars")
        check_bounds(self.min_tokens, self.max_tokens, "tokens")
        check_bounds(self.min_conv_tokens, self.max_conv_tokens, "conv_tokens")
        self._tokens = any(v is not None for v in (self.min_tokens, self.max_tokens, self.min_conv_tokens,
                                                   self.max_conv_tokens))
        if self._tokens and not self.tokenizer:
            raise UsageError("token bounds need tokenizer: a local tokenizer folder (e.g. --tokenizer ./model)")

    def filter(self, conv: Conversation) -> Verdict:
        lo, hi = self.min_chars, self.max_chars
        if lo is not None or hi is not None:
            for i, m in messages_of(conv, self.roles):
                n = len(m.content)
                if lo is not None and n < lo and not (m.tool_calls and not m.content):
                    return Drop("too_short", f"{m.role} message {i} has {n} characters, below min_chars={lo}")
                if hi is not None and n > hi:
                    return Drop("too_long", f"{m.role} message {i} has {n} characters, above max_chars={hi}")
        if self.min_conv_chars is not None or self.max_conv_chars is not None:
            n = sum(len(m.content) + len(m.reasoning or "") for m in conv.messages)
            if self.min_conv_chars is not None and n < self.min_conv_chars:
                return Drop("too_short", f"conversation has {n} characters, below min_conv_chars={self.min_conv_chars}")
            if self.max_conv_chars is not None and n > self.max_conv_chars:
                return Drop("too_long", f"conversation has {n} characters, above max_conv_chars={self.max_conv_chars}")
        if self._tokens:
            return self._check_tokens(conv)
        return True

    def screen(self, view):
        # the same character counts for every record at once; a short message that only calls tools
        # is left to `filter` (its exception only keeps more). Token bounds: no screen.
        import numpy as np

        if self._tokens:
            return None
        sure = np.ones(view.n, dtype=bool)
        lo, hi = self.min_chars, self.max_chars
        if lo is not None or hi is not None:
            texts, owner = view.texts(self.roles)
            n = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            bad = np.zeros(len(texts), dtype=bool)
            if lo is not None:
                bad |= n < lo
            if hi is not None:
                bad |= n > hi
            sure[owner[bad]] = False
        if self.min_conv_chars is not None or self.max_conv_chars is not None:
            sizes = [len(c) + len(r or "") for c, r in zip(view.contents, view.reasonings)]
            total = np.bincount(view.owner, weights=sizes, minlength=view.n)  # exact below 2**53
            if self.min_conv_chars is not None:
                sure &= total >= self.min_conv_chars
            if self.max_conv_chars is not None:
                sure &= total <= self.max_conv_chars
        return sure

    def _check_tokens(self, conv: Conversation) -> Verdict:
        tok = str(self.tokenizer)
        if self.min_tokens is not None or self.max_tokens is not None:
            for i, m in messages_of(conv, self.roles):
                n = count_tokens(tok, m.content)
                if self.min_tokens is not None and n < self.min_tokens:
                    return Drop("too_short", f"{m.role} message {i} has {n} tokens, below min_tokens={self.min_tokens}")
                if self.max_tokens is not None and n > self.max_tokens:
                    return Drop("too_long", f"{m.role} message {i} has {n} tokens, above max_tokens={self.max_tokens}")
        if self.min_conv_tokens is not None or self.max_conv_tokens is not None:
            n = sum(count_tokens(tok, m.content) + (count_tokens(tok, m.reasoning) if m.reasoning else 0)
                    for m in conv.messages)
            if self.min_conv_tokens is not None and n < self.min_conv_tokens:
                return Drop("too_short", f"conversation has {n} tokens, below min_conv_tokens={self.min_conv_tokens}")
            if self.max_conv_tokens is not None and n > self.max_conv_tokens:
                return Drop("too_long", f"conversation has {n} tokens, above max_conv_tokens={self.max_conv_tokens}")
        return True
