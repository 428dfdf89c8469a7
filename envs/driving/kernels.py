"""RouteDrive's numba kernels: world state, reset, one step of every world, observations.

A *world* holds one road template, ``E`` ego cars (1 for the Gymnasium envs, several for the
PettingZoo intersection) and ``K`` IDM traffic cars.  :func:`step_batch` advances every world by
one 10 Hz tick in one call: ego kinematic bicycles, traffic (IDM, Treiber et al. 2000, with
traffic lights; reckless cars ignore red), route tracking, CaRL's infractions (Jaeger et al.,
"CaRL", CoRL 2025), the reward of the configured mode, observations, and in-kernel autoreset.
Randomness comes only from each world's counter-based stream (:mod:`rewardgym.envs.native.rng`),
so world ``i`` of a batch seeded ``s`` is bit-identical to a single env seeded ``s + i``, for
any thread count.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from rewardgym.envs.driving.geometry import (
    advance_segment,
    boxes_overlap,
    point_at,
    pose_at,
    position_at,
    raster_bits,
    wrap_angle,
)
from rewardgym.envs.driving.maps import DRIVABLE, LANE_WIDTH, MAX_STOPS, NO_LANE, ROUTE0
from rewardgym.envs.driving.savgol import HISTORY, MIN_FRAMES, last_value_tables
from rewardgym.envs.native import NEXT_STEP, SAME_STEP
from rewardgym.envs.native.rng import next_u64, randint

CARL, ROACH, PROGRESS, SPARSE = 0, 1, 2, 3

# Per-step signals, in this column order (info keys, severities in [0, 1]).
SIGNALS = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked",
           "speeding", "ttc", "comfort", "lane_center", "outside_route_lanes", "timeout",
           "route_done")
(COLLISION, RED_LIGHT, OFF_ROAD, OFF_ROUTE, WRONG_WAY, BLOCKED, SPEEDING, TTC, COMFORT,
 LANE_CENTER, OUTSIDE, TIMEOUT, ROUTE_DONE) = range(len(SIGNALS))
HARD = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked")
TERM_NAMES = (("progress", "terminal"), ("speed", "position", "rotation", "action", "terminal"),
              ("progress",), ("route_done",))
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
# CaRL's TTC (simple_reward.py, does_agent_violate_ttc): forecasts at these times, skipped below
# 0.1 m/s ego speed (its stopped_speed_threshold).
TTC_HORIZONS = (0.1, 0.3, 0.5, 0.7, 0.9)
TTC_MIN_SPEED = 0.1
# Leaderboard penalties (leaderboard/utils/statistics_manager.py, PENALTY_VALUE_DICT). A route
# that times out has no multiplier there (0.7 is for scenario timeouts), so none here.
LEADERBOARD_COLLISION, LEADERBOARD_RED_LIGHT = 0.6, 0.7
# Roach's speed hazards as CaRL's reproduction evaluates them (roach_reward.py with carla-roach's
# hazard_actor.lbc_hazard_vehicle and TrafficLightHandler.get_light_state): a vehicle within
# 9.5 m centre to centre, less than 45° off the ego's heading, whose heading differs by at most
# 150° (not oncoming); a red or yellow light whose stop line is within 18 m of a point 0.8 half
# lengths behind the ego's centre (rr_tl_offset), judged by the distance from the ego's centre.
ROACH_VEHICLE_RANGE, ROACH_VEHICLE_DEG, ROACH_SAME_HEADING_DEG = 9.5, 45.0, 150.0
ROACH_VEHICLE_D0, ROACH_LIGHT_D0, ROACH_LIGHT_RANGE, ROACH_TL_OFFSET = 8.0, 5.0, 18.0, -0.8
RED, YELLOW, GREEN = 0, 1, 2
# CaRL's comfort filters as coefficient vectors (see rewardgym.envs.driving.savgol); numba
# compiles these read-only module arrays in as constants.
_SG = last_value_tables()
SG_SMOOTH, SG_JERK, SG_YAW_RATE, SG_YAW_ACCEL = (_SG["smooth"], _SG["jerk"], _SG["yaw_rate"],
                                                _SG["yaw_accel"])


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


@njit(cache=True, inline="always")
def _uniform(rng, w, low, high):
    return low + (high - low) * (np.float64(next_u64(rng, w) >> np.uint64(11)) * 2.0 ** -53)


@njit(cache=True, inline="always")
def light_state(t, dt, green, phase0, yellow, group):
    """``(state, seconds until it changes)`` of light ``group`` (0 and 1 alternate)."""
    half = green + yellow
    tau = (t * dt + phase0 + group * half) % (2.0 * half)
    if tau < green:
        return GREEN, green - tau
    if tau < half:
        return YELLOW, half - tau
    return RED, 2.0 * half - tau


@njit(cache=True, inline="always")
def _other(ef, ei, nf, ni, w, j, k_npc):
    """``(active, x, y, v, cos heading, sin heading)`` of actor ``j``.

    Actor ``j`` is traffic car ``j``, or ego ``j - k_npc`` past the traffic cars.
    """
    if j < k_npc:
        return (ni[w, j, N_ACTIVE] != 0, nf[w, j, N_X], nf[w, j, N_Y], nf[w, j, N_V],
                nf[w, j, N_COS], nf[w, j, N_SIN])
    e = j - k_npc
    return (ei[w, e, E_ACTIVE] != 0, ef[w, e, E_X], ef[w, e, E_Y], ef[w, e, E_V],
            ef[w, e, E_COS], ef[w, e, E_SIN])


@njit(cache=True)
def _place_npc(lane_xy, lane_s, lane_n, lane_vlim, ef, ei, nf, ni, rng, p, w, tm, k, lane, s):
    """Put traffic car ``k`` at arc ``s`` of ``lane`` if no car is within 10 m; True if placed."""
    seg = advance_segment(lane_s, tm, lane, lane_n[tm, lane], s, 0)
    x, y, c, sn = pose_at(lane_xy, lane_s, tm, lane, seg, s)
    for e in range(ef.shape[1]):
        if ei[w, e, E_ACTIVE] and (x - ef[w, e, E_X]) ** 2 + (y - ef[w, e, E_Y]) ** 2 < 144.0:
            return False
    for j in range(nf.shape[1]):
        if j != k and ni[w, j, N_ACTIVE] and (
                (x - nf[w, j, N_X]) ** 2 + (y - nf[w, j, N_Y]) ** 2 < 100.0):
            return False
    vdes = lane_vlim[tm, lane] * _uniform(rng, w, p.npc_speed_min, p.npc_speed_max)
    nf[w, k, N_S], nf[w, k, N_VDES] = s, vdes
    nf[w, k, N_V] = vdes * _uniform(rng, w, 0.5, 1.0)
    nf[w, k, N_X], nf[w, k, N_Y] = x, y
    nf[w, k, N_COS], nf[w, k, N_SIN] = c, sn
    ni[w, k, N_LANE], ni[w, k, N_SEG] = lane, seg
    ni[w, k, N_RECKLESS] = _uniform(rng, w, 0.0, 1.0) < p.reckless_prob
    ni[w, k, N_ACTIVE] = 1
    return True


@njit(cache=True)
def reset_world(bank, wd, p, w):
    """Draw a new episode for world ``w`` from its stream."""
    rng, ef, ei, nf, ni = wd.rng, wd.ef, wd.ei, wd.nf, wd.ni
    tm = randint(rng, w, 0, bank.n_lanes.shape[0])
    wd.wi[w, W_TMPL], wd.wi[w, W_T], wd.wi[w, W_NEEDS_RESET] = tm, 0, 0
    green = _uniform(rng, w, p.green_min_s, p.green_max_s)
    wd.wf[w, W_GREEN] = green
    wd.wf[w, W_PHASE0] = _uniform(rng, w, 0.0, 2.0 * (green + p.yellow_s))
    n_routes = bank.n_routes[tm]
    limit = p.min_timeout_steps
    num_egos = ef.shape[1]
    for e in range(num_egos):
        r = e % n_routes if num_egos > 1 else randint(rng, w, 0, n_routes)
        n = bank.route_n[tm, r]
        s0 = _uniform(rng, w, 0.0, 10.0)
        seg = advance_segment(bank.route_s, tm, r, n, s0, 0)
        x, y, yaw = point_at(bank.route_xy, bank.route_s, tm, r, seg, s0)
        # Measure progress from where the tracker places the spawn pose (not the drawn s0,
        # which differs in the last bits), so standing still earns exactly 0.
        seg, s0, lat, psi = project(bank.route_xy, bank.route_s, tm, r, n, x, y, yaw, seg)
        vlim = bank.route_vlim[tm, r, seg]
        ef[w, e, :] = 0.0
        ei[w, e, :] = 0
        ef[w, e, E_X], ef[w, e, E_Y], ef[w, e, E_YAW] = x, y, yaw
        ef[w, e, E_COS], ef[w, e, E_SIN] = math.cos(yaw), math.sin(yaw)
        ef[w, e, E_V] = vlim * _uniform(rng, w, 0.0, p.init_speed_frac)
        ef[w, e, E_S], ef[w, e, E_S0] = s0, s0
        ef[w, e, E_LAT], ef[w, e, E_PSI] = lat, psi
        ef[w, e, E_LEN] = bank.route_s[tm, r, n - 1] - s0
        ef[w, e, E_FRONT] = s0 + 0.5 * p.car_length
        wd.eh[w, e, :, :] = 0.0
        ef[w, e, E_TTC_HELD], ef[w, e, E_PENALTY] = 1.0, 1.0
        ei[w, e, E_ROUTE], ei[w, e, E_SEG], ei[w, e, E_ACTIVE] = r, seg, 1
        limit = max(limit, int(p.timeout_factor * ef[w, e, E_LEN] / vlim / p.dt))
    wd.wi[w, W_LIMIT] = limit
    ni[w, :, N_ACTIVE] = 0
    for k in range(min(p.num_npcs, nf.shape[1])):
        for _ in range(8):
            lane = randint(rng, w, 0, bank.n_lanes[tm])
            length = bank.lane_s[tm, lane, bank.lane_n[tm, lane] - 1]
            if _place_npc(bank.lane_xy, bank.lane_s, bank.lane_n, bank.lane_vlim, ef, ei, nf, ni,
                          rng, p, w, tm, k, lane, _uniform(rng, w, 0.0, length)):
                break


@njit(cache=True, inline="always")
def _npc_step(lane_xy, lane_s, lane_n, lane_vlim, lane_group, lane_stop, lane_next,
              lane_source, n_lanes, ef, ei, nf, ni, rng, p, w, tm, k, light0, light1):
    """One IDM step of traffic car ``k`` (it re-enters at a map entry after leaving)."""
    if not ni[w, k, N_ACTIVE]:
        lane = randint(rng, w, 0, n_lanes[tm])
        if lane_source[tm, lane]:
            _place_npc(lane_xy, lane_s, lane_n, lane_vlim, ef, ei, nf, ni, rng, p, w, tm, k,
                       lane, 0.0)
        return
    x, y, v = nf[w, k, N_X], nf[w, k, N_Y], nf[w, k, N_V]
    c, s = nf[w, k, N_COS], nf[w, k, N_SIN]
    gap, lead_v = 1e9, 0.0
    k_npc = nf.shape[1]
    # Leader: the nearest car in this car's path (the lateral tolerance grows on curves).
    for j in range(k_npc + ef.shape[1]):
        if j == k:
            continue
        active, ox, oy, ov, oc, os = _other(ef, ei, nf, ni, w, j, k_npc)
        if not active:
            continue
        dx = (ox - x) * c + (oy - y) * s
        if dx <= 0.0 or dx > 60.0:
            continue
        dy = abs(-(ox - x) * s + (oy - y) * c)
        if dy < 2.2 or dy < min(1.8 + dx * dx / 80.0, 4.0):
            aligned = oc * c + os * s  # cos of the heading difference
            if dy < 2.2 or aligned > 0.5:
                g = dx - p.car_length
                if g < gap:
                    gap, lead_v = g, ov * max(aligned, 0.0)
    lane = ni[w, k, N_LANE]
    group = lane_group[tm, lane]
    if group >= 0 and lane_stop[tm, lane] >= 0.0 and not ni[w, k, N_RECKLESS]:
        state = light0 if group == 0 else light1
        d = lane_stop[tm, lane] - nf[w, k, N_S] - 0.5 * p.car_length
        must_stop = state == RED or (state == YELLOW and d > v * v / (2.0 * p.idm_decel))
        if d > -0.5 and must_stop and d < gap:
            gap, lead_v = max(d, 0.0), 0.0
    free = v / max(nf[w, k, N_VDES], 0.1)
    free2 = free * free
    acc = p.idm_accel * (1.0 - free2 * free2)
    if gap < 1e8:
        star = p.idm_min_gap + max(0.0, v * p.idm_headway + v * (v - lead_v) / (
            2.0 * math.sqrt(p.idm_accel * p.idm_decel)))
        ratio = star / max(gap, 0.1)
        acc -= p.idm_accel * ratio * ratio
    v = max(v + max(acc, -9.0) * p.dt, 0.0)
    nf[w, k, N_V] = v
    s_new = nf[w, k, N_S] + v * p.dt
    length = lane_s[tm, lane, lane_n[tm, lane] - 1]
    if s_new >= length:
        options = 0
        for m in range(lane_next.shape[2]):
            if lane_next[tm, lane, m] >= 0:
                options += 1
        if options == 0:
            ni[w, k, N_ACTIVE] = 0
            return
        lane = lane_next[tm, lane, randint(rng, w, 0, options)]
        s_new -= length
        ni[w, k, N_LANE], ni[w, k, N_SEG] = lane, 0
    seg = advance_segment(lane_s, tm, lane, lane_n[tm, lane], s_new, ni[w, k, N_SEG])
    ni[w, k, N_SEG] = seg
    nf[w, k, N_S] = s_new
    nf[w, k, N_X], nf[w, k, N_Y], nf[w, k, N_COS], nf[w, k, N_SIN] = pose_at(
        lane_xy, lane_s, tm, lane, seg, s_new)


@njit(cache=True, inline="always")
def project(route_xy, route_s, tm, r, n, x, y, yaw, start):
    """``(segment, arc, lateral offset (left +), heading error)`` of a pose on route ``r``.

    Searches a window of segments around the cached ``start`` (the car moves < 3 m a tick).
    """
    best, seg, best_f = 1e18, start, 0.0
    for j in range(max(start - 1, 0), min(start + 7, n - 1)):
        ax, ay = route_xy[tm, r, j, 0], route_xy[tm, r, j, 1]
        dx, dy = route_xy[tm, r, j + 1, 0] - ax, route_xy[tm, r, j + 1, 1] - ay
        f = min(max(((x - ax) * dx + (y - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0.0), 1.0)
        d2 = (x - ax - f * dx) ** 2 + (y - ay - f * dy) ** 2
        if d2 < best:
            best, seg, best_f = d2, j, f
    ax, ay = route_xy[tm, r, seg, 0], route_xy[tm, r, seg, 1]
    dx, dy = route_xy[tm, r, seg + 1, 0] - ax, route_xy[tm, r, seg + 1, 1] - ay
    arc = route_s[tm, r, seg] + best_f * (route_s[tm, r, seg + 1] - route_s[tm, r, seg])
    length = max(math.sqrt(dx * dx + dy * dy), 1e-9)
    lat = ((x - ax) * -dy + (y - ay) * dx) / length
    return seg, arc, lat, wrap_angle(yaw - math.atan2(dy, dx))


@njit(cache=True, inline="always")
def _comfort(p, eh, ei, w, e, lon, lat, yaw):
    """CaRL's comfort check for one tick; returns how many of the 6 metrics are penalised.

    As ``SimpleReward.compute_comfort_penalty`` (jkli-2/CaRL @ 829e7eeb,
    ``CARLA/team_code/reward/simple_reward.py`` ≈ lines 347–456): every metric's countdown
    drops by one; the tick's longitudinal, lateral and total acceleration and unwrapped yaw join
    a 15-tick history; from 8 ticks on, the Savitzky–Golay-filtered last values (accelerations
    smoothed, jerk = derivative of the smoothed *total* acceleration |a|, longitudinal jerk,
    yaw rate and yaw acceleration) are compared with their bounds, and each violated metric's
    countdown restarts at ``comfort_hold_steps``. The penalised metrics are those whose
    countdown is above 0.
    """
    for m in range(COMFORT_METRICS):
        ei[w, e, E_COMF_CD + m] = max(ei[w, e, E_COMF_CD + m] - 1, 0)
    n = ei[w, e, E_HIST_N]
    yaw_u = yaw if n == 0 else eh[w, e, H_YAW, n - 1] + wrap_angle(yaw - eh[w, e, H_YAW, n - 1])
    if n == HISTORY:
        for c in range(4):
            for m in range(HISTORY - 1):
                eh[w, e, c, m] = eh[w, e, c, m + 1]
        n -= 1
    eh[w, e, H_LON, n], eh[w, e, H_LAT, n] = lon, lat
    eh[w, e, H_MAG, n], eh[w, e, H_YAW, n] = math.sqrt(lon * lon + lat * lat), yaw_u
    n += 1
    ei[w, e, E_HIST_N] = n
    if n >= MIN_FRAMES:
        s_lon, s_lat, jerk, lon_jerk, yaw_rate, yaw_acc = 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
        for m in range(n):
            s_lon += SG_SMOOTH[n, m] * eh[w, e, H_LON, m]
            s_lat += SG_SMOOTH[n, m] * eh[w, e, H_LAT, m]
            jerk += SG_JERK[n, m] * eh[w, e, H_MAG, m]
            lon_jerk += SG_JERK[n, m] * eh[w, e, H_LON, m]
            yaw_rate += SG_YAW_RATE[n, m] * eh[w, e, H_YAW, m]
            yaw_acc += SG_YAW_ACCEL[n, m] * eh[w, e, H_YAW, m]
        hold = p.comfort_hold_steps
        if s_lon > p.lon_accel_max or s_lon < p.lon_accel_min:
            ei[w, e, E_COMF_CD] = hold
        if abs(s_lat) > p.lat_accel_max:
            ei[w, e, E_COMF_CD + 1] = hold
        if abs(jerk) / p.dt > p.jerk_max:
            ei[w, e, E_COMF_CD + 2] = hold
        if abs(lon_jerk) / p.dt > p.lon_jerk_max:
            ei[w, e, E_COMF_CD + 3] = hold
        if abs(yaw_rate) / p.dt > p.yaw_rate_max:
            ei[w, e, E_COMF_CD + 4] = hold
        if abs(yaw_acc) / (p.dt * p.dt) > p.yaw_accel_max:
            ei[w, e, E_COMF_CD + 5] = hold
    active = 0
    for m in range(COMFORT_METRICS):
        active += ei[w, e, E_COMF_CD + m] > 0
    return active


@njit(cache=True, inline="always")
def lane_centre_distance(near_lane, near_seg, lane_xy, lane_n, lane_junction, origin, tm, x, y):
    """Distance from ``(x, y)`` to the nearest lane's centre line; -1 in a junction.

    CaRL (``simple_reward.py`` ≈ lines 140–159) projects the ego onto the nearest driving lane
    (``get_waypoint(project_to_road=True)``, either direction) and measures the lateral
    distance to its centre, outside junctions only. The raster names the nearest lane piece and
    segment per 1 m cell; the distance is exact to that segment and its two neighbours.
    """
    col = math.floor(x - origin[tm, 0])
    row = math.floor(y - origin[tm, 1])
    size = near_lane.shape[1]
    if col < 0 or row < 0 or col >= size or row >= size or near_lane[tm, row, col] == NO_LANE:
        return 1e9
    lane = near_lane[tm, row, col]
    if lane_junction[tm, lane]:
        return -1.0
    seg = np.int64(near_seg[tm, row, col])
    best = 1e18
    for j in range(max(seg - 1, 0), min(seg + 2, lane_n[tm, lane] - 1)):
        ax, ay = lane_xy[tm, lane, j, 0], lane_xy[tm, lane, j, 1]
        dx, dy = lane_xy[tm, lane, j + 1, 0] - ax, lane_xy[tm, lane, j + 1, 1] - ay
        f = min(max(((x - ax) * dx + (y - ay) * dy) / max(dx * dx + dy * dy, 1e-9), 0.0), 1.0)
        best = min(best, (x - ax - f * dx) ** 2 + (y - ay - f * dy) ** 2)
    return math.sqrt(best)


@njit(cache=True, inline="always")
def _held(severity, factor_if_active, hold, countdown, held):
    """The multiplier of one soft rule, held for ``hold`` steps (InfractionPenalty's rule)."""
    factor = factor_if_active if severity > 0.0 else 1.0
    if severity > 0.0 and hold > 0:
        countdown, held = hold, factor
    if countdown > 0:
        factor = min(factor, held)
        countdown -= 1
    return factor, countdown, held


@njit(cache=True, inline="always")
def _move_ego(ef, p, actions, w, e, row):
    """Kinematic bicycle (centre of mass, Rajamani 2012) for one tick."""
    target = p.max_steer * actions[row, 0]
    limit = p.steer_rate * p.dt
    steer = ef[w, e, E_STEER] + min(max(target - ef[w, e, E_STEER], -limit), limit)
    a = actions[row, 1]
    acc = p.max_accel * a if a > 0.0 else p.max_brake * a
    v_old = ef[w, e, E_V]
    v = min(max(v_old + acc * p.dt, 0.0), p.max_speed)
    beta = math.atan(0.5 * math.tan(steer))
    yaw_rate = v * math.cos(beta) * math.tan(steer) / p.wheelbase
    yaw = ef[w, e, E_YAW]
    ef[w, e, E_X] += v * math.cos(yaw + beta) * p.dt
    ef[w, e, E_Y] += v * math.sin(yaw + beta) * p.dt
    ef[w, e, E_YAW] = wrap_angle(yaw + yaw_rate * p.dt)
    ef[w, e, E_COS], ef[w, e, E_SIN] = math.cos(ef[w, e, E_YAW]), math.sin(ef[w, e, E_YAW])
    ef[w, e, E_V], ef[w, e, E_STEER] = v, steer
    ef[w, e, E_ACC], ef[w, e, E_YR] = (v - v_old) / p.dt, yaw_rate


@njit(cache=True, inline="always")
def _ego_step(route_xy, route_s, route_n, route_vlim, route_stop_s, route_stop_group, raster,
              origin, lane_xy, lane_n, lane_junction, near_lane, near_seg, wi, ef, ei, eh, nf,
              ni, p, actions, sig, terms, out_f, w, e, row, light0, light1):
    """Route tracking, infractions and reward of ego ``e``.

    Writes ``sig`` (the signals row) and ``terms``; ``out_f`` gets (reward, progress, RC,
    score). Returns ``terminated * 2 + truncated`` (both can be set).
    """
    tm, r = wi[w, W_TMPL], ei[w, e, E_ROUTE]
    n = route_n[tm, r]
    x, y, yaw, v = ef[w, e, E_X], ef[w, e, E_Y], ef[w, e, E_YAW], ef[w, e, E_V]
    sig[:] = 0.0
    seg, s_here, lat, psi = project(route_xy, route_s, tm, r, n, x, y, yaw, ei[w, e, E_SEG])
    ei[w, e, E_SEG] = seg
    ef[w, e, E_S], ef[w, e, E_LAT], ef[w, e, E_PSI] = s_here, lat, psi
    rc = min(max(100.0 * (s_here - ef[w, e, E_S0]) / ef[w, e, E_LEN], 0.0), 100.0)
    progress = max(rc - ef[w, e, E_RCMAX], 0.0)
    ef[w, e, E_RCMAX] = max(ef[w, e, E_RCMAX], rc)
    vlim = route_vlim[tm, r, seg]
    c, s = ef[w, e, E_COS], ef[w, e, E_SIN]
    # Hard infractions: collision (oriented boxes), and the time-to-collision soft one (every
    # actor, around the ego or behind it, as CaRL's does_agent_violate_ttc; not at standstill).
    k_npc = nf.shape[1]
    v_des = p.roach_vmax  # Roach's desired speed, lowered by hazards
    reach = math.sqrt(p.car_length ** 2 + p.car_width ** 2)  # boxes this far apart cannot touch
    cos_cone = math.cos(math.radians(ROACH_VEHICLE_DEG))
    cos_same = math.cos(math.radians(ROACH_SAME_HEADING_DEG))
    for j in range(k_npc + ef.shape[1]):
        if j == k_npc + e:
            continue
        active, ox, oy, ov, oc, os = _other(ef, ei, nf, ni, w, j, k_npc)
        if not active:
            continue
        d2 = (ox - x) ** 2 + (oy - y) ** 2
        if boxes_overlap(x, y, c, s, ox, oy, oc, os, p.car_length, p.car_width):
            sig[COLLISION] = 1.0
        elif v >= TTC_MIN_SPEED and sig[TTC] == 0.0 and d2 < (reach + 0.9 * (v + ov)) ** 2:
            for h in TTC_HORIZONS:
                if boxes_overlap(x + v * h * c, y + v * h * s, c, s, ox + ov * h * oc,
                                 oy + ov * h * os, oc, os, p.car_length, p.car_width):
                    sig[TTC] = 1.0
                    break
        if d2 <= ROACH_VEHICLE_RANGE * ROACH_VEHICLE_RANGE:
            d = math.sqrt(d2)
            ahead = (ox - x) * c + (oy - y) * s
            if (d < 0.001 or ahead > cos_cone * d) and oc * c + os * s >= cos_same:
                v_des = min(v_des, p.roach_vmax * min(max(d - ROACH_VEHICLE_D0, 0.0), 5.0) / 5.0)
    front = s_here + 0.5 * p.car_length
    hit = s_here + ROACH_TL_OFFSET * 0.5 * p.car_length
    for m in range(MAX_STOPS):
        stop = route_stop_s[tm, r, m]
        if stop < 0.0:
            continue
        state = light0 if route_stop_group[tm, r, m] == 0 else light1
        if ef[w, e, E_FRONT] < stop <= front and state == RED:
            sig[RED_LIGHT] = 1.0
        if state != GREEN and hit < stop <= hit + ROACH_LIGHT_RANGE:
            v_des = min(v_des, p.roach_vmax * min(max(
                abs(stop - s_here) - ROACH_LIGHT_D0, 0.0), 5.0) / 5.0)
    ef[w, e, E_FRONT] = front
    off = 0
    hl, hw = 0.5 * p.car_length, 0.5 * p.car_width
    for corner in range(4):
        lx = hl if corner < 2 else -hl
        ly = hw if corner % 2 == 0 else -hw
        if not raster_bits(raster, origin, tm, x + lx * c - ly * s, y + lx * s + ly * c) & DRIVABLE:
            off += 1
    if off >= p.off_road_corners:
        sig[OFF_ROAD] = 1.0
    if abs(lat) > p.off_route_m:
        sig[OFF_ROUTE] = 1.0
    ei[w, e, E_WRONG] = ei[w, e, E_WRONG] + 1 if math.cos(psi) < p.wrong_way_cos else 0
    if ei[w, e, E_WRONG] >= p.wrong_way_steps:
        sig[WRONG_WAY] = 1.0
    ei[w, e, E_BLOCKED] = ei[w, e, E_BLOCKED] + 1 if v < p.blocked_speed else 0
    if ei[w, e, E_BLOCKED] >= p.blocked_steps:
        sig[BLOCKED] = 1.0
    # Soft infractions, as severities in [0, 1].
    if v > vlim:
        sig[SPEEDING] = min((v - vlim) / p.overspeed_margin, 1.0)
    # Comfort: the share of CaRL's 6 metrics inside their hold (the hold lives here, per metric).
    sig[COMFORT] = _comfort(p, eh, ei, w, e, ef[w, e, E_ACC], v * ef[w, e, E_YR],
                            yaw) / COMFORT_METRICS
    centre = lane_centre_distance(near_lane, near_seg, lane_xy, lane_n, lane_junction, origin, tm,
                                  x, y)
    if centre >= 0.0:
        sig[LANE_CENTER] = min(centre / (0.5 * LANE_WIDTH), 1.0)
    if not raster_bits(raster, origin, tm, x, y) & (ROUTE0 << r):
        sig[OUTSIDE] = 1.0
        ef[w, e, E_OUTSIDE] += v * p.dt
    done_route = rc >= p.route_done_pct
    if done_route:
        sig[ROUTE_DONE] = 1.0
    hard = (sig[COLLISION] + sig[RED_LIGHT] + sig[OFF_ROAD] + sig[OFF_ROUTE] + sig[WRONG_WAY]
            + sig[BLOCKED]) > 0.0
    timed_out = wi[w, W_T] >= wi[w, W_LIMIT] and not (hard or done_route)
    if timed_out:
        sig[TIMEOUT] = 1.0
    terminated = hard or done_route or (timed_out and p.timeout_is_terminal)
    # An outside step limit (make_vec's max_episode_steps) truncates like gymnasium's TimeLimit:
    # even on a step that also terminates.
    truncated = (wi[w, W_T] >= wi[w, W_LIMIT] and not terminated) or (
        p.time_limit > 0 and wi[w, W_T] >= p.time_limit)
    # CaRL: progress × Π soft factors (in InfractionPenalty's rule order) + the terminal penalty,
    # once however many of collision / red light ended the episode (simple_reward.py ≈ 254–265).
    term_sum = -p.terminal_penalty if sig[COLLISION] > 0.0 or sig[RED_LIGHT] > 0.0 else 0.0
    mult = 1.0
    mult *= 1.0 - 1.0 * min(sig[SPEEDING], 1.0) if sig[SPEEDING] > 0.0 else 1.0
    f, ei[w, e, E_TTC_CD], ef[w, e, E_TTC_HELD] = _held(
        sig[TTC], p.ttc_factor, p.ttc_hold_steps, ei[w, e, E_TTC_CD], ef[w, e, E_TTC_HELD])
    mult *= f
    mult *= 1.0 - p.comfort_weight * min(sig[COMFORT], 1.0) if sig[COMFORT] > 0.0 else 1.0
    mult *= 1.0 - 1.0 * min(sig[LANE_CENTER], 1.0) if sig[LANE_CENTER] > 0.0 else 1.0
    mult *= 0.0 if sig[OUTSIDE] > 0.0 else 1.0
    terms[:] = 0.0
    if p.reward_mode == CARL:
        reward = progress * mult + term_sum
        terms[0], terms[1] = reward - term_sum, term_sum
    elif p.reward_mode == PROGRESS:
        reward = progress
        terms[0] = progress
    elif p.reward_mode == SPARSE:
        reward = 100.0 if done_route else 0.0
        terms[0] = reward
    else:  # Roach's summed reward as CaRL re-implemented it (ngductri/carl roach_reward.py)
        terms[0] = 1.0 - abs(v - v_des) / p.roach_vmax
        terms[1] = -abs(lat) / 2.0
        terms[2] = -abs(psi)
        terms[3] = -0.1 if abs(actions[row, 0] - ef[w, e, E_ACT0]) > 0.01 else 0.0
        # -1 whenever the episode ends, truncation included ("if termination or truncation:
        # terminal_reward = -1.0"), less the speed on collision / red light.
        if terminated or truncated:
            terms[4] = -1.0 - (v if sig[COLLISION] > 0.0 or sig[RED_LIGHT] > 0.0 else 0.0)
        reward = terms[0] + terms[1] + terms[2] + terms[3] + terms[4]
    # Leaderboard driving score: RC × penalties × share of the route driven in route lanes.
    if sig[COLLISION] > 0.0:
        ef[w, e, E_PENALTY] *= LEADERBOARD_COLLISION
    if sig[RED_LIGHT] > 0.0:
        ef[w, e, E_PENALTY] *= LEADERBOARD_RED_LIGHT
    inside = max(1.0 - ef[w, e, E_OUTSIDE] / ef[w, e, E_LEN], 0.0)
    out_f[OUT_REWARD] = reward
    out_f[OUT_PROGRESS] = progress
    out_f[OUT_RC] = ef[w, e, E_RCMAX]
    out_f[OUT_SCORE] = ef[w, e, E_RCMAX] * ef[w, e, E_PENALTY] * inside
    ef[w, e, E_ACT0], ef[w, e, E_ACT1] = actions[row, 0], actions[row, 1]
    return 2 * terminated + truncated


@njit(cache=True, inline="always")
def observe(bank, wd, p, w, e, obs, bev, row):
    """Write ego ``e``'s vector observation (and BEV raster) into row ``row``."""
    ef, ei, nf, ni = wd.ef, wd.ei, wd.nf, wd.ni
    o = obs[row]
    o[:] = 0.0
    tm, r = wd.wi[w, W_TMPL], ei[w, e, E_ROUTE]
    route_s, route_xy = bank.route_s, bank.route_xy
    n = bank.route_n[tm, r]
    x, y, v = ef[w, e, E_X], ef[w, e, E_Y], ef[w, e, E_V]
    c, s = ef[w, e, E_COS], ef[w, e, E_SIN]
    seg = ei[w, e, E_SEG]
    vlim = bank.route_vlim[tm, r, seg]
    o[0], o[1] = v / vlim, vlim / 25.0
    o[2] = ef[w, e, E_STEER] / p.max_steer
    o[3], o[4] = ef[w, e, E_ACT0], ef[w, e, E_ACT1]
    o[5] = min(max(ef[w, e, E_LAT] / (0.5 * LANE_WIDTH), -3.0), 3.0)
    o[6], o[7] = math.cos(ef[w, e, E_PSI]), math.sin(ef[w, e, E_PSI])
    i = EGO_FEATURES
    end = route_s[tm, r, n - 1]
    look = seg
    for m in range(LOOKAHEAD):
        target = min(ef[w, e, E_S] + LOOKAHEAD_STEP * (m + 1), end)
        look = advance_segment(route_s, tm, r, n, target, look)
        px, py = position_at(route_xy, route_s, tm, r, look, target)
        o[i] = ((px - x) * c + (py - y) * s) / 40.0
        o[i + 1] = (-(px - x) * s + (py - y) * c) / 40.0
        i += 2
    # The nearest other cars (traffic and other egos), by insertion into a short sorted list.
    sd, si = wd.sort_d[w], wd.sort_i[w]
    count = 0
    k_npc = nf.shape[1]
    for j in range(k_npc + ef.shape[1]):
        if j == k_npc + e:
            continue
        active, ox, oy, _, _, _ = _other(ef, ei, nf, ni, w, j, k_npc)
        if not active:
            continue
        d2 = (ox - x) ** 2 + (oy - y) ** 2
        if d2 > SENSE_RANGE * SENSE_RANGE or (count == ACTORS and d2 >= sd[ACTORS - 1]):
            continue
        slot = min(count, ACTORS - 1)
        while slot > 0 and sd[slot - 1] > d2:
            sd[slot], si[slot] = sd[slot - 1], si[slot - 1]
            slot -= 1
        sd[slot], si[slot] = d2, j
        count = min(count + 1, ACTORS)
    for m in range(count):
        _, ox, oy, ov, oc, os = _other(ef, ei, nf, ni, w, si[m], k_npc)
        base = i + m * ACTOR_FEATURES
        o[base] = ((ox - x) * c + (oy - y) * s) / SENSE_RANGE
        o[base + 1] = (-(ox - x) * s + (oy - y) * c) / SENSE_RANGE
        o[base + 2], o[base + 3] = oc * c + os * s, os * c - oc * s  # heading difference
        o[base + 4] = ov / 25.0
        o[base + 5] = 1.0
    i += ACTORS * ACTOR_FEATURES
    # The next stop line on the route: light state, distance, time to the next change.
    front = ef[w, e, E_S] + 0.5 * p.car_length
    o[i + 3] = 1.0
    for m in range(MAX_STOPS):
        stop = bank.route_stop_s[tm, r, m]
        if stop >= 0.0 and stop >= front - 1.0:
            state, left = light_state(wd.wi[w, W_T], p.dt, wd.wf[w, W_GREEN], wd.wf[w, W_PHASE0],
                                      p.yellow_s, bank.route_stop_group[tm, r, m])
            o[i + state] = 1.0
            o[i + 3] = min(max(stop - front, 0.0) / 50.0, 1.0)
            o[i + 4] = min(left / 10.0, 1.0)
            break
    i += LIGHT_FEATURES
    o[i] = ef[w, e, E_RCMAX] / 100.0
    i += 1
    if p.value_features:
        limit = wd.wi[w, W_LIMIT]
        o[i] = max(limit - wd.wi[w, W_T], 0) / limit
        o[i + 1] = 1.0 - ei[w, e, E_BLOCKED] / p.blocked_steps
        o[i + 2] = min((end - ef[w, e, E_S]) / 200.0, 2.0)
        o[i + 3] = ei[w, e, E_TTC_CD] / max(p.ttc_hold_steps, 1)
        for m in range(COMFORT_METRICS):
            o[i + 4 + m] = ei[w, e, E_COMF_CD + m] / max(p.comfort_hold_steps, 1)
    if p.bev:
        _draw_bev(bank, wd, p, w, e, bev[row])


@njit(cache=True, inline="always")
def _plot(img, channel, x, y, c, s, px, py, ego_row, ego_col, value):
    fwd = (px - x) * c + (py - y) * s
    left = -(px - x) * s + (py - y) * c
    row = math.floor(ego_row - fwd)
    col = math.floor(ego_col - left)
    size = img.shape[1]
    if 0 <= row < size and 0 <= col < size:
        img[channel, row, col] = max(img[channel, row, col], value)


@njit(cache=True)
def _draw_bev(bank, wd, p, w, e, img):
    """Ego-centric raster, 1 px/m, ego at 3/4 height facing up: road, route, cars, lights."""
    ef, ei, nf, ni = wd.ef, wd.ei, wd.nf, wd.ni
    size = img.shape[1]
    tm, r = wd.wi[w, W_TMPL], ei[w, e, E_ROUTE]
    x, y = ef[w, e, E_X], ef[w, e, E_Y]
    c, s = ef[w, e, E_COS], ef[w, e, E_SIN]
    img[:] = 0
    ego_row, ego_col = 0.75 * size, 0.5 * size
    raster, origin = bank.raster, bank.origin
    for row in range(size):
        fwd = ego_row - row - 0.5
        for col in range(size):
            left = ego_col - col - 0.5
            if raster_bits(raster, origin, tm, x + fwd * c - left * s,
                           y + fwd * s + left * c) & DRIVABLE:
                img[0, row, col] = 255
    n = bank.route_n[tm, r]
    seg = ei[w, e, E_SEG]
    end = bank.route_s[tm, r, n - 1]
    for m in range(size):
        target = ef[w, e, E_S] + m * 1.0
        if target > end:
            break
        seg = advance_segment(bank.route_s, tm, r, n, target, seg)
        px, py = position_at(bank.route_xy, bank.route_s, tm, r, seg, target)
        _plot(img, 1, x, y, c, s, px, py, ego_row, ego_col, 255)
    k_npc = nf.shape[1]
    for j in range(k_npc + ef.shape[1]):
        if j == k_npc + e:
            continue
        active, ox, oy, ov, oc, os = _other(ef, ei, nf, ni, w, j, k_npc)
        if not active or (ox - x) ** 2 + (oy - y) ** 2 > 2.0 * size * size:
            continue
        value = min(127 + int(128.0 * ov / 25.0), 255)
        for a in range(-4, 5):  # sample the box every ~0.5 m so no pixel is skipped
            for b in range(-2, 3):
                lx, ly = a * p.car_length / 9.0, b * p.car_width / 5.0
                _plot(img, 2, x, y, c, s, ox + lx * oc - ly * os, oy + lx * os + ly * oc,
                      ego_row, ego_col, value)
    for m in range(MAX_STOPS):
        stop = bank.route_stop_s[tm, r, m]
        if stop < 0.0:
            continue
        state, _ = light_state(wd.wi[w, W_T], p.dt, wd.wf[w, W_GREEN], wd.wf[w, W_PHASE0],
                               p.yellow_s, bank.route_stop_group[tm, r, m])
        value = 255 if state == RED else (170 if state == YELLOW else 85)
        sseg = advance_segment(bank.route_s, tm, r, n, stop, 0)
        px, py, heading = point_at(bank.route_xy, bank.route_s, tm, r, sseg, stop)
        for b in range(-4, 5):
            _plot(img, 3, x, y, c, s, px - b * 0.4 * math.sin(heading),
                  py + b * 0.4 * math.cos(heading), ego_row, ego_col, value)


@njit(cache=True, inline="always")
def _clear_row(out, row, everything):
    out.scalars[row, OUT_REWARD] = 0.0
    out.scalars[row, OUT_PROGRESS] = 0.0
    out.terminated[row] = False
    out.truncated[row] = False
    out.signals[row] = 0.0
    out.terms[row] = 0.0
    if everything:
        out.scalars[row, OUT_RC] = 0.0
        out.scalars[row, OUT_SCORE] = 0.0


@njit(cache=True, inline="always")
def step_world(bank, wd, p, actions, autoreset, out, w):
    """Advance world ``w`` by one tick (see the module docstring)."""
    ef, ei, nf, ni, wi, rng = wd.ef, wd.ei, wd.nf, wd.ni, wd.wi, wd.rng
    num_egos = ef.shape[1]
    out.done_world[w] = False
    if wi[w, W_NEEDS_RESET]:
        reset_world(bank, wd, p, w)
        for e in range(num_egos):
            _clear_row(out, w * num_egos + e, True)
            observe(bank, wd, p, w, e, out.obs, out.bev, w * num_egos + e)
        return
    wi[w, W_T] += 1
    tm = wi[w, W_TMPL]
    light0, light1 = GREEN, GREEN
    if bank.n_groups[tm] > 0:
        t, green, phase0 = wi[w, W_T], wd.wf[w, W_GREEN], wd.wf[w, W_PHASE0]
        light0 = light_state(t, p.dt, green, phase0, p.yellow_s, 0)[0]
        light1 = light_state(t, p.dt, green, phase0, p.yellow_s, 1)[0]
    for e in range(num_egos):
        if ei[w, e, E_ACTIVE]:
            _move_ego(ef, p, actions, w, e, w * num_egos + e)
    for k in range(nf.shape[1]):
        _npc_step(bank.lane_xy, bank.lane_s, bank.lane_n, bank.lane_vlim, bank.lane_group,
                  bank.lane_stop, bank.lane_next, bank.lane_source, bank.n_lanes, ef, ei, nf, ni,
                  rng, p, w, tm, k, light0, light1)
    truncate = wi[w, W_T] >= wi[w, W_LIMIT] or (p.time_limit > 0 and wi[w, W_T] >= p.time_limit)
    any_active = False
    ended = 0
    for e in range(num_egos):
        row = w * num_egos + e
        if not ei[w, e, E_ACTIVE]:
            _clear_row(out, row, False)
            continue
        flags = _ego_step(bank.route_xy, bank.route_s, bank.route_n, bank.route_vlim,
                          bank.route_stop_s, bank.route_stop_group, bank.raster, bank.origin,
                          bank.lane_xy, bank.lane_n, bank.lane_junction, bank.near_lane,
                          bank.near_seg, wi, ef, ei, wd.eh, nf, ni, p, actions, out.signals[row],
                          out.terms[row], out.scalars[row], w, e, row, light0, light1)
        out.terminated[row] = flags >= 2
        out.truncated[row] = flags % 2 == 1
        if flags:
            ended |= 1 << e
        else:
            any_active = True
    # Egos leave the world only after every ego was judged on the same positions.
    for e in range(num_egos):
        if ended & (1 << e):
            ei[w, e, E_ACTIVE] = 0
    for e in range(num_egos):
        if ei[w, e, E_ACTIVE] or ended & (1 << e):  # cars that left earlier keep their rows
            observe(bank, wd, p, w, e, out.obs, out.bev, w * num_egos + e)
    if any_active and not truncate:
        return
    for e in range(num_egos):
        ei[w, e, E_ACTIVE] = 0
    out.done_world[w] = True
    if autoreset == SAME_STEP:
        for e in range(num_egos):
            row = w * num_egos + e
            out.final_obs[row] = out.obs[row]
            if p.bev:
                out.final_bev[row] = out.bev[row]
        reset_world(bank, wd, p, w)
        for e in range(num_egos):
            observe(bank, wd, p, w, e, out.obs, out.bev, w * num_egos + e)
    elif autoreset == NEXT_STEP:
        wi[w, W_NEEDS_RESET] = 1


@njit(cache=True)
def step_batch(bank, wd, p, actions, autoreset, out):
    """Step every world (serial loop)."""
    for w in range(wd.ef.shape[0]):
        step_world(bank, wd, p, actions, autoreset, out, w)


PARALLEL_CHUNK = 32  # worlds per task of the parallel kernel


@njit(cache=True)
def _step_chunk(bank, wd, p, actions, autoreset, out, chunk):
    # A real call inside the prange loop: with step_world's body inlined into the parfor,
    # numba 0.68 dropped the observation writes after the light block (caught by a test).
    # A chunk of worlds per call keeps the call's cost (its tuple arguments) negligible.
    for w in range(chunk * PARALLEL_CHUNK, min((chunk + 1) * PARALLEL_CHUNK, wd.ef.shape[0])):
        step_world(bank, wd, p, actions, autoreset, out, w)


@njit(cache=True, parallel=True)
def step_batch_parallel(bank, wd, p, actions, autoreset, out):
    """Step every world, spread over numba's threads (results do not depend on their number)."""
    for chunk in prange((wd.ef.shape[0] + PARALLEL_CHUNK - 1) // PARALLEL_CHUNK):
        _step_chunk(bank, wd, p, actions, autoreset, out, chunk)


@njit(cache=True)
def reset_rows(bank, wd, p, mask, out):
    """Reset the worlds in ``mask`` and write their observations."""
    num_egos = wd.ef.shape[1]
    for w in range(wd.ef.shape[0]):
        if mask[w]:
            reset_world(bank, wd, p, w)
            for e in range(num_egos):
                _clear_row(out, w * num_egos + e, True)
                observe(bank, wd, p, w, e, out.obs, out.bev, w * num_egos + e)
