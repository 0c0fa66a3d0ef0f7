"""Mixing several sources into one set at requested proportions (`curate mix`).

Two passes, so memory stays flat whatever the source sizes:

1. **Index** each source: for every valid record keep only its weight (1 in ``--by records``,
   its token count in ``--by tokens``) and a small stratum number (``--stratify FIELD``).
2. **Plan** from those numbers alone: requested shares (explicit ratios, or temperature
   sampling ``p_i ∝ n_i^(1/T)``), the target total, and how many times each record is written
   (its *multiplicity*: 0 = left out, 1 = once, 2+ = up-sampled, never above ``--max-repeats``).
3. **Emit**: re-read the sources and write each record `multiplicity` times.

Decisions worth knowing:

- **Default total** ("use all of the scarcest source"): the largest total for which every
  source's share holds without any record repeated more than ``--max-repeats`` times. With the
  default ``--max-repeats 1`` the scarcest source (relative to its ratio) is used exactly once
  and the others are down-sampled.
- **Up-sampling is balanced, not with replacement**: a source needing 2.5x its size writes every
  record twice and a seeded half of them a third time, so no record is repeated more than
  ``ceil(factor)`` times and the cap is a hard guarantee.
- **Stratification** (``--stratify category``): inside each source the sample is allocated to
  the values of ``meta.<field>`` in proportion to their size (largest remainder), so a
  down-sampled source keeps its internal mix of categories / languages / tags.
- **Repeated records get distinct ids**: the first copy keeps the id; copy k (k >= 1) gets
  ``<id>#k`` with ``meta.repeat = k`` and ``meta.repeat_of = <id>``. Downstream tools (split,
  dedup, review, rejects' ``duplicate_of``) key on ids, and two records with one id would make
  a train/eval split leak or a review decision apply twice.
- **Order**: sources are interleaved evenly (a smooth weighted round-robin on record counts) so a
  trainer that does not shuffle still sees the mix throughout the file; copies of a record are a
  whole pass apart (copy k is written in the k-th re-read of its source).
- ``meta.source`` is set to the source's name (YAML ``name:`` or the file stem); a different
  earlier value is kept in ``meta.source_before_mix``.
- ``--by tokens`` counts with a tokenizer when one is given, else the estimate in
  `curator.tokencount` (CJK characters ~1 token each, other text ~4 characters per token). In
  token mode shares are reached to within about one record per source.
"""

from __future__ import annotations

import heapq
import math
import random
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Iterator, Literal

from curator.config_check import Bounds, check_config
from curator.errors import UsageError
from curator.record import Conversation
from curator.tokencount import estimate_tokens, record_tokens


# ------------------------------------------------------------------------------ configuration
@dataclass
class Source:
    path: Path
    ratio: float | None = None
    name: str = ""
    fmt: str | None = None

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.name:
            self.name = _stem(self.path)


@dataclass
class MixConfig:
    sources: list[Source]
    by: Literal["records", "tokens"] = "records"
    total: Annotated[float | None, Bounds(0, lo_open=True)] = None
    max_repeats: Annotated[int, Bounds(1)] = 1  # 1 = no up-sampling
    temperature: Annotated[float | None, Bounds(0, lo_open=True)] = None  # 1 = natural sizes, larger = flatter
    stratify: str | None = None
    seed: int = 0
    tokenizer: str | None = None

    def __post_init__(self) -> None:
        if not self.sources:
            raise UsageError("no sources: give FILE:RATIO arguments or --config mix.yaml")
        check_config(self)
        ratios = [s.ratio for s in self.sources]
        given = [r is not None for r in ratios]
        if any(given) and not all(given):
            missing = [s.name for s in self.sources if s.ratio is None]
            raise UsageError(f"ratios given for some sources but not for {missing}: give every source a ratio, "
                             "or none (then --temperature decides)")
        if all(given):
            if any(r < 0 for r in ratios):  # type: ignore[operator]
                raise UsageError("ratios must be >= 0")
            if sum(ratios) <= 0:  # type: ignore[arg-type]
                raise UsageError("ratios sum to 0: at least one source needs a positive ratio")
            if self.temperature is not None:
                raise UsageError("--temperature applies only when no ratios are given (ratios fix the shares)")
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise UsageError(f"two sources share a name {names}: give each a distinct `name:` in the YAML")


def _stem(p: Path) -> str:
    name = p.name
    for ext in (".jsonl.gz", ".json.gz", ".jsonl", ".json", ".parquet"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return name


def parse_source_arg(arg: str) -> Source:
    """``path:0.8`` -> Source(path, 0.8); ``path`` -> Source(path, None). The ratio is after the
    LAST colon and only when it parses as a number, so paths with colons still work."""
    head, sep, tail = arg.rpartition(":")
    if sep and head:
        try:
            return Source(Path(head), float(tail))
        except ValueError:
            pass
    return Source(Path(arg), None)


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> MixConfig:
    """Read a mix YAML (yaml.safe_load). Source paths are relative to the YAML file's folder."""
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--config {p}: no such file") from None
    except yaml.YAMLError as e:
        raise UsageError(f"--config {p}: not valid YAML ({e})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise UsageError(f"--config {p}: expected a mapping with a `sources:` list "
                         "(each item: {path: ..., ratio: ...})")
    known = {"sources", "by", "total", "max_repeats", "temperature", "stratify", "seed", "tokenizer"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UsageError(f"--config {p}: unknown keys {unknown} (known: {sorted(known)})")
    sources = []
    for i, item in enumerate(data["sources"]):
        if isinstance(item, str):
            item = {"path": item}
        if not isinstance(item, dict) or "path" not in item:
            raise UsageError(f"--config {p}: sources[{i}] needs a `path:`")
        extra = sorted(set(item) - {"path", "ratio", "name", "format"})
        if extra:
            raise UsageError(f"--config {p}: sources[{i}] has unknown keys {extra} (known: path, ratio, name, format)")
        sp = Path(item["path"])
        if not sp.is_absolute():
            sp = p.parent / sp
        ratio = item.get("ratio")
        if ratio is not None and not isinstance(ratio, (int, float)):
            raise UsageError(f"--config {p}: sources[{i}].ratio {ratio!r} is not a number")
        sources.append(Source(sp, None if ratio is None else float(ratio), str(item.get("name") or ""),
                              item.get("format")))
    kw = {k: data[k] for k in known - {"sources"} if data.get(k) is not None}
    kw.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return MixConfig(sources=sources, **kw)


# ------------------------------------------------------------------------------------ pass 1
@dataclass
class SourceIndex:
    """What pass 1 keeps of a source: one weight and one stratum number per valid record."""

    name: str
    weights: array = field(default_factory=lambda: array("d"))  # empty in records mode (all 1)
    strata: array = field(default_factory=lambda: array("I"))
    strata_names: list[str] = field(default_factory=list)
    n: int = 0

    @property
    def size(self) -> float:
        return float(self.n) if not self.weights else math.fsum(self.weights)

    def weight(self, k: int) -> float:
        return self.weights[k] if self.weights else 1.0


def meta_value(conv: Conversation, dotted: str) -> str:
    """``meta.<dotted>`` as a stratum label; lists become 'a|b', missing becomes '(none)'."""
    v: Any = conv.meta
    for part in dotted.split("."):
        if not isinstance(v, dict) or part not in v:
            return "(none)"
        v = v[part]
    if isinstance(v, list):
        return "|".join(sorted(str(x) for x in v)) or "(none)"
    return "(none)" if v is None else str(v)


def index_fields(conv: Conversation, *, by: str, count: Callable[[str], int],
                 stratify: str | None) -> tuple[float | None, str | None]:
    """What pass 1 keeps of one record: its weight (tokens mode) and its stratum label. Pure, so a
    cluster engine computes it on workers (`curator.engine.ray_mix`)."""
    return (float(record_tokens(conv, count)) if by == "tokens" else None,
            meta_value(conv, stratify) if stratify else None)


def index_add(idx: SourceIndex, weight: float | None, label: str | None, ids: dict[str, int]) -> None:
    """Append one record's fields to the index; stratum numbers follow first appearance in the file."""
    if weight is not None:
        idx.weights.append(weight)
    if label is not None:
        if label not in ids:
            ids[label] = len(idx.strata_names)
            idx.strata_names.append(label)
        idx.strata.append(ids[label])
    idx.n += 1


def index_source(name: str, records: Iterable[Conversation], *, by: str = "records",
                 count: Callable[[str], int] = estimate_tokens, stratify: str | None = None) -> SourceIndex:
    idx = SourceIndex(name)
    ids: dict[str, int] = {}
    for conv in records:
        index_add(idx, *index_fields(conv, by=by, count=count, stratify=stratify), ids)
    return idx


# ------------------------------------------------------------------------------------- plan
def requested_shares(sizes: list[float], ratios: list[float | None], temperature: float | None) -> list[float]:
    """Explicit ratios normalised, else temperature sampling p_i ∝ size_i^(1/T) (T=1: natural sizes)."""
    if all(r is not None for r in ratios):
        tot = sum(ratios)  # type: ignore[arg-type]
        return [r / tot for r in ratios]  # type: ignore[operator]
    t = temperature or 1.0
    w = [s ** (1.0 / t) if s > 0 else 0.0 for s in sizes]
    tot = sum(w)
    return [x / tot if tot else 0.0 for x in w]


def default_total(sizes: list[float], shares: list[float], max_repeats: int) -> float:
    """The largest total at which every share holds with no record above `max_repeats` copies."""
    return min(max_repeats * s / p for s, p in zip(sizes, shares) if p > 0)


def largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to `weights` summing to `total` (ties go to the earlier item)."""
    wsum = sum(weights)
    if total <= 0 or wsum <= 0:
        return [0] * len(weights)
    raw = [total * w / wsum for w in weights]
    base = [int(math.floor(x + 1e-9)) for x in raw]
    left = total - sum(base)
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))
    for i in order[:max(left, 0)]:
        base[i] += 1
    return base


@dataclass
class SourcePlan:
    name: str
    n: int
    size: float
    requested_share: float
    target: float
    capped: bool
    mult: array  # copies per valid record, in file order
    file_name: str = ""  # what `read_records` puts in meta.source by default

    @property
    def out_records(self) -> int:
        return sum(self.mult)

    @property
    def max_copies(self) -> int:
        return max(self.mult) if self.mult else 0


@dataclass
class MixPlan:
    by: str
    total: float
    sources: list[SourcePlan]
    warnings: list[str] = field(default_factory=list)


def _strata_members(idx: SourceIndex) -> list[array]:
    if not idx.strata_names:
        return [array("q", range(idx.n))]
    groups = [array("q") for _ in idx.strata_names]
    for k, s in enumerate(idx.strata):
        groups[s].append(k)
    return groups


def _select_records(members: list[array], target: int, rng: random.Random, mult: array) -> None:
    sizes = [len(g) for g in members]
    for g, c in zip(members, largest_remainder(target, [float(s) for s in sizes])):
        if not g or c <= 0:
            continue
        q, rem = divmod(c, len(g))
        chosen = rng.sample(range(len(g)), rem) if rem else ()
        for k in g:
            mult[k] = q
        for j in chosen:
            mult[g[j]] += 1


def _select_tokens(idx: SourceIndex, members: list[array], target: float, max_repeats: int,
                   rng: random.Random, mult: array) -> None:
    sizes = [math.fsum(idx.weights[k] for k in g) for g in members]
    tot = math.fsum(sizes)
    for g, s in zip(members, sizes):
        if not g or s <= 0:
            continue
        t = target * s / tot
        q = min(int(math.floor(t / s + 1e-9)), max_repeats)
        rem = t - q * s
        for k in g:
            mult[k] = q
        if q >= max_repeats or rem <= 0:
            continue
        order = list(g)
        rng.shuffle(order)
        got = 0.0
        skipped = -1  # the shortest record that did not fit, in case taking it lands nearer the target
        for k in order:  # fill the remainder without overshooting; later short records can still fit
            w = idx.weights[k]
            if got + w <= rem + 1e-9:
                mult[k] += 1
                got += w
                if got >= rem - 1e-9:
                    break
            elif skipped < 0 or w < idx.weights[skipped]:
                skipped = k
        if skipped >= 0 and got < rem - 1e-9 and (got + idx.weights[skipped] - rem) < (rem - got):
            mult[skipped] += 1


def plan_mix(cfg: MixConfig, indexes: list[SourceIndex]) -> MixPlan:
    """Decide every record's number of copies from the pass-1 indexes alone."""
    sizes = [ix.size for ix in indexes]
    for src, ix in zip(cfg.sources, indexes):
        if ix.n == 0:
            raise UsageError(f"source {src.name} ({src.path}) has no valid records")
    shares = requested_shares(sizes, [s.ratio for s in cfg.sources], cfg.temperature)
    total = float(cfg.total) if cfg.total is not None else default_total(sizes, shares, cfg.max_repeats)
    warnings: list[str] = []
    if cfg.by == "records":
        total = float(round(total)) if cfg.total is not None else float(math.floor(total + 1e-9))
        targets = [float(t) for t in largest_remainder(int(total), shares)]
    else:
        targets = [total * p for p in shares]
    plans = []
    for src, ix, p, t in zip(cfg.sources, indexes, shares, targets):
        cap = cfg.max_repeats * ix.size
        capped = t > cap + 1e-9
        if capped:
            warnings.append(f"{src.name}: needs {t:g} {cfg.by} but has {ix.size:g} and --max-repeats "
                            f"{cfg.max_repeats} allows {cap:g}; it is capped, so its share is below the request "
                            "(raise --max-repeats or lower --total)")
            t = cap
        # one RNG per source, derived from the seed and the name: adding a source does not reshuffle the others
        rng = random.Random(f"{cfg.seed}:{src.name}")
        mult = array("I", bytes(4 * ix.n))
        members = _strata_members(ix)
        if cfg.by == "records":
            _select_records(members, int(round(t)), rng, mult)
        else:
            _select_tokens(ix, members, t, cfg.max_repeats, rng, mult)
        plans.append(SourcePlan(src.name, ix.n, ix.size, p, t, capped, mult, src.path.name))
    return MixPlan(cfg.by, total, plans, warnings)


# ------------------------------------------------------------------------------------- emit
def _source_stream(sp: SourcePlan, open_source: Callable[[], Iterator[Conversation]]) -> Iterator[Conversation]:
    for epoch in range(sp.max_copies):
        k = -1
        for k, conv in enumerate(open_source()):
            if k >= sp.n:
                break
            if sp.mult[k] > epoch:
                yield tag_copy(conv, sp.name, epoch, sp.file_name)
        if k + 1 != sp.n:
            raise UsageError(f"source {sp.name} changed while mixing ({k + 1} valid records now, {sp.n} before)")


def tag_copy(conv: Conversation, source: str, repeat: int, file_name: str = "") -> Conversation:
    """Set meta.source, and give copy `repeat` >= 1 the id ``<id>#<repeat>``."""
    prev = conv.meta.get("source")
    if prev not in (None, source, file_name) and "source_before_mix" not in conv.meta:
        conv.meta["source_before_mix"] = prev
    conv.meta["source"] = source
    if repeat:
        conv.meta["repeat"] = repeat
        conv.meta["repeat_of"] = conv.id
        conv.id = f"{conv.id}#{repeat}"
    conv.add_lineage("mix")
    return conv


def emit(plan: MixPlan, openers: list[Callable[[], Iterator[Conversation]]]) -> Iterator[tuple[int, Conversation]]:
    """(source number, record) for every output record, sources interleaved evenly by count."""
    streams = [_source_stream(sp, op) for sp, op in zip(plan.sources, openers)]
    return interleave(streams, [sp.out_records for sp in plan.sources])


def interleave(streams: list[Iterator[Any]], counts: list[int]) -> Iterator[tuple[int, Any]]:
    """(stream number, item), `counts[i]` items of stream i, spread evenly (smooth weighted
    round-robin): the output order of `emit`, shared with the Ray engine's pre-rendered streams."""
    done = [0] * len(streams)
    heap = [(1.0 / c, i) for i, c in enumerate(counts) if c > 0]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        conv = next(streams[i], None)
        if conv is None:  # fewer than planned: cannot happen unless the file changed (checked above)
            continue
        yield i, conv
        done[i] += 1
        if done[i] < counts[i]:
            heapq.heappush(heap, ((done[i] + 1) / counts[i], i))
