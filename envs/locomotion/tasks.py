"""Reference rewards and success predicates of the locomotion tasks, one numba kernel.

The behaviours are the ones Text2Reward (Xie et al., ICLR 2024) and VLM-RM (Rocamonde et al.,
ICLR 2024) trained but judged by human raters; here each has a machine-checkable predicate
(``info["is_success"]``) and a hand-written dense reference reward whose named terms sum to the
reward. The kernel reads only the feature rows (``rewardgym.envs.locomotion.view``), the
action and a small per-env memory, so an LLM-written program can replace the reward on the same
inputs.

Success predicates (thresholds are :class:`~rewardgym.envs.locomotion.config.LocomotionConfig`
fields):

* ``half_cheetah_backward``: torso displacement over the last ``speed_window`` steps divided by
  their duration is below ``-backward_speed`` (not latched: it is the current window);
* ``hopper_back_flip`` / ``hopper_front_flip``: the accumulated pitch reaches ``-flip_angle`` /
  ``+flip_angle``, and afterwards the hopper stands (``cos(pitch) >= upright_cos``, foot in
  contact, torso above :data:`LAND_MIN_Z`) for ``land_hold_steps`` consecutive steps;
* ``hopper_jump``: the torso reaches ``jump_height`` with ``cos(pitch) >= upright_cos``;
* ``ant_lie_down``: torso below ``lie_height`` with ``up_z >= lie_up_z`` for ``hold_steps``,
  a hold that began within ``lie_within`` steps of the reset when that is set (v2: the ant
  settles into the pose on its own, so v1's untimed test is passed by doing nothing);
* ``ant_wave_leg``: the front-left foot rises above ``wave_height`` ``wave_count`` times (it must
  drop :data:`WAVE_HYSTERESIS` below between raises), each time with the other three feet on the
  floor and the torso upright (``up_z >= ANT_UPRIGHT``): a wave, not a hop or a tumble;
* ``humanoid_kneel``: both knees below ``knee_height``, ``up_z >= kneel_up_z`` and torso above
  ``kneel_min_height`` for ``hold_steps``;
* ``ant_goal``: horizontal distance to the goal below ``goal_radius`` with the torso upright
  (``up_z >= ANT_UPRIGHT``; terminates).

Event predicates latch: once reached, ``is_success`` stays True for the episode. Sparse mode
(``reward_mode="sparse"``) pays one term, ``success``: 1.0 on the step an event predicate is first
reached, and for the backward run 1.0 on every step the window predicate holds.
"""

from __future__ import annotations

import math

from numba import njit

from rewardgym.envs.locomotion.config import (
    P_ARRIVAL,
    P_CTRL,
    P_DT,
    P_FALL_Z,
    P_FLIP,
    P_GOAL_R,
    P_HOLD,
    P_JUMP,
    P_KNEE_Z,
    P_KNEEL_UP,
    P_KNEEL_Z,
    P_LAND_HOLD,
    P_LIE_UP,
    P_LIE_WITHIN,
    P_LIE_Z,
    P_SPARSE,
    P_SPEED,
    P_UPRIGHT,
    P_WAVE_Z,
    P_WAVES,
    P_WINDOW,
)
from rewardgym.envs.locomotion.view import (
    PITCH,
    T_CONTACT,
    T_FOOT_Z,
    T_GOAL,
    T_KNEE,
    T_NF,
    T_NK,
    TORSO_X,
    TORSO_Z,
    UP_Z,
    VEL_X,
)

M_LATCH, M_HOLD, M_AUX, M_COUNT = range(4)
N_MEMORY = 4
LAND_MIN_Z = 0.7  # m: a landed hopper's torso is above this (it stands at 1.25, lies at ~0.2)
WAVE_HYSTERESIS = 0.05  # m: a raised foot must drop this far below wave_height to re-arm
ANT_UPRIGHT = 0.9  # up_z an ant must have while waving or on arriving at its goal
SUCCESS_BONUS = 10.0  # dense reward on the step an event predicate is first reached


@njit(cache=True)
def task_reset(code, rows, feat, mem, ring, steps):
    """Clear the per-env memory of the rows being reset (their features are already filled)."""
    for i in range(feat.shape[0]):
        if not rows[i]:
            continue
        mem[i, :] = 0.0
        steps[i] = 0
        ring[i, 0] = feat[i, TORSO_X]
        if code == 3:
            mem[i, M_AUX] = feat[i, TORSO_Z]  # best height so far


@njit(cache=True)
def _hold(mem, i, condition, needed):
    """Count consecutive steps of ``condition``; True once ``needed`` are reached."""
    mem[i, M_HOLD] = mem[i, M_HOLD] + 1.0 if condition else 0.0
    return mem[i, M_HOLD] >= needed


@njit(cache=True)
def task_step(code, p, tail, rows, prev, feat, act, mem, ring, steps, terms, reward, success,
              terminated):
    """Reward terms, reward, success and termination of the ``rows`` that were stepped.

    ``terms[i]`` gets the task's terms in :data:`~rewardgym.envs.locomotion.config.TASKS` order
    (dense) or the single ``success`` term (sparse); ``reward[i]`` is their sum in that order.
    """
    dt = p[P_DT]
    for i in range(feat.shape[0]):
        if not rows[i]:
            continue
        f = feat[i]
        g = prev[i]
        steps[i] += 1
        t = steps[i]
        ctrl = 0.0
        for a in range(act.shape[1]):
            ctrl -= act[i, a] * act[i, a]
        ctrl *= p[P_CTRL]
        reached = False  # an event predicate holds at this step
        window_ok = False  # the backward-run predicate holds at this step
        done = p[P_FALL_Z] > 0.0 and f[TORSO_Z] < p[P_FALL_Z]
        contact = 0.0
        for k in range(tail[T_NF]):
            contact = max(contact, f[tail[T_CONTACT] + k])
        n = 0  # dense terms before ctrl
        if code == 0:
            w = int(p[P_WINDOW])
            ring[i, t % (w + 1)] = f[TORSO_X]
            if t >= w:
                mean_vel = (f[TORSO_X] - ring[i, (t - w) % (w + 1)]) / (w * dt)
                window_ok = mean_vel < -p[P_SPEED]
            terms[i, 0] = -f[VEL_X]
            n = 1
        elif code == 1 or code == 2:
            s = -1.0 if code == 1 else 1.0
            a_flip = p[P_FLIP]
            if s * f[PITCH] >= a_flip:
                mem[i, M_AUX] = 1.0
            flipped = mem[i, M_AUX] > 0.0
            upright = math.cos(f[PITCH])
            landed = flipped and upright >= p[P_UPRIGHT] and contact > 0.0 \
                and f[TORSO_Z] > LAND_MIN_Z
            reached = _hold(mem, i, landed, p[P_LAND_HOLD])
            # Rotation progress in the wanted direction, capped at one full turn.
            terms[i, 0] = 10.0 * (min(s * f[PITCH], a_flip) - min(s * g[PITCH], a_flip))
            terms[i, 1] = max(upright, 0.0) * contact if flipped else 0.0
            n = 2
        elif code == 3:
            best = mem[i, M_AUX]
            terms[i, 0] = 10.0 * max(f[TORSO_Z] - best, 0.0)  # sums to 10 x (apex - start)
            mem[i, M_AUX] = max(best, f[TORSO_Z])
            upright = math.cos(f[PITCH])
            terms[i, 1] = 0.1 * upright
            reached = f[TORSO_Z] >= p[P_JUMP] and upright >= p[P_UPRIGHT]
            n = 2
        elif code == 4:
            lying = f[TORSO_Z] <= p[P_LIE_Z] and f[UP_Z] >= p[P_LIE_UP]
            # A hold under way began at step t - held; a new one begins now (held = 0).
            within = p[P_LIE_WITHIN]
            in_time = within == 0.0 or t - mem[i, M_HOLD] <= within
            reached = _hold(mem, i, lying and in_time, p[P_HOLD])
            terms[i, 0] = math.exp(-10.0 * max(f[TORSO_Z] - p[P_LIE_Z], 0.0))
            terms[i, 1] = 0.5 * f[UP_Z]
            n = 2
        elif code == 5:
            foot = f[tail[T_FOOT_Z]]
            stance = True  # the other feet all on the floor: a wave, not a stumble or a hop
            for k in range(1, tail[T_NF]):
                stance = stance and f[tail[T_CONTACT] + k] > 0.0
            if mem[i, M_AUX] == 0.0 and foot > p[P_WAVE_Z] and stance \
                    and f[UP_Z] >= ANT_UPRIGHT:
                mem[i, M_AUX] = 1.0
                mem[i, M_COUNT] += 1.0
            elif mem[i, M_AUX] > 0.0 and foot < p[P_WAVE_Z] - WAVE_HYSTERESIS:
                mem[i, M_AUX] = 0.0
            reached = mem[i, M_COUNT] >= p[P_WAVES]
            terms[i, 0] = 2.0 * min(foot, p[P_WAVE_Z] + 0.1)
            terms[i, 1] = 0.1 * min(abs(foot - g[tail[T_FOOT_Z]]) / dt, 5.0)
            terms[i, 2] = 0.5 * f[UP_Z]
            n = 3
        elif code == 6:
            knee = -1e9
            mean_knee = 0.0
            for k in range(tail[T_NK]):
                knee = max(knee, f[tail[T_KNEE] + k])
                mean_knee += f[tail[T_KNEE] + k] / tail[T_NK]
            kneeling = knee <= p[P_KNEE_Z] and f[UP_Z] >= p[P_KNEEL_UP] \
                and f[TORSO_Z] >= p[P_KNEEL_Z]
            reached = _hold(mem, i, kneeling, p[P_HOLD])
            terms[i, 0] = math.exp(-10.0 * max(mean_knee - p[P_KNEE_Z], 0.0))
            terms[i, 1] = f[UP_Z]
            terms[i, 2] = math.exp(-10.0 * max(p[P_KNEEL_Z] - f[TORSO_Z], 0.0))
            n = 3
        else:
            dist = f[tail[T_GOAL] + 2]
            # On its feet: a randomly flailing ant tumbles through many goals (measured).
            reached = dist < p[P_GOAL_R] and f[UP_Z] >= ANT_UPRIGHT
            done = done or reached
            terms[i, 0] = (g[tail[T_GOAL] + 2] - dist) / dt
            n = 1
        first = reached and mem[i, M_LATCH] == 0.0
        if reached:
            mem[i, M_LATCH] = 1.0
        if p[P_SPARSE] > 0.0:
            event = window_ok if code == 0 else first
            terms[i, 0] = 1.0 if event else 0.0
            reward[i] = 0.0 + terms[i, 0]
        else:
            # Success bonus (arrival for the goal task), then control cost; none for the run.
            if code != 0:
                terms[i, n] = (p[P_ARRIVAL] if code == 7 else SUCCESS_BONUS) if first else 0.0
                n += 1
            terms[i, n] = ctrl
            total = 0.0
            for j in range(n + 1):
                total += terms[i, j]
            reward[i] = total
        success[i] = window_ok if code == 0 else mem[i, M_LATCH] > 0.0
        terminated[i] = done
