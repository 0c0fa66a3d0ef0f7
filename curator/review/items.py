"""What one row of a review file is, whatever produced it.

A row is read as, in this order:
- a *reject* (``{"reason", "message", ..., "record"}`` from any command's ``*.rejects.jsonl``): the
  reason and message are shown, and `record` is parsed through `curator.formats` when it can be,
  else shown raw;
- a *group* (a dedup cluster or a conflict group: ``{"cluster_id"|"group"|"id", "members"|"records":
  [...]}``): the members are shown side by side;
- a *record* in any format `curator.formats` detects; one whose ``meta.candidates`` is a list is a
  best-of-K prompt and all its candidates are shown with their scores;
- anything else is *raw* and shown as JSON, so nothing in a file is hidden from the reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curator.errors import RowError
from curator.formats import detect_row, parse_row
from curator.record import Conversation

_GROUP_KEYS = ("members", "records", "items", "candidates")
_GROUP_ID_KEYS = ("cluster_id", "group_id", "group", "cluster", "id")
_SCORE_KEYS = ("score", "reward", "overall", "judge_score", "quality")


@dataclass
class Member:
    """One conversation shown in the detail pane (the record, a group member, a candidate)."""

    label: str
    conv: Conversation | None
    raw: Any = None  # shown as JSON when `conv` is None
    score: float | None = None


@dataclass
class ReviewItem:
    index: int
    line: int
    kind: str  # record | reject | group | bestofk | raw | broken
    id: str
    members: list[Member]
    reason: str | None = None  # from the queue (a rejects file), not the reviewer
    message: str | None = None
    stage: str | None = None
    source: str | None = None
    duplicate_of: str | None = None
    score: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    row: Any = None

    def first_words(self) -> str:
        for m in self.members:
            if m.conv is not None:
                for msg in m.conv.messages:
                    if msg.role == "user" and msg.content.strip():
                        return msg.content.strip()
                for msg in m.conv.messages:
                    if msg.content.strip():
                        return msg.content.strip()
            elif m.raw is not None:
                return m.raw if isinstance(m.raw, str) else str(m.raw)
        return self.message or ""

    def search_text(self) -> str:
        """Everything a `/` search looks at, lower-cased."""
        parts = [self.id, self.reason or "", self.message or "", self.source or ""]
        for m in self.members:
            if m.conv is not None:
                for msg in m.conv.messages:
                    parts.append(msg.content)
                    if msg.reasoning:
                        parts.append(msg.reasoning)
            elif m.raw is not None:
                parts.append(str(m.raw))
        return "\n".join(parts).lower()


def parse_conversation(obj: Any) -> Conversation | None:
    """A Conversation when `obj` is a row of any known format, else None (shown raw)."""
    if not isinstance(obj, dict):
        return None
    fmt = detect_row(obj)
    if fmt is None:
        return None
    try:
        return parse_row(obj, fmt)
    except (RowError, TypeError, ValueError, KeyError, AttributeError):
        return None


def as_score(v: Any) -> float | None:
    """A number from a score field: a number, or the first known key of a dict of scores."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        for k in _SCORE_KEYS:
            if k in v and (s := as_score(v[k])) is not None:
                return s
        nums = [float(x) for x in v.values() if isinstance(x, (int, float)) and not isinstance(x, bool)]
        return sum(nums) / len(nums) if nums else None
    return None


def _score_of(d: dict[str, Any]) -> float | None:
    for k in _SCORE_KEYS + ("scores",):
        if k in d and (s := as_score(d[k])) is not None:
            return s
    return None


def _member(label: str, obj: Any) -> Member:
    conv = parse_conversation(obj)
    score = _score_of(obj) if isinstance(obj, dict) else None
    if conv is not None and score is None:
        score = _score_of(conv.meta)
    return Member(label, conv, None if conv is not None else obj, score)


def _candidate(i: int, prompt: Conversation, cand: Any) -> Member:
    """A best-of-K candidate: a full record, or an answer to the prompt with a score."""
    label = f"candidate {i + 1}"
    if isinstance(cand, dict):
        if "messages" in cand or "conversations" in cand:
            return _member(label, cand)
        text = next((cand[k] for k in ("content", "text", "answer", "response", "completion", "output")
                     if isinstance(cand.get(k), str)), None)
        if text is not None:
            from curator.record import Message

            conv = Conversation(prompt.prompt_messages() + [Message("assistant", text, reasoning=cand.get("reasoning_content") or cand.get("reasoning"))],
                                id=f"{prompt.id}#c{i + 1}", meta={k: v for k, v in cand.items() if k not in ("content", "text", "answer", "response", "completion", "output")})
            return Member(label, conv, None, _score_of(cand))
        return Member(label, None, cand, _score_of(cand))
    if isinstance(cand, str):
        from curator.record import Message

        return Member(label, Conversation(prompt.prompt_messages() + [Message("assistant", cand)], id=f"{prompt.id}#c{i + 1}"))
    return Member(label, None, cand)


def _reference(conv: Conversation) -> list[Member]:
    """A model output with ``meta.reference`` (train generate, curate eval --badcases): the
    reference answer is shown beside the model's answer, as a second member."""
    from curator.record import Message

    # meta.previous_answer: the answer this one replaced or is compared with (train generate when the
    # old answer is not a gold one, a regenerated badcase, best-of-K input) — shown the same way.
    for key, label in (("reference", "reference"), ("previous_answer", "previous answer")):
        ref = conv.meta.get(key)
        text = ref.get("content") if isinstance(ref, dict) else ref
        if isinstance(text, str) and text.strip():
            return [Member(label, Conversation(conv.prompt_messages() + [Message("assistant", text)],
                                               id=f"{conv.id}#ref"))]
    return []


def _resolved(row: dict[str, Any]) -> Any:
    """A reject's record; for a `dedup --rejects-mode ref` row, the input line it points at (or, when
    that line changed or is gone, the one-line reason, shown raw)."""
    if row.get("record") is None and isinstance(row.get("ref"), dict):
        from curator.reject_refs import resolve

        try:
            return resolve(row["ref"])
        except RowError as e:
            return f"{e.code}: {e.sentence()}"
    return row["record"]


def interpret(index: int, line: int, row: Any) -> ReviewItem:
    """The `ReviewItem` for one row (never raises: unknown shapes become `raw`)."""
    if isinstance(row, dict) and "__error__" in row:
        return ReviewItem(index, line, "broken", f"line {line}", [Member("raw line", None, row.get("__raw__"))],
                          reason="invalid_json", message=row["__error__"], row=row)
    if not isinstance(row, dict):
        return ReviewItem(index, line, "raw", f"line {line}", [Member("row", None, row)], row=row)
    if "reason" in row and "record" in row:
        m = _member("record", _resolved(row))
        rid = row.get("id") or (m.conv.id if m.conv else None) or f"line {line}"
        return ReviewItem(index, line, "reject", str(rid), [m], reason=str(row.get("reason")),
                          message=row.get("message"), stage=row.get("stage"), source=row.get("source"),
                          duplicate_of=row.get("duplicate_of"), score=m.score, meta=m.conv.meta if m.conv else {}, row=row)
    if isinstance(row.get("kept"), dict) and isinstance(row.get("dropped"), list):
        # a `curate dedup --report` cluster: the kept record, then what was dropped as its duplicate
        members = [Member("kept", None, row["kept"])] + [Member(f"dropped {i + 1}", None, d)
                                                          for i, d in enumerate(row["dropped"])]
        gid = row.get("cluster", f"line {line}")
        return ReviewItem(index, line, "group", f"cluster {gid}", members, reason="duplicate_cluster",
                          meta={k: v for k, v in row.items() if k not in ("kept", "dropped")}, row=row)
    for gk in _GROUP_KEYS:
        group = row.get(gk)
        if isinstance(group, list) and gk != "candidates" and not ("messages" in row or "conversations" in row):
            gid = next((row[k] for k in _GROUP_ID_KEYS if k in row and row[k] is not None), f"line {line}")
            members = [_member(f"member {i + 1}", obj) for i, obj in enumerate(group)]
            for mem, obj in zip(members, group):
                if mem.conv is None and isinstance(obj, dict) and isinstance(obj.get("record"), dict):
                    mem.conv = parse_conversation(obj["record"])  # {"id", "record"} members
                    mem.raw = None if mem.conv else obj
            scores = [m.score for m in members if m.score is not None]
            return ReviewItem(index, line, "group", str(gid), members, reason=row.get("reason"), message=row.get("message"),
                              score=max(scores) if scores else _score_of(row), meta={k: v for k, v in row.items() if k != gk}, row=row)
    conv = parse_conversation(row)
    if conv is None:
        return ReviewItem(index, line, "raw", str(row.get("id") or f"line {line}"), [Member("row", None, row)], row=row)
    meta = conv.meta
    cands = meta.get("candidates")
    if isinstance(cands, list) and cands:
        members = [Member("record", conv, None, _score_of(meta))] + [_candidate(i, conv, c) for i, c in enumerate(cands)]
        scores = [m.score for m in members[1:] if m.score is not None]
        return ReviewItem(index, line, "bestofk", conv.id, members, reason=meta.get("reason"), source=meta.get("source"),
                          score=max(scores) if scores else _score_of(meta), meta=meta, row=row)
    return ReviewItem(index, line, "record", conv.id, [Member("record", conv, None, _score_of(meta)), *_reference(conv)],
                      reason=meta.get("reason") if isinstance(meta.get("reason"), str) else None,
                      source=meta.get("source"), score=_score_of(meta), meta=meta, row=row)
