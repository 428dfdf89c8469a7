"""RouteDrive's observations: the vector observation and the bird's-eye-view raster of an ego.

The vector (``state.obs_length`` floats, each scaled well inside ``[-5, 5]``): ego state, route
look-ahead points in the ego frame, the nearest other cars, the next traffic light, route
completion and CaRL's value measurements; the raster: road, route, cars coded by speed and stop
lines coded by light state, ego-centric at 1 px/m (CaRL draws 256 x 256 at 2 px/m).
"""

from __future__ import annotations

import math

from numba import njit

from rewardgym.envs.driving.geometry import (
    advance_segment,
    point_at,
    position_at,
    raster_bits,
)
from rewardgym.envs.driving.maps import DRIVABLE, LANE_WIDTH, MAX_STOPS
from rewardgym.envs.driving.state import (
    ACTOR_FEATURES,
    ACTORS,
    COMFORT_METRICS,
    E_ACT0,
    E_ACT1,
    E_BLOCKED,
    E_COMF_CD,
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
    EGO_FEATURES,
    LIGHT_FEATURES,
    LOOKAHEAD,
    LOOKAHEAD_STEP,
    RED,
    SENSE_RANGE,
    W_GREEN,
    W_LIMIT,
    W_PHASE0,
    W_T,
    W_TMPL,
    YELLOW,
)
from rewardgym.envs.driving.traffic import light_state, other_actor


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
        active, ox, oy, _, _, _ = other_actor(ef, ei, nf, ni, w, j, k_npc)
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
        _, ox, oy, ov, oc, os = other_actor(ef, ei, nf, ni, w, si[m], k_npc)
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
        draw_bev(bank, wd, p, w, e, bev[row])


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
def draw_bev(bank, wd, p, w, e, img):
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
        active, ox, oy, ov, oc, os = other_actor(ef, ei, nf, ni, w, j, k_npc)
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
