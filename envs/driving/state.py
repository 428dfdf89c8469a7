"""RouteDrive's state and output layout: the packed arrays every kernel module indexes.

A *world* holds one road template, ``E`` ego cars (1 for the Gymnasium envs, several for the
PettingZoo intersection) and ``K`` IDM traffic cars, packed into a few large arrays by kind of
field (:class:`World`); the kernels write per-row outputs into :class:`StepOut` (row =
``world * E + ego``). The column constants here are the one place those layouts are named; numba
reads module-level ints as compile-time constants.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rewardgym.envs.driving.savgol import HISTORY

# Per-step signals, in this column order (info keys, severities in [0, 1]).
SIGNALS = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked",
           "speeding", "ttc", "comfort", "lane_center", "outside_route_lanes", "timeout",
           "route_done")
(COLLISION, RED_LIGHT, OFF_ROAD, OFF_ROUTE, WRONG_WAY, BLOCKED, SPEEDING, TTC, COMFORT,
 LANE_CENTER, OUTSIDE, TIMEOUT, ROUTE_DONE) = range(len(SIGNALS))
HARD = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked")
# The most reward terms a mode has (``rewards.TERM_NAMES``; rewards.py checks the bound).
MAX_TERMS = 5

# Observation layout.
LOOKAHEAD = 10  # route points every LOOKAHEAD_STEP metres
LOOKAHEAD_STEP = 4.0
ACTORS = 6  # nearest other cars observed
ACTOR_FEATURES = 6
SENSE_RANGE = 50.0
EGO_FEATURES = 8
LIGHT_FEATURES = 5
COMFORT_METRICS = 6  # lon accel, lat accel, jerk, lon jerk, yaw rate, yaw accel (nuPlan's)
VALUE_FEATURES = 4 + COMFORT_METRICS  # CaRL's 10 value measurements
BEV_CHANNELS = 4
RED, YELLOW, GREEN = 0, 1, 2


def obs_length(value_features: bool) -> int:
    """Length of the vector observation."""
    return (EGO_FEATURES + 2 * LOOKAHEAD + ACTORS * ACTOR_FEATURES + LIGHT_FEATURES + 1
            + (VALUE_FEATURES if value_features else 0))


# Packed state: one array per kind of field, indexed by these column constants (numba reads
# module-level ints as compile-time constants). Few, large arrays keep every kernel call cheap:
# numba passes a tuple of arrays by value, which cost 0.6 µs per call with one array per field.
W_GREEN, W_PHASE0 = 0, 1  # world floats: green phase length (s), light cycle offset (s)
W_TMPL, W_T, W_LIMIT, W_NEEDS_RESET = 0, 1, 2, 3  # world ints: template, step, timeout, flag
(E_X, E_Y, E_YAW, E_V, E_STEER, E_S, E_S0, E_LEN, E_RCMAX, E_FRONT, E_LAT, E_PSI, E_ACC,
 E_YR, E_TTC_HELD, E_PENALTY, E_OUTSIDE, E_ACT0, E_ACT1, E_COS, E_SIN) = range(21)
EF_COLS = 21
# Ego ints: route, cached route segment, blocked / wrong-way step counters, the TTC countdown,
# whether the ego still drives, the comfort history's length, and one countdown per comfort
# metric (E_COMF_CD + m, as CaRL's remaining_comfort_penalty_ticks).
E_ROUTE, E_SEG, E_BLOCKED, E_WRONG, E_TTC_CD, E_ACTIVE, E_HIST_N, E_COMF_CD = range(8)
EI_COLS = E_COMF_CD + COMFORT_METRICS
# Comfort history (``eh[w, e, H_*, :E_HIST_N]``, oldest first): longitudinal, lateral and total
# acceleration and the unwrapped yaw of the last HISTORY ticks.
H_LON, H_LAT, H_MAG, H_YAW = range(4)
# Traffic floats: arc position on its lane, speed, desired speed, position, heading's unit
# vector (no angle: traffic never needs one, and atan2 per car and step is not free).
N_S, N_V, N_VDES, N_X, N_Y, N_COS, N_SIN = range(7)
N_LANE, N_SEG, N_RECKLESS, N_ACTIVE = range(4)  # traffic ints


class World(NamedTuple):
    """The state of ``W`` worlds (``E`` egos, ``K`` traffic cars each), packed by kind.

    ``ef[w, e, E_*]``: ego floats (centre, heading, speed, steering angle, route arc position,
    arc at spawn, route length to drive, best completion %, front-bumper arc, lateral offset,
    heading error, acceleration and yaw rate, held TTC factor, leaderboard penalty product,
    metres outside the route lanes, previous action, heading's unit vector); ``eh`` the
    comfort history (fixed-size: no allocation per step).
    """

    rng: np.ndarray  # (W,) uint64 stream
    wf: np.ndarray  # (W, 2) float64
    wi: np.ndarray  # (W, 4) int64
    ef: np.ndarray  # (W, E, EF_COLS) float64
    ei: np.ndarray  # (W, E, EI_COLS) int64
    eh: np.ndarray  # (W, E, 4, HISTORY) float64
    nf: np.ndarray  # (W, K, 7) float64
    ni: np.ndarray  # (W, K, 4) int64
    sort_d: np.ndarray  # (W, ACTORS) scratch for the nearest-actor sort
    sort_i: np.ndarray


# Columns of ``StepOut.scalars``: the reward, the route completion gained this step (percentage
# points), the route completion (%), and the driving score so far.
OUT_REWARD, OUT_PROGRESS, OUT_RC, OUT_SCORE = range(4)


class StepOut(NamedTuple):
    """Per-row outputs (row = world * E + ego), written in place by the kernels."""

    obs: np.ndarray  # (R, D) float32
    bev: np.ndarray  # (R, C, H, H) uint8 (H = 1 without BEV)
    scalars: np.ndarray  # (R, 4) float64: OUT_REWARD, OUT_PROGRESS, OUT_RC, OUT_SCORE
    terminated: np.ndarray
    truncated: np.ndarray
    done_world: np.ndarray  # (W,) the world's episode ended this step
    signals: np.ndarray  # (R, len(SIGNALS)) float64
    terms: np.ndarray  # (R, MAX_TERMS)
    final_obs: np.ndarray
    final_bev: np.ndarray


def new_world(w: int, e: int, k: int) -> World:
    """Zeroed state for ``w`` worlds of ``e`` egos and ``k`` traffic cars."""
    wi = np.zeros((w, 4), np.int64)
    wi[:, W_LIMIT] = 1
    return World(np.zeros(w, np.uint64), np.zeros((w, 2)), wi, np.zeros((w, e, EF_COLS)),
                 np.zeros((w, e, EI_COLS), np.int64), np.zeros((w, e, 4, HISTORY)),
                 np.zeros((w, k, 7)), np.zeros((w, k, 4), np.int64),
                 np.zeros((w, ACTORS)), np.zeros((w, ACTORS), np.int64))


def new_step_out(w: int, e: int, length: int, bev_size: int) -> StepOut:
    """Output buffers for ``w`` worlds of ``e`` egos (``bev_size`` 0: no BEV)."""
    r = w * e
    h = max(bev_size, 1)
    return StepOut(np.zeros((r, length), np.float32), np.zeros((r, BEV_CHANNELS, h, h), np.uint8),
                   np.zeros((r, 4)), np.zeros(r, np.bool_), np.zeros(r, np.bool_),
                   np.zeros(w, np.bool_), np.zeros((r, len(SIGNALS))),
                   np.zeros((r, MAX_TERMS)), np.zeros((r, length), np.float32),
                   np.zeros((r, BEV_CHANNELS, h, h), np.uint8))
