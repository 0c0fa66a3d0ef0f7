"""`--compare other_eval.json`: before/after deltas per task and metric, with intervals.

The two runs are usually two models on the same eval set; without the per-record pairing the
interval of a difference is taken from the two bootstrap standard errors as if independent,
delta ± z·sqrt(se_a² + se_b²) — wider (more cautious) than a paired bootstrap would give.
"""

from __future__ import annotations

import math
from typing import Any

LOWER_IS_BETTER = ("invalid_json_rate", "no_final_answer_rate")
_Z = {0.9: 1.6449, 0.95: 1.96, 0.99: 2.5758}


def compare(cur: dict[str, Any], other: dict[str, Any], confidence: float = 0.95) -> dict[str, Any]:
    """{task: {metric: {"this", "other", "delta", "ci", "verdict"}}} for metrics both runs have."""
    z = _Z.get(round(confidence, 2), 1.96)
    out: dict[str, Any] = {}
    for task, t in cur.get("tasks", {}).items():
        o = other.get("tasks", {}).get(task)
        if not o:
            continue
        rows = {}
        for m, a in t["metrics"].items():
            b = o["metrics"].get(m)
            if b is None:
                continue
            d = a["value"] - b["value"]
            row: dict[str, Any] = {"this": a["value"], "other": b["value"], "delta": d, "n": [t["n"], o["n"]]}
            if "se" in a and "se" in b:
                half = z * math.sqrt(a["se"] ** 2 + b["se"] ** 2)
                row["ci"] = [d - half, d + half]
                better = d > 0 if m not in LOWER_IS_BETTER else d < 0
                row["verdict"] = ("no clear change" if row["ci"][0] <= 0 <= row["ci"][1]
                                  else "better" if better else "worse")
            rows[m] = row
        out[task] = rows
    return out
