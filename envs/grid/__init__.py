"""Sparse-reward grid tasks after MiniGrid, on numba kernels.

Families (MiniGrid's layout rules, our own seeded generators): Empty, FourRooms, DoorKey,
KeyCorridor, MultiRoom, LavaGap, LavaCrossing/SimpleCrossing.  Observations, actions, rewards
and ``max_steps`` are MiniGrid's; :func:`from_minigrid` mirrors a live MiniGrid env so both can
be stepped in lockstep (the test suite does, on every family).

Contract enforced by the tests: Gymnasium's env checker, seeded determinism, native vector ==
``SyncVectorEnv`` bit for bit, lockstep equality with MiniGrid, a ``ValueError`` naming the env
for any bad action.
"""

from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.env import GridEnv
from rewardgym.envs.grid.minigrid_bridge import from_minigrid
from rewardgym.envs.grid.potential import (
    subgoal_distance,
    subgoal_distance_batch,
    subgoal_potential,
)
from rewardgym.envs.grid.vector_env import GridVectorEnv

__all__ = [
    "GridConfig",
    "GridEnv",
    "GridVectorEnv",
    "from_minigrid",
    "subgoal_distance",
    "subgoal_distance_batch",
    "subgoal_potential",
]
