"""The loopback chat server (tests/chat_server.py) with scripted answers for best-of-K and judges.

Generation: a prompt containing ``CANDS: a | b | c`` gets candidate i for choice i of an n>1
request, or candidate ``seed % len`` for a single request (so K seeded requests differ).
Judging: the judge prompt's answer carries a ``Q=<n>`` tag; the judge replies like a real judge,
``... Rating: [[n]]``; ``Q=bad`` makes it ramble without a verdict (unparseable), and in pairwise
prompts the higher tag wins (``[[A]]``/``[[B]]``/``[[C]]``).
"""

from __future__ import annotations

import re
from typing import Any

from tests.chat_server import ChatServer

_CANDS = re.compile(r"CANDS:\s*(.+)$", re.S)
_Q = re.compile(r"Q=(\w+)")


def _between(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0] if start in text else ""


class ScriptedServer(ChatServer):
    def __init__(self, *, honour_n: bool = True, **kw: Any):
        super().__init__(**kw)
        self.honour_n = honour_n
        self.judge_requests = 0

    def completion(self, body: dict[str, Any], kind: str) -> dict[str, Any]:
        if not self.honour_n:
            body = {**body, "n": 1}
        resp = super().completion(body, kind)
        last = [m for m in body.get("messages", []) if m.get("role") == "user"][-1]["content"]
        if "[The Start of Assistant A's Answer]" in last:
            self.judge_requests += 1
            a = _Q.search(_between(last, "[The Start of Assistant A's Answer]", "[The End of Assistant A's Answer]"))
            b = _Q.search(_between(last, "[The Start of Assistant B's Answer]", "[The End of Assistant B's Answer]"))
            qa, qb = (int(m.group(1)) if m and m.group(1).isdigit() else 0 for m in (a, b))
            verdict = "[[A]]" if qa > qb else "[[B]]" if qb > qa else "[[C]]"
            texts = [f"Comparing both answers carefully, my verdict is {verdict}"]
        elif "[The Start of Assistant's Answer]" in last or "###Response to evaluate:" in last:
            self.judge_requests += 1
            ans = _between(last, "[The Start of Assistant's Answer]", "[The End of Assistant's Answer]") or last
            m = _Q.search(ans)
            q = m.group(1) if m else "5"
            if q == "bad":
                texts = ["The answer is decent, I would say fairly good overall."]
            elif "[RESULT]" in last:
                texts = [f"The response is reasonable. [RESULT] {q}"]
            else:
                texts = [f"The response addresses the question. Rating: [[{q}]]"]
        else:
            m = _CANDS.search(last)
            if not m:
                return resp
            cands = [c.strip() for c in m.group(1).split("|")]
            n = len(resp["choices"])
            seed = int(body.get("seed") or 0)
            texts = [cands[i % len(cands)] for i in range(n)] if n > 1 else [cands[seed % len(cands)]]
        for ch, t in zip(resp["choices"], texts):
            ch["message"]["content"] = t
            ch["message"].pop("reasoning_content", None)
        return resp
