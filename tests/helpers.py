"""Rollout and comparison helpers shared by the test modules."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.utils.env_checker import data_equivalence


def rollout(env, seed: int, steps: int, action_seed: int = 0) -> dict[str, list[Any]]:
    """Step a single env with seeded random actions, resetting on episode end."""
    env.action_space.seed(action_seed)
    obs, info = env.reset(seed=seed)
    out: dict[str, list[Any]] = {"obs": [obs], "infos": [info], "rewards": [], "flags": [],
                                 "step_infos": []}
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        out["obs"].append(obs)
        out["infos"].append(info)
        out["rewards"].append(reward)
        out["step_infos"].append(info)
        out["flags"].append((terminated, truncated))
        if terminated or truncated:
            obs, info = env.reset()
            out["obs"].append(obs)
            out["infos"].append(info)
    return out


def vector_rollout(envs, seed: int, steps: int, action_seed: int = 0) -> dict[str, Any]:
    """Step a vector env with seeded random actions (autoreset), recording everything."""
    envs.action_space.seed(action_seed)
    obs, info = envs.reset(seed=seed)
    out: dict[str, Any] = {"obs": [obs], "infos": [info], "rewards": [], "term": [], "trunc": []}
    for _ in range(steps):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        out["obs"].append(obs)
        out["infos"].append(info)
        out["rewards"].append(reward)
        out["term"].append(terminated)
        out["trunc"].append(truncated)
    out["resets"] = int(sum(np.sum(t | u) for t, u in zip(out["term"], out["trunc"], strict=True)))
    return out


def assert_same(a: Any, b: Any) -> None:
    """Exact equality of nested observations/rewards/infos (dtypes included)."""
    assert data_equivalence(a, b, exact=True), "trajectories differ"


def digests_by_thread_count(script: str, counts: tuple[str, ...] = ("1", "2")) -> dict[str, str]:
    """Run ``script`` under each ``NUMBA_NUM_THREADS``; it prints the thread count and a digest.

    Returns the digest per thread count (after checking each run used the count it was given).
    """
    import os
    import subprocess
    import sys

    digests = {}
    for threads in counts:
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        out = subprocess.run([sys.executable, "-c", script], env=env, check=True,
                             capture_output=True, text=True).stdout.split()
        assert out[0] == threads
        digests[threads] = out[1]
    return digests
