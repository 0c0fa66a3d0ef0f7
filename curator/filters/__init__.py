"""Quality filters for SFT data (`curate filter`): a registry of small named filters.

Each filter module registers its classes on import; `REGISTRY` maps names to classes. Build a
pipeline from a recipe with `pipeline_from_recipe`, then call `filter_batch(convs)`.
"""

from __future__ import annotations

from typing import Any

from curator.filters import content, language, length, meta, pii, reasoning, structure, text  # noqa: F401 - register
from curator.filters.base import REGISTRY, Drop, Filter, Verdict, build, param_help, register
from curator.filters.pipeline import FilterPipeline, Rejected
from curator.filters.recipe import DEFAULT_RECIPE, build_filters, load_recipe, parse_recipe, set_param


def pipeline_from_recipe(items: list[tuple[str, dict[str, Any]]], where: str = "recipe") -> FilterPipeline:
    return FilterPipeline(build_filters(items, where))


def filter_batch(convs: list, recipe: list[tuple[str, dict[str, Any]]] | None = None) -> tuple[list, list]:
    """Convenience: filter one batch with a recipe (the default one when None)."""
    return pipeline_from_recipe([(n, dict(p)) for n, p in (recipe or DEFAULT_RECIPE)]).filter_batch(convs)


__all__ = ["REGISTRY", "Drop", "Filter", "Verdict", "build", "param_help", "register", "FilterPipeline",
           "Rejected", "DEFAULT_RECIPE", "build_filters", "load_recipe", "parse_recipe", "set_param",
           "pipeline_from_recipe", "filter_batch"]
