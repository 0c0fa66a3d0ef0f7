"""`curate review export`: apply the reviewer's edits and decisions to the reviewed file.

Accepted rows go to ``--accepted``; rejected rows go to ``--badcases`` with the reviewer's reason
and tags in ``meta.review`` (plus the queue's own reason, when the file was a rejects queue), so
they can go straight back into `curate distill` or an eval set. Pending rows go to neither and
are counted as excluded ("pending"); a row that is not a conversation in any known format (a
broken JSON line, a group of ids) goes to the export's rejects with a reason, so in = out +
badcases + pending + rejects. A group row (dedup cluster, conflict group) counts as its members:
each member is exported with ``meta.review.group``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.io import RecordWriter
from curator.record import Conversation
from curator.review.session import ReviewSession
from curator.runner import CommandRun


def _review_meta(session: ReviewSession, idx: int) -> dict[str, Any]:
    item, st = session.item(idx), session.state(idx)
    meta: dict[str, Any] = {"status": st.status, "file": session.path.name, "line": item.line}
    if st.reason:
        meta["reason"] = st.reason
    if st.tags:
        meta["tags"] = list(st.tags)
    if st.edits:
        meta["edited"] = True
    if st.decided_at:
        meta["decided_at"] = st.decided_at
    if item.reason:
        meta["queue_reason"] = item.reason
    if item.message:
        meta["queue_message"] = item.message
    if item.kind == "group":
        meta["group"] = item.id
    return meta


def export(run: CommandRun, session: ReviewSession, badcases: Path | None) -> dict[str, int]:
    """Write accepted rows through `run` and rejected rows to `badcases`; returns the counts."""
    bad_writer = RecordWriter(badcases, "messages", rejects=run.rejects) if badcases else None
    counts = {"accepted": 0, "badcases": 0, "pending": 0}
    try:
        for idx in range(len(session)):
            item, st = session.item(idx), session.state(idx)
            members = range(len(item.members)) if item.kind == "group" else range(1)
            for mi in members:
                run.read_stats.rows += 1
                if st.status == "pending":
                    run.exclude("pending")
                    counts["pending"] += 1
                    continue
                if st.status == "rejected" and bad_writer is None:
                    run.exclude("rejected_no_badcases_file")
                    continue
                conv: Conversation | None = session.conversation(idx, mi)
                if conv is None:
                    member = item.members[mi] if mi < len(item.members) else None
                    run.rejects.add("not_a_record", f"{session.path}:{item.line}: {item.kind} row "
                                    f"{'member ' + str(mi + 1) + ' ' if item.kind == 'group' else ''}is not a "
                                    f"conversation in a known format, so it cannot be exported as {st.status} — "
                                    f"fix the row or convert it first", record=member.raw if member else item.row,
                                    source=str(session.path), line=item.line, id=item.id)
                    continue
                conv.meta.setdefault("source", item.source or session.path.name)
                conv.meta["review"] = _review_meta(session, idx)
                conv.add_lineage("review")
                if st.status == "accepted":
                    if run.write(conv):
                        counts["accepted"] += 1
                else:
                    if bad_writer.write(conv):  # type: ignore[union-attr]
                        counts["badcases"] += 1
                        run.exclude("review_rejected")
    except BaseException:
        if bad_writer:
            bad_writer.abort()
        raise
    if bad_writer:
        bad_writer.close()
    return counts
