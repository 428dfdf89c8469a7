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

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid.potential import _bfs, _find, subgoal_distance

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


@dataclass(frozen=True)
class Feature:
    """One named entry of the feature row (every grid feature is a scalar)."""

    name: str
    start: int
    size: int
    unit: str
    doc: str
    labels: tuple[str, ...] = ()


class GridFeatureLayout:
    """Names, units and fixed indices of the grid feature row (one layout for every grid).

    Example:
        >>> layout = GridFeatureLayout()
        >>> layout["dist_key"].start, layout["dist_key"].unit, layout.size
        (17, 'moves', 23)
    """

    def __init__(self) -> None:
        self.features: tuple[Feature, ...] = tuple(
            Feature(name, i, 1, unit, doc) for i, (name, unit, doc) in enumerate(FEATURES))
        self.size = SIZE
        self._by_name = {f.name: f for f in self.features}

    def __getitem__(self, name: str) -> Feature:
        """The :class:`Feature` called ``name`` (KeyError listing the names otherwise)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no feature {name!r}; features: {list(self._by_name)}") from None

    @property
    def names(self) -> tuple[str, ...]:
        """Feature names in row order."""
        return tuple(f.name for f in self.features)

    def describe(self) -> str:
        """A markdown table of the features (for documentation and reward-writing prompts)."""
        lines = ["| feature | index | unit | meaning |", "|---|---|---|---|"]
        lines += [f"| {f.name} | {f.start} | {f.unit} | {f.doc} |" for f in self.features]
        return "\n".join(lines)


LAYOUT = GridFeatureLayout()


class GridFeatureView:
    """Named access to grid feature rows: ``view.dist_key`` is a float (one row) or an array.

    Example:
        >>> view = GridFeatureView(np.arange(SIZE, dtype=np.float64))
        >>> view.agent_y, view.max_steps
        (1.0, 22.0)
    """

    def __init__(self, values: np.ndarray, layout: GridFeatureLayout = LAYOUT) -> None:
        self.values = values
        self.layout = layout

    def __getattr__(self, name: str) -> Any:
        """The feature ``name``: a float for a single row, an array ``(n,)`` for a batch."""
        if name in ("values", "layout"):
            raise AttributeError(name)
        value = self.values[..., self.layout[name].start]
        return float(value) if value.ndim == 0 else value

    def as_dict(self) -> dict[str, Any]:
        """Every feature by name."""
        return {name: getattr(self, name) for name in self.layout.names}


@njit(cache=True)
def _distance(moves, unreachable):
    return float(unreachable) if moves < 0 else float(moves)


@njit(cache=True)
def compute_features(cells, agent, carrying, target, step_count, max_steps, out):
    """Fill ``out[i]`` (layout :data:`FEATURES`) for every env of a batch."""
    n, w, h = cells.shape[0], cells.shape[1], cells.shape[2]
    unreachable = w * h
    dist = np.empty((w, h), dtype=np.int64)
    queue = np.empty(w * h, dtype=np.int64)
    for i in range(n):
        row = out[i]
        g = cells[i]
        ax, ay, d = agent[i, 0], agent[i, 1], agent[i, 2]
        row[AGENT_X] = ax
        row[AGENT_Y] = ay
        row[AGENT_DIR] = d
        fx, fy = ax + c.DIR_DX[d], ay + c.DIR_DY[d]
        row[FRONT_X] = fx
        row[FRONT_Y] = fy
        inside = 0 <= fx < w and 0 <= fy < h
        row[FRONT_OBJECT] = g[fx, fy, 0] if inside else c.WALL
        row[CARRYING_OBJECT] = carrying[i, 0]
        dx, dy = _find(g, c.DOOR, 0, 0, False, False)
        row[DOOR_X] = dx
        row[DOOR_Y] = dy
        row[DOOR_OPEN] = 1.0 if dx >= 0 and g[dx, dy, 2] == c.OPEN else 0.0
        row[DOOR_LOCKED] = 1.0 if dx >= 0 and g[dx, dy, 2] == c.LOCKED else 0.0
        has_key = False
        kx, ky = -1, -1
        if dx >= 0:
            color = g[dx, dy, 1]
            has_key = carrying[i, 0] == c.KEY and carrying[i, 1] == color
            kx, ky = _find(g, c.KEY, color, 0, True, False)
        else:
            kx, ky = _find(g, c.KEY, 0, 0, False, False)
            has_key = carrying[i, 0] == c.KEY
        row[CARRYING_KEY] = 1.0 if has_key else 0.0
        row[KEY_X] = kx
        row[KEY_Y] = ky
        gx, gy = _find(g, c.GOAL, 0, 0, False, False)
        row[GOAL_X] = gx
        row[GOAL_Y] = gy
        row[AT_GOAL] = 1.0 if gx >= 0 and ax == gx and ay == gy else 0.0
        if has_key:
            row[DIST_KEY] = 0.0
        elif kx >= 0:
            moves, _, _ = _bfs(g, ax, ay, kx, ky, True, dist, queue)
            row[DIST_KEY] = _distance(moves, unreachable)
        else:
            row[DIST_KEY] = unreachable
        if dx >= 0:
            moves, _, _ = _bfs(g, ax, ay, dx, dy, True, dist, queue)
            row[DIST_DOOR] = _distance(moves, unreachable)
        else:
            row[DIST_DOOR] = unreachable
        if gx >= 0:
            moves, _, _ = _bfs(g, ax, ay, gx, gy, False, dist, queue)
            row[DIST_GOAL] = _distance(moves, unreachable)
        else:
            row[DIST_GOAL] = unreachable
        row[SUBGOAL_DISTANCE] = subgoal_distance(g, ax, ay, carrying[i], target[i, 0],
                                                 target[i, 1])
        row[STEP_COUNT] = step_count[i]
        row[MAX_STEPS] = max_steps


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
