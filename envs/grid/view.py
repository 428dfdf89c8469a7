"""The reward-program view of a grid state: named, unit-annotated, fixed indices.

The grid counterpart of ``rewardgym.envs.locomotion.view`` (same form: a layout with
``describe()``, a view with named access, :func:`features` / :func:`features_batch`). Reward
programs (hand-written or LLM-written) read ONLY this row, by name (``view.dist_key``) or by fixed
index (numba). It is built from the env's full state, not from the egocentric observation, so a
reward may see what the policy does not (the "privileged reward inputs" of Auto MC-Reward).

Row layout (:data:`FEATURES`): the agent's cell and heading, the cell in front of it, what it
carries, the first door's cell and state, the key of that door, the goal cell, BFS move counts
(turns not counted) to stand next to the key, next to the door, and on the goal, plus the
sub-goal distance of :mod:`rewardgym.envs.grid.potential` and the step counter. Cells are
``-1`` when the object is absent (the key once carried); distances are ``width * height`` when
the target is absent or unreachable, ``0`` for the key once it is carried.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid.potential import _bfs, _find, _passable, expand, subgoal_distance
from rewardgym.envs.native.view import Feature, FeatureRows, ViewLayout

# (name, unit, meaning); every feature is one float.
FEATURES: tuple[tuple[str, str, str], ...] = (
    ("agent_x", "cell", "agent column (0 = left wall)"),
    ("agent_y", "cell", "agent row (0 = top wall)"),
    ("agent_dir", "0-3", "heading: 0 right (+x), 1 down (+y), 2 left (-x), 3 up (-y)"),
    ("front_x", "cell", "column of the cell in front of the agent"),
    ("front_y", "cell", "row of the cell in front of the agent"),
    ("front_object", "code", "object in front: 1 empty, 2 wall, 4 door, 5 key, 8 goal, 9 lava"),
    ("carrying_key", "0/1", "1 when the agent carries the key of the door"),
    ("carrying_object", "code", "object carried: 0 nothing, 5 key, 6 ball, 7 box"),
    ("door_x", "cell", "column of the door (-1 when there is none)"),
    ("door_y", "cell", "row of the door (-1 when there is none)"),
    ("door_open", "0/1", "1 when the door is open"),
    ("door_locked", "0/1", "1 when the door is locked"),
    ("key_x", "cell", "column of the door's key on the floor (-1 when carried or absent)"),
    ("key_y", "cell", "row of the door's key on the floor (-1 when carried or absent)"),
    ("goal_x", "cell", "column of the goal square (-1 when there is none)"),
    ("goal_y", "cell", "row of the goal square (-1 when there is none)"),
    ("at_goal", "0/1", "1 when the agent stands on the goal square"),
    ("dist_key", "moves", "BFS moves to stand next to the key (0 once carried)"),
    ("dist_door", "moves", "BFS moves to stand next to the door (locked doors block)"),
    ("dist_goal", "moves", "BFS moves to the goal square (locked doors block, closed ones don't)"),
    ("subgoal_distance", "moves", "moves left through key -> door -> goal (the potential's)"),
    ("step_count", "steps", "steps taken this episode"),
    ("max_steps", "steps", "episode length at which the env truncates"),
)
INDEX = {name: i for i, (name, _, _) in enumerate(FEATURES)}
SIZE = len(FEATURES)
(AGENT_X, AGENT_Y, AGENT_DIR, FRONT_X, FRONT_Y, FRONT_OBJECT, CARRYING_KEY, CARRYING_OBJECT,
 DOOR_X, DOOR_Y, DOOR_OPEN, DOOR_LOCKED, KEY_X, KEY_Y, GOAL_X, GOAL_Y, AT_GOAL, DIST_KEY,
 DIST_DOOR, DIST_GOAL, SUBGOAL_DISTANCE, STEP_COUNT, MAX_STEPS) = range(SIZE)


class GridFeatureLayout(ViewLayout):
    """Names, units and fixed indices of the grid feature row (one layout for every grid).

    The grid's :class:`~rewardgym.envs.native.view.ViewLayout`: every feature is one float.

    Example:
        >>> layout = GridFeatureLayout()
        >>> layout["dist_key"].start, layout["dist_key"].unit, layout.size
        (17, 'moves', 23)
    """

    def __init__(self) -> None:
        super().__init__(Feature(name, i, 1, unit, doc)
                         for i, (name, unit, doc) in enumerate(FEATURES))


LAYOUT = GridFeatureLayout()


class GridFeatureView(FeatureRows):
    """Named access to grid feature rows: ``view.dist_key`` is a float (one row) or an array.

    Example:
        >>> view = GridFeatureView(np.arange(SIZE, dtype=np.float64))
        >>> view.agent_y, view.max_steps
        (1.0, 22.0)
    """

    def __init__(self, values: np.ndarray, layout: ViewLayout = LAYOUT) -> None:
        super().__init__(values, layout)


# Features every full-view row computes (compute_features' need flags).
_ALL = (True,) * SIZE


@njit(cache=True)
def _flags(need):
    """The ``need`` mask as a tuple of 23 bools (:data:`SIZE`).

    :func:`_write_row` tests one flag per column for every env; flags held in a tuple are
    loop invariants, while loads from a mask array must be repeated after every write to
    ``out`` (the compiler cannot prove the two arrays apart).
    """
    return (need[0], need[1], need[2], need[3], need[4], need[5], need[6], need[7], need[8],
            need[9], need[10], need[11], need[12], need[13], need[14], need[15], need[16],
            need[17], need[18], need[19], need[20], need[21], need[22])


@njit(cache=True, inline="always")
def _write_row(out, i, need, ax, ay, d, fx, fy, front, carried, has_key, dx, dy, door_state,
               kx, ky, gx, gy, dist_key, dist_door, dist_goal, subgoal, step, max_steps):
    """Write the ``need``-ed columns of row ``i``: the one row writer of the full view and reader.

    The distances and ``subgoal`` are only read where ``need`` asks for them (callers compute
    them only then).
    """
    if need[AGENT_X]:
        out[i, AGENT_X] = ax
    if need[AGENT_Y]:
        out[i, AGENT_Y] = ay
    if need[AGENT_DIR]:
        out[i, AGENT_DIR] = d
    if need[FRONT_X]:
        out[i, FRONT_X] = fx
    if need[FRONT_Y]:
        out[i, FRONT_Y] = fy
    if need[FRONT_OBJECT]:
        out[i, FRONT_OBJECT] = front
    if need[CARRYING_KEY]:
        out[i, CARRYING_KEY] = 1.0 if has_key else 0.0
    if need[CARRYING_OBJECT]:
        out[i, CARRYING_OBJECT] = carried
    if need[DOOR_X]:
        out[i, DOOR_X] = dx
    if need[DOOR_Y]:
        out[i, DOOR_Y] = dy
    if need[DOOR_OPEN]:
        out[i, DOOR_OPEN] = 1.0 if dx >= 0 and door_state == c.OPEN else 0.0
    if need[DOOR_LOCKED]:
        out[i, DOOR_LOCKED] = 1.0 if dx >= 0 and door_state == c.LOCKED else 0.0
    if need[KEY_X]:
        out[i, KEY_X] = kx
    if need[KEY_Y]:
        out[i, KEY_Y] = ky
    if need[GOAL_X]:
        out[i, GOAL_X] = gx
    if need[GOAL_Y]:
        out[i, GOAL_Y] = gy
    if need[AT_GOAL]:
        out[i, AT_GOAL] = 1.0 if gx >= 0 and ax == gx and ay == gy else 0.0
    if need[DIST_KEY]:
        out[i, DIST_KEY] = dist_key
    if need[DIST_DOOR]:
        out[i, DIST_DOOR] = dist_door
    if need[DIST_GOAL]:
        out[i, DIST_GOAL] = dist_goal
    if need[SUBGOAL_DISTANCE]:
        out[i, SUBGOAL_DISTANCE] = subgoal
    if need[STEP_COUNT]:
        out[i, STEP_COUNT] = step
    if need[MAX_STEPS]:
        out[i, MAX_STEPS] = max_steps


@njit(cache=True)
def _places(g):
    """``(door x, door y, door colour, key x, key y, goal x, goal y)`` of one grid (-1: none).

    The first door; the key of its colour (any key when there is no door); the goal square.
    """
    dx, dy = _find(g, c.DOOR, 0, 0, False, False)
    if dx >= 0:
        color = g[dx, dy, 1]
        kx, ky = _find(g, c.KEY, color, 0, True, False)
    else:
        color = -1
        kx, ky = _find(g, c.KEY, 0, 0, False, False)
    gx, gy = _find(g, c.GOAL, 0, 0, False, False)
    return dx, dy, color, kx, ky, gx, gy


@njit(cache=True, inline="always")
def _has_key(carrying, i, dx, color):
    """Whether env ``i`` carries the door's key (any key when there is no door)."""
    return carrying[i, 0] == c.KEY and (dx < 0 or carrying[i, 1] == color)


@njit(cache=True, inline="always")
def _search(g, ax, ay, tx, ty, adjacent, dist, queue, unreachable):
    """Forward BFS moves from the agent to (next to) a target; ``unreachable`` if none."""
    if tx < 0:
        return unreachable
    moves, _, _ = _bfs(g, ax, ay, tx, ty, adjacent, dist, queue)
    return unreachable if moves < 0 else float(moves)


@njit(cache=True)
def compute_features(cells, agent, carrying, target, step_count, max_steps, out):
    """Fill ``out[i]`` (layout :data:`FEATURES`) for every env of a batch (fresh searches)."""
    n, w, h = cells.shape[0], cells.shape[1], cells.shape[2]
    unreachable = float(w * h)
    dist = np.empty((w, h), dtype=np.int64)
    queue = np.empty(w * h, dtype=np.int64)
    for i in range(n):
        g = cells[i]
        ax, ay, d = agent[i, 0], agent[i, 1], agent[i, 2]
        fx, fy = ax + c.DIR_DX[d], ay + c.DIR_DY[d]
        front = g[fx, fy, 0] if 0 <= fx < w and 0 <= fy < h else c.WALL
        dx, dy, color, kx, ky, gx, gy = _places(g)
        has_key = _has_key(carrying, i, dx, color)
        dist_key = 0.0 if has_key else _search(g, ax, ay, kx, ky, True, dist, queue,
                                               unreachable)
        _write_row(out, i, _ALL, ax, ay, d, fx, fy, front, carrying[i, 0], has_key, dx, dy,
                   g[dx, dy, 2] if dx >= 0 else -1, kx, ky, gx, gy, dist_key,
                   _search(g, ax, ay, dx, dy, True, dist, queue, unreachable),
                   _search(g, ax, ay, gx, gy, False, dist, queue, unreachable),
                   subgoal_distance(g, ax, ay, carrying[i], target[i, 0], target[i, 1]),
                   step_count[i], max_steps)


# Targets of the cached distance fields, and the fields' two variants (objects block / not).
_T_KEY, _T_DOOR, _T_GOAL = 0, 1, 2
_NEVER = -2  # no grid version seen yet: forces a rebuild on the first read


@njit(cache=True)
def _field(cells, tx, ty, adjacent, through_objects, field, queue):
    """Moves from every cell to (next to) a target, by BFS from the target (-1: unreachable).

    The reverse of :func:`~rewardgym.envs.grid.potential._bfs_once`: moves between passable
    cells are symmetric, so the moves from a cell to the target equal the moves from the target
    to the cell. Only passable cells get a value (the agent's own cell is handled by
    :func:`_moves`, which the forward search never checks either). ``cells`` is one env's grid
    (object codes in channel 0, door states in channel 2).
    """
    w, h = cells.shape[0], cells.shape[1]
    field[:, :] = -1
    tail = 0
    for k in range(4 if adjacent else 1):
        x, y = (tx + c.DIR_DX[k], ty + c.DIR_DY[k]) if adjacent else (tx, ty)
        if 0 <= x < w and 0 <= y < h and _passable(cells[x, y, 0], cells[x, y, 2],
                                                     through_objects):
            field[x, y] = 0
            queue[tail] = x * h + y
            tail += 1
    head = 0
    while head < tail:
        x, y = divmod(queue[head], h)
        head += 1
        tail = expand(cells, 2, x, y, field, queue, tail, through_objects)


@njit(cache=True)
def _build(cells, i, places, fields, slots, variant, queue):
    """Build variant ``variant`` of env ``i``'s needed fields (targets that are present)."""
    g = cells[i]
    through = variant == 1
    dx, dy, kx, ky, gx, gy = (places[i, 0], places[i, 1], places[i, 3], places[i, 4],
                              places[i, 5], places[i, 6])
    if slots[_T_KEY] >= 0 and kx >= 0:
        _field(g, kx, ky, True, through, fields[i, slots[_T_KEY], variant], queue)
    if slots[_T_DOOR] >= 0 and dx >= 0:
        _field(g, dx, dy, True, through, fields[i, slots[_T_DOOR], variant], queue)
    if slots[_T_GOAL] >= 0 and gx >= 0:
        _field(g, gx, gy, False, through, fields[i, slots[_T_GOAL], variant], queue)


@njit(cache=True)
def _refresh(cells, i, places, door_state, fields, slots, queue):
    """Find env ``i``'s door, key and goal; build the first variant of its fields.

    The second variant (objects passable) is built on first need (:func:`read_features`):
    most lookups never need it.
    """
    g = cells[i]
    dx, dy, color, kx, ky, gx, gy = _places(g)
    places[i, 0], places[i, 1], places[i, 2] = dx, dy, color
    places[i, 3], places[i, 4], places[i, 5], places[i, 6] = kx, ky, gx, gy
    door_state[i] = g[dx, dy, 2] if dx >= 0 else -1
    _build(cells, i, places, fields, slots, 0, queue)


@njit(cache=True, inline="always")
def _moves(fields, i, t, v, ax, ay, tx, ty, adjacent):
    """Moves from the agent's cell given a target's field (-1: unreachable).

    0 on the target, else 1 + the best passable neighbour: exactly what the forward search from
    the agent finds. Indexes ``fields[i, t, v, x, y]`` directly: a row view per call costs a
    reference-count round trip (see ``kernels``' module docstring).
    """
    if (abs(ax - tx) + abs(ay - ty) == 1) if adjacent else (ax == tx and ay == ty):
        return 0
    w, h = fields.shape[3], fields.shape[4]
    best = -1
    for k in range(4):
        nx, ny = ax + c.DIR_DX[k], ay + c.DIR_DY[k]
        if 0 <= nx < w and 0 <= ny < h:
            f = fields[i, t, v, nx, ny]
            if f >= 0 and (best < 0 or f + 1 < best):
                best = f + 1
    return best


@njit(cache=True)
def read_features(cells, agent, carrying, target, step_count, version, subgoal,
                  subgoal_tracked, max_steps, need, slots, seen, door_state, places, fields,
                  second, cached, dists, here, queue, out):
    """Write the ``need``-ed columns of every env's feature row, from cached distance fields.

    The grid kernel counts every change of an env's cells in ``version`` (a reset, a pickup, a
    drop, a toggle); an env whose version is the one ``seen`` at its last read keeps its
    cache, any other (a ~2% of envs per step under a random policy) is refreshed, whatever
    steps the reader did not see. Distances come from BFS fields rooted at the key, door and
    goal, so a step costs a few lookups per env instead of three or four searches, and none
    when the agent stayed on its cell of an unchanged grid (``cached`` cell, ``dists`` of the
    last read). The fields' second variant (objects passable) is built when a lookup first
    needs it (``second``). ``subgoal_distance`` is the env's own (``subgoal_tracked``) or a
    full search when needed.

    The fields of 4,096 envs (MiB) outgrow the core's L2, which the env's step has just
    refilled, so each lookup would wait for memory; a first pass gathers every env's field
    values at the agent's cell into ``here`` with loads that depend on nothing, which the CPU
    keeps in flight together. Where the agent's cell is passable its field value is the
    distance (:func:`_moves` falls back to the neighbours otherwise, e.g. lava).
    """
    n, w, h = cells.shape[0], cells.shape[1], cells.shape[2]
    unreachable = float(w * h)
    need_key, need_door, need_goal = need[DIST_KEY], need[DIST_DOOR], need[DIST_GOAL]
    need_subgoal, need_front = need[SUBGOAL_DISTANCE], need[FRONT_OBJECT]
    need_dist = need_key or need_door or need_goal
    key_slot, door_slot, goal_slot = slots[_T_KEY], slots[_T_DOOR], slots[_T_GOAL]
    flags = _flags(need)
    if need_dist:
        for i in range(n):
            ax, ay = agent[i, 0], agent[i, 1]
            for t in range(here.shape[1]):
                here[i, t] = fields[i, t, 0, ax, ay]
    for i in range(n):
        ax, ay, d = agent[i, 0], agent[i, 1], agent[i, 2]
        fx, fy = ax + c.DIR_DX[d], ay + c.DIR_DY[d]
        inside = 0 <= fx < w and 0 <= fy < h
        s = step_count[i]
        carried = carrying[i, 0]
        valid = version[i] == seen[i]
        if not valid:
            _refresh(cells, i, places, door_state, fields, slots, queue)
            second[i] = False
            seen[i] = version[i]
        dx, dy, color = places[i, 0], places[i, 1], places[i, 2]
        kx, ky, gx, gy = places[i, 3], places[i, 4], places[i, 5], places[i, 6]
        # _has_key written out: called here, that inlined helper (it takes ``carrying``) cost a
        # reference-count round trip per env, ~10 ns, doubling the read of an unchanged grid.
        has_key = carried == c.KEY and (dx < 0 or carrying[i, 1] == color)
        if not need_dist:
            dist_key = dist_door = dist_goal = 0.0
        elif valid and cached[i] == ax * h + ay:
            # Same grid, same cell: the distances of the last read still hold.
            dist_key, dist_door, dist_goal = dists[i, 0], dists[i, 1], dists[i, 2]
        else:
            # Written out here for the same reason: a ``_lookup`` helper taking the field
            # arrays cost ~10 ns more per env of a random policy's step.
            dist_key = dist_door = dist_goal = 0.0
            for t in range(3):
                if t == _T_KEY:
                    if not need_key or has_key:
                        continue
                    slot, tx, ty, adjacent = key_slot, kx, ky, True
                elif t == _T_DOOR:
                    if not need_door:
                        continue
                    slot, tx, ty, adjacent = door_slot, dx, dy, True
                else:
                    if not need_goal:
                        continue
                    slot, tx, ty, adjacent = goal_slot, gx, gy, False
                value = unreachable
                if valid and dists[i, t] == unreachable:
                    # Still out of reach: the agent only moves within its connected region,
                    # which an unchanged grid does not change (a locked door's goal, say).
                    pass
                elif tx >= 0:
                    # Gathered before any refresh of this read; a refreshed env reads anew.
                    moves = here[i, slot] if valid and here[i, slot] >= 0 else _moves(
                        fields, i, slot, 0, ax, ay, tx, ty, adjacent)
                    if moves < 0:
                        # No way while objects block: the second variant lets them be passed.
                        if not second[i]:
                            _build(cells, i, places, fields, slots, 1, queue)
                            second[i] = True
                        moves = _moves(fields, i, slot, 1, ax, ay, tx, ty, adjacent)
                    if moves >= 0:
                        value = float(moves)
                if t == _T_KEY:
                    dist_key = value
                elif t == _T_DOOR:
                    dist_door = value
                else:
                    dist_goal = value
            dists[i, 0], dists[i, 1], dists[i, 2] = dist_key, dist_door, dist_goal
            cached[i] = ax * h + ay
        sub = 0.0
        if need_subgoal:
            sub = subgoal[i] if subgoal_tracked else subgoal_distance(
                cells[i], ax, ay, carrying[i], target[i, 0], target[i, 1])
        _write_row(out, i, flags, ax, ay, d, fx, fy,
                   (cells[i, fx, fy, 0] if inside else c.WALL) if need_front else 0,
                   carried, has_key, dx, dy, door_state[i], kx, ky, gx, gy, dist_key, dist_door,
                   dist_goal, sub, s, max_steps)


class GridViewReader:
    """Feature rows of one grid env (single or vector), kept up to date cheaply step by step.

    :func:`features_batch` searches the grid three or four times per env on every call; a
    reader keeps BFS distance fields rooted at the key, door and goal per env and rebuilds them
    only when the grid changed (the kernel's per-env change counter, ``GridState.version``; see
    :func:`read_features`), and writes only the columns in ``names`` (a reward program's
    features; the others stay NaN). Call :meth:`read` after every ``reset`` and ``step`` of the
    env; steps it did not see cost nothing more (the counter tells what changed meanwhile).
    Cells edited by hand, outside the kernels, must bump ``version`` too.

    Args:
        env: a (possibly wrapped) ``GridEnv`` or ``GridVectorEnv``.
        names: the features to compute (default: all).

    Example:
        >>> from rewardgym.envs.grid import GridVectorEnv
        >>> envs = GridVectorEnv(3, layout="door_key", size=5)
        >>> _ = envs.reset(seed=0)
        >>> reader = GridViewReader(envs, ("dist_key", "carrying_key"))
        >>> rows = reader.read()
        >>> bool(np.allclose(rows[:, DIST_KEY], features_batch(envs).dist_key))
        True
        >>> bool(np.isnan(rows[:, AGENT_X]).all())  # not asked for
        True
    """

    def __init__(self, env: Any, names: Any = None) -> None:
        self.env = env
        base = env.unwrapped
        state = base._state
        n, w, h = state.cells.shape[0], state.cells.shape[1], state.cells.shape[2]
        self.need = LAYOUT.mask(names)
        self.names = tuple(f.name for f in LAYOUT.features if self.need[f.start])
        self._seen = np.full(n, _NEVER, dtype=np.int64)  # grid version of each env's cache
        self._door_state = np.full(n, -1, dtype=np.int64)
        self._places = np.full((n, 7), -1, dtype=np.int64)
        # One int16 field pair per target the program needs (memory traffic is the cost here).
        self._slots = np.full(3, -1, dtype=np.int64)
        for t, name in ((_T_KEY, "dist_key"), (_T_DOOR, "dist_door"), (_T_GOAL, "dist_goal")):
            if self.need[LAYOUT[name].start]:
                self._slots[t] = int(self._slots.max()) + 1
        slots = max(int(self._slots.max()) + 1, 1)
        self._fields = np.full((n, slots, 2, w, h), -1, dtype=np.int16)
        self._second = np.zeros(n, dtype=np.bool_)  # second field variant built
        self._cached = np.full(n, -1, dtype=np.int64)  # cell of the distances in _dists
        self._dists = np.zeros((n, 3))
        self._here = np.zeros((n, slots), dtype=np.int16)  # gathered field values
        self._queue = np.empty(w * h, dtype=np.int64)
        self._tracked = bool(base.config.subgoal_distance_in_info)
        self._max_steps = base.config.max_steps_resolved
        self._snapshot: tuple[np.ndarray, ...] | None = None

    def new_rows(self) -> np.ndarray:
        """An ``(n, SIZE)`` buffer for :meth:`read` (NaN in the columns never written).

        Column-major: a program's few features are a few contiguous columns, so a step touches
        ``8 * n`` bytes per feature instead of every env's whole row.
        """
        return np.full((SIZE, self._seen.shape[0]), np.nan).T

    def read(self, out: np.ndarray | None = None) -> np.ndarray:
        """The rows of the env's current state, written into ``out`` (or a new buffer)."""
        out = self.new_rows() if out is None else out
        s = self.env.unwrapped._state
        read_features(s.cells, s.agent, s.carrying, s.target, s.step_count, s.version,
                      s.subgoal, self._tracked, self._max_steps, self.need, self._slots,
                      self._seen, self._door_state, self._places, self._fields, self._second,
                      self._cached, self._dists, self._here, self._queue, out)
        return out

    def before_step(self) -> None:
        """Keep the state the next step starts from (``SAME_STEP`` only: see :meth:`final_rows`)."""
        s = self.env.unwrapped._state
        if self._snapshot is None:
            self._snapshot = tuple(np.empty_like(a) for a in (s.cells, s.agent, s.carrying,
                                                              s.target, s.step_count))
        for dst, src in zip(self._snapshot, (s.cells, s.agent, s.carrying, s.target,
                                             s.step_count), strict=True):
            np.copyto(dst, src)

    def after_step(self) -> None:
        """Nothing to undo after a step (the ``ViewReader`` protocol's hook)."""

    def final_rows(self, infos: dict[str, Any], actions: np.ndarray, done: np.ndarray,
                   out: np.ndarray) -> np.ndarray:
        """Rows of the states the ``done`` envs' episodes ended in (``SAME_STEP`` autoreset).

        The env has already reset those envs, so each one's last transition is replayed from
        the state kept by :meth:`before_step` (grid transitions draw no randomness, so the
        replay ends exactly where the env did) and its full row is computed.
        """
        if self._snapshot is None:
            raise RuntimeError("GridViewReader.final_rows: call before_step() before the step")
        from rewardgym.envs.grid import kernels

        base = self.env.unwrapped
        cells, agent, carrying, target, step_count = self._snapshot
        w, h = cells.shape[1], cells.shape[2]
        scratch = kernels.new_state(1, w, h, base.config.agent_view_size)
        row = np.empty((1, SIZE))
        for i in np.flatnonzero(done):
            scratch.cells[0] = cells[i]
            scratch.agent[0] = agent[i]
            scratch.carrying[0] = carrying[i]
            scratch.target[0] = target[i]
            scratch.step_count[0] = step_count[i]
            kernels.transition(scratch, 0, base._params, int(actions[i]))
            compute_features(scratch.cells, scratch.agent, scratch.carrying, scratch.target,
                             scratch.step_count, self._max_steps, row)
            out[i] = row[0]
        return out


def _rows(env: Any) -> np.ndarray:
    base = env.unwrapped
    s = base._state
    out = np.empty((s.cells.shape[0], SIZE))
    compute_features(s.cells, s.agent, s.carrying, s.target, s.step_count,
                     base.config.max_steps_resolved, out)
    return out


def features(env: Any) -> GridFeatureView:
    """The feature view of a (possibly wrapped) :class:`~rewardgym.envs.grid.GridEnv`.

    Example:
        >>> import gymnasium as gym, rewardgym
        >>> env = gym.make("rewardgym/DoorKey-5x5-v0")
        >>> _ = env.reset(seed=0)
        >>> view = features(env)
        >>> view.carrying_key, view.door_locked, view.dist_goal == 25.0  # locked door blocks
        (0.0, 1.0, True)
    """
    rows = _rows(env)
    if rows.shape[0] != 1:
        raise ValueError(f"features: expected a single env, got {type(env.unwrapped).__name__} "
                         f"with {rows.shape[0]} envs; use features_batch")
    return GridFeatureView(rows[0])


def features_batch(envs: Any) -> GridFeatureView:
    """The feature view of every sub-env of a :class:`~rewardgym.envs.grid.GridVectorEnv`.

    Example:
        >>> from rewardgym.envs.grid import GridVectorEnv
        >>> envs = GridVectorEnv(3, layout="door_key", size=5)
        >>> _ = envs.reset(seed=0)
        >>> features_batch(envs).dist_key.shape
        (3,)
    """
    return GridFeatureView(_rows(envs))
