"""Configuration of the grid tasks: one flat, frozen, validated dataclass."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

from rewardgym.envs.grid import constants as c
from rewardgym.envs.native.checks import config_failure

OBS_MODES = ("partial", "flat", "full")
OBSTACLES = {"lava": c.LAVA, "wall": c.WALL}

# MiniGrid's grid size for each family when none is given (key_corridor derives its own).
_DEFAULT_SIZE = {"empty": 8, "four_rooms": 19, "door_key": 8, "multi_room": 25, "lava_gap": 7,
                 "crossing": 9}
_MIN_SIZE = {"empty": 4, "four_rooms": 5, "door_key": 5, "multi_room": 8, "lava_gap": 5,
             "crossing": 5}


class KernelParams(NamedTuple):
    """The configuration as plain scalars, the form numba kernels receive."""

    layout: int
    width: int
    height: int
    random_start: bool
    room_size: int
    num_rows: int
    num_rooms: int
    max_room_size: int
    num_crossings: int
    obstacle: int
    max_steps: int
    see_through_walls: bool
    view_size: int
    time_limit: int  # extra truncation limit in steps (0: none), e.g. make_vec's max_episode_steps
    subgoal_distance: bool


_fail = config_failure("GridConfig")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GridConfig:
    """A MiniGrid-style task: its layout family, sizes, episode rules and observation form.

    Attributes:
        layout: family, one of ``empty``, ``four_rooms``, ``door_key``, ``key_corridor``,
            ``multi_room``, ``lava_gap``, ``crossing``.
        size: grid width = height (``multi_room``: the canvas); ``None`` takes MiniGrid's default.
            ``key_corridor`` derives its size from ``room_size`` and ``num_rows``.
        random_start: ``empty`` only: start at a random cell and direction instead of (1, 1).
        room_size: ``key_corridor``: side of each room, walls included (MiniGrid's ``S``).
        num_rows: ``key_corridor``: rows of rooms (MiniGrid's ``R``).
        num_rooms: ``multi_room``: rooms in the chain (MiniGrid's ``N``).
        max_room_size: ``multi_room``: largest room side, walls included.
        num_crossings: ``crossing``: number of lava rivers or walls to cross.
        obstacle: ``crossing``/``lava_gap``: ``"lava"`` (deadly) or ``"wall"``.
        max_steps: episode length at which the env truncates; ``None`` takes MiniGrid's value
            for the family. The success reward is ``1 - 0.9 * step_count / max_steps``.
        see_through_walls: ``None`` takes MiniGrid's choice for the family (only ``empty``
            sees through walls).
        agent_view_size: side of the egocentric view (odd, >= 3).
        obs_mode: ``"partial"`` (MiniGrid's Dict of 7x7x3 view and direction), ``"flat"`` (one
            uint8 vector: the view followed by a one-hot direction, for MLP policies) or
            ``"full"`` (Dict of the whole encoded grid, agent marked as in MiniGrid's
            ``FullyObsWrapper``, and direction).
        subgoal_distance_in_info: report ``info["subgoal_distance"]`` (BFS steps to the current
            sub-goal) at every reset and step, for potential-based shaping.

    Example:
        >>> cfg = GridConfig(layout="door_key", size=5)
        >>> cfg.max_steps_resolved, cfg.width
        (250, 5)
    """

    layout: str = "door_key"
    size: int | None = None
    random_start: bool = False
    room_size: int = 3
    num_rows: int = 3
    num_rooms: int = 2
    max_room_size: int = 10
    num_crossings: int = 1
    obstacle: str = "lava"
    max_steps: int | None = None
    see_through_walls: bool | None = None
    agent_view_size: int = 7
    obs_mode: str = "partial"
    subgoal_distance_in_info: bool = False

    def __post_init__(self) -> None:
        if self.layout not in c.LAYOUTS:
            _fail("layout", f"one of {c.LAYOUTS}", self.layout)
        if self.obs_mode not in OBS_MODES:
            _fail("obs_mode", f"one of {OBS_MODES}", self.obs_mode)
        if self.obstacle not in OBSTACLES:
            _fail("obstacle", f"one of {tuple(OBSTACLES)}", self.obstacle)
        if self.layout == "key_corridor":
            if self.size is not None:
                _fail("size", "None for key_corridor (set room_size and num_rows)", self.size)
            if not 3 <= self.room_size <= 12:
                _fail("room_size", "an int in [3, 12]", self.room_size)
            if not 1 <= self.num_rows <= 6:
                _fail("num_rows", "an int in [1, 6]", self.num_rows)
        elif self.size is not None and not _MIN_SIZE[self.layout] <= self.size <= 64:
            _fail("size", f"an int in [{_MIN_SIZE[self.layout]}, 64] for {self.layout}", self.size)
        if self.layout == "crossing":
            if self.width % 2 == 0:
                _fail("size", "an odd int for crossing", self.size)
            rivers = 2 * len(range(2, self.width - 2, 2))  # candidate rows and columns
            if not 1 <= self.num_crossings <= rivers:
                _fail("num_crossings", f"an int in [1, {rivers}]", self.num_crossings)
        if self.layout == "multi_room":
            if not 1 <= self.num_rooms <= 12:
                _fail("num_rooms", "an int in [1, 12]", self.num_rooms)
            if not 4 <= self.max_room_size <= self.width:
                _fail("max_room_size", f"an int in [4, {self.width}]", self.max_room_size)
        if self.max_steps is not None and self.max_steps < 1:
            _fail("max_steps", "a positive int or None", self.max_steps)
        if self.agent_view_size < 3 or self.agent_view_size % 2 == 0:
            _fail("agent_view_size", "an odd int >= 3", self.agent_view_size)

    @property
    def width(self) -> int:
        """Grid width in cells."""
        if self.layout == "key_corridor":
            return (self.room_size - 1) * 3 + 1
        return _DEFAULT_SIZE[self.layout] if self.size is None else self.size

    @property
    def height(self) -> int:
        """Grid height in cells."""
        if self.layout == "key_corridor":
            return (self.room_size - 1) * self.num_rows + 1
        return self.width

    @property
    def max_steps_resolved(self) -> int:
        """``max_steps``, or MiniGrid's default for the family."""
        if self.max_steps is not None:
            return self.max_steps
        area = self.width * self.width
        return {
            "empty": 4 * area,
            "four_rooms": 100,
            "door_key": 10 * area,
            "key_corridor": 30 * self.room_size**2,
            "multi_room": 20 * self.num_rooms,
            "lava_gap": 4 * area,
            "crossing": 4 * area,
        }[self.layout]

    @property
    def see_through_walls_resolved(self) -> bool:
        """``see_through_walls``, or MiniGrid's choice for the family."""
        if self.see_through_walls is not None:
            return self.see_through_walls
        return self.layout == "empty"

    def kernel_params(self, time_limit: int | None = None) -> KernelParams:
        """The numba form of this config; ``time_limit`` adds a truncation limit in steps."""
        return KernelParams(
            layout=c.LAYOUTS.index(self.layout),
            width=self.width,
            height=self.height,
            random_start=self.random_start,
            room_size=self.room_size,
            num_rows=self.num_rows,
            num_rooms=self.num_rooms,
            max_room_size=self.max_room_size,
            num_crossings=self.num_crossings,
            obstacle=OBSTACLES[self.obstacle],
            max_steps=self.max_steps_resolved,
            see_through_walls=self.see_through_walls_resolved,
            view_size=self.agent_view_size,
            time_limit=0 if time_limit is None else int(time_limit),
            subgoal_distance=self.subgoal_distance_in_info,
        )
