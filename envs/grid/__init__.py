"""Sparse-reward grid tasks after MiniGrid, on numba kernels.

Families (MiniGrid's layout rules, our own seeded generators): Empty, FourRooms, DoorKey,
KeyCorridor, MultiRoom, LavaGap, LavaCrossing/SimpleCrossing.  Observations, actions, rewards
and ``max_steps`` are MiniGrid's; :func:`from_minigrid` mirrors a live MiniGrid env so both can
be stepped in lockstep (the test suite does, on every family).

Contract enforced by the tests: Gymnasium's env checker, seeded determinism, native vector ==
``SyncVectorEnv`` bit for bit, lockstep equality with MiniGrid, a ``ValueError`` naming the env
for any bad action.
"""

from rewardgym.envs.native.cache_guard import invalidate_if_sources_changed

# Before any kernel module is imported: drop cached kernels compiled from older sources.
invalidate_if_sources_changed(__name__)

from rewardgym.envs.grid.config import GridConfig  # noqa: E402
from rewardgym.envs.grid.env import GridEnv  # noqa: E402
from rewardgym.envs.grid.minigrid_bridge import from_minigrid  # noqa: E402
from rewardgym.envs.grid.potential import (  # noqa: E402
    subgoal_distance,
    subgoal_distance_batch,
    subgoal_potential,
)
from rewardgym.envs.grid.vector_env import GridVectorEnv  # noqa: E402

__all__ = [
    "GridConfig",
    "GridEnv",
    "GridVectorEnv",
    "from_minigrid",
    "subgoal_distance",
    "subgoal_distance_batch",
    "subgoal_potential",
]
