"""RouteDrive's step and reset kernels: one tick of every world, episode draws, autoreset.

A *world* holds one road template, ``E`` ego cars (1 for the Gymnasium envs, several for the
PettingZoo intersection) and ``K`` IDM traffic cars.  :func:`step_batch` advances every world by
one 10 Hz tick in one call: ego kinematic bicycles (:mod:`~rewardgym.envs.driving.dynamics`),
traffic and lights (:mod:`~rewardgym.envs.driving.traffic`), route tracking, CaRL's infractions
(:mod:`~rewardgym.envs.driving.infractions`), the reward of the configured mode
(:mod:`~rewardgym.envs.driving.rewards`), observations
(:mod:`~rewardgym.envs.driving.observe`), and in-kernel autoreset. Randomness comes only from each
world's counter-based stream (:mod:`rewardgym.envs.native.rng`), so world ``i`` of a batch seeded
``s`` is bit-identical to a single env seeded ``s + i``, for any thread count.

The layout constants (:mod:`~rewardgym.envs.driving.state`), the reward modes' term names and the
kernel parameters are re-exported here, the one module the shells read.
"""

from __future__ import annotations

import math

from numba import njit, prange

from rewardgym.envs.driving.config import KernelParams  # noqa: F401  (re-exported)
from rewardgym.envs.driving.dynamics import move_ego, project, track_route
from rewardgym.envs.driving.geometry import advance_segment, point_at
from rewardgym.envs.driving.infractions import detect_infractions, driving_score
from rewardgym.envs.driving.maps import ROUTE0  # noqa: F401  (re-exported)
from rewardgym.envs.driving.observe import observe
from rewardgym.envs.driving.rewards import (  # noqa: F401  (re-exported)
    CARL,
    PROGRESS,
    ROACH,
    SPARSE,
    TERM_NAMES,
    mode_reward,
    soft_factor,
)
from rewardgym.envs.driving.state import (  # noqa: F401  (re-exported: the shells read them here)
    ACTOR_FEATURES,
    ACTORS,
    BEV_CHANNELS,
    BLOCKED,
    COLLISION,
    COMFORT,
    COMFORT_METRICS,
    E_ACC,
    E_ACT0,
    E_ACT1,
    E_ACTIVE,
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
    E_S0,
    E_SEG,
    E_SIN,
    E_STEER,
    E_TTC_CD,
    E_TTC_HELD,
    E_V,
    E_WRONG,
    E_X,
    E_Y,
    E_YAW,
    E_YR,
    EF_COLS,
    EGO_FEATURES,
    EI_COLS,
    GREEN,
    H_LAT,
    H_LON,
    H_MAG,
    H_YAW,
    HARD,
    LANE_CENTER,
    LIGHT_FEATURES,
    LOOKAHEAD,
    LOOKAHEAD_STEP,
    MAX_TERMS,
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
    OFF_ROAD,
    OFF_ROUTE,
    OUT_PROGRESS,
    OUT_RC,
    OUT_REWARD,
    OUT_SCORE,
    OUTSIDE,
    RED,
    RED_LIGHT,
    ROUTE_DONE,
    SENSE_RANGE,
    SIGNALS,
    SPEEDING,
    TIMEOUT,
    TTC,
    VALUE_FEATURES,
    W_GREEN,
    W_LIMIT,
    W_NEEDS_RESET,
    W_PHASE0,
    W_T,
    W_TMPL,
    WRONG_WAY,
    YELLOW,
    StepOut,
    World,
    new_step_out,
    new_world,
    obs_length,
)
from rewardgym.envs.driving.traffic import (  # noqa: F401  (light_state re-exported)
    light_state,
    npc_step,
    place_npc,
    uniform,
    world_lights,
)
from rewardgym.envs.native import NEXT_STEP, SAME_STEP
from rewardgym.envs.native.rng import randint


@njit(cache=True)
def reset_world(bank, wd, p, w):
    """Draw a new episode for world ``w`` from its stream."""
    rng, ef, ei, nf, ni = wd.rng, wd.ef, wd.ei, wd.nf, wd.ni
    tm = randint(rng, w, 0, bank.n_lanes.shape[0])
    wd.wi[w, W_TMPL], wd.wi[w, W_T], wd.wi[w, W_NEEDS_RESET] = tm, 0, 0
    green = uniform(rng, w, p.green_min_s, p.green_max_s)
    wd.wf[w, W_GREEN] = green
    wd.wf[w, W_PHASE0] = uniform(rng, w, 0.0, 2.0 * (green + p.yellow_s))
    n_routes = bank.n_routes[tm]
    limit = p.min_timeout_steps
    num_egos = ef.shape[1]
    for e in range(num_egos):
        r = e % n_routes if num_egos > 1 else randint(rng, w, 0, n_routes)
        n = bank.route_n[tm, r]
        s0 = uniform(rng, w, 0.0, 10.0)
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
        ef[w, e, E_V] = vlim * uniform(rng, w, 0.0, p.init_speed_frac)
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
            if place_npc(bank.lane_xy, bank.lane_s, bank.lane_n, bank.lane_vlim, ef, ei, nf, ni,
                          rng, p, w, tm, k, lane, uniform(rng, w, 0.0, length)):
                break


@njit(cache=True, inline="always")
def judge_ego(bank, wd, p, actions, sig, terms, out_f, w, e, row, light0, light1):
    """Route tracking, infractions, reward and driving score of ego ``e`` after its move.

    Writes ``sig`` (the signals row) and ``terms``; ``out_f`` gets (reward, progress, RC,
    score). Returns ``terminated * 2 + truncated`` (both can be set).
    """
    ef = wd.ef
    progress, rc = track_route(bank, wd, w, e)
    flags = detect_infractions(bank, wd, p, sig, w, e, rc, light0, light1)
    mult = soft_factor(p, sig, ef, wd.ei, w, e)
    reward = mode_reward(bank, wd, p, actions[row, 0], sig, terms, progress, mult, flags != 0, w,
                         e, light0, light1)
    out_f[OUT_SCORE] = driving_score(ef, sig, w, e)
    out_f[OUT_REWARD] = reward
    out_f[OUT_PROGRESS] = progress
    out_f[OUT_RC] = ef[w, e, E_RCMAX]
    ef[w, e, E_ACT0], ef[w, e, E_ACT1] = actions[row, 0], actions[row, 1]
    return flags


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
    light0, light1 = world_lights(bank, wd, p, w)
    for e in range(num_egos):
        if ei[w, e, E_ACTIVE]:
            move_ego(ef, p, actions, w, e, w * num_egos + e)
    for k in range(nf.shape[1]):
        npc_step(bank.lane_xy, bank.lane_s, bank.lane_n, bank.lane_vlim, bank.lane_group,
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
        flags = judge_ego(bank, wd, p, actions, out.signals[row], out.terms[row],
                          out.scalars[row], w, e, row, light0, light1)
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
