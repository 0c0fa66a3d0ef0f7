"""`train generate OUT --prompts eval.jsonl -o outputs.jsonl`: answer held-out prompts with a trained model.

Each output is a canonical record: the prompt turns, the model's answer as the last assistant
turn (a leading ``<think>`` block split into `reasoning`), and ``meta.generation`` saying which
model made it and how. A prompt record that already had an answer keeps it as
``meta.reference`` so `curate review` can show both and the bad ones become badcases.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from curator.formats.common import DEFAULT_READ, split_think
from curator.errors import RowError
from curator.record import Conversation, Message


def _batches(items: Iterator[Conversation], n: int) -> Iterator[list[Conversation]]:
    batch: list[Conversation] = []
    for it in items:
        batch.append(it)
        if len(batch) >= n:
            yield batch
            batch = []
    if batch:
        yield batch


def answer(run: Any, model: Any, tokenizer: Any, convs: Iterator[Conversation], *, max_new_tokens: int,
           temperature: float, batch_size: int, seed: int, model_name: str) -> None:
    """Generate for every record and write it through `run` (a `CommandRun`)."""
    import torch

    from trainer.chat_rows import to_messages

    tokenizer.padding_side = "left"  # decoder-only models continue from the right edge
    model.eval()
    torch.manual_seed(seed)
    for batch in _batches(convs, batch_size):
        prompts = []
        for conv in batch:
            ctx = Conversation(messages=conv.prompt_messages(), id=conv.id, tools=conv.tools)
            row = to_messages(ctx)  # the same shape training rendered: argument objects, OpenAI-shaped tools
            prompts.append(tokenizer.apply_chat_template(row["messages"], tools=row["tools"],
                                                         add_generation_prompt=True, tokenize=False))
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=temperature > 0,
                                 temperature=temperature if temperature > 0 else None, top_p=None, top_k=None)
        for conv, row in zip(batch, gen[:, enc["input_ids"].shape[1]:]):
            ids = row.tolist()
            finished = any(i in _stop_ids(model) for i in ids)
            text = tokenizer.decode(ids, skip_special_tokens=True)
            try:
                reasoning, content = split_think(text, DEFAULT_READ, "answer")
            except RowError:  # an unterminated think block: the answer ran out of tokens mid-thought
                reasoning, content = text.replace("<think>", "", 1).strip("\n"), ""
            out = conv.copy()
            ref = conv.last("assistant")
            if ref is not None and (ref.content or ref.reasoning):
                out.meta["reference"] = ref.to_dict()
            out.messages = conv.prompt_messages() + [Message("assistant", content, reasoning=reasoning)]
            out.meta["generation"] = {"model": model_name, "max_new_tokens": max_new_tokens,
                                      "temperature": temperature, "seed": seed,
                                      "finish_reason": "stop" if finished else "length"}
            out.add_lineage("train-generate")
            run.write(out)


def _stop_ids(model: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    return set(eos if isinstance(eos, list) else [eos])


def generate(out_dir: str | Path, prompts: str | Path, output: str | Path, *, max_new_tokens: int = 256,
             temperature: float = 0.0, batch_size: int = 8, seed: int = 0, base: str | None = None) -> int:
    """Run the whole command; returns the exit code."""
    import transformers

    from curator.runner import CommandRun
    from trainer.merge import load_trained

    transformers.logging.set_verbosity_error()
    params = dict(out_dir=str(out_dir), prompts=str(prompts), output=str(output), max_new_tokens=max_new_tokens,
                  temperature=temperature, batch_size=batch_size, seed=seed)
    model, tokenizer = load_trained(out_dir, base)
    with CommandRun("train-generate", out=output, params=params, inputs=[prompts]) as run:
        convs = run.read(prompts, allow={"no_assistant", "empty_content"})
        answer(run, model, tokenizer, convs, max_new_tokens=max_new_tokens, temperature=temperature,
               batch_size=batch_size, seed=seed, model_name=str(out_dir))
    return run.exit_code
