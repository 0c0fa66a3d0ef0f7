"""IFD and perplexity from a local causal LM (`curate select --score-model PATH`).

- ``ppl`` = exp(mean NLL of the answer tokens given the prompt): how surprising the answer is to
  the model (very low: trivial or memorised; very high: noise or a broken answer).
- ``ifd`` (Instruction-Following Difficulty, Li et al. 2024 "From Quantity to Quality"; the
  Superfiltering paper shows a small model's IFD ranks data about as well as a large one's) =
  loss(answer | prompt) / loss(answer alone). Near 0: the prompt makes the answer easy to
  predict; near 1: the prompt hardly helps — the informative examples; above 1: the prompt and
  answer do not fit together (usually bad data). Select high IFD below 1, e.g. ``--score ifd``
  after ``curate filter`` drops ifd >= 1.

The answer is the last assistant turn, the prompt everything before it, rendered with the model's
chat template (plain "role: content" lines when it has none). Prompts keep their last
`max_prompt_tokens`, answers their first `max_answer_tokens`. Batched, right-padded, no grad, CPU
or whatever device torch picks. transformers/torch are imported here only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from curator.errors import UsageError
from curator.record import Conversation


class LMScorer:
    """Callable on a batch of records: sets meta.scores.ifd and meta.scores.ppl in place."""

    def __init__(self, path: str | Path, *, batch_size: int = 8, max_prompt_tokens: int = 512,
                 max_answer_tokens: int = 512):
        self.path = Path(path)
        if not (self.path / "config.json").is_file():
            raise UsageError(f"--score-model {path}: not a transformers model folder (no config.json)")
        self.batch_size = max(int(batch_size), 1)
        self.max_prompt = max_prompt_tokens
        self.max_answer = max_answer_tokens
        self.scored = 0
        self.skipped = 0
        self._tok: Any = None
        self._model: Any = None

    def _load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._tok = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
        self._model = AutoModelForCausalLM.from_pretrained(str(self.path), local_files_only=True).eval()

    def _prompt_text(self, conv: Conversation, upto: int) -> str:
        msgs = [{"role": m.role, "content": m.content} for m in conv.messages[:upto]]
        if getattr(self._tok, "chat_template", None):
            return self._tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        return "".join(f"{m['role']}: {m['content']}\n" for m in msgs) + "assistant: "

    def __call__(self, batch: Sequence[Conversation]) -> None:
        if self._model is None:
            self._load()
        items = []
        for conv in batch:
            k = conv.last_index("assistant")
            if k is None or not conv.messages[k].content.strip():
                self.skipped += 1  # nothing to score: the record keeps no ifd/ppl and ranks last on them
                continue
            p = self._tok(self._prompt_text(conv, k), add_special_tokens=False)["input_ids"][-self.max_prompt:]
            a = self._tok(conv.messages[k].content, add_special_tokens=False)["input_ids"][: self.max_answer]
            items.append((conv, p, a))
        for s in range(0, len(items), self.batch_size):
            chunk = items[s: s + self.batch_size]
            start = self._tok.bos_token_id if self._tok.bos_token_id is not None else self._tok.eos_token_id
            cond = self._answer_losses([(p, a) for _, p, a in chunk])
            bare = self._answer_losses([([start], a) for _, _, a in chunk])
            for (conv, _, _), lc, lb in zip(chunk, cond, bare):
                scores = conv.meta.setdefault("scores", {})
                scores["ppl"] = round(math.exp(min(lc, 50.0)), 4)
                scores["ifd"] = round(lc / lb, 4) if lb > 0 else None
                self.scored += 1

    def _answer_losses(self, pairs: list[tuple[list[int], list[int]]]) -> list[float]:
        """Mean NLL of each answer's tokens after its context, one padded forward pass."""
        import torch

        pad = self._tok.pad_token_id if self._tok.pad_token_id is not None else 0
        width = max(len(p) + len(a) for p, a in pairs)
        ids = torch.full((len(pairs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(pairs), width), dtype=torch.long)
        labels = torch.full((len(pairs), width), -100, dtype=torch.long)
        for r, (p, a) in enumerate(pairs):
            seq = p + a
            ids[r, : len(seq)] = torch.tensor(seq)
            mask[r, : len(seq)] = 1
            labels[r, len(p): len(seq)] = torch.tensor(a)
        with torch.no_grad():
            logits = self._model(input_ids=ids.to(self._model.device),
                                 attention_mask=mask.to(self._model.device)).logits.float().cpu()
        # token t is predicted from position t-1
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        tgt = labels[:, 1:]
        valid = tgt != -100
        nll = -logp.gather(-1, tgt.clamp(min=0).unsqueeze(-1)).squeeze(-1) * valid
        return (nll.sum(1) / valid.sum(1).clamp(min=1)).tolist()
