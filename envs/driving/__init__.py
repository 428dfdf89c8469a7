"""RouteDrive: a CaRL-style route-completion driving env on numba kernels.

A 2D, 10 Hz world after CaRL (Jaeger et al., CoRL 2025): procedurally generated road
templates, IDM traffic with traffic lights, CaRL's hard and soft infractions, and four reward
modes (``carl``, ``roach``, ``progress``, ``sparse``) judged on one leaderboard-style driving
score.  :class:`RouteDriveEnv` (Gymnasium), :class:`RouteDriveVectorEnv` (one kernel call per
step for every world) and :class:`RouteDriveParallelEnv` (PettingZoo, several egos at a
signalised intersection) share the same kernels.

Contract enforced by the tests: Gymnasium's env checker, seeded determinism for any thread
count, native vector == ``SyncVectorEnv`` bit for bit, one scripted scenario per infraction,
reward invariants, and ``progress`` + ``InfractionPenalty(infraction_table(config))`` ==
``carl`` (the table is reward code, so it lives on the wrappers floor:
``rewardgym.wrappers.driving.infraction_table``).
"""

from rewardgym.envs.native.cache_guard import invalidate_if_sources_changed

# Before any kernel module is imported: drop cached kernels compiled from older sources.
invalidate_if_sources_changed(__name__)

from rewardgym.envs.driving.config import DriveConfig  # noqa: E402
from rewardgym.envs.driving.env import RouteDriveEnv  # noqa: E402
from rewardgym.envs.driving.multi_agent import RouteDriveParallelEnv  # noqa: E402
from rewardgym.envs.driving.vector_env import RouteDriveVectorEnv  # noqa: E402

__all__ = ["DriveConfig", "RouteDriveEnv", "RouteDriveParallelEnv", "RouteDriveVectorEnv"]
