"""The report's semantic diversity section, from embeddings.

- **Vendi score** (Friedman & Dieng, 2023): exp of the entropy of the eigenvalues of the
  similarity matrix K/n — the "effective number of distinct records": n identical records score
  1, n orthogonal ones n. With unit rows the non-zero eigenvalues of XXᵀ/n are those of XᵀX/n, a
  dim x dim matrix, so it costs O(n·dim²) whatever n is.
- **Clusters**: spherical k-means (`curator.semantic_dedup.kmeans`) into ~sqrt(n/2) clusters (at
  most 30), the largest with the record nearest its centre as an example, and the normalised
  entropy of the cluster sizes (1 = evenly spread, 0 = all in one).
- **Map**: the first two principal components, an inline SVG scatter (no CDN, no script).

When the file is the output of `curate select` (or `dedup --semantic`), the embedding store
beside it holds the whole pool with what became of each record, so the section shows the
selection against the pool: coverage (how many of the pool's clusters the selection reaches),
before/after Vendi and entropy, and the map coloured selected vs left out. Otherwise the file's
prompts are embedded with the offline lexical default.
"""

from __future__ import annotations

import math
from html import escape
from pathlib import Path
from typing import Any

import numpy as np

from curator.report.sampling import SAMPLE as _SAMPLE

MAX_POINTS = 1500
# A file (not a selection) is measured on a sample of at most this many prompts: the numbers are
# shares and an effective count, which a sample of this size estimates closely, and the section
# then costs the same time and memory on 10 million records as on 20 thousand. `describe` collects
# the sample in its own pass (`curator.report.sampling`), so the file is read once.
SAMPLE = _SAMPLE
_KEEP = ("selected", "kept")


def vendi_score(x: np.ndarray) -> float:
    """exp(entropy of the eigenvalues of the cosine-similarity matrix / n); 0 for no rows."""
    x = np.asarray(x, dtype=np.float64)
    if not len(x):
        return 0.0
    c = x.T @ x
    tr = float(np.trace(c))
    if tr <= 0:
        return 0.0
    lam = np.clip(np.linalg.eigvalsh(c / tr), 0.0, None)
    lam = lam[lam > 1e-12]
    return float(math.exp(-(lam * np.log(lam)).sum()))


def _entropy(counts: np.ndarray) -> float:
    """Normalised entropy of a distribution over the clusters (1 = even, 0 = one cluster)."""
    p = counts[counts > 0] / max(counts.sum(), 1)
    if len(counts) < 2 or not len(p):
        return 0.0
    return float(-(p * np.log(p)).sum() / math.log(len(counts)))


def _read_prompts(path: Path, fmt: str | None, encoding: str | None, limit: int | None = None,
                  seed: int = 0) -> tuple[list[str], list[str], int]:
    """(ids, prompts, records read): all of them, or a seeded reservoir sample of `limit` kept in
    file order (the same file and seed give the same sample)."""
    import random

    from curator.io import read_records
    from curator.rejects import RejectSink

    rng = random.Random(seed)
    kept: list[tuple[int, str, str]] = []
    n = 0
    for conv in read_records(path, fmt, encoding=encoding, rejects=RejectSink(None), allow=("no_assistant",)):
        if limit is None or n < limit:
            kept.append((n, conv.id, conv.prompt_text()))
        else:
            j = rng.randrange(n + 1)
            if j < limit:
                kept[j] = (n, conv.id, conv.prompt_text())
        n += 1
    kept.sort()
    return [k[1] for k in kept], [k[2] for k in kept], n


def has_selection_store(path: str | Path) -> bool:
    """True when `path` is the output of `curate select` (or `dedup --semantic`) with its store."""
    from curator.embed_store import load_store

    found = load_store(path)
    return found is not None and bool(found[1].get("ids")) and bool(found[1].get("status"))


def semantic_diversity(path: str | Path, fmt: str | None = None, *, encoding: str | None = None,
                       seed: int = 0, prompts: tuple[list[str], list[str], int] | None = None) -> dict[str, Any]:
    """The section's numbers (JSON-ready). `prompts`: (ids, prompts, records) of the file, already
    sampled by the report's pass (`curator.report.sampling.PromptSample`); read here when None."""
    from curator.embed import LexicalEmbedder
    from curator.embed_store import embed_texts, load_store
    from curator.semantic_dedup import kmeans

    found = load_store(path)
    if found is not None and found[1].get("ids") and found[1].get("status"):
        ids, texts, total = _read_prompts(Path(path), fmt, encoding)
    elif prompts is not None:
        ids, texts, total = prompts
    else:
        ids, texts, total = _read_prompts(Path(path), fmt, encoding, limit=SAMPLE, seed=seed)
    text_of = dict(zip(ids, texts))
    if found is not None and found[1].get("ids") and found[1].get("status"):
        vecs, index = found
        pool = np.asarray(vecs, dtype=np.float32)
        pool_ids = list(index["ids"])
        chosen = np.asarray([s in _KEEP for s in index["status"]])
        mode = "selection"
        from curator.select_run import unselected_path

        left = unselected_path(path)
        if left.is_file():  # examples for clusters the selection left out
            more_ids, more_texts, _ = _read_prompts(left, None, None)
            text_of.update(zip(more_ids, more_texts))
        embedder = index.get("identity", {})
    else:
        emb = LexicalEmbedder()
        pool, _ = embed_texts(texts, emb)
        pool_ids = ids
        chosen = np.ones(len(ids), dtype=bool)
        mode = "file"
        embedder = emb.identity()
    n = len(pool)
    out: dict[str, Any] = {"mode": mode, "records": n, "chosen": int(chosen.sum()),
                           **({"sampled_from": total} if mode == "file" and total > n else {}),
                           "embedder": {k: v for k, v in embedder.items() if k in ("kind", "model", "dim", "path")}}
    if n < 2:
        return out
    k = int(min(30, max(2, round(math.sqrt(n / 2)))))
    k = min(k, n)
    assign = kmeans(pool, k, seed=seed)
    sizes = np.bincount(assign, minlength=k)
    sel_sizes = np.bincount(assign[chosen], minlength=k)
    out["vendi"] = {"pool": round(vendi_score(pool), 2), "chosen": round(vendi_score(pool[chosen]), 2)}
    out["clusters"] = {"k": k, "coverage": round(float((sel_sizes > 0).sum()) / k, 4),
                       "covered": int((sel_sizes > 0).sum()),
                       "entropy_pool": round(_entropy(sizes), 4), "entropy_chosen": round(_entropy(sel_sizes), 4)}
    largest = []
    for c in np.argsort(-sizes, kind="stable")[:8]:
        members = np.flatnonzero(assign == c)
        centre = pool[members].mean(axis=0)
        best = members[np.argsort(-(pool[members] @ centre), kind="stable")]
        example = next((text_of[pool_ids[i]] for i in best if pool_ids[i] in text_of), "")
        largest.append({"cluster": int(c), "size": int(sizes[c]), "chosen": int(sel_sizes[c]),
                        "example": example[:160]})
    out["largest"] = largest
    out["map"] = _map(pool, chosen, seed)
    return out


def _map(pool: np.ndarray, chosen: np.ndarray, seed: int) -> dict[str, Any]:
    """2-D PCA coordinates of at most MAX_POINTS records (a seeded sample), scaled to [0, 1]."""
    mean = pool.mean(axis=0)
    c = pool - mean
    _, _, vt = np.linalg.svd(c[: min(len(c), 20000)], full_matrices=False)
    rng = np.random.default_rng(seed)
    take = np.sort(rng.choice(len(pool), size=min(MAX_POINTS, len(pool)), replace=False))
    xy = c[take] @ vt[:2].T
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    xy = (xy - lo) / np.where(hi - lo > 0, hi - lo, 1)
    return {"x": np.round(xy[:, 0], 4).tolist(), "y": np.round(xy[:, 1], 4).tolist(),
            "chosen": chosen[take].astype(int).tolist()}


def render(d: dict[str, Any] | None, width: int = 560) -> str:
    """HTML for one input's section (numbers, map, largest clusters)."""
    from curator.i18n import tr

    if not d or "vendi" not in d:
        return '<p class="empty">too few records for a diversity map</p>'
    sel = d["mode"] == "selection"
    cl = d["clusters"]
    rows = [("records" + (" in the pool" if sel else ""), str(d["records"]) + (
        " (" + tr("estimated from {n:,} of {m:,} records", n=d["records"], m=d["sampled_from"]) + ")"
        if d.get("sampled_from") else ""))]
    if sel:
        rows += [("selected", str(d["chosen"])),
                 ("Vendi score, pool → selected", f'{d["vendi"]["pool"]:g} → {d["vendi"]["chosen"]:g}'),
                 ("clusters covered by the selection", f'{cl["covered"]} of {cl["k"]} ({cl["coverage"]:.0%})'),
                 ("cluster entropy, pool → selected", f'{cl["entropy_pool"]:.3f} → {cl["entropy_chosen"]:.3f}')]
    else:
        rows += [("Vendi score (effective distinct records)", f'{d["vendi"]["pool"]:g}'),
                 ("clusters", str(cl["k"])), ("cluster entropy (1 = even)", f'{cl["entropy_pool"]:.3f}')]
    table = '<table class="k">' + "".join(f"<tr><td>{escape(a)}</td><td>{escape(b)}</td></tr>" for a, b in rows)
    table += "</table>"
    clusters = "".join(f'<tr><td>{c["size"]}</td>' + (f'<td>{c["chosen"]}</td>' if sel else "")
                       + f'<td style="text-align:left">{escape(c["example"])}</td></tr>' for c in d["largest"])
    head = "<tr><th>size</th>" + ("<th>selected</th>" if sel else "") + "<th>example (nearest the centre)</th></tr>"
    return (table + _scatter(d["map"], width, sel) + '<h3>largest clusters</h3><table class="k">' + head
            + clusters + "</table>")


def _scatter(m: dict[str, Any], width: int, sel: bool) -> str:
    h = int(width * 0.62)
    pad = 8
    pts = []
    # left-out records first, so selected ones are drawn on top
    for want in ((0, 1) if sel else (1,)):
        color = "#4C78A8" if want else "#c8c8c8"
        for x, y, c in zip(m["x"], m["y"], m["chosen"]):
            if c == want:
                pts.append(f'<circle cx="{pad + x * (width - 2 * pad):.1f}" cy="{pad + y * (h - 2 * pad):.1f}" '
                           f'r="2" fill="{color}"/>')
    legend = ('<text x="8" y="14" fill="#4C78A8">● selected</text><text x="90" y="14" fill="#999">● left out</text>'
              if sel else "")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
            f'role="img" font-size="11"><rect width="{width}" height="{h}" fill="#fff" stroke="#ddd"/>'
            + "".join(pts) + legend + "</svg>")
