"""Seeded evaluation of a RouteDrive policy: the one evaluator the driving studies share.

:func:`evaluate` runs a policy (observations -> actions, batched) on ``num_envs`` native
RouteDrive envs, each playing ``episodes / num_envs`` consecutive episodes from its own seed
(``seed + i``), so every policy of a study is judged on the same episodes. It reports mean route
completion (``rc``, %), driving score (``ds``), success, return and the rate of each requested
episode-ending signal, read from ``final_info`` (SAME_STEP autoreset).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["EVAL_SEED", "Policy", "evaluate"]

#: First evaluation seed: evaluation episodes never share seeds with training (seeded from 0).
EVAL_SEED = 10_000
Policy = Callable[[np.ndarray], np.ndarray]


def evaluate(policy: Policy, episodes: int, *, endings: Sequence[str],
             env_kwargs: Mapping[str, Any] | None = None, num_envs: int = 16,
             seed: int = EVAL_SEED) -> dict[str, float]:
    """Mean ``rc``, ``ds``, ``success``, ``return`` and each ending's rate over the episodes.

    Args:
        policy: Batched policy, ``(num_envs, obs_dim) -> (num_envs, 2)`` actions.
        episodes: Episodes in all (at least one per env).
        endings: Episode-ending signals whose rate to report (e.g. ``"collision"``); one the
            env does not report is left out.
        env_kwargs: Keyword arguments of ``RouteDriveVectorEnv`` (e.g. ``map_seed``).
        num_envs: Native envs evaluated at once.
        seed: Seed of env 0 (env ``i`` gets ``seed + i``).

    Returns:
        Metric -> mean over the finished episodes, plus ``episodes`` (their number).
    """
    from rewardgym.envs.driving import RouteDriveVectorEnv

    per_env = max(1, episodes // num_envs)
    envs = RouteDriveVectorEnv(num_envs, autoreset_mode="same_step", **(env_kwargs or {}))
    try:
        obs, _ = envs.reset(seed=seed)
        counts = np.zeros(num_envs, dtype=int)
        returns = np.zeros(num_envs)
        rows: list[dict[str, float]] = []
        while counts.min() < per_env:
            obs, rewards, terminated, truncated, infos = envs.step(policy(obs))
            returns += rewards
            final = infos.get("final_info", {})
            for i in np.flatnonzero(terminated | truncated):
                if counts[i] < per_env:
                    row = {"rc": float(final["route_completion"][i]),
                           "ds": float(final["driving_score"][i]),
                           "success": float(final["is_success"][i]), "return": float(returns[i])}
                    row |= {name: float(np.asarray(final[name][i]) > 0)
                            for name in endings if name in final}
                    rows.append(row)
                counts[i] += 1
                returns[i] = 0.0
    finally:
        envs.close()
    return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]} | {
        "episodes": len(rows)}
