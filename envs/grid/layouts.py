"""Seeded layout generators for the grid families, as numba functions.

Each generator follows the layout rules of the MiniGrid env of the same name (Chevalier-Boisvert
et al., "Minigrid & Miniworld", NeurIPS 2023 Datasets & Benchmarks): the same walls, rooms, doors,
keys, lava rivers and placement constraints, drawn from our own per-env streams (``rng.py``), so
they produce the same family of mazes but not MiniGrid's exact mazes for a given seed.

A generator writes one env's ``cells`` (``(width, height, 3)`` uint8, MiniGrid's cell encoding)
and returns ``(agent_x, agent_y, agent_dir, target_type, target_color, mission)``.  ``target_*``
name the object whose pickup ends the episode (key corridor), or ``(0, 0)`` when reaching a goal
tile ends it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from rewardgym.envs.grid import constants as c
from rewardgym.envs.native.rng import randint

# Rejection sampling gives up after this many draws and takes the first free cell, so a generator
# always terminates (MiniGrid would raise or loop forever on an over-full region).
_MAX_TRIES = 10_000


@njit(cache=True)
def _set(cells, x, y, obj, color, state):
    cells[x, y, 0] = obj
    cells[x, y, 1] = color
    cells[x, y, 2] = state


@njit(cache=True)
def _clear(cells):
    cells[:, :, 0] = c.EMPTY
    cells[:, :, 1] = 0
    cells[:, :, 2] = 0


@njit(cache=True)
def _hline(cells, x, y, length, obj, color):
    for k in range(length):
        _set(cells, x + k, y, obj, color, 0)


@njit(cache=True)
def _vline(cells, x, y, length, obj, color):
    for k in range(length):
        _set(cells, x, y + k, obj, color, 0)


@njit(cache=True)
def _wall_rect(cells, x, y, w, h):
    _hline(cells, x, y, w, c.WALL, c.GREY)
    _hline(cells, x, y + h - 1, w, c.WALL, c.GREY)
    _vline(cells, x, y, h, c.WALL, c.GREY)
    _vline(cells, x + w - 1, y, h, c.WALL, c.GREY)


@njit(cache=True)
def _obj_color(obstacle):
    return c.GREY if obstacle == c.WALL else c.RED


@njit(cache=True)
def _free(cells, x, y, ax, ay, keep_away):
    """MiniGrid's placement test: empty, not the agent, optionally not next to the agent."""
    if cells[x, y, 0] != c.EMPTY or (x == ax and y == ay):
        return False
    return not (keep_away and abs(x - ax) + abs(y - ay) < 2)


@njit(cache=True)
def _place(cells, rng, i, x0, y0, w, h, ax, ay, keep_away):
    """Draw a free cell in the rectangle ``[x0, x0+w) x [y0, y0+h)`` clipped to the grid."""
    x0 = max(x0, 0)
    y0 = max(y0, 0)
    x1 = min(x0 + w, cells.shape[0])
    y1 = min(y0 + h, cells.shape[1])
    for _ in range(_MAX_TRIES):
        x = randint(rng, i, x0, x1)
        y = randint(rng, i, y0, y1)
        if _free(cells, x, y, ax, ay, keep_away):
            return x, y
    for y in range(y0, y1):
        for x in range(x0, x1):
            if _free(cells, x, y, ax, ay, keep_away):
                return x, y
    return x0, y0


@njit(cache=True)
def _random_color(rng, i):
    """A colour drawn as MiniGrid draws one: uniformly from the sorted colour names."""
    return c.SORTED_COLOR_CODES[randint(rng, i, 0, 6)]


@njit(cache=True)
def empty(cells, rng, i, p):
    """``MiniGrid-Empty``: a walled room, goal in the bottom-right corner."""
    w, h = p.width, p.height
    _clear(cells)
    _wall_rect(cells, 0, 0, w, h)
    _set(cells, w - 2, h - 2, c.GOAL, c.GREEN, 0)
    if not p.random_start:
        return 1, 1, 0, 0, 0, c.MISSION_GET_TO_GOAL
    ax, ay = _place(cells, rng, i, 0, 0, w, h, -1, -1, False)
    return ax, ay, randint(rng, i, 0, 4), 0, 0, c.MISSION_GET_TO_GOAL


@njit(cache=True)
def four_rooms(cells, rng, i, p):
    """``MiniGrid-FourRooms``: four rooms joined by one gap per inner wall segment."""
    w, h = p.width, p.height
    _clear(cells)
    _wall_rect(cells, 0, 0, w, h)
    room_w, room_h = w // 2, h // 2
    for j in range(2):
        for k in range(2):
            x_l, y_t = k * room_w, j * room_h
            x_r, y_b = x_l + room_w, y_t + room_h
            if k == 0:
                _vline(cells, x_r, y_t, room_h, c.WALL, c.GREY)
                _set(cells, x_r, randint(rng, i, y_t + 1, y_b), c.EMPTY, 0, 0)
            if j == 0:
                _hline(cells, x_l, y_b, room_w, c.WALL, c.GREY)
                _set(cells, randint(rng, i, x_l + 1, x_r), y_b, c.EMPTY, 0, 0)
    ax, ay = _place(cells, rng, i, 0, 0, w, h, -1, -1, False)
    direction = randint(rng, i, 0, 4)
    gx, gy = _place(cells, rng, i, 0, 0, w, h, ax, ay, False)
    _set(cells, gx, gy, c.GOAL, c.GREEN, 0)
    return ax, ay, direction, 0, 0, c.MISSION_REACH_GOAL


@njit(cache=True)
def door_key(cells, rng, i, p):
    """``MiniGrid-DoorKey``: a wall splits the room; a yellow key opens its locked door."""
    w, h = p.width, p.height
    _clear(cells)
    _wall_rect(cells, 0, 0, w, h)
    _set(cells, w - 2, h - 2, c.GOAL, c.GREEN, 0)
    split = randint(rng, i, 2, w - 2)
    _vline(cells, split, 0, h, c.WALL, c.GREY)
    ax, ay = _place(cells, rng, i, 0, 0, split, h, -1, -1, False)
    direction = randint(rng, i, 0, 4)
    _set(cells, split, randint(rng, i, 1, h - 2), c.DOOR, c.YELLOW, c.LOCKED)
    kx, ky = _place(cells, rng, i, 0, 0, split, h, ax, ay, False)
    _set(cells, kx, ky, c.KEY, c.YELLOW, 0)
    return ax, ay, direction, 0, 0, c.MISSION_DOOR_KEY


@njit(cache=True)
def lava_gap(cells, rng, i, p):
    """``MiniGrid-LavaGap``: a vertical strip of obstacles with one gap."""
    w, h = p.width, p.height
    _clear(cells)
    _wall_rect(cells, 0, 0, w, h)
    _set(cells, w - 2, h - 2, c.GOAL, c.GREEN, 0)
    gx = randint(rng, i, 2, w - 2)
    gy = randint(rng, i, 1, h - 1)
    _vline(cells, gx, 1, h - 2, p.obstacle, _obj_color(p.obstacle))
    _set(cells, gx, gy, c.EMPTY, 0, 0)
    mission = c.MISSION_AVOID_LAVA if p.obstacle == c.LAVA else c.MISSION_FIND_OPENING
    return 1, 1, 0, 0, 0, mission


@njit(cache=True)
def _shuffle(values, rng, i):
    """Fisher-Yates shuffle in place."""
    for k in range(values.shape[0] - 1, 0, -1):
        m = randint(rng, i, 0, k + 1)
        values[k], values[m] = values[m], values[k]


@njit(cache=True)
def crossing(cells, rng, i, p):
    """``MiniGrid-LavaCrossing``/``SimpleCrossing``: rivers with one opening on a path."""
    w, h = p.width, p.height
    _clear(cells)
    _wall_rect(cells, 0, 0, w, h)
    _set(cells, w - 2, h - 2, c.GOAL, c.GREEN, 0)
    color = _obj_color(p.obstacle)
    # Candidate rivers: code +k is a vertical river at x = k, -k a horizontal one at y = k.
    n_v = len(range(2, h - 2, 2))
    n_h = len(range(2, w - 2, 2))
    rivers = np.empty(n_v + n_h, dtype=np.int64)
    for k in range(n_v):
        rivers[k] = 2 + 2 * k
    for k in range(n_h):
        rivers[n_v + k] = -(2 + 2 * k)
    _shuffle(rivers, rng, i)
    chosen = np.sort(rivers[: p.num_crossings])
    xs = np.sort(chosen[chosen > 0])
    ys = np.sort(-chosen[chosen < 0])
    for y in ys:
        _hline(cells, 1, y, w - 2, p.obstacle, color)
    for x in xs:
        _vline(cells, x, 1, h - 2, p.obstacle, color)
    # A monotone path from the top-left room to the bottom-right one: one move per river.
    path = np.empty(xs.shape[0] + ys.shape[0], dtype=np.int64)
    path[: xs.shape[0]] = 0  # cross a vertical river (move right)
    path[xs.shape[0] :] = 1  # cross a horizontal river (move down)
    _shuffle(path, rng, i)
    lim_x = np.empty(xs.shape[0] + 2, dtype=np.int64)
    lim_x[0], lim_x[-1] = 0, w - 1
    lim_x[1:-1] = xs
    lim_y = np.empty(ys.shape[0] + 2, dtype=np.int64)
    lim_y[0], lim_y[-1] = 0, h - 1
    lim_y[1:-1] = ys
    room_x, room_y = 0, 0
    for move in path:
        if move == 0:
            x = lim_x[room_x + 1]
            y = randint(rng, i, lim_y[room_y] + 1, lim_y[room_y + 1])
            room_x += 1
        else:
            x = randint(rng, i, lim_x[room_x] + 1, lim_x[room_x + 1])
            y = lim_y[room_y + 1]
            room_y += 1
        _set(cells, x, y, c.EMPTY, 0, 0)
    mission = c.MISSION_AVOID_LAVA if p.obstacle == c.LAVA else c.MISSION_FIND_OPENING
    return 1, 1, 0, 0, 0, mission


@njit(cache=True)
def _add_door(cells, doors, locked, door_x, door_y, rj, ri, k, color, is_locked):
    """RoomGrid.add_door: a door on wall ``k`` of room (ri, rj), shared with its neighbour."""
    locked[rj, ri] = is_locked
    _set(cells, door_x[rj, ri, k], door_y[rj, ri, k], c.DOOR, color,
         c.LOCKED if is_locked else c.CLOSED)
    doors[rj, ri, k] = 1
    nj, ni = rj + c.DIR_DY[k], ri + c.DIR_DX[k]
    doors[nj, ni, (k + 2) % 4] = 1


@njit(cache=True)
def _all_rooms_reachable(doors, start_i, start_j):
    rows, cols = doors.shape[0], doors.shape[1]
    seen = np.zeros((rows, cols), dtype=np.bool_)
    stack = np.empty(rows * cols * 4 + 1, dtype=np.int64)
    stack[0] = start_j * cols + start_i
    top = 1
    count = 0
    while top > 0:
        top -= 1
        j, i = divmod(stack[top], cols)
        if seen[j, i]:
            continue
        seen[j, i] = True
        count += 1
        for k in range(4):
            if doors[j, i, k] != 0:
                stack[top] = (j + c.DIR_DY[k]) * cols + i + c.DIR_DX[k]
                top += 1
    return count == rows * cols


@njit(cache=True)
def key_corridor(cells, rng, i, p):
    """``MiniGrid-KeyCorridor``: a hallway of rooms; the ball hides behind a locked door.

    Follows MiniGrid's RoomGrid: 3 columns x ``num_rows`` rooms, one random door position per
    shared wall, the middle column opened into a hallway, a locked door into a room of the right
    column holding the ball, the key in a room of the left column, the agent in the hallway, and
    closed doors added at random until every room is reachable.
    """
    rs, rows, cols = p.room_size, p.num_rows, 3
    _clear(cells)
    for rj in range(rows):
        for ri in range(cols):
            _wall_rect(cells, ri * (rs - 1), rj * (rs - 1), rs, rs)
    door_x = np.full((rows, cols, 4), -1, dtype=np.int64)
    door_y = np.full((rows, cols, 4), -1, dtype=np.int64)
    for rj in range(rows):
        for ri in range(cols):
            x_l, y_l = ri * (rs - 1) + 1, rj * (rs - 1) + 1
            x_m, y_m = ri * (rs - 1) + rs - 1, rj * (rs - 1) + rs - 1
            if ri < cols - 1:
                door_x[rj, ri, 0], door_y[rj, ri, 0] = x_m, randint(rng, i, y_l, y_m)
            if rj < rows - 1:
                door_x[rj, ri, 1], door_y[rj, ri, 1] = randint(rng, i, x_l, x_m), y_m
            if ri > 0:
                door_x[rj, ri, 2], door_y[rj, ri, 2] = door_x[rj, ri - 1, 0], door_y[rj, ri - 1, 0]
            if rj > 0:
                door_x[rj, ri, 3], door_y[rj, ri, 3] = door_x[rj - 1, ri, 1], door_y[rj - 1, ri, 1]
    # RoomGrid parks the agent mid-grid while objects are placed (it matters for keep-away).
    ax = (cols // 2) * (rs - 1) + rs // 2
    ay = (rows // 2) * (rs - 1) + rs // 2
    doors = np.zeros((rows, cols, 4), dtype=np.int64)  # 0: wall, 1: door, 2: wall removed
    locked = np.zeros((rows, cols), dtype=np.bool_)
    for rj in range(1, rows):  # open the middle column into a hallway
        ty = rj * (rs - 1)
        for x in range(rs - 2):
            _set(cells, (rs - 1) + 1 + x, ty, c.EMPTY, 0, 0)
        doors[rj, 1, 3] = 2
        doors[rj - 1, 1, 1] = 2
    room = randint(rng, i, 0, rows)
    door_color = _random_color(rng, i)
    _add_door(cells, doors, locked, door_x, door_y, room, 2, 2, door_color, True)
    ball_color = _random_color(rng, i)
    bx, by = _place(cells, rng, i, 2 * (rs - 1), room * (rs - 1), rs, rs, ax, ay, True)
    _set(cells, bx, by, c.BALL, ball_color, 0)
    key_room = randint(rng, i, 0, rows)
    kx, ky = _place(cells, rng, i, 0, key_room * (rs - 1), rs, rs, ax, ay, True)
    _set(cells, kx, ky, c.KEY, door_color, 0)
    # The agent starts in the middle of the hallway, not facing an object or a door.
    for _ in range(_MAX_TRIES):
        ax, ay = _place(cells, rng, i, rs - 1, (rows // 2) * (rs - 1), rs, rs, -1, -1, False)
        direction = randint(rng, i, 0, 4)
        front = cells[ax + c.DIR_DX[direction], ay + c.DIR_DY[direction], 0]
        if front == c.EMPTY or front == c.WALL:
            break
    start_i, start_j = ax // (rs - 1), ay // (rs - 1)
    for _ in range(5000):
        if _all_rooms_reachable(doors, start_i, start_j):
            break
        ri = randint(rng, i, 0, cols)
        rj = randint(rng, i, 0, rows)
        k = randint(rng, i, 0, 4)
        if door_x[rj, ri, k] < 0 or doors[rj, ri, k] != 0:
            continue
        if locked[rj, ri] or locked[rj + c.DIR_DY[k], ri + c.DIR_DX[k]]:
            continue
        color = _random_color(rng, i)
        _add_door(cells, doors, locked, door_x, door_y, rj, ri, k, color, False)
    return ax, ay, direction, c.BALL, ball_color, c.KEY_CORRIDOR_MISSION_BASE + ball_color


@njit(cache=True)
def _try_room(rooms, n, min_size, max_size, wall, ex, ey, rng, i, width, height):
    """MultiRoom._placeRoom without the recursion: add room ``n`` entered through (ex, ey)."""
    sx = randint(rng, i, min_size, max_size + 1)
    sy = randint(rng, i, min_size, max_size + 1)
    if n == 0:
        tx, ty = ex, ey
    elif wall == 0:
        tx, ty = ex - sx + 1, randint(rng, i, ey - sy + 2, ey)
    elif wall == 1:
        tx, ty = randint(rng, i, ex - sx + 2, ex), ey - sy + 1
    elif wall == 2:
        tx, ty = ex, randint(rng, i, ey - sy + 2, ey)
    else:
        tx, ty = randint(rng, i, ex - sx + 2, ex), ey
    if tx < 0 or ty < 0 or tx + sx > width or ty + sy >= height:
        return False
    for r in range(n - 1):  # the previous room shares the door wall, so it is exempt
        apart = (tx + sx < rooms[r, 0] or rooms[r, 0] + rooms[r, 2] <= tx
                 or ty + sy < rooms[r, 1] or rooms[r, 1] + rooms[r, 3] <= ty)
        if not apart:
            return False
    rooms[n, 0], rooms[n, 1], rooms[n, 2], rooms[n, 3] = tx, ty, sx, sy
    rooms[n, 4], rooms[n, 5] = ex, ey
    return True


@njit(cache=True)
def _chain_of_rooms(rooms, p, rng, i):
    """One attempt at MultiRoom's recursive placement; returns the number of rooms placed.

    The recursion only ever backtracks by retrying the exit door of the newest room (8 tries),
    and a room that cannot be extended ends the chain, so a loop reproduces it exactly.
    """
    w, h = p.width, p.height
    ex, ey = randint(rng, i, 0, w - 2), randint(rng, i, 0, w - 2)
    if not _try_room(rooms, 0, 4, p.max_room_size, 2, ex, ey, rng, i, w, h):
        return 0
    n, entry_wall = 1, 2
    while n < p.num_rooms:
        placed = False
        for _ in range(8):
            exit_wall = randint(rng, i, 0, 3)
            if exit_wall >= entry_wall:  # the sorted walls other than the entry wall
                exit_wall += 1
            tx, ty, sx, sy = rooms[n - 1, 0], rooms[n - 1, 1], rooms[n - 1, 2], rooms[n - 1, 3]
            if exit_wall == 0:
                dx, dy = tx + sx - 1, ty + randint(rng, i, 1, sy - 1)
            elif exit_wall == 1:
                dx, dy = tx + randint(rng, i, 1, sx - 1), ty + sy - 1
            elif exit_wall == 2:
                dx, dy = tx, ty + randint(rng, i, 1, sy - 1)
            else:
                dx, dy = tx + randint(rng, i, 1, sx - 1), ty
            next_wall = (exit_wall + 2) % 4
            if _try_room(rooms, n, 4, p.max_room_size, next_wall, dx, dy, rng, i, w, h):
                placed = True
                entry_wall = next_wall
                n += 1
                break
        if not placed:
            break
    return n


@njit(cache=True)
def multi_room(cells, rng, i, p):
    """``MiniGrid-MultiRoom``: a chain of rooms joined by closed doors; goal in the last."""
    best = np.zeros((p.num_rooms, 6), dtype=np.int64)
    trial = np.zeros((p.num_rooms, 6), dtype=np.int64)
    n_best = 0
    for _ in range(_MAX_TRIES):  # MiniGrid retries until a chain is long enough
        n = _chain_of_rooms(trial, p, rng, i)
        if n > n_best:
            n_best = n
            best[:] = trial
        if n_best >= p.num_rooms:
            break
    _clear(cells)
    prev_color = -1
    for r in range(n_best):
        tx, ty, sx, sy = best[r, 0], best[r, 1], best[r, 2], best[r, 3]
        _wall_rect(cells, tx, ty, sx, sy)
        if r > 0:
            k = randint(rng, i, 0, 6 if prev_color < 0 else 5)
            color = c.SORTED_COLOR_CODES[k]
            if prev_color >= 0:  # skip the previous door's colour in the sorted list
                m = 0
                for code in c.SORTED_COLOR_CODES:
                    if code == prev_color:
                        continue
                    if m == k:
                        color = code
                        break
                    m += 1
            _set(cells, best[r, 4], best[r, 5], c.DOOR, color, c.CLOSED)
            prev_color = color
    ax, ay = _place(cells, rng, i, best[0, 0], best[0, 1], best[0, 2], best[0, 3], -1, -1, False)
    direction = randint(rng, i, 0, 4)
    last = n_best - 1
    gx, gy = _place(cells, rng, i, best[last, 0], best[last, 1], best[last, 2], best[last, 3],
                    ax, ay, False)
    _set(cells, gx, gy, c.GOAL, c.GREEN, 0)
    return ax, ay, direction, 0, 0, c.MISSION_MULTI_ROOM


@njit(cache=True)
def generate(cells, rng, i, p):
    """Draw a new layout of family ``p.layout`` into ``cells`` (one env)."""
    if p.layout == c.EMPTY_LAYOUT:
        return empty(cells, rng, i, p)
    if p.layout == c.FOUR_ROOMS:
        return four_rooms(cells, rng, i, p)
    if p.layout == c.DOOR_KEY:
        return door_key(cells, rng, i, p)
    if p.layout == c.KEY_CORRIDOR:
        return key_corridor(cells, rng, i, p)
    if p.layout == c.MULTI_ROOM:
        return multi_room(cells, rng, i, p)
    if p.layout == c.LAVA_GAP:
        return lava_gap(cells, rng, i, p)
    return crossing(cells, rng, i, p)
