"""Does potential-based shaping speed up PPO on sparse-reward grid tasks?

Trains SB3 PPO (through ``rewardgym.agents.train``, native vector envs) on DoorKey-8x8 and
KeyCorridorS3R3 with the env's sparse reward and with potential shaping (``Φ = -BFS moves still
to go through the remaining sub-goals``, ``PotentialShapingVector`` with the agent's gamma, at
scale 1 and 0.1),
several seeds each, one process per run. Records the rollout success rate (the last 100
episodes, once 100 have ended) after every rollout, and reports env steps to 90 % success and
the final deterministic evaluation. Writes ``<out>/shaping_sparse.{jsonl,md,png}``; a relaunch
skips runs already in the JSONL (keyed by a hash of their settings).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import tempfile
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
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


def run_key(env_id: str, condition: str, seed: int, timesteps: int) -> str:
    """Content hash of one run's settings (a relaunch skips finished runs)."""
    blob = json.dumps([env_id, condition, seed, timesteps, BASE_OVERRIDES])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def one_run(env_id: str, condition: str, seed: int, timesteps: int) -> dict[str, Any]:
    """Train one PPO run and return its learning curve and evaluation (runs in a worker)."""
    from stable_baselines3.common.callbacks import BaseCallback

    import rewardgym  # noqa: F401
    from rewardgym.agents import load_config, train

    class Curve(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.points: list[tuple[int, float]] = []

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            # Only a full window counts: early on, the episodes that have ended are the short,
            # successful ones, which would overstate the success rate.
            buffer = self.model.ep_success_buffer
            if len(buffer) == buffer.maxlen:
                self.points.append((self.num_timesteps,
                                    float(np.mean(self.model.ep_success_buffer))))

    overrides = [*BASE_OVERRIDES, f"total_timesteps={timesteps}", f"seed={seed}"]
    if CONDITIONS[condition] is not None:
        overrides += ["shaping_potential=grid_subgoal_distance",
                      f"shaping_scale={CONDITIONS[condition]}"]
    config = load_config(env_id, "ppo", overrides=overrides)
    curve = Curve()
    with tempfile.TemporaryDirectory() as log_dir:
        result = train(env_id, "ppo", config, log_dir=log_dir, progress_bar=False, verbose=0,
                       eval_episodes=50, checkpoint_freq=10**9, callbacks=[curve])
    reached = [t for t, s in curve.points if s >= 0.9]
    return {"key": run_key(env_id, condition, seed, timesteps), "env": env_id,
            "condition": condition, "seed": seed, "timesteps": timesteps,
            "steps_to_90": reached[0] if reached else None,
            "eval_success": result.success_rate, "eval_return": result.mean_return,
            "train_steps_per_s": result.steps_per_second, "wall_s": result.wall_time_s,
            "curve": curve.points}


def _done(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {row["key"]: row for row in rows if "key" in row}


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
        conditions: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Run (or resume) the sweep and write the results; returns the summary rows."""
    from rewardgym.benchmarks import harness

    seeds = seeds if seeds is not None else (2 if quick else 5)
    timesteps = timesteps if timesteps is not None else (100_000 if quick else 1_000_000)
    envs = tuple(envs) if envs is not None else (ENVS[:1] if quick else ENVS)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jsonl = out / f"{NAME}.jsonl"
    finished = _done(jsonl)
    conditions = tuple(conditions) if conditions is not None else tuple(CONDITIONS)
    unknown = set(conditions) - set(CONDITIONS)
    if unknown:
        raise ValueError(f"unknown conditions {sorted(unknown)}; choose from {list(CONDITIONS)}")
    todo = [(e, c, s, timesteps) for e in envs for c in conditions for s in range(seeds)
            if run_key(e, c, s, timesteps) not in finished]
    # Fresh interpreters: forking a parent that already ran torch's OpenMP threads can kill the
    # child (seen here as BrokenProcessPool).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for row in pool.map(one_run, *zip(*todo, strict=True)) if todo else ():
            harness.record(NAME, [row], out_dir)
            print(f"{row['env']} {row['condition']} seed {row['seed']}: steps to 90% "
                  f"{row['steps_to_90']}, eval success {row['eval_success']}")
    rows = [r for r in _done(jsonl).values() if r["env"] in envs and r["timesteps"] == timesteps]
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
                                  f"{', '.join(BASE_OVERRIDES)}"])
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
    args = parser.parse_args(argv)
    for row in run(args.quick, args.out, seeds=args.seeds, timesteps=args.timesteps,
                   envs=args.envs, workers=args.workers, conditions=args.conditions):
        print(row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
