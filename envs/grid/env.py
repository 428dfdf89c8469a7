"""The single grid env: a thin Gymnasium shell over the batch kernels with a batch of one."""

from __future__ import annotations

import dataclasses
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from rewardgym.envs.grid import kernels as k
from rewardgym.envs.grid import shell
from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.render import render_grid, visible_cells
from rewardgym.envs.native import (
    NO_AUTORESET,
    SEED_MOD,
    PicklableKernel,
    compiled,
)
from rewardgym.envs.native.rng import seed_to_state


class GridEnv(PicklableKernel, gym.Env):
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
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"GridEnv: render_mode {render_mode!r} not in "
                             f"{self.metadata['render_modes']}")
        self.render_mode = render_mode
        self.tile_size = tile_size
        self.observation_space = shell.observation_space(self.config)
        self.action_space = shell.action_space()
        cfg = self.config
        self._params = cfg.kernel_params()
        self._obs_mode = shell.OBS_MODE_CODES[cfg.obs_mode]
        self._state = k.new_state(1, cfg.width, cfg.height, cfg.agent_view_size)
        length = k.obs_length(cfg.obs_mode, cfg.width, cfg.height, cfg.agent_view_size)
        self._out = k.new_step_out(1, length)
        self._mask = np.ones(1, dtype=np.bool_)
        self._seeded = False

    def _compile_step(self) -> Any:
        return compiled(k.step_batch, self._state, self._params, np.zeros(1, dtype=np.int64),
                        NO_AUTORESET, self._obs_mode, self._out)

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else f"GridEnv({self.config.layout})"

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode; ``seed`` restarts this env's layout stream."""
        super().reset(seed=seed)
        if seed is not None:
            self._state.rng[0] = seed_to_state(seed % SEED_MOD)
        elif not self._seeded:
            self._state.rng[0] = seed_to_state(int(self.np_random.integers(2**63)))
        self._seeded = True
        out = self._out
        k.reset_rows(self._state, self._params, self._mask, self._obs_mode, out.obs, out.direction)
        s = self._state
        info = shell.single_info(self.config, s.mission[0], False, 0.0, s.subgoal[0])
        return shell.single_obs(self.config, out.obs[0], out.direction[0]), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply one action; raises ``ValueError`` naming the env for an invalid action."""
        if not self._seeded:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        actions = shell.check_actions(self._name, action, None)
        out, s = self._out, self._state
        self._step_kernel(s, self._params, actions, NO_AUTORESET, self._obs_mode, out)
        reward = float(out.reward[0])
        info = shell.single_info(self.config, s.mission[0], out.success[0], reward, s.subgoal[0])
        obs = shell.single_obs(self.config, out.obs[0], out.direction[0])
        return obs, reward, bool(out.terminated[0]), bool(out.truncated[0]), info

    def render(self) -> np.ndarray | None:
        """An RGB image of the whole grid, cells in the agent's view highlighted."""
        if self.render_mode is None:
            gym.logger.warn("GridEnv.render() called without a render_mode; pass "
                            "render_mode='rgb_array' to gym.make")
            return None
        return render_row(self._state, 0, self._params, self.config, self.tile_size)

    def observe(self) -> Any:
        """The observation of the current state (what the last reset or step returned)."""
        out = self._out
        k.observe(self._state, 0, self._params, self._obs_mode, out.obs, out.direction)
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


def render_row(state: k.GridState, i: int, params: k.KernelParams, cfg: GridConfig,
               tile_size: int) -> np.ndarray:
    """Render env ``i`` of a state (shared by the single and the vector env)."""
    v = cfg.agent_view_size
    scratch = np.zeros((state.cells.shape[0], v * v * 3), dtype=np.uint8)
    k.egocentric_view(state.cells, state.agent, state.carrying, state.vis, i, v,
                      params.see_through_walls, scratch, False,
                      np.zeros(state.cells.shape[0], dtype=np.int64))
    visible = visible_cells(cfg.width, cfg.height, state.agent[i], state.vis[i], v)
    return render_grid(state.cells[i], state.agent[i], visible, tile_size)
