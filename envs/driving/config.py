"""Configuration of RouteDrive: one flat, frozen, validated dataclass.

Defaults follow CaRL's CARLA settings (research notes ``carl_driving.md`` §1, §5) scaled to
short procedurally generated routes: a 10 Hz kinematic bicycle, IDM traffic, CaRL's hard and
soft infractions with CaRL's constants (overspeed 2.23 m/s, TTC ×0.5, comfort ``1 - 0.5·n/6``
over Savitzky–Golay-filtered metrics with one hold per metric), but penalties held for 50 ticks
(CaRL: 500) and ``blocked`` after 30 s (CaRL: 90 s). Every deliberate difference from CaRL is a
row of ``docs/fidelity.md``.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple

from rewardgym.envs.native.checks import config_failure

REWARD_MODES = ("carl", "roach", "progress", "sparse")
ACTION_MODES = ("continuous", "discrete")
OBS_MODES = ("vector", "bev")
SCENARIOS = ("mixed", "road", "intersection", "t_junction", "merge", "crossing")


class KernelParams(NamedTuple):
    """The configuration as plain scalars, the form numba kernels receive.

    Built by :meth:`DriveConfig.kernel_params`: a field named like a config field takes its
    value; the others are derived there (mode code, step counts, cosines, flags).
    """

    reward_mode: int
    num_npcs: int
    num_egos: int
    dt: float
    wheelbase: float
    car_length: float
    car_width: float
    max_steer: float
    steer_rate: float
    max_accel: float
    max_brake: float
    max_speed: float
    init_speed_frac: float
    idm_accel: float
    idm_decel: float
    idm_headway: float
    idm_min_gap: float
    npc_speed_min: float
    npc_speed_max: float
    reckless_prob: float
    green_min_s: float
    green_max_s: float
    yellow_s: float
    off_route_m: float
    wrong_way_cos: float
    wrong_way_steps: int
    blocked_speed: float
    blocked_steps: int
    off_road_corners: int
    min_timeout_steps: int
    timeout_factor: float
    timeout_is_terminal: bool
    route_done_pct: float
    overspeed_margin: float
    ttc_factor: float
    ttc_hold_steps: int
    comfort_weight: float
    comfort_hold_steps: int
    lon_accel_min: float
    lon_accel_max: float
    lat_accel_max: float
    jerk_max: float
    lon_jerk_max: float
    yaw_rate_max: float
    yaw_accel_max: float
    terminal_penalty: float
    roach_vmax: float
    bev: bool
    bev_size: int
    value_features: bool
    time_limit: int  # extra truncation limit in steps (0: none), e.g. make_vec's max_episode_steps


_fail = config_failure("DriveConfig")


@dataclasses.dataclass(frozen=True, kw_only=True)
class DriveConfig:
    """A RouteDrive task: its world, dynamics, infraction thresholds and reward.

    Attributes:
        reward_mode: ``"carl"`` (ΔRC × soft factors + terminal penalty), ``"roach"`` (Roach's
            summed reward as CaRL reproduced it, −1 on every episode end, truncation
            included), ``"progress"`` (raw ΔRC, for the generic
            ``InfractionPenalty`` wrapper) or ``"sparse"`` (100 on finishing the route).
        action_mode: ``"continuous"`` (``Box([-1, 1]^2)`` = steer, accel) or ``"discrete"``
            (15 actions: 5 steering levels × brake / coast / accelerate).
        obs_mode: ``"vector"`` or ``"bev"`` (adds an ego-centric ``uint8`` raster).
        scenario: road template family: ``"mixed"`` or one of ``road``, ``intersection``,
            ``t_junction``, ``merge``, ``crossing`` (one route per arm of a 4-way junction, for
            several egos; ``mixed`` leaves it out).
        num_templates: size of the scenario bank, built once from ``map_seed``.
        map_seed: seed of the scenario bank (episodes draw from the bank with the env's seed).
        num_npcs: traffic cars per world (0–16).
        num_egos: controlled cars per world (1 for the Gymnasium envs).
        dt: seconds per step (CaRL: 0.1).
        wheelbase, car_length, car_width: car geometry in metres (all cars share it).
        max_steer: steering angle in radians at action 1; ``steer_rate``: its rate limit (rad/s).
        max_accel, max_brake: m/s² at accel action +1 / -1; ``max_speed``: m/s (no reverse).
        init_speed_frac: the ego starts at a uniform fraction in [0, this] of the speed limit
            (default 0: from rest, so a policy that does nothing completes nothing).
        idm_accel, idm_decel, idm_headway, idm_min_gap: the traffic's IDM parameters
            (Treiber et al. 2000; a, b, T, s0); the exponent is 4.
        npc_speed_min, npc_speed_max: traffic's desired speed as a fraction of the speed limit.
        reckless_prob: chance that a traffic car ignores red lights.
        green_min_s, green_max_s, yellow_s: traffic-light phase lengths in seconds.
        off_route_m: lateral distance from the route that ends the episode.
        wrong_way_deg, wrong_way_s: heading error and how long it must last to end the episode.
        blocked_speed, blocked_s: below this speed for this long ends the episode.
        off_road_corners: how many of the 4 corners off the road end the episode.
        min_timeout_s, timeout_factor: time limit ``max(min_timeout_s, factor·L/v_limit)``.
        timeout_is_terminal: end timed-out episodes as terminated (CaRL) instead of truncated.
        route_done_pct: route completion (%) that finishes the route.
        overspeed_margin: m/s over the limit at which the speeding factor reaches 0 (nuPlan).
        ttc_factor, ttc_hold_steps: time-to-collision factor and how long it is held (the
            violating step included; 0: that step only).
        comfort_weight, comfort_hold_steps: comfort factor ``1 - w·n/6``, ``n`` the comfort
            metrics violated within the last ``comfort_hold_steps`` steps (each metric has its
            own countdown, as CaRL's ``comfort_penalty_ticks``; 0 disables the factor).
        lon_accel_min, lon_accel_max, lat_accel_max, jerk_max, lon_jerk_max, yaw_rate_max,
            yaw_accel_max: comfort bounds (defaults: CaRL's wide CARLA bounds).
        terminal_penalty: CaRL's ``T``: subtracted on collision and on red-light running.
        roach_vmax: Roach's maximum desired speed (m/s).
        bev_size: side of the BEV raster in pixels (1 px per metre).
        value_features: append the timers the reward depends on (CaRL's value measurements).
    """

    reward_mode: str = "carl"
    action_mode: str = "continuous"
    obs_mode: str = "vector"
    scenario: str = "mixed"
    num_templates: int = 64
    map_seed: int = 0
    num_npcs: int = 6
    num_egos: int = 1
    dt: float = 0.1
    wheelbase: float = 2.7
    car_length: float = 4.6
    car_width: float = 1.9
    max_steer: float = 0.6
    steer_rate: float = 2.0
    max_accel: float = 3.0
    max_brake: float = 6.0
    max_speed: float = 25.0
    init_speed_frac: float = 0.0
    idm_accel: float = 1.5
    idm_decel: float = 2.0
    idm_headway: float = 1.2
    idm_min_gap: float = 2.0
    npc_speed_min: float = 0.6
    npc_speed_max: float = 1.0
    reckless_prob: float = 0.1
    green_min_s: float = 10.0
    green_max_s: float = 20.0
    yellow_s: float = 3.0
    off_route_m: float = 6.0
    wrong_way_deg: float = 135.0
    wrong_way_s: float = 1.0
    blocked_speed: float = 0.1
    blocked_s: float = 30.0
    off_road_corners: int = 3
    min_timeout_s: float = 60.0
    timeout_factor: float = 3.0
    timeout_is_terminal: bool = False
    route_done_pct: float = 99.0
    overspeed_margin: float = 2.23
    ttc_factor: float = 0.5
    ttc_hold_steps: int = 50
    comfort_weight: float = 0.5
    comfort_hold_steps: int = 50
    lon_accel_min: float = -20.0
    lon_accel_max: float = 10.0
    lat_accel_max: float = 9.0
    jerk_max: float = 30.0
    lon_jerk_max: float = 30.0
    yaw_rate_max: float = 1.0
    yaw_accel_max: float = 3.0
    terminal_penalty: float = 1.0
    roach_vmax: float = 6.0
    bev_size: int = 48
    value_features: bool = True

    def __post_init__(self) -> None:
        choices = {"reward_mode": REWARD_MODES, "action_mode": ACTION_MODES,
                   "obs_mode": OBS_MODES, "scenario": SCENARIOS}
        for name, options in choices.items():
            if getattr(self, name) not in options:
                _fail(name, f"one of {options}", getattr(self, name))
        ints = {"num_templates": (1, 4096), "num_npcs": (0, 16), "num_egos": (1, 8),
                "off_road_corners": (1, 4), "ttc_hold_steps": (0, 100_000),
                "comfort_hold_steps": (0, 100_000), "bev_size": (8, 256), "map_seed": (0, 2**62)}
        for name, (low, high) in ints.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                _fail(name, f"an int in [{low}, {high}]", value)
        positive = ("dt", "wheelbase", "car_length", "car_width", "max_steer", "steer_rate",
                    "max_accel", "max_brake", "max_speed", "idm_accel", "idm_decel",
                    "idm_headway", "idm_min_gap", "green_min_s", "yellow_s", "off_route_m",
                    "wrong_way_s", "blocked_s", "min_timeout_s", "timeout_factor",
                    "overspeed_margin", "lon_accel_max", "lat_accel_max", "jerk_max",
                    "lon_jerk_max", "yaw_rate_max", "yaw_accel_max", "roach_vmax")
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                _fail(name, "a finite number > 0", value)
        fractions = ("init_speed_frac", "reckless_prob", "ttc_factor", "comfort_weight",
                     "npc_speed_min", "npc_speed_max")
        for name in fractions:
            value = getattr(self, name)
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                _fail(name, "a number in [0, 1]", value)
        if self.num_egos > 1 and self.scenario != "crossing":
            _fail("num_egos", "1 unless scenario='crossing' (one route per junction arm)",
                  self.num_egos)
        if self.npc_speed_min > self.npc_speed_max:
            _fail("npc_speed_min", f"<= npc_speed_max ({self.npc_speed_max})", self.npc_speed_min)
        if self.green_max_s < self.green_min_s:
            _fail("green_max_s", f">= green_min_s ({self.green_min_s})", self.green_max_s)
        if not 90.0 <= self.wrong_way_deg < 180.0:
            _fail("wrong_way_deg", "degrees in [90, 180)", self.wrong_way_deg)
        if not 0.0 < self.route_done_pct <= 100.0:
            _fail("route_done_pct", "a percentage in (0, 100]", self.route_done_pct)
        if not self.lon_accel_min < 0.0:
            _fail("lon_accel_min", "a number < 0", self.lon_accel_min)
        if not 0.0 <= self.blocked_speed < self.max_speed:
            _fail("blocked_speed", f"a speed in [0, max_speed={self.max_speed})",
                  self.blocked_speed)
        if not 0.0 <= self.terminal_penalty <= 100.0:
            _fail("terminal_penalty", "a number in [0, 100]", self.terminal_penalty)

    @property
    def num_actions(self) -> int:
        """Size of the discrete action set (5 steering levels × 3 accelerations)."""
        return 15

    def kernel_params(self, max_episode_steps: int | None = None) -> KernelParams:
        """The scalars the kernels read; ``max_episode_steps`` adds a truncation limit."""
        steps = int(max_episode_steps) if max_episode_steps is not None else 0
        # The fields KernelParams shares with the config are copied by name; these differ.
        derived = {
            "reward_mode": REWARD_MODES.index(self.reward_mode),
            "wrong_way_cos": math.cos(math.radians(self.wrong_way_deg)),
            "wrong_way_steps": max(1, round(self.wrong_way_s / self.dt)),
            "blocked_steps": max(1, round(self.blocked_s / self.dt)),
            "min_timeout_steps": max(1, round(self.min_timeout_s / self.dt)),
            "bev": self.obs_mode == "bev",
            "time_limit": steps,
        }
        return KernelParams(**{name: derived[name] if name in derived else getattr(self, name)
                               for name in KernelParams._fields})
