"""Seeding as ``SyncVectorEnv`` seeds its sub-envs, for both kinds of per-env random streams.

An int seed ``s`` gives env ``i`` the seed ``s + i``; a list gives each env its own (``None``
keeps that env's stream); no seed draws fresh entropy for envs that have no stream yet. Kernel
families keep one counter-based ``uint64`` stream per env, seeded by
:func:`~rewardgym.envs.native.rng.seed_counter_streams`; Python-stepped families (MuJoCo) keep
one ``numpy.random.Generator`` per env (:func:`seed_generators`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from gymnasium.utils import seeding

Seed = int | Sequence[int | None] | None


def seed_list(seed: Seed, num_envs: int, name: str) -> list[int | None]:
    """One seed (or None) per env from an int, a list or None.

    Raises:
        ValueError: naming the env when a list has the wrong length.
    """
    if seed is None:
        return [None] * num_envs
    if isinstance(seed, int | np.integer):
        return [int(seed) + i for i in range(num_envs)]
    seeds = list(seed)
    if len(seeds) != num_envs:
        raise ValueError(f"{name}: got {len(seeds)} seeds for {num_envs} envs")
    return seeds


def seed_generators(rngs: list[np.random.Generator | None], seeds: list[int | None],
                    mask: np.ndarray) -> None:
    """Seed the ``Generator`` of every env in ``mask`` as ``gym.Env.reset(seed=...)`` does."""
    for i in np.flatnonzero(mask):
        if seeds[i] is not None or rngs[i] is None:
            rngs[i] = seeding.np_random(seeds[i])[0]


