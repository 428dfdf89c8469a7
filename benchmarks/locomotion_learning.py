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
return). The runs are a sweep (:mod:`rewardgym.benchmarks.sweep`: condition × seed, keyed by a
hash of the full resolved SAC config, resumable, local processes or Ray; the sweep's rows and
summary with confidence intervals are in ``<out>/locomotion_learning/``). Writes
``<out>/locomotion_learning.{jsonl,md,png}`` from the sweep's rows.
``--quick`` checks the plumbing in under a minute.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

NAME = "locomotion_learning"
# condition -> (env id, extra overrides); the potential is applied at the agent's gamma.
CONDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "cheetah_backward_dense": ("rewardgym/HalfCheetahBackward-v1", ()),
    "ant_goal_dense": ("rewardgym/AntGoal-v1", ()),
    # Dense progress is shaping with gamma = 1 at scale 20 (1/dt); with the agent's gamma < 1 every
    # step far away also pays scale * (1 - gamma) * distance, so gamma goes to 0.999 here.
    "ant_goal_sparse_shaped": ("rewardgym/AntGoal-v1", (
        "env_kwargs.reward_mode=sparse", "shaping_potential=ant_goal_distance",
        "shaping_scale=20.0", "gamma=0.999")),
    # Measured at gamma 0.99, seed 0: neither scale ever arrived (training and evaluation 0.0).
    "ant_goal_sparse_shaped_x1": ("rewardgym/AntGoal-v1", (
        "env_kwargs.reward_mode=sparse", "shaping_potential=ant_goal_distance",
        "shaping_scale=1.0")),
    "ant_goal_sparse_shaped_x20": ("rewardgym/AntGoal-v1", (
        "env_kwargs.reward_mode=sparse", "shaping_potential=ant_goal_distance",
        "shaping_scale=20.0")),
    "ant_goal_sparse": ("rewardgym/AntGoal-v1", ("env_kwargs.reward_mode=sparse",)),
}
DEFAULT_CONDITIONS = ("cheetah_backward_dense", "ant_goal_dense", "ant_goal_sparse_shaped")
WINDOW = 10  # finished episodes in the training success rate


MODULE = "rewardgym.benchmarks.locomotion_learning"
METRICS = ("final_train_success", "eval_success", "eval_return", "trained_steps",
           "train_steps_per_s")


def sweep_spec(conditions: Sequence[str], seeds: int, timesteps: int, seconds: float,
               quick: bool) -> dict[str, Any]:
    """The study as a sweep spec for :mod:`rewardgym.benchmarks.sweep` (condition × seed)."""
    return {"name": f"{NAME}_quick" if quick else NAME, "run": f"{MODULE}:one_run",
            "resolve": f"{MODULE}:resolve",
            "axes": {"condition": list(conditions), "timesteps": [timesteps],
                     "budget_s": [seconds]},
            "fixed": {"quick": quick}, "seeds": seeds, "metrics": list(METRICS),
            "plot_x": "condition", "title": "SAC on the locomotion tasks (one torch thread)"}


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """The run's env id, overrides and full SAC config (``sac``)."""
    from rewardgym.agents import load_config

    condition = config["condition"]
    if condition not in CONDITIONS:
        raise ValueError(f"unknown conditions {[condition]}; choose from {list(CONDITIONS)}")
    env_id, extra = CONDITIONS[condition]
    overrides = [*extra, f"total_timesteps={config['timesteps']}", f"seed={config['seed']}"]
    if config["quick"]:
        overrides += ["learning_starts=200", "batch_size=64"]
    sac = load_config(env_id, "sac", overrides=overrides).to_dict()
    return {**config, "env": env_id, "overrides": overrides, "sac": sac}


def run_key(condition: str, seed: int, timesteps: int, seconds: float,
            quick: bool = False) -> str:
    """The sweep key of one run (a hash of its resolved config and the package version)."""
    from rewardgym.benchmarks import sweep

    spec = sweep_spec([condition], [seed], timesteps, seconds, quick)
    return sweep.expand(sweep.SweepSpec.from_dict(spec))[0].key


def one_run(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Train one SAC run and return its success curve and final evaluation (a sweep run)."""
    import torch

    import rewardgym  # noqa: F401
    from rewardgym.agents import SACConfig, train
    from rewardgym.agents.learning_curve import LearningCurveCallback

    torch.set_num_threads(1)
    curve = LearningCurveCallback(window=WINDOW, every="episode",
                                  max_seconds=config["budget_s"])
    result = train(config["env"], "sac", SACConfig(**config["sac"]), log_dir=run_dir,
                   progress_bar=False, verbose=0, eval_episodes=2 if config["quick"] else 20,
                   checkpoint_freq=10**9, callbacks=[curve])
    points = [(p["steps"], p["success"], p["wall_s"]) for p in curve.points
              if p["success"] is not None]
    return {"condition": config["condition"], "env": config["env"],
            "overrides": config["overrides"], "seed": config["seed"],
            "timesteps": config["timesteps"], "budget_s": config["budget_s"],
            "trained_steps": result.train_timesteps, "train_s": result.train_time_s,
            "train_steps_per_s": result.steps_per_second, "episodes": curve.episodes,
            "final_train_success": points[-1][1] if points else None,
            "eval_success": result.success_rate, "eval_return": result.mean_return,
            "eval_episodes": result.eval_episodes, "curve": points}


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
        random_episodes: int | None = None, workers: int = 1, backend: str = "local",
        address: str | None = None) -> list[dict[str, Any]]:
    """Run (or resume) the sweep and write the results; returns the rows.

    ``workers`` defaults to one run at a time: the wall-clock budget per run assumes the run
    has a core to itself.
    """
    from rewardgym.benchmarks import harness, sweep

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
    result = sweep.run_sweep(sweep_spec(conditions, seeds, timesteps, seconds, quick), out=out,
                             backend=backend, workers=workers, address=address)
    rows = [{"key": r["key"], **r["result"]} for r in result.rows if r["status"] == "ok"]
    for row in rows:
        print(f"{row['condition']} seed {row['seed']}: {row['trained_steps']} steps in "
              f"{row['train_s']:.0f} s, train success {row['final_train_success']}, "
              f"eval success {row['eval_success']}", flush=True)
    meta = harness.run_metadata()
    (out / f"{name}.jsonl").write_text(
        "".join(json.dumps({"bench": name, **meta, **row}) + "\n" for row in rows),
        encoding="utf-8")
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
    parser.add_argument("--workers", type=int, default=1, help="runs at once")
    parser.add_argument("--backend", choices=("local", "ray"), default="local")
    parser.add_argument("--address", default=None, help="Ray cluster address (auto, HOST:PORT)")
    args = parser.parse_args(argv)
    for row in run(args.quick, args.out, seeds=args.seeds, timesteps=args.timesteps,
                   minutes=args.minutes, conditions=args.conditions,
                   random_episodes=args.random_episodes, workers=args.workers,
                   backend=args.backend, address=args.address):
        print({k: v for k, v in row.items() if k != "curve"})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
