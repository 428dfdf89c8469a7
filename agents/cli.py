"""The ``rewardgym train`` sub-command.

``rewardgym/cli.py`` owns the top-level parser and calls :func:`add_train_command`; the parsed
arguments carry ``func=run_train``, so the caller dispatches with ``args.func(args)``::

    rewardgym train rewardgym/DoorKey-5x5-v0 --algo ppo --set n_envs=32 --total-timesteps 200000
    rewardgym train rewardgym/DoorKey-5x5-v0 --resume --total-timesteps 400000
    rewardgym train rewardgym/WebShopDiscrete-v0 --algo maskable_ppo   # env with action_masks()
    rewardgym train rewardgym/HalfCheetahBackward-v0 --algo sac        # configs/sac.yml

A run lives in ``<--log-dir>/<env id with '/' as '_'>_<algo>_seed<seed>``, so the same command
with ``--resume`` finds it again.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from rewardgym.agents.config import ALGO_CONFIGS, ConfigError, load_config

__all__ = ["add_train_command", "run_directory", "run_train"]


def add_train_command(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` sub-command to an ``argparse`` sub-parsers object.

    Args:
        subparsers: What ``ArgumentParser.add_subparsers()`` returned.

    Returns:
        The ``train`` parser (its defaults carry ``func=run_train``).
    """
    parser = subparsers.add_parser(
        "train",
        help="train an agent (PPO, MaskablePPO) on a registered env",
        description=(
            "Train an SB3 agent with the hyper-parameters of agents/configs/<algo>.yml (or "
            "--config), with a progress bar, TensorBoard logs, checkpoints and a final "
            "evaluation table."
        ),
    )
    parser.add_argument("env_id", help="registered env id, e.g. rewardgym/DoorKey-5x5-v0")
    parser.add_argument(
        "--algo",
        default="ppo",
        choices=sorted(ALGO_CONFIGS),
        help="ppo: SB3 PPO; maskable_ppo: sb3-contrib MaskablePPO, for envs with action_masks() "
        "(default: ppo)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="hyper-parameter YAML file (default: the shipped one)",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        nargs="+",
        action="extend",
        default=[],
        metavar="KEY=VALUE",
        help="override hyper-parameters, e.g. --set n_envs=32 "
        "env_kwargs.obs_mode=flat (values are YAML)",
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=Path("runs"),
        help="parent directory of the run directory (default: runs)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint of the run directory",
    )
    parser.add_argument("--total-timesteps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--device", default=None, help="torch device: cpu, cuda, auto")
    parser.add_argument("--eval-episodes", type=int, default=20)
    parser.add_argument(
        "--checkpoint-freq",
        type=int,
        default=50_000,
        help="env steps between checkpoints (default: 50000)",
    )
    parser.add_argument(
        "--allow-gamma-mismatch",
        action="store_true",
        help="train even if a shaping wrapper's gamma differs from the algo's",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_train)
    return parser


def run_directory(log_dir: Path, env_id: str, algo: str, seed: int | None) -> Path:
    """The run directory for a run: ``log_dir/<env>_<algo>_seed<seed>``."""
    name = env_id.replace("/", "_").replace(":", "_")
    return Path(log_dir) / f"{name}_{algo}_seed{'none' if seed is None else seed}"


def run_train(args: argparse.Namespace) -> int:
    """Run ``rewardgym train`` with parsed arguments; returns the exit status."""
    from gymnasium.error import Error as GymError
    from rich.console import Console

    from rewardgym.agents.train import ActionMaskError, ShapingGammaError, train

    console = Console(stderr=True)
    try:
        config = load_config(args.env_id, args.algo, path=args.config, overrides=args.overrides)
        changes: dict[str, Any] = {}
        if args.total_timesteps is not None:
            changes["total_timesteps"] = args.total_timesteps
        if args.seed is not None:
            changes["seed"] = args.seed
        if args.device is not None:
            changes["device"] = args.device
        config = dataclasses.replace(config, **changes)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 2
    log_dir = run_directory(args.log_dir, args.env_id, args.algo, config.seed)
    try:
        train(
            args.env_id,
            args.algo,
            config,
            log_dir=log_dir,
            resume=args.resume,
            progress_bar=not args.no_progress,
            eval_episodes=args.eval_episodes,
            checkpoint_freq=args.checkpoint_freq,
            allow_gamma_mismatch=args.allow_gamma_mismatch,
        )
    except (
        FileExistsError,
        FileNotFoundError,
        ShapingGammaError,
        ActionMaskError,
        ConfigError,
        GymError,
    ) as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - convenience: python -m rewardgym.agents.cli
    _parser = argparse.ArgumentParser(prog="rewardgym")
    add_train_command(_parser.add_subparsers(dest="command", required=True))
    _args = _parser.parse_args()
    sys.exit(_args.func(_args))
