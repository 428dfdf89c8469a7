"""RouteDrive's traffic: IDM cars on lane polylines, traffic lights, the actors' common view.

Traffic cars follow their lane with the Intelligent Driver Model (Treiber, Hennecke and Helbing,
"Congested traffic states in empirical observations and microscopic simulations", Phys. Rev. E
62, 2000), treating red and yellow stop lines as stopped leaders unless they are reckless; they
re-enter at a map entry once they leave. Lights alternate between two signal groups. Randomness
comes only from each world's counter-based stream (:mod:`rewardgym.envs.native.rng`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from rewardgym.envs.driving.geometry import advance_segment, pose_at
from rewardgym.envs.driving.state import (
    E_ACTIVE,
    E_COS,
    E_SIN,
    E_V,
    E_X,
    E_Y,
    GREEN,
    N_ACTIVE,
    N_COS,
    N_LANE,
    N_RECKLESS,
    N_S,
    N_SEG,
    N_SIN,
    N_V,
    N_VDES,
    N_X,
    N_Y,
    RED,
    W_GREEN,
    W_PHASE0,
    W_T,
    W_TMPL,
    YELLOW,
)
from rewardgym.envs.native.rng import next_u64, randint


@njit(cache=True, inline="always")
def uniform(rng, w, low, high):
    """A float uniform in ``[low, high)`` from world ``w``'s stream (53 random bits)."""
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
def world_lights(bank, wd, p, w):
    """``(state of group 0, state of group 1)`` in world ``w`` now (green without lights)."""
    light0, light1 = GREEN, GREEN
    tm = wd.wi[w, W_TMPL]
    if bank.n_groups[tm] > 0:
        t, green, phase0 = wd.wi[w, W_T], wd.wf[w, W_GREEN], wd.wf[w, W_PHASE0]
        light0 = light_state(t, p.dt, green, phase0, p.yellow_s, 0)[0]
        light1 = light_state(t, p.dt, green, phase0, p.yellow_s, 1)[0]
    return light0, light1


@njit(cache=True, inline="always")
def other_actor(ef, ei, nf, ni, w, j, k_npc):
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
def place_npc(lane_xy, lane_s, lane_n, lane_vlim, ef, ei, nf, ni, rng, p, w, tm, k, lane, s):
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
    vdes = lane_vlim[tm, lane] * uniform(rng, w, p.npc_speed_min, p.npc_speed_max)
    nf[w, k, N_S], nf[w, k, N_VDES] = s, vdes
    nf[w, k, N_V] = vdes * uniform(rng, w, 0.5, 1.0)
    nf[w, k, N_X], nf[w, k, N_Y] = x, y
    nf[w, k, N_COS], nf[w, k, N_SIN] = c, sn
    ni[w, k, N_LANE], ni[w, k, N_SEG] = lane, seg
    ni[w, k, N_RECKLESS] = uniform(rng, w, 0.0, 1.0) < p.reckless_prob
    ni[w, k, N_ACTIVE] = 1
    return True


@njit(cache=True, inline="always")
def npc_step(lane_xy, lane_s, lane_n, lane_vlim, lane_group, lane_stop, lane_next,
              lane_source, n_lanes, ef, ei, nf, ni, rng, p, w, tm, k, light0, light1):
    """One IDM step of traffic car ``k`` (it re-enters at a map entry after leaving)."""
    if not ni[w, k, N_ACTIVE]:
        lane = randint(rng, w, 0, n_lanes[tm])
        if lane_source[tm, lane]:
            place_npc(lane_xy, lane_s, lane_n, lane_vlim, ef, ei, nf, ni, rng, p, w, tm, k,
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
        active, ox, oy, ov, oc, os = other_actor(ef, ei, nf, ni, w, j, k_npc)
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
