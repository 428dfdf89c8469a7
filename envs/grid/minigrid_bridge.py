"""Mirror a live MiniGrid env into a :class:`GridEnv`, to step both in lockstep."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid.config import GridConfig
from rewardgym.envs.grid.env import GridEnv


def _config_for(env: Any) -> dict[str, Any]:
    """Our config fields for a MiniGrid env instance (one of the supported families)."""
    from minigrid.core.world_object import Wall
    from minigrid.envs import (
        CrossingEnv,
        DoorKeyEnv,
        EmptyEnv,
        FourRoomsEnv,
        KeyCorridorEnv,
        LavaGapEnv,
        MultiRoomEnv,
    )

    if isinstance(env, EmptyEnv):
        return {"layout": "empty", "size": env.width, "random_start": env.agent_start_pos is None}
    if isinstance(env, FourRoomsEnv):
        return {"layout": "four_rooms", "size": env.width}
    if isinstance(env, DoorKeyEnv):
        return {"layout": "door_key", "size": env.width}
    if isinstance(env, KeyCorridorEnv):
        return {"layout": "key_corridor", "room_size": env.room_size, "num_rows": env.num_rows}
    if isinstance(env, MultiRoomEnv):
        return {"layout": "multi_room", "size": env.width, "num_rooms": env.maxNumRooms,
                "max_room_size": env.maxRoomSize}
    if isinstance(env, LavaGapEnv):
        return {"layout": "lava_gap", "size": env.width,
                "obstacle": "wall" if env.obstacle_type is Wall else "lava"}
    if isinstance(env, CrossingEnv):
        return {"layout": "crossing", "size": env.width, "num_crossings": env.num_crossings,
                "obstacle": "wall" if env.obstacle_type is Wall else "lava"}
    raise ValueError(f"from_minigrid: {type(env).__name__} is not a supported family "
                     f"(supported: {', '.join(c.LAYOUTS)})")


def from_minigrid(env: gym.Env, *, obs_mode: str = "partial") -> GridEnv:
    """Build a :class:`GridEnv` in the exact state of a reset MiniGrid env.

    The grid, agent position and direction, carried object, step count, ``max_steps``, view
    size, wall transparency, mission and pickup target are copied, so stepping both envs with
    the same actions gives the same observations, rewards and episode ends.

    Args:
        env: a MiniGrid env (wrappers allowed) that has been reset.
        obs_mode: observation form of the returned env.

    Returns:
        The mirrored env; :meth:`GridEnv.observe` gives its current observation.

    Example:
        >>> import gymnasium as gym, minigrid
        >>> mg = gym.make("MiniGrid-DoorKey-5x5-v0")
        >>> mg_obs, _ = mg.reset(seed=0)
        >>> ours = from_minigrid(mg)
        >>> bool((ours.observe()["image"] == mg_obs["image"]).all())
        True
    """
    u = env.unwrapped
    if getattr(u, "agent_pos", None) is None or u.agent_dir is None:
        raise ValueError("from_minigrid: reset the MiniGrid env first")
    if u.mission not in c.MISSIONS:
        raise ValueError(f"from_minigrid: unknown mission {u.mission!r}")
    config = GridConfig(**_config_for(u), max_steps=u.max_steps,
                        see_through_walls=u.see_through_walls,
                        agent_view_size=u.agent_view_size, obs_mode=obs_mode)
    ours = GridEnv(config)
    ours.reset(seed=0)  # allocate and seed; every state field is overwritten below
    target = (0, 0)
    obj = getattr(u, "obj", None)
    if obj is not None and type(u).__name__ == "KeyCorridorEnv":
        target = obj.encode()[:2]
    carrying = np.zeros(3, dtype=np.uint8) if u.carrying is None else np.array(
        u.carrying.encode(), dtype=np.uint8)
    ours.load_state(cells=u.grid.encode(), agent=(int(u.agent_pos[0]), int(u.agent_pos[1]),
                                                  int(u.agent_dir)),
                    carrying=carrying, target=target, step_count=u.step_count,
                    mission=c.MISSIONS.index(u.mission))
    return ours
