"""Numba kernels of the grid tasks: step, reset and observe a batch of envs in one call.

The step rules are MiniGrid's ``MiniGridEnv.step`` (and ``KeyCorridorEnv.step`` for pickup
targets); observations are MiniGrid's ``gen_obs``: the egocentric ``view x view`` slice in
front of the agent, rotated so the agent looks up, occlusion by ``Grid.process_vis`` unless walls
are see-through, the carried object shown in the agent's own cell, unseen cells as ``(0, 0, 0)``.

All state lives in a :class:`GridState` of arrays, one row per env.  Kernels never allocate per
step (``vis`` is scratch space kept in the state) and draw randomness only from each env's own
stream, so rows are independent: the ``prange`` variant gives bit-identical results for any
number of threads.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid.layouts import generate
from rewardgym.envs.grid.potential import subgoal_distance

# Autoreset behaviour of a batch step.
NO_AUTORESET, NEXT_STEP, SAME_STEP = 0, 1, 2
_UNREACHABLE = -1


class GridState(NamedTuple):
    """The whole state of ``n`` grid envs (all arrays have ``n`` rows)."""

    cells: np.ndarray  # (n, W, H, 3) uint8: MiniGrid cell encodings
    agent: np.ndarray  # (n, 3) int64: x, y, direction
    carrying: np.ndarray  # (n, 3) uint8: encoding of the carried object, zeros if none
    target: np.ndarray  # (n, 2) uint8: object type, colour whose pickup succeeds (0: none)
    step_count: np.ndarray  # (n,) int64
    mission: np.ndarray  # (n,) int64: index into constants.MISSIONS
    rng: np.ndarray  # (n,) uint64: per-env stream state
    needs_reset: np.ndarray  # (n,) bool: NEXT_STEP autoreset pending
    subgoal: np.ndarray  # (n,) int64: BFS distance to the sub-goal (if reported)
    vis: np.ndarray  # (n, view * view) bool: scratch for the visibility mask


class StepOut(NamedTuple):
    """Per-step outputs of a batch (all arrays have ``n`` rows)."""

    obs: np.ndarray  # (n, obs_len) uint8
    direction: np.ndarray  # (n,) int64
    reward: np.ndarray  # (n,) float64
    terminated: np.ndarray  # (n,) bool
    truncated: np.ndarray  # (n,) bool
    success: np.ndarray  # (n,) bool
    # SAME_STEP only: what the finished episode ended with, for rows in ``done``.
    done: np.ndarray  # (n,) bool
    final_obs: np.ndarray  # (n, obs_len) uint8
    final_direction: np.ndarray  # (n,) int64
    final_mission: np.ndarray  # (n,) int64
    final_subgoal: np.ndarray  # (n,) int64


def new_state(n: int, width: int, height: int, view: int) -> GridState:
    """Allocate the state of ``n`` envs; rows are filled by :func:`reset_rows`."""
    return GridState(
        cells=np.zeros((n, width, height, 3), dtype=np.uint8),
        agent=np.zeros((n, 3), dtype=np.int64),
        carrying=np.zeros((n, 3), dtype=np.uint8),
        target=np.zeros((n, 2), dtype=np.uint8),
        step_count=np.zeros(n, dtype=np.int64),
        mission=np.zeros(n, dtype=np.int64),
        rng=np.zeros(n, dtype=np.uint64),
        needs_reset=np.zeros(n, dtype=np.bool_),
        subgoal=np.zeros(n, dtype=np.int64),
        vis=np.zeros((n, view * view), dtype=np.bool_),
    )


def new_step_out(n: int, obs_len: int) -> StepOut:
    """Allocate the output buffers of a batch step."""
    return StepOut(
        obs=np.zeros((n, obs_len), dtype=np.uint8),
        direction=np.zeros(n, dtype=np.int64),
        reward=np.zeros(n, dtype=np.float64),
        terminated=np.zeros(n, dtype=np.bool_),
        truncated=np.zeros(n, dtype=np.bool_),
        success=np.zeros(n, dtype=np.bool_),
        done=np.zeros(n, dtype=np.bool_),
        final_obs=np.zeros((n, obs_len), dtype=np.uint8),
        final_direction=np.zeros(n, dtype=np.int64),
        final_mission=np.zeros(n, dtype=np.int64),
        final_subgoal=np.zeros(n, dtype=np.int64),
    )


def obs_length(obs_mode: str, width: int, height: int, view: int) -> int:
    """Length of one env's observation row for ``obs_mode``."""
    if obs_mode == "full":
        return width * height * 3
    return view * view * 3 + (4 if obs_mode == "flat" else 0)


@njit(cache=True)
def _see_behind(obj, state):
    """MiniGrid's ``see_behind``: walls and closed or locked doors block the view."""
    return not (obj == c.WALL or (obj == c.DOOR and state != c.OPEN))


@njit(cache=True)
def _can_overlap(obj, state):
    return obj == c.EMPTY or obj == c.GOAL or obj == c.LAVA or obj == c.FLOOR or (
        obj == c.DOOR and state == c.OPEN)


@njit(cache=True)
def _cell(s, i, x, y, ch):
    """Cell channel at world (x, y); outside the grid reads as a grey wall (MiniGrid's slice)."""
    if 0 <= x < s.cells.shape[1] and 0 <= y < s.cells.shape[2]:
        return s.cells[i, x, y, ch]
    if ch == 0:
        return c.WALL
    return c.GREY if ch == 1 else 0


@njit(cache=True)
def observe_partial(s, i, p, row, flat):
    """Write env ``i``'s egocentric view into ``row`` (and a one-hot direction if ``flat``)."""
    v = p.view_size
    half = v // 2
    ax, ay, d = s.agent[i, 0], s.agent[i, 1], s.agent[i, 2]
    fx, fy = c.DIR_DX[d], c.DIR_DY[d]
    rx, ry = -fy, fx
    # View cell (vx, vy): vx grows to the agent's right, vy toward its back; agent at (half, v-1).
    for vx in range(v):
        for vy in range(v):
            ahead = v - 1 - vy
            wx = ax + (vx - half) * rx + ahead * fx
            wy = ay + (vx - half) * ry + ahead * fy
            base = (vx * v + vy) * 3
            row[base] = _cell(s, i, wx, wy, 0)
            row[base + 1] = _cell(s, i, wx, wy, 1)
            row[base + 2] = _cell(s, i, wx, wy, 2)
    vis = s.vis[i]
    if p.see_through_walls:
        vis[:] = True
    else:
        # Grid.process_vis: sweep rows from the agent's row outward, spreading visibility
        # sideways and one row further through cells that do not block the view.
        vis[:] = False
        vis[half * v + v - 1] = True
        for vy in range(v - 1, -1, -1):
            for vx in range(v - 1):
                k = vx * v + vy
                if not vis[k] or not _see_behind(row[3 * k], row[3 * k + 2]):
                    continue
                vis[(vx + 1) * v + vy] = True
                if vy > 0:
                    vis[(vx + 1) * v + vy - 1] = True
                    vis[k - 1] = True
            for vx in range(v - 1, 0, -1):
                k = vx * v + vy
                if not vis[k] or not _see_behind(row[3 * k], row[3 * k + 2]):
                    continue
                vis[(vx - 1) * v + vy] = True
                if vy > 0:
                    vis[(vx - 1) * v + vy - 1] = True
                    vis[k - 1] = True
        for k in range(v * v):
            if not vis[k]:
                row[3 * k] = c.UNSEEN
                row[3 * k + 1] = 0
                row[3 * k + 2] = 0
    # The agent sees what it carries in its own cell.
    base = (half * v + v - 1) * 3
    if s.carrying[i, 0] != 0:
        row[base], row[base + 1], row[base + 2] = s.carrying[i, 0], s.carrying[i, 1], s.carrying[
            i, 2]
    else:
        row[base], row[base + 1], row[base + 2] = c.EMPTY, 0, 0
    if flat:
        for k in range(4):
            row[v * v * 3 + k] = 1 if k == d else 0


@njit(cache=True)
def observe_full(s, i, row):
    """Write env ``i``'s whole grid, agent as ``(AGENT, red, direction)`` (FullyObsWrapper)."""
    w, h = s.cells.shape[1], s.cells.shape[2]
    for x in range(w):
        for y in range(h):
            base = (x * h + y) * 3
            row[base] = s.cells[i, x, y, 0]
            row[base + 1] = s.cells[i, x, y, 1]
            row[base + 2] = s.cells[i, x, y, 2]
    base = (s.agent[i, 0] * h + s.agent[i, 1]) * 3
    row[base], row[base + 1], row[base + 2] = c.AGENT, c.RED, s.agent[i, 2]


@njit(cache=True)
def observe(s, i, p, obs_mode, row):
    """Dispatch on ``obs_mode`` (0 partial, 1 flat, 2 full)."""
    if obs_mode == 2:
        observe_full(s, i, row)
    else:
        observe_partial(s, i, p, row, obs_mode == 1)


@njit(cache=True)
def refresh_subgoal(s, i, p):
    if p.subgoal_distance:
        s.subgoal[i] = subgoal_distance(s.cells[i], s.agent[i, 0], s.agent[i, 1],
                                        s.carrying[i], s.target[i, 0], s.target[i, 1])


@njit(cache=True)
def reset_row(s, i, p):
    """Draw a new episode for env ``i`` from its stream."""
    ax, ay, d, target_type, target_color, mission = generate(s.cells[i], s.rng, i, p)
    s.agent[i, 0], s.agent[i, 1], s.agent[i, 2] = ax, ay, d
    s.carrying[i, :] = 0
    s.target[i, 0], s.target[i, 1] = target_type, target_color
    s.step_count[i] = 0
    s.mission[i] = mission
    s.needs_reset[i] = False
    refresh_subgoal(s, i, p)


@njit(cache=True)
def transition(s, i, p, action):
    """Apply one MiniGrid step to env ``i``; return ``(reward, terminated, truncated, success)``.

    ``action`` must already be validated (0..6).
    """
    s.step_count[i] += 1
    reward = 0.0
    terminated = False
    success = False
    ax, ay, d = s.agent[i, 0], s.agent[i, 1], s.agent[i, 2]
    fx, fy = ax + c.DIR_DX[d], ay + c.DIR_DY[d]
    f_obj, f_color, f_state = _cell(s, i, fx, fy, 0), _cell(s, i, fx, fy, 1), _cell(s, i, fx, fy, 2)
    inside = 0 <= fx < s.cells.shape[1] and 0 <= fy < s.cells.shape[2]
    if action == c.LEFT:
        s.agent[i, 2] = (d + 3) % 4
    elif action == c.RIGHT:
        s.agent[i, 2] = (d + 1) % 4
    elif action == c.FORWARD:
        if inside and _can_overlap(f_obj, f_state):
            s.agent[i, 0], s.agent[i, 1] = fx, fy
        if f_obj == c.GOAL:
            terminated = True
            success = True
        elif f_obj == c.LAVA:
            terminated = True
    elif action == c.PICKUP:
        if inside and (f_obj == c.KEY or f_obj == c.BALL or f_obj == c.BOX) and (
                s.carrying[i, 0] == 0):
            s.carrying[i, 0], s.carrying[i, 1], s.carrying[i, 2] = f_obj, f_color, f_state
            s.cells[i, fx, fy, 0], s.cells[i, fx, fy, 1], s.cells[i, fx, fy, 2] = c.EMPTY, 0, 0
        # KeyCorridorEnv.step: holding the target after a pickup ends the episode.
        if s.target[i, 0] != 0 and s.carrying[i, 0] == s.target[i, 0] and (
                s.carrying[i, 1] == s.target[i, 1]):
            terminated = True
            success = True
    elif action == c.DROP:
        if inside and f_obj == c.EMPTY and s.carrying[i, 0] != 0:
            s.cells[i, fx, fy, 0] = s.carrying[i, 0]
            s.cells[i, fx, fy, 1] = s.carrying[i, 1]
            s.cells[i, fx, fy, 2] = s.carrying[i, 2]
            s.carrying[i, :] = 0
    elif action == c.TOGGLE:
        if inside and f_obj == c.DOOR:
            if f_state == c.LOCKED:
                if s.carrying[i, 0] == c.KEY and s.carrying[i, 1] == f_color:
                    s.cells[i, fx, fy, 2] = c.OPEN
            else:
                s.cells[i, fx, fy, 2] = c.CLOSED if f_state == c.OPEN else c.OPEN
    if success:
        reward = 1.0 - 0.9 * (s.step_count[i] / p.max_steps)
    truncated = s.step_count[i] >= p.max_steps or (
        p.time_limit > 0 and s.step_count[i] >= p.time_limit)
    refresh_subgoal(s, i, p)
    return reward, terminated, truncated, success


@njit(cache=True)
def _step_row(s, i, p, action, autoreset, obs_mode, out):
    out.done[i] = False
    if autoreset == NEXT_STEP and s.needs_reset[i]:
        reset_row(s, i, p)
        out.reward[i], out.terminated[i], out.truncated[i], out.success[i] = 0.0, False, False, False
    else:
        r, term, trunc, success = transition(s, i, p, action)
        out.reward[i], out.terminated[i], out.truncated[i], out.success[i] = r, term, trunc, success
        if term or trunc:
            if autoreset == NEXT_STEP:
                s.needs_reset[i] = True
            elif autoreset == SAME_STEP:
                out.done[i] = True
                observe(s, i, p, obs_mode, out.final_obs[i])
                out.final_direction[i] = s.agent[i, 2]
                out.final_mission[i] = s.mission[i]
                out.final_subgoal[i] = s.subgoal[i]
                reset_row(s, i, p)
    observe(s, i, p, obs_mode, out.obs[i])
    out.direction[i] = s.agent[i, 2]


@njit(cache=True)
def step_batch(s, p, actions, autoreset, obs_mode, out):
    """Step every env once (serial); autoreset is NO_AUTORESET, NEXT_STEP or SAME_STEP."""
    for i in range(actions.shape[0]):
        _step_row(s, i, p, actions[i], autoreset, obs_mode, out)


@njit(cache=True, parallel=True)
def step_batch_parallel(s, p, actions, autoreset, obs_mode, out):
    """:func:`step_batch` across threads (rows are independent, so results are identical)."""
    for i in prange(actions.shape[0]):
        _step_row(s, i, p, actions[i], autoreset, obs_mode, out)


@njit(cache=True)
def reset_rows(s, p, mask, obs_mode, obs, direction):
    """Start a new episode in every env whose ``mask`` is set and write its observation."""
    for i in range(mask.shape[0]):
        if mask[i]:
            reset_row(s, i, p)
            observe(s, i, p, obs_mode, obs[i])
            direction[i] = s.agent[i, 2]
