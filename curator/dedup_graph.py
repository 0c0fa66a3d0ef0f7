"""The match graph of near-duplicate dedup: LSH buckets -> verified pairs -> clusters -> links.

`curator.dedup.plan` uses these pieces; they know nothing of records, only indices, so the Ray
engine's shuffle (`curator.engine.ray_dedup`) can feed the same buckets in.

Why not "pair every bucket member with the bucket's first member" (a star): two members that
match each other but not the first are then never compared, and both survive (on GPTeacher
toolformer at 0.8, 109 such pairs had an exact Jaccard >= 0.85). Why not every pair of every
bucket: a template shared by 10,000 records makes a bucket of 50 million pairs, and a 1M-record
set with 57 copies of each text would verify ~28 million pairs. What we do instead gives the same
clusters as verifying every pair of every bucket of up to `ALL_PAIRS_MAX` members, at a cost close
to the star's:

1. star pairs (first member, every other member) of every bucket are verified and united;
2. in every bucket whose members are now in more than one cluster, every pair of members in
   different clusters is verified and united. A pair inside one cluster needs no check: it is
   connected already. One such round is enough: after it, every bucket pair is either verified
   or was already connected.
3. The second round has a budget: max(500,000, 4 x records) generated pairs, so that templated
   data (a prompt template shared by 10,000 records with different answers) cannot make the plan
   quadratic. The smallest mixed buckets get all their pairs first. A bucket larger than
   `ALL_PAIRS_MAX` members, or past the budget, is compared by sorted neighbours instead: its
   members are sorted by their first two MinHash values (of the answer, and again of the prompt,
   for `--on conversation`: records sharing both are likely the most similar), and each is
   compared with its neighbours at distance 1, 2, ... up to `WINDOW` in each order, nearest
   first, until the budget is spent (the sorted-neighbourhood method). This is the one place where
   a matching pair can be missed: two members of such a bucket that never come within reach of
   each other in any order. The manifest counts these buckets (`large_buckets`).

`link_tree` then gives every dropped record the verified match that ties it to its cluster's kept
record (a breadth-first tree from the kept record), so a drop names a pair that actually matched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

ALL_PAIRS_MAX = 512  # a bucket up to this size can have every cross-cluster pair verified
PAIR_BUDGET_MIN, PAIR_BUDGET_PER_RECORD = 500_000, 4  # pairs the second round may generate
WINDOW = 32  # at most this many neighbours compared in each sorted order of a larger bucket
_PAIR_CHUNK = 1 << 20  # pairs generated at a time (8 MB of int64 per array; 1 << 22 cost ~200 MB at peak)

Pairs = tuple[np.ndarray, np.ndarray]
Verify = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # pairs -> (matched, similarity)
SortKey = Callable[[np.ndarray], np.ndarray]


@dataclass
class Buckets:
    """LSH buckets with two or more members, as CSR: bucket k is members[starts[k]:starts[k+1]],
    ascending. starts has one more entry than there are buckets."""

    members: np.ndarray  # int64
    starts: np.ndarray  # int64

    def __len__(self) -> int:
        return len(self.starts) - 1

    @staticmethod
    def empty() -> "Buckets":
        return Buckets(np.empty(0, np.int64), np.zeros(1, np.int64))

    def sizes(self) -> np.ndarray:
        return np.diff(self.starts)


def empty_pairs() -> Pairs:
    return np.empty(0, np.int64), np.empty(0, np.int64)


def groups_to_buckets(group: np.ndarray, idx: np.ndarray, presorted: bool = False) -> Buckets:
    """Buckets from rows (group id, member index): members sorted within a group, groups of one
    dropped, and buckets with exactly the same members kept once (a tight cluster collides in
    most bands; its bucket would otherwise be checked once per band). `presorted`: the rows are
    already grouped, members ascending."""
    if len(idx) == 0:
        return Buckets.empty()
    if presorted:
        g, m = group, np.asarray(idx, np.int64)
    else:
        order = np.lexsort((idx, group))
        g, m = group[order], np.asarray(idx, np.int64)[order]
    new = np.concatenate(([True], g[1:] != g[:-1]))
    starts = np.append(np.flatnonzero(new), len(g))
    sizes = np.diff(starts)
    keep = np.repeat(sizes >= 2, sizes)
    m = m[keep]
    sizes = sizes[sizes >= 2]
    if not len(sizes):
        return Buckets.empty()
    starts = np.concatenate(([0], np.cumsum(sizes)))
    # one order-free 64-bit fingerprint per bucket: the wrapping sum of a mixed hash of each member
    h = _mix(m.astype(np.uint64))
    fp = np.add.reduceat(h, starts[:-1]) ^ _mix(sizes.astype(np.uint64))
    _, first = np.unique(fp, return_index=True)
    # one canonical order, by (size, first member, fingerprint), whatever order the buckets came in:
    # the second round's budget serves buckets in this order, so the local engine and the Ray
    # shuffle (whose partitions come back in any order) must agree on it
    first = first[np.lexsort((fp[first], m[starts[first]], sizes[first]))]
    sel_sizes = sizes[first]
    take = np.repeat(starts[first], sel_sizes) + _ranks(sel_sizes)
    return Buckets(m[take], np.concatenate(([0], np.cumsum(sel_sizes))))


def band_buckets(keys: np.ndarray, valid: np.ndarray | None = None) -> Buckets:
    """Buckets from band keys (uint64 [n, bands]): records sharing a band's key share a bucket."""
    n, bands = keys.shape
    idx = np.arange(n, dtype=np.int64)
    if valid is not None:
        idx = idx[valid]
    groups, members = [], []
    for j in range(bands):
        col = keys[idx, j]
        order = np.argsort(col, kind="stable")
        sk = col[order]
        if len(sk) < 2:
            continue
        new = np.concatenate(([True], sk[1:] != sk[:-1]))
        multi = ~new | np.concatenate((~new[1:], [False]))  # rows of buckets with 2+ members
        gid = np.cumsum(new) - 1 + j * np.int64(n + 1)  # group numbers never collide across bands
        groups.append(gid[multi].astype(np.int64))
        members.append(idx[order][multi])  # a stable sort keeps members ascending in a bucket
    if not groups:
        return Buckets.empty()
    return groups_to_buckets(np.concatenate(groups), np.concatenate(members), presorted=True)


def merge_buckets(parts: list[Buckets]) -> Buckets:
    """Several bucket sets (e.g. prompt and answer bands) as one, identical buckets kept once."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return Buckets.empty()
    if len(parts) == 1:
        return parts[0]
    gid = np.concatenate([np.repeat(np.arange(len(p), dtype=np.int64) + off, p.sizes())
                          for p, off in zip(parts, np.cumsum([0] + [len(p) for p in parts[:-1]]))])
    return groups_to_buckets(gid, np.concatenate([p.members for p in parts]), presorted=True)


def keep_members(b: Buckets, mask: np.ndarray) -> Buckets:
    """The buckets restricted to the records where `mask` is true (buckets left with fewer than two
    members disappear)."""
    if not len(b):
        return b
    keep = mask[b.members]
    gid = np.repeat(np.arange(len(b), dtype=np.int64), b.sizes())
    return groups_to_buckets(gid[keep], b.members[keep], presorted=True)


def first_member_pairs(b: Buckets) -> Pairs:
    """(first member, other member) of every bucket: unique, a < b (members are ascending)."""
    if not len(b):
        return empty_pairs()
    sizes = b.sizes()
    first = np.repeat(b.members[b.starts[:-1]], sizes - 1)
    rest = np.ones(len(b.members), bool)
    rest[b.starts[:-1]] = False
    return unique_pairs([first], [b.members[rest]])


def cross_pairs(b: Buckets, label: np.ndarray, sort_keys: list[SortKey]) -> tuple[Pairs, int]:
    """Pairs still to verify after the star round: members of one bucket in different clusters
    (`label`). All pairs of the smallest mixed buckets (up to ALL_PAIRS_MAX members) while the
    round's budget lasts; sorted neighbours for the rest, nearest first, until it is spent
    (`sort_keys`: one function per order, member indices -> uint64 sort key). Returns (pairs,
    number of mixed buckets compared by sorted neighbours)."""
    if not len(b):
        return empty_pairs(), 0
    sizes = b.sizes()
    lab = label[b.members]
    mixed = np.minimum.reduceat(lab, b.starts[:-1]) != np.maximum.reduceat(lab, b.starts[:-1])
    budget = max(PAIR_BUDGET_MIN, PAIR_BUDGET_PER_RECORD * len(label))  # pairs generated in this round
    outs_a, outs_b = [], []
    small = mixed & (sizes <= ALL_PAIRS_MAX)
    # smallest buckets first, so that templated data cannot make the plan quadratic: the buckets
    # past the budget are compared by sorted neighbours like the huge ones
    cost = np.where(small, sizes * (sizes - 1) // 2, 0)
    by_size = np.argsort(np.where(small, sizes, np.iinfo(np.int64).max), kind="stable")
    spent_by = np.cumsum(cost[by_size])
    over = spent_by > budget
    small[by_size[over]] = False
    spent = int(spent_by[~over][-1]) if (~over).any() else 0
    for s in np.unique(sizes[small]).tolist():
        rows = b.starts[:-1][small & (sizes == s)]
        iu, ju = np.triu_indices(s, 1)
        keep = iu > 0  # pairs with the first member were the star round's
        iu, ju = iu[keep], ju[keep]
        step = max(1, _PAIR_CHUNK // max(1, len(iu)))
        for c in range(0, len(rows), step):
            mem = b.members[rows[c:c + step, None] + np.arange(s)]
            pa, pb = mem[:, iu].ravel(), mem[:, ju].ravel()
            diff = label[pa] != label[pb]
            outs_a.append(pa[diff])
            outs_b.append(pb[diff])
    large = mixed & ~small
    n_large = int(large.sum())
    if n_large and spent < budget:
        # int32 members and bucket numbers where they fit: these arrays have one row per membership
        # of a large bucket (several per record), and were the plan's peak in int64
        small_ints = len(label) < (1 << 31) and len(sizes) < (1 << 31)
        mem = b.members[np.repeat(large, sizes)]
        if small_ints:
            mem = mem.astype(np.int32)
        bid = np.repeat(np.arange(len(sizes), dtype=np.int32 if small_ints else np.int64)[large], sizes[large])
        orders = []
        for key in sort_keys:
            order = _by_bucket_then_key(mem, bid, key, len(label))
            orders.append((mem[order], bid[order]))
            del order
        del mem, bid
        for d in range(1, WINDOW + 1):  # nearest neighbours first, in every order, until spent
            for sm, sb in orders:
                same = sb[d:] == sb[:-d]
                pa, pb = sm[:-d][same], sm[d:][same]
                spent += len(pa)
                diff = label[pa] != label[pb]
                outs_a.append(pa[diff])
                outs_b.append(pb[diff])
            if spent >= budget:
                break
    return unique_pairs(outs_a, outs_b), n_large


def _by_bucket_then_key(mem: np.ndarray, bid: np.ndarray, key: SortKey, n: int) -> np.ndarray:
    """`np.lexsort((mem, key(mem), bid))` — by bucket, then sort key, then index — for rows already
    ordered by (bucket, index), as `cross_pairs` builds them.

    Why not lexsort: it sorts the memberships (several per record, ~9M at 1M records) three times.
    Here the key is ranked once per record instead (equal keys, equal rank), and one stable sort of
    bucket * ranks + rank keeps rows of equal (bucket, key) in their index order: 5x faster."""
    _, rank = np.unique(key(np.arange(n, dtype=np.int64)), return_inverse=True)
    ranks = int(rank.max()) + 1 if n else 1
    if len(bid) and int(bid[-1]) >= (np.iinfo(np.int64).max - ranks) // ranks:  # would overflow int64
        return np.lexsort((mem, rank[mem], bid))
    return np.argsort(bid.astype(np.int64) * ranks + rank[mem], kind="stable")


def match_edges(n: int, b: Buckets, verify: Verify, sort_keys: list[SortKey],
                base: Pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Verified edges (a, b, similarity) of the buckets, on top of `base` edges (exact duplicates,
    similarity 1.0): the star round, then the cross-cluster round. Returns (a, b, sim, large)."""
    ea, eb = [base[0]], [base[1]]
    es = [np.ones(len(base[0]))]
    sa, sb = first_member_pairs(b)
    ok, sim = verify(sa, sb)
    ea.append(sa[ok]), eb.append(sb[ok]), es.append(sim[ok])
    label = connected_components(n, np.concatenate(ea), np.concatenate(eb))
    (ca, cb), large = cross_pairs(b, label, sort_keys)
    if len(ca):
        ok, sim = verify(ca, cb)
        ea.append(ca[ok]), eb.append(cb[ok]), es.append(sim[ok])
    return np.concatenate(ea), np.concatenate(eb), np.concatenate(es), large


def connected_components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root of every index under the edges (a[i], b[i]); the root is the component's smallest index,
    so cluster identity does not depend on the order of the edges.

    Vectorised hook-and-jump instead of a Python union-find loop (which cost ~115 s for the
    ~1M candidate pairs of a 1M-record run): every round hooks each edge's larger root onto the
    smaller one with `np.minimum.at`, then pointer-jumps until every label is a root. Labels only
    ever point to smaller indices, so there are no cycles; the smallest index of a component is a
    root from start to end, so it is the one every member ends on. Edges already inside one
    component are dropped after each round, so later rounds cost little.
    """
    label = np.arange(n, dtype=np.int64)
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    while len(a):
        la, lb = label[a], label[b]
        live = la != lb
        if not live.any():
            break
        a, b, la, lb = a[live], b[live], la[live], lb[live]
        lo, hi = np.minimum(la, lb), np.maximum(la, lb)
        np.minimum.at(label, hi, lo)  # hook the larger root under the smaller
        while True:  # pointer jumping: every label becomes its root again
            nxt = label[label]
            if np.array_equal(nxt, label):
                break
            label = nxt
    return label


def link_tree(n: int, a: np.ndarray, b: np.ndarray, sim: np.ndarray,
              sources: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every index reachable from `sources` over the edges: the neighbour one step closer to a
    source (breadth-first) and that edge's similarity. Among equally close neighbours the most
    similar wins, then the smallest index, so the tree depends only on the edge set.
    Returns (parent, link_similarity); parent is -1 where unreachable, itself for a source."""
    parent = np.full(n, -1, dtype=np.int64)
    link = np.ones(n, dtype=np.float64)
    done = np.zeros(n, dtype=bool)
    parent[sources] = sources
    done[sources] = True
    a, b, sim = np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(sim, np.float64)
    while len(a):
        da, db = done[a], done[b]
        live = ~(da & db)
        a, b, sim, da, db = a[live], b[live], sim[live], da[live], db[live]
        front = da ^ db
        if not front.any():
            break
        u = np.where(da, a, b)[front]
        v = np.where(da, b, a)[front]
        s = sim[front]
        order = np.lexsort((u, -s, v))  # per v: highest similarity, then smallest neighbour
        u, v, s = u[order], v[order], s[order]
        firsts = np.concatenate(([True], v[1:] != v[:-1]))
        parent[v[firsts]] = u[firsts]
        link[v[firsts]] = s[firsts]
        done[v[firsts]] = True
    return parent, link


def unique_pairs(out_a: list[np.ndarray], out_b: list[np.ndarray]) -> Pairs:
    """Unique (lo, hi) pairs with lo < hi from lists of pair arrays; pairs (x, x) are dropped. The
    lists are consumed (emptied), so their arrays are freed as soon as they are concatenated."""
    if not out_a:
        return empty_pairs()
    a = np.concatenate(out_a).astype(np.int64, copy=False)
    out_a.clear()
    b = np.concatenate(out_b).astype(np.int64, copy=False)
    out_b.clear()
    if not len(a):
        return empty_pairs()
    # in place where it can be: this was the plan's memory peak (six arrays of 8 bytes a pair)
    hi = np.maximum(a, b)
    lo = np.minimum(a, b, out=a)
    del a, b
    # one int64 per pair (lo * width + hi), so the unique is a plain 1-D sort: `np.unique(axis=0)`
    # on an [m, 2] array sorts row views and cost 4 s of a 6 s plan at 300k records
    width = np.int64(hi.max()) + 1
    keep = lo != hi
    packed = lo
    packed *= width
    packed += hi
    del lo, hi
    packed = packed[keep]
    del keep
    if not len(packed):
        return empty_pairs()
    packed.sort()  # sort + neighbour compare: numpy 2's hash-based np.unique was slower still here
    packed = packed[np.concatenate(([True], packed[1:] != packed[:-1]))]
    return packed // width, packed % width


def _ranks(sizes: np.ndarray) -> np.ndarray:
    """0..s-1 for each size s, concatenated."""
    total = int(sizes.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(sizes) - sizes, sizes)


def _mix(h: np.ndarray) -> np.ndarray:
    h = h * np.uint64(0x9E3779B97F4A7C15)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    return h
