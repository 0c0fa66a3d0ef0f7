"""Build a tiny model offline: a small Qwen2 config plus a byte-level BPE tokenizer trained on the
sample data, with a ChatML chat template that carries ``{% generation %}`` markers.

There is no model hub here, so tests, benches and the README demo use this instead of a download.
Its answers are noise; its shapes, template and tokenizer behave like a real chat model's, which
is what loss masking, packing, generation and reward scoring need to be exercised for real.

``python -m trainer.tiny OUT [--kind causal|reward]``
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Iterable, Iterator

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>", "<tool_call>", "</tool_call>"]

# The tiny model's own template: ChatML with `{% generation %}` markers, <|im_end|> inside them so
# the model learns to stop; reasoning in <think> tags inside the assistant turn, tool calls in
# <tool_call> blocks as Qwen2.5 writes them (arguments are objects, rendered with tojson).
CHAT_TEMPLATE = (
    "{%- if tools %}<|im_start|>system\n# Tools\n{{ tools | tojson }}<|im_end|>\n{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message['role'] == 'assistant' %}"
    "{{- '<|im_start|>assistant\n' }}"
    "{%- generation %}"
    "{%- if message.get('reasoning_content') %}{{- '<think>\n' + message['reasoning_content'] + '\n</think>\n\n' }}{%- endif %}"
    "{{- message['content'] or '' }}"
    "{%- if message.get('tool_calls') %}{%- for call in message['tool_calls'] %}"
    "{{- '<tool_call>\n' + (call['function'] | tojson) + '\n</tool_call>' }}"
    "{%- endfor %}{%- endif %}"
    "{{- '<|im_end|>' }}"
    "{%- endgeneration %}"
    "{{- '\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message['role'] + '\n' + (message['content'] or '') + '<|im_end|>\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}"
)

_EXTRA_TEXT = [
    "The quick brown fox jumps over the lazy dog. 0123456789 + - * / = ( ) [ ] { } < > , . ; : ! ?",
    "机器学习 深度学习 数据 模型 训练 问题 回答 你好 谢谢 中国 北京 上海 今天 天气 苹果 数学 计算",
    "def main():\n    return 42\n",
]


def _sample_texts(sample_dir: Path | None) -> Iterator[str]:
    """Every string in the sample data (message contents, instructions, answers)."""
    yield from _EXTRA_TEXT
    if sample_dir is None or not sample_dir.is_dir():
        return
    for f in sorted(sample_dir.glob("*.json*")):
        text = f.read_text(encoding="utf-8", errors="replace")
        try:
            rows = json.loads(text) if f.suffix == ".json" else [json.loads(x) for x in text.splitlines() if x.strip()]
        except json.JSONDecodeError:
            continue
        yield from _strings(rows)


def _strings(obj) -> Iterator[str]:
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _strings(v)


def build_tokenizer(texts: Iterable[str], vocab_size: int = 1024):
    """A byte-level BPE tokenizer (any text encodes; nothing is unknown) with the ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(list(texts), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   additional_special_tokens=SPECIAL_TOKENS[3:])
    fast.chat_template = CHAT_TEMPLATE
    fast.model_max_length = 2048
    return fast


def build_tiny_model(out: str | Path, *, kind: str = "causal", sample_dir: str | Path | None = None,
                     hidden_size: int = 64, layers: int = 2, heads: int = 4, vocab_size: int = 1024,
                     seed: int = 0) -> Path:
    """Write a tiny Qwen2 model (`kind="causal"`) or a one-logit reward model (`kind="reward"`,
    `Qwen2ForSequenceClassification`) and its tokenizer to `out`. Deterministic for a seed."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM, Qwen2ForSequenceClassification

    out = Path(out)
    sample = Path(sample_dir) if sample_dir else Path(__file__).resolve().parent.parent / "sample_data"
    tokenizer = build_tokenizer(_sample_texts(sample), vocab_size=vocab_size)
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=hidden_size * 2,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=2048, tie_word_embeddings=True,
        bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    if kind == "causal":
        model = Qwen2ForCausalLM(config)
        model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id,
                                                   pad_token_id=tokenizer.pad_token_id, max_new_tokens=32)
    elif kind == "reward":
        config.num_labels = 1
        model = Qwen2ForSequenceClassification(config)
    else:
        raise ValueError(f"kind must be 'causal' or 'reward', not {kind!r}")
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _sample_conversations(sample_dir: Path) -> list[list[dict]]:
    """Valid conversations of the sample data, as chat-template messages."""
    from curator.io import read_records
    from curator.rejects import RejectSink

    convs = []
    sink = RejectSink(None)
    for f in sorted(sample_dir.glob("*.json*")):
        for conv in read_records(f, rejects=sink):
            if any(m.tool_calls or m.role == "tool" for m in conv.messages):
                continue
            convs.append([m.to_dict() for m in conv.messages])
    return convs


def warm_up(path: str | Path, *, steps: int = 300, lr: float = 3e-3, sample_dir: str | Path | None = None,
            seed: int = 0) -> float:
    """Teach the tiny model the chat format: a few hundred full-parameter steps on the sample
    conversations, loss on assistant tokens only. Afterwards it writes short answers that end
    with <|im_end|> — still noise, but noise that stops, which is what a demo of distillation and
    best-of-K needs (an untrained model never emits the end-of-turn token, so every answer would be
    truncated). Returns the final loss. A plain torch loop on purpose: this is a fixture, not SFT.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path)
    sample = Path(sample_dir) if sample_dir else Path(__file__).resolve().parent.parent / "sample_data"
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    torch.manual_seed(seed)
    examples = []
    for msgs in _sample_conversations(sample):
        enc = tok.apply_chat_template(msgs, tokenize=True, return_dict=True, return_assistant_tokens_mask=True)
        ids = torch.tensor(enc["input_ids"][:256])
        labels = torch.where(torch.tensor(enc["assistant_masks"][:256]) == 1, ids, torch.tensor(-100))
        examples.append((ids, labels))
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    loss_value = float("nan")
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        batch = [examples[int(i)] for i in torch.randint(len(examples), (8,), generator=g)]
        width = max(len(ids) for ids, _ in batch)
        ids = torch.full((len(batch), width), tok.pad_token_id)
        labels = torch.full((len(batch), width), -100)
        att = torch.zeros((len(batch), width), dtype=torch.long)
        for row, (x, y) in enumerate(batch):
            ids[row, : len(x)], labels[row, : len(y)], att[row, : len(x)] = x, y, 1
        loss = model(input_ids=ids, attention_mask=att, labels=labels).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        loss_value = float(loss.detach())
    model.eval()
    model.save_pretrained(path)
    return loss_value


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m trainer.tiny", description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--kind", choices=["causal", "reward"], default="causal")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    print(build_tiny_model(args.out, kind=args.kind, seed=args.seed))


if __name__ == "__main__":
    main()
