"""Overhead of the vector reward wrappers on a native vector env, against a Python loop.

Times, round-robin in one process, a native ``rewardgym/DoorKey-8x8-v0`` vector env (n = 4096 by
default, sub-goal distance reported in ``info``) bare, under ``PotentialShapingVector`` (the
built-in sub-goal potential), and under a plain Python wrapper that computes the same shaping
with a per-env loop; then the same env with synthetic progress/infraction signals in ``info``,
bare, under ``InfractionPenaltyVector`` and under a per-env Python loop. Reports µs per step and
the overhead as a percentage of the bare step. Target: ≤ 10 % for the numba wrappers. Writes
``<out>/wrapper_overhead.{jsonl,md,png}``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorWrapper

import rewardgym  # noqa: F401  (registers the envs)
from rewardgym.benchmarks import harness
from rewardgym.benchmarks.harness import Column
from rewardgym.wrappers.infractions import InfractionPenaltyVector, InfractionRule
from rewardgym.wrappers.potential import PotentialShapingVector

NAME = "wrapper_overhead"
ENV_ID = "rewardgym/DoorKey-8x8-v0"
TABLE = (
    InfractionRule("collision", terminate=True, terminal_reward=-1.0),
    InfractionRule("speeding", weight=1.0),
    InfractionRule("ttc", factor=0.5, hold_steps=50),
)


class Signals(VectorWrapper):
    """Adds ``progress`` and pre-drawn ``speeding``/``ttc`` signals to the infos (no collisions)."""

    def __init__(self, env: Any, seed: int = 0) -> None:
        super().__init__(env)
        rng = np.random.default_rng(seed)
        n = self.num_envs
        self._speeding = [rng.random(n) * (rng.random(n) < 0.1) for _ in range(16)]
        self._ttc = [rng.random(n) < 0.02 for _ in range(16)]
        self._t = 0

    def step(self, actions: Any) -> Any:
        """Step and attach the next pre-drawn signals."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        k = self._t % 16
        self._t += 1
        infos = dict(infos)
        infos["progress"] = 100.0 * rewards
        infos["collision"] = np.zeros(self.num_envs, dtype=bool)
        infos["speeding"] = self._speeding[k]
        infos["ttc"] = self._ttc[k]
        return obs, rewards, terminated, truncated, infos


class PythonLoopShaping(VectorWrapper):
    """Reference: potential shaping written as a per-env Python loop (what not to do)."""

    def __init__(self, env: Any, gamma: float) -> None:
        super().__init__(env)
        self.gamma = gamma
        self._phi = [0.0] * self.num_envs
        self._pending = [False] * self.num_envs

    def reset(self, **kwargs: Any) -> Any:
        """Reset and cache the potentials."""
        obs, infos = self.env.reset(**kwargs)
        self._phi = [-float(d) for d in infos["subgoal_distance"]]
        return obs, infos

    def step(self, actions: Any) -> Any:
        """Step and shape env by env."""
        obs, rewards, terminated, truncated, infos = self.env.step(actions)
        shaped = np.empty(self.num_envs)
        for i in range(self.num_envs):
            phi_next = -float(infos["subgoal_distance"][i])
            if self._pending[i]:
                shaped[i] = rewards[i]
            else:
                value = 0.0 if terminated[i] else phi_next
                shaped[i] = rewards[i] + self.gamma * value - self._phi[i]
            self._phi[i] = phi_next
            self._pending[i] = bool(terminated[i] or truncated[i])
        return obs, shaped, terminated, truncated, infos


class PythonLoopInfractions(VectorWrapper):
    """Reference: :data:`TABLE` applied with a per-env Python loop (``NEXT_STEP`` envs).

    The same semantics as ``InfractionPenaltyVector``: a collision pays -1 (the env must end the
    episode on it), speeding multiplies the progress by ``1 - min(s, 1)``, a TTC warning halves it
    for 50 steps counting its own; a held factor ends with the episode, and the reset step that
    ``NEXT_STEP`` inserts after an episode end carries no transition and gets reward 0.
    """

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        if env.metadata.get("autoreset_mode") != AutoresetMode.NEXT_STEP:
            raise ValueError("PythonLoopInfractions: needs a NEXT_STEP vector env, got "
                             f"autoreset_mode {env.metadata.get('autoreset_mode')!r}")
        self._countdown = [0] * self.num_envs
        self._pending = [False] * self.num_envs

    def reset(self, **kwargs: Any) -> Any:
        """Reset every env and forget held factors."""
        self._countdown = [0] * self.num_envs
        self._pending = [False] * self.num_envs
        return self.env.reset(**kwargs)

    def step(self, actions: Any) -> Any:
        """Step and apply the table env by env."""
        obs, _, terminated, truncated, infos = self.env.step(actions)
        shaped = np.zeros(self.num_envs)
        for i in range(self.num_envs):
            done = bool(terminated[i] or truncated[i])
            if self._pending[i]:  # a reset step: no transition, no signals read
                self._pending[i] = done
                continue
            factor = 1.0
            if infos["speeding"][i] > 0.0:
                factor = 1.0 - min(float(infos["speeding"][i]), 1.0)
            if infos["ttc"][i]:
                self._countdown[i] = 50
            if self._countdown[i] > 0:
                factor *= 0.5
                self._countdown[i] -= 1
            terminal = -1.0 if infos["collision"][i] else 0.0
            shaped[i] = infos["progress"][i] * factor + terminal
            if done:  # a held factor never outlives its episode
                self._countdown[i] = 0
            self._pending[i] = done
        return obs, shaped, terminated, truncated, infos


def _native(n: int) -> Any:
    return gym.make_vec(ENV_ID, n, vectorization_mode="vector_entry_point",
                        subgoal_distance_in_info=True)


def cases(n: int) -> dict[str, tuple[str, Any]]:
    """Label -> (group, vector env), each group with its bare baseline first."""
    return {
        "bare env": ("potential", _native(n)),
        "PotentialShapingVector (numba)": (
            "potential", PotentialShapingVector(_native(n), "grid_subgoal_distance", gamma=0.99)),
        "per-env Python loop shaping": ("potential", PythonLoopShaping(_native(n), 0.99)),
        "env + info signals": ("infractions", Signals(_native(n))),
        "InfractionPenaltyVector (numba)": (
            "infractions", InfractionPenaltyVector(Signals(_native(n)), TABLE)),
        "per-env Python loop infractions": ("infractions", PythonLoopInfractions(
            Signals(_native(n)))),
    }


def run(quick: bool, out_dir: str, *, n: int = 4096, seconds: float | None = None,
        repeats: int | None = None) -> list[dict[str, Any]]:
    """Measure every case and write the results; returns the rows."""
    seconds, repeats = harness.preset_timing(quick, seconds, repeats)
    rows = [{**row, "n": n} for row in harness.overhead_rows(cases(n), seconds=seconds,
                                                            repeats=repeats)]
    harness.record(NAME, rows, out_dir)
    columns = [Column("group", "group"), Column("case", "case"), Column("n", "n", harness.fmt_int),
               Column("µs/step", "us_per_step", harness.fmt_float),
               Column("overhead µs", "overhead_us", harness.fmt_float),
               Column("overhead %", "overhead_pct", harness.fmt_float),
               Column("env-steps/s", "env_steps_per_s", harness.fmt_rate)]
    harness.write_markdown(f"{out_dir}/{NAME}.md", rows, columns,
                           title="Vector reward-wrapper overhead",
                           notes=[f"{ENV_ID}, native vector env, 1 numba thread; median of "
                                  f"{repeats} round-robin runs of {seconds} s."])
    harness.plot_bars(f"{out_dir}/{NAME}.png", [r["case"] for r in rows],
                      [r["us_per_step"] for r in rows], title="µs per vector step",
                      xlabel="µs per step (log)", groups=[r["group"] for r in rows])
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs")
    parser.add_argument("--out", default="results", help="output folder")
    parser.add_argument("--n", type=int, default=4096, help="number of envs")
    parser.add_argument("--seconds", type=float, default=None)
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args(argv)
    rows = run(args.quick, args.out, n=args.n, seconds=args.seconds, repeats=args.repeats)
    for row in rows:
        print(f"{row['case']:<34} {row['us_per_step']:>10.1f} µs/step  "
              f"overhead {row['overhead_pct']:>8.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
