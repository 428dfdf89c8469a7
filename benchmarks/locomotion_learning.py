"""Can SB3 SAC learn the locomotion tasks on ~15 minutes of 2 CPU cores?

Trains SAC (Haarnoja et al., 2018; Text2Reward's learner for MuJoCo behaviours) through
``rewardgym.agents.train`` on HalfCheetahBackward (dense reference reward) and AntGoal with the
dense reward and with the sparse arrival reward plus potential shaping (``Φ = -distance to goal``,
``PotentialShapingVector`` at the agent's gamma; Ng et al., 1999). Each run is stopped at a
wall-clock budget or a step budget, whichever comes first, and uses one torch thread.

Before training it records the success rate of a uniformly random policy on every locomotion
task (``--random-episodes`` per task; ``<out>/locomotion_random.{jsonl,md}``), the baseline the
success thresholds are chosen against (it should be about 0).

Records the training success rate (``info["is_success"]`` of the last 10 finished episodes,
stochastic policy) after every episode, and a final deterministic evaluation (success rate,
return). Writes ``<out>/locomotion_learning.{jsonl,md,png}``; a relaunch skips runs already in
the JSONL (keyed by a hash of their settings). ``--quick`` checks the plumbing in under a minute.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

NAME = "locomotion_learning"
# condition -> (env id, extra overrides); the potential is applied at the agent's gamma.
CONDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cheetah_backward_dense": ("rewardgym/HalfCheetahBackward-v0", ()),
    "ant_goal_dense": ("rewardgym/AntGoal-v0", ()),
    # Dense progress is shaping with gamma = 1 at scale 20 (1/dt); with the agent's gamma < 1 every
    # step far away also pays scale * (1 - gamma) * distance, so gamma goes to 0.999 here.
    "ant_goal_sparse_shaped": ("rewardgym/AntGoal-v0", (
        "env_kwargs.reward_mode=sparse", "shaping_potential=ant_goal_distance",
        "shaping_scale=20.0", "gamma=0.999")),
    # Measured at gamma 0.99, seed 0: neither scale ever arrived (training and evaluation 0.0).
    "ant_goal_sparse_shaped_x1": ("rewardgym/AntGoal-v0", (
        "env_kwargs.reward_mode=sparse", "shaping_potential=ant_goal_distance",
        "shaping_scale=1.0")),
    "ant_goal_sparse_shaped_x20": ("rewardgym/AntGoal-v0", (
        "env_kwargs.reward_mode=sparse", "shaping_potential=ant_goal_distance",
        "shaping_scale=20.0")),
    "ant_goal_sparse": ("rewardgym/AntGoal-v0", ("env_kwargs.reward_mode=sparse",)),
}
DEFAULT_CONDITIONS = ("cheetah_backward_dense", "ant_goal_dense", "ant_goal_sparse_shaped")
WINDOW = 10  # finished episodes in the training success rate


def run_key(condition: str, seed: int, timesteps: int, seconds: float) -> str:
    """Content hash of one run's settings (a relaunch skips finished runs)."""
    blob = json.dumps([condition, CONDITIONS[condition], seed, timesteps, seconds])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def one_run(condition: str, seed: int, timesteps: int, seconds: float,
            quick: bool = False) -> dict[str, Any]:
    """Train one SAC run and return its success curve and final evaluation."""
    import torch
    from stable_baselines3.common.callbacks import BaseCallback

    import rewardgym  # noqa: F401
    from rewardgym.agents import load_config, train

    torch.set_num_threads(1)
    env_id, extra = CONDITIONS[condition]

    class Curve(BaseCallback):
        """Training success over the last WINDOW episodes; stops at the wall-clock budget."""

        def __init__(self) -> None:
            super().__init__()
            self.points: list[tuple[int, float, float]] = []
            self.start = time.perf_counter()
            self.seen = 0

        def _on_step(self) -> bool:
            for done, info in zip(self.locals["dones"], self.locals["infos"], strict=True):
                if done:
                    self.seen += 1
                    self._successes.append(bool(info.get("is_success", False)))
                    if len(self._successes) >= WINDOW:
                        self.points.append((self.num_timesteps,
                                            float(np.mean(self._successes[-WINDOW:])),
                                            time.perf_counter() - self.start))
            return time.perf_counter() - self.start < seconds

        def _on_training_start(self) -> None:
            self._successes: list[bool] = []

    overrides = [*extra, f"total_timesteps={timesteps}", f"seed={seed}"]
    if quick:
        overrides += ["learning_starts=200", "batch_size=64"]
    config = load_config(env_id, "sac", overrides=overrides)
    curve = Curve()
    with tempfile.TemporaryDirectory() as log_dir:
        result = train(env_id, "sac", config, log_dir=log_dir, progress_bar=False, verbose=0,
                       eval_episodes=2 if quick else 20, checkpoint_freq=10**9,
                       callbacks=[curve])
    return {"key": run_key(condition, seed, timesteps, seconds), "condition": condition,
            "env": env_id, "overrides": overrides, "seed": seed, "timesteps": timesteps,
            "budget_s": seconds, "trained_steps": result.train_timesteps,
            "train_s": result.train_time_s, "train_steps_per_s": result.steps_per_second,
            "episodes": curve.seen,
            "final_train_success": curve.points[-1][1] if curve.points else None,
            "eval_success": result.success_rate, "eval_return": result.mean_return,
            "eval_episodes": result.eval_episodes, "curve": curve.points}


def random_policy_rows(episodes: int, seed: int = 0) -> list[dict[str, Any]]:
    """Success rate and mean return of uniformly random actions on every locomotion task."""
    import gymnasium as gym

    import rewardgym  # noqa: F401
    from rewardgym.envs import ENV_TABLE

    rows = []
    for row in ENV_TABLE:
        if not row.entry_point.startswith("rewardgym.envs.locomotion"):
            continue
        env = gym.make(row.env_id)
        env.action_space.seed(seed)
        successes, returns = [], []
        for episode in range(episodes):
            env.reset(seed=seed + episode)
            total, done, info = 0.0, False, {}
            while not done:
                _, reward, terminated, truncated, info = env.step(env.action_space.sample())
                total += reward
                done = terminated or truncated
            successes.append(bool(info["is_success"]))
            returns.append(total)
        rows.append({"env": row.env_id, "episodes": episodes,
                     "success_rate": float(np.mean(successes)),
                     "mean_return": float(np.mean(returns))})
    return rows


def _done(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row["key"]: row for row in rows if "key" in row}


def plot(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Training success rate against env steps, one panel per env, one line per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(dict.fromkeys(r["env"] for r in rows))
    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4), squeeze=False)
    for ax, env_id in zip(axes[0], envs, strict=True):
        for row in rows:
            if row["env"] != env_id or not row["curve"]:
                continue
            t, s, _ = zip(*row["curve"], strict=True)
            ax.plot(t, s, label=f"{row['condition']} (seed {row['seed']})")
        ax.set_title(env_id)
        ax.set_xlabel("env steps")
        ax.set_ylabel(f"training success (last {WINDOW} episodes)")
        ax.set_ylim(-0.05, 1.05)
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(quick: bool, out_dir: str, *, seeds: int = 1, timesteps: int | None = None,
        minutes: float | None = None, conditions: Sequence[str] | None = None,
        random_episodes: int | None = None) -> list[dict[str, Any]]:
    """Run (or resume) the runs one after another and write the results; returns the rows."""
    from rewardgym.benchmarks import harness

    random_episodes = random_episodes if random_episodes is not None else (1 if quick else 20)
    if random_episodes > 0:
        name = "locomotion_random_quick" if quick else "locomotion_random"
        baseline = random_policy_rows(random_episodes)
        harness.record(name, baseline, out_dir)
        harness.write_markdown(
            Path(out_dir) / f"{name}.md", baseline,
            [harness.Column("env", "env"),
             harness.Column("episodes", "episodes", harness.fmt_int),
             harness.Column("success rate", "success_rate", harness.fmt_float),
             harness.Column("mean return", "mean_return", harness.fmt_float)],
            title="Uniformly random actions on the locomotion tasks",
            notes=["episodes seeded 0..N-1, actions from the seeded action space"])

    timesteps = timesteps if timesteps is not None else (600 if quick else 150_000)
    seconds = 60.0 * (minutes if minutes is not None else (0.2 if quick else 13.0))
    conditions = tuple(conditions) if conditions is not None else DEFAULT_CONDITIONS
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"unknown conditions {sorted(unknown)}; choose from {list(CONDITIONS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{NAME}_quick" if quick else NAME
    jsonl = out / f"{name}.jsonl"
    finished = _done(jsonl)
    keys = []
    for condition in conditions:
        for seed in range(seeds):
            key = run_key(condition, seed, timesteps, seconds)
            keys.append(key)
            if key in finished:
                continue
            row = one_run(condition, seed, timesteps, seconds, quick)
            harness.record(name, [row], out_dir)
            print(f"{condition} seed {seed}: {row['trained_steps']} steps in "
                  f"{row['train_s']:.0f} s, train success {row['final_train_success']}, "
                  f"eval success {row['eval_success']}", flush=True)
    done = _done(jsonl)
    rows = [done[k] for k in keys if k in done]
    columns = [harness.Column("condition", "condition"), harness.Column("env", "env"),
               harness.Column("seed", "seed", harness.fmt_int),
               harness.Column("env steps", "trained_steps", harness.fmt_int),
               harness.Column("train s", "train_s", harness.fmt_float),
               harness.Column("steps/s", "train_steps_per_s", harness.fmt_float),
               harness.Column(f"train success (last {WINDOW})", "final_train_success",
                              harness.fmt_float),
               harness.Column("eval success", "eval_success", harness.fmt_float),
               harness.Column("eval return", "eval_return", harness.fmt_float),
               harness.Column("eval episodes", "eval_episodes", harness.fmt_int)]
    harness.write_markdown(out / f"{name}.md", rows, columns,
                           title="SAC on the locomotion tasks (one torch thread)",
                           notes=[f"budget: {seconds / 60:.1f} min or {timesteps} env steps "
                                  "per run; SAC settings: agents/configs/sac.yml",
                                  "eval: deterministic policy, fresh envs"])
    plot(rows, out / f"{name}.png")
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="600 steps per condition: checks the plumbing in < 1 minute")
    parser.add_argument("--out", default="results")
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--timesteps", type=int, default=None)
    parser.add_argument("--minutes", type=float, default=None, help="wall-clock budget per run")
    parser.add_argument("--conditions", nargs="*", default=None, choices=list(CONDITIONS))
    parser.add_argument("--random-episodes", type=int, default=None,
                        help="random-policy episodes per task (default 20, quick 1; 0 skips)")
    args = parser.parse_args(argv)
    for row in run(args.quick, args.out, seeds=args.seeds, timesteps=args.timesteps,
                   minutes=args.minutes, conditions=args.conditions,
                   random_episodes=args.random_episodes):
        print({k: v for k, v in row.items() if k != "curve"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
