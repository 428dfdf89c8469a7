"""The ``rewardgym train`` sub-command.

``rewardgym/cli.py`` owns the top-level parser and calls :func:`add_train_command`; the parsed
arguments carry ``func=run_train``, so the caller dispatches with ``args.func(args)``::

    rewardgym train rewardgym/DoorKey-5x5-v0 --algo ppo --set n_envs=32 --total-timesteps 200000
    rewardgym train rewardgym/DoorKey-5x5-v0 --resume --total-timesteps 400000
    rewardgym train rewardgym/WebShopDiscrete-v1 --algo maskable_ppo   # env with action_masks()
    rewardgym train rewardgym/HalfCheetahBackward-v1 --algo sac        # configs/sac.yml

Run folders: without ``--log-dir`` every run gets a fresh, timestamped folder
``runs/<env id with '/' as '_'>_<algo>_seed<seed>/<YYYYmmdd-HHMMSS>``, so rerunning a command
never collides with an old run; ``--resume`` continues the newest of them that has a checkpoint.
With ``--log-dir DIR`` the run lives in ``DIR/<env>_<algo>_seed<seed>`` (fixed), so the same
command with ``--resume`` finds it again. ``--resume`` where there is no checkpoint yet starts
the run (and says so), so a resumable command can be launched the same way every time.

Config mistakes (an unknown env id, ``env_kwargs`` the env rejects, SAC on a ``Discrete`` env,
shaping without its info key) end in one ``error:`` line and exit status 2, before anything is
built (``rewardgym.agents.preflight``).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

from rewardgym.agents.config import ALGO_CONFIGS, ConfigError, load_config

__all__ = ["DEFAULT_RUNS", "add_train_command", "choose_run_directory", "run_directory",
           "run_train"]

#: Parent of the timestamped run folders when no ``--log-dir`` is given.
DEFAULT_RUNS = Path("runs")


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
    parser.add_argument(
        "env_id",
        help="any Gymnasium id, e.g. rewardgym/DoorKey-5x5-v0, MiniGrid-DoorKey-5x5-v0 or "
        "module:Env-v0 (module is imported first, as gymnasium.make does)",
    )
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
        default=None,
        help="parent of a fixed run directory DIR/<env>_<algo>_seed<seed> (default: a fresh "
        "timestamped folder under runs/<env>_<algo>_seed<seed>/ per run)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint of the run directory (without --log-dir: of "
        "the newest run of this env, algo and seed); starts the run if it has none yet",
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


def _has_checkpoint(run: Path, algo: str) -> bool:
    return any((run / "checkpoints").glob(f"{algo}_*_steps.zip"))


def choose_run_directory(log_dir: Path | None, env_id: str, algo: str, seed: int | None,
                         resume: bool) -> Path:
    """The run directory of a ``train`` command (see the module docstring).

    Args:
        log_dir: ``--log-dir`` (None: timestamped folders under :data:`DEFAULT_RUNS`).
        env_id: The env id (as registered).
        algo: The algorithm name.
        seed: The run's seed.
        resume: ``--resume``: reuse the newest run with a checkpoint instead of a fresh folder.
    """
    if log_dir is not None:
        return run_directory(log_dir, env_id, algo, seed)
    parent = run_directory(DEFAULT_RUNS, env_id, algo, seed)
    if resume and parent.is_dir():
        runs = sorted(p for p in parent.iterdir() if p.is_dir() and _has_checkpoint(p, algo))
        if runs:
            return runs[-1]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run, n = parent / stamp, 1
    while run.exists():  # two runs in one second
        n += 1
        run = parent / f"{stamp}-{n}"
    return run


def run_train(args: argparse.Namespace) -> int:
    """Run ``rewardgym train`` with parsed arguments; returns the exit status."""
    from gymnasium.error import Error as GymError
    from rich.markup import escape

    from rewardgym.agents.console import make_console
    from rewardgym.agents.env_ids import UnknownEnvError, resolve_env_id
    from rewardgym.agents.multi_agent import is_parallel_env_id
    from rewardgym.agents.train import ActionMaskError, ShapingGammaError, train

    console = make_console(stderr=True)
    try:
        try:
            # Multi-agent ids (rewardgym.envs.PARALLEL_ENVS) are not Gymnasium ids.
            env_id = args.env_id if is_parallel_env_id(args.env_id) else resolve_env_id(
                args.env_id)
        except UnknownEnvError as exc:
            raise ConfigError(str(exc)) from None
        config = load_config(env_id, args.algo, path=args.config, overrides=args.overrides)
        changes: dict[str, Any] = {}
        if args.total_timesteps is not None:
            changes["total_timesteps"] = args.total_timesteps
        if args.seed is not None:
            changes["seed"] = args.seed
        if args.device is not None:
            changes["device"] = args.device
        config = dataclasses.replace(config, **changes)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 2
    log_dir = choose_run_directory(args.log_dir, env_id, args.algo, config.seed, args.resume)
    resume = args.resume and _has_checkpoint(log_dir, args.algo)
    if args.resume and not resume:
        console.print(f"no checkpoint in {log_dir} yet: starting a new run there",
                      highlight=False)
    try:
        train(
            env_id,
            args.algo,
            config,
            log_dir=log_dir,
            resume=resume,
            progress_bar=not args.no_progress,
            eval_episodes=args.eval_episodes,
            checkpoint_freq=args.checkpoint_freq,
            allow_gamma_mismatch=args.allow_gamma_mismatch,
        )
    except ConfigError as exc:  # train() checks the env against the config before building
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 2
    except (
        FileExistsError,
        FileNotFoundError,
        ShapingGammaError,
        ActionMaskError,
        GymError,
    ) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover - convenience: python -m rewardgym.agents.cli
    _parser = argparse.ArgumentParser(prog="rewardgym")
    add_train_command(_parser.add_subparsers(dest="command", required=True))
    _args = _parser.parse_args()
    sys.exit(_args.func(_args))
