"""A tiny multi-agent family on the kit's PettingZoo shell: what one costs, and that it works.

The tiny family's walks (``test_tiny_family.py``) become agents: each row of the core is one
walker, and the kit's :class:`~rewardgym.envs.native.parallel.NativeParallelEnv` does agent
lists, per-agent spaces, the action dict checks, dict packing, seeding, rendering and pickling.
The family writes the three :class:`~rewardgym.envs.native.parallel.AgentActions` members and
a five-line shell; PettingZoo's own ``parallel_api_test`` (and ``api_test`` through
``parallel_to_aec``) runs on it here.
"""

from __future__ import annotations

import pickle
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from pettingzoo.test import api_test, parallel_api_test
from pettingzoo.utils.conversions import parallel_to_aec

from rewardgym.envs.native.parallel import AgentActions, NativeParallelEnv
from tests.envs.native.test_tiny_family import TinyWalkCore

# ---- the family: what a new multi-agent family writes -----------------------------------------


class TinyWalkersCore(TinyWalkCore, AgentActions):
    """``n`` walkers, one per row: the agents (the kit's time limit is ``max_cycles``)."""

    def __init__(self, n: int, max_cycles: int | None = None, **kwargs: Any) -> None:
        super().__init__(n, max_episode_steps=max_cycles, **kwargs)
        self.moves = np.zeros(n, dtype=np.int64)

    def clear_agent_actions(self) -> None:
        self.moves[:] = 0

    def write_agent_action(self, name: str, row: int, action: Any) -> None:
        self.moves[row] = self.check_actions(name, action, None)[0]

    @property
    def agent_actions(self) -> np.ndarray:
        return self.moves


class TinyWalkersParallelEnv(NativeParallelEnv):
    """``num_walkers`` walkers acting at once."""

    metadata = {"name": "tiny_walkers_v0", "render_modes": ["rgb_array"],
                "is_parallelizable": True}

    def __init__(self, num_walkers: int = 3, render_mode: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(TinyWalkersCore(num_walkers, **kwargs),
                         [f"walker_{i}" for i in range(num_walkers)], render_mode)


# ---- PettingZoo's tests and the shell's promises ----------------------------------------------


def _rollout(env, seed, steps=60):
    obs, infos = env.reset(seed=seed)
    out = [(obs, infos, list(env.agents))]
    for t in range(steps):
        if not env.agents:
            out.append(env.reset())
            continue
        out.append(env.step({a: (t + i) % 2 for i, a in enumerate(env.agents)}))
    return out


def _same(a, b):
    assert pickle.dumps(a) == pickle.dumps(b)


def test_tiny_parallel_family_passes_pettingzoo_api_tests():
    parallel_api_test(TinyWalkersParallelEnv(4, max_cycles=20), num_cycles=300)
    api_test(parallel_to_aec(TinyWalkersParallelEnv(2, max_cycles=20)), num_cycles=100)


def test_agents_leave_when_they_end_and_the_episode_ends_with_the_last():
    env = TinyWalkersParallelEnv(3, size=2, slip=0)
    env.reset(seed=0)
    left = []
    while env.agents:
        live = list(env.agents)
        obs, rewards, terminations, _, infos = env.step({a: 1 for a in live})
        assert sorted(obs) == sorted(rewards) == sorted(infos) == sorted(live)  # who acted
        left += [a for a in live if a not in env.agents]
        assert all(terminations[a] for a in live if a not in env.agents)
        assert all(rewards[a] == 1.0 for a in live if terminations[a])  # the right end
    assert sorted(left) == env.possible_agents
    with pytest.raises(gym.error.ResetNeeded, match="every agent is done"):
        env.step({})


def test_max_cycles_truncates_everyone():
    env = TinyWalkersParallelEnv(2, size=50, max_cycles=5)
    env.reset(seed=1)
    for _ in range(5):
        *_, truncations, _ = env.step({a: 0 for a in env.agents})
    assert all(truncations.values())
    assert env.agents == []


def test_same_seed_same_trajectory_and_pickled_copies_continue():
    a, b = TinyWalkersParallelEnv(3), TinyWalkersParallelEnv(3)
    _same(_rollout(a, seed=5), _rollout(b, seed=5))
    clone = pickle.loads(pickle.dumps(a))
    actions = {agent: 1 for agent in a.agents}
    if actions:
        _same(a.step(actions), clone.step(actions))


def test_bad_actions_name_the_env_and_agent_before_anything_steps():
    env = TinyWalkersParallelEnv(2)
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        env.step({"walker_0": 0, "walker_1": 0})
    env.reset(seed=0)
    before = env._core.pos.copy()
    with pytest.raises(ValueError, match=r"tiny_walkers_v0 agent 'walker_1'.*out of range"):
        env.step({"walker_0": 1, "walker_1": 7})
    with pytest.raises(ValueError, match=r"no action for live agent\(s\) \['walker_1'\]"):
        env.step({"walker_0": 1})
    with pytest.raises(ValueError, match=r"not live"):
        env.step({"walker_0": 1, "walker_1": 1, "walker_9": 0})
    np.testing.assert_array_equal(env._core.pos, before)


def test_render_and_per_agent_spaces():
    env = TinyWalkersParallelEnv(2, render_mode="rgb_array")
    env.reset(seed=0)
    assert env.render().ndim == 3
    assert env.action_space("walker_0") is env.action_space("walker_0")
    assert env.action_space("walker_0") is not env.action_space("walker_1")
    assert env.metadata["action_policy"] == "raise"
    with pytest.raises(TypeError, match="AgentActions"):
        NativeParallelEnv(TinyWalkCore(2), ["a", "b"])
