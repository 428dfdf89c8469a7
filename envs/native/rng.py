"""Per-env counter-based random streams for numba kernels.

Each env owns one ``uint64`` word; every draw advances it by a fixed odd constant and hashes the
counter with SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom number generators",
OOPSLA 2014).  Streams are independent of batch size and thread count, so env ``i`` of a vector
env seeded with ``s`` draws exactly what a single env seeded with ``s + i`` draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from rewardgym.envs.native.shell import SEED_MOD

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(cache=True)
def seed_to_state(seed: int) -> np.uint64:
    """Turn a non-negative integer seed into a stream state."""
    return _mix(np.uint64(seed) + _GOLDEN)


@njit(cache=True)
def next_u64(rng: np.ndarray, i: int) -> np.uint64:
    """Advance stream ``i`` of ``rng`` and return 64 random bits."""
    rng[i] = rng[i] + _GOLDEN
    return _mix(rng[i])


@njit(cache=True)
def randint(rng: np.ndarray, i: int, low: int, high: int) -> int:
    """Uniform integer in ``[low, high)`` from stream ``i`` (requires ``high > low``)."""
    span = np.uint64(high - low)
    # Modulo bias is below 2**-50 for the spans a grid uses.
    return low + np.int64(next_u64(rng, i) % span)


def seed_counter_streams(rng: np.ndarray, seeded: np.ndarray, seeds: list[int | None],
                         mask: np.ndarray) -> None:
    """Seed the stream of every env in ``mask`` from ``seeds[i]`` (None: keep it, or entropy).

    ``seeded`` records which envs have a stream; an env with none draws fresh entropy, like a
    sub-env's own ``np_random``.
    """
    for i in np.flatnonzero(mask):
        if seeds[i] is not None:
            rng[i] = seed_to_state(int(seeds[i]) % SEED_MOD)
        elif not seeded[i]:
            rng[i] = seed_to_state(int(np.random.default_rng().integers(2**63)))
        seeded[i] = True


def seed_streams(rng: np.ndarray, seeded: np.ndarray, seed: Any, mask: np.ndarray,
                 name: str, _seed_to_state: Any = None) -> None:
    """Seed streams from an int (env ``i`` gets ``seed + i``), a list or None.

    The last argument is ignored (older callers passed :func:`seed_to_state`).
    """
    from rewardgym.envs.native.seeding import seed_list

    seed_counter_streams(rng, seeded, seed_list(seed, len(rng), name), mask)
