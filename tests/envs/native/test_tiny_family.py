"""A tiny family on the native kit: what a new family costs, and proof that the kit carries it.

A 1-D random walk (numba kernels, counter-based streams): the agent steps left or right on
``[-size, size]``, slips the other way with probability ``slip``, and ends the episode at either
end (+1 at the right end, -1 at the left). Everything between the kernels and Gymnasium (single
env, vector env in all autoreset modes, seeding, action checks, pickling, rendering,
``final_obs``/``final_info``) is the kit's; the family writes only the core below, two
three-line shells and a registry entry. The registry contract (the same checks every registered
env passes) runs on it here.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AutoresetMode
from numba import njit

from rewardgym.envs.native.checks import check_discrete_actions
from rewardgym.envs.native.core import RowAutoreset
from rewardgym.envs.native.rng import randint, seed_counter_streams
from rewardgym.envs.native.single import NativeEnv
from rewardgym.envs.native.vector import NativeVectorEnv, check_vector_args
from tests.envs import test_registry_contract as contract
from tests.helpers import assert_same, vector_rollout

TINY_ID = "rewardgym/TinyWalk-v0"

# ---- the family: kernels, core, shells (what a new family writes) -----------------------------


@njit
def _reset(pos, rng, rows, size):
    for i in range(pos.shape[0]):
        if rows[i]:
            pos[i] = randint(rng, i, 1 - size, size)


@njit
def _step(pos, rng, rows, actions, size, slip, reward, terminated):
    for i in range(pos.shape[0]):
        if rows[i]:
            move = 1 if actions[i] == 1 else -1
            pos[i] += -move if randint(rng, i, 0, 100) < slip else move
            terminated[i] = abs(pos[i]) >= size
            reward[i] = np.sign(pos[i]) if terminated[i] else 0.0


class TinyWalkCore(RowAutoreset):
    """``n`` random walks; the kit's :class:`RowAutoreset` does time limits and autoreset."""

    def __init__(self, n: int, size: int = 4, slip: int = 20,
                 max_episode_steps: int | None = None) -> None:
        self.num_envs, self.size, self.slip = n, size, slip
        self.single_observation_space = spaces.Box(-size, size, (1,), np.float32)
        self.single_action_space = spaces.Discrete(2)
        self.pos = np.zeros(n, dtype=np.int64)
        self.rng, self.seeded = np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.bool_)
        self.reward = np.zeros(n)
        self.terminated = np.zeros(n, dtype=np.bool_)
        self.truncated = np.zeros(n, dtype=np.bool_)
        self.init_rows(max_episode_steps)

    def seed_rows(self, mask: np.ndarray, seeds: list[int | None]) -> None:
        seed_counter_streams(self.rng, self.seeded, seeds, mask)

    def reset_state(self, mask: np.ndarray) -> None:
        _reset(self.pos, self.rng, mask, self.size)
        self.reward[mask], self.terminated[mask] = 0.0, False

    def step_state(self, mask: np.ndarray, actions: np.ndarray) -> None:
        _step(self.pos, self.rng, mask, actions, self.size, self.slip, self.reward,
              self.terminated)

    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> np.ndarray:
        return check_discrete_actions(name, actions, 2, num_envs, ("left", "right"))

    def batch_obs(self) -> np.ndarray:
        return self.pos[:, None].astype(np.float32)

    def obs_row(self, i: int) -> np.ndarray:
        return self.pos[i:i + 1].astype(np.float32)

    def infos(self, mask: np.ndarray) -> dict[str, Any]:
        return {"reward_terms": {"end": np.where(mask, self.reward, 0.0), "_end": mask.copy()},
                "_reward_terms": mask.copy(), "is_success": (self.reward > 0) & mask,
                "_is_success": mask.copy()}

    def info(self, i: int) -> dict[str, Any]:
        return {"reward_terms": {"end": float(self.reward[i])},
                "is_success": bool(self.reward[i] > 0)}

    def render(self, i: int) -> np.ndarray:
        frame = np.zeros((8, 8 * (2 * self.size + 1), 3), dtype=np.uint8)
        left = 8 * (self.pos[i] + self.size)
        frame[:, left:left + 8] = 255
        return frame


class TinyWalkEnv(NativeEnv):
    """One walk. Example: ``TinyWalkEnv().reset(seed=0)[0].shape == (1,)``."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, render_mode: str | None = None, **kwargs: Any) -> None:
        super().__init__(TinyWalkCore(1, **kwargs), render_mode)


class TinyWalkVectorEnv(NativeVectorEnv):
    """``num_envs`` walks stepped by one kernel call."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(self, num_envs: int = 1, render_mode: str | None = None,
                 max_episode_steps: int | None = None, autoreset_mode: Any = "next_step",
                 **kwargs: Any) -> None:
        n = check_vector_args(type(self).__name__, num_envs, max_episode_steps)
        core = TinyWalkCore(n, max_episode_steps=max_episode_steps, **kwargs)
        super().__init__(core, render_mode, autoreset_mode)


if TINY_ID not in gym.registry:
    gym.register(TINY_ID, entry_point=f"{__name__}:TinyWalkEnv",
                 vector_entry_point=f"{__name__}:TinyWalkVectorEnv", max_episode_steps=30)

# ---- the registry contract, on the tiny family -----------------------------------------------

CONTRACT = [
    contract.test_env_checker_passes_with_warnings_as_errors,
    contract.test_same_seed_same_trajectory,
    contract.test_pickled_env_continues_identically,
    contract.test_pickled_vector_env_continues_identically,
    contract.test_bad_action_raises_naming_env_and_leaves_state_intact,
    contract.test_action_policy_is_stated_and_kept,
    contract.test_vector_bad_action_raises,
    contract.test_spaces_stable_and_rewards_decomposed,
    contract.test_render,
    contract.test_native_vector_matches_sync_same_step_autoreset,
]


@pytest.mark.parametrize("check", CONTRACT, ids=lambda check: check.__name__)
def test_tiny_family_meets_the_registry_contract(check):
    check(TINY_ID)


@pytest.mark.parametrize("num_envs", [1, 5])
def test_tiny_vector_matches_sync(num_envs):
    contract.test_native_vector_matches_sync(TINY_ID, num_envs)


def test_tiny_episodes_end_both_ways_and_same_step_reports_them():
    envs = gym.make_vec(TINY_ID, 4, vectorization_mode="vector_entry_point",
                        autoreset_mode="same_step")
    sync = gym.make_vec(TINY_ID, 4, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP})
    a, b = vector_rollout(envs, seed=1, steps=300), vector_rollout(sync, seed=1, steps=300)
    assert_same(a, b)
    rewards = np.concatenate(a["rewards"])
    assert (rewards > 0).any()  # the right end reached
    assert (rewards < 0).any()  # and the left
    assert any(info.get("_final_obs", np.zeros(1)).any() for info in a["infos"][1:])


def test_tiny_disabled_autoreset_waits_for_a_masked_reset():
    envs = TinyWalkVectorEnv(2, autoreset_mode="disabled", max_episode_steps=3)
    envs.reset(seed=0)
    for _ in range(3):
        _, _, _, truncated, _ = envs.step(np.array([1, 1]))
    assert truncated.all()
    _, _, _, truncated, _ = envs.step(np.array([1, 1]))
    assert truncated.all()  # nothing was reset: both are still past the limit
    envs.reset(options={"reset_mask": np.array([True, False])})
    _, _, _, truncated, _ = envs.step(np.array([0, 0]))
    assert truncated.tolist() == [False, True]
