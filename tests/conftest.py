import gymnasium as gym
import numpy as np
import pytest

import rewardgym
from rewardgym.envs import registered_ids

gym.register_envs(rewardgym)

ALL_IDS = registered_ids()
GRID_IDS = [i for i in ALL_IDS if gym.spec(i).entry_point == "rewardgym.envs.grid:GridEnv"]


@pytest.fixture(autouse=True)
def _no_inherited_terminal_width(monkeypatch):
    """Tables are checked as a pipe prints them, whatever width the caller's shell exports.

    pytest-xdist's workers (``make test`` runs ``pytest -n 2``) export ``COLUMNS=80``, which our
    console factory rightly obeys; a test of output format must not depend on it.
    """
    monkeypatch.delenv("COLUMNS", raising=False)


def invalid_actions(space: gym.Space) -> list:
    """Actions outside ``space`` that an env must reject with a ValueError."""
    if isinstance(space, gym.spaces.Discrete):
        return [space.n, -1, 1.5, np.nan, np.array([0, 1]), "left"]
    if isinstance(space, gym.spaces.Box):
        nan = np.full(space.shape, np.nan, dtype=space.dtype)
        return [nan, np.zeros((*space.shape, 2), dtype=space.dtype)]
    if isinstance(space, gym.spaces.Text):
        return [5, None, b"click[buy now]", ["search[x]"]]
    raise NotImplementedError(f"no invalid actions known for {space}")


def sample_actions(space: gym.Space, n: int, seed: int = 0) -> list:
    """``n`` valid actions drawn from a seeded copy of ``space``."""
    import copy

    space = copy.deepcopy(space)
    space.seed(seed)
    return [space.sample() for _ in range(n)]
