"""The native vector grid env: the kit's vector shell over :class:`GridCore`."""

from __future__ import annotations

import dataclasses
from typing import Any

from gymnasium.vector import AutoresetMode

from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.core import GridAccess, GridCore
from rewardgym.envs.native.checks import check_num_threads
from rewardgym.envs.native.vector import NativeVectorEnv, check_vector_args


class GridVectorEnv(GridAccess, NativeVectorEnv):
    """``num_envs`` grid envs stepped together by numba kernels.

    Sub-env ``i`` reset with seed ``s`` follows exactly the trajectory of :class:`GridEnv` reset
    with seed ``s + i`` (what ``SyncVectorEnv`` does), so
    ``make_vec(id, n, vectorization_mode="vector_entry_point")`` and ``"sync"`` agree bit for bit.
    Autoreset defaults to ``NEXT_STEP`` (Gymnasium's default); ``SAME_STEP`` puts ``final_obs``
    and ``final_info`` in the infos (what SB3 needs); ``DISABLED`` leaves resets to
    ``reset(options={"reset_mask": mask})``.

    Batches of ``parallel_threshold`` envs or more run numba's ``prange`` kernel on
    ``num_threads`` threads.  The default is one thread: the ``prange`` build is about 3x faster
    than the plain loop even then, and on a busy machine (a learner on the other core) a second
    thread waits for a time slice on every step, which measured 10x slower.  Results do not
    depend on the thread count or the kernel variant.  Smaller batches (training-sized, e.g. 32
    envs, where the env is a sliver of a PPO step) use the serial kernel the single env uses, so
    a process compiles one variant instead of two: on a cold cache the ``prange`` kernel costs
    about 48 s of CPU to compile on the 2-core development machine, the serial one about 31 s.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/DoorKey-8x8-v0", num_envs=4,
        ...                     vectorization_mode="vector_entry_point")
        >>> obs, infos = envs.reset(seed=0)
        >>> obs["image"].shape
        (4, 7, 7, 3)
        >>> obs, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
        >>> rewards.shape, infos["mission"][0]
        ((4,), 'use the key to open the door and then get to the goal')
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10,
                "autoreset_mode": AutoresetMode.NEXT_STEP, "action_policy": "raise"}

    def __init__(self, num_envs: int = 1, config: GridConfig | None = None,
                 render_mode: str | None = None, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 num_threads: int = 1, parallel_threshold: int = 256, tile_size: int = 32,
                 **overrides: Any) -> None:
        base = GridConfig() if config is None else config
        self.config = cfg = dataclasses.replace(base, **overrides)
        name = type(self).__name__
        n = check_vector_args(name, num_envs, max_episode_steps)
        check_num_threads(name, num_threads)
        self.tile_size = tile_size
        self.max_episode_steps = max_episode_steps
        self.num_threads = num_threads
        core = GridCore(cfg, n, max_episode_steps, num_threads, n >= parallel_threshold,
                        tile_size)
        super().__init__(core, render_mode, autoreset_mode)


__all__ = ["GridVectorEnv"]
