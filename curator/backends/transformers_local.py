"""A local Hugging Face model as a backend: batched `generate` with the model's chat template.

The embedded default when no server is configured (and what tests run, on the tiny offline
model). Needs the `[train]` extra; torch and transformers are imported when the backend is built,
never when `curator` is imported.

Requests arriving together are grouped into one left-padded batch (decoder-only models must be
padded on the left so every row's new tokens start at the same position). Only requests with
identical sampling parameters share a batch. `generate` runs in a worker thread so the event
loop (progress, cache writes) keeps going. Sampling is seeded per batch; with temperature 0 or
unset the decoding is greedy and the output does not depend on how requests were batched.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from curator.backends.base import Choice, GenerationRequest, GenerationResult, SamplingParams, Usage, fatal


class TransformersBackend:
    name = "transformers"

    def __init__(self, model: str | Path, *, batch_size: int = 16, device: str | None = None,
                 default_max_tokens: int = 512):
        from curator.hub import check_model

        check_model(model)  # one line, not a minute of hub retries, when the id cannot be reached
        import torch
        import transformers
        from transformers import AutoModelForCausalLM, AutoTokenizer

        transformers.utils.logging.disable_progress_bar()  # "Loading weights" bars would bury the progress line
        self.model_path = str(model)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModelForCausalLM.from_pretrained(self.model_path).to(self.device).eval()
        self.batch_size = batch_size
        self.default_max_tokens = default_max_tokens
        self._torch = torch
        self._queue: asyncio.Queue[tuple[GenerationRequest, asyncio.Future[GenerationResult]]] | None = None
        self._worker: asyncio.Task[None] | None = None

    def identity(self) -> dict[str, Any]:
        return {"backend": self.name, "base_url": None, "model": str(Path(self.model_path).resolve())
                if Path(self.model_path).exists() else self.model_path}

    # -- async front: gather concurrent requests into batches ----------------------------------
    async def generate(self, request: GenerationRequest) -> GenerationResult:
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._worker = asyncio.create_task(self._serve())
        fut: asyncio.Future[GenerationResult] = asyncio.get_running_loop().create_future()
        await self._queue.put((request, fut))
        return await fut

    async def _serve(self) -> None:
        assert self._queue is not None
        while True:
            first = await self._queue.get()
            await asyncio.sleep(0)  # let requests issued in the same tick join the batch
            batch = [first]
            while len(batch) < self.batch_size and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            groups: dict[SamplingParams, list[tuple[GenerationRequest, asyncio.Future[GenerationResult]]]] = {}
            for item in batch:
                groups.setdefault(item[0].params, []).append(item)
            for params, items in groups.items():
                try:
                    results = await asyncio.to_thread(self.generate_batch, [r for r, _ in items])
                except Exception as e:  # a model error fails these requests, not the run
                    for _, fut in items:
                        if not fut.done():
                            fut.set_exception(fatal("api_error", f"local generate failed: {e}"))
                    continue
                for (_, fut), res in zip(items, results):
                    if not fut.done():
                        fut.set_result(res)

    # -- the batched call --------------------------------------------------------------------
    def generate_batch(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        """One left-padded `generate` for requests sharing sampling parameters."""
        torch = self._torch
        params = requests[0].params
        t0 = time.perf_counter()
        prompts = [self.tokenizer.apply_chat_template(r.messages, tokenize=False, add_generation_prompt=True)
                   for r in requests]
        enc = self.tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        sample = bool(params.temperature) and params.temperature > 0
        kwargs: dict[str, Any] = {"max_new_tokens": params.max_tokens or self.default_max_tokens,
                                  "num_return_sequences": params.n, "pad_token_id": self.tokenizer.pad_token_id,
                                  "do_sample": sample}
        if sample:
            kwargs["temperature"] = params.temperature
            if params.top_p is not None:
                kwargs["top_p"] = params.top_p
            torch.manual_seed(params.seed if params.seed is not None else 0)
        elif params.n > 1:
            raise fatal("api_error", "n > 1 needs sampling: set --temperature > 0")
        with torch.no_grad():
            out = self.model.generate(**enc, **kwargs)
        new = out[:, enc["input_ids"].shape[1]:]
        eos = self.tokenizer.eos_token_id
        results = []
        latency = round(time.perf_counter() - t0, 4)
        for i, r in enumerate(requests):
            choices = []
            completion_tokens = 0
            for k in range(params.n):
                row = new[i * params.n + k].tolist()
                ended = eos in row
                if ended:
                    row = row[: row.index(eos)]
                row = [t for t in row if t != self.tokenizer.pad_token_id]
                completion_tokens += len(row) + int(ended)
                text = self.tokenizer.decode(row, skip_special_tokens=False)
                finish = "stop" if ended else "length"
                for s in params.stop or ():
                    if s in text:
                        text, finish = text[: text.index(s)], "stop"
                choices.append(Choice(text, None, finish))
            prompt_tokens = int(enc["attention_mask"][i].sum())
            results.append(GenerationResult(choices, Usage(prompt_tokens, completion_tokens), latency,
                                            Path(self.model_path).name))
        return results

    async def aclose(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            try:
                await self._worker
            except (asyncio.CancelledError, Exception):
                pass
            self._worker = None
