"""Train an SB3 agent on a registered env: checkpoints, resume, TensorBoard, final evaluation.

A run directory (``log_dir``) holds everything of one run::

    log_dir/
        config.yml                          the resolved hyper-parameters
        checkpoints/<algo>_<N>_steps.zip    SB3 model checkpoints (every ``checkpoint_freq``
        checkpoints/<algo>_rng_<N>_steps.pkl    steps and at the end), with the torch/numpy/random
        checkpoints/<algo>_vecnormalize_<N>_steps.pkl   RNG states and VecNormalize statistics
        tb/<ALGO>_1/events.out.tfevents.*   TensorBoard scalars (a resumed run continues this set)
        model.zip                           the final model
        result.json                         the :class:`TrainResult`

``<algo>`` is the algorithm name (``ppo``, ``maskable_ppo``, ``sac``); :data:`ALGORITHMS` maps it to
the SB3 class, which builds, resumes (``<class>.load``) and evaluates the model on one code path.
SAC's replay buffer is not checkpointed, so a resumed SAC run starts with an empty buffer.

Resuming (``resume=True``) loads the newest checkpoint, restores the RNG states and VecNormalize
statistics, and continues with ``reset_num_timesteps=False`` until ``config.total_timesteps``.
The env's internal state and PPO's partial rollout are not in a checkpoint (SB3 does not save
them), so a resumed run is statistically, not bitwise, the same as an uninterrupted one; the envs
are re-seeded from ``(seed, num_timesteps)`` so they do not replay the first episodes.

Action masking (``maskable_ppo``): :func:`train` checks the env has masks before training and
:func:`~rewardgym.agents.evaluation.evaluate` passes them to ``model.predict``. Potential-based
shaping must use the learner's gamma (:func:`~rewardgym.agents.shaping_guard.check_shaping_gamma`).

The pieces live by job: :mod:`~rewardgym.agents.checkpoints` (files, RNG states, resume),
:mod:`~rewardgym.agents.evaluation` (deterministic evaluation, masks),
:mod:`~rewardgym.agents.shaping_guard` and :mod:`~rewardgym.agents.train_result`; their public
names are importable from here too.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import json
import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from sb3_contrib import MaskablePPO
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rewardgym.agents.adaptive_rr import callbacks_for
from rewardgym.agents.beta_policy import resolve_policy
from rewardgym.agents.callbacks import RewardTermsCallback
from rewardgym.agents.checkpoints import (
    Checkpoint,
    CheckpointWithRng,
    latest_checkpoint,
    save_checkpoint,
)
from rewardgym.agents.checkpoints import _rng_state as _rng_state  # re-exported (tests pin it)
from rewardgym.agents.checkpoints import _set_rng_state as _set_rng_state
from rewardgym.agents.config import load_config
from rewardgym.agents.env_ids import resolve_env_id
from rewardgym.agents.evaluation import (
    ActionMaskError,
    evaluate,
    require_masks,
    uses_action_masks,
)
from rewardgym.agents.multi_agent import (
    check_parallel_run,
    is_parallel_env_id,
    make_parallel_sb3_vec_env,
)
from rewardgym.agents.preflight import check_run, import_wrappers
from rewardgym.agents.run_config import RunConfig
from rewardgym.agents.sb3_adapter import make_sb3_vec_env
from rewardgym.agents.shaping_guard import ShapingGammaError, check_shaping_gamma
from rewardgym.agents.smoke import SMOKE_EVAL_EPISODES, smoke_mode, smoke_note, smoke_timesteps
from rewardgym.agents.train_result import TrainResult

__all__ = [
    "ALGORITHMS",
    "ActionMaskError",
    "Checkpoint",
    "ShapingGammaError",
    "TrainResult",
    "check_shaping_gamma",
    "evaluate",
    "latest_checkpoint",
    "train",
    "uses_action_masks",
]

#: SB3 algorithm class per algo name (the same names as ``config.ALGO_CONFIGS``).
ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "maskable_ppo": MaskablePPO,
                                             "sac": SAC}

def _plain(value: Any) -> Any:
    """YAML-safe copy of ``value``: objects such as ``torch.nn.ReLU`` become their repr."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _shaping_wrappers(config: RunConfig) -> list[Any]:
    """The potential-shaping vector wrapper a config asks for (none when unshaped)."""
    if config.shaping_potential is None:
        return []
    from rewardgym.wrappers.potential import PotentialShapingVector

    return [functools.partial(PotentialShapingVector, potential=config.shaping_potential,
                              gamma=config.gamma, scale=config.shaping_scale)]


def _env_seed(seed: int | None, num_timesteps: int) -> int | None:
    """Env seed for a run starting at ``num_timesteps``: ``seed`` for a fresh run, else derived."""
    if seed is None or num_timesteps == 0:
        return seed
    return int(np.random.SeedSequence([seed, num_timesteps]).generate_state(1)[0])


def train(
    env_id: str,
    algo: str = "ppo",
    config: RunConfig | None = None,
    *,
    log_dir: str | Path,
    resume: bool = False,
    progress_bar: bool = True,
    eval_episodes: int = 20,
    checkpoint_freq: int = 50_000,
    allow_gamma_mismatch: bool = False,
    verbose: int = 1,
    callbacks: Sequence[BaseCallback] = (),
) -> TrainResult:
    """Train ``algo`` on ``env_id``, checkpointing to ``log_dir``, then evaluate.

    Args:
        env_id: A registered Gymnasium id.
        algo: Algorithm name (a key of :data:`ALGORITHMS`).
        config: Hyper-parameters; None loads the shipped YAML entry for ``env_id``.
        log_dir: The run directory (created).
        resume: Continue from the newest checkpoint in ``log_dir`` up to
            ``config.total_timesteps``; the checkpoint's own hyper-parameters are kept (only
            ``total_timesteps``, ``device`` and the env settings of ``config`` apply). Without
            it, a ``log_dir`` that already has checkpoints is refused rather than mixed with a
            new run.
        progress_bar: Show SB3's rich progress bar.
        eval_episodes: Episodes of the final deterministic evaluation (on fresh envs).
        checkpoint_freq: Save a checkpoint every this many env steps (and always at the end).
        allow_gamma_mismatch: See :func:`check_shaping_gamma`.
        verbose: 1 prints the result table, 0 prints nothing (SB3 itself stays quiet).
        callbacks: Extra SB3 callbacks for ``learn`` (e.g. to record learning curves).

    Returns:
        The :class:`TrainResult` (also written to ``log_dir/result.json``).

    Raises:
        ValueError: Unknown ``algo``, bad arguments, a shaping-gamma mismatch, or a maskable
            ``algo`` on an env without ``action_masks()`` (:class:`ActionMaskError`).
        FileExistsError: ``log_dir`` has checkpoints and ``resume`` is False.
        FileNotFoundError: ``resume`` is True and ``log_dir`` has no checkpoint.

    Example:
        >>> import tempfile
        >>> from rewardgym.agents import load_config, train
        >>> overrides = ["total_timesteps=512", "n_envs=2", "batch_size=64"]
        >>> cfg = load_config("CartPole-v1", overrides=overrides)
        >>> result = train("CartPole-v1", config=cfg, log_dir=tempfile.mkdtemp(),
        ...                progress_bar=False, eval_episodes=2, verbose=0)
        >>> result.num_timesteps, result.eval_episodes
        (512, 2)
    """
    start = time.perf_counter()
    env_id, config, eval_episodes = _checked_run(env_id, algo, config, eval_episodes,
                                                 checkpoint_freq)
    run = _RunDirs.of(Path(log_dir))
    latest = run.latest(algo, resume)
    run.log_dir.mkdir(parents=True, exist_ok=True)
    (run.log_dir / "config.yml").write_text(
        yaml.safe_dump(_plain(config.to_dict()), sort_keys=False))

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    env: VecEnv | None = None
    try:
        env = _make_env(env_id, config)
        check_shaping_gamma(env, config.gamma, allow_gamma_mismatch)
        algo_cls = ALGORITHMS[algo]
        if uses_action_masks(algo_cls):
            # MaskablePPO would only fail inside learn(), after the model and logs exist.
            require_masks(env, f"train: algo {algo!r}")
        if latest is None:
            model, env = _new_model(algo_cls, config, env, run.tensorboard)
            resumed_from = None  # <Algo>(seed=...) seeded torch, numpy and the envs
        else:
            model, env = _resumed_model(algo_cls, config, env, latest, run.tensorboard)
            resumed_from = model.num_timesteps

        steps_before = model.num_timesteps
        learn_start = time.perf_counter()
        _learn(model, algo, config, run, checkpoint_freq, fresh=latest is None,
               progress_bar=progress_bar, callbacks=callbacks)
        train_time = time.perf_counter() - learn_start
        save_checkpoint(model, run.checkpoints, algo)
        model.save(run.model)
        stats = _evaluate_fresh(model, env_id, config, eval_episodes, env)
    finally:
        torch.set_num_threads(previous_threads)
        if env is not None:
            env.close()

    result = _result(env_id, algo, run, stats, num_timesteps=int(model.num_timesteps),
                     resumed_from=resumed_from, train_steps=model.num_timesteps - steps_before,
                     train_time=train_time, wall_time=time.perf_counter() - start)
    (run.log_dir / "result.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if verbose >= 1:
        from rewardgym.agents.console import make_console

        make_console().print(result.table())
    return result


def _checked_run(env_id: str, algo: str, config: RunConfig | None, eval_episodes: int,
                 checkpoint_freq: int) -> tuple[str, RunConfig, int]:
    """Check the arguments and the run before anything is built or written.

    Returns the resolved env id, the config (loaded when None; cut to the smoke budget under
    ``REWARDGYM_SMOKE=1``) and the evaluation episodes.
    """
    if algo not in ALGORITHMS:
        raise ValueError(f"train: algo must be one of {sorted(ALGORITHMS)}, got {algo!r}")
    if config is None:
        config = load_config(env_id if is_parallel_env_id(env_id) else resolve_env_id(env_id),
                             algo)
    for name, value in (("eval_episodes", eval_episodes), ("checkpoint_freq", checkpoint_freq)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"train: {name} must be an int >= 1, got {value!r}")
    # Config mistakes (env kwargs, spaces, shaping inputs) fail here, before any file is written.
    if is_parallel_env_id(env_id):  # multi-agent: parameter-shared PPO over agent slots
        env_id = check_parallel_run(env_id, algo, config)
    else:
        env_id = check_run(env_id, algo, config)
    if smoke_mode():
        config, eval_episodes = _smoke_budget(config, eval_episodes)
    return env_id, config, eval_episodes


@dataclass(frozen=True)
class _RunDirs:
    """The paths of one run directory (module docstring)."""

    log_dir: Path
    checkpoints: Path
    tensorboard: Path
    model: Path

    @classmethod
    def of(cls, log_dir: Path) -> _RunDirs:
        return cls(log_dir, log_dir / "checkpoints", log_dir / "tb", log_dir / "model.zip")

    def latest(self, algo: str, resume: bool) -> Checkpoint | None:
        """The checkpoint to resume from (None: a fresh run); refuses to mix two runs."""
        latest = latest_checkpoint(self.checkpoints, algo)
        if latest is not None and not resume:
            raise FileExistsError(
                f"train: {self.checkpoints} already has checkpoints (newest at "
                f"{latest.num_timesteps} steps); pass resume=True (--resume) to continue it, or "
                "choose another log_dir"
            )
        if resume and latest is None:
            raise FileNotFoundError(f"train: resume=True but {self.checkpoints} has no checkpoint")
        return latest


def _result(env_id: str, algo: str, run: _RunDirs, stats: dict[str, Any], *, num_timesteps: int,
            resumed_from: int | None, train_steps: int, train_time: float,
            wall_time: float) -> TrainResult:
    """The :class:`TrainResult` of a finished run from its evaluation ``stats``."""
    returns = np.asarray(stats["returns"], dtype=np.float64)
    return TrainResult(
        env_id=env_id,
        algo=algo,
        num_timesteps=num_timesteps,
        resumed_from=resumed_from,
        train_timesteps=int(train_steps),
        train_time_s=train_time,
        steps_per_second=train_steps / train_time if train_time > 0 else 0.0,
        eval_episodes=len(returns),
        success_rate=float(np.mean(stats["successes"])) if stats["successes"] else None,
        mean_return=float(returns.mean()),
        std_return=float(returns.std()),
        mean_length=float(np.mean(stats["lengths"])),
        wall_time_s=wall_time,
        log_dir=run.log_dir,
        model_path=run.model,
        checkpoint_dir=run.checkpoints,
        tensorboard_dir=run.tensorboard,
    )


def _smoke_budget(config: RunConfig,
                  eval_episodes: int) -> tuple[RunConfig, int]:
    """``REWARDGYM_SMOKE=1``: a token budget (:func:`rewardgym.agents.smoke.smoke_timesteps`)."""
    steps = smoke_timesteps(config)
    episodes = min(eval_episodes, SMOKE_EVAL_EPISODES)
    smoke_note(f"training capped at {steps:,} env steps, {episodes} evaluation episodes")
    return dataclasses.replace(config, total_timesteps=steps), episodes


def _make_env(env_id: str, config: RunConfig, n_envs: int | None = None,
              *, shaped: bool = True) -> VecEnv:
    """The SB3 vector env of a run (``shaped=False``: the env's own reward, for evaluation)."""
    if is_parallel_env_id(env_id):
        return make_parallel_sb3_vec_env(env_id, config.n_envs if n_envs is None else n_envs,
                                         env_kwargs=config.env_kwargs)
    return make_sb3_vec_env(
        env_id,
        config.n_envs if n_envs is None else n_envs,
        env_kwargs=config.env_kwargs,
        vectorization_mode=config.vectorization_mode,
        vector_wrappers=_shaping_wrappers(config) if shaped else (),
        env_wrappers=import_wrappers(config.env_wrappers),
    )


def _new_model(algo_cls: type[BaseAlgorithm], config: RunConfig, env: VecEnv,
               tensorboard_dir: Path) -> tuple[BaseAlgorithm, VecEnv]:
    """A fresh model (and the env it trains on, under VecNormalize when the config asks)."""
    if config.normalize:
        env = VecNormalize(env, gamma=config.gamma)
    model = algo_cls(
        resolve_policy(config.policy),
        env,
        tensorboard_log=str(tensorboard_dir),
        verbose=0,
        **config.algo_kwargs(),
    )
    return model, env


def _resumed_model(algo_cls: type[BaseAlgorithm], config: RunConfig, env: VecEnv,
                   latest: Checkpoint, tensorboard_dir: Path) -> tuple[BaseAlgorithm, VecEnv]:
    """The model of checkpoint ``latest``, with its RNG states and VecNormalize statistics."""
    if config.normalize:
        if not latest.vecnormalize.is_file():
            raise FileNotFoundError(
                f"train: config.normalize is set but {latest.vecnormalize} is missing"
            )
        env = VecNormalize.load(str(latest.vecnormalize), env)
    # The run's own class (MaskablePPO for maskable_ppo): only it rebuilds the masked
    # policy and rollout buffer, so the resumed run keeps training with masks.
    model = algo_cls.load(latest.model, env=env, device=config.device)
    # load() re-seeds everything with the run's seed; the saved RNG states win.
    if latest.rng.is_file():
        with latest.rng.open("rb") as stream:
            _set_rng_state(pickle.load(stream))  # our own checkpoint file
    env.seed(_env_seed(config.seed, model.num_timesteps))
    model.tensorboard_log = str(tensorboard_dir)  # the run directory may have moved
    return model, env


def _learn(model: BaseAlgorithm, algo: str, config: RunConfig, run: _RunDirs,
           checkpoint_freq: int, *, fresh: bool, progress_bar: bool,
           callbacks: Sequence[BaseCallback]) -> None:
    """Train up to ``config.total_timesteps`` with checkpoints and reward-term logging."""
    remaining = config.total_timesteps - model.num_timesteps
    if remaining <= 0:
        return
    callback = CallbackList([
        CheckpointWithRng(
            save_freq=max(checkpoint_freq // config.n_envs, 1),
            save_path=str(run.checkpoints),
            name_prefix=algo,
            save_vecnormalize=config.normalize,
        ),
        RewardTermsCallback(run.log_dir),
        *callbacks_for(config, run.log_dir),  # adaptive replay ratio (SAC config)
        *callbacks,
    ])
    model.learn(
        total_timesteps=remaining,
        callback=callback,
        tb_log_name=algo.upper(),
        reset_num_timesteps=fresh,
        progress_bar=progress_bar,
    )


def _evaluate_fresh(
    model: BaseAlgorithm,
    env_id: str,
    config: RunConfig,
    n_episodes: int,
    train_env: VecEnv,
) -> dict[str, Any]:
    """Evaluate on new envs seeded apart from training; VecNormalize stats are copied, frozen."""
    eval_env = _make_env(env_id, config, min(config.n_envs, n_episodes), shaped=False)
    try:
        if isinstance(train_env, VecNormalize):
            eval_env = VecNormalize(eval_env, training=False, norm_reward=False, gamma=config.gamma)
            eval_env.obs_rms = copy.deepcopy(train_env.obs_rms)
        eval_env.seed(None if config.seed is None else config.seed + 1_000_003)
        return evaluate(model, eval_env, n_episodes)
    finally:
        eval_env.close()
