"""A core over Python ``gym.Env`` rows, for families with no batch kernel (shopping).

:class:`EnvRowsCore` steps ``num_envs`` single envs one after another, as ``SyncVectorEnv``
does, behind the kit's shells: the family supplies the row envs and its action check, and gets
the kit's seeding, reset masks, reset options, ``NEXT_STEP``/``SAME_STEP``/``DISABLED``
autoreset (:class:`~rewardgym.envs.native.core.RowAutoreset`), ``final_obs``/``final_info``,
action policy and pickling. Observations are concatenated and infos batched by Gymnasium's own
code (``gymnasium.vector.utils.concatenate`` and ``VectorEnv._add_info``), so a vector env on
this core returns what ``SyncVectorEnv`` over the same rows returns, bit for bit.
"""

from __future__ import annotations

from abc import abstractmethod
from copy import deepcopy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import VectorEnv
from gymnasium.vector.utils import concatenate, create_empty_array

from rewardgym.envs.native.core import RowAutoreset


class _InfoBatcher:
    """Gymnasium's per-env info batching (``VectorEnv._add_info``) for ``num_envs`` envs."""

    _add_info = VectorEnv._add_info

    def __init__(self, num_envs: int) -> None:
        self.num_envs = num_envs


class EnvRowsCore(RowAutoreset):
    """``num_envs`` Python envs (``rows``) as a :class:`~rewardgym.envs.native.core.NativeCore`.

    Row ``i`` is reset with the seed the shell gave it (then its stream continues) and with the
    shell's reset options; autoresets pass neither, as ``SyncVectorEnv``'s do. A row's time limit
    is the row's own (a ``TimeLimit`` wrapper), so ``max_episode_steps`` is not taken here. The
    family implements :meth:`check_actions` (returning one action per row, indexable by row).

    Example:
        >>> class Rows(EnvRowsCore):
        ...     def check_actions(self, name, actions, num_envs):
        ...         return [actions] if num_envs is None else list(actions)
        >>> from rewardgym.envs.native.vector import NativeVectorEnv
        >>> envs = NativeVectorEnv(Rows([gym.make("CartPole-v1") for _ in range(2)]))
        >>> obs, infos = envs.reset(seed=0)
        >>> obs.shape, envs.step(np.array([0, 1]))[1].tolist()
        ((2, 4), [1.0, 1.0])
    """

    def __init__(self, rows: list[gym.Env]) -> None:
        self.rows = rows
        self.num_envs = n = len(rows)
        self.single_observation_space = rows[0].observation_space
        self.single_action_space = rows[0].action_space
        self.reward = np.zeros(n)
        self.terminated = np.zeros(n, dtype=np.bool_)
        self.truncated = np.zeros(n, dtype=np.bool_)
        self.row_obs: list[Any] = [None] * n
        self.row_info: list[dict[str, Any]] = [{} for _ in range(n)]
        self._seeds: list[int | None] = [None] * n
        self._options: dict[str, Any] | None = None
        self._buffer = create_empty_array(self.single_observation_space, n)
        self._batcher = _InfoBatcher(n)
        self._all = range(n)
        self.init_rows(None)

    @abstractmethod
    def check_actions(self, name: str, actions: Any, num_envs: int | None) -> Any:
        """One checked action per row (``num_envs`` None: a sequence holding one action)."""

    def seed_rows(self, mask: np.ndarray, seeds: list[int | None]) -> None:
        """Seeds for the next reset of the rows in ``mask`` (None continues a row's stream)."""
        for i in np.flatnonzero(mask):
            self._seeds[i] = seeds[i]

    def reset_options(self, options: dict[str, Any]) -> None:
        """Options for the next reset (the shell's reset, not autoresets)."""
        self._options = options

    def reset_state(self, mask: np.ndarray) -> None:
        """Reset the rows in ``mask`` with their pending seed and the pending options."""
        options, self._options = self._options, None
        seeds, rows = self._seeds, self.rows
        for i in np.flatnonzero(mask):
            self.row_obs[i], self.row_info[i] = rows[i].reset(seed=seeds[i], options=options)
            seeds[i] = None
        self.reward[mask] = 0.0
        self.terminated[mask] = False
        self.truncated[mask] = False

    def step_state(self, mask: np.ndarray, actions: Any) -> None:
        """Step the rows in ``mask``, one after another."""
        rows, obs, info = self.rows, self.row_obs, self.row_info
        reward, terminated, truncated = self.reward, self.terminated, self.truncated
        for i in self._all if mask is self._everyone else np.flatnonzero(mask):
            obs[i], reward[i], terminated[i], truncated[i], info[i] = rows[i].step(actions[i])

    def single_path(self) -> tuple[Any, ...]:
        """Row 0 stepped directly: ``step_state`` of one row, ``obs_row``/``info`` as list reads."""
        check = self.check_actions
        row, obs, info = self.rows[0], self.row_obs, self.row_info
        reward, terminated, truncated = self.reward, self.terminated, self.truncated

        def step(actions: Any, autoreset: int) -> None:  # the single shell's NO_AUTORESET
            obs[0], reward[0], terminated[0], truncated[0], info[0] = row.step(actions[0])

        return check, step, obs.__getitem__, info.__getitem__, reward, terminated, truncated

    def batch_obs(self) -> Any:
        """Every row's observation, concatenated as ``SyncVectorEnv`` does (a fresh copy)."""
        return deepcopy(concatenate(self.single_observation_space, self.row_obs, self._buffer))

    def obs_row(self, i: int) -> Any:
        """Row ``i``'s observation, the object the row returned (rows return fresh ones)."""
        return self.row_obs[i]

    def infos(self, mask: np.ndarray) -> dict[str, Any]:
        """The infos of the rows in ``mask``, batched by Gymnasium's rule."""
        batch: dict[str, Any] = {}
        for i in np.flatnonzero(mask):
            batch = self._batcher._add_info(batch, self.row_info[i], i)
        return batch

    def info(self, i: int) -> dict[str, Any]:
        """Row ``i``'s info, the dict the row returned."""
        return self.row_info[i]

    def render(self, i: int) -> Any:
        """Row ``i``'s frame."""
        return self.rows[i].render()

    def close(self) -> None:
        """Close every row."""
        for row in self.rows:
            row.close()


__all__ = ["EnvRowsCore"]
