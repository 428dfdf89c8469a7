import gymnasium as gym
import numpy as np

import rewardgym
from rewardgym.envs import registered_ids

gym.register_envs(rewardgym)

ALL_IDS = registered_ids()


def invalid_actions(space: gym.Space) -> list:
    """Actions outside ``space`` that an env must reject with a ValueError."""
    if isinstance(space, gym.spaces.Discrete):
        return [space.n, -1, 1.5, np.nan, np.array([0, 1]), "left"]
    if isinstance(space, gym.spaces.Box):
        nan = np.full(space.shape, np.nan, dtype=space.dtype)
        return [nan, np.zeros((*space.shape, 2), dtype=space.dtype)]
    raise NotImplementedError(f"no invalid actions known for {space}")
