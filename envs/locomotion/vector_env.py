"""The native vector locomotion env: N MuJoCo models per call, one numba pass for the rest."""

from __future__ import annotations

import dataclasses
from typing import Any

from gymnasium.vector import AutoresetMode

from rewardgym.envs.locomotion.config import LocomotionConfig
from rewardgym.envs.locomotion.core import Core
from rewardgym.envs.native.vector import NativeVectorEnv, check_vector_args


class LocomotionVectorEnv(NativeVectorEnv):
    """``num_envs`` locomotion envs of one task, stepped in one call.

    Sub-env ``i`` reset with seed ``s`` follows exactly the trajectory of :class:`LocomotionEnv`
    reset with seed ``s + i`` (``SyncVectorEnv``'s rule), so ``make_vec(id, n,
    vectorization_mode="vector_entry_point")`` equals ``"sync"`` bit for bit, infos included.
    Autoreset defaults to ``NEXT_STEP`` (Gymnasium's default) and accepts ``SAME_STEP``
    (``final_obs``/``final_info`` in the infos, what SB3 needs) and ``DISABLED`` (resets through
    ``reset(options={"reset_mask": mask})``); ``metadata["autoreset_mode"]`` says which.
    ``max_episode_steps`` truncates as Gymnasium's ``TimeLimit`` would. Under ``SAME_STEP``,
    :attr:`final_features` holds the reward-view rows of the states the envs that finished on
    the last such step ended in (reward wrappers read them; ``final_info`` stays Sync's).

    ``physics_threads > 1`` splits the MuJoCo stepping over a thread pool (``mj_step`` releases
    the GIL); results do not change. Everything after the physics is one numba call per step.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/AntGoal-v1", num_envs=4,
        ...                     vectorization_mode="vector_entry_point")
        >>> obs, infos = envs.reset(seed=0)
        >>> obs.shape
        (4, 29)
        >>> obs, rewards, terminated, truncated, infos = envs.step(envs.action_space.sample())
        >>> rewards.shape, infos["is_success"].dtype
        ((4,), dtype('bool'))
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 25,
                "autoreset_mode": AutoresetMode.NEXT_STEP, "action_policy": "clip"}

    def __init__(self, num_envs: int = 1, config: LocomotionConfig | None = None,
                 render_mode: str | None = None, max_episode_steps: int | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
                 width: int = 320, height: int = 240, physics_threads: int = 1,
                 **overrides: Any) -> None:
        base = LocomotionConfig() if config is None else config
        self.config = cfg = dataclasses.replace(base, **overrides)
        n = check_vector_args(type(self).__name__, num_envs, max_episode_steps)
        self.max_episode_steps = max_episode_steps
        core = Core(cfg, n, physics_threads, max_episode_steps, width, height)
        super().__init__(core, render_mode, autoreset_mode)
        self.metadata["render_fps"] = round(1.0 / cfg.dt)

    @property
    def final_features(self) -> Any:
        """Feature rows kept before the last ``SAME_STEP`` resets (None before any)."""
        return getattr(self._core, "final_features", None)


__all__ = ["LocomotionVectorEnv"]
