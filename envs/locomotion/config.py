"""Configuration of the locomotion tasks: one flat, frozen, validated dataclass.

Every success threshold is a field, so a study can tighten or relax a predicate without a new
task; the registered ids fix the defaults below, chosen so that a uniformly random policy
essentially never succeeds while the intended behaviour clearly does (both are tested).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from rewardgym.envs.locomotion.robots import ROBOTS, Robot, load_model
from rewardgym.envs.native.checks import config_failure


class Task(NamedTuple):
    """A behaviour: the robot it runs on, its kernel code and its reward term names."""

    robot: str
    code: int
    terms: tuple[str, ...]
    has_goal: bool = False


# Term names in the order the task kernel writes them; the reward is their sum in this order.
TASKS: dict[str, Task] = {
    "half_cheetah_backward": Task("half_cheetah", 0, ("backward", "ctrl")),
    "hopper_back_flip": Task("hopper", 1, ("rotation", "landing", "success", "ctrl")),
    "hopper_front_flip": Task("hopper", 2, ("rotation", "landing", "success", "ctrl")),
    "hopper_jump": Task("hopper", 3, ("rise", "upright", "success", "ctrl")),
    "ant_lie_down": Task("ant", 4, ("low", "upright", "success", "ctrl")),
    "ant_wave_leg": Task("ant", 5, ("lift", "swing", "upright", "success", "ctrl")),
    "humanoid_kneel": Task("humanoid", 6, ("knees", "upright", "height", "success", "ctrl")),
    "ant_goal": Task("ant", 7, ("progress", "arrival", "ctrl"), has_goal=True),
}
SPARSE_TERMS = ("success",)
REWARD_MODES = ("dense", "sparse")

# Indices of the kernel parameter vector (LocomotionConfig.kernel_params).
P_CTRL, P_SPEED, P_WINDOW, P_FLIP, P_UPRIGHT, P_LAND_HOLD, P_JUMP, P_LIE_Z, P_LIE_UP = range(9)
P_HOLD, P_WAVE_Z, P_WAVES, P_KNEE_Z, P_KNEEL_UP, P_KNEEL_Z, P_GOAL_R, P_FALL_Z, P_DT = range(9, 18)
P_SPARSE, P_ARRIVAL, P_LIE_WITHIN = 18, 19, 20
N_PARAMS = 21


_fail = config_failure("LocomotionConfig")


@dataclass(frozen=True, kw_only=True)
class LocomotionConfig:
    """Task, reward mode and success thresholds of a locomotion env.

    Attributes:
        task: A key of :data:`TASKS`.
        reward_mode: ``"dense"`` (the hand-written reference reward) or ``"sparse"`` (1 when the
            success predicate is reached, see the env docstring).
        ctrl_cost_weight: Weight of the ``-|a|^2`` control cost in the dense reward.
        backward_speed: HalfCheetahBackward: mean backward speed (m/s) needed over the window.
        speed_window: HalfCheetahBackward: window of the mean speed (steps).
        flip_angle: Hopper flips: accumulated pitch (rad) that counts as a full rotation.
        upright_cos: Hopper flips: ``cos(pitch)`` at least this after the flip to count as
            upright (0.9 is about 26 degrees of tilt).
        land_hold_steps: Hopper flips: steps the landed, upright pose must be held.
        jump_height: HopperJump: torso height (m) the apex must reach (standing is 1.25).
        lie_height: AntLieDown: torso height (m) at most.
        lie_up_z: AntLieDown: z of the torso's up axis at least (top side up).
        hold_steps: AntLieDown and HumanoidKneel: steps the pose must be held.
        lie_within: AntLieDown: the held lying pose must begin within this many steps of the
            reset; 0 puts no limit (v1). With no limit, doing nothing succeeds: with zero torque
            the ant settles to a torso height of ~0.38 m, top side up, tens of steps in.
        wave_height: AntWaveLeg: front-left foot height (m) that counts as raised.
        wave_count: AntWaveLeg: raises (up-crossings of ``wave_height``) needed.
        knee_height: HumanoidKneel: both knee heights (m) at most.
        kneel_up_z: HumanoidKneel: z of the torso's up axis at least.
        kneel_min_height: HumanoidKneel: torso height (m) at least (kneeling, not lying).
        goal_min_distance: AntGoal: smallest distance (m) of a sampled goal.
        goal_max_distance: AntGoal: largest distance (m) of a sampled goal.
        goal_radius: AntGoal: arrival radius (m).
        arrival_bonus: AntGoal dense reward on arrival (the sparse reward is 1).
        fall_height: Terminate when the torso is below this height (m); 0 never terminates.

    Example:
        >>> cfg = LocomotionConfig(task="hopper_jump", jump_height=1.7)
        >>> cfg.robot.name, cfg.dt
        ('hopper', 0.008)
        >>> try:
        ...     LocomotionConfig(task="hopper_jump", reward_mode="shaped")
        ... except ValueError as err:
        ...     print(err)
        LocomotionConfig.reward_mode: expected one of ('dense', 'sparse'), got 'shaped'
    """

    task: str = "half_cheetah_backward"
    reward_mode: str = "dense"
    ctrl_cost_weight: float = 0.1
    backward_speed: float = 2.0
    speed_window: int = 100
    flip_angle: float = 2.0 * math.pi
    upright_cos: float = 0.9
    land_hold_steps: int = 10
    jump_height: float = 1.4
    lie_height: float = 0.4
    lie_up_z: float = 0.9
    hold_steps: int = 20
    lie_within: int = 0
    wave_height: float = 0.15
    wave_count: int = 3
    knee_height: float = 0.15
    kneel_up_z: float = 0.8
    kneel_min_height: float = 0.6
    goal_min_distance: float = 2.0
    goal_max_distance: float = 3.0
    goal_radius: float = 0.5
    arrival_bonus: float = 10.0
    fall_height: float = 0.0

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            _fail("task", f"one of {tuple(TASKS)}", self.task)
        if self.reward_mode not in REWARD_MODES:
            _fail("reward_mode", f"one of {REWARD_MODES}", self.reward_mode)
        for name in ("speed_window", "land_hold_steps", "hold_steps", "wave_count"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _fail(name, "an int >= 1", value)
        if isinstance(self.lie_within, bool) or not isinstance(self.lie_within, int) \
                or self.lie_within < 0:
            _fail("lie_within", "an int >= 0 (0: no limit)", self.lie_within)
        for name in ("ctrl_cost_weight", "backward_speed", "flip_angle", "jump_height",
                     "lie_height", "wave_height", "knee_height", "kneel_min_height",
                     "goal_min_distance", "goal_radius", "arrival_bonus", "fall_height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not math.isfinite(value) or value < 0:
                _fail(name, "a finite number >= 0", value)
        for name in ("upright_cos", "lie_up_z", "kneel_up_z"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) \
                    or not -1.0 <= value <= 1.0:
                _fail(name, "a number in [-1, 1]", value)
        if not self.goal_max_distance >= self.goal_min_distance:
            _fail("goal_max_distance", f">= goal_min_distance={self.goal_min_distance}",
                  self.goal_max_distance)

    @property
    def spec(self) -> Task:
        """The :class:`Task` row of :attr:`task`."""
        return TASKS[self.task]

    @property
    def robot(self) -> Robot:
        """The :class:`~rewardgym.envs.locomotion.robots.Robot` the task runs on."""
        return ROBOTS[self.spec.robot]

    @property
    def dt(self) -> float:
        """Seconds per env step (``frame_skip`` times the model's timestep)."""
        return round(self.robot.frame_skip * float(load_model(self.robot.name).opt.timestep), 12)

    @property
    def terms(self) -> tuple[str, ...]:
        """Names of ``info["reward_terms"]`` (their sum is the reward)."""
        return SPARSE_TERMS if self.reward_mode == "sparse" else self.spec.terms

    def kernel_params(self) -> list[float]:
        """The thresholds as one float vector, indexed by the ``P_*`` constants."""
        p = [0.0] * N_PARAMS
        p[P_CTRL], p[P_SPEED], p[P_WINDOW] = self.ctrl_cost_weight, self.backward_speed, \
            self.speed_window
        p[P_FLIP], p[P_UPRIGHT], p[P_LAND_HOLD] = self.flip_angle, self.upright_cos, \
            self.land_hold_steps
        p[P_JUMP], p[P_LIE_Z], p[P_LIE_UP], p[P_HOLD] = self.jump_height, self.lie_height, \
            self.lie_up_z, self.hold_steps
        p[P_WAVE_Z], p[P_WAVES] = self.wave_height, self.wave_count
        p[P_KNEE_Z], p[P_KNEEL_UP], p[P_KNEEL_Z] = self.knee_height, self.kneel_up_z, \
            self.kneel_min_height
        p[P_GOAL_R], p[P_FALL_Z], p[P_DT] = self.goal_radius, self.fall_height, self.dt
        p[P_SPARSE], p[P_ARRIVAL] = float(self.reward_mode == "sparse"), self.arrival_bonus
        p[P_LIE_WITHIN] = self.lie_within
        return p
