"""Does potential-based shaping speed up PPO on sparse-reward grid tasks?

Trains SB3 PPO (through ``rewardgym.agents.train``, native vector envs) on DoorKey-8x8 and
KeyCorridorS3R3 with the env's sparse reward and with potential shaping (``Φ = -BFS moves still
to go through the remaining sub-goals``, ``PotentialShapingVector`` with the agent's gamma, at
scale 1 and 0.1),
several seeds each, one process per run. Records the rollout success rate (the last 100
episodes, once 100 have ended) after every rollout, and reports env steps to 90 % success and
the final deterministic evaluation. The runs are a sweep (:mod:`rewardgym.benchmarks.sweep`: env ×
reward × seed, keyed by a hash of the full resolved PPO config, resumable, local processes or
Ray); writes ``<out>/shaping_sparse.{jsonl,md,png}`` and the sweep's own
``<out>/shaping_sparse/`` (rows, summary with confidence intervals over seeds).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

NAME = "shaping_sparse"
ENVS = ("rewardgym/DoorKey-8x8-v0", "rewardgym/KeyCorridorS3R3-v0")
# Reward conditions: the env's sparse reward, and potential shaping at two scales.
CONDITIONS = {"sparse": None, "shaped": 1.0, "shaped_0.1": 0.1}
BASE_OVERRIDES = ("n_envs=32", "n_steps=128", "batch_size=1024", "n_epochs=4",
                  "learning_rate=0.0005", "ent_coef=0.01", "env_kwargs.obs_mode=flat",
                  "env_kwargs.subgoal_distance_in_info=true")


MODULE = "rewardgym.benchmarks.shaping_sparse"
METRICS = ("steps_to_90", "eval_success", "eval_return", "train_steps_per_s")


def sweep_spec(envs: Sequence[str], conditions: Sequence[str], seeds: int,
               timesteps: int) -> dict[str, Any]:
    """The study as a sweep spec for :mod:`rewardgym.benchmarks.sweep` (env × reward × seed)."""
    return {"name": NAME, "run": f"{MODULE}:one_run", "resolve": f"{MODULE}:resolve",
            "axes": {"env": list(envs), "condition": list(conditions), "timesteps": [timesteps]},
            "fixed": {"base_overrides": list(BASE_OVERRIDES)}, "seeds": seeds,
            "metrics": list(METRICS), "plot_x": "condition",
            "title": "PPO with and without potential shaping"}


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """The run's full PPO config (``ppo``), from the shipped YAML entry and the overrides."""
    from rewardgym.agents import load_config

    condition = config["condition"]
    if condition not in CONDITIONS:
        raise ValueError(f"unknown condition {condition!r}; choose from {list(CONDITIONS)}")
    overrides = [*config["base_overrides"], f"total_timesteps={config['timesteps']}",
                 f"seed={config['seed']}"]
    if CONDITIONS[condition] is not None:
        overrides += ["shaping_potential=grid_subgoal_distance",
                      f"shaping_scale={CONDITIONS[condition]}"]
    return {**config, "ppo": load_config(config["env"], "ppo", overrides=overrides).to_dict()}


def run_key(env_id: str, condition: str, seed: int, timesteps: int) -> str:
    """The sweep key of one run (a hash of its resolved config and the package version)."""
    from rewardgym.benchmarks import sweep

    spec = sweep.SweepSpec.from_dict(sweep_spec([env_id], [condition], [seed], timesteps))
    return sweep.expand(spec)[0].key


def one_run(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Train one PPO run and return its learning curve and evaluation (a sweep run function)."""
    import rewardgym  # noqa: F401
    from rewardgym.agents import PPOConfig, train
    from rewardgym.agents.learning_curve import LearningCurveCallback

    ppo = PPOConfig(**config["ppo"])
    curve = LearningCurveCallback(window=100, every="rollout")
    result = train(config["env"], "ppo", ppo, log_dir=run_dir, progress_bar=False, verbose=0,
                   eval_episodes=50, checkpoint_freq=10**9, callbacks=[curve])
    return {"env": config["env"], "condition": config["condition"], "seed": config["seed"],
            "timesteps": config["timesteps"],
            "steps_to_90": curve.first_reaching("success", 0.9),
            "eval_success": result.success_rate, "eval_return": result.mean_return,
            "train_steps_per_s": result.steps_per_second, "wall_s": result.wall_time_s,
            "curve": [(p["steps"], p["success"]) for p in curve.points
                      if p["success"] is not None]}


def summarise(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (env, condition): runs, reached-90 % count, median steps, eval success."""
    out = []
    for env_id in dict.fromkeys(r["env"] for r in rows):
        for condition in CONDITIONS:
            runs = [r for r in rows if r["env"] == env_id and r["condition"] == condition]
            if not runs:
                continue
            steps = [r["steps_to_90"] for r in runs if r["steps_to_90"] is not None]
            out.append({"env": env_id, "condition": condition, "runs": len(runs),
                        "reached_90": len(steps),
                        "median_steps_to_90": float(np.median(steps)) if steps else None,
                        "mean_eval_success": float(np.mean([r["eval_success"] or 0.0
                                                            for r in runs])),
                        "budget": runs[0]["timesteps"]})
    return out


def plot(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Mean rollout success against env steps, one panel per env, one line per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    envs = list(dict.fromkeys(r["env"] for r in rows))
    fig, axes = plt.subplots(1, len(envs), figsize=(6 * len(envs), 4), squeeze=False)
    for ax, env_id in zip(axes[0], envs, strict=True):
        for condition in CONDITIONS:
            runs = [r for r in rows if r["env"] == env_id and r["condition"] == condition]
            colour = f"C{list(CONDITIONS).index(condition)}"
            for k, run in enumerate(runs):
                if run["curve"]:
                    t, s = zip(*run["curve"], strict=True)
                    ax.plot(t, s, color=colour, alpha=0.5, label=condition if k == 0 else None)
        ax.axhline(0.9, color="grey", linestyle=":")
        ax.set_title(env_id)
        ax.set_xlabel("env steps")
        ax.set_ylabel("rollout success rate")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run(quick: bool, out_dir: str, *, seeds: int | None = None, timesteps: int | None = None,
        envs: Sequence[str] | None = None, workers: int = 2,
        conditions: Sequence[str] | None = None, backend: str = "local",
        address: str | None = None) -> list[dict[str, Any]]:
    """Run (or resume) the sweep and write the results; returns the summary rows.

    The runs go through :func:`rewardgym.benchmarks.sweep.run_sweep` (raw rows, CIs and plot in
    ``<out>/shaping_sparse/``); ``<out>/shaping_sparse.{jsonl,md,png}`` are this study's view of
    the same rows (one flat row per run, rewritten from the sweep's rows on every launch).
    """
    from rewardgym.agents.smoke import smoke_mode, smoke_note
    from rewardgym.benchmarks import harness, sweep

    seeds = seeds if seeds is not None else (2 if quick else 5)
    if smoke_mode():  # every condition once, each run at the smoke training budget
        seeds = 1
        smoke_note("shaping_sparse: one seed per condition")
    timesteps = timesteps if timesteps is not None else (100_000 if quick else 1_000_000)
    envs = tuple(envs) if envs is not None else (ENVS[:1] if quick else ENVS)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conditions = tuple(conditions) if conditions is not None else tuple(CONDITIONS)
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"unknown conditions {sorted(unknown)}; choose from {list(CONDITIONS)}")
    # Fresh interpreters (spawn): forking a parent that already ran torch's OpenMP threads can
    # kill the child (seen here as BrokenProcessPool).
    result = sweep.run_sweep(sweep_spec(envs, conditions, seeds, timesteps), out=out,
                             backend=backend, workers=workers, address=address)
    rows = [{"key": r["key"], **r["result"]} for r in result.rows if r["status"] == "ok"]
    for row in rows:
        print(f"{row['env']} {row['condition']} seed {row['seed']}: steps to 90% "
              f"{row['steps_to_90']}, eval success {row['eval_success']}")
    meta = harness.run_metadata()
    (out / f"{NAME}.jsonl").write_text(
        "".join(json.dumps({"bench": NAME, **meta, **row}) + "\n" for row in rows),
        encoding="utf-8")
    summary = summarise(rows)
    columns = [harness.Column("env", "env"), harness.Column("reward", "condition"),
               harness.Column("runs", "runs", harness.fmt_int),
               harness.Column("reached 90%", "reached_90", harness.fmt_int),
               harness.Column("median steps to 90%", "median_steps_to_90", harness.fmt_rate),
               harness.Column("mean eval success", "mean_eval_success", harness.fmt_float),
               harness.Column("budget", "budget", harness.fmt_int)]
    harness.write_markdown(out / f"{NAME}.md", summary, columns,
                           title="PPO with and without potential shaping",
                           notes=[f"seeds 0..{seeds - 1}, PPO settings: "
                                  f"{', '.join(BASE_OVERRIDES)}; per-cell 95% CIs in "
                                  f"`{NAME}/summary.md`"])
    plot(rows, out / f"{NAME}.png")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="one env, 2 seeds, 100k steps")
    parser.add_argument("--out", default="results")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--timesteps", type=int, default=None)
    parser.add_argument("--envs", nargs="*", default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--conditions", nargs="*", default=None, choices=list(CONDITIONS))
    parser.add_argument("--backend", choices=("local", "ray"), default="local")
    parser.add_argument("--address", default=None, help="Ray cluster address (auto, HOST:PORT)")
    args = parser.parse_args(argv)
    for row in run(args.quick, args.out, seeds=args.seeds, timesteps=args.timesteps,
                   envs=args.envs, workers=args.workers, conditions=args.conditions,
                   backend=args.backend, address=args.address):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
