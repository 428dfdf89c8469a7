"""Benchmarks: one module per question, each runnable as ``python -m rewardgym.benchmarks.NAME``.

:data:`BENCHMARKS` maps a benchmark's name to its module path; modules are imported only when
run (:func:`load`), so listing them costs nothing. Every module has
``main(argv: Sequence[str] | None = None) -> int`` and ``run(quick: bool, out_dir: str)``.

Example:
    >>> sorted(BENCHMARKS)
    ['driving_learning', 'locomotion_learning', 'shaping_sparse', 'throughput', 'webshop_baselines',
     'wrapper_overhead']
"""

from __future__ import annotations

import importlib
from types import ModuleType

BENCHMARKS: dict[str, str] = {
    "throughput": "rewardgym.benchmarks.throughput",
    "webshop_baselines": "rewardgym.benchmarks.webshop_baselines",
    "wrapper_overhead": "rewardgym.benchmarks.wrapper_overhead",
    "shaping_sparse": "rewardgym.benchmarks.shaping_sparse",
    "locomotion_learning": "rewardgym.benchmarks.locomotion_learning",
    "driving_learning": "rewardgym.benchmarks.driving_learning",
}


def load(name: str) -> ModuleType:
    """Import and return the module of benchmark ``name``.

    Raises:
        ValueError: if ``name`` is not in :data:`BENCHMARKS`.
    """
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}, expected one of {sorted(BENCHMARKS)}")
    return importlib.import_module(BENCHMARKS[name])


__all__ = ["BENCHMARKS", "load"]
