"""The single-env shell every native family uses: a ``gym.Env`` over a core with one env."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from rewardgym.envs.action_policy import action_policy
from rewardgym.envs.native.checks import check_render_mode
from rewardgym.envs.native.core import NativeCore
from rewardgym.envs.native.modes import NO_AUTORESET


class NativeEnv(gym.Env):
    """A Gymnasium env over a :class:`~rewardgym.envs.native.core.NativeCore` of one env.

    Seeding (``reset(seed=s)`` restarts the env's stream; no seed continues it), the action
    policy of its space (``metadata["action_policy"]``), ``ResetNeeded`` before the first reset,
    Python scalars from ``step``, rendering and pickling are done here once; a family subclass
    builds its config and core and calls ``super().__init__(core, render_mode)``.

    Example:
        >>> from rewardgym.envs.locomotion import LocomotionEnv
        >>> env = LocomotionEnv(task="hopper_jump")
        >>> isinstance(env, NativeEnv), env.metadata["action_policy"]
        (True, 'clip')
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"]}

    def __init__(self, core: NativeCore, render_mode: str | None = None) -> None:
        check_render_mode(type(self).__name__, render_mode, self.metadata["render_modes"])
        self.render_mode = render_mode
        self._core = core
        self.observation_space = core.single_observation_space
        self.action_space = core.single_action_space
        self.metadata = {**type(self).metadata, "action_policy": action_policy(self.action_space)}
        self._one = np.ones(1, dtype=np.bool_)
        self._seeded = False
        self._hot: tuple[Any, ...] | None = None

    def __getstate__(self) -> dict[str, Any]:
        # The hot path holds bound methods and closures (which do not pickle) and views of the
        # core's buffers (RouteDrive's rewards are a column of its scalars buffer, which
        # pickling would copy apart), so it is dropped and bound again after loading.
        state = self.__dict__.copy()
        state["_hot"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if self._seeded:
            self._bind_hot()

    def _bind_hot(self) -> None:
        # What ``step`` calls and reads, bound once per reset: the core's single path (its
        # own methods and output arrays, or faster equivalents a family binds), the ``ready``
        # hook only where the family has one, and the env's name as of this reset.
        core = self._core
        ready = None if type(core).ready is NativeCore.ready else core.ready
        self._hot = (self._name, ready, *core.single_path())

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else type(self).__name__ + self._core.label

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        """Start an episode; ``seed`` restarts this env's random stream."""
        super().reset(seed=seed)
        core = self._core
        core.seed_rows(self._one, [seed])
        self._seeded = True
        if options:
            core.reset_options(options)
        core.reset_rows(self._one)
        self._bind_hot()
        return core.obs_row(0), core.info(0)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Apply one action; raises ``ValueError`` naming the env for an invalid action."""
        hot = self._hot
        if hot is None:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step()")
        name, ready, check, step, obs_row, info, rewards, terminations, truncations = hot
        actions = check(name, action, None)
        if ready is not None:
            ready(name)
        step(actions, NO_AUTORESET)
        # ``item`` gives the Python float and bools that ``float(a[0])``/``bool(a[0])`` give.
        return obs_row(0), rewards.item(0), terminations.item(0), truncations.item(0), info(0)

    def render(self) -> Any:
        """The env's frame (``render_mode`` must be set)."""
        if self.render_mode is None:
            gym.logger.warn(f"{type(self).__name__}.render() called without a render_mode; "
                            f"pass render_mode={self.metadata['render_modes'][0]!r} to gym.make")
            return None
        return self._core.render(0)

    def close(self) -> None:
        """Release what rendering holds."""
        self._core.close()


__all__ = ["NativeEnv"]
