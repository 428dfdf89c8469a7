"""Does SB3 PPO learn to drive RouteDrive's routes on the CaRL reward?

Trains PPO (Beta policy, CaRL's settings scaled down: the ``rewardgym/RouteDrive-v1`` entry of
``agents/configs/ppo.yml``) through :func:`rewardgym.agents.train` on the native vector env,
and every ``eval_every`` env steps evaluates the deterministic policy (the Beta mean) on fresh
seeded episodes: mean route completion (RC, %), driving score (DS = RC × leaderboard
penalties), success and collision rates. Reference policies are evaluated on the same episodes:
uniform random actions, standing still (full brake), and the scripted pure-pursuit
:class:`~rewardgym.envs.driving.baselines.RouteFollower`. Writes
``<out>/driving_learning.{jsonl,md,png}`` (the PNG is the RC and DS curves with the references).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rewardgym.agents.smoke import smoke_mode, smoke_note
from rewardgym.benchmarks import driving_eval, harness
from rewardgym.benchmarks.driving_eval import EVAL_SEED, Policy
from rewardgym.benchmarks.harness import Column

NAME = "driving_learning"
ENV_ID = "rewardgym/RouteDrive-v1"


def evaluate(policy: Policy, episodes: int, *, num_envs: int = 16, seed: int = EVAL_SEED,
             env_kwargs: dict[str, Any] | None = None) -> dict[str, float]:
    """Mean RC, DS, success, collision and red-light rates and return over ``episodes``.

    Each of ``num_envs`` native worlds contributes ``episodes / num_envs`` consecutive episodes
    from its own seed, so every policy is judged on the same episodes
    (:func:`rewardgym.benchmarks.driving_eval.evaluate`).
    """
    # Fewer episodes than envs: one episode per env (only smoke runs ask for so few).
    return driving_eval.evaluate(policy, episodes, endings=("collision", "red_light"),
                                 env_kwargs=env_kwargs, num_envs=min(num_envs, episodes),
                                 seed=seed)


def reference_policies() -> dict[str, Policy]:
    """Random, standing still, and the scripted route follower."""
    from rewardgym.envs.driving.baselines import RouteFollower

    rng = np.random.default_rng(0)
    follower = RouteFollower()
    return {
        "random": lambda obs: rng.uniform(-1, 1, (len(obs), 2)).astype(np.float32),
        "standing": lambda obs: np.tile(np.array([0.0, -1.0], np.float32), (len(obs), 1)),
        "route follower (scripted)": follower,
    }


MODULE = "rewardgym.benchmarks.driving_learning"
METRICS = ("rc", "ds", "success", "collision", "red_light", "return")


def sweep_spec(total_timesteps: int, eval_every: int, eval_episodes: int,
               seeds: Sequence[int], overrides: Sequence[str], quick: bool) -> dict[str, Any]:
    """The PPO runs as a sweep spec for :mod:`rewardgym.benchmarks.sweep` (one run per seed)."""
    return {"name": f"{NAME}_quick" if quick else NAME, "run": f"{MODULE}:one_run",
            "resolve": f"{MODULE}:resolve", "axes": {"timesteps": [total_timesteps]},
            "fixed": {"eval_every": eval_every, "eval_episodes": eval_episodes,
                      "overrides": list(overrides)},
            "seeds": list(seeds), "metrics": list(METRICS),
            "title": "RouteDrive: PPO on the CaRL reward (final deterministic evaluation)"}


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """The run's full PPO config (``ppo``): the shipped RouteDrive entry plus the overrides."""
    from rewardgym.agents import load_config

    overrides = [f"total_timesteps={config['timesteps']}", f"seed={config['seed']}",
                 *config["overrides"]]
    return {**config, "ppo": load_config(ENV_ID, "ppo", overrides=overrides).to_dict()}


def one_run(config: dict[str, Any], run_dir: Path, progress: bool = False) -> dict[str, Any]:
    """Train PPO with periodic evaluations (a sweep run function); the last point is final."""
    from rewardgym.agents import PPOConfig, train
    from rewardgym.agents.learning_curve import LearningCurveCallback

    ppo = PPOConfig(**config["ppo"])
    episodes = config["eval_episodes"]

    def evaluate_model(model: Any) -> dict[str, float]:
        return evaluate(lambda obs: model.predict(obs, deterministic=True)[0], episodes,
                        env_kwargs=ppo.env_kwargs)

    curve = LearningCurveCallback(evaluate=evaluate_model, eval_every=config["eval_every"])
    result = train(ENV_ID, "ppo", ppo, log_dir=run_dir, progress_bar=progress,
                   eval_episodes=episodes, verbose=0, callbacks=[curve])
    points = [dict(p) for p in curve.evaluations]
    points.append({"steps": result.num_timesteps,
                   **evaluate(_load_final(Path(run_dir)), episodes, env_kwargs=ppo.env_kwargs)})
    return {**{k: points[-1][k] for k in METRICS}, "steps": result.num_timesteps,
            "seed": config["seed"], "train_wall_s": result.wall_time_s,
            "train_steps_per_s": result.steps_per_second, "curve": points}


def _load_final(log_dir: Path) -> Policy:
    from stable_baselines3 import PPO

    model = PPO.load(log_dir / "model.zip", device="cpu")
    return lambda obs: model.predict(obs, deterministic=True)[0]


COLUMNS = (
    Column("policy", "policy"),
    Column("env steps", "steps", harness.fmt_int),
    Column("RC (%)", "rc", harness.fmt_float),
    Column("DS", "ds", harness.fmt_float),
    Column("success", "success", harness.fmt_float),
    Column("collision", "collision", harness.fmt_float),
    Column("red light", "red_light", harness.fmt_float),
    Column("return", "return", harness.fmt_float),
    Column("episodes", "episodes", harness.fmt_int),
)


def plot(path: Path, curve: Sequence[dict], references: dict[str, dict]) -> Path:
    """RC and DS of the PPO evaluations against env steps, references as horizontal lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    steps = [p["steps"] for p in curve]
    for ax, key, label in ((axes[0], "rc", "route completion (%)"),
                           (axes[1], "ds", "driving score")):
        ax.plot(steps, [p[key] for p in curve], marker="o", label="PPO (Beta, CaRL reward)")
        for (name, ref), style in zip(references.items(), (":", "--", "-."), strict=False):
            ax.axhline(ref[key], linestyle=style, color="grey", label=name)
        ax.set_xlabel("env steps")
        ax.set_ylabel(label)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle("RouteDrive-v1: PPO on the CaRL reward (deterministic evaluation)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(quick: bool = False, out_dir: str | Path = "results", *, timesteps: int | None = None,
        eval_every: int | None = None, eval_episodes: int | None = None, seed: int = 0,
        seeds: int = 1, overrides: Sequence[str] = (), verbose: bool = True,
        workers: int = 1, backend: str = "local",
        address: str | None = None) -> list[dict]:
    """Run the benchmark; returns the table rows (references, then the PPO curve of ``seed``).

    The PPO runs (seeds ``seed .. seed + seeds - 1``) go through the sweep runner
    (``<out>/driving_learning/``: rows, and the final evaluation's mean and CI over seeds).
    """
    from rewardgym.benchmarks import sweep

    timesteps = timesteps or (16_384 if quick else 2_000_000)
    eval_every = eval_every or (8_192 if quick else 200_000)
    eval_episodes = eval_episodes or (16 if quick else 64)
    if quick:
        overrides = ["n_envs=16", "n_steps=128", "batch_size=512", *overrides]
    if smoke_mode():  # the whole study (references, sweep, curve, table, plot), tiny budgets
        timesteps, eval_every, eval_episodes = 2_048, 1_024, 2
        overrides = [*overrides, "n_envs=8", "n_steps=128", "batch_size=256"]
        smoke_note(f"driving_learning: {timesteps:,} PPO steps, {eval_episodes} evaluation "
                   "episodes per point")
    references = {name: evaluate(policy, eval_episodes)
                  for name, policy in reference_policies().items()}
    out = Path(out_dir)
    spec = sweep_spec(timesteps, eval_every, eval_episodes, range(seed, seed + seeds),
                      overrides, quick)
    result = sweep.run_sweep(spec, out=out, backend=backend, workers=workers, address=address,
                             progress=verbose)
    runs = [r for r in result.rows if r["status"] == "ok"]
    if not runs:
        raise RuntimeError(f"driving_learning: every PPO run failed; see {result.folder}")
    first = next((r for r in runs if r["seed"] == seed), runs[0])
    curve = first["result"]["curve"]
    rows = [{"policy": name, "steps": None, **ref} for name, ref in references.items()]
    rows += [{"policy": "PPO", **point} for point in curve]
    harness.record(NAME, rows, out, quick=quick, seed=first["seed"], overrides=list(overrides),
                   train_wall_s=first["result"]["train_wall_s"])
    notes = [f"`rewardgym/RouteDrive-v1`, seed {first['seed']}, {timesteps:,} env steps, "
             f"overrides {list(overrides)}; evaluations: {eval_episodes} seeded episodes each "
             f"(seeds from {EVAL_SEED}), deterministic policy (the Beta mean). All seeds: "
             f"`{result.table}`."]
    harness.write_markdown(out / f"{NAME}.md", rows, COLUMNS,
                           title="RouteDrive: PPO on the CaRL reward", notes=notes)
    plot(out / f"{NAME}.png", curve, references)
    if verbose:
        from rich.table import Table

        from rewardgym.agents.console import make_console

        table = Table(title="RouteDrive: PPO on the CaRL reward")
        for col in COLUMNS:
            table.add_column(col.header)
        for cells in harness.table_cells(rows, COLUMNS):
            table.add_row(*cells)
        make_console().print(table)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m rewardgym.benchmarks.driving_learning [--quick]``."""
    parser = argparse.ArgumentParser(prog="python -m rewardgym.benchmarks.driving_learning",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a ~1 minute smoke run")
    parser.add_argument("--out", default="results")
    parser.add_argument("--timesteps", type=int, default=None)
    parser.add_argument("--eval-every", type=int, default=None)
    parser.add_argument("--eval-episodes", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="first seed")
    parser.add_argument("--seeds", type=int, default=1, help="PPO runs (seeds from --seed)")
    parser.add_argument("--workers", type=int, default=1, help="runs at once")
    parser.add_argument("--backend", choices=("local", "ray"), default="local")
    parser.add_argument("--address", default=None, help="Ray cluster address (auto, HOST:PORT)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="KEY=VALUE", help="config override (repeatable)")
    args = parser.parse_args(argv)
    run(args.quick, args.out, timesteps=args.timesteps, eval_every=args.eval_every,
        eval_episodes=args.eval_episodes, seed=args.seed, seeds=args.seeds,
        overrides=args.overrides, workers=args.workers, backend=args.backend,
        address=args.address)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
