"""Every docstring example in the package runs and shows what it claims.

Modules are imported under their installed names (``rewardgym.envs.driving.env``), never as
``envs.driving.env``: the same file under two names would mean two registries and numba caches.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ("rewardgym", "rewardgym.envs", "rewardgym.wrappers", "rewardgym.agents",
            "rewardgym.benchmarks")


def _modules() -> list[str]:
    # The installed namespace maps each folder separately (pyproject's package-dir), so each
    # top-level part is walked from its own path.
    names = set()
    for package in PACKAGES:
        names.add(package)
        path = importlib.import_module(package).__path__
        names.update(info.name for info in pkgutil.walk_packages(path, prefix=f"{package}."))
    return sorted(names)


MODULES = _modules()


def test_the_walk_finds_every_part_of_the_package():
    for part in ("rewardgym.envs.driving.env", "rewardgym.wrappers.potential",
                 "rewardgym.agents.beta_policy", "rewardgym.benchmarks.harness",
                 "rewardgym.envs.grid.vector_env", "rewardgym.envs.shopping.env"):
        assert part in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
