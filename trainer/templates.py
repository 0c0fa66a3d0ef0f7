"""Chat templates that can mark assistant tokens, for model families whose own template cannot.

Hugging Face computes the loss mask of a chat from ``{% generation %}`` markers in the template
(``apply_chat_template(..., return_assistant_tokens_mask=True)``). Most released templates have no
markers, so without help the choice is "train on everything" (the prompt too) or nothing. For the
families we know, this module supplies a template that renders the same text as the family's own
and carries the markers, with the end-of-turn token inside them so the model learns to stop.
An unknown family gets no guess: the caller refuses with a message instead.
"""

from __future__ import annotations

import re

GENERATION_RE = re.compile(r"{%-?\s*generation\s*-?%}")

# ChatML, as Qwen uses it. Reasoning is rendered in <think> tags inside the assistant turn (R1,
# QwQ and Qwen3 put it there), tool calls in <tool_call> blocks as Qwen2.5 does.
CHATML = (
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

# Llama 3 / 3.1 chat format. <|eot_id|> ends a turn and sits inside the markers.
LLAMA3 = (
    "{{- bos_token }}"
    "{%- for message in messages %}"
    "{%- set role = 'ipython' if message['role'] == 'tool' else message['role'] %}"
    "{{- '<|start_header_id|>' + role + '<|end_header_id|>\n\n' }}"
    "{%- if message['role'] == 'assistant' %}"
    "{%- generation %}"
    "{%- if message.get('reasoning_content') %}{{- '<think>\n' + message['reasoning_content'] + '\n</think>\n\n' }}{%- endif %}"
    "{{- message['content'] or '' }}"
    "{%- if message.get('tool_calls') %}{%- for call in message['tool_calls'] %}"
    "{{- call['function'] | tojson }}"
    "{%- endfor %}{%- endif %}"
    "{{- '<|eot_id|>' }}"
    "{%- endgeneration %}"
    "{%- else %}"
    "{{- (message['content'] or '') + '<|eot_id|>' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{%- endif %}"
)

# family -> (template, end-of-turn token, tokens that identify the family in a vocabulary)
FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "chatml": (CHATML, "<|im_end|>", ("<|im_start|>", "<|im_end|>")),
    "llama3": (LLAMA3, "<|eot_id|>", ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")),
}


def has_generation_markers(template: str | None) -> bool:
    return bool(template) and bool(GENERATION_RE.search(template))


def detect_family(template: str | None, vocab: dict[str, int]) -> str | None:
    """The known family a tokenizer belongs to, from its template text or, lacking one, its vocabulary."""
    for name, (_, _, marks) in FAMILIES.items():
        if template and all(m in template for m in marks[:1]):
            return name
    for name, (_, _, marks) in FAMILIES.items():
        if all(m in vocab for m in marks):
            return name
    return None
