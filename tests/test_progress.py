"""Progress lines (records, rate, ETA; train step/total and losses), quiet when piped, and a
loss.png that shows a one-point run."""

from __future__ import annotations

import json

import pytest

from curator.progress_line import RecordProgress, count_rows, fmt_eta
from tests.conftest import SAMPLE, run_cli


def test_piped_commands_stay_quiet_by_default(tmp_path):
    r = run_cli("filter", str(SAMPLE / "messages.jsonl"), "-o", str(tmp_path / "f.jsonl"))
    assert r.returncode == 0, r.stderr
    assert "rec/s" not in r.stderr and "filter:" in r.stderr  # the summary, no progress


def test_progress_flag_prints_plain_lines_when_piped(tmp_path):
    rows = (SAMPLE / "messages.jsonl").read_text(encoding="utf-8").splitlines()
    big = tmp_path / "big.jsonl"
    big.write_text("\n".join(rows * 400) + "\n", encoding="utf-8")
    r = run_cli("convert", str(big), "-o", str(tmp_path / "c.jsonl"), "--progress",
                env={"CURATE_PROGRESS_EVERY": "0"})
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if "rec/s" in x]
    assert lines, r.stderr
    total = len(rows) * 400
    assert f"/{total:,}" in lines[-1] and "ETA" in lines[-1]


def test_record_progress_counts_and_eta():
    p = RecordProgress("dedup", total=10, live=False)
    assert list(p.wrap(range(4))) == [0, 1, 2, 3]
    assert p.done == 4 and p.eta() is not None
    assert p.line().startswith("dedup: 4/10 (40%)")
    assert count_rows([SAMPLE / "messages.jsonl"]) == sum(1 for x in open(SAMPLE / "messages.jsonl") if x.strip())
    assert count_rows([SAMPLE / "alpaca.json"]) is None  # a JSON array: no cheap count, no ETA
    assert fmt_eta(75) == "1:15" and fmt_eta(3725) == "1:02:05" and fmt_eta(None) == "-:--"


def test_train_progress_line_shows_step_losses_and_eta():
    pytest.importorskip("transformers")
    from transformers import TrainerState

    from trainer.progress import TrainProgress

    cb = TrainProgress()
    state = TrainerState(global_step=0, max_steps=20)
    cb.on_train_begin(None, state, None)
    state.global_step = 10
    cb.on_log(None, state, None, logs={"loss": 1.682, "grad_norm": 0.3, "learning_rate": 2e-4})
    cb.on_log(None, state, None, logs={"eval_loss": 1.7})
    line = cb.line(state)
    assert line.startswith("step 10/20  loss 1.6820  eval loss 1.7000  ETA ")
    assert "{" not in line and "grad_norm" not in line


def test_loss_png_shows_a_single_logged_point(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    from trainer.plots import plot_loss

    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text(json.dumps({"step": 1, "loss": 2.5}) + "\n", encoding="utf-8")
    png = plot_loss(metrics, tmp_path / "loss.png")
    img = mpimg.imread(png)[..., :3]
    # tab:blue (31, 119, 180): the lone train point is drawn as a marker, not an invisible line.
    blue = (abs(img[..., 0] - 31 / 255) < 0.05) & (abs(img[..., 1] - 119 / 255) < 0.05) & (abs(img[..., 2] - 180 / 255) < 0.05)
    assert blue.sum() > 100, blue.sum()  # the legend sample alone is ~60 pixels
