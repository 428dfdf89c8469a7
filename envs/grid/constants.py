"""MiniGrid's encoding tables and the names our grid tasks use.

The integer codes are MiniGrid's (``minigrid.core.constants``): an observation cell is
``(object, colour, state)`` with these indices, so policies and tools built for MiniGrid read our
observations unchanged.
"""

from __future__ import annotations

# Object codes (MiniGrid's OBJECT_TO_IDX).
UNSEEN = 0
EMPTY = 1
WALL = 2
FLOOR = 3
DOOR = 4
KEY = 5
BALL = 6
BOX = 7
GOAL = 8
LAVA = 9
AGENT = 10

OBJECT_NAMES = ("unseen", "empty", "wall", "floor", "door", "key", "ball", "box", "goal", "lava",
                "agent")

# Colour codes (MiniGrid's COLOR_TO_IDX) and the sorted name list MiniGrid samples colours from.
RED, GREEN, BLUE, PURPLE, YELLOW, GREY = 0, 1, 2, 3, 4, 5
COLOR_NAMES = ("red", "green", "blue", "purple", "yellow", "grey")
COLOR_RGB = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (112, 39, 195), (255, 255, 0), (100, 100, 100))
# MiniGrid draws random colours from sorted(COLOR_NAMES); these are their codes in that order.
SORTED_COLOR_CODES = (BLUE, GREEN, GREY, PURPLE, RED, YELLOW)

# Door states (MiniGrid's STATE_TO_IDX).
OPEN, CLOSED, LOCKED = 0, 1, 2

# Actions (MiniGrid's Actions enum).
LEFT, RIGHT, FORWARD, PICKUP, DROP, TOGGLE, DONE = 0, 1, 2, 3, 4, 5, 6
ACTION_NAMES = ("left", "right", "forward", "pickup", "drop", "toggle", "done")
NUM_ACTIONS = 7

# Direction vectors: 0 right (+x), 1 down (+y), 2 left (-x), 3 up (-y).
DIR_DX = (1, 0, -1, 0)
DIR_DY = (0, 1, 0, -1)

# Layout families, as kernel codes.
LAYOUTS = ("empty", "four_rooms", "door_key", "key_corridor", "multi_room", "lava_gap", "crossing")
EMPTY_LAYOUT, FOUR_ROOMS, DOOR_KEY, KEY_CORRIDOR, MULTI_ROOM, LAVA_GAP, CROSSING = range(7)

# Mission strings, indexed by the mission code a layout returns.  Key-corridor missions name the
# target's colour: code KEY_CORRIDOR_MISSION_BASE + colour.
MISSIONS = (
    "get to the green goal square",
    "reach the goal",
    "use the key to open the door and then get to the goal",
    "traverse the rooms to get to the goal",
    "avoid the lava and get to the green goal square",
    "find the opening and get to the green goal square",
    *(f"pick up the {name} ball" for name in COLOR_NAMES),
)
MISSION_GET_TO_GOAL = 0
MISSION_REACH_GOAL = 1
MISSION_DOOR_KEY = 2
MISSION_MULTI_ROOM = 3
MISSION_AVOID_LAVA = 4
MISSION_FIND_OPENING = 5
KEY_CORRIDOR_MISSION_BASE = 6
