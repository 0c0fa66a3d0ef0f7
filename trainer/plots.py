"""``loss.png``: train and eval loss against optimizer steps, drawn from ``metrics.jsonl``."""

from __future__ import annotations

import json
from pathlib import Path


def read_metrics(path: str | Path) -> list[dict]:
    p = Path(path)
    if not p.exists():
        return []
    return [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]


def plot_loss(metrics_path: str | Path, out_png: str | Path, title: str = "") -> Path:
    """Draw the curves (Agg backend: no display needed) and return the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = read_metrics(metrics_path)
    train = [(r["step"], r["loss"]) for r in rows if "loss" in r]
    evals = [(r["step"], r["eval_loss"]) for r in rows if "eval_loss" in r]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    if train:
        # Markers when there are few points: a short run logs once or twice, and a lone point
        # drawn as a line is invisible.
        ax.plot(*zip(*train), label="train loss", color="tab:blue", marker="o" if len(train) <= 20 else None)
    if evals:
        ax.plot(*zip(*evals), label="eval loss", color="tab:orange", marker="o")
        best = min(evals, key=lambda e: e[1])
        ax.axvline(best[0], color="tab:green", linestyle=":", label=f"best (step {best[0]})")
    if not train and not evals:
        ax.text(0.5, 0.5, "no loss logged yet (run longer, or lower --logging-steps)", ha="center", va="center",
                transform=ax.transAxes, color="#666")
    steps = [s for s, _ in train + evals]
    if steps and min(steps) == max(steps):  # one step: give the axis a width so the point is centred
        ax.set_xlim(steps[0] - 1, steps[0] + 1)
    tasks = sorted({k for r in rows for k in r if k.startswith("task/")})
    if tasks:  # eval_generate_every: task metrics on a second axis (0..1; BLEU is 0..100, so it is left out)
        ax2 = ax.twinx()
        for i, key in enumerate(k for k in tasks if not k.endswith("/bleu")):
            pts = [(r["step"], r[key]) for r in rows if key in r]
            ax2.plot(*zip(*pts), label=key[5:], linestyle="--", marker=".", color=f"C{(i + 3) % 10}")
        ax2.set_ylabel("task metric")
        ax2.set_ylim(0, 1.05)
        ax2.legend(loc="center right", fontsize=7)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title or "training loss")
    ax.grid(alpha=0.3)
    if train or evals:
        ax.legend()
    fig.tight_layout()
    out = Path(out_png)
    fig.savefig(out)
    plt.close(fig)
    return out
