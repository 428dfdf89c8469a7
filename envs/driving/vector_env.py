"""The native vector RouteDrive env: one numba call steps every world."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numba
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rewardgym.envs.action_policy import action_policy
from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving import shell
from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.render import render_world
from rewardgym.envs.native import (
    AUTORESET_CODES,
    SAME_STEP,
    PicklableKernel,
    call_on_threads,
    compiled,
    parse_autoreset_mode,
    reset_mask,
    seed_streams,
)
from rewardgym.envs.native.rng import seed_to_state


class RouteDriveVectorEnv(PicklableKernel, VectorEnv):
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
        if cfg.num_egos != 1:
            raise ValueError(f"RouteDriveVectorEnv: num_egos must be 1, got {cfg.num_egos}")
        if not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"RouteDriveVectorEnv: num_envs must be a positive int, got "
                             f"{num_envs!r}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError("RouteDriveVectorEnv: max_episode_steps must be a positive int or "
                             f"None, got {max_episode_steps!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"RouteDriveVectorEnv: render_mode {render_mode!r} not in "
                             f"{self.metadata['render_modes']}")
        if not 1 <= num_threads <= numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"RouteDriveVectorEnv: num_threads must be in [1, "
                             f"{numba.config.NUMBA_NUM_THREADS}] (NUMBA_NUM_THREADS), got "
                             f"{num_threads!r}")
        mode = parse_autoreset_mode(autoreset_mode)
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.num_envs = int(num_envs)
        self.render_mode = render_mode
        self.num_threads = num_threads
        self.single_observation_space = shell.observation_space(cfg)
        self.single_action_space = shell.action_space(cfg)
        self.metadata["action_policy"] = action_policy(self.single_action_space)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        (self._bank, self._params, self._terms, self._world, self._out,
         self._actions) = shell.build_world(cfg, self.num_envs, max_episode_steps)
        self._autoreset = AUTORESET_CODES[mode]
        self._all_rows = np.arange(self.num_envs)
        self._parallel = self.num_envs >= parallel_threshold
        self._seeded = np.zeros(self.num_envs, dtype=np.bool_)

    def _compile_step(self) -> Any:
        kernel = k.step_batch_parallel if self._parallel else k.step_batch
        return compiled(kernel, self._bank, self._world, self._params, self._actions,
                        self._autoreset, self._out)

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else "RouteDriveVectorEnv"

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset all worlds, or those in ``options["reset_mask"]``; int seeds go to env i as s+i."""
        super().reset(seed=seed if isinstance(seed, int | np.integer) else None)
        mask = reset_mask(options, self.num_envs, self._name)
        seed_streams(self._world.rng, self._seeded, seed, mask, self._name, seed_to_state)
        k.reset_rows(self._bank, self._world, self._params, mask, self._out)
        return (shell.batch_obs(self.config, self._out),
                shell.batch_info(self._out, self._all_rows, mask, self._terms))

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every world; raises ``ValueError`` naming the env for invalid actions."""
        if not self._seeded.all():
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        shell.check_actions(self._name, self.config, actions, self.num_envs, self._actions)
        out = self._out
        call_on_threads(self.num_threads if self._parallel else None, self._step_kernel,
                        self._bank, self._world, self._params, self._actions, self._autoreset,
                        out)
        done = out.done_world
        everyone = np.ones(self.num_envs, dtype=np.bool_)
        if self._autoreset == SAME_STEP and done.any():
            # The finished episodes' step infos go to final_info; the top level reports every
            # env, with the zeros of a reset info for the ones that just reset (as
            # SyncVectorEnv does after a same-step reset).
            rows = np.flatnonzero(done)
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in rows:
                final_obs[i] = shell.single_obs(self.config, out, int(i), final=True)
            final_info = shell.batch_info(out, self._all_rows, done.copy(), self._terms)
            infos = {**shell.batch_info(out, self._all_rows, ~done, self._terms, present=everyone),
                     "final_obs": final_obs,
                     "_final_obs": done.copy(), "final_info": final_info,
                     "_final_info": done.copy()}
        else:
            infos = shell.batch_info(out, self._all_rows, everyone, self._terms)
        return (shell.batch_obs(self.config, out), out.scalars[:, k.OUT_REWARD].copy(),
                out.terminated.copy(), out.truncated.copy(), infos)

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One RGB image per world, as ``SyncVectorEnv.render`` returns them."""
        if self.render_mode is None:
            gym.logger.warn("RouteDriveVectorEnv.render() called without a render_mode")
            return None
        return tuple(render_world(self._bank, self._world, self._params, i)
                     for i in range(self.num_envs))

