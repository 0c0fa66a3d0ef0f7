#!/usr/bin/env bash
# Drive `curate review` for real in a terminal (tmux), not headless: start it in a detached
# session of a fixed size, send keys, capture the pane to text files and assert on them.
#   scripts/review_tmux.sh [OUTDIR]      (default /tmp/review_tmux; captures are kept there)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-/work/main/.venv/bin/python}"
OUT="${1:-/tmp/review_tmux}"
S="curate-review-$$"
rm -rf "$OUT" && mkdir -p "$OUT"
export PYTHONPATH="$ROOT"

# Data: 4 ordinary records and 2 hostile ones (Rich markup; ANSI colour, clear-screen, title).
"$PY" - "$OUT/queue.jsonl" <<'PYEOF'
import json, sys
rows = [{"id": f"r{i}", "messages": [{"role": "user", "content": f"question {i}: what is {i}+{i}?"},
        {"role": "assistant", "content": f"{i}+{i} is {2 * i}."}], "meta": {"score": i / 4}} for i in range(4)]
rows.insert(1, {"id": "evil-markup", "messages": [{"role": "user", "content": "[bold red]BOLD?[/] [link=x]l[/link]"},
            {"role": "assistant", "content": "ok"}]})
rows.insert(2, {"id": "evil-ansi", "messages": [{"role": "user", "content": "\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b[31mRED?\x1b[0m"},
            {"role": "assistant", "content": "ok"}]})
with open(sys.argv[1], "w") as fh:
    fh.writelines(json.dumps(r) + "\n" for r in rows)
PYEOF

cap() { tmux capture-pane -p -t "$S" > "$OUT/$1.txt"; }
wait_for() {  # wait_for NAME PATTERN: capture until PATTERN shows (10 s)
  for _ in $(seq 1 50); do cap "$1"; grep -qF -- "$2" "$OUT/$1.txt" && return 0; sleep 0.2; done
  echo "FAIL: '$2' not on screen ($OUT/$1.txt):"; cat "$OUT/$1.txt"; exit 1
}
must() { grep -qF -- "$2" "$OUT/$1.txt" || { echo "FAIL: '$2' not in $1"; cat "$OUT/$1.txt"; exit 1; }; }
mustnt() { if grep -qF -- "$2" "$OUT/$1.txt"; then echo "FAIL: '$2' in $1"; exit 1; fi; }
trap 'tmux kill-session -t "$S" 2>/dev/null || true' EXIT

start() { tmux new-session -d -s "$S" -x 120 -y 36 "cd '$ROOT' && TERM=xterm-256color '$PY' -m curator review '$OUT/queue.jsonl'; sleep 30"; }

start
wait_for 01_open "6 records"
must 01_open "queue.jsonl"
must 01_open "[bold red]BOLD?[/]"          # markup shown literally in the list
must 01_open "␛[2J␛[H␛]0;pwned␇␛[31mRED?"  # escapes shown as visible characters; screen not cleared
must 01_open "Accept"                      # footer keys

tmux send-keys -t "$S" a                   # accept r0 -> cursor moves to evil-markup
wait_for 02_accepted "✓ 1"
must 02_accepted "BOLD?"
tmux send-keys -t "$S" r; sleep 0.5; cap 03_reason_picker
must 03_reason_picker "Reject: pick a reason"
tmux send-keys -t "$S" 3                   # third default reason: low_quality
wait_for 04_rejected "✗ 1"
tmux send-keys -t "$S" 1                   # quick tag 1 on evil-ansi
wait_for 05_tagged "#hallucination"
tmux send-keys -t "$S" '?'
wait_for 06_help "undo the last decision"
tmux send-keys -t "$S" Escape; sleep 0.5
tmux send-keys -t "$S" q; sleep 1.5
cap 07_after_quit
mustnt 07_after_quit "Traceback"
tmux kill-session -t "$S" 2>/dev/null || true

"$PY" - "$OUT/queue.jsonl.review.sqlite" <<'PYEOF'
import sqlite3, sys
rows = sqlite3.connect(sys.argv[1]).execute("SELECT idx, action, reason, tag FROM decisions ORDER BY seq").fetchall()
print("decisions:", rows)
assert rows == [(0, "accept", None, None), (1, "reject", "low_quality", None), (2, "tag", None, "hallucination")], rows
PYEOF

start                                       # reopen: resumes at the first pending record (evil-ansi, 3/6)
wait_for 08_reopen "[3/6]"
must 08_reopen "✓ 1"
tmux send-keys -t "$S" q; sleep 1
tmux kill-session -t "$S" 2>/dev/null || true

"$PY" -m curator review export "$OUT/queue.jsonl" --accepted "$OUT/accepted.jsonl" --badcases "$OUT/bad.jsonl" 2> "$OUT/09_export.txt"
cat "$OUT/09_export.txt"
grep -q '"reason":"low_quality"' "$OUT/bad.jsonl"
test "$(wc -l < "$OUT/accepted.jsonl")" -eq 1
echo "OK: tmux review drive passed; screens in $OUT"
