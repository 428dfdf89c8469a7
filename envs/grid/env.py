"""The single grid env: the kit's single shell over :class:`GridCore` with a batch of one."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from rewardgym.envs.grid import kernels as k
from rewardgym.envs.grid import shell
from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.core import GridAccess, GridCore, render_row
from rewardgym.envs.native.single import NativeEnv


class GridEnv(GridAccess, NativeEnv):
    """MiniGrid's sparse-reward tasks on numba kernels.

    ## Description
    A 2D grid world with walls, doors, keys, balls, lava and a goal (Chevalier-Boisvert et al.,
    "Minigrid & Miniworld", 2023). The layout family and its sizes come from :class:`GridConfig`
    (registered ids ``rewardgym/DoorKey-8x8-v0`` etc. fix them). Semantics are MiniGrid's and a
    test steps both in lockstep (:func:`rewardgym.envs.grid.from_minigrid`).

    ## Observation
    ``obs_mode="partial"``: ``Dict(image=Box(uint8, (7, 7, 3)), direction=Discrete(4))``, the
    egocentric view encoded as (object, colour, state) with MiniGrid's indices. ``"flat"``: one
    ``Box(uint8, (151,))`` (view, then one-hot direction). ``"full"``: the whole grid.
    The mission string is in ``info["mission"]``.

    ## Action
    ``Discrete(7)``: left, right, forward, pickup, drop, toggle, done.

    ## Reward
    ``1 - 0.9 * step_count / max_steps`` on success, else 0; ``info["reward_terms"]`` holds it
    as ``{"success": r}`` and ``info["is_success"]`` flags it.

    ## Episode end
    Terminates on reaching the goal (or picking up the target, or stepping into lava);
    truncates at ``max_steps``.

    ## Version history
    * v0: initial release.

    Example:
        >>> env = GridEnv(layout="door_key", size=5)
        >>> obs, info = env.reset(seed=3)
        >>> obs["image"].shape, info["mission"]
        ((7, 7, 3), 'use the key to open the door and then get to the goal')
        >>> obs, reward, terminated, truncated, info = env.step(2)
        >>> type(reward), type(terminated)
        (<class 'float'>, <class 'bool'>)
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 10, "action_policy": "raise"}
    reward_range = (0.0, 1.0)

    def __init__(self, config: GridConfig | None = None, render_mode: str | None = None,
                 tile_size: int = 32, **overrides: Any) -> None:
        base = GridConfig() if config is None else config
        self.config = dataclasses.replace(base, **overrides)
        self.tile_size = tile_size
        super().__init__(GridCore(self.config, 1, tile_size=tile_size), render_mode)

    def observe(self) -> Any:
        """The observation of the current state (what the last reset or step returned)."""
        core = self._core
        out = core.out
        k.observe(core.state, 0, core.params, core.obs_mode, out.obs, out.direction)
        return shell.single_obs(self.config, out.obs[0], self._state.agent[0, 2])

    def load_state(self, *, cells: np.ndarray, agent: tuple[int, int, int],
                   carrying: np.ndarray, target: tuple[int, int], step_count: int,
                   mission: int) -> None:
        """Overwrite the whole env state (used to mirror other implementations).

        Raises:
            ValueError: if ``cells`` does not have the grid's ``(width, height, 3)`` shape.
        """
        s = self._state
        if cells.shape != s.cells.shape[1:]:
            raise ValueError(f"{self._name}: cells of shape {cells.shape}, expected "
                             f"{s.cells.shape[1:]}")
        s.cells[0] = cells
        s.agent[0] = agent
        s.carrying[0] = carrying
        s.target[0] = target
        s.step_count[0] = step_count
        s.mission[0] = mission
        s.needs_reset[0] = False
        k.refresh_subgoal(s, 0, self._params)

    def to_tabular(self, max_states: int = 50_000) -> Any:
        """This layout as a :class:`~rewardgym.envs.grid.tabular.TabularMDP`.

        Enumerated from the current state; for reward distances and policy-invariance checks.
        """
        from rewardgym.envs.grid.tabular import to_tabular

        return to_tabular(self, max_states)

    @property
    def agent_state(self) -> tuple[int, int, int]:
        """The agent's ``(x, y, direction)``, for inspection and tests."""
        x, y, d = self._state.agent[0]
        return int(x), int(y), int(d)

    @property
    def grid_encoding(self) -> np.ndarray:
        """A copy of the whole grid as MiniGrid's ``Grid.encode()`` (width, height, 3)."""
        return self._state.cells[0].copy()



__all__ = ["GridEnv", "render_row"]
