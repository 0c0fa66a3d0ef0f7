"""Quality filters for SFT data (`curate filter`): a registry of small named filters.

Each filter module registers its classes on import (`from_params` imports them all); `REGISTRY`
maps names to classes. Build a filter chain from (name, params) items with `build_chain`, then
call `filter_batch(convs)`.
"""

from __future__ import annotations

from typing import Any

from curator.filters.base import REGISTRY, Drop, Filter, Verdict, param_help, register
from curator.filters.chain import FilterChain, Rejected
from curator.filters.chain_spec import DEFAULT_CHAIN, build_filters, load_chain, parse_chain, set_param
from curator.filters.from_params import build  # importing it registers every filter module


def build_chain(items: list[tuple[str, dict[str, Any]]], where: str = "filters") -> FilterChain:
    return FilterChain(build_filters(items, where))


def filter_batch(convs: list, items: list[tuple[str, dict[str, Any]]] | None = None) -> tuple[list, list]:
    """Convenience: filter one batch with a filter chain given as items (`DEFAULT_CHAIN` when None)."""
    return build_chain([(n, dict(p)) for n, p in (items or DEFAULT_CHAIN)]).filter_batch(convs)


__all__ = ["REGISTRY", "Drop", "Filter", "Verdict", "build", "param_help", "register", "FilterChain",
           "Rejected", "DEFAULT_CHAIN", "build_filters", "load_chain", "parse_chain", "set_param",
           "build_chain", "filter_batch"]
