"""The grid reward view agrees with the env's own state and with the sub-goal potential."""

import gymnasium as gym
import numpy as np

from rewardgym.envs.grid import GridVectorEnv
from rewardgym.envs.grid.view import LAYOUT, SIZE, features, features_batch


def test_view_matches_env_state_along_a_rollout():
    env = gym.make("rewardgym/DoorKey-6x6-v0", subgoal_distance_in_info=True)
    env.reset(seed=1)
    rng = np.random.default_rng(0)
    seen_key = False
    for _ in range(400):
        _, _, term, trunc, info = env.step(int(rng.integers(0, 7)))
        v = features(env)
        x, y, d = env.unwrapped.agent_state
        assert (v.agent_x, v.agent_y, v.agent_dir) == (x, y, d)
        assert v.subgoal_distance == info["subgoal_distance"]
        assert (v.key_x == -1) == (v.carrying_key == 1)
        assert v.carrying_key == 0 or v.dist_key == 0
        assert v.door_open + v.door_locked <= 1
        assert v.max_steps == env.unwrapped.config.max_steps_resolved
        grid = env.unwrapped.grid_encoding
        assert v.front_object == grid[int(v.front_x), int(v.front_y), 0]
        seen_key |= v.carrying_key == 1
        if term or trunc:
            env.reset()
    assert "dist_goal" in LAYOUT.describe()


def test_batch_rows_equal_single_rows():
    envs = GridVectorEnv(3, layout="door_key", size=8)
    envs.reset(seed=4)
    singles = [gym.make("rewardgym/DoorKey-8x8-v0") for _ in range(3)]
    for i, e in enumerate(singles):
        e.reset(seed=4 + i)
    batch = features_batch(envs)
    assert batch.values.shape == (3, SIZE)
    for i, e in enumerate(singles):
        np.testing.assert_array_equal(batch.values[i], features(e).values)
