"""Numba kernels of the grid tasks: step, reset and observe a batch of envs in one call.

The step rules are MiniGrid's ``MiniGridEnv.step`` (and ``KeyCorridorEnv.step`` for pickup
targets); observations are MiniGrid's ``gen_obs``: the egocentric ``view x view`` slice in
front of the agent, rotated so the agent looks up, occlusion by ``Grid.process_vis`` unless walls
are see-through, the carried object shown in the agent's own cell, unseen cells as ``(0, 0, 0)``.

All state lives in a :class:`GridState` of arrays, one row per env.  Kernels never allocate per
step (``vis`` is scratch space kept in the state) and draw randomness only from each env's own
stream, so rows are independent: the ``prange`` variant gives bit-identical results for any
number of threads.  The batch kernels unpack the named tuples once and hand plain per-env array
arrays plus the env index to the helpers, which index ``cells[i, x, y, ch]`` directly: reading a
field of a tuple of arrays, or taking a row view, costs a reference-count round trip each time
(measured: up to 200x slower observation code).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid.layouts import generate
from rewardgym.envs.grid.potential import subgoal_distance
from rewardgym.envs.native import NEXT_STEP, SAME_STEP

# Autoreset behaviour of a batch step.


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
    # (n,) int64: +1 on every change of an env's cells (a reset, a pickup, a drop, a toggle), so
    # readers that cache what the cells imply (the reward view's BFS fields) need not diff them.
    version: np.ndarray


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
        version=np.zeros(n, dtype=np.int64),
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


@njit(cache=True, inline="always")
def _see_behind(obj, state):
    """MiniGrid's ``see_behind``: walls and closed or locked doors block the view."""
    return not (obj == c.WALL or (obj == c.DOOR and state != c.OPEN))


@njit(cache=True, inline="always")
def _can_overlap(obj, state):
    return obj == c.EMPTY or obj == c.GOAL or obj == c.LAVA or obj == c.FLOOR or (
        obj == c.DOOR and state == c.OPEN)


@njit(cache=True, inline="always")
def egocentric_view(cells, agent, carrying, vis, i, view_size, see_through_walls, obs, flat,
                    direction):
    """Write env ``i``'s egocentric view into ``obs[i]`` and its direction into ``direction[i]``.

    With ``flat`` the row ends with a one-hot direction.

    ``cells`` ``(n, W, H, 3)``, ``agent`` ``(n, 3)``, ``carrying`` ``(n, 3)`` and ``vis``
    ``(n, view_size ** 2)`` scratch are the state's arrays; ``obs`` is ``(n, obs_len)``.
    """
    v = view_size
    half = v // 2
    ax, ay, d = agent[i, 0], agent[i, 1], agent[i, 2]
    # Written from the same load the view uses: a separate `direction[i] = agent[i, 2]` after
    # the inlined step came out stale in the prange kernel (numba 0.68).
    direction[i] = d
    fx, fy = c.DIR_DX[d], c.DIR_DY[d]
    rx, ry = -fy, fx
    width, height = cells.shape[1], cells.shape[2]
    # View cell (vx, vy): vx grows to the agent's right, vy toward its back; agent at (half, v-1).
    # Outside the grid reads as a grey wall, as in MiniGrid's Grid.slice.
    for vx in range(v):
        for vy in range(v):
            ahead = v - 1 - vy
            wx = ax + (vx - half) * rx + ahead * fx
            wy = ay + (vx - half) * ry + ahead * fy
            base = (vx * v + vy) * 3
            if 0 <= wx < width and 0 <= wy < height:
                obs[i, base] = cells[i, wx, wy, 0]
                obs[i, base + 1] = cells[i, wx, wy, 1]
                obs[i, base + 2] = cells[i, wx, wy, 2]
            else:
                obs[i, base] = c.WALL
                obs[i, base + 1] = c.GREY
                obs[i, base + 2] = 0
    if not see_through_walls:
        # Grid.process_vis: sweep rows from the agent's row outward, spreading visibility
        # sideways and one row further through cells that do not block the view.
        for k in range(v * v):
            vis[i, k] = False
        vis[i, half * v + v - 1] = True
        for vy in range(v - 1, -1, -1):
            for vx in range(v - 1):
                k = vx * v + vy
                if not vis[i, k] or not _see_behind(obs[i, 3 * k], obs[i, 3 * k + 2]):
                    continue
                vis[i, (vx + 1) * v + vy] = True
                if vy > 0:
                    vis[i, (vx + 1) * v + vy - 1] = True
                    vis[i, k - 1] = True
            for vx in range(v - 1, 0, -1):
                k = vx * v + vy
                if not vis[i, k] or not _see_behind(obs[i, 3 * k], obs[i, 3 * k + 2]):
                    continue
                vis[i, (vx - 1) * v + vy] = True
                if vy > 0:
                    vis[i, (vx - 1) * v + vy - 1] = True
                    vis[i, k - 1] = True
        for k in range(v * v):
            if not vis[i, k]:
                obs[i, 3 * k] = c.UNSEEN
                obs[i, 3 * k + 1] = 0
                obs[i, 3 * k + 2] = 0
    else:
        for k in range(v * v):
            vis[i, k] = True
    # The agent sees what it carries in its own cell.
    base = (half * v + v - 1) * 3
    if carrying[i, 0] != 0:
        obs[i, base] = carrying[i, 0]
        obs[i, base + 1] = carrying[i, 1]
        obs[i, base + 2] = carrying[i, 2]
    else:
        obs[i, base] = c.EMPTY
        obs[i, base + 1] = 0
        obs[i, base + 2] = 0
    if flat:
        for k in range(4):
            obs[i, v * v * 3 + k] = 1 if k == d else 0


@njit(cache=True)
def full_view(cells, agent, i, obs, direction):
    """Write env ``i``'s whole grid, agent as ``(AGENT, red, direction)`` (FullyObsWrapper)."""
    w, h = cells.shape[1], cells.shape[2]
    for x in range(w):
        for y in range(h):
            base = (x * h + y) * 3
            obs[i, base] = cells[i, x, y, 0]
            obs[i, base + 1] = cells[i, x, y, 1]
            obs[i, base + 2] = cells[i, x, y, 2]
    d = agent[i, 2]
    direction[i] = d
    base = (agent[i, 0] * h + agent[i, 1]) * 3
    obs[i, base] = c.AGENT
    obs[i, base + 1] = c.RED
    obs[i, base + 2] = d


@njit(cache=True, inline="always")
def _observe(cells, agent, carrying, vis, i, p, obs_mode, obs, direction):
    """Dispatch on ``obs_mode`` (0 partial, 1 flat, 2 full)."""
    if obs_mode == 2:
        full_view(cells, agent, i, obs, direction)
    elif p.view_size == 7:
        # MiniGrid's default view, as a literal: the unrolled loops run about twice as fast.
        egocentric_view(cells, agent, carrying, vis, i, 7, p.see_through_walls, obs,
                        obs_mode == 1, direction)
    else:
        egocentric_view(cells, agent, carrying, vis, i, p.view_size, p.see_through_walls, obs,
                        obs_mode == 1, direction)


@njit(cache=True)
def observe(s, i, p, obs_mode, obs, direction):
    """Write env ``i``'s observation into ``obs[i]`` (for the Python shells; not for loops)."""
    _observe(s.cells, s.agent, s.carrying, s.vis, i, p, obs_mode, obs, direction)


@njit(cache=True, inline="always")
def _distance(cells, agent, carrying, target, i):
    return subgoal_distance(cells[i], agent[i, 0], agent[i, 1], carrying[i], target[i, 0],
                            target[i, 1])


@njit(cache=True)
def refresh_subgoal(s, i, p):
    """Recompute env ``i``'s sub-goal distance when the config asks for it in ``info``."""
    if p.subgoal_distance:
        s.subgoal[i] = _distance(s.cells, s.agent, s.carrying, s.target, i)


@njit(cache=True)
def _reset(cells, agent, carrying, target, step_count, mission, rng, version, i, p):
    """Draw a new episode for env ``i`` from its stream."""
    ax, ay, d, target_type, target_color, mission_code = generate(cells[i], rng, i, p)
    version[i] += 1
    agent[i, 0] = ax
    agent[i, 1] = ay
    agent[i, 2] = d
    for ch in range(3):
        carrying[i, ch] = 0
    target[i, 0] = target_type
    target[i, 1] = target_color
    step_count[i] = 0
    mission[i] = mission_code


@njit(cache=True, inline="always")
def _transition(cells, agent, carrying, target, step_count, version, i, p, action):
    """Apply one MiniGrid step to env ``i``; return ``(reward, terminated, truncated, success)``.

    ``action`` must already be validated (0..6).
    """
    step_count[i] += 1
    terminated = False
    success = False
    ax, ay, d = agent[i, 0], agent[i, 1], agent[i, 2]
    fx, fy = ax + c.DIR_DX[d], ay + c.DIR_DY[d]
    inside = 0 <= fx < cells.shape[1] and 0 <= fy < cells.shape[2]
    f_obj, f_color, f_state = c.WALL, c.GREY, 0
    if inside:
        f_obj, f_color, f_state = cells[i, fx, fy, 0], cells[i, fx, fy, 1], cells[i, fx, fy, 2]
    if action == c.LEFT:
        agent[i, 2] = (d + 3) % 4
    elif action == c.RIGHT:
        agent[i, 2] = (d + 1) % 4
    elif action == c.FORWARD:
        if inside and _can_overlap(f_obj, f_state):
            agent[i, 0] = fx
            agent[i, 1] = fy
        if f_obj == c.GOAL:
            terminated = True
            success = True
        elif f_obj == c.LAVA:
            terminated = True
    elif action == c.PICKUP:
        if inside and (f_obj == c.KEY or f_obj == c.BALL or f_obj == c.BOX) and (
                carrying[i, 0] == 0):
            carrying[i, 0] = f_obj
            carrying[i, 1] = f_color
            carrying[i, 2] = f_state
            cells[i, fx, fy, 0] = c.EMPTY
            cells[i, fx, fy, 1] = 0
            cells[i, fx, fy, 2] = 0
            version[i] += 1
        # KeyCorridorEnv.step: holding the target after a pickup ends the episode.
        if target[i, 0] != 0 and carrying[i, 0] == target[i, 0] and (
                carrying[i, 1] == target[i, 1]):
            terminated = True
            success = True
    elif action == c.DROP:
        if inside and f_obj == c.EMPTY and carrying[i, 0] != 0:
            for ch in range(3):
                cells[i, fx, fy, ch] = carrying[i, ch]
                carrying[i, ch] = 0
            version[i] += 1
    elif action == c.TOGGLE and inside and f_obj == c.DOOR:
        if f_state == c.LOCKED:
            if carrying[i, 0] == c.KEY and carrying[i, 1] == f_color:
                cells[i, fx, fy, 2] = c.OPEN
                version[i] += 1
        else:
            cells[i, fx, fy, 2] = c.CLOSED if f_state == c.OPEN else c.OPEN
            version[i] += 1
    count = step_count[i]
    reward = 1.0 - 0.9 * (count / p.max_steps) if success else 0.0
    truncated = count >= p.max_steps or (p.time_limit > 0 and count >= p.time_limit)
    return reward, terminated, truncated, success


@njit(cache=True)
def transition(s, i, p, action):
    """:func:`_transition` on env ``i`` of a state (for the Python shells and tests)."""
    result = _transition(s.cells, s.agent, s.carrying, s.target, s.step_count, s.version, i, p,
                         action)
    refresh_subgoal(s, i, p)
    return result


@njit(cache=True)
def _finish_same_step(cells, agent, carrying, target, step_count, mission, rng, subgoal, vis,
                      version, i, p, obs_mode, final_obs, final_direction, final_mission,
                      final_subgoal):
    """Record how env ``i``'s episode ended, then start the next one (SAME_STEP autoreset).

    Kept out of line: it runs once per episode, and inlining it slowed every step.
    """
    _observe(cells, agent, carrying, vis, i, p, obs_mode, final_obs, final_direction)
    final_mission[i] = mission[i]
    final_subgoal[i] = subgoal[i]
    _reset(cells, agent, carrying, target, step_count, mission, rng, version, i, p)
    if p.subgoal_distance:
        subgoal[i] = _distance(cells, agent, carrying, target, i)


@njit(cache=True, inline="always")
def _step_row(i, action, p, autoreset, obs_mode, cells, agent, carrying, target, step_count,
              mission, rng, needs_reset, subgoal, vis, version, obs, direction, reward,
              terminated, truncated, success, done, final_obs, final_direction, final_mission,
              final_subgoal):
    done[i] = False
    if autoreset == NEXT_STEP and needs_reset[i]:
        _reset(cells, agent, carrying, target, step_count, mission, rng, version, i, p)
        needs_reset[i] = False
        r, term, trunc, ok = 0.0, False, False, False
    else:
        r, term, trunc, ok = _transition(cells, agent, carrying, target, step_count, version, i,
                                         p, action)
    if p.subgoal_distance:
        subgoal[i] = _distance(cells, agent, carrying, target, i)
    if term or trunc:
        if autoreset == NEXT_STEP:
            needs_reset[i] = True
        elif autoreset == SAME_STEP:
            done[i] = True
            _finish_same_step(cells, agent, carrying, target, step_count, mission, rng,
                              subgoal, vis, version, i, p, obs_mode, final_obs,
                              final_direction, final_mission, final_subgoal)
    reward[i] = r
    terminated[i] = term
    truncated[i] = trunc
    success[i] = ok
    _observe(cells, agent, carrying, vis, i, p, obs_mode, obs, direction)


@njit(cache=True)
def step_batch(s, p, actions, autoreset, obs_mode, out):
    """Step every env once (serial); autoreset is NO_AUTORESET, NEXT_STEP or SAME_STEP."""
    cells, agent, carrying, target, step_count, mission, rng, needs_reset, subgoal, vis, \
        version = s
    (obs, direction, reward, terminated, truncated, success, done, final_obs, final_direction,
     final_mission, final_subgoal) = out
    for i in range(actions.shape[0]):
        _step_row(i, actions[i], p, autoreset, obs_mode, cells, agent, carrying, target,
                  step_count, mission, rng, needs_reset, subgoal, vis, version, obs, direction,
                  reward, terminated, truncated, success, done, final_obs, final_direction,
                  final_mission, final_subgoal)


@njit(cache=True, parallel=True)
def step_batch_parallel(s, p, actions, autoreset, obs_mode, out):
    """:func:`step_batch` across threads (rows are independent, so results are identical)."""
    cells, agent, carrying, target, step_count, mission, rng, needs_reset, subgoal, vis, \
        version = s
    (obs, direction, reward, terminated, truncated, success, done, final_obs, final_direction,
     final_mission, final_subgoal) = out
    for i in prange(actions.shape[0]):
        _step_row(i, actions[i], p, autoreset, obs_mode, cells, agent, carrying, target,
                  step_count, mission, rng, needs_reset, subgoal, vis, version, obs, direction,
                  reward, terminated, truncated, success, done, final_obs, final_direction,
                  final_mission, final_subgoal)


@njit(cache=True)
def reset_rows(s, p, mask, obs_mode, obs, direction):
    """Start a new episode in every env whose ``mask`` is set and write its observation."""
    cells, agent, carrying, target, step_count, mission, rng, needs_reset, subgoal, vis, \
        version = s
    for i in range(mask.shape[0]):
        if mask[i]:
            _reset(cells, agent, carrying, target, step_count, mission, rng, version, i, p)
            needs_reset[i] = False
            if p.subgoal_distance:
                subgoal[i] = _distance(cells, agent, carrying, target, i)
            _observe(cells, agent, carrying, vis, i, p, obs_mode, obs, direction)
