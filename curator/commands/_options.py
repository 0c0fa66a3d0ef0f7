"""Options shared by several commands, so every command spells them the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from curator.config_check import check_choice
from curator.errors import UsageError
from curator.formats import ReadOptions, WriteOptions

FROM = typer.Option(None, "--from", help="Input format (alpaca, sharegpt, messages, prompt_completion); "
                    "detected per file when omitted.")
TO = typer.Option("messages", "--to", help="Output format: messages (canonical, OpenAI/Ark), sharegpt, alpaca, "
                  "prompt_completion.")
MAP = typer.Option(None, "--map", help="Field mapping OURS=THEIRS, repeatable: --map instruction=question "
                   "--map tag.user=customer (ShareGPT tags).")
ENCODING = typer.Option(None, "--encoding", help="Input text encoding when not UTF-8 (e.g. gb18030).")
MAX_ERROR_RATE = typer.Option(None, "--max-error-rate", help="Exit 1 when rejected/in is above this (0..1).")
REASONING = typer.Option("auto", "--reasoning", help="Where reasoning goes on output: auto (reasoning_content "
                         "for messages, <think> tags elsewhere), field, tags, drop.")
THINK_TAGS = typer.Option("<think>,</think>", "--think-tags", help="Opening and closing reasoning tags, comma-separated.")
OUT = typer.Option(..., "-o", "--out", help="Output file (.jsonl, .jsonl.gz, .json, .parquet, or a folder).")
STRIP_META = typer.Option(False, "--strip-meta", help="Write only messages/tools (for upload to a fine-tuning API).")
NO_CACHE = typer.Option(False, "--no-cache", help="Neither read nor write the response cache: every request is "
                        "sent again (a killed run then cannot resume).")
ALLOW = typer.Option(None, "--allow", help="Validation codes that do not reject, repeatable (e.g. placeholder).")


def parse_mapping(items: Optional[list[str]]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in items or []:
        ours, eq, theirs = item.partition("=")
        if not eq or not ours or not theirs:
            raise UsageError(f"--map {item!r}: expected OURS=THEIRS, e.g. --map instruction=question")
        out.append((ours.strip(), theirs.strip()))
    return tuple(out)


def _tags(think_tags: str) -> tuple[str, str]:
    o, sep, c = think_tags.partition(",")
    if not sep or not o or not c:
        raise UsageError(f"--think-tags {think_tags!r}: expected OPEN,CLOSE such as '<think>,</think>'")
    return o, c


def read_options(mapping: Optional[list[str]] = None, think_tags: str = "<think>,</think>") -> ReadOptions:
    o, c = _tags(think_tags)
    return ReadOptions(mapping=parse_mapping(mapping), think_open=o, think_close=c)


def write_options(reasoning: str = "auto", strip_meta: bool = False, think_tags: str = "<think>,</think>") -> WriteOptions:
    check_choice("--reasoning", reasoning, ("auto", "field", "tags", "drop"))
    o, c = _tags(think_tags)
    return WriteOptions(reasoning=reasoning, strip_meta=strip_meta, think_open=o, think_close=c)


def check_inputs(inputs: list[Path]) -> None:
    for p in inputs:
        if not Path(p).exists():
            raise UsageError(f"{p}: no such file")

ENGINE = typer.Option("local", "--engine", help="Where the stage runs: local (this process) or ray (Ray Data: a "
                      "local Ray instance, or the cluster at --ray-address; needs the [ray] extra).")
RAY_ADDRESS = typer.Option(None, "--ray-address", help="Ray cluster to use with --engine ray (e.g. auto, "
                           "ray://head:10001); default: start a local instance with one CPU per core.")


WORKERS = typer.Option("auto", "--workers", help="Local engine: processes to spread the records over (same output "
                       "as one). auto: one per core for inputs of 48 MB and more, else 1.")


def workers(value: str) -> int | None:
    from curator.engine.local import parse_workers

    return parse_workers(value)


def check_engine(engine: str) -> str:
    from curator.engine import ENGINES

    check_choice("--engine", engine, ENGINES)
    return engine


# distill and bestofk: the openai client costs ~0.7 ms of CPU per request, so one process caps
# the request rate however wide the window is (see curator/backends/process_pool.py).
CLIENT_PROCESSES = typer.Option("auto", "--client-processes", help="HTTP backend: client processes the requests "
                                "are spread over. auto: 1 below --concurrency 128, else one per 64 in flight, "
                                "up to 4; one process's openai client tops out near 1,000 requests/s.")


def client_processes(value: str) -> int | None:
    """`--client-processes`: None for auto, else a count >= 1."""
    if value.strip().lower() == "auto":
        return None
    try:
        n = int(value)
    except ValueError:
        raise UsageError(f"--client-processes {value!r}: a number of processes, or auto") from None
    if n < 1:
        raise UsageError("--client-processes must be >= 1")
    return n


# score and bestofk: rubrics and the LLM judge behind them.
RUBRIC = typer.Option(..., "--rubric", "-r", help="Rubric, repeatable: a rule (no_refusal, rule:json_valid), a shipped "
                      "judge (helpfulness, correctness, instruction_following, chinese_style, format_compliance), a "
                      "rubric or recipe file (.yaml/.md), rm:MODEL_PATH, or module:function.")
JUDGE_MODEL = typer.Option(None, "--judge-model", help="Model name for LLM-judge rubrics.")
JUDGE_BASE_URL = typer.Option(None, "--judge-base-url", help="OpenAI-compatible base URL for the judge "
                              "(default: $OPENAI_BASE_URL).")
JUDGE_KEY_ENV = typer.Option("OPENAI_API_KEY", "--judge-api-key-env", help="Environment variable holding the "
                             "judge's API key (the key itself is never written anywhere).")
JUDGE_RETRIES = typer.Option(2, "--judge-retries", help="Extra attempts when a verdict does not parse.")
CACHE = typer.Option(None, "--cache", help="SQLite cache for judge calls (default: <out>.cache.sqlite).")
CONCURRENCY = typer.Option(16, "--concurrency", help="Judge requests in flight.")
