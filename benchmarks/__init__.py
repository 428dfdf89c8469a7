"""Benchmarks: one module per question, each runnable as ``python -m rewardgym.benchmarks.NAME``.

:data:`BENCHMARKS` maps a benchmark's name to its module path; modules are imported only when
run (:func:`load`), so listing them costs nothing. Every module has
``main(argv: Sequence[str] | None = None) -> int`` and ``run(quick: bool, out_dir: str)``.

Example:
    >>> sorted(BENCHMARKS)
    ['adaptive_rr', 'driving_learning', 'llm_rewards', 'locomotion_learning', 'minibatch_scaling',
     'ppo_throughput', 'shaping_sparse', 'throughput', 'webshop_baselines', 'wrapper_overhead']
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType

BENCHMARKS: dict[str, str] = {
    "throughput": "rewardgym.benchmarks.throughput",
    "webshop_baselines": "rewardgym.benchmarks.webshop_baselines",
    "wrapper_overhead": "rewardgym.benchmarks.wrapper_overhead",
    "shaping_sparse": "rewardgym.benchmarks.shaping_sparse",
    "locomotion_learning": "rewardgym.benchmarks.locomotion_learning",
    "driving_learning": "rewardgym.benchmarks.driving_learning",
    "adaptive_rr": "rewardgym.benchmarks.adaptive_rr",
    "llm_rewards": "rewardgym.benchmarks.llm_rewards",
    "ppo_throughput": "rewardgym.benchmarks.ppo_throughput",
    "minibatch_scaling": "rewardgym.benchmarks.minibatch_scaling",
}


def load(name: str) -> ModuleType:
    """Import and return the module of benchmark ``name``.

    Raises:
        ValueError: if ``name`` is not in :data:`BENCHMARKS`.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}, expected one of {sorted(BENCHMARKS)}")
    return importlib.import_module(BENCHMARKS[name])


def summary(name: str) -> str:
    """The first line of benchmark ``name``'s module docstring, read without importing it.

    Raises:
        ValueError: if ``name`` is not in :data:`BENCHMARKS`.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}, expected one of {sorted(BENCHMARKS)}")
    try:
        spec = importlib.util.find_spec(BENCHMARKS[name])
    except (ImportError, ValueError):
        return ""
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return ""
    doc = ast.get_docstring(ast.parse(Path(spec.origin).read_text(encoding="utf-8"))) or ""
    return doc.strip().split("\n", 1)[0]


__all__ = ["BENCHMARKS", "load", "summary"]
