"""What the numba shells share: lazy kernel lookup and the compile progress line."""

from __future__ import annotations

import io
import pickle

import gymnasium as gym
import numba
import numpy as np

import rewardgym  # noqa: F401
from rewardgym.envs.native import compile_progress


def test_kernels_are_looked_up_on_first_step_not_at_construction():
    env = gym.make("rewardgym/DoorKey-5x5-v0").unwrapped
    # The entry point lives on the family's core (the kit's shells hold the core).
    assert "_step_entry" not in env._core.__dict__  # building to check spaces compiles nothing
    env.reset(seed=0)
    env.step(0)
    assert "_step_entry" in env._core.__dict__
    clone = pickle.loads(pickle.dumps(env))
    assert "_step_entry" not in clone._core.__dict__
    _, reward, *_ = clone.step(0)
    assert isinstance(reward, float)


def test_small_grid_batches_share_the_single_env_kernel():
    envs = gym.make_vec("rewardgym/DoorKey-5x5-v0", 32, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    envs.step(np.zeros(32, dtype=np.int64))
    from rewardgym.envs.grid import kernels

    assert not envs.unwrapped._parallel
    assert envs.unwrapped._step_kernel is not None
    assert len(kernels.step_batch.overloads) >= 1


def test_compile_progress_names_the_family_and_says_nothing_on_a_cache_hit():
    out = io.StringIO()

    def add_one(x):
        return x + 1

    kernel = numba.njit(add_one)
    with compile_progress(out):
        kernel(1)
        kernel(2)  # compiled already: no second line
    lines = out.getvalue().splitlines()
    assert lines[0] == "compiling tests kernels (one time, cached): add_one ..."
    assert lines[1].startswith("  done in ")
    assert len(lines) == 2
