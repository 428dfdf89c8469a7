"""CaRL's scaling result on RouteDrive: does PPO on a summed reward degrade with the mini-batch?

CaRL (Jaeger et al., CoRL 2025, arXiv 2504.17838, "Optimizing a single reward" and the reward
ablation) reports that PPO with Roach's summed reward (speed + position + rotation + action
terms) collapses to "not driving" when the mini-batch grows from 256 to 1,024, while its simple
reward (route-completion gain × soft penalty factors, hard infractions end the episode) improves
(+17 DS) and keeps improving up to mini-batches of 16,384. The ablation grew the mini-batch "by
performing 4x more simulator steps per PPO iteration with 4x fewer PPO iterations", so the number
of mini-batches per epoch stayed fixed (research note ``carl_driving.md`` §2.1, §2.3).

This study runs that grid on RouteDrive (the newest registered ``rewardgym/RouteDrive-v<N>``):
reward mode {carl, roach} × mini-batch size {256, 1,024, 4,096, 16,384} × seeds, every run with
the same env-step budget. ``--hold minibatches`` (default, CaRL's way): 4 mini-batches per epoch,
rollout = 4 × mini-batch = ``n_envs`` × 128 steps, so a bigger mini-batch means more envs and
fewer PPO iterations. ``--hold rollout``: a fixed rollout of ``--rollout`` samples split into
more or fewer mini-batches. The other PPO settings are CaRL's (3 epochs, lr 2.5e-4 decayed
linearly, γ 0.99, λ 0.95, clip 0.1, entropy 0.01, value clipping 0.1, SB3 value coefficient
0.25 (CaRL's 0.5 × 0.5 squared error), grad-norm 0.5, a Beta policy on CaRL's LayerNorm-ReLU network
(``carl_net``); set explicitly here, not read from the env's YAML entry).

Each trained policy (deterministic: the Beta mean) is evaluated on held-out routes: a scenario
bank built from another ``map_seed`` than training's, on seeded episodes; reported are driving
score (DS), route completion (RC), success and the rate of each episode-ending infraction, and
DS on fresh episodes of the training bank. The runs are a sweep
(:mod:`rewardgym.benchmarks.sweep`: resumable, local processes or ``--backend ray``); the
summary has 95% confidence intervals over seeds and the plot shows DS, RC and collision rate
against the mini-batch size, one line per reward, as in CaRL's figure. Wall time per run is
recorded.

Budget: every run trains ``--timesteps`` env steps; the small mini-batches cost the most wall
time (more gradient steps of fixed overhead). ``--quick`` is a plumbing check (seconds per run).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

NAME = "minibatch_scaling"
MODULE = "rewardgym.benchmarks.minibatch_scaling"
REWARDS = ("carl", "roach")
BATCH_SIZES = (256, 1024, 4096, 16384)
HOLDS = ("minibatches", "rollout")
N_MINIBATCHES = 4
N_STEPS = 128
HELDOUT_MAP_SEED = 1_000_003  # a scenario bank training never sees (training: map_seed 0)
EVAL_SEED = 10_000  # the same as driving_eval.EVAL_SEED (kept importable from here)
ENDINGS = ("collision", "red_light", "off_road", "off_route", "wrong_way", "blocked", "timeout")
METRICS = ("ds", "rc", "success", *ENDINGS, "ds_train_routes", "train_wall_s",
           "train_steps_per_s")
CARL_PPO = ("n_epochs=3", "learning_rate=lin_2.5e-4", "gamma=0.99", "gae_lambda=0.95",
            "clip_range=0.1", "clip_range_vf=0.1", "ent_coef=0.01", "vf_coef=0.25",
            "max_grad_norm=0.5", "normalize_advantage=true", "policy=BetaMlpPolicy",
            "policy_kwargs.carl_net=true", "policy_kwargs.ortho_init=false", "torch_threads=1")
Policy = Callable[[np.ndarray], np.ndarray]


def layout(batch_size: int, hold: str, rollout: int, n_steps: int = N_STEPS) -> dict[str, int]:
    """``n_envs``, ``n_steps`` and ``batch_size`` of one grid point.

    Raises:
        ValueError: an unknown ``hold``, or sizes that do not divide.

    Example:
        >>> layout(1024, "minibatches", 0)
        {'n_envs': 32, 'n_steps': 128, 'batch_size': 1024}
    """
    if hold == "minibatches":
        samples = N_MINIBATCHES * batch_size
    elif hold == "rollout":
        samples = rollout
    else:
        raise ValueError(f"hold must be one of {HOLDS}, got {hold!r}")
    if samples % n_steps or samples % batch_size:
        raise ValueError(f"a rollout of {samples} samples must split into {n_steps}-step envs "
                         f"and mini-batches of {batch_size}")
    return {"n_envs": samples // n_steps, "n_steps": n_steps, "batch_size": batch_size}


def sweep_spec(*, rewards: Sequence[str], batch_sizes: Sequence[int], seeds: int,
               timesteps: int, hold: str, rollout: int, eval_episodes: int, curve_points: int,
               n_steps: int = N_STEPS, name: str = NAME,
               ppo_overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The study as a sweep spec (reward × mini-batch × seed).

    ``ppo_overrides`` (``key=value``, applied after CaRL's settings) are part of every run's
    resolved config, so a changed override never reuses the old runs' results.
    """
    return {"name": name, "run": f"{MODULE}:one_run", "resolve": f"{MODULE}:resolve",
            "axes": {"reward_mode": list(rewards), "batch_size": list(batch_sizes)},
            "fixed": {"timesteps": timesteps, "hold": hold, "rollout": rollout,
                      "n_steps": n_steps, "eval_episodes": eval_episodes,
                      "curve_points": curve_points, "heldout_map_seed": HELDOUT_MAP_SEED,
                      "ppo_overrides": list(ppo_overrides)},
            "seeds": seeds, "metrics": list(METRICS), "plot_x": "batch_size",
            "resources": {"cpus": 1, "gpus": 0}, "threads": 1,
            "title": "PPO mini-batch scaling on RouteDrive: CaRL vs Roach reward"}


def resolve(config: dict[str, Any]) -> dict[str, Any]:
    """Add the env id and the run's full PPO config (``ppo``) to a grid point."""
    from rewardgym.agents import load_config
    from rewardgym.benchmarks.harness import latest_env_id

    if config["reward_mode"] not in REWARDS:
        raise ValueError(f"reward_mode must be one of {REWARDS}, got {config['reward_mode']!r}")
    env_id = latest_env_id("RouteDrive")
    sizes = layout(config["batch_size"], config["hold"], config["rollout"], config["n_steps"])
    overrides = [*CARL_PPO, *config.get("ppo_overrides", ()),
                 *(f"{k}={v}" for k, v in sizes.items()),
                 f"total_timesteps={config['timesteps']}", f"seed={config['seed']}",
                 f"env_kwargs.reward_mode={config['reward_mode']}"]
    ppo = load_config(env_id, "ppo", overrides=overrides).to_dict()
    return {**config, "env_id": env_id, "ppo": ppo}


def evaluate(policy: Policy, episodes: int, *, env_kwargs: dict[str, Any], num_envs: int = 16,
             seed: int = EVAL_SEED) -> dict[str, float]:
    """DS, RC, success, return and each ending's rate over ``episodes`` seeded episodes.

    Each of ``num_envs`` native envs runs ``episodes / num_envs`` consecutive episodes from its
    own seed, so every policy is judged on the same episodes
    (:func:`rewardgym.benchmarks.driving_eval.evaluate`).
    """
    from rewardgym.benchmarks import driving_eval

    return driving_eval.evaluate(policy, episodes, endings=ENDINGS, env_kwargs=env_kwargs,
                                 num_envs=num_envs, seed=seed)


def one_run(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    """Train one PPO run and evaluate it on held-out routes (a sweep run function)."""
    import rewardgym  # noqa: F401
    from rewardgym.agents import PPOConfig, train
    from rewardgym.agents.learning_curve import LearningCurveCallback

    ppo = PPOConfig(**config["ppo"])
    heldout = {**ppo.env_kwargs, "map_seed": config["heldout_map_seed"]}
    episodes = config["eval_episodes"]

    def policy_of(model: Any) -> Policy:
        return lambda obs: model.predict(obs, deterministic=True)[0]

    callbacks = []
    if config["curve_points"] > 0:
        every = max(1, config["timesteps"] // config["curve_points"])
        callbacks.append(LearningCurveCallback(
            evaluate=lambda model: evaluate(policy_of(model), max(16, episodes // 4),
                                            env_kwargs=heldout),
            eval_every=every))
    start = time.perf_counter()
    result = train(config["env_id"], "ppo", ppo, log_dir=run_dir, progress_bar=False,
                   verbose=0, eval_episodes=1, checkpoint_freq=10**9, callbacks=callbacks)
    wall = time.perf_counter() - start
    from stable_baselines3 import PPO

    model = PPO.load(Path(run_dir) / "model.zip", device="cpu")
    final = evaluate(policy_of(model), episodes, env_kwargs=heldout)
    train_routes = evaluate(policy_of(model), episodes, env_kwargs=ppo.env_kwargs)
    return {**final, **dict.fromkeys((e for e in ENDINGS if e not in final), None),
            "ds_train_routes": train_routes["ds"], "rc_train_routes": train_routes["rc"],
            "train_wall_s": result.train_time_s, "run_wall_s": wall,
            "train_steps_per_s": result.steps_per_second, "steps": result.num_timesteps,
            "n_envs": ppo.n_envs, "n_steps": ppo.n_steps, "updates": result.num_timesteps // (
                ppo.n_envs * ppo.n_steps),
            "curve": callbacks[0].evaluations if callbacks else []}


def plot(path: Path, summary: Sequence[dict[str, Any]], *, title: str) -> Path:
    """DS, RC and collision rate against the mini-batch size, one line per reward, 95% CI bands."""
    from rewardgym.benchmarks import sweep_report

    return sweep_report.plot(path, summary, ["batch_size", "reward_mode"],
                             ["ds", "rc", "collision"], x_axis="batch_size", title=title)


def run(quick: bool = False, out_dir: str | Path = "results", *,
        rewards: Sequence[str] = REWARDS, batch_sizes: Sequence[int] | None = None,
        seeds: int | None = None, timesteps: int | None = None, hold: str = "minibatches",
        rollout: int = 65_536, eval_episodes: int | None = None, curve_points: int | None = None,
        workers: int | None = None, backend: str = "local", address: str | None = None,
        progress: bool = True, ppo_overrides: Sequence[str] = (),
        name: str | None = None) -> list[dict[str, Any]]:
    """Run (or resume) the study; returns the summary rows (mean and CI per grid point)."""
    from rewardgym.benchmarks import sweep

    batch_sizes = list(batch_sizes) if batch_sizes is not None else (
        [64, 256] if quick else list(BATCH_SIZES))
    seeds = seeds if seeds is not None else (1 if quick else 3)
    timesteps = timesteps if timesteps is not None else (2_048 if quick else 3_000_000)
    eval_episodes = eval_episodes if eval_episodes is not None else (16 if quick else 128)
    curve_points = curve_points if curve_points is not None else (0 if quick else 5)
    for size in batch_sizes:
        layout(size, hold, rollout, N_STEPS)
    spec = sweep_spec(rewards=rewards, batch_sizes=batch_sizes, seeds=seeds,
                      timesteps=timesteps, hold=hold, rollout=rollout,
                      eval_episodes=eval_episodes, curve_points=curve_points,
                      name=name or (f"{NAME}_quick" if quick else NAME),
                      ppo_overrides=ppo_overrides)
    result = sweep.run_sweep(spec, out=out_dir, backend=backend, workers=workers,
                             address=address, progress=progress)
    plot(result.folder / f"{NAME}.png", result.summary, title=spec["title"])
    return result.summary


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m rewardgym.benchmarks.minibatch_scaling [--quick]``."""
    parser = argparse.ArgumentParser(prog="python -m rewardgym.benchmarks.minibatch_scaling",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="plumbing check: tiny budget")
    parser.add_argument("--out", default="results")
    parser.add_argument("--rewards", nargs="*", choices=REWARDS, default=list(REWARDS))
    parser.add_argument("--batch-sizes", nargs="*", type=int, default=None)
    parser.add_argument("--seeds", type=int, default=None, help="seeds per grid point (3)")
    parser.add_argument("--timesteps", type=int, default=None, help="env steps per run (3M)")
    parser.add_argument("--hold", choices=HOLDS, default="minibatches",
                        help="what stays fixed as the mini-batch grows (CaRL: minibatches)")
    parser.add_argument("--rollout", type=int, default=65_536,
                        help="samples per update with --hold rollout")
    parser.add_argument("--eval-episodes", type=int, default=None, help="held-out episodes")
    parser.add_argument("--curve-points", type=int, default=None,
                        help="held-out evaluations during training (learning curves)")
    parser.add_argument("--workers", type=int, default=None, help="runs at once (local)")
    parser.add_argument("--backend", choices=("local", "ray"), default="local")
    parser.add_argument("--address", default=None, help="Ray cluster address (auto, HOST:PORT)")
    parser.add_argument("--set", dest="ppo_overrides", nargs="*", default=[], metavar="KEY=VALUE",
                        help="PPO overrides applied after CaRL's settings, e.g. "
                             "policy_kwargs.carl_net=false 'policy_kwargs.net_arch=[64, 64]'")
    parser.add_argument("--name", default=None,
                        help="results subfolder (default: minibatch_scaling)")
    args = parser.parse_args(argv)
    summary = run(args.quick, args.out, rewards=args.rewards, batch_sizes=args.batch_sizes,
                  seeds=args.seeds, timesteps=args.timesteps, hold=args.hold,
                  rollout=args.rollout, eval_episodes=args.eval_episodes,
                  curve_points=args.curve_points, workers=args.workers, backend=args.backend,
                  address=args.address, ppo_overrides=args.ppo_overrides, name=args.name)
    for row in summary:
        print({k: row[k] for k in ("reward_mode", "batch_size", "seeds", "ds", "ds_lo", "ds_hi",
                                   "rc", "collision", "train_wall_s")})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
