"""Sub-goal distance for potential-based shaping of the grid tasks.

``subgoal_distance`` is the number of moves (turns not counted) still to go: from the agent to
its current sub-goal (the key of the locked door while the agent lacks it, then the locked door,
then the goal tile or the target object) plus the legs between the remaining sub-goals. Walls,
lava, locked doors and objects block the search (objects only while another way exists); closed
doors count as passable, since one toggle opens them.  ``Φ(s) = -subgoal_distance`` is the
classic distance potential of Ng, Harada & Russell (ICML 1999); with the shaping wrapper it
leaves optimal policies unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from rewardgym.envs.grid import constants as c


@njit(cache=True)
def _passable(obj, state, through_objects):
    if obj == c.KEY or obj == c.BALL or obj == c.BOX:
        return through_objects
    return obj == c.EMPTY or obj == c.GOAL or obj == c.FLOOR or (
        obj == c.DOOR and state != c.LOCKED)


@njit(cache=True)
def _find(cells, obj, color, state, match_color, match_state):
    w, h = cells.shape[0], cells.shape[1]
    for x in range(w):
        for y in range(h):
            if cells[x, y, 0] == obj and (not match_color or cells[x, y, 1] == color) and (
                    not match_state or cells[x, y, 2] == state):
                return x, y
    return -1, -1


@njit(cache=True)
def _bfs(cells, sx, sy, gx, gy, adjacent, dist, queue):
    """BFS moves from (sx, sy) to (gx, gy) (or next to it), and the cell reached.

    Moves are -1 when unreachable. Objects block the way, unless that leaves no way at all:
    they can be picked up and put aside (a key dropped in a doorway must not make the goal
    "unreachable").
    """
    moves, ex, ey = _bfs_once(cells, sx, sy, gx, gy, adjacent, dist, queue, False)
    if moves < 0:
        moves, ex, ey = _bfs_once(cells, sx, sy, gx, gy, adjacent, dist, queue, True)
    return moves, ex, ey


@njit(cache=True)
def _bfs_once(cells, sx, sy, gx, gy, adjacent, dist, queue, through_objects):
    h = cells.shape[1]
    dist[:, :] = -1
    dist[sx, sy] = 0
    queue[0] = sx * h + sy
    head, tail = 0, 1
    while head < tail:
        x, y = divmod(queue[head], h)
        head += 1
        at_goal = (abs(x - gx) + abs(y - gy) == 1) if adjacent else (x == gx and y == gy)
        if at_goal:
            return dist[x, y], x, y
        tail = expand(cells, 2, x, y, dist, queue, tail, through_objects)
    return -1, sx, sy


@njit(cache=True, inline="always")
def expand(cells, state, x, y, dist, queue, tail, through_objects):
    """Queue the unvisited passable neighbours of (x, y) one move further; the new tail.

    The BFS step shared by the forward searches here and the reader's distance fields
    (``rewardgym.envs.grid.view``); ``state`` is the channel of ``cells`` holding door states.
    """
    w, h = cells.shape[0], cells.shape[1]
    for k in range(4):
        nx, ny = x + c.DIR_DX[k], y + c.DIR_DY[k]
        if nx < 0 or ny < 0 or nx >= w or ny >= h or dist[nx, ny] >= 0:
            continue
        if not _passable(cells[nx, ny, 0], cells[nx, ny, state], through_objects):
            continue
        dist[nx, ny] = dist[x, y] + 1
        queue[tail] = nx * h + ny
        tail += 1
    return tail


@njit(cache=True)
def subgoal_distance(cells, ax, ay, carrying, target_type, target_color):
    """BFS moves still to go: to the current sub-goal, then through the remaining ones.

    Legs: agent → key (while the locked door's key is not carried) → locked door → goal tile or
    target object. Summing the legs keeps the distance from jumping up when a sub-goal is
    reached (picking up the key does not make the goal look farther). ``width * height`` when a
    leg is unreachable.
    """
    w, h = cells.shape[0], cells.shape[1]
    unreachable = w * h
    dist = np.empty((w, h), dtype=np.int64)
    queue = np.empty(w * h, dtype=np.int64)
    # The final leg's end: the target object (stand next to it) or the goal tile (stand on it).
    fx, fy, final_adjacent = -1, -1, True
    if target_type != 0:
        fx, fy = _find(cells, target_type, target_color, 0, True, False)
    if fx < 0:
        fx, fy = _find(cells, c.GOAL, 0, 0, False, False)
        final_adjacent = False
    if fx < 0:
        return 0  # nothing left to reach (e.g. the target is being carried)
    total = 0
    sx, sy = ax, ay
    dx, dy = _find(cells, c.DOOR, 0, c.LOCKED, False, True)
    if dx >= 0:
        door_color = cells[dx, dy, 1]
        has_key = carrying[0] == c.KEY and carrying[1] == door_color
        kx, ky = _find(cells, c.KEY, door_color, 0, True, False)
        if not has_key and kx >= 0:
            leg, sx, sy = _bfs(cells, sx, sy, kx, ky, True, dist, queue)
            if leg < 0:
                return unreachable
            total += leg
            # From where the key is picked up; once carried, its cell no longer blocks.
            cells[kx, ky, 0] = c.EMPTY
            leg, sx, sy = _bfs(cells, sx, sy, dx, dy, True, dist, queue)
            cells[kx, ky, 0] = c.KEY
        else:
            leg, sx, sy = _bfs(cells, sx, sy, dx, dy, True, dist, queue)
        if leg < 0:
            return unreachable
        # One move onto the unlocked door, from which the last leg starts.
        total += leg + 1
        sx, sy = dx, dy
    leg, _, _ = _bfs(cells, sx, sy, fx, fy, final_adjacent, dist, queue)
    if leg < 0:
        return unreachable
    return total + leg


@njit(cache=True)
def subgoal_distance_batch(cells, agent, carrying, target, out):
    """:func:`subgoal_distance` for every env of a batch, written into ``out`` ``(n,)``."""
    for i in range(cells.shape[0]):
        out[i] = subgoal_distance(cells[i], agent[i, 0], agent[i, 1], carrying[i],
                                  target[i, 0], target[i, 1])


def subgoal_potential(obs: Any, info: dict[str, Any]) -> float | np.ndarray:
    """Potential ``Φ = -info["subgoal_distance"]`` for single (float) or vector (array) envs.

    The env must be built with ``subgoal_distance_in_info=True``.  Picklable, so it can be
    handed to shaping wrappers in subprocess vector envs.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/DoorKey-5x5-v0", subgoal_distance_in_info=True)
        >>> obs, info = env.reset(seed=1)
        >>> subgoal_potential(obs, info) <= 0
        True
    """
    if "subgoal_distance" not in info:
        raise KeyError("info has no 'subgoal_distance': build the grid env with "
                       "subgoal_distance_in_info=True")
    distance = info["subgoal_distance"]
    if isinstance(distance, np.ndarray):
        return -distance.astype(np.float64)
    return -float(distance)
