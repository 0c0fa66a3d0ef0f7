"""Reward functions and rubric files used by best-of-K and `curate score`."""
