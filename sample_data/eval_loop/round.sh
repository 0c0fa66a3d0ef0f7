#!/usr/bin/env bash
# One round of the evaluation loop, offline, on the tiny model: `curate run` on recipe.yaml beside
# this script (docs/eval.md walks through it):
#   train -> train eval -> badcases -> augment -> distill -> bestofk -> mix
#   -> train with init_adapter (incremental) -> train eval with compare
#
#   bash sample_data/eval_loop/round.sh [WORKDIR]          (default runs/eval-loop)
#
# This wrapper only builds a tiny model in WORKDIR/tiny and starts the stand-in teacher on a
# loopback port (tests/chat_server.py --demo-teacher) unless TEACHER_URL and TEACHER_MODEL name a
# real one (vLLM, Ollama, an API). The tiny model's answers are noise: the point is the plumbing,
# not the scores. STEPS sets the training steps per round. Re-running skips unchanged stages.
set -euo pipefail
PY=${PY:-python}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
W=${1:-runs/eval-loop}
STEPS=${STEPS:-6}
mkdir -p "$W"

# the offline tiny model, and the teacher
[ -f "$W/tiny/config.json" ] || "$PY" -m trainer make-tiny "$W/tiny" --warmup-steps "${WARMUP:-0}"
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

SETS=(--set "train.model=$W/tiny" --set "train.max_steps=$STEPS")
for stage in augment distill bestofk; do
  SETS+=(--set "$stage.base_url=$TEACHER_URL" --set "$stage.model=$TEACHER_MODEL")
done
"$PY" -m curator run "$HERE/recipe.yaml" --workdir "$W" "${SETS[@]}"
echo "round done: $W/eval2/train_eval.json"
