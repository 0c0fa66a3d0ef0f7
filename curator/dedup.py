"""Exact and near-duplicate removal, and conflict detection, with memory bounded by signatures.

The work is split so that no stage holds records:

1. `sketch_batch(texts)` — pure, per batch: normalised exact keys and MinHash signatures of the
   prompt side and the answer side of each record (see `curator.minhash`). Commands map it over
   batches with a process pool; a cluster engine could map it the same way.
2. `Sketches` — the compact per-record state gathered from those batches: two 64-bit keys, two
   signatures, a length, a score and the id. About 0.5 KB a record at 64 permutations.
3. `plan(sketches, config)` — finds LSH candidate buckets (`lsh_candidates`; a cluster engine
   passes its own, computed by a shuffle, as `Candidates`), verifies pairs in them
   (`curator.dedup_graph`), and decides, for every record index, whether it is kept, or dropped as
   a `duplicate` (same normalised key as the kept one) / `near_duplicate` (signatures similar) /
   `conflict`, which record is kept in its place, and which verified match tied it to that record.
   Clusters are the connected components of the verified matches.
4. The command then re-reads the input and writes the kept records (a second pass).

What "the same" means, per `--on`:
- prompt: the non-assistant messages (system, user, tool) — the instruction and its input;
- answer: the assistant messages' content;
- conversation: one similarity for the pair, the Jaccard of prompt + answer taken as one set of
  shingles, rebuilt from the two sides' estimates (see `_on_similarity`): a long answer weighs
  more than a short prompt. It is not "both sides >= threshold": a pair whose 40-character prompts
  differ by a prefix but whose 2,000-character answers are the same is a near-duplicate. Keeping
  the two sides apart costs nothing (the shingles are the same ones) and gives conflicts for
  free: same prompt, different answer.

LSH: signatures are cut into `bands` of `rows` values; records sharing a band's values land in one
bucket. Every pair inside a bucket counts as a candidate (up to a bound for huge buckets, see
`curator.dedup_graph`), and each is verified on its estimated Jaccard before it is united, which
keeps the precision of a plain "union every bucket" away from accidental band collisions.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, Any, Iterable, Literal, Sequence

import numpy as np
import xxhash

from curator.config_check import Bounds, check_config
from curator.dedup_graph import (Buckets, band_buckets, connected_components, first_member_pairs, keep_members,
                                  link_tree, match_edges, merge_buckets, unique_pairs)
from curator.minhash import (EMPTY, MinHashParams, band_keys, optimal_bands, pair_similarity, shingle_sizes,
                             signatures)
from curator.record import Conversation
from curator.textnorm import normalize_many


KEPT, DUPLICATE, NEAR_DUPLICATE, CONFLICT = 0, 1, 2, 3
REASONS = {DUPLICATE: "duplicate", NEAR_DUPLICATE: "near_duplicate", CONFLICT: "conflict"}


@dataclass(frozen=True)
class DedupConfig:
    """Parameters of one dedup run (the CLI options, one to one)."""

    on: Literal["prompt", "answer", "conversation"] = "conversation"
    exact_only: bool = False
    threshold: Annotated[float, Bounds(0, 1, lo_open=True, example="0.8")] = 0.7
    keep: Literal["first", "longest", "best-score"] = "first"
    score_key: str | None = None
    conflict_threshold: Annotated[float, Bounds(0, 1)] = 0.5
    drop_conflicts: bool = False
    rejects_mode: Literal["full", "ref"] = "full"  # a dropped duplicate's reject: the record, or its input line
    minhash: MinHashParams = field(default_factory=MinHashParams)

    def __post_init__(self) -> None:
        check_config(self)


# ----------------------------------------------------------------------------------- texts
def record_texts(conv: Conversation) -> tuple[str, str]:
    """(prompt side, answer side) of a conversation, as dedup compares them."""
    prompt = "\n".join(m.content for m in conv.messages if m.role != "assistant" and m.content)
    answer = "\n".join(m.content for m in conv.messages if m.role == "assistant" and m.content)
    return prompt, answer


def record_score(conv: Conversation, key: str | None) -> float:
    """The number `--keep best-score` ranks by: meta.scores[key], or the mean of numeric scores."""
    return meta_score(conv.meta, key)


def meta_score(meta: dict[str, Any], key: str | None) -> float:
    """`record_score` of a record with this meta."""
    scores = meta.get("scores")
    if not isinstance(scores, dict):
        return -math.inf
    if key is not None:
        v = scores.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else -math.inf
    vals = [float(v) for v in scores.values() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return sum(vals) / len(vals) if vals else -math.inf


def record_fields(conv: Conversation, cfg: DedupConfig) -> tuple[tuple[str, str], int, float]:
    """What pass 1 keeps of a record besides its id and origin: its texts (to sketch), the length
    `--keep longest` ranks by and the score `--keep best-score` ranks by."""
    return texts_fields(record_texts(conv), conv.meta, cfg)


def texts_fields(texts: tuple[str, str], meta: dict[str, Any], cfg: DedupConfig) -> tuple[tuple[str, str], int, float]:
    """`record_fields` of a record with these (prompt, answer) texts and this meta."""
    p, a = texts
    length = len(p) + len(a) if cfg.on == "conversation" else len(p if cfg.on == "prompt" else a)
    return texts, length, meta_score(meta, cfg.score_key) if cfg.keep == "best-score" else 0.0


@dataclass
class BatchSketch:
    """Per-record state for one batch (all arrays have one row per record, in input order)."""

    key_prompt: np.ndarray  # uint64
    key_answer: np.ndarray  # uint64
    sig_prompt: np.ndarray | None  # uint32 [n, num_perm]; None when exact-only
    sig_answer: np.ndarray | None
    n_prompt: np.ndarray | None = None  # int32 shingle counts, to weigh the two sides
    n_answer: np.ndarray | None = None


def _key(norm: str) -> int:
    return xxhash.xxh3_64_intdigest(norm.encode("utf-8", "surrogatepass"))


def sketch_batch(texts: Sequence[tuple[str, str]], params: MinHashParams | None) -> BatchSketch:
    """Pure: exact keys and (unless `params` is None) MinHash signatures of (prompt, answer) pairs."""
    np_ = normalize_many([p for p, _ in texts])
    na = normalize_many([a for _, a in texts])
    kp = np.fromiter((_key(t) for t in np_), dtype=np.uint64, count=len(texts))
    ka = np.fromiter((_key(t) for t in na), dtype=np.uint64, count=len(texts))
    if params is None:
        return BatchSketch(kp, ka, None, None)

    def side(ts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        sizes = shingle_sizes(ts, params)  # per text: its script's n-gram size
        lens = np.fromiter((len(t) for t in ts), np.int64, len(ts))
        return signatures(ts, params, sizes), np.where(lens == 0, 0, np.maximum(1, lens - sizes + 1)).astype(np.int32)

    (sp, cp), (sa, ca) = side(np_), side(na)
    return BatchSketch(kp, ka, sp, sa, cp, ca)


class Sketches:
    """Compact per-record state accumulated over a whole input (no texts)."""

    def __init__(self) -> None:
        self._parts: list[BatchSketch] = []
        self.ids: list[str] = []
        self.origins: list[tuple[str, int] | None] = []
        self._lengths: list[np.ndarray] = []  # one int64 / float64 array per batch, not a Python
        self._scores: list[np.ndarray] = []  # number per record (~60 MB less at 1M records)

    def add(self, batch: BatchSketch, ids: list[str], origins: list[tuple[str, int] | None],
            lengths: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> None:
        self._parts.append(batch)
        self.ids.extend(ids)
        self.origins.extend(origins)
        self._lengths.append(np.asarray(lengths, dtype=np.int64))
        self._scores.append(np.asarray(scores, dtype=np.float64))

    def __len__(self) -> int:
        return len(self.ids)

    def arrays(self) -> dict[str, Any]:
        """Concatenate the batches (called once, by `plan`)."""
        names = ("key_prompt", "key_answer", "sig_prompt", "sig_answer", "n_prompt", "n_answer")
        out: dict[str, Any] = {name: None for name in names}
        if self._parts:
            # one preallocated array per field, filled batch by batch while the batches are let go:
            # the peak is the sketches once plus one batch, not twice (0.5 GB less at 1M records)
            total = sum(len(p.key_prompt) for p in self._parts)
            first = self._parts[0]
            for name in names:
                v = getattr(first, name)
                if v is not None:
                    out[name] = np.empty((total, *v.shape[1:]), dtype=v.dtype)
            first = v = None
            pos = 0
            parts, self._parts = self._parts, []
            parts.reverse()
            while parts:
                p = parts.pop()
                m = len(p.key_prompt)
                for name in names:
                    if out[name] is not None:
                        out[name][pos:pos + m] = getattr(p, name)
                pos += m
                del p
        if out["key_prompt"] is None:
            out["key_prompt"] = out["key_answer"] = np.empty(0, np.uint64)
        self._parts = [BatchSketch(out["key_prompt"], out["key_answer"], out["sig_prompt"], out["sig_answer"],
                                   out["n_prompt"], out["n_answer"])]
        out["length"] = np.concatenate(self._lengths) if self._lengths else np.empty(0, np.int64)
        out["score"] = np.concatenate(self._scores) if self._scores else np.empty(0, np.float64)
        self._lengths, self._scores = [out["length"]], [out["score"]]
        return out


# ------------------------------------------------------------------------------ clustering
def bucket_pairs(keys: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Star pairs from bucket keys (uint64 [n, k]): each bucket member with the bucket's first
    (smallest) index. Returns unique (a, b) with a < b. Complete for exact keys (equality is
    transitive) and for conflict groups; near-duplicates use `curator.dedup_graph` instead."""
    n, bands = keys.shape
    idx_all = np.arange(n, dtype=np.int64)
    if valid is not None:
        idx_all = idx_all[valid]
    out_a, out_b = [], []
    for j in range(bands):
        col = keys[idx_all, j]
        order = np.argsort(col, kind="stable")
        sk = col[order]
        si = idx_all[order]
        if len(sk) < 2:
            continue
        new = np.concatenate(([True], sk[1:] != sk[:-1]))
        group_start = np.maximum.accumulate(np.where(new, np.arange(len(sk)), 0))
        dup = ~new
        out_a.append(si[group_start[dup]])
        out_b.append(si[dup])
    return _unique_pairs(out_a, out_b)


def key_pairs(keys: np.ndarray, valid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (first index with this key, other index) for equal exact keys."""
    return bucket_pairs(keys.reshape(-1, 1), valid)


def _pair_sims(sigs: list[np.ndarray], empties: list[np.ndarray], a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """Estimated similarity per part; two empty texts are identical (1.0), one empty is 0."""
    out = []
    for sig, empty in zip(sigs, empties):
        s = pair_similarity(sig, a, b)
        ea, eb = empty[a], empty[b]
        s[ea & eb] = 1.0
        s[ea ^ eb] = 0.0
        out.append(s)
    return out


@dataclass
class DedupPlan:
    """The decision for every record index."""

    status: np.ndarray  # int8: KEPT / DUPLICATE / NEAR_DUPLICATE / CONFLICT
    kept_of: np.ndarray  # int64: index of the record kept in this one's place (itself when kept)
    similarity: np.ndarray  # float64: similarity of the match that ties this record in (1.0 for exact)
    clusters: list[list[int]]  # clusters of >= 2 records, kept record first
    conflicts: list[dict[str, Any]]  # conflict groups
    bands: int = 0
    rows: int = 0
    matched: np.ndarray | None = None  # int64: the record this one actually matched (kept_of, or a
    # member one step closer to it); `similarity` is that match's
    large_buckets: int = 0  # buckets compared by sorted neighbours, not all pairs (dedup_graph)

    def counts(self) -> dict[str, int]:
        return {REASONS.get(s, "kept"): int((self.status == s).sum()) for s in (KEPT, DUPLICATE, NEAR_DUPLICATE, CONFLICT)}


@dataclass
class Candidates:
    """Unverified LSH candidates, the part of `plan` a cluster engine computes by a shuffle instead
    (`curator.engine.ray_dedup`): the same buckets and pairs, so the same plan.

    near: the buckets of the `--on` side's bands (both sides' for conversation), over non-empty
    texts; conflict: star pairs of the prompt bands, over records with a non-empty prompt AND answer."""

    near: Buckets
    conflict: tuple[np.ndarray, np.ndarray]


def lsh_sides(on: str) -> tuple[bool, bool]:
    """Which sides' bands give near-duplicate candidates: (prompt, answer)."""
    return on in ("prompt", "conversation"), on in ("answer", "conversation")


def lsh_candidates(arr: dict[str, Any], cfg: DedupConfig, bands: int, rows: int) -> Candidates:
    """The single-process way: band keys of every record, then buckets per band."""
    sig_p, sig_a = arr["sig_prompt"], arr["sig_answer"]
    empty_p = sig_p[:, 0] == EMPTY
    empty_a = sig_a[:, 0] == EMPTY
    use_p, use_a = lsh_sides(cfg.on)

    def prompt_side() -> tuple[Buckets, tuple[np.ndarray, np.ndarray]]:
        buckets = band_buckets(band_keys(sig_p, bands, rows), ~empty_p)
        # conflicts: star pairs of the prompt buckets among records with both sides (what the Ray
        # shuffle computes from the same buckets); derived here instead of sorting every band again
        return buckets, first_member_pairs(keep_members(buckets, ~empty_a))

    # candidates from either side's buckets (conversation): an edited short prompt (a "Question: "
    # prefix on 40 characters) must not hide a pair whose long answer is the same. The two sides
    # are bucketed on two threads: numpy's sorts and gathers release the GIL.
    with ThreadPoolExecutor(2) as ex:
        answer = ex.submit(lambda: band_buckets(band_keys(sig_a, bands, rows), ~empty_a)) if use_a else None
        prompt_buckets, conflict = prompt_side()
        parts = ([prompt_buckets] if use_p else []) + ([answer.result()] if answer is not None else [])
    return Candidates(merge_buckets(parts), conflict)


def star_pairs(band: np.ndarray, key: np.ndarray, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`bucket_pairs` for rows spread over a cluster: rows (band, key, record index) of any subset of
    buckets that holds every member of each of its buckets (a hash partition by (band, key)). Each
    member is paired with its bucket's smallest index. Not unique across bands: the caller unions."""
    if len(idx) < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((idx, key, band))
    sb, sk, si = band[order], key[order], np.asarray(idx, dtype=np.int64)[order]
    new = np.concatenate(([True], (sb[1:] != sb[:-1]) | (sk[1:] != sk[:-1])))
    group_start = np.maximum.accumulate(np.where(new, np.arange(len(si)), 0))
    dup = ~new
    return si[group_start[dup]], si[dup]


def _sort_keys(on: str, sig_p: np.ndarray, sig_a: np.ndarray) -> list[Any]:
    """Orders for the sorted-neighbour fallback in big buckets (`dedup_graph.cross_pairs`): the first
    two MinHash values of the answer, and of the prompt, as one uint64 (a bucket of one template
    prompt is told apart by its answers, a bucket of one stock answer by its prompts)."""
    def key(sig: np.ndarray):
        return lambda m: (sig[m, 0].astype(np.uint64) << np.uint64(32)) | sig[m, 1].astype(np.uint64)

    use_p, use_a = lsh_sides(on)
    return ([key(sig_a)] if use_a else []) + ([key(sig_p)] if use_p else [])


def plan(sk: Sketches, cfg: DedupConfig, candidates: Candidates | None = None) -> DedupPlan:
    """Decide kept / dropped for every record from the sketches alone. `candidates`: LSH buckets
    computed elsewhere (a cluster shuffle); by default they are computed here."""
    arr = sk.arrays()
    n = len(sk)
    kp, ka = arr["key_prompt"], arr["key_answer"]
    exact_key = {"prompt": kp, "answer": ka,
                 "conversation": _combine(kp, ka)}[cfg.on]
    ea, eb = key_pairs(exact_key)
    es = np.ones(len(ea))

    bands = rows = large = 0
    conflicts: list[dict[str, Any]] = []
    conflict_members = np.zeros(n, dtype=bool)
    sig_p, sig_a = arr["sig_prompt"], arr["sig_answer"]
    if not cfg.exact_only and sig_p is not None and n:
        bands, rows = optimal_bands(cfg.threshold, cfg.minhash.num_perm)
        empty_p = sig_p[:, 0] == EMPTY
        empty_a = sig_a[:, 0] == EMPTY
        cand = candidates if candidates is not None else lsh_candidates(arr, cfg, bands, rows)

        def verify(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            sim = _on_similarity(cfg.on, arr, a, b)
            return sim >= cfg.threshold, sim

        with ThreadPoolExecutor(1) as ex:  # the conflict groups are independent of the match graph
            found = ex.submit(_conflicts, sig_p, sig_a, empty_p, empty_a, kp, cand.conflict, cfg)
            ea, eb, es, large = match_edges(n, cand.near, verify, _sort_keys(cfg.on, sig_p, sig_a), (ea, eb))
            conflicts, conflict_members = found.result()

    roots = connected_components(n, ea, eb)
    status = np.zeros(n, dtype=np.int8)
    kept_of = np.arange(n, dtype=np.int64)
    similarity = np.ones(n, dtype=np.float64)
    matched = np.arange(n, dtype=np.int64)
    clusters: list[list[int]] = []
    if n:
        order = np.argsort(roots, kind="stable")
        sr = roots[order]
        starts = np.flatnonzero(np.concatenate(([True], sr[1:] != sr[:-1])))
        ends = np.append(starts[1:], n)
        multi = np.flatnonzero(ends - starts > 1)
        for g in multi.tolist():
            members = order[starts[g]:ends[g]]  # ascending index order (stable sort)
            keep = _choose(members, arr, cfg.keep)
            others = members[members != keep]
            kept_of[others] = keep
            same = exact_key[others] == exact_key[keep]
            status[others] = np.where(same, DUPLICATE, NEAR_DUPLICATE)
            clusters.append([int(keep), *others.tolist()])
        matched[:] = kept_of
        near = np.flatnonzero(status == NEAR_DUPLICATE)
        if len(near):
            # the match that ties each near-duplicate in: a breadth-first tree from the kept record
            # and its exact copies (same text, so the same similarity as the kept record itself)
            sources = np.concatenate([np.asarray([c[0] for c in clusters], np.int64),
                                      np.flatnonzero(status == DUPLICATE)])
            parent, link = link_tree(n, ea, eb, es, sources)
            p = parent[near]
            matched[near] = np.where(status[p] == DUPLICATE, kept_of[near], p)
            similarity[near] = link[near]
    if cfg.drop_conflicts and conflicts:
        # a conflict makes the whole duplicate cluster of each member doubtful: drop them all
        bad_roots = np.unique(roots[conflict_members])
        hit = np.isin(roots, bad_roots)
        status[hit] = CONFLICT
    return DedupPlan(status, kept_of, similarity, clusters, conflicts, bands, rows, matched, large)


def _on_similarity(on: str, arr: dict[str, Any], a: np.ndarray, b: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """`_on_similarity_of` over chunks of a million pairs: its ten or so temporaries per pair then
    stay at ~100 MB instead of growing with the candidate count (~8 pairs a record)."""
    if len(a) <= chunk:
        return _on_similarity_of(on, arr, a, b)
    return np.concatenate([_on_similarity_of(on, arr, a[s:s + chunk], b[s:s + chunk]) for s in range(0, len(a), chunk)])


def _on_similarity_of(on: str, arr: dict[str, Any], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of pairs on the `--on` text.

    For the conversation, the two sides' estimates are combined by their shingle counts:
    |A∩B| = J(|A|+|B|)/(1+J) per side, and J = sum of intersections / sum of unions — the
    Jaccard of the concatenated text, up to shingles shared across the two sides.
    """
    sig_p, sig_a = arr["sig_prompt"], arr["sig_answer"]
    sp, sa = _pair_sims([sig_p, sig_a], [sig_p[:, 0] == EMPTY, sig_a[:, 0] == EMPTY], a, b)
    if on == "prompt":
        return sp
    if on == "answer":
        return sa
    inter = union = 0.0
    for j, n in ((sp, arr["n_prompt"]), (sa, arr["n_answer"])):
        tot = n[a].astype(np.float64) + n[b]
        i = j * tot / (1.0 + j)
        inter = inter + i
        union = union + (tot - i)
    return np.divide(inter, union, out=np.ones_like(sp), where=union > 0)


def _unique_pairs(out_a: list[np.ndarray], out_b: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    return unique_pairs(out_a, out_b)


def _combine(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Mix two uint64 key arrays into one (elementwise)."""
    h = x * np.uint64(0x9E3779B97F4A7C15) + y
    h ^= h >> np.uint64(29)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(32)
    return h


def _choose(members: np.ndarray, arr: dict[str, Any], policy: str) -> int:
    """The record a cluster keeps; ties go to the earliest in the input."""
    if policy == "first":
        return int(members[0])
    vals = arr["length"][members] if policy == "longest" else arr["score"][members]
    return int(members[int(np.argmax(vals))])  # argmax returns the first maximum


def _conflicts(sig_p: np.ndarray, sig_a: np.ndarray, empty_p: np.ndarray, empty_a: np.ndarray, kp: np.ndarray,
               band_pairs: tuple[np.ndarray, np.ndarray], cfg: DedupConfig) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Groups of records whose prompts are near-identical but whose answers are not alike.
    `band_pairs`: prompt-band candidates among records with both sides (`Candidates.conflict`)."""
    n = len(sig_p)
    has_both = ~empty_p & ~empty_a
    a1, b1 = band_pairs
    a2, b2 = key_pairs(kp, has_both)
    a, b = _unique_pairs([a1, a2], [b1, b2])
    members = np.zeros(n, dtype=bool)
    if not len(a):
        return [], members
    sp, sa = _pair_sims([sig_p, sig_a], [empty_p, empty_a], a, b)
    hit = (sp >= cfg.threshold) & (sa < cfg.conflict_threshold)
    a, b, sp, sa = a[hit], b[hit], sp[hit], sa[hit]
    if not len(a):
        return [], members
    roots = connected_components(n, a, b)
    # groups by root, vectorised (a Python loop over the pairs cost 0.35 s per 40k records): the
    # members of each group, and the lowest prompt and answer similarity among its pairs
    r = roots[a]
    order = np.argsort(r, kind="stable")
    group_roots, starts = np.unique(r[order], return_index=True)
    p_min = np.minimum.reduceat(sp[order], starts)
    a_min = np.minimum.reduceat(sa[order], starts)
    nodes = np.unique(np.concatenate([a, b]))
    members[nodes] = True
    by_root = nodes[np.argsort(roots[nodes], kind="stable")]  # ascending index within each root
    bounds = np.searchsorted(roots[by_root], group_roots, side="left").tolist() + [len(by_root)]
    out = [{"members": by_root[bounds[g]:bounds[g + 1]].tolist(), "prompt_similarity": round(float(p_min[g]), 4),
            "answer_similarity": round(float(a_min[g]), 4)} for g in range(len(group_roots))]
    return out, members


# ------------------------------------------------------------------------------ convenience
def dedup_texts(texts: Iterable[tuple[str, str]], cfg: DedupConfig = DedupConfig(), batch_size: int = 4096) -> DedupPlan:
    """In-memory helper (tests, benches, notebooks): plan over (prompt, answer) pairs, in one process."""
    sk = Sketches()
    params = None if cfg.exact_only else cfg.minhash
    batch: list[tuple[str, str]] = []

    def flush() -> None:
        start = len(sk)
        lens = [len(p) + len(a) if cfg.on == "conversation" else len(p if cfg.on == "prompt" else a) for p, a in batch]
        sk.add(sketch_batch(batch, params), [str(start + i) for i in range(len(batch))], [None] * len(batch),
               lens, [-math.inf] * len(batch))
        batch.clear()

    for t in texts:
        batch.append(t)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    return plan(sk, cfg)


# --------------------------------------------------------------------------- streaming pass 1
def _sketch_job(args: tuple[list[tuple[str, str]], MinHashParams | None]) -> BatchSketch:
    return sketch_batch(*args)


def sketch_records(records: Iterable[Conversation], cfg: DedupConfig, *, workers: int = 1,
                   batch_size: int = 2048) -> Sketches:
    """Pass 1: stream records once, keeping only their sketches.

    With workers > 1 the batches go to a process pool; at most `2 * workers` batches are in
    flight, so texts never pile up in memory. Results are consumed in submission order and each
    record's sketch depends on that record alone, so the output is the same for any worker count.
    """
    sk = Sketches()
    params = None if cfg.exact_only else cfg.minhash
    pending: list[tuple[Any, list[str], list[Any], list[int], list[float]]] = []
    pool = None
    if workers > 1:
        import multiprocessing as mp

        # spawn, not fork: the parent may hold threads (rich, the writer) that fork would copy
        pool = mp.get_context("spawn").Pool(workers)

    def submit(batch, ids, origins, lens, scores) -> None:
        if pool is None:
            sk.add(sketch_batch(batch, params), ids, origins, lens, scores)
            return
        pending.append((pool.apply_async(_sketch_job, ((batch, params),)), ids, origins, lens, scores))
        while len(pending) > 2 * workers:
            drain()

    def drain() -> None:
        res, ids, origins, lens, scores = pending.pop(0)
        sk.add(res.get(), ids, origins, lens, scores)

    try:
        batch: list[tuple[str, str]] = []
        ids: list[str] = []
        origins: list[Any] = []
        lens: list[int] = []
        scores: list[float] = []
        for conv in records:
            texts, length, score = record_fields(conv, cfg)
            batch.append(texts)
            ids.append(conv.id)
            origins.append(conv.origin)
            lens.append(length)
            scores.append(score)
            if len(batch) >= batch_size:
                submit(batch, ids, origins, lens, scores)
                batch, ids, origins, lens, scores = [], [], [], [], []
        if batch:
            submit(batch, ids, origins, lens, scores)
        while pending:
            drain()
    finally:
        if pool is not None:
            pool.terminate()
            pool.join()
    return sk


def describe(origin: tuple[str, int] | None, rid: str) -> str:
    """'file:line (id ...)' for messages."""
    return f"{origin[0]}:{origin[1]} (id {rid})" if origin else f"id {rid}"


def drop_reason(pl, i: int, ids: list[str], origins: list) -> tuple[str, str, dict]:
    """(reason code, message, extra reject fields) for dropped record `i` — one wording for both engines."""
    st = int(pl.status[i])
    if st == CONFLICT:
        return "conflict", ("near-identical prompt with a disagreeing answer in another record; review the group "
                            "in --conflicts and keep the right answer"), {}
    k = int(pl.kept_of[i])
    if REASONS[st] == "duplicate":
        return "duplicate", f"exact duplicate of {describe(origins[k], ids[k])}, which is kept", {
            "duplicate_of": ids[k], "similarity": 1.0}
    # name the match that actually held (its similarity passed the threshold), which is not always
    # the kept record: A~B and B~C drop C as a near-duplicate of B while A is kept
    m = int(pl.matched[i]) if pl.matched is not None else k
    sim = float(pl.similarity[i])
    where = (f"{describe(origins[m], ids[m])}, which is kept" if m == k else
             f"{describe(origins[m], ids[m])}, itself dropped for {describe(origins[k], ids[k])}, which is kept")
    return "near_duplicate", f"near-duplicate (similarity {sim:.2f}) of {where}", {
        "duplicate_of": ids[k], "matched": ids[m], "similarity": round(sim, 4)}
