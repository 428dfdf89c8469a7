"""What RouteDrive's single, vector and multi-agent shells share: spaces, actions, infos."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from rewardgym.envs.driving import kernels as k
from rewardgym.envs.driving.config import DriveConfig
from rewardgym.envs.driving.maps import MapBank, build_bank
from rewardgym.envs.native.checks import check_box_actions, check_discrete_actions

HARD_SIGNALS = frozenset(k.HARD) | {"timeout", "route_done"}
# 5 steering levels × (brake, coast, accelerate), in (steer, accel) pairs.
DISCRETE_ACTIONS = np.array([(steer, accel) for steer in (-1.0, -0.5, 0.0, 0.5, 1.0)
                             for accel in (-1.0, 0.0, 1.0)])
OBS_BOUND = 5.0  # every vector feature is scaled to lie well inside [-5, 5]


def build_world(cfg: DriveConfig, num_worlds: int, max_episode_steps: int | None = None
                ) -> tuple[MapBank, k.KernelParams, tuple[str, ...], k.World, k.StepOut,
                           np.ndarray]:
    """What every RouteDrive shell steps: ``(bank, params, term names, world, outputs, actions)``.

    ``num_worlds`` worlds of ``cfg.num_egos`` egos; ``max_episode_steps`` adds a truncation limit.
    """
    params = cfg.kernel_params(max_episode_steps)
    out = k.new_step_out(num_worlds, cfg.num_egos, k.obs_length(cfg.value_features),
                         cfg.bev_size if cfg.obs_mode == "bev" else 0)
    return (build_bank(cfg.scenario, cfg.num_templates, cfg.map_seed), params,
            k.TERM_NAMES[params.reward_mode], k.new_world(num_worlds, cfg.num_egos, cfg.num_npcs),
            out, np.zeros((num_worlds * cfg.num_egos, 2)))


def observation_space(cfg: DriveConfig) -> spaces.Space:
    """The single-car observation space."""
    vec = spaces.Box(-OBS_BOUND, OBS_BOUND, (k.obs_length(cfg.value_features),), np.float32)
    if cfg.obs_mode == "vector":
        return vec
    bev = spaces.Box(0, 255, (k.BEV_CHANNELS, cfg.bev_size, cfg.bev_size), np.uint8)
    return spaces.Dict({"vec": vec, "bev": bev})


def action_space(cfg: DriveConfig) -> spaces.Space:
    """``Box([-1, 1]^2)`` (steer, accel) or ``Discrete(15)``."""
    if cfg.action_mode == "discrete":
        return spaces.Discrete(len(DISCRETE_ACTIONS))
    return spaces.Box(-1.0, 1.0, (2,), np.float32)


def check_actions(name: str, cfg: DriveConfig, actions: Any, rows: int | None,
                  out: np.ndarray) -> np.ndarray:
    """Write ``actions`` as ``(steer, accel)`` float64 rows into ``out``; returns ``out``.

    ``rows`` is None for a single car (one action), else the number of cars. The kit's checks
    apply the suite's policy (``envs/action_policy.py``): continuous actions outside
    ``[-1, 1]`` are clipped, discrete ones outside ``[0, 14]`` refused.

    Raises:
        ValueError: naming the env and the action when its type or shape is wrong, when it is
            not finite, or when a discrete action is out of range.
    """
    if cfg.action_mode == "discrete":
        if rows is None and isinstance(actions, int | np.integer) and not isinstance(
                actions, bool | np.bool_) and 0 <= actions < len(DISCRETE_ACTIONS):
            out[0] = DISCRETE_ACTIONS[actions]
            return out
        index = check_discrete_actions(name, actions, len(DISCRETE_ACTIONS), rows)
        np.take(DISCRETE_ACTIONS, index, axis=0, out=out)
        return out
    return check_box_actions(name, actions, (2,) if rows is None else (rows, 2), -1.0, 1.0, out)


def single_info(out: k.StepOut, row: int, reward_mode_terms: tuple[str, ...]) -> dict[str, Any]:
    """The info dict of one car from its output row (also used for resets: all zeros)."""
    sig = out.signals[row]
    info: dict[str, Any] = {
        "route_completion": float(out.scalars[row, k.OUT_RC]),
        "progress": float(out.scalars[row, k.OUT_PROGRESS]),
        "driving_score": float(out.scalars[row, k.OUT_SCORE]),
        "infraction": int(_bitmask(sig[None])[0]),
        "is_success": bool(sig[k.ROUTE_DONE] > 0.0),
    }
    for j, name in enumerate(k.SIGNALS):
        info[name] = bool(sig[j] > 0.0) if name in HARD_SIGNALS else float(sig[j])
    info["reward_terms"] = {name: float(out.terms[row, j])
                            for j, name in enumerate(reward_mode_terms)}
    return info


def _bitmask(signals: np.ndarray) -> np.ndarray:
    """Bit ``j`` set where signal ``j`` (``kernels.SIGNALS`` order) is active."""
    return ((signals > 0.0) * (1 << np.arange(signals.shape[1]))).sum(axis=1).astype(np.int64)


def batch_info(out: k.StepOut, rows: np.ndarray, mask: np.ndarray,
               reward_mode_terms: tuple[str, ...],
               present: np.ndarray | None = None) -> dict[str, Any]:
    """Vector infos laid out as ``SyncVectorEnv`` lays out :func:`single_info`.

    ``rows`` picks the output rows; rows where ``mask`` is False hold zeros (as a sync vector env
    fills keys an env did not report). The ``_key`` masks are ``present`` (default: ``mask``);
    rows present but not in ``mask`` report the zeros of a reset info.
    """
    reported = mask if present is None else present
    sig = out.signals[rows] * mask[:, None]
    scalars = out.scalars[rows] * mask[:, None]
    info: dict[str, Any] = {
        "route_completion": scalars[:, k.OUT_RC], "_route_completion": reported.copy(),
        "progress": scalars[:, k.OUT_PROGRESS], "_progress": reported.copy(),
        "driving_score": scalars[:, k.OUT_SCORE], "_driving_score": reported.copy(),
        "infraction": _bitmask(sig), "_infraction": reported.copy(),
        "is_success": sig[:, k.ROUTE_DONE] > 0.0, "_is_success": reported.copy(),
    }
    for j, name in enumerate(k.SIGNALS):
        info[name] = sig[:, j] > 0.0 if name in HARD_SIGNALS else sig[:, j].copy()
        info[f"_{name}"] = reported.copy()
    terms = {}
    for j, name in enumerate(reward_mode_terms):
        terms[name] = out.terms[rows, j] * mask
        terms[f"_{name}"] = reported.copy()
    info["reward_terms"], info["_reward_terms"] = terms, reported.copy()
    return info


def single_obs(cfg: DriveConfig, out: k.StepOut, row: int, final: bool = False) -> Any:
    """One car's observation (a fresh copy)."""
    vec = (out.final_obs if final else out.obs)[row].copy()
    if cfg.obs_mode == "vector":
        return vec
    return {"vec": vec, "bev": (out.final_bev if final else out.bev)[row].copy()}


def batch_obs(cfg: DriveConfig, out: k.StepOut) -> Any:
    """Every row's observation (fresh arrays)."""
    if cfg.obs_mode == "vector":
        return out.obs.copy()
    return {"vec": out.obs.copy(), "bev": out.bev.copy()}
