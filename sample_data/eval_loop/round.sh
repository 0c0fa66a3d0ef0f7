#!/usr/bin/env bash
# One round of the evaluation loop, offline, on the tiny model (docs/eval.md walks through it):
#   train -> train eval -> badcases -> augment -> distill -> bestofk -> mix
#   -> train --init-adapter (incremental) -> train eval --compare
#
#   bash sample_data/eval_loop/round.sh [WORKDIR]          (default runs/eval-loop)
#
# The teacher is a stand-in on a loopback port (tests/chat_server.py --demo-teacher) unless
# TEACHER_URL and TEACHER_MODEL name a real one (vLLM, Ollama, an API). The tiny model's answers
# are noise: the point is the plumbing, not the scores. STEPS sets the training steps per round.
set -euo pipefail
PY=${PY:-python}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
W=${1:-runs/eval-loop}
STEPS=${STEPS:-6}
mkdir -p "$W"
curate() { "$PY" -m curator "$@"; }
train() { "$PY" -m trainer "$@"; }

# 0. the offline tiny model, and the teacher
[ -f "$W/tiny/config.json" ] || train make-tiny "$W/tiny" --warmup-steps "${WARMUP:-0}"
if [ -z "${TEACHER_URL:-}" ]; then
  rm -f "$W/teacher.url"
  "$PY" "$ROOT/tests/chat_server.py" --demo-teacher > "$W/teacher.url" 2>/dev/null &
  TEACHER_PID=$!
  trap 'kill $TEACHER_PID 2>/dev/null || true' EXIT
  until [ -s "$W/teacher.url" ]; do sleep 0.1; done
  TEACHER_URL=$(head -1 "$W/teacher.url")
  TEACHER_MODEL=demo-teacher
fi
export OPENAI_API_KEY=${OPENAI_API_KEY:-not-needed-locally}
COMMON="batch_size=4 grad_accum=1 eval_ratio=0 learning_rate=1e-2 logging_steps=1"

# 1. round 1: train on the curated data
train "$HERE/train.jsonl" --model "$W/tiny" -o "$W/round1" max_steps="$STEPS" $COMMON
# 2. how good is it, and does it overfit? (eval set + a training sample; badcases.jsonl = its mistakes)
train eval "$W/round1" --data "$HERE/eval.jsonl" --train-sample 8 --max-new-tokens 8
# 3. mistakes -> new prompts that exercise the same weakness (no copies of eval prompts)
curate augment "$W/round1/eval/badcases.jsonl" -o "$W/new_prompts.jsonl" --per 2 \
  --model "$TEACHER_MODEL" --base-url "$TEACHER_URL" --exclude "$HERE/eval.jsonl"
# 4. answers for them: one teacher answer (distill) and the best of K by a rubric (bestofk)
curate distill "$W/new_prompts.jsonl" -o "$W/distilled.jsonl" --model "$TEACHER_MODEL" --base-url "$TEACHER_URL"
curate bestofk "$W/new_prompts.jsonl" -o "$W/best.jsonl" --k 2 --model "$TEACHER_MODEL" --base-url "$TEACHER_URL" \
  --rubric "$ROOT/sample_data/rubric_recipe.yaml"
# 5. new data beside the round-1 data, so the model does not forget what it knew
curate mix "$W/best.jsonl:0.5" "$HERE/train.jsonl:0.5" -o "$W/mixed.jsonl"
# 6. round 2: continue from round 1's adapter (incremental SFT)
train "$W/mixed.jsonl" --model "$W/tiny" --init-adapter "$W/round1" -o "$W/round2" max_steps="$STEPS" $COMMON
# 7. better or not? the same eval set, deltas with intervals against round 1
train eval "$W/round2" --data "$HERE/eval.jsonl" --train-sample 8 --max-new-tokens 8 \
  --compare "$W/round1/eval/train_eval.json"
echo "round done: $W/round2/eval/train_eval.json"
