"""The native vector RouteDrive env: the kit's vector shell over :class:`DriveCore`."""

from __future__ import annotations

import dataclasses
from typing import Any

from gymnasium.vector import AutoresetMode

from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.core import DriveAccess, DriveCore
from rewardgym.envs.native.checks import check_num_threads
from rewardgym.envs.native.vector import NativeVectorEnv, check_vector_args


class RouteDriveVectorEnv(DriveAccess, NativeVectorEnv):
    """``num_envs`` RouteDrive worlds stepped together by one numba kernel call.

    Sub-env ``i`` reset with seed ``s`` follows exactly the trajectory of
    :class:`~rewardgym.envs.driving.RouteDriveEnv` reset with seed ``s + i``, so
    ``make_vec(id, n, vectorization_mode="vector_entry_point")`` and ``"sync"`` agree bit for
    bit.  Autoreset is ``NEXT_STEP`` by default; ``SAME_STEP`` puts ``final_obs`` and
    ``final_info`` in the infos (what SB3 needs); ``DISABLED`` leaves resets to
    ``reset(options={"reset_mask": mask})``.  Batches of ``parallel_threshold`` worlds or more
    use numba's ``prange`` kernel on ``num_threads`` threads (results do not depend on it).

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/RouteDrive-v1", num_envs=8,
        ...                     vectorization_mode="vector_entry_point")
        >>> obs, infos = envs.reset(seed=0)
        >>> obs.shape
        (8, 80)
        >>> obs, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
        >>> infos["route_completion"].shape
        (8,)
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10,
                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 1, config: DriveConfig | None = None,
                 render_mode: str | None = None, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 num_threads: int = 1, parallel_threshold: int = 64,
                 **overrides: Any) -> None:
        base = DriveConfig() if config is None else config
        self.config = cfg = dataclasses.replace(base, **overrides)
        name = type(self).__name__
        if cfg.num_egos != 1:
            raise ValueError(f"{name}: num_egos must be 1, got {cfg.num_egos}")
        n = check_vector_args(name, num_envs, max_episode_steps)
        check_num_threads(name, num_threads)
        self.num_threads = num_threads
        core = DriveCore(cfg, n, max_episode_steps, num_threads, n >= parallel_threshold)
        super().__init__(core, render_mode, autoreset_mode)


__all__ = ["RouteDriveVectorEnv"]
