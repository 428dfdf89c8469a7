"""RouteDrive's infractions: CaRL's hard and soft infraction signals of one ego per tick.

After CaRL (Jaeger et al., "CaRL: Learning Scalable Planning Policies with Simple Rewards",
CoRL 2025; code read at jkli-2/CaRL @ 829e7eeb, ``CARLA/team_code/reward/simple_reward.py``):
:func:`detect_infractions` writes the signals row (``state.SIGNALS`` order; hard ones 0/1, soft
ones severities in [0, 1]) and decides whether the episode terminates or truncates;
:func:`driving_score` keeps the leaderboard's score (route completion x penalty product x share
of the route driven inside the route lanes). What the signals cost is the reward mode's business
(:mod:`rewardgym.envs.driving.rewards`), never this module's.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rewardgym.envs.driving.geometry import boxes_overlap, raster_bits, wrap_angle
from rewardgym.envs.driving.maps import DRIVABLE, LANE_WIDTH, MAX_STOPS, NO_LANE, ROUTE0
from rewardgym.envs.driving.savgol import HISTORY, MIN_FRAMES, last_value_tables
from rewardgym.envs.driving.state import (
    BLOCKED,
    COLLISION,
    COMFORT,
    COMFORT_METRICS,
    E_ACC,
    E_BLOCKED,
    E_COMF_CD,
    E_COS,
    E_FRONT,
    E_HIST_N,
    E_LAT,
    E_LEN,
    E_OUTSIDE,
    E_PENALTY,
    E_PSI,
    E_RCMAX,
    E_ROUTE,
    E_S,
    E_SEG,
    E_SIN,
    E_V,
    E_WRONG,
    E_X,
    E_Y,
    E_YAW,
    E_YR,
    H_LAT,
    H_LON,
    H_MAG,
    H_YAW,
    LANE_CENTER,
    OFF_ROAD,
    OFF_ROUTE,
    OUTSIDE,
    RED,
    RED_LIGHT,
    ROUTE_DONE,
    SPEEDING,
    TIMEOUT,
    TTC,
    W_LIMIT,
    W_T,
    W_TMPL,
    WRONG_WAY,
)
from rewardgym.envs.driving.traffic import other_actor

# CaRL's TTC (simple_reward.py, does_agent_violate_ttc): forecasts at these times, skipped below
# 0.1 m/s ego speed (its stopped_speed_threshold).
TTC_HORIZONS = (0.1, 0.3, 0.5, 0.7, 0.9)
TTC_MIN_SPEED = 0.1
# Leaderboard penalties (leaderboard/utils/statistics_manager.py, PENALTY_VALUE_DICT). A route
# that times out has no multiplier there (0.7 is for scenario timeouts), so none here.
LEADERBOARD_COLLISION, LEADERBOARD_RED_LIGHT = 0.6, 0.7
# CaRL's comfort filters as coefficient vectors (see rewardgym.envs.driving.savgol); numba
# compiles these read-only module arrays in as constants.
_SG = last_value_tables()
SG_SMOOTH, SG_JERK, SG_YAW_RATE, SG_YAW_ACCEL = (_SG["smooth"], _SG["jerk"], _SG["yaw_rate"],
                                                _SG["yaw_accel"])


@njit(cache=True, inline="always")
def comfort_check(p, eh, ei, w, e, lon, lat, yaw):
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
def detect_infractions(bank, wd, p, sig, w, e, rc, light0, light1):
    """Write ego ``e``'s signals row ``sig`` for this tick; returns ``terminated * 2 + truncated``.

    Reads the pose :func:`~rewardgym.envs.driving.dynamics.track_route` stored and ``rc``, the
    route completion (%) at it; updates the ego's infraction counters (front-bumper arc, wrong
    way and blocked steps, comfort history and holds, metres outside the route lanes).
    """
    wi, ef, ei, nf, ni = wd.wi, wd.ef, wd.ei, wd.nf, wd.ni
    tm, r = wi[w, W_TMPL], ei[w, e, E_ROUTE]
    x, y, yaw, v = ef[w, e, E_X], ef[w, e, E_Y], ef[w, e, E_YAW], ef[w, e, E_V]
    s_here, lat, psi = ef[w, e, E_S], ef[w, e, E_LAT], ef[w, e, E_PSI]
    sig[:] = 0.0
    vlim = bank.route_vlim[tm, r, ei[w, e, E_SEG]]
    c, s = ef[w, e, E_COS], ef[w, e, E_SIN]
    # Hard infractions: collision (oriented boxes), and the time-to-collision soft one (every
    # actor, around the ego or behind it, as CaRL's does_agent_violate_ttc; not at standstill).
    k_npc = nf.shape[1]
    reach = math.sqrt(p.car_length ** 2 + p.car_width ** 2)  # boxes this far apart cannot touch
    for j in range(k_npc + ef.shape[1]):
        if j == k_npc + e:
            continue
        active, ox, oy, ov, oc, os = other_actor(ef, ei, nf, ni, w, j, k_npc)
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
    # Red light: the front bumper crossed a stop line this tick while its light was red.
    front = s_here + 0.5 * p.car_length
    for m in range(MAX_STOPS):
        stop = bank.route_stop_s[tm, r, m]
        if stop < 0.0:
            continue
        state = light0 if bank.route_stop_group[tm, r, m] == 0 else light1
        if ef[w, e, E_FRONT] < stop <= front and state == RED:
            sig[RED_LIGHT] = 1.0
    ef[w, e, E_FRONT] = front
    off = 0
    hl, hw = 0.5 * p.car_length, 0.5 * p.car_width
    for corner in range(4):
        lx = hl if corner < 2 else -hl
        ly = hw if corner % 2 == 0 else -hw
        if not raster_bits(bank.raster, bank.origin, tm, x + lx * c - ly * s,
                           y + lx * s + ly * c) & DRIVABLE:
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
    sig[COMFORT] = comfort_check(p, wd.eh, ei, w, e, ef[w, e, E_ACC], v * ef[w, e, E_YR],
                                 yaw) / COMFORT_METRICS
    centre = lane_centre_distance(bank.near_lane, bank.near_seg, bank.lane_xy, bank.lane_n,
                                  bank.lane_junction, bank.origin, tm, x, y)
    if centre >= 0.0:
        sig[LANE_CENTER] = min(centre / (0.5 * LANE_WIDTH), 1.0)
    if not raster_bits(bank.raster, bank.origin, tm, x, y) & (ROUTE0 << r):
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
    return 2 * terminated + truncated


@njit(cache=True, inline="always")
def driving_score(ef, sig, w, e):
    """The leaderboard's driving score so far: RC x penalties x share driven in route lanes.

    Multiplies this tick's collision and red-light penalties into the ego's product first.
    """
    if sig[COLLISION] > 0.0:
        ef[w, e, E_PENALTY] *= LEADERBOARD_COLLISION
    if sig[RED_LIGHT] > 0.0:
        ef[w, e, E_PENALTY] *= LEADERBOARD_RED_LIGHT
    inside = max(1.0 - ef[w, e, E_OUTSIDE] / ef[w, e, E_LEN], 0.0)
    return ef[w, e, E_RCMAX] * ef[w, e, E_PENALTY] * inside
