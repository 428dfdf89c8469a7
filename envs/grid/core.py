"""The grid family's core: ``n`` grid envs in kernel arrays, behind the kit's shells.

:class:`GridCore` is the family's :class:`~rewardgym.envs.native.core.NativeCore`: the batch
kernels step (and, under ``NEXT_STEP``/``SAME_STEP``, autoreset) every env in one call; the
single env is the kit's single shell over a core of one env, the vector env its vector shell
over ``n``, so both run the same kernels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid import kernels as k
from rewardgym.envs.grid import shell
from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.render import render_grid, visible_cells
from rewardgym.envs.native.checks import check_discrete_actions, single_discrete_check
from rewardgym.envs.native.core import KernelAccess, KernelOutputs, NativeCore
from rewardgym.envs.native.rng import seed_counter_streams
from rewardgym.envs.native.shell import NO_AUTORESET, PicklableKernel, call_on_threads, compiled


class GridCore(PicklableKernel, KernelOutputs, NativeCore):
    """``n`` grid envs of one config: kernel state, parameters and step outputs.

    ``max_episode_steps`` adds a truncation limit inside the kernel; ``num_threads`` (None: the
    kernel is called as it is) and ``parallel`` (the ``prange`` kernel) only change speed.
    """

    def __init__(self, config: GridConfig, n: int, max_episode_steps: int | None = None,
                 num_threads: int | None = None, parallel: bool = False,
                 tile_size: int = 32) -> None:
        self.config = cfg = config
        self.num_envs = n
        self.label = f"({cfg.layout})"
        self.single_observation_space = shell.observation_space(cfg)
        self.single_action_space = shell.action_space()
        self.params = cfg.kernel_params(max_episode_steps)
        self.obs_mode = shell.OBS_MODE_CODES[cfg.obs_mode]
        self.state = k.new_state(n, cfg.width, cfg.height, cfg.agent_view_size)
        self.out = k.new_step_out(n, k.obs_length(cfg.obs_mode, cfg.width, cfg.height,
                                                  cfg.agent_view_size))
        self.num_threads = num_threads
        self.parallel = parallel
        self.tile_size = tile_size
        self.seeded = np.zeros(n, dtype=np.bool_)

    def _compile_step(self) -> Any:
        kernel = k.step_batch_parallel if self.parallel else k.step_batch
        return compiled(kernel, self.state, self.params, np.zeros(self.num_envs, dtype=np.int64),
                        NO_AUTORESET, self.obs_mode, self.out)

    def seed_rows(self, mask: np.ndarray, seeds: list[int | None]) -> None:
        """Seed the layout streams of the envs in ``mask``."""
        seed_counter_streams(self.state.rng, self.seeded, seeds, mask)

    def reset_rows(self, mask: np.ndarray) -> None:
        """New layouts in the envs of ``mask``; their outputs read as a reset's."""
        out = self.out
        k.reset_rows(self.state, self.params, mask, self.obs_mode, out.obs, out.direction)
        out.reward[mask] = 0.0
        out.success[mask] = False
        out.done[mask] = False

    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> np.ndarray:
        """MiniGrid's seven actions as int64 (``Discrete``: out of range raises)."""
        return check_discrete_actions(name, actions, c.NUM_ACTIONS, num_envs, c.ACTION_NAMES)

    def step(self, actions: np.ndarray, autoreset: int) -> None:
        """One kernel call for every env (autoreset inside the kernel)."""
        if self.num_threads is None:
            self._step_kernel(self.state, self.params, actions, autoreset, self.obs_mode,
                              self.out)
        else:
            call_on_threads(self.num_threads, self._step_kernel, self.state, self.params,
                            actions, autoreset, self.obs_mode, self.out)

    def single_path(self) -> tuple[Any, ...]:
        """The single shell's step: the kernel entry point bound to this core's buffers.

        Same calls as :meth:`check_actions`, :meth:`step` and :meth:`obs_row` (the entry point is
        still looked up on the first step), without their per-step lookups and allocations.
        """
        if self.num_threads is not None:
            return super().single_path()
        state, params, obs_mode, out = self.state, self.params, self.obs_mode, self.out
        core, kernel = self, None

        def step(actions: np.ndarray, autoreset: int) -> None:
            nonlocal kernel
            if kernel is None:
                kernel = core._step_kernel
            kernel(state, params, actions, autoreset, obs_mode, out)

        check = single_discrete_check(c.NUM_ACTIONS, c.ACTION_NAMES)
        return (check, step, self._obs_reader(), self.info, out.reward, out.terminated,
                out.truncated)

    def _obs_reader(self) -> Any:
        """``obs_row`` over views made once (:func:`shell.single_obs` of each row)."""
        out = self.out
        if self.config.obs_mode == "flat":
            rows = out.obs
            return lambda i: rows[i].copy()
        images = out.obs.view()
        images.shape = (self.num_envs, *shell.image_shape(self.config))  # a view, never a copy
        direction = out.direction
        return lambda i: {"image": images[i].copy(), "direction": direction.item(i)}

    def batch_obs(self) -> Any:
        """Every env's observation (fresh arrays)."""
        return shell.batch_obs(self.config, self.out.obs, self.out.direction)

    def obs_row(self, i: int) -> Any:
        """Env ``i``'s observation."""
        return shell.single_obs(self.config, self.out.obs[i], self.out.direction[i])

    def final_obs(self, rows: np.ndarray) -> list[Any]:
        """The last observations of the episodes of ``rows`` that ended (``SAME_STEP``)."""
        out = self.out
        return [shell.single_obs(self.config, out.final_obs[i], out.final_direction[i])
                for i in rows]

    def infos(self, mask: np.ndarray) -> dict[str, Any]:
        """Infos of the envs in ``mask``; envs reset in this step report a reset's."""
        out, s = self.out, self.state
        return shell.batch_info(self.config, mask, s.mission, out.success & ~out.done,
                                np.where(out.done, 0.0, out.reward), s.subgoal)

    def final_infos(self, done: np.ndarray) -> dict[str, Any]:
        """Infos of the last step of the episodes in ``done`` (``SAME_STEP``)."""
        out = self.out
        return shell.batch_info(self.config, done, out.final_mission, out.success, out.reward,
                                out.final_subgoal)

    def info(self, i: int) -> dict[str, Any]:
        """Env ``i``'s info with Python scalars."""
        out, s = self.out, self.state
        return shell.single_info(self.config, s.mission.item(i), out.success.item(i),
                                 out.reward.item(i), s.subgoal.item(i))

    def render(self, i: int) -> np.ndarray:
        """The whole grid of env ``i``, cells in the agent's view highlighted."""
        return render_row(self.state, i, self.params, self.config, self.tile_size)


def render_row(state: k.GridState, i: int, params: k.KernelParams, cfg: GridConfig,
               tile_size: int) -> np.ndarray:
    """Render env ``i`` of a state."""
    v = cfg.agent_view_size
    scratch = np.zeros((state.cells.shape[0], v * v * 3), dtype=np.uint8)
    k.egocentric_view(state.cells, state.agent, state.carrying, state.vis, i, v,
                      params.see_through_walls, scratch, False,
                      np.zeros(state.cells.shape[0], dtype=np.int64))
    visible = visible_cells(cfg.width, cfg.height, state.agent[i], state.vis[i], v)
    return render_grid(state.cells[i], state.agent[i], visible, tile_size)


class GridAccess(KernelAccess):
    """The names the grid's tools (feature view, tabular MDP, tests) read on either shell."""

    @property
    def _state(self) -> k.GridState:
        return self._core.state
