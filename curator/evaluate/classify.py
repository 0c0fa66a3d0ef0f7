"""Classification metrics: accuracy, per-label precision/recall/F1, macro/micro/weighted F1 and
the confusion matrix — the numbers of scikit-learn's ``classification_report`` (zero_division=0),
checked equal in tests/test_eval_metrics.py.

Everything is computed from three per-label sums (true positives, predicted, true), so a
bootstrap resample only needs three weighted `bincount`s, not the records again.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


class Classification:
    name = "classification"
    primary = "accuracy"

    def __init__(self, answers: Sequence[str], references: Sequence[str], label: Callable[[str], str]):
        y_true = [label(r) for r in references]
        y_pred = [label(a) for a in answers]
        # Reference labels first (sorted), then labels only the model said: those are the model
        # inventing classes, shown last in the confusion matrix.
        ref_labels = sorted(set(y_true))
        extra = sorted(set(y_pred) - set(ref_labels))
        self.labels = ref_labels + extra
        self.unknown_labels = extra
        pos = {lab: i for i, lab in enumerate(self.labels)}
        self.t = np.fromiter((pos[y] for y in y_true), dtype=np.int64, count=len(y_true))
        self.p = np.fromiter((pos[y] for y in y_pred), dtype=np.int64, count=len(y_pred))
        self.ok = self.t == self.p
        self.score = self.ok.astype(np.float64)
        self.y_true, self.y_pred = y_true, y_pred

    def sums(self, w: np.ndarray) -> np.ndarray:
        L = len(self.labels)
        tp = np.bincount(self.t, weights=w * self.ok, minlength=L)
        pred = np.bincount(self.p, weights=w, minlength=L)
        true = np.bincount(self.t, weights=w, minlength=L)
        return np.concatenate([[w.sum()], tp, pred, true])

    def per_label(self, s: np.ndarray) -> tuple[np.ndarray, ...]:
        L = len(self.labels)
        tp, pred, true = s[1:1 + L], s[1 + L:1 + 2 * L], s[1 + 2 * L:]
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = np.where(pred > 0, tp / pred, 0.0)
            rec = np.where(true > 0, tp / true, 0.0)
            f1 = np.where(pred + true > 0, 2 * tp / (pred + true), 0.0)
        return tp, pred, true, prec, rec, f1

    def summarize(self, s: np.ndarray) -> dict[str, float]:
        n = s[0]
        tp, pred, true, prec, rec, f1 = self.per_label(s)
        present = (pred + true) > 0  # sklearn averages over labels seen in y_true or y_pred
        k = max(int(present.sum()), 1)
        acc = tp.sum() / n if n else 0.0
        return {"accuracy": float(acc), "macro_precision": float(prec[present].sum() / k),
                "macro_recall": float(rec[present].sum() / k), "macro_f1": float(f1[present].sum() / k),
                "micro_f1": float(acc),  # single-label: micro P = micro R = micro F1 = accuracy
                "weighted_f1": float((f1 * true).sum() / true.sum()) if true.sum() else 0.0}

    def extras(self) -> dict[str, Any]:
        s = self.sums(np.ones(len(self.t)))
        tp, pred, true, prec, rec, f1 = self.per_label(s)
        L = len(self.labels)
        conf = np.bincount(self.t * L + self.p, minlength=L * L).reshape(L, L) if L <= 200 else None
        return {
            "labels": self.labels,
            "labels_only_in_answers": self.unknown_labels,
            "per_label": {lab: {"precision": float(prec[i]), "recall": float(rec[i]), "f1": float(f1[i]),
                                "support": int(true[i])} for i, lab in enumerate(self.labels)},
            "confusion": conf.tolist() if conf is not None else None,
        }

    def detail(self, i: int) -> dict[str, Any]:
        return {"got": self.y_pred[i], "expected": self.y_true[i],
                "why": f"label {self.y_pred[i]!r}, expected {self.y_true[i]!r}"}
