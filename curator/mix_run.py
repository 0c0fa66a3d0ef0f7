"""`curate mix` as a stage: index every source (pass 1), plan the sample, emit it (pass 2), and
account for it in the run (records left out, copies, the composition table).

Both engines share everything here except the two passes: `MixStage.run_local` runs them in
this process, `curator.engine.ray_mix.run_whole` on Ray (same plan, same bytes). The command
picks the engine through `curator.engine.run_whole_stage` and only prints the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

from curator.io import read_records
from curator.mix import MixConfig, MixPlan, emit, index_source, plan_mix
from curator.rejects import RejectSink


@dataclass
class MixStage:
    """Mix `cfg.sources` as a whole-dataset stage; both bodies return the `MixPlan` written."""

    ray_driver: ClassVar[str] = "curator.engine.ray_mix"

    cfg: MixConfig
    encoding: str | None
    count: Callable[[Any], int] | None  # token counter for --by tokens (None: records)
    out_format: str
    write_opts: Any
    workers: int | None = 1  # --workers: None = auto (one per core for inputs of 48 MB and more)

    def run_local(self, run) -> MixPlan:
        from curator.engine.local import resolve_workers

        n = resolve_workers(self.workers, [s.path for s in self.cfg.sources])
        if n > 1:
            from curator.engine.local_mix import run_mix_local

            return account(run, self.cfg, *run_mix_local(run, self.cfg, encoding=self.encoding, count=self.count,
                                                         workers=n, out_format=self.out_format,
                                                         write_opts=self.write_opts))
        return account(run, self.cfg, *_mix_local(run, self.cfg, self.encoding, self.count))


def _mix_local(run, cfg: MixConfig, encoding: str | None, count) -> tuple:
    """The single-process body: index (pass 1), plan, emit (pass 2). Returns (plan, indexes,
    written per source, records with reasoning per source)."""
    # pass 1: weights and strata only; invalid rows become this run's rejects here, once
    indexes = [index_source(s.name, run.read(s.path, s.fmt, encoding=encoding), by=cfg.by,
                            count=count or (lambda t: 0), stratify=cfg.stratify) for s in cfg.sources]
    plan = plan_mix(cfg, indexes)

    def opener(s):  # pass 2 re-reads; its read errors were already counted in pass 1
        return lambda: read_records(s.path, s.fmt, encoding=encoding, rejects=RejectSink(None))

    written = [0] * len(cfg.sources)
    with_reasoning = [0] * len(cfg.sources)
    for i, conv in emit(plan, [opener(s) for s in cfg.sources]):
        if run.write(conv):
            written[i] += 1
            with_reasoning[i] += any(m.reasoning for m in conv.messages)
    return plan, indexes, written, with_reasoning


def account(run, cfg: MixConfig, plan: MixPlan, indexes: list, written: list[int],
            with_reasoning: list[int]) -> MixPlan:
    """Counts and the manifest's `mix` entry from the plan's multiplicities (no second count needed)."""
    units = [0.0] * len(cfg.sources)
    for i, (sp, ix) in enumerate(zip(plan.sources, indexes)):
        units[i] = float(sum(sp.mult)) if cfg.by == "records" else sum(m * w for m, w in zip(sp.mult, ix.weights))
        left_out = sum(1 for m in sp.mult if m == 0)
        copies = sum(m - 1 for m in sp.mult if m > 1)
        if left_out:
            run.exclude(f"not_sampled:{sp.name}", left_out)
        if copies:
            run.add_copies(f"repeat:{sp.name}", copies)
    run.extra["mix"] = composition(plan, written, units, with_reasoning, cfg)
    for w in plan.warnings:
        run.extra.setdefault("mix_warnings", []).append(w)
    return plan


def composition(plan: MixPlan, written: list[int], units: list[float], with_reasoning: list[int],
                cfg: MixConfig) -> dict:
    tot_units = sum(units) or 1.0
    rows = []
    for sp, w, u, r in zip(plan.sources, written, units, with_reasoning):
        rows.append({
            "source": sp.name, "valid_records": sp.n, "available": round(sp.size, 3),
            "requested_share": round(sp.requested_share, 6), "achieved_share": round(u / tot_units, 6),
            "out_units": round(u, 3), "out_records": w, "max_copies": sp.max_copies,
            "left_out": sum(1 for m in sp.mult if m == 0), "capped": sp.capped, "out_with_reasoning": r,
        })
    n_out = sum(written)
    n_reason = sum(with_reasoning)
    # reasoning and non-reasoning records in one set is fine, but it changes what the model learns
    # to do by default, so say it
    reasoning = {"with": n_reason, "without": n_out - n_reason,
                 "share_with": round(n_reason / n_out, 6) if n_out else 0.0,
                 "mixed": 0 < n_reason < n_out}
    return {"by": cfg.by, "reasoning": reasoning, "total_target": round(plan.total, 3), "total_achieved": round(sum(units), 3),
            # not "token..." keys: the manifest scrubber hides any key that looks like a secret token
            "counted_with": (cfg.tokenizer or "estimate") if cfg.by == "tokens" else None, "sources": rows}
