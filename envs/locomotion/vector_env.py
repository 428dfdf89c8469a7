"""The native vector locomotion env: N MuJoCo models per call, one numba pass for the rest."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rewardgym.envs.locomotion.config import LocomotionConfig
from rewardgym.envs.locomotion.core import OBS_BOUND, Core
from rewardgym.envs.locomotion.env import check_actions
from rewardgym.envs.locomotion.render import Camera
from rewardgym.envs.native import parse_autoreset_mode


class LocomotionVectorEnv(VectorEnv):
    """``num_envs`` locomotion envs of one task, stepped in one call.

    Sub-env ``i`` reset with seed ``s`` follows exactly the trajectory of :class:`LocomotionEnv`
    reset with seed ``s + i`` (``SyncVectorEnv``'s rule), so ``make_vec(id, n,
    vectorization_mode="vector_entry_point")`` equals ``"sync"`` bit for bit, infos included.
    Autoreset defaults to ``NEXT_STEP`` (Gymnasium's default) and accepts ``SAME_STEP``
    (``final_obs``/``final_info`` in the infos, what SB3 needs); ``metadata["autoreset_mode"]``
    says which. ``max_episode_steps`` truncates as Gymnasium's ``TimeLimit`` would.

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
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) \
                or num_envs < 1:
            raise ValueError(f"LocomotionVectorEnv: num_envs must be a positive int, "
                             f"got {num_envs!r}")
        if max_episode_steps is not None and (not isinstance(max_episode_steps, int | np.integer)
                                              or max_episode_steps < 1):
            raise ValueError("LocomotionVectorEnv: max_episode_steps must be a positive int or "
                             f"None, got {max_episode_steps!r}")
        mode = parse_autoreset_mode(autoreset_mode)
        if mode == AutoresetMode.DISABLED:
            raise ValueError("LocomotionVectorEnv: autoreset_mode DISABLED is not supported; "
                             "use NEXT_STEP or SAME_STEP")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"LocomotionVectorEnv: render_mode {render_mode!r} not in "
                             f"{self.metadata['render_modes']}")
        self.metadata = {**type(self).metadata, "autoreset_mode": mode,
                         "render_fps": round(1.0 / cfg.dt)}
        self.num_envs = n = int(num_envs)
        self.render_mode = render_mode
        self.max_episode_steps = max_episode_steps
        self._core = core = Core(cfg, n, physics_threads)
        model = core.model
        low = model.actuator_ctrlrange[:, 0].astype(np.float64)
        high = model.actuator_ctrlrange[:, 1].astype(np.float64)
        self.single_action_space = gym.spaces.Box(low, high, dtype=np.float64)
        self.single_observation_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, (core.obs_dim,),
                                                       dtype=np.float64)
        self.action_space = batch_space(self.single_action_space, n)
        self.observation_space = batch_space(self.single_observation_space, n)
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._elapsed = np.zeros(n, dtype=np.int64)
        self._autoreset = np.zeros(n, dtype=np.bool_)
        self._seeded = False
        self._camera = Camera(core, width, height)

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else f"LocomotionVectorEnv({self.config.task})"

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every env; an int seed ``s`` seeds env ``i`` with ``s + i``."""
        super().reset(seed=seed if isinstance(seed, int | np.integer) else None)
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)
            if len(seeds) != self.num_envs:
                raise ValueError(f"{self._name}: got {len(seeds)} seeds for {self.num_envs} envs")
        for i, s in enumerate(seeds):
            if s is not None or self._rngs[i] is None:
                self._rngs[i] = seeding.np_random(s)[0]
        rows = np.ones(self.num_envs, dtype=np.bool_)
        self._core.reset_rows(rows, self._rngs)
        self._elapsed[:] = 0
        self._autoreset[:] = False
        self._seeded = True
        return self._core.obs.copy(), self._core.infos()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every env (NEXT_STEP: envs that ended last step are reset instead)."""
        if not self._seeded:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        act = check_actions(self._name, actions, self.action_space.shape,
                            self.single_action_space.low, self.single_action_space.high)
        core = self._core
        same_step = self.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
        resetting = self._autoreset
        stepping = ~resetting
        if resetting.any():
            core.reset_rows(resetting, self._rngs)
            self._elapsed[resetting] = 0
        core.step_rows(stepping, act)
        self._elapsed[stepping] += 1
        terminated = core.terminated & stepping
        truncated = core.diverged & stepping
        if self.max_episode_steps is not None:
            truncated |= stepping & (self._elapsed >= self.max_episode_steps)
        done = terminated | truncated
        rewards = core.reward.copy()
        if same_step and done.any():
            # SyncVectorEnv's layout: final_obs/final_info for the finished envs, then the reset
            # observation and reset info in their rows.
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in np.flatnonzero(done):
                final_obs[i] = core.obs[i].copy()
            final_info = core.infos(done)
            for name in self.config.terms:
                terms = final_info["reward_terms"]
                terms[name] = np.where(done, terms[name], 0.0)
            for key in ("is_success", "diverged"):
                final_info[key] = final_info[key] & done
            # The reward view of the states the episodes ended in (reward wrappers read it).
            final_info["features"] = core.feat.copy()
            final_info["_features"] = done.copy()
            core.reset_rows(done, self._rngs)
            self._elapsed[done] = 0
            infos = core.infos()
            infos["final_obs"], infos["_final_obs"] = final_obs, done.copy()
            infos["final_info"], infos["_final_info"] = final_info, done.copy()
        else:
            infos = core.infos()
        obs = core.obs.copy()
        if not same_step:
            self._autoreset = done
        return obs, rewards, terminated, truncated, infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One RGB frame per sub-env, as ``SyncVectorEnv.render`` returns them."""
        if self.render_mode is None:
            gym.logger.warn("LocomotionVectorEnv.render() called without a render_mode")
            return None
        return tuple(self._camera.render(i) for i in range(self.num_envs))

    def close_extras(self, **kwargs: Any) -> None:
        """Free the renderer's GL context."""
        self._camera.close()


__all__ = ["LocomotionVectorEnv"]
