"""The ``driving`` group of the throughput benchmark: RouteDrive against highway-env.

RouteDrive's native vector env (vector observations at n = 1024 and 4096 on one numba thread,
n = 4096 on all numba threads, and with the BEV raster), its single env (``gym.make``), and
highway-env's ``highway-fast-v0`` and ``intersection-v1`` single envs (Leurent, "An Environment
for Autonomous Driving Decision-Making", 2018), the simulator researchers reach for today.
highway-env is an optional benchmark dependency (``pip install rewardgym[bench]``); without it
its rows are left out and the ratios are ``None``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numba

from rewardgym.benchmarks import harness

OURS_ID = "rewardgym/RouteDrive-v1"
OURS_BEV_ID = "rewardgym/RouteDrive-BEV-v1"
HIGHWAY_IDS = ("highway-fast-v0", "intersection-v1")
REFERENCE = "highway-fast-v0"


def highway_available() -> bool:
    """Whether highway-env is installed."""
    return importlib.util.find_spec("highway_env") is not None


def _native(env_id: str, n: int, threads: int) -> harness.Stepper:
    env = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point",
                       num_threads=threads)
    return harness.vector_stepper(env)


def _single(env_id: str) -> harness.Stepper:
    return harness.single_stepper(gym.make(env_id))


def _highway(env_id: str) -> harness.Stepper:
    import highway_env  # noqa: F401  (registers highway-env's ids)

    return harness.single_stepper(gym.make(env_id), pool=256)


def cases(sizes: Sequence[int], make_case: Callable[..., Any]) -> list[Any]:
    """The group's cases, built with ``make_case(group, library, env, mode, n, variant, make)``."""
    threads = int(numba.config.NUMBA_NUM_THREADS)
    out = []
    for n in sizes:
        out.append(make_case("driving", "rewardgym", OURS_ID, "native", n, "RouteDrive, vector obs",
                             lambda n=n: _native(OURS_ID, n, 1)))
    if sizes:
        n_max = max(sizes)
        if threads > 1:
            out.append(make_case("driving", "rewardgym", OURS_ID, "native", n_max,
                                 f"RouteDrive, vector obs, {threads} numba threads",
                                 lambda: _native(OURS_ID, n_max, threads)))
        for n in sizes:
            out.append(make_case("driving", "rewardgym", OURS_BEV_ID, "native", n,
                                 "RouteDrive, BEV", lambda n=n: _native(OURS_BEV_ID, n, 1)))
    out.append(make_case("driving", "rewardgym", OURS_ID, "single", 1, "RouteDrive, gym.make",
                         lambda: _single(OURS_ID)))
    if highway_available():
        for env_id in HIGHWAY_IDS:
            out.append(make_case("driving", "highway-env", env_id, "single", 1,
                                 f"{env_id}, gym.make", lambda e=env_id: _highway(e)))
    return out


def add_ratios(rows: Sequence[dict]) -> None:
    """``ratio_vs_highway_fast`` (wall and cpu) on every driving row, in place."""
    ref = next((r for r in rows if r["env"] == REFERENCE), None)
    for row in rows:
        if row["env"] in (OURS_ID, OURS_BEV_ID, *HIGHWAY_IDS):
            row["ratio_vs_highway_fast"] = (
                None if ref is None else row["steps_per_s_wall"] / ref["steps_per_s_wall"])
            row["ratio_vs_highway_fast_cpu"] = (
                None if ref is None else row["steps_per_s_cpu"] / ref["steps_per_s_cpu"])


def headline(rows: Sequence[dict]) -> list[str]:
    """Sentences on the best RouteDrive rows against highway-fast-v0."""
    lines = []
    for env_id, what in ((OURS_ID, "vector obs"), (OURS_BEV_ID, "BEV")):
        natives = [r for r in rows if r["env"] == env_id and r["mode"] == "native"]
        best = max(natives, key=lambda r: r["steps_per_s_wall"], default=None)
        if best is None:
            continue
        ratio = best.get("ratio_vs_highway_fast")
        lines.append(f"RouteDrive native ({what}, n={best['n']}, {best['variant']}): "
                     f"{harness.fmt_rate(best['steps_per_s_wall'])} steps/s (wall), "
                     f"{harness.fmt_rate(best['steps_per_s_cpu'])} per CPU-second"
                     + ("" if ratio is None else
                        f"; {harness.fmt_ratio(ratio)} highway-fast-v0 (wall)"))
    return lines
