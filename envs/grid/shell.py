"""What the single and the vector grid env share: spaces, action checks, obs and info assembly."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.envs.grid import constants as c
from rewardgym.envs.grid.config import GridConfig

OBS_MODE_CODES = {"partial": 0, "flat": 1, "full": 2}
MISSION_ARRAY = np.array(c.MISSIONS, dtype=object)


def observation_space(cfg: GridConfig) -> spaces.Space:
    """The single-env observation space for ``cfg.obs_mode``."""
    v = cfg.agent_view_size
    if cfg.obs_mode == "flat":
        return spaces.Box(0, 255, (v * v * 3 + 4,), dtype=np.uint8)
    shape = (cfg.width, cfg.height, 3) if cfg.obs_mode == "full" else (v, v, 3)
    return spaces.Dict({"image": spaces.Box(0, 255, shape, dtype=np.uint8),
                        "direction": spaces.Discrete(4)})


def action_space() -> spaces.Discrete:
    """MiniGrid's seven actions: left, right, forward, pickup, drop, toggle, done."""
    return spaces.Discrete(c.NUM_ACTIONS)


def image_shape(cfg: GridConfig) -> tuple[int, int, int]:
    """Shape of the ``image`` entry (partial and full modes)."""
    if cfg.obs_mode == "full":
        return cfg.width, cfg.height, 3
    return cfg.agent_view_size, cfg.agent_view_size, 3


def batch_obs(cfg: GridConfig, rows: np.ndarray, direction: np.ndarray) -> Any:
    """Observations of a batch from kernel rows (fresh arrays, never views of buffers)."""
    if cfg.obs_mode == "flat":
        return rows.copy()
    n = rows.shape[0]
    return {"image": rows.reshape(n, *image_shape(cfg)).copy(), "direction": direction.copy()}


def single_obs(cfg: GridConfig, row: np.ndarray, direction: int) -> Any:
    """One env's observation from its kernel row."""
    if cfg.obs_mode == "flat":
        return row.copy()
    return {"image": row.reshape(image_shape(cfg)).copy(), "direction": int(direction)}


def single_info(cfg: GridConfig, mission: int, success: bool, reward: float,
                subgoal: int) -> dict[str, Any]:
    """The info dict of one env's reset or step."""
    info: dict[str, Any] = {
        "mission": c.MISSIONS[mission],
        "is_success": bool(success),
        "reward_terms": {"success": float(reward)},
    }
    if cfg.subgoal_distance_in_info:
        info["subgoal_distance"] = int(subgoal)
    return info


def batch_info(cfg: GridConfig, mask: np.ndarray, mission: np.ndarray, success: np.ndarray,
               reward: np.ndarray, subgoal: np.ndarray) -> dict[str, Any]:
    """Vector infos laid out as gymnasium's ``SyncVectorEnv`` lays out :func:`single_info`.

    Rows outside ``mask`` hold the fill values ``SyncVectorEnv`` uses (None, False, 0).
    """
    missions = np.full(mask.shape[0], None, dtype=object)
    missions[mask] = MISSION_ARRAY[mission[mask]]
    info: dict[str, Any] = {
        "mission": missions,
        "_mission": mask.copy(),
        "is_success": success & mask,
        "_is_success": mask.copy(),
        "reward_terms": {"success": np.where(mask, reward, 0.0), "_success": mask.copy()},
        "_reward_terms": mask.copy(),
    }
    if cfg.subgoal_distance_in_info:
        info["subgoal_distance"] = np.where(mask, subgoal, 0)
        info["_subgoal_distance"] = mask.copy()
    return info
