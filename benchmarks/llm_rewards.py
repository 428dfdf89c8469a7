"""Overhead of a compiled LLM-written reward on native vector envs, against its Python fallback.

Times, round-robin in one process, a native vector env bare, under ``LLMRewardVector`` with the
program compiled by numba, and under ``LLMRewardVector`` with the Python fallback (same checked
program), for ``rewardgym/DoorKey-8x8-v0`` (n = 4096) and ``rewardgym/HalfCheetahBackward-v0``
(n = 1024 by default: 4096 MuJoCo models step slowly on 2 cores). Also times the two parts of
the wrapper alone: reading the reward view (the grid view runs BFS searches per env; the
locomotion view is a copy of rows the env already computed) and the program call on those rows,
numba vs Python. Target from the issue: the compiled wrapper costs <= 10 % of the step. Writes
``<out>/llm_rewards_overhead.{jsonl,md}``.

The learning comparison of the issue (sparse vs the env's reference reward vs generated programs
on HalfCheetahBackward, AntLieDown and DoorKey-8x8, >= 3 seeds) is not in this script yet.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.benchmarks import harness
from rewardgym.benchmarks.harness import Column
from rewardgym.wrappers.llm import LLMRewardVector

NAME = "llm_rewards_overhead"
PROGRAMS = {
    "rewardgym/DoorKey-8x8-v0": '''
import math
W_KEY = 0.1
T_GOAL = 5.0
def compute_reward(obs, action, next_obs):
    key = W_KEY * (obs.dist_key - next_obs.dist_key)
    pick = 1.0 if next_obs.carrying_key > obs.carrying_key else 0.0
    door = 1.0 if next_obs.door_open > obs.door_open else 0.0
    goal = next_obs.door_open * math.exp(-next_obs.dist_goal / T_GOAL)
    return key + pick + door + goal, {"key": key, "pick": pick, "door": door, "goal": goal}
''',
    "rewardgym/HalfCheetahBackward-v0": '''
import numpy as np
W_CTRL = 0.1
def compute_reward(obs, action, next_obs):
    back = -next_obs.vel_x
    ctrl = W_CTRL * np.sum(action * action)
    upright = 0.1 * np.cos(next_obs.pitch)
    return back - ctrl + upright, {"back": back, "ctrl": -ctrl, "upright": upright}
''',
}


def _native(env_id: str, n: int) -> Any:
    return gym.make_vec(env_id, n, vectorization_mode="vector_entry_point")


def _component_times(env_id: str, n: int, repeats: int) -> dict[str, float]:
    """µs per call of the view read and of the program alone (numba and Python)."""
    env = _native(env_id, n)
    wrapped = LLMRewardVector(env, PROGRAMS[env_id], n_states=64)
    wrapped.reset(seed=0)
    view, program = wrapped.view, wrapped.program.compiled
    rows = view.rows(env)
    actions = view.actions(env.action_space.sample(), n)
    active = np.ones(n, dtype=np.bool_)

    def best(fn: Any) -> float:
        fn()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return 1e6 * float(np.median(times))

    out = {"view_us": best(lambda: view.rows(env)),
           "program_numba_us": best(lambda: program(rows, actions, rows, active)),
           "program_python_us": best(lambda: program.python(rows, actions, rows, active))}
    env.close()
    return out


def run(quick: bool, out_dir: str, *, n_grid: int = 4096, n_loco: int = 1024,
        seconds: float | None = None, repeats: int | None = None) -> list[dict[str, Any]]:
    """Measure every case and write the results; returns the rows."""
    seconds = seconds if seconds is not None else (0.5 if quick else 2.0)
    repeats = repeats if repeats is not None else (2 if quick else 3)
    rows: list[dict[str, Any]] = []
    for env_id, n in (("rewardgym/DoorKey-8x8-v0", n_grid),
                      ("rewardgym/HalfCheetahBackward-v0", n_loco)):
        program = PROGRAMS[env_id]
        envs = {"bare env": _native(env_id, n),
                "LLMRewardVector (numba)": LLMRewardVector(_native(env_id, n), program,
                                                           n_states=64),
                "LLMRewardVector (Python fallback)": LLMRewardVector(
                    _native(env_id, n), program, n_states=64, use_numba=False)}
        steppers = {label: harness.vector_stepper(env) for label, env in envs.items()}
        summaries = harness.run_interleaved(steppers, seconds=seconds, repeats=repeats)
        parts = _component_times(env_id, n, 5 if quick else 20)
        base = summaries["bare env"].us_per_call
        numba_us = summaries["LLMRewardVector (numba)"].us_per_call
        for label in envs:
            us = summaries[label].us_per_call
            rows.append({"env_id": env_id, "case": label, "n": n, "us_per_step": us,
                         "overhead_pct": 100.0 * (us - base) / base,
                         "speedup_vs_python": (summaries["LLMRewardVector (Python fallback)"]
                                               .us_per_call - base) / max(numba_us - base, 1e-9)
                         if label == "LLMRewardVector (numba)" else None,
                         **parts})
        for env in envs.values():
            env.close()
    harness.record(NAME, rows, out_dir)
    columns = [Column("env", "env_id"), Column("case", "case"), Column("n", "n", harness.fmt_int),
               Column("µs/step", "us_per_step", harness.fmt_float),
               Column("overhead %", "overhead_pct", harness.fmt_float),
               Column("view µs", "view_us", harness.fmt_float),
               Column("program µs (numba)", "program_numba_us", harness.fmt_float),
               Column("program µs (Python)", "program_python_us", harness.fmt_float)]
    harness.write_markdown(f"{out_dir}/{NAME}.md", rows, columns,
                           title="LLM reward program overhead (vector envs)",
                           notes=[f"Native vector envs, 1 numba thread; median of {repeats} "
                                  f"round-robin runs of {seconds} s. 'view' and 'program' are "
                                  "the wrapper's two parts timed alone (median µs per call)."])
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs")
    parser.add_argument("--out", default="results", help="output folder")
    parser.add_argument("--n-grid", type=int, default=4096)
    parser.add_argument("--n-loco", type=int, default=1024)
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    rows = run(args.quick, args.out, n_grid=args.n_grid, n_loco=args.n_loco,
               seconds=args.seconds, repeats=args.repeats)
    for row in rows:
        print(f"{row['env_id']:<34} {row['case']:<36} {row['us_per_step']:>12.1f} µs/step  "
              f"overhead {row['overhead_pct']:>7.1f} %  view {row['view_us']:.0f} µs  program "
              f"numba {row['program_numba_us']:.0f} µs / Python {row['program_python_us']:.0f} µs")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
