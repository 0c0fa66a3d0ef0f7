"""`curate review --compare A.jsonl B.jsonl [--annotator NAME] [--db D]`: open the blind A/B screen,
then print the result (the same as `curate eval --arena D -o arena.json`)."""

from __future__ import annotations

import getpass
from pathlib import Path

from rich.console import Console

from curator.errors import UsageError
from curator.runner import usage_error


def compare_command(a: Path, b: Path | None, db: Path | None, annotator: str | None) -> int:
    from curator.review.arena import ArenaStore, default_db, load_pairs
    from curator.review.arena_eval import print_arena
    from curator.review.arena_stats import summarize

    if b is None:
        usage_error("curate review --compare A.jsonl B.jsonl: the second file is missing")
    assert b is not None
    try:
        for p in (a, b):
            if not p.exists():
                raise UsageError(f"{p}: no such file")
        pairs, counts = load_pairs(a, b)
        if not pairs:
            raise UsageError(f"no pairs: {a} and {b} share no record id and no prompt")
        store = ArenaStore(db or default_db(a, b), a, b)
    except UsageError as e:
        usage_error(str(e))
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if counts["unpaired_a"] or counts["unpaired_b"]:
        console.print(f"[yellow]{counts['unpaired_a']} answers of {a.name} and {counts['unpaired_b']} of {b.name} "
                      f"have no partner (paired by {counts['paired_by']}); they are not shown[/]")
    try:
        from curator.review.arena_app import ArenaApp
        from curator.review.screens import localized
    except ImportError:
        usage_error("curate review needs Textual: pip install 'sft-curator[review]'")
    name = annotator or getpass.getuser() or "annotator"
    try:
        localized(ArenaApp)(store, pairs, name).run()
        print_arena(summarize(store), console)
        console.print(f"decisions: {store.path} (curate eval --arena {store.path} -o arena.json)")
    finally:
        store.close()
    return 0
