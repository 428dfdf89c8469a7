"""The demo: PPO on a sparse grid task with and without potential-based shaping, in about a minute.

What the suite is for, in one run: the same PPO (``rewardgym/DoorKey-5x5-v0``'s shipped config, 32
native envs, flat observation) trained twice from the same seed, once on the env's sparse reward
and once on that reward plus potential-based shaping with ``Φ = -(BFS moves still to go through
key -> door -> goal)`` (Ng et al., 1999: the shaped task has the same optimal policies). Each run
records its rollout success rate (the last 100 episodes) after every rollout and ends with a
deterministic evaluation on the env's own reward. Writes, under a fresh timestamped folder
``<out>/demo/<YYYYmmdd-HHMMSS>/``: ``demo.jsonl`` (one row per run, with its learning curve),
``demo.md`` (the table) and ``demo.png`` (success against env steps), plus the two run folders.

``REWARDGYM_SMOKE=1`` shrinks the budget to a few thousand steps (a check that it runs, not a
result).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rewardgym.agents.smoke import smoke_mode

NAME = "demo"
ENV_ID = "rewardgym/DoorKey-5x5-v0"
#: Reward conditions: label -> extra config overrides.
CONDITIONS: dict[str, tuple[str, ...]] = {
    "sparse": (),
    "shaped": ("shaping_potential=grid_subgoal_distance", "shaping_scale=0.1"),
}
#: How the table names each condition's shaping.
SHAPING = {"sparse": "none", "shaped": "grid_subgoal_distance x 0.1"}
TIMESTEPS = 60_000
SMOKE_TIMESTEPS = 4_096


def warm_up() -> float:
    """Compile (or load from numba's disk cache) the kernels the demo steps; returns seconds."""
    import gymnasium as gym

    from rewardgym.agents import make_sb3_vec_env
    from rewardgym.wrappers.potential import PotentialShapingVector

    start = time.perf_counter()
    env = make_sb3_vec_env(
        ENV_ID, 32, seed=0, env_kwargs={"obs_mode": "flat", "subgoal_distance_in_info": True},
        vector_wrappers=[lambda venv: PotentialShapingVector(venv, "grid_subgoal_distance",
                                                             gamma=0.99)],
    )
    env.reset()
    env.step(np.zeros(32, dtype=np.int64))
    env.close()
    gym.make(ENV_ID).reset(seed=0)
    return time.perf_counter() - start


def one_run(condition: str, timesteps: int, seed: int, run_dir: Path) -> dict[str, Any]:
    """Train one condition; returns its result row with the learning curve."""
    from stable_baselines3.common.callbacks import BaseCallback

    from rewardgym.agents import load_config, train

    class Curve(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.points: list[tuple[int, float]] = []

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            # Only a full window: early on, the episodes that ended are the short, successful
            # ones, which would overstate the success rate.
            buffer = self.model.ep_success_buffer
            if len(buffer) == buffer.maxlen:
                self.points.append((self.num_timesteps, float(np.mean(buffer))))

    overrides = [f"total_timesteps={timesteps}", f"seed={seed}",
                 "env_kwargs.subgoal_distance_in_info=true", *CONDITIONS[condition]]
    config = load_config(ENV_ID, "ppo", overrides=overrides)
    curve = Curve()
    result = train(ENV_ID, "ppo", config, log_dir=run_dir / condition, progress_bar=False,
                   verbose=0, eval_episodes=50, checkpoint_freq=10**9, callbacks=[curve])
    reached = [t for t, s in curve.points if s >= 0.9]
    return {"env": ENV_ID, "condition": condition, "seed": seed, "timesteps": timesteps,
            "shaping": SHAPING[condition],
            "steps_to_90": reached[0] if reached else None,
            "final_rollout_success": curve.points[-1][1] if curve.points else None,
            "eval_success": result.success_rate, "eval_return": result.mean_return,
            "train_s": result.train_time_s, "train_steps_per_s": result.steps_per_second,
            "run_dir": str(result.log_dir), "curve": curve.points}


def plot(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """Rollout success rate against env steps, one line per condition."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
    for k, row in enumerate(rows):
        if row["curve"]:
            t, s = zip(*row["curve"], strict=True)
            ax.plot(t, s, color=f"C{k}", label=f"{row['condition']} ({row['shaping']})")
    ax.axhline(0.9, color="grey", linestyle=":")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("env steps")
    ax.set_ylabel("rollout success rate (last 100 episodes)")
    ax.set_title(f"PPO on {ENV_ID}, seed {rows[0]['seed']}")
    if any(row["curve"] for row in rows):
        ax.legend(loc="lower right")
    else:  # a smoke-sized run ends before 100 episodes have finished
        ax.text(0.5, 0.5, "no full 100-episode window yet", ha="center", transform=ax.transAxes)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(quick: bool, out_dir: str, *, timesteps: int | None = None,
        seed: int = 0) -> list[dict[str, Any]]:
    """Run both conditions and write the table and plot; returns the rows.

    Args:
        quick: Unused (the demo is short already); kept for the benchmark interface.
        out_dir: Parent folder; the results go to a fresh ``<out_dir>/demo/<timestamp>/``.
        timesteps: Env steps per run (default 60,000; 4,096 under ``REWARDGYM_SMOKE=1``).
        seed: The seed of both runs.
    """
    from rewardgym.agents.console import make_console
    from rewardgym.benchmarks import harness

    del quick
    if timesteps is None:
        timesteps = SMOKE_TIMESTEPS if smoke_mode() else TIMESTEPS
    stamp = time.strftime("%Y%m%d-%H%M%S")
    folder, n = Path(out_dir) / NAME / stamp, 1
    while folder.exists():
        n += 1
        folder = Path(out_dir) / NAME / f"{stamp}-{n}"
    folder.mkdir(parents=True)
    console = make_console()
    console.print(f"[bold]rewardgym demo[/bold]: does potential-based shaping help PPO on a sparse "
                  f"task? {ENV_ID}, {timesteps:,} env steps per run, seed {seed}.",
                  highlight=False)
    console.print("1/3 kernels (numba compiles them once per machine; later runs load them):",
                  highlight=False)
    console.print(f"    ready in {warm_up():.1f} s", highlight=False)
    rows = []
    for i, condition in enumerate(CONDITIONS, start=2):
        console.print(f"{i}/3 PPO, {condition} reward ...", highlight=False)
        row = one_run(condition, timesteps, seed, folder / "runs")
        rows.append(row)
        steps = "-" if row["steps_to_90"] is None else f"{row['steps_to_90']:,}"
        console.print(f"    {row['train_s']:.1f} s ({row['train_steps_per_s']:,.0f} env steps/s); "
                      f"90% rollout success after {steps} steps; evaluation success "
                      f"{row['eval_success']:.2f}", highlight=False)
    harness.record(NAME, rows, folder)
    columns = [harness.Column("reward", "condition"), harness.Column("shaping", "shaping"),
               harness.Column("env steps", "timesteps", harness.fmt_int),
               harness.Column("steps to 90% rollout success", "steps_to_90", harness.fmt_int),
               harness.Column("final rollout success", "final_rollout_success",
                              harness.fmt_float),
               harness.Column("eval success (50 episodes)", "eval_success", harness.fmt_float),
               harness.Column("train time (s)", "train_s", harness.fmt_float)]
    md = harness.write_markdown(folder / f"{NAME}.md", rows, columns,
                                title=f"PPO on {ENV_ID}: sparse vs potential-shaped reward",
                                notes=[f"seed {seed}; PPO settings: agents/configs/ppo.yml "
                                       f"[{ENV_ID}]; evaluation on the env's own reward"])
    png = plot(rows, folder / f"{NAME}.png")
    table = _rich_table(rows, columns)
    console.print(table)
    console.print(f"wrote {md}, {png} and {folder / (NAME + '.jsonl')}", highlight=False)
    return rows


def _rich_table(rows: Sequence[dict[str, Any]], columns: Sequence[Any]) -> Any:
    from rich.table import Table

    from rewardgym.benchmarks import harness

    table = Table(title="sparse vs shaped reward")
    for column in columns:
        table.add_column(column.header, justify="left" if column.key in ("condition", "shaping")
                         else "right")
    for cells in harness.table_cells(rows, columns):
        table.add_row(*cells)
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``rewardgym demo``)."""
    parser = argparse.ArgumentParser(prog="rewardgym demo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="accepted; the demo is short")
    parser.add_argument("--out", default="results", help="parent folder (default: results)")
    parser.add_argument("--timesteps", type=int, default=None,
                        help=f"env steps per run (default {TIMESTEPS:,})")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    run(args.quick, args.out, timesteps=args.timesteps, seed=args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
