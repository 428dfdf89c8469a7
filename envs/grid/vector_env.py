"""The native vector grid env: one kernel call steps every env."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numba
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rewardgym.envs.grid import kernels as k
from rewardgym.envs.grid import shell
from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.env import render_row
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


class GridVectorEnv(PicklableKernel, VectorEnv):
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
        if not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"GridVectorEnv: num_envs must be a positive int, got {num_envs!r}")
        if max_episode_steps is not None and max_episode_steps < 1:
            raise ValueError("GridVectorEnv: max_episode_steps must be a positive int or None, "
                             f"got {max_episode_steps!r}")
        mode = parse_autoreset_mode(autoreset_mode)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"GridVectorEnv: render_mode {render_mode!r} not in "
                             f"{self.metadata['render_modes']}")
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.num_envs = int(num_envs)
        self.render_mode = render_mode
        self.tile_size = tile_size
        self.max_episode_steps = max_episode_steps
        self.single_observation_space = shell.observation_space(cfg)
        self.single_action_space = shell.action_space()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._params = cfg.kernel_params(max_episode_steps)
        self._obs_mode = shell.OBS_MODE_CODES[cfg.obs_mode]
        self._autoreset = AUTORESET_CODES[mode]
        if not 1 <= num_threads <= numba.config.NUMBA_NUM_THREADS:
            raise ValueError(f"GridVectorEnv: num_threads must be in [1, "
                             f"{numba.config.NUMBA_NUM_THREADS}] (NUMBA_NUM_THREADS), got "
                             f"{num_threads!r}")
        self.num_threads = num_threads
        self._state = k.new_state(self.num_envs, cfg.width, cfg.height, cfg.agent_view_size)
        length = k.obs_length(cfg.obs_mode, cfg.width, cfg.height, cfg.agent_view_size)
        self._out = k.new_step_out(self.num_envs, length)
        self._parallel = self.num_envs >= parallel_threshold
        self._seeded = np.zeros(self.num_envs, dtype=np.bool_)

    def _compile_step(self) -> Any:
        kernel = k.step_batch_parallel if self._parallel else k.step_batch
        return compiled(kernel, self._state, self._params,
                        np.zeros(self.num_envs, dtype=np.int64), self._autoreset,
                        self._obs_mode, self._out)

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else f"GridVectorEnv({self.config.layout})"

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset all envs, or those in ``options["reset_mask"]``; int seeds go to env i as s+i."""
        super().reset(seed=seed if isinstance(seed, int | np.integer) else None)
        mask = reset_mask(options, self.num_envs, self._name)
        seed_streams(self._state.rng, self._seeded, seed, mask, self._name, seed_to_state)
        out, s = self._out, self._state
        k.reset_rows(s, self._params, mask, self._obs_mode, out.obs, out.direction)
        zeros = np.zeros(self.num_envs)
        info = shell.batch_info(self.config, mask, s.mission, zeros.astype(np.bool_), zeros,
                                s.subgoal)
        return shell.batch_obs(self.config, out.obs, out.direction), info

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every env; raises ``ValueError`` naming the env for invalid actions."""
        if not self._seeded.all():
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        acts = shell.check_actions(self._name, actions, self.num_envs)
        out, s, cfg = self._out, self._state, self.config
        call_on_threads(self.num_threads, self._step_kernel, s, self._params, acts,
                        self._autoreset, self._obs_mode, out)
        done = out.done
        # SyncVectorEnv reports a same-step reset's info for finished envs (not successful, no
        # reward term); the state already holds the new episode there.  Other modes: done is
        # all False and this is the step info.
        infos = shell.batch_info(cfg, np.ones_like(done), s.mission, out.success & ~done,
                                 np.where(done, 0.0, out.reward), s.subgoal)
        if self._autoreset == SAME_STEP and done.any():
            rows = np.flatnonzero(done)
            final_obs = np.full(self.num_envs, None, dtype=object)
            finals = shell.batch_obs(cfg, out.final_obs[rows], out.final_direction[rows])
            for j, i in enumerate(rows):
                final_obs[i] = _unbatch(finals, j)
            infos["final_obs"], infos["_final_obs"] = final_obs, done.copy()
            infos["final_info"] = shell.batch_info(cfg, done, out.final_mission, out.success,
                                                   out.reward, out.final_subgoal)
            infos["_final_info"] = done.copy()
        obs = shell.batch_obs(cfg, out.obs, out.direction)
        return (obs, out.reward.copy(), out.terminated.copy(), out.truncated.copy(), infos)

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One RGB image per sub-env, as ``SyncVectorEnv.render`` returns them."""
        if self.render_mode is None:
            gym.logger.warn("GridVectorEnv.render() called without a render_mode")
            return None
        return tuple(render_row(self._state, i, self._params, self.config, self.tile_size)
                     for i in range(self.num_envs))


def _unbatch(obs: Any, j: int) -> Any:
    if isinstance(obs, dict):
        return {"image": obs["image"][j], "direction": int(obs["direction"][j])}
    return obs[j]
