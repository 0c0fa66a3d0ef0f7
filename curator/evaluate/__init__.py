"""`curate eval`: task metrics from predictions, whatever produced them.

A prediction file is any file of records that carry a model answer and a reference answer
(`train generate` output, LLaMA-Factory's ``generated_predictions.jsonl``, answers from a vLLM
server or an API). One module per job:

- `examples`  — a row of any of those shapes -> `Example` (answer, reference, source, tags)
- `labels`    — label normalisation (case, whitespace, full-width, synonyms)
- `classify`, `extract`, `textsim`, `tasks` — the metrics of each task type
- `bootstrap` — confidence intervals by resampling records
- `run`       — the whole evaluation -> one JSON-able dict; `compare`, `html` present it

The design notes placed this in ``curator/eval.py``; it is a small package instead so each
metric stays a short module with its own reference test (scikit-learn, rouge-score, sacrebleu).
"""
