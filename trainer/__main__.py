"""`python -m trainer` is the same as `train` (and works under `accelerate launch -m trainer`)."""

from trainer.cli import app

app(prog_name="train")
