"""`python -m curator` is the same as `curate`."""

from curator.cli import app

app(prog_name="curate")
