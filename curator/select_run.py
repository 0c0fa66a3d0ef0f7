"""The body of `curate select` (shared by the command and recipes): two passes over the input.

Pass 1 keeps compact per-record state — id, origin, score, group, contamination verdict and the
text to embed (released once embedded) — and embeds the texts (reusing the store beside the
output). `curator.select.plan` decides. Pass 2 re-reads the input and writes each record either to
the output (``meta.select``: rank and score) or to ``<out>.unselected.jsonl`` (``meta.unselected``:
reason, message, and for too_close the neighbour and the similarity), counted as excluded by
reason, so in = out + rejected + unselected. Unselected records are ordinary canonical records:
`curate review`, `report` or a second `select` read them as they are.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from curator.errors import UsageError
from curator.record import Conversation
from curator.select import (BELOW_BUDGET, CONTAMINATED, QUOTA_FULL, SELECTED, STATUS, TOO_CLOSE, SelectConfig,
                            assign_groups, meta_field, parse_score, plan, record_score)


def unselected_path(out: str | Path) -> Path:
    from curator.rejects import _sibling

    return _sibling(out, ".unselected.jsonl")


def embed_text(conv: Conversation, on: str) -> str:
    if on == "conversation":
        return conv.prompt_text() + "\n" + conv.answer_text()
    return conv.prompt_text()


def run_select(run, read: Callable[[], Iterable[Conversation]], reread: Callable[[], Iterator[Conversation]],
               cfg: SelectConfig, embedder, *, against_index=None, score_fn=None) -> None:
    """Select from `read()`'s records into `run` (a CommandRun); `reread()` yields them again quietly.

    `score_fn(records) -> None`, when given, fills meta.scores on a batch (IFD/perplexity) in pass 1.
    """
    from curator.embed_store import embed_texts, save_store

    t0 = time.perf_counter()
    terms = parse_score(cfg.score)
    ids: list[str] = []
    origins: list[Any] = []
    scores: list[float] = []
    group_values: list[Any] = []
    texts: list[str] = []
    contaminated: list[int] = []
    contam_where: dict[int, tuple[str, str]] = {}
    computed: dict[str, dict[str, float]] = {}
    batch: list[Conversation] = []

    def take(batch_: list[Conversation]) -> None:
        if score_fn is not None:
            score_fn(batch_)
        for conv in batch_:
            i = len(ids)
            ids.append(conv.id)
            origins.append(conv.origin)
            sc = conv.meta.get("scores")
            if score_fn is not None and isinstance(sc, dict):
                computed[conv.id] = {k: sc[k] for k in ("ifd", "ppl") if k in sc}
            scores.append(record_score(sc, terms))
            group_values.append(meta_field(conv.meta, cfg.balance) if cfg.balance else None)
            texts.append(embed_text(conv, cfg.embed_on))
            if against_index is not None:
                hit = against_index.match(conv.prompt_text())
                if hit is not None:
                    contaminated.append(i)
                    contam_where[i] = hit

    for conv in read():
        batch.append(conv)
        if len(batch) >= 256:
            take(batch)
            batch = []
    if batch:
        take(batch)
    t_read = time.perf_counter() - t0

    estats: dict[str, int] = {}
    # embedded for every method: even score-only selection writes the store `report` draws from
    vectors, keys = embed_texts(texts, embedder, cache=run.out, stats=estats)
    del texts
    t_embed = time.perf_counter() - t0 - t_read

    score_arr = np.asarray(scores, dtype=np.float64)
    groups = assign_groups(group_values) if cfg.balance else None
    mask = np.zeros(len(ids), dtype=bool)
    mask[contaminated] = True
    pl = plan(vectors, score_arr, cfg, groups=groups, contaminated=mask)
    t_plan = time.perf_counter() - t0 - t_read - t_embed
    rank = {i: r for r, i in enumerate(pl.order)}

    # pass 2: the same valid records in the same order
    from curator.io import RecordWriter

    unsel = RecordWriter(unselected_path(run.out), "messages")
    try:
        i = 0
        for conv in reread():
            if i >= len(ids) or conv.id != ids[i]:
                raise UsageError(f"the input changed while select was reading it (record {i + 1} differs); run again")
            if conv.id in computed:
                conv.meta.setdefault("scores", {}).update(computed[conv.id])
            st = int(pl.status[i])
            if st == SELECTED:
                conv.meta["select"] = {"rank": rank[i], "score": _num(score_arr[i])}
                conv.add_lineage("select")
                run.write(conv)
            else:
                reason = STATUS[st]
                conv.meta["unselected"] = _why(i, st, pl, ids, score_arr, cfg, groups, contam_where)
                unsel.write(conv)
                run.exclude(reason)
            i += 1
        if i != len(ids):
            raise UsageError("the input changed while select was reading it (fewer records on the second pass)")
    except BaseException:
        unsel.abort()
        raise
    unsel.close()

    status_names = [STATUS[int(s)] for s in pl.status]
    if vectors is not None and run.out is not None:
        save_store(run.out, vectors, keys, embedder.identity(), ids=ids, status=status_names)
    sel = score_arr[pl.status == SELECTED]
    run.extra["select"] = {
        "budget": cfg.budget, "fraction": cfg.fraction, "target": pl.target, "method": cfg.method,
        "threshold": cfg.threshold if cfg.method == "deita" else None, "score": cfg.score or "mean of meta.scores",
        "balance": cfg.balance, "quotas": pl.quotas, "embed_on": cfg.embed_on, "embedder": embedder.identity(),
        "embeddings": estats, "against": cfg.against, "ngram": cfg.ngram if cfg.against else None,
        "status": pl.counts(), "unselected": str(unselected_path(run.out)),
        "scores": {"all": _summary(score_arr), "selected": _summary(sel)},
        "seconds": {"read": round(t_read, 3), "embed": round(t_embed, 3), "plan": round(t_plan, 3)},
    }
    if score_fn is not None:
        run.extra["select"]["score_model"] = {"path": str(getattr(score_fn, "path", "")),
                                              "scored": getattr(score_fn, "scored", None),
                                              "skipped_no_answer": getattr(score_fn, "skipped", None)}


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(float(x), 6)


def _summary(a: np.ndarray) -> dict[str, Any]:
    a = a[~np.isnan(a)]
    if not len(a):
        return {"n": 0}
    return {"n": int(len(a)), "min": round(float(a.min()), 4), "mean": round(float(a.mean()), 4),
            "max": round(float(a.max()), 4)}


def _why(i: int, st: int, pl, ids, scores, cfg: SelectConfig, groups, contam_where) -> dict[str, Any]:
    """meta.unselected: a reason code, a sentence, and the evidence."""
    d: dict[str, Any] = {"reason": STATUS[st]}
    if st == TOO_CLOSE:
        j = int(pl.neighbour[i])
        s = round(float(pl.similarity[i]), 4)
        d.update(neighbour=ids[j], similarity=s)
        if cfg.method == "kcenter":
            d["message"] = f"covered by selected record {ids[j]} (cosine similarity {s:.3f}); k-center chose others"
        else:
            d["message"] = (f"too close to selected record {ids[j]} (cosine similarity {s:.3f} > threshold "
                            f"{cfg.threshold}); a better-scored near-duplicate was kept")
    elif st == QUOTA_FULL:
        g = groups[i]
        d.update(group=g, quota=pl.quotas.get(g) if pl.quotas else None)
        d["message"] = f"{cfg.balance} group {g!r} reached its quota of {d['quota']}"
    elif st == CONTAMINATED:
        f, eid = contam_where[i]
        d.update(against=f, against_id=eid)
        d["message"] = f"prompt shares a {cfg.ngram}-token n-gram with {f} record {eid} (eval/benchmark overlap)"
    elif st == BELOW_BUDGET:
        sc = _num(scores[i])
        d["score"] = sc
        d["message"] = (f"score {sc} ranked below the {pl.target} selected" if sc is not None else
                        f"no usable {cfg.score or 'meta.scores'} value: ranked last, below the {pl.target} selected")
    return d
