"""The reward-program view of a RouteDrive state: named, unit-annotated, fixed indices.

The driving counterpart of ``rewardgym.envs.locomotion.view`` and ``rewardgym.envs.grid.view``
(the shared form of :mod:`rewardgym.envs.native.view`): one float64 row per ego car, filled for
a whole batch by one numba kernel (:func:`compute_features`) from the world state and the last
step's outputs. Reward programs (hand-written or LLM-written), success predicates and potentials
read ONLY this row, by name (``view.lead_gap``) or by fixed index (numba). The env's own reward
modes (:mod:`rewardgym.envs.driving.rewards`) are functions of the same quantities: progress,
the infraction signals, speed, target speed, lateral and heading error.

Row layout (:data:`FEATURES`): ego speed, speed limit and Roach's hazard-lowered target speed;
acceleration and steering; route completion, this step's progress and the route left; lateral
and heading error to the route; distance to the nearest lane centre; the car ahead in the ego's
lane (gap, speed, time to collision); the nearest car (distance, time to collision); the next
traffic light (one-hot state, distance, time to change); every infraction signal of the last
step (``state.SIGNALS``, the same names and values as ``info``); the TTC hold, blocked time, time
left and driving score. After a reset the signals and the progress are 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from rewardgym.envs.driving.infractions import lane_centre_distance
from rewardgym.envs.driving.maps import LANE_WIDTH, MAX_STOPS
from rewardgym.envs.driving.rewards import roach_target_speed
from rewardgym.envs.driving.state import (
    E_ACC,
    E_BLOCKED,
    E_COS,
    E_LAT,
    E_PSI,
    E_RCMAX,
    E_ROUTE,
    E_S,
    E_SEG,
    E_SIN,
    E_STEER,
    E_TTC_CD,
    E_V,
    E_X,
    E_Y,
    OUT_PROGRESS,
    OUT_SCORE,
    SENSE_RANGE,
    SIGNALS,
    W_GREEN,
    W_LIMIT,
    W_PHASE0,
    W_T,
    W_TMPL,
)
from rewardgym.envs.driving.traffic import light_state, other_actor, world_lights
from rewardgym.envs.native.view import FeatureRows, ViewLayout

TTC_CAP = 10.0  # s: times to collision are capped here (and read this when nothing closes in)
LIGHT_RANGE = 100.0  # m: the light distance reads this when no stop line is ahead
OFF_MAP = 100.0  # m: the lane-centre distance reads this off the map

_SIGNAL_DOCS = {
    "collision": ("0/1", "the ego's box overlapped another car this step (ends the episode)"),
    "red_light": ("0/1", "the front bumper crossed a stop line on red this step (ends it)"),
    "off_road": ("0/1", "enough box corners left the road (ends the episode)"),
    "off_route": ("0/1", "farther than off_route_m from the route (ends the episode)"),
    "wrong_way": ("0/1", "heading against the route for wrong_way_s (ends the episode)"),
    "blocked": ("0/1", "below blocked_speed for blocked_s (ends the episode)"),
    "speeding": ("0-1", "overspeed severity: (speed - limit) / overspeed_margin, clipped"),
    "ttc": ("0/1", "a constant-velocity forecast (0.1-0.9 s) overlaps another car"),
    "comfort": ("0-1", "share of CaRL's 6 comfort metrics (filtered accel, jerk, yaw rate and"
                       " accel) now out of bounds or held"),
    "lane_center": ("0-1", "lane-centre distance / half a lane width, clipped (0 in junctions)"),
    "outside_route_lanes": ("0/1", "the ego's centre is outside the route's lanes"),
    "timeout": ("0/1", "the route's time limit was reached (truncates)"),
    "route_done": ("0/1", "the route is finished (terminates; success)"),
}

# (name, unit, meaning); every feature is one float.
FEATURES: tuple[tuple[str, str, str], ...] = (
    ("speed", "m/s", "ego speed (never negative: no reverse)"),
    ("speed_limit", "m/s", "speed limit of the route where the ego is"),
    ("target_speed", "m/s", "Roach's desired speed: roach_vmax, lowered within 9.5 m of a car "
                            "ahead or 18 m of a red/yellow stop line"),
    ("accel", "m/s^2", "longitudinal acceleration over the last step"),
    ("steer", "rad", "front-wheel steering angle (left +)"),
    ("route_completion", "%", "best route completion so far (0-100)"),
    ("progress", "% points", "route completion gained by the last step (0 after a reset)"),
    ("route_left", "m", "route length left to drive"),
    ("lateral_error", "m", "offset from the route's centre line (left +)"),
    ("heading_error", "rad", "heading minus the route's direction, in (-pi, pi]"),
    ("lane_centre_distance", "m", "distance to the nearest lane's centre line (-1 in a "
                                  f"junction, {OFF_MAP:g} off the map)"),
    ("lead_gap", "m", "bumper-to-bumper gap to the nearest car ahead in the ego's lane "
                      f"({SENSE_RANGE:g} when none within {SENSE_RANGE:g} m)"),
    ("lead_speed", "m/s", "that car's speed along the ego's heading (0 when none)"),
    ("lead_ttc", "s", f"lead_gap / closing speed ({TTC_CAP:g} when not closing in or none)"),
    ("nearest_distance", "m", f"centre-to-centre distance to the nearest other car "
                              f"({SENSE_RANGE:g} when none within {SENSE_RANGE:g} m)"),
    ("nearest_ttc", "s", "least time until a car's centre comes within a car length at the "
                         f"current velocities ({TTC_CAP:g} when none closes in)"),
    ("light_red", "0/1", "the next stop line on the route has a red light"),
    ("light_yellow", "0/1", "the next stop line on the route has a yellow light"),
    ("light_green", "0/1", "the next stop line on the route has a green light"),
    ("light_distance", "m", "front bumper to the next stop line "
                            f"({LIGHT_RANGE:g} when none is ahead)"),
    ("light_time_left", "s", "seconds until that light changes (0 when none is ahead)"),
    *((name, *_SIGNAL_DOCS[name]) for name in SIGNALS),
    ("ttc_hold_left", "steps", "steps the TTC penalty is still held for"),
    ("blocked_time", "s", "time the ego has been below the blocked speed"),
    ("time_left", "s", "time until the route's time limit"),
    ("driving_score", "%", "leaderboard driving score so far: RC x penalties x share in lanes"),
)
LAYOUT = ViewLayout.scalars(FEATURES)
SIZE = LAYOUT.size
INDEX = LAYOUT.index()
(SPEED, SPEED_LIMIT, TARGET_SPEED, ACCEL, STEER, ROUTE_COMPLETION, PROGRESS, ROUTE_LEFT,
 LATERAL_ERROR, HEADING_ERROR, LANE_CENTRE_DISTANCE, LEAD_GAP, LEAD_SPEED, LEAD_TTC,
 NEAREST_DISTANCE, NEAREST_TTC, LIGHT_RED, LIGHT_YELLOW, LIGHT_GREEN, LIGHT_DISTANCE,
 LIGHT_TIME_LEFT) = range(21)
SIGNAL0 = INDEX[SIGNALS[0]]  # the signals follow in state.SIGNALS order
TTC_HOLD_LEFT, BLOCKED_TIME, TIME_LEFT, DRIVING_SCORE = range(SIGNAL0 + len(SIGNALS), SIZE)
if INDEX["light_time_left"] != LIGHT_TIME_LEFT or INDEX["driving_score"] != DRIVING_SCORE:
    raise ValueError("driving view: the index constants do not match FEATURES")


# Every feature: what the full view computes (a frozen global of the compiled kernels).
_ALL = np.ones(SIZE, dtype=np.bool_)


@njit(cache=True)
def compute_features(bank, wd, p, signals, scalars, out):
    """Fill ``out[w * E + e]`` (layout :data:`FEATURES`) for every ego of every world.

    ``signals`` and ``scalars`` are the last step's output rows (``StepOut``).
    """
    compute_needed(bank, wd, p, signals, scalars, _ALL, out)


@njit(cache=True)
def compute_needed(bank, wd, p, signals, scalars, need, out):
    """:func:`compute_features` for the columns where ``need`` is True only (others untouched).

    The wrappers' reader (``rewardgym.wrappers.llm.views``) asks for a program's features: the
    scan over the other cars, Roach's target speed, the lane-centre search and the light are
    skipped when no asked feature depends on them, and only asked columns are written (a
    column-major ``out`` then costs a few contiguous columns per step, not every row).
    """
    ef, ei, nf, ni, wi = wd.ef, wd.ei, wd.nf, wd.ni, wd.wi
    num_egos = ef.shape[1]
    k_npc = nf.shape[1]
    need_lead = need[LEAD_GAP] or need[LEAD_SPEED] or need[LEAD_TTC]
    need_near = need[NEAREST_DISTANCE] or need[NEAREST_TTC]
    need_lights = need[LIGHT_RED] or need[LIGHT_YELLOW] or need[LIGHT_GREEN] or \
        need[LIGHT_DISTANCE] or need[LIGHT_TIME_LEFT]
    for w in range(ef.shape[0]):
        tm = wi[w, W_TMPL]
        for e in range(num_egos):
            k = w * num_egos + e
            r = ei[w, e, E_ROUTE]
            x, y, v = ef[w, e, E_X], ef[w, e, E_Y], ef[w, e, E_V]
            c, s = ef[w, e, E_COS], ef[w, e, E_SIN]
            if need[SPEED]:
                out[k, SPEED] = v
            if need[SPEED_LIMIT]:
                out[k, SPEED_LIMIT] = bank.route_vlim[tm, r, ei[w, e, E_SEG]]
            if need[TARGET_SPEED]:
                # The lights' phase is a float modulo each: only computed when asked for.
                light0, light1 = world_lights(bank, wd, p, w)
                out[k, TARGET_SPEED] = roach_target_speed(bank, wd, p, w, e, light0, light1)
            if need[ACCEL]:
                out[k, ACCEL] = ef[w, e, E_ACC]
            if need[STEER]:
                out[k, STEER] = ef[w, e, E_STEER]
            if need[ROUTE_COMPLETION]:
                out[k, ROUTE_COMPLETION] = ef[w, e, E_RCMAX]
            if need[PROGRESS]:
                out[k, PROGRESS] = scalars[k, OUT_PROGRESS]
            if need[ROUTE_LEFT]:
                end = bank.route_s[tm, r, bank.route_n[tm, r] - 1]
                out[k, ROUTE_LEFT] = max(end - ef[w, e, E_S], 0.0)
            if need[LATERAL_ERROR]:
                out[k, LATERAL_ERROR] = ef[w, e, E_LAT]
            if need[HEADING_ERROR]:
                out[k, HEADING_ERROR] = ef[w, e, E_PSI]
            if need[LANE_CENTRE_DISTANCE]:
                out[k, LANE_CENTRE_DISTANCE] = min(lane_centre_distance(
                    bank.near_lane, bank.near_seg, bank.lane_xy, bank.lane_n, bank.lane_junction,
                    bank.origin, tm, x, y), OFF_MAP)
            if need_lead or need_near:
                lead_gap, lead_v, near, near_ttc = SENSE_RANGE, 0.0, SENSE_RANGE, TTC_CAP
                for j in range(k_npc + num_egos):
                    if j == k_npc + e:
                        continue
                    active, ox, oy, ov, oc, os = other_actor(ef, ei, nf, ni, w, j, k_npc)
                    if not active:
                        continue
                    rx, ry = ox - x, oy - y
                    if need_lead:
                        ahead = rx * c + ry * s
                        side = -rx * s + ry * c
                        aligned = oc * c + os * s
                        if ahead > 0.0 and abs(side) < 0.5 * LANE_WIDTH and aligned > 0.0:
                            gap = max(ahead - p.car_length, 0.0)
                            if gap < lead_gap:
                                lead_gap, lead_v = gap, ov * aligned
                    if need_near:
                        d = math.sqrt(rx * rx + ry * ry)
                        near = min(near, d)
                        closing = -(rx * (ov * oc - v * c) + ry * (ov * os - v * s)) / max(d,
                                                                                          1e-9)
                        if closing > 0.0:
                            near_ttc = min(near_ttc, max(d - p.car_length, 0.0) / closing)
                if need[LEAD_GAP]:
                    out[k, LEAD_GAP] = lead_gap
                if need[LEAD_SPEED]:
                    out[k, LEAD_SPEED] = lead_v
                if need[LEAD_TTC]:
                    out[k, LEAD_TTC] = min(lead_gap / (v - lead_v), TTC_CAP) \
                        if v - lead_v > 1e-9 else TTC_CAP
                if need[NEAREST_DISTANCE]:
                    out[k, NEAREST_DISTANCE] = near
                if need[NEAREST_TTC]:
                    out[k, NEAREST_TTC] = near_ttc
            if need_lights:
                state, left, distance = -1, 0.0, LIGHT_RANGE
                front = ef[w, e, E_S] + 0.5 * p.car_length
                for m in range(MAX_STOPS):
                    stop = bank.route_stop_s[tm, r, m]
                    if stop >= 0.0 and stop >= front - 1.0:
                        state, left = light_state(wi[w, W_T], p.dt, wd.wf[w, W_GREEN],
                                                  wd.wf[w, W_PHASE0], p.yellow_s,
                                                  bank.route_stop_group[tm, r, m])
                        distance = min(max(stop - front, 0.0), LIGHT_RANGE)
                        break
                for j in range(3):
                    if need[LIGHT_RED + j]:
                        out[k, LIGHT_RED + j] = 1.0 if state == j else 0.0
                if need[LIGHT_DISTANCE]:
                    out[k, LIGHT_DISTANCE] = distance
                if need[LIGHT_TIME_LEFT]:
                    out[k, LIGHT_TIME_LEFT] = left
            for j in range(signals.shape[1]):
                if need[SIGNAL0 + j]:
                    out[k, SIGNAL0 + j] = signals[k, j]
            if need[TTC_HOLD_LEFT]:
                out[k, TTC_HOLD_LEFT] = ei[w, e, E_TTC_CD]
            if need[BLOCKED_TIME]:
                out[k, BLOCKED_TIME] = ei[w, e, E_BLOCKED] * p.dt
            if need[TIME_LEFT]:
                out[k, TIME_LEFT] = max(wi[w, W_LIMIT] - wi[w, W_T], 0) * p.dt
            if need[DRIVING_SCORE]:
                out[k, DRIVING_SCORE] = scalars[k, OUT_SCORE]


def _rows(env: Any) -> np.ndarray:
    base = env.unwrapped
    out = base._out
    rows = np.empty((out.scalars.shape[0], SIZE))
    compute_features(base._bank, base._world, base._params, out.signals, out.scalars, rows)
    return rows


def features(env: Any) -> FeatureRows:
    """The feature view of a (possibly wrapped) :class:`~rewardgym.envs.driving.RouteDriveEnv`.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/RouteDrive-v1")
        >>> _ = env.reset(seed=0)
        >>> view = features(env)
        >>> view.route_completion, view.collision, view.speed >= 0.0
        (0.0, 0.0, True)
    """
    rows = _rows(env)
    if rows.shape[0] != 1:
        raise ValueError(f"features: expected a single car, got {type(env.unwrapped).__name__} "
                         f"with {rows.shape[0]} cars; use features_batch")
    return FeatureRows(rows[0], LAYOUT)


def features_batch(envs: Any) -> FeatureRows:
    """The feature view of every car of a RouteDrive vector (or multi-agent) env.

    Rows are ``world * num_egos + ego``.

    Example:
        >>> from rewardgym.envs.driving import RouteDriveVectorEnv
        >>> envs = RouteDriveVectorEnv(3)
        >>> _ = envs.reset(seed=0)
        >>> features_batch(envs).lead_gap.shape
        (3,)
    """
    return FeatureRows(_rows(envs), LAYOUT)


def agent_features(env: Any, agent: str) -> np.ndarray:
    """The view row of one car of a :class:`~rewardgym.envs.driving.RouteDriveParallelEnv`.

    The ``features(env, agent)`` callable PettingZoo reward wrappers take
    (``rewardgym.wrappers.llm.LLMRewardParallel``); a car that left keeps its last row.

    Example:
        >>> from rewardgym.envs.driving import RouteDriveParallelEnv
        >>> env = RouteDriveParallelEnv(num_egos=2)
        >>> _ = env.reset(seed=0)
        >>> agent_features(env, "car_1").shape == (SIZE,)
        True
    """
    base = env.unwrapped
    return _rows(env)[base.possible_agents.index(agent)]


def describe() -> str:
    """The markdown table of the driving features (for docs and reward-writing prompts)."""
    return LAYOUT.describe()


__all__ = ["FEATURES", "LAYOUT", "SIZE", "agent_features", "compute_features", "describe",
           "features", "features_batch"]
