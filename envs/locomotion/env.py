"""The single locomotion env: a Gymnasium shell over :class:`Core` with a batch of one."""

from __future__ import annotations

import dataclasses
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from rewardgym.envs.locomotion.config import LocomotionConfig
from rewardgym.envs.locomotion.core import OBS_BOUND, Core
from rewardgym.envs.locomotion.render import Camera


def check_actions(name: str, actions: Any, shape: tuple[int, ...], low: np.ndarray,
                  high: np.ndarray) -> np.ndarray:
    """Finite float actions of ``shape``, clipped to ``[low, high]``; ValueError naming ``name``.

    Clipping (rather than refusing) finite out-of-range actions is deliberate: Gaussian policies
    (SAC, PPO) emit them routinely and MuJoCo clamps controls to ``ctrlrange`` anyway; clipping
    first makes the control cost see what the motors got.
    """
    try:
        array = np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: action must be a float array of shape {shape}, "
                         f"got {actions!r}") from None
    if array.shape != shape:
        raise ValueError(f"{name}: action must have shape {shape}, got shape {array.shape} "
                         f"({actions!r})")
    finite = np.isfinite(array)
    if not finite.all():
        where = ""
        if array.ndim == 2:
            where = f" at env indices {np.flatnonzero(~finite.all(axis=1)).tolist()}"
        raise ValueError(f"{name}: action must be finite{where}, got {actions!r}")
    return np.clip(array, low, high)


class LocomotionEnv(gym.Env):
    """MuJoCo locomotion behaviours with machine-checkable success (Text2Reward, VLM-RM).

    ## Description
    Gymnasium's v5 MuJoCo robots (Hopper, HalfCheetah, Ant, Humanoid) on real MuJoCo physics,
    asked for behaviours no built-in reward describes: run backwards, back and front flips, jump,
    lie down, wave a leg, kneel, reach a goal. Text2Reward (Xie et al., ICLR 2024) and VLM-RM
    (Rocamonde et al., ICLR 2024) judged such behaviours by human raters; here each has a
    predicate (``rewardgym.envs.locomotion.tasks``) so reward designs can be compared on one
    success metric.

    ## Observation
    ``Box(-1e6, 1e6, (d,), float64)``: ``qpos`` without the horizontal root position, then
    ``qvel`` (Hopper clips it to +-10), as Gymnasium's v5 envs; the goal task appends the goal in
    the torso's heading frame (2 entries, m). Reward code reads the named feature view instead
    (:func:`rewardgym.envs.locomotion.features`).

    ## Action
    ``Box(ctrlrange)`` of the model's motors. Non-finite actions raise ``ValueError``; finite
    ones outside the box are clipped.

    ## Reward
    ``reward_mode="dense"``: the hand-written reference reward, its terms in
    ``info["reward_terms"]`` (they sum to the reward); ``"sparse"``: one ``success`` term.
    ``info["is_success"]`` is the task's predicate at every step.

    ## Episode end
    The goal task terminates on arrival; with ``fall_height > 0`` a torso below it terminates.
    A diverged simulation truncates with ``info["diverged"]``. Time limits come from the
    registry (``max_episode_steps``).

    ## Version history
    * v0: initial release.
    * v1 (HalfCheetah and Ant tasks only): reset ``qvel`` noise ``0.1 * standard_normal`` as
      HalfCheetah-v5 and Ant-v5 (v0: uniform in ±0.1). Hopper and Humanoid tasks stay v0.

    Example:
        >>> env = LocomotionEnv(task="hopper_jump")
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape, sorted(info["reward_terms"])
        ((11,), ['ctrl', 'rise', 'success', 'upright'])
        >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        >>> type(reward), info["is_success"], info["diverged"]
        (<class 'float'>, False, False)
    """

    # "clip": finite actions outside the action space are clipped, not refused (see check_actions
    # and envs/action_policy.py).
    metadata = {"render_modes": ["rgb_array"], "render_fps": 25, "action_policy": "clip"}

    def __init__(self, config: LocomotionConfig | None = None, render_mode: str | None = None,
                 width: int = 320, height: int = 240, **overrides: Any) -> None:
        base = LocomotionConfig() if config is None else config
        self.config = dataclasses.replace(base, **overrides)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"LocomotionEnv: render_mode {render_mode!r} not in "
                             f"{self.metadata['render_modes']}")
        self.render_mode = render_mode
        self._core = Core(self.config, 1)
        self.metadata = {**type(self).metadata, "render_fps": round(1.0 / self.config.dt)}
        model = self._core.model
        low = model.actuator_ctrlrange[:, 0].astype(np.float64)
        high = model.actuator_ctrlrange[:, 1].astype(np.float64)
        self.action_space = gym.spaces.Box(low, high, dtype=np.float64)
        self.observation_space = gym.spaces.Box(-OBS_BOUND, OBS_BOUND, (self._core.obs_dim,),
                                                dtype=np.float64)
        self._rows = np.ones(1, dtype=np.bool_)
        self._camera = Camera(self._core, width, height)
        self._needs_reset = True

    @property
    def _name(self) -> str:
        return self.spec.id if self.spec is not None else f"LocomotionEnv({self.config.task})"

    @property
    def model(self) -> Any:
        """The MuJoCo model (shared read-only by all envs of the robot in this process)."""
        return self._core.model

    @property
    def data(self) -> Any:
        """The MuJoCo data of this env."""
        return self._core.datas[0]

    def reset(self, *, seed: int | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset to the model's initial pose plus noise as Gymnasium v5 (and a new goal)."""
        super().reset(seed=seed)
        self._core.reset_rows(self._rows, [self.np_random])
        self._needs_reset = False
        return self._core.obs[0].copy(), self._core.info(0)

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        """Advance ``frame_skip`` physics steps; see the class docstring for the outputs."""
        core = self._core
        act = check_actions(self._name, action, self.action_space.shape, self.action_space.low,
                            self.action_space.high)
        if self._needs_reset:
            raise gym.error.ResetNeeded(f"{self._name}: call reset() before step() (after a "
                                        "diverged step too)")
        core.step_rows(self._rows, act[None, :])
        diverged = bool(core.diverged[0])
        self._needs_reset = diverged
        return (core.obs[0].copy(), float(core.reward[0]), bool(core.terminated[0]), diverged,
                core.info(0))

    def render(self) -> np.ndarray | None:
        """An RGB frame from a camera tracking the torso."""
        if self.render_mode is None:
            gym.logger.warn("LocomotionEnv.render() called without a render_mode")
            return None
        return self._camera.render(0)

    def close(self) -> None:
        """Free the renderer's GL context."""
        self._camera.close()
