"""RouteDrive's own reward modes: one numba function per mode, over named term slots.

Each mode writes its terms into the row ``terms`` at the slot constants defined next to its
term names (``CARL_TERMS`` and ``CARL_PROGRESS``, ``CARL_TERMINAL``, ...), and returns their sum;
``info["reward_terms"]`` names the slots with :data:`TERM_NAMES` of the configured mode. Every
mode reads only named per-tick quantities (the progress, the soft factor, the infraction
signals, speed, target speed, lateral and heading error), the quantities the reward view
(:mod:`rewardgym.envs.driving.view`) publishes.

* ``carl`` (:func:`carl_reward`): CaRL's ``ΔRC x Π soft factors + T`` (Jaeger et al., "CaRL:
  Learning Scalable Planning Policies with Simple Rewards", CoRL 2025; jkli-2/CaRL @ 829e7eeb,
  ``CARLA/team_code/reward/simple_reward.py``), ``T = -terminal_penalty`` once when a collision
  or red light ends the episode; the soft factor is :func:`soft_factor`.
* ``roach`` (:func:`roach_reward`): Roach's summed speed, position, rotation, action and
  terminal terms (Zhang et al., ICCV 2021) as CaRL re-implemented them
  (ngductri/carl ``roach_reward.py``), with :func:`roach_target_speed` the hazard-lowered
  desired speed.
* ``progress`` (:func:`progress_reward`): ``ΔRC`` alone; the infractions stay in ``info`` for
  a reward wrapper (``rewardgym.wrappers.driving.infraction_table`` turns it into ``carl``).
* ``sparse`` (:func:`sparse_reward`): 100 on finishing the route.
"""

from __future__ import annotations

import math

from numba import njit

from rewardgym.envs.driving.config import REWARD_MODES
from rewardgym.envs.driving.maps import MAX_STOPS
from rewardgym.envs.driving.state import (
    COLLISION,
    COMFORT,
    E_ACT0,
    E_COS,
    E_LAT,
    E_PSI,
    E_ROUTE,
    E_S,
    E_SIN,
    E_TTC_CD,
    E_TTC_HELD,
    E_V,
    E_X,
    E_Y,
    GREEN,
    LANE_CENTER,
    MAX_TERMS,
    OUTSIDE,
    RED_LIGHT,
    ROUTE_DONE,
    SPEEDING,
    TTC,
    W_TMPL,
)
from rewardgym.envs.driving.traffic import other_actor

# Mode codes: the index of the mode's name in config.REWARD_MODES (KernelParams.reward_mode).
CARL, ROACH, PROGRESS, SPARSE = (REWARD_MODES.index(name)
                                 for name in ("carl", "roach", "progress", "sparse"))

# Term names and their slots in the terms row, mode by mode.
CARL_TERMS = ("progress", "terminal")
CARL_PROGRESS, CARL_TERMINAL = range(len(CARL_TERMS))
ROACH_TERMS = ("speed", "position", "rotation", "action", "terminal")
ROACH_SPEED, ROACH_POSITION, ROACH_ROTATION, ROACH_ACTION, ROACH_TERMINAL = range(
    len(ROACH_TERMS))
PROGRESS_TERMS = ("progress",)
PROGRESS_PROGRESS = 0
SPARSE_TERMS = ("route_done",)
SPARSE_ROUTE_DONE = 0
_TERMS_OF = {CARL: CARL_TERMS, ROACH: ROACH_TERMS, PROGRESS: PROGRESS_TERMS,
             SPARSE: SPARSE_TERMS}
# TERM_NAMES[mode code]: the names of that mode's term slots, in slot order.
TERM_NAMES: tuple[tuple[str, ...], ...] = tuple(_TERMS_OF[code]
                                                for code in range(len(REWARD_MODES)))
if max(len(names) for names in TERM_NAMES) > MAX_TERMS:
    raise ValueError(f"driving rewards: a mode has more terms than state.MAX_TERMS={MAX_TERMS}")

# Roach's speed hazards as CaRL's reproduction evaluates them (roach_reward.py with carla-roach's
# hazard_actor.lbc_hazard_vehicle and TrafficLightHandler.get_light_state): a vehicle within
# 9.5 m centre to centre, less than 45° off the ego's heading, whose heading differs by at most
# 150° (not oncoming); a red or yellow light whose stop line is within 18 m of a point 0.8 half
# lengths behind the ego's centre (rr_tl_offset), judged by the distance from the ego's centre.
ROACH_VEHICLE_RANGE, ROACH_VEHICLE_DEG, ROACH_SAME_HEADING_DEG = 9.5, 45.0, 150.0
ROACH_VEHICLE_D0, ROACH_LIGHT_D0, ROACH_LIGHT_RANGE, ROACH_TL_OFFSET = 8.0, 5.0, 18.0, -0.8


@njit(cache=True, inline="always")
def held_factor(severity, factor_if_active, hold, countdown, held):
    """The multiplier of one soft rule, held for ``hold`` steps (InfractionPenalty's rule).

    Returns ``(factor, countdown, held)``: the factor of this step and the rule's new state.
    """
    factor = factor_if_active if severity > 0.0 else 1.0
    if severity > 0.0 and hold > 0:
        countdown, held = hold, factor
    if countdown > 0:
        factor = min(factor, held)
        countdown -= 1
    return factor, countdown, held


@njit(cache=True, inline="always")
def soft_factor(p, sig, ef, ei, w, e):
    """CaRL's product of soft penalty factors this tick, in InfractionPenalty's rule order.

    Speeding ``1 - severity``, TTC ``ttc_factor`` held ``ttc_hold_steps`` (the hold's state
    lives in the ego's ``E_TTC_CD`` / ``E_TTC_HELD`` and is updated here, in every mode, since the
    observation's value features show it), comfort ``1 - comfort_weight * share``, lane centre
    ``1 - severity``, outside the route lanes 0.
    """
    mult = 1.0
    mult *= 1.0 - 1.0 * min(sig[SPEEDING], 1.0) if sig[SPEEDING] > 0.0 else 1.0
    f, ei[w, e, E_TTC_CD], ef[w, e, E_TTC_HELD] = held_factor(
        sig[TTC], p.ttc_factor, p.ttc_hold_steps, ei[w, e, E_TTC_CD], ef[w, e, E_TTC_HELD])
    mult *= f
    mult *= 1.0 - p.comfort_weight * min(sig[COMFORT], 1.0) if sig[COMFORT] > 0.0 else 1.0
    mult *= 1.0 - 1.0 * min(sig[LANE_CENTER], 1.0) if sig[LANE_CENTER] > 0.0 else 1.0
    mult *= 0.0 if sig[OUTSIDE] > 0.0 else 1.0
    return mult


@njit(cache=True, inline="always")
def carl_reward(p, sig, progress, mult, terms):
    """CaRL: ``progress x mult`` plus the terminal penalty.

    The penalty is paid once however many of collision / red light ended the episode
    (simple_reward.py ≈ lines 254–265).
    """
    terminal = -p.terminal_penalty if sig[COLLISION] > 0.0 or sig[RED_LIGHT] > 0.0 else 0.0
    reward = progress * mult + terminal
    terms[CARL_PROGRESS], terms[CARL_TERMINAL] = reward - terminal, terminal
    return reward


@njit(cache=True, inline="always")
def progress_reward(progress, terms):
    """The route completion gained this tick (percentage points), nothing else."""
    terms[PROGRESS_PROGRESS] = progress
    return progress


@njit(cache=True, inline="always")
def sparse_reward(sig, terms):
    """100 on the tick the route is finished, else 0."""
    reward = 100.0 if sig[ROUTE_DONE] > 0.0 else 0.0
    terms[SPARSE_ROUTE_DONE] = reward
    return reward


@njit(cache=True, inline="always")
def roach_target_speed(bank, wd, p, w, e, light0, light1):
    """Roach's desired speed: ``roach_vmax`` lowered near a vehicle or a red/yellow light ahead.

    ``roach_vmax * clip(d - d0, 0, 5) / 5`` for the nearest hazard, with the geometry of the
    ``ROACH_*`` constants.
    """
    ef, ei, nf, ni = wd.ef, wd.ei, wd.nf, wd.ni
    x, y = ef[w, e, E_X], ef[w, e, E_Y]
    c, s = ef[w, e, E_COS], ef[w, e, E_SIN]
    v_des = p.roach_vmax
    cos_cone = math.cos(math.radians(ROACH_VEHICLE_DEG))
    cos_same = math.cos(math.radians(ROACH_SAME_HEADING_DEG))
    k_npc = nf.shape[1]
    for j in range(k_npc + ef.shape[1]):
        if j == k_npc + e:
            continue
        active, ox, oy, _, oc, os = other_actor(ef, ei, nf, ni, w, j, k_npc)
        if not active:
            continue
        d2 = (ox - x) ** 2 + (oy - y) ** 2
        if d2 <= ROACH_VEHICLE_RANGE * ROACH_VEHICLE_RANGE:
            d = math.sqrt(d2)
            ahead = (ox - x) * c + (oy - y) * s
            if (d < 0.001 or ahead > cos_cone * d) and oc * c + os * s >= cos_same:
                v_des = min(v_des, p.roach_vmax * min(max(d - ROACH_VEHICLE_D0, 0.0), 5.0) / 5.0)
    tm, r = wd.wi[w, W_TMPL], ei[w, e, E_ROUTE]
    s_here = ef[w, e, E_S]
    hit = s_here + ROACH_TL_OFFSET * 0.5 * p.car_length
    for m in range(MAX_STOPS):
        stop = bank.route_stop_s[tm, r, m]
        if stop < 0.0:
            continue
        state = light0 if bank.route_stop_group[tm, r, m] == 0 else light1
        if state != GREEN and hit < stop <= hit + ROACH_LIGHT_RANGE:
            v_des = min(v_des, p.roach_vmax * min(max(
                abs(stop - s_here) - ROACH_LIGHT_D0, 0.0), 5.0) / 5.0)
    return v_des


@njit(cache=True, inline="always")
def roach_reward(p, sig, speed, target_speed, lateral, heading, steer_change, ended, terms):
    """Roach's summed reward as CaRL re-implemented it (ngductri/carl ``roach_reward.py``).

    Speed ``1 - |v - v_des| / v_max``, position ``-|lateral| / 2``, rotation ``-|heading|``,
    action ``-0.1`` when the steering changed by more than 0.01, terminal ``-1`` whenever the
    episode ends, truncation included ("if termination or truncation: terminal_reward = -1.0"),
    less the speed on collision / red light.
    """
    terms[ROACH_SPEED] = 1.0 - abs(speed - target_speed) / p.roach_vmax
    terms[ROACH_POSITION] = -abs(lateral) / 2.0
    terms[ROACH_ROTATION] = -abs(heading)
    terms[ROACH_ACTION] = -0.1 if steer_change > 0.01 else 0.0
    if ended:
        crashed = sig[COLLISION] > 0.0 or sig[RED_LIGHT] > 0.0
        terms[ROACH_TERMINAL] = -1.0 - (speed if crashed else 0.0)
    return (terms[ROACH_SPEED] + terms[ROACH_POSITION] + terms[ROACH_ROTATION]
            + terms[ROACH_ACTION] + terms[ROACH_TERMINAL])


@njit(cache=True, inline="always")
def mode_reward(bank, wd, p, steer, sig, terms, progress, mult, ended, w, e, light0, light1):
    """The reward of the configured mode for ego ``e`` this tick; fills ``terms`` (zeros first).

    ``steer`` is this tick's steering action, ``ended`` whether the episode ends on this tick.
    """
    terms[:] = 0.0
    if p.reward_mode == CARL:
        return carl_reward(p, sig, progress, mult, terms)
    if p.reward_mode == PROGRESS:
        return progress_reward(progress, terms)
    if p.reward_mode == SPARSE:
        return sparse_reward(sig, terms)
    ef = wd.ef
    return roach_reward(p, sig, ef[w, e, E_V],
                        roach_target_speed(bank, wd, p, w, e, light0, light1),
                        ef[w, e, E_LAT], ef[w, e, E_PSI], abs(steer - ef[w, e, E_ACT0]), ended,
                        terms)
