"""The vector-env shell every native family uses: one core step per ``step`` call."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rewardgym.envs.action_policy import action_policy
from rewardgym.envs.native.checks import check_count, check_render_mode
from rewardgym.envs.native.core import NativeCore
from rewardgym.envs.native.masks import reset_mask
from rewardgym.envs.native.seeding import seed_list
from rewardgym.envs.native.shell import AUTORESET_CODES, SAME_STEP, parse_autoreset_mode


def check_vector_args(name: str, num_envs: Any, max_episode_steps: Any) -> int:
    """Validate the batch size and time limit every vector env takes; the batch size as int."""
    check_count(name, "num_envs", num_envs)
    check_count(name, "max_episode_steps", max_episode_steps, allow_none=True)
    return int(num_envs)


class NativeVectorEnv(VectorEnv):
    """A Gymnasium vector env over a :class:`~rewardgym.envs.native.core.NativeCore`.

    Sub-env ``i`` reset with seed ``s`` follows the trajectory of the family's single env reset
    with seed ``s + i`` (``SyncVectorEnv``'s rule), so ``make_vec(id, n,
    vectorization_mode="vector_entry_point")`` equals ``"sync"`` bit for bit. Autoreset is
    ``NEXT_STEP`` by default (Gymnasium's); ``SAME_STEP`` puts ``final_obs`` and ``final_info``
    in the infos (what SB3 needs); ``DISABLED`` leaves resets to
    ``reset(options={"reset_mask": mask})``. ``metadata["autoreset_mode"]`` says which. A family
    subclass validates its arguments (:func:`check_vector_args`), builds its core and calls
    ``super().__init__(core, render_mode, autoreset_mode)``.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> envs = gym.make_vec("rewardgym/HopperJump-v0", 2, autoreset_mode="same_step",
        ...                     vectorization_mode="vector_entry_point")
        >>> isinstance(envs, NativeVectorEnv), envs.metadata["autoreset_mode"].name
        (True, 'SAME_STEP')
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"],
                                "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, core: NativeCore, render_mode: str | None = None,
                 autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP) -> None:
        name = type(self).__name__
        mode = parse_autoreset_mode(autoreset_mode)
        check_render_mode(name, render_mode, self.metadata["render_modes"])
        self._core = core
        self.num_envs = n = core.num_envs
        self.render_mode = render_mode
        self.single_observation_space = core.single_observation_space
        self.single_action_space = core.single_action_space
        self.observation_space = batch_space(self.single_observation_space, n)
        self.action_space = batch_space(self.single_action_space, n)
        self.metadata = {**type(self).metadata, "autoreset_mode": mode,
                         "action_policy": action_policy(self.single_action_space)}
        self._autoreset = AUTORESET_CODES[mode]
        self._everyone = np.ones(n, dtype=np.bool_)
        self._seeded = np.zeros(n, dtype=np.bool_)

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else type(self).__name__ + self._core.label

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Reset all envs, or those in ``options["reset_mask"]``; int seeds go to env i as s+i."""
        super().reset(seed=seed if isinstance(seed, int | np.integer) else None)
        core = self._core
        mask = reset_mask(options, self.num_envs, self._name)
        core.seed_rows(mask, seed_list(seed, self.num_envs, self._name))
        self._seeded |= mask
        if options:
            rest = {key: value for key, value in options.items() if key != "reset_mask"}
            if rest:
                core.reset_options(rest)
        core.reset_rows(mask)
        return core.batch_obs(), core.infos(mask)

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """Step every env; raises ``ValueError`` naming the env for invalid actions."""
        if not self._seeded.all():
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        core = self._core
        core.step(core.check_actions(self._name, actions, self.num_envs), self._autoreset)
        infos = core.infos(self._everyone)
        if self._autoreset == SAME_STEP:
            done = core.done
            if done.any():
                # SyncVectorEnv's layout: the ended episodes' last observation and info, next
                # to the reset observation and reset info in their rows.
                rows = np.flatnonzero(done)
                final_obs = np.full(self.num_envs, None, dtype=object)
                for i, obs in zip(rows, core.final_obs(rows), strict=True):
                    final_obs[i] = obs
                infos["final_obs"], infos["_final_obs"] = final_obs, done.copy()
                infos["final_info"], infos["_final_info"] = core.final_infos(done), done.copy()
        return (core.batch_obs(), core.rewards.copy(), core.terminations.copy(),
                core.truncations.copy(), infos)

    def render(self) -> tuple[Any, ...] | None:
        """One frame per sub-env, as ``SyncVectorEnv.render`` returns them."""
        if self.render_mode is None:
            gym.logger.warn(f"{type(self).__name__}.render() called without a render_mode")
            return None
        return tuple(self._core.render(i) for i in range(self.num_envs))

    def close_extras(self, **kwargs: Any) -> None:
        """Release what rendering holds."""
        self._core.close()


__all__ = ["NativeVectorEnv", "check_vector_args"]
