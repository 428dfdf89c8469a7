"""Helpers for reading vector-env infos under Gymnasium's autoreset modes."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv


def stepping_autoreset_mode(env: VectorEnv, wrapper: str) -> AutoresetMode:
    """The env's autoreset mode, refused unless it is NEXT_STEP or SAME_STEP."""
    mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
    if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
        raise ValueError(f"{wrapper} supports NEXT_STEP and SAME_STEP autoreset, not {mode}")
    return mode


def with_final_rows(infos: dict[str, Any], final: dict[str, Any], done: np.ndarray) -> dict:
    """Infos whose finished rows come from ``final_info`` (SAME_STEP autoreset).

    Under ``SAME_STEP`` the top-level infos of a finished env describe the new episode; the
    finishing step's info is in ``infos["final_info"]``. Only arrays of matching shape (and
    nested dicts of them) are merged.
    """
    merged = dict(infos)
    for key, value in final.items():
        current = infos.get(key)
        if current is None and isinstance(value, (dict, np.ndarray)):
            # Every env that reported this key finished on this step (e.g. all envs ended at
            # once and reset infos lack it): the final rows are all there is.
            merged[key] = value
        elif isinstance(value, dict) and isinstance(current, dict):
            merged[key] = with_final_rows(current, value, done)
        elif isinstance(value, np.ndarray) and isinstance(current, np.ndarray) and (
                value.shape == current.shape):
            mask = done.reshape(-1, *([1] * (value.ndim - 1)))
            merged[key] = np.where(mask, value, current)
    return merged
