"""RouteDrive's core: ``n`` worlds in kernel arrays, behind the kit's shells.

:class:`DriveCore` is the family's :class:`~rewardgym.envs.native.core.NativeCore`: one kernel
call steps (and, under ``NEXT_STEP``/``SAME_STEP``, autoresets) every world; the single env is
the kit's single shell over one world, the vector env its vector shell over ``n``, and the
multi-agent env steps one world of several egos through the same core.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving import shell
from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.render import render_world
from rewardgym.envs.native.core import KernelAccess, KernelOutputs, NativeCore
from rewardgym.envs.native.rng import seed_counter_streams
from rewardgym.envs.native.shell import (
    NO_AUTORESET,
    SAME_STEP,
    PicklableKernel,
    call_on_threads,
    compiled,
)


class DriveCore(PicklableKernel, KernelOutputs, NativeCore):
    """``n`` RouteDrive worlds of ``config.num_egos`` egos: map bank, state, step outputs.

    Output rows are ``world * num_egos + ego``. ``max_episode_steps`` adds a truncation limit
    inside the kernel; ``parallel`` (the ``prange`` kernel on ``num_threads`` threads) only
    changes speed.
    """

    def __init__(self, config: DriveConfig, n: int, max_episode_steps: int | None = None,
                 num_threads: int | None = None, parallel: bool = False) -> None:
        self.config = cfg = config
        self.num_envs = n
        self.single_observation_space = shell.observation_space(cfg)
        self.single_action_space = shell.action_space(cfg)
        (self.bank, self.params, self.terms, self.world, self.out,
         self.actions) = shell.build_world(cfg, n, max_episode_steps)
        self.num_threads = num_threads
        self.parallel = parallel
        self.seeded = np.zeros(n, dtype=np.bool_)
        self._rows = np.arange(n)
        self._same_step = False
        self._no_done = np.zeros(n, dtype=np.bool_)

    def _compile_step(self) -> Any:
        kernel = k.step_batch_parallel if self.parallel else k.step_batch
        return compiled(kernel, self.bank, self.world, self.params, self.actions, NO_AUTORESET,
                        self.out)

    @property
    def rewards(self) -> np.ndarray:
        """This step's rewards (one per output row)."""
        return self.out.scalars[:, k.OUT_REWARD]

    @property
    def done(self) -> np.ndarray:
        """``SAME_STEP``: worlds whose episode ended this step (the kernel reset them)."""
        return self.out.done_world if self._same_step else self._no_done

    def seed_rows(self, mask: np.ndarray, seeds: list[int | None]) -> None:
        """Seed the streams of the worlds in ``mask``."""
        seed_counter_streams(self.world.rng, self.seeded, seeds, mask)

    def reset_rows(self, mask: np.ndarray) -> None:
        """New scenes in the worlds of ``mask`` (their output rows read as a reset's)."""
        k.reset_rows(self.bank, self.world, self.params, mask, self.out)
        self.out.done_world[mask] = False

    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> np.ndarray:
        """``(steer, accel)`` rows written into the kernel's action buffer (see shell)."""
        return shell.check_actions(name, self.config, actions, num_envs, self.actions)

    def ready(self, name: str) -> None:
        """A single env whose episode ended must be reset first."""
        if self.world.ei[0, 0, k.E_ACTIVE] == 0:
            raise gym.error.ResetNeeded(f"{name}: the episode ended; call reset()")

    def step(self, actions: np.ndarray, autoreset: int) -> None:
        """One kernel call for every world (autoreset inside the kernel)."""
        self._same_step = autoreset == SAME_STEP
        if self.parallel:
            call_on_threads(self.num_threads, self._step_kernel, self.bank, self.world,
                            self.params, actions, autoreset, self.out)
        else:
            self._step_kernel(self.bank, self.world, self.params, actions, autoreset, self.out)

    def single_path(self) -> tuple[Any, ...]:
        """The single shell's step: the kernel entry point bound to this core's buffers.

        Same calls as :meth:`step` (``NO_AUTORESET``; the entry point is still looked up on the
        first step) and :meth:`obs_row`, without their per-step lookups.
        """
        if self.parallel:
            return super().single_path()
        self._same_step = False
        bank, world, params, out, core, kernel = self.bank, self.world, self.params, self.out, \
            self, None

        def step(actions: np.ndarray, autoreset: int) -> None:
            nonlocal kernel
            if kernel is None:
                kernel = core._step_kernel
            kernel(bank, world, params, actions, autoreset, out)

        obs_row = self.obs_row
        if self.config.obs_mode == "vector":
            rows = out.obs
            obs_row = lambda i: rows[i].copy()  # noqa: E731  (shell.single_obs of a vector row)
        return (self.check_actions, step, obs_row, self.info, self.rewards, self.terminations,
                self.truncations)

    def batch_obs(self) -> Any:
        """Every row's observation (fresh arrays)."""
        return shell.batch_obs(self.config, self.out)

    def obs_row(self, i: int) -> Any:
        """Row ``i``'s observation."""
        return shell.single_obs(self.config, self.out, i)

    def final_obs(self, rows: np.ndarray) -> list[Any]:
        """The last observations of the episodes of ``rows`` that ended (``SAME_STEP``)."""
        return [shell.single_obs(self.config, self.out, int(i), final=True) for i in rows]

    def infos(self, mask: np.ndarray) -> dict[str, Any]:
        """Infos of the worlds in ``mask``; worlds reset in this step report a reset's zeros."""
        return shell.batch_info(self.out, self._rows, mask & ~self.done, self.terms,
                                present=mask)

    def final_infos(self, done: np.ndarray) -> dict[str, Any]:
        """Infos of the last step of the episodes in ``done`` (``SAME_STEP``)."""
        return shell.batch_info(self.out, self._rows, done.copy(), self.terms)

    def info(self, i: int) -> dict[str, Any]:
        """Row ``i``'s info with Python scalars."""
        return shell.single_info(self.out, i, self.terms)

    def render(self, i: int, ego: int = 0) -> np.ndarray:
        """A top-down image of world ``i`` around ``ego``."""
        return render_world(self.bank, self.world, self.params, i, ego)


class DriveAccess(KernelAccess):
    """The names RouteDrive's tests and tools read on every shell."""

    @property
    def _world(self) -> k.World:
        return self._core.world

    @property
    def _bank(self) -> Any:
        return self._core.bank

    @property
    def _out(self) -> k.StepOut:
        return self._core.out
