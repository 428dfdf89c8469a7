"""The single locomotion env: the kit's single shell over :class:`Core` with a batch of one."""

from __future__ import annotations

import dataclasses
from typing import Any

from rewardgym.envs.locomotion.config import LocomotionConfig
from rewardgym.envs.locomotion.core import Core
from rewardgym.envs.native.single import NativeEnv


class LocomotionEnv(NativeEnv):
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

    # "clip": finite actions outside the action space are clipped, not refused (see
    # Core.check_actions and envs/action_policy.py).
    metadata = {"render_modes": ["rgb_array"], "render_fps": 25, "action_policy": "clip"}

    def __init__(self, config: LocomotionConfig | None = None, render_mode: str | None = None,
                 width: int = 320, height: int = 240, **overrides: Any) -> None:
        base = LocomotionConfig() if config is None else config
        self.config = dataclasses.replace(base, **overrides)
        super().__init__(Core(self.config, 1, width=width, height=height), render_mode)
        self.metadata["render_fps"] = round(1.0 / self.config.dt)

    @property
    def model(self) -> Any:
        """The MuJoCo model (shared read-only by all envs of the robot in this process)."""
        return self._core.model

    @property
    def data(self) -> Any:
        """The MuJoCo data of this env."""
        return self._core.datas[0]
