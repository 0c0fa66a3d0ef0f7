"""User filter functions for the tests (loaded as `tests.filter_funcs:NAME`)."""

from __future__ import annotations


def no_tides(conv, **kw):
    return (False, "mentions tides") if "tides" in conv.messages[-1].content.lower() else True
