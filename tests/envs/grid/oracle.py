"""A planning agent that solves every grid family from the true state (test helper)."""

from __future__ import annotations

from collections import deque

import numpy as np

from rewardgym.envs.grid import constants as c


def _passable(cell) -> bool:
    obj, _, state = cell
    return obj in (c.EMPTY, c.GOAL, c.FLOOR) or (obj == c.DOOR and state != c.LOCKED)


def _find(cells, obj, color=None, state=None):
    for x in range(cells.shape[0]):
        for y in range(cells.shape[1]):
            o, col, st = cells[x, y]
            if o == obj and (color is None or col == color) and (state is None or st == state):
                return x, y
    return None


def _path(cells, start, goal, adjacent):
    """Shortest list of cells from start to the goal (or a cell next to it)."""
    prev = {start: None}
    queue = deque([start])
    while queue:
        cur = queue.popleft()
        near = abs(cur[0] - goal[0]) + abs(cur[1] - goal[1]) == 1
        if (adjacent and near) or (not adjacent and cur == goal):
            path = []
            while cur is not None:
                path.append(cur)
                cur = prev[cur]
            return path[::-1]
        for dx, dy in zip(c.DIR_DX, c.DIR_DY, strict=True):
            nxt = (cur[0] + dx, cur[1] + dy)
            if nxt not in prev and _passable(cells[nxt]):
                prev[nxt] = cur
                queue.append(nxt)
    return None


def _drop_spot(cells, start, path_to_target):
    """The nearest empty cell off the path to the target, to put the carried object down."""
    blocked = set(path_to_target)
    spots = [(abs(x - start[0]) + abs(y - start[1]), (x, y))
             for x in range(cells.shape[0]) for y in range(cells.shape[1])
             if cells[x, y][0] == c.EMPTY and (x, y) not in blocked]
    for _, spot in sorted(spots):
        if _path(cells, start, spot, adjacent=True) is not None:
            return spot
    raise AssertionError("nowhere to drop the carried object")


def _turn_towards(d, dx, dy):
    want = list(zip(c.DIR_DX, c.DIR_DY, strict=True)).index((dx, dy))
    return c.RIGHT if (want - d) % 4 in (1, 2) else c.LEFT


def oracle_action(env, obs) -> int:
    """Next action of a planner that solves the task (``env`` is a GridEnv)."""
    cells = env.grid_encoding
    x, y, d = env.agent_state
    view = env.config.agent_view_size
    carrying = obs["image"][view // 2, view - 1]
    door = _find(cells, c.DOOR, state=c.LOCKED)
    act_on, action = None, None
    if door is not None:
        door_color = cells[door][1]
        if carrying[0] == c.KEY and carrying[1] == door_color:
            act_on, action = door, c.TOGGLE
        else:
            act_on, action = _find(cells, c.KEY, color=door_color), c.PICKUP
    elif env.unwrapped._state.target[0, 0] != 0:
        target = env.unwrapped._state.target[0]
        act_on, action = _find(cells, int(target[0]), color=int(target[1])), c.PICKUP
        if carrying[0] != c.EMPTY:  # hands must be free: drop off the way to the target
            act_on, action = _drop_spot(cells, (x, y), _path(cells, (x, y), act_on, True)), c.DROP
    if act_on is None:
        path = _path(cells, (x, y), _find(cells, c.GOAL), adjacent=False)
    else:
        path = _path(cells, (x, y), act_on, adjacent=True)
    assert path is not None, "the sub-goal is unreachable"
    if len(path) == 1:  # next to the object to act on: face it, then act
        dx, dy = act_on[0] - x, act_on[1] - y
        return action if (c.DIR_DX[d], c.DIR_DY[d]) == (dx, dy) else _turn_towards(d, dx, dy)
    nx, ny = path[1]
    dx, dy = nx - x, ny - y
    if (c.DIR_DX[d], c.DIR_DY[d]) != (dx, dy):
        return _turn_towards(d, dx, dy)
    if cells[nx, ny][0] == c.DOOR and cells[nx, ny][2] == c.CLOSED:
        return c.TOGGLE
    return c.FORWARD


def solve(env, seed: int) -> tuple[float, int, list[int]]:
    """Run the oracle for one episode; return (reward, steps, subgoal distances seen)."""
    obs, info = env.reset(seed=seed)
    distances = [info.get("subgoal_distance", -1)]
    for step in range(1, 10_000):
        obs, reward, terminated, truncated, info = env.step(oracle_action(env, obs))
        distances.append(info.get("subgoal_distance", -1))
        if terminated or truncated:
            return float(reward), step, distances
    raise AssertionError("oracle never finished")


def is_monotone_progress(distances: list[int]) -> bool:
    """Whether BFS distances never increase except when a sub-goal is reached (drops to 0)."""
    arr = np.asarray(distances)
    rises = np.flatnonzero(np.diff(arr) > 0)
    return all(arr[i] <= 1 for i in rises)
