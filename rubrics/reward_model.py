"""Reward models: a local `AutoModelForSequenceClassification` scoring prompt + answer.

The pair is rendered through the model's own chat template (the format it was trained on), so
a reward model trained on ChatML sees ChatML. Scoring is batched with right padding
and the model's pad token id, which is how `*ForSequenceClassification` finds the last real token.

The scalar is read as ``logits[:, 0]`` for a one-logit head — never ``logits.squeeze()``, which
turns a batch of one into a 0-d tensor and a (B, 1) batch into (B,) depending on B. A
two-logit head (a classifier with good/bad labels) is read as ``logit[1] - logit[0]``.
"""

from __future__ import annotations

from typing import Sequence

from curator.record import Conversation, Message
from rubrics.base import Rubric, Score


class RewardModelRubric(Rubric):
    blocking = True
    range = None

    def __init__(self, model: str, *, name: str | None = None, batch_size: int = 8, max_length: int = 2048,
                 device: str | None = None, pass_at: float | None = None):
        self.model_ref = model
        self.name = name or "reward"
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.pass_at = pass_at
        self._model = None
        self._tok = None

    def _load(self) -> None:
        if self._model is not None:
            return
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(self.model_ref)
        self._model = AutoModelForSequenceClassification.from_pretrained(self.model_ref)
        self._model.eval()
        dev = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model.to(dev)
        self.device = dev
        if self._tok.pad_token_id is None:
            self._tok.pad_token = self._tok.eos_token
        if self._model.config.pad_token_id is None:
            # The classifier locates each row's last real token through pad_token_id.
            self._model.config.pad_token_id = self._tok.pad_token_id
        self._tok.padding_side = "right"
        self._torch = torch

    def render(self, conv: Conversation, cand: Message) -> str:
        msgs = [m.to_dict() for m in conv.prompt_messages() if m.role in ("system", "user", "assistant")]
        msgs.append({"role": "assistant", "content": cand.content})
        if self._tok.chat_template:
            return self._tok.apply_chat_template(msgs, tokenize=False)
        return "\n\n".join(f"{m['role']}: {m['content']}" for m in msgs)

    def raw_scores(self, items: Sequence[tuple[Conversation, Message]]) -> list[float]:
        self._load()
        torch = self._torch
        out: list[float] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start:start + self.batch_size]
            texts = [self.render(c, m) for c, m in chunk]
            enc = self._tok(texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_length,
                            add_special_tokens=False)
            enc = {k: v.to(self.device) for k, v in enc.items()}
            with torch.inference_mode():
                logits = self._model(**enc).logits.float()
            if logits.shape[-1] == 1:
                vals = logits[:, 0]
            elif logits.shape[-1] == 2:
                vals = logits[:, 1] - logits[:, 0]
            else:
                raise ValueError(f"{self.model_ref}: a reward model has 1 (or 2) output logits, this one has {logits.shape[-1]}")
            out.extend(float(v) for v in vals.cpu().tolist())
        return out

    def score_batch(self, items: Sequence[tuple[Conversation, Message]]) -> list[Score]:
        vals = self.raw_scores(items)
        return [Score(v, True if self.pass_at is None else v >= self.pass_at, f"reward {v:.4f}") for v in vals]

    def close(self) -> None:
        self._model = None
