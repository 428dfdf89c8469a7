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

Action masking (``maskable_ppo``, sb3-contrib's ``MaskablePPO``): the env must expose
``action_masks()`` (per env, or batched on a native vector env; see
``rewardgym.agents.sb3_adapter``). :func:`train` checks that before training and :func:`evaluate`
passes the masks to ``model.predict``, so neither training nor evaluation takes invalid actions.

Potential-based shaping keeps the optimal policy only if the shaping gamma equals the learner's
gamma (Ng et al., 1999). :func:`check_shaping_gamma` enforces that before training.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import json
import math
import pickle
import random
import re
import time
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from rich.table import Table
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.utils import get_action_masks, is_masking_supported
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList, CheckpointCallback
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rewardgym.agents.adaptive_rr import callbacks_for
from rewardgym.agents.beta_policy import resolve_policy
from rewardgym.agents.callbacks import RewardTermsCallback
from rewardgym.agents.config import PPOConfig, load_config
from rewardgym.agents.env_ids import resolve_env_id
from rewardgym.agents.multi_agent import (
    check_parallel_run,
    is_parallel_env_id,
    make_parallel_sb3_vec_env,
)
from rewardgym.agents.preflight import check_run, import_wrappers
from rewardgym.agents.sac_config import SACConfig
from rewardgym.agents.sb3_adapter import make_sb3_vec_env
from rewardgym.agents.smoke import SMOKE_EVAL_EPISODES, SMOKE_TIMESTEPS, smoke_mode, smoke_note

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

_MISSING = object()


class ShapingGammaError(ValueError):
    """A potential-shaping wrapper's gamma differs from the learner's."""


class ActionMaskError(ValueError):
    """A maskable algorithm or evaluation needs action masks that the env does not provide."""


def uses_action_masks(model: BaseAlgorithm | type[BaseAlgorithm]) -> bool:
    """Whether an algorithm (class or instance) takes action masks in ``predict``.

    Read from the signature rather than an ``isinstance`` check, so every sb3-contrib maskable
    algorithm (and a duck-typed stand-in) qualifies.
    """
    try:
        return "action_masks" in inspect.signature(model.predict).parameters
    except (TypeError, ValueError):
        return False


def _require_masks(env: VecEnv, who: str) -> None:
    if not is_masking_supported(env):
        raise ActionMaskError(
            f"{who} needs action masks, but the env has no `action_masks()` method: define "
            "`action_masks() -> np.ndarray[bool]` of shape (n_actions,) on the env (reachable "
            "through its wrappers), or `action_masks() -> (num_envs, n_actions)` on a native "
            "vector env; or train with --algo ppo"
        )


# ---------------------------------------------------------------------------- shaping-gamma guard


def _chain(env: Any) -> list[Any]:
    """Every object in ``env``'s wrapper chain, outermost first.

    Follows SB3 ``VecEnvWrapper.venv``, the adapter's ``vector_env``, Gymnasium ``Wrapper.env`` and
    ``VectorWrapper.env``, and the first sub-env of a sync/dummy vector env (its sub-envs are
    built alike). Async sub-envs live in other processes and are not inspected.
    """
    seen: set[int] = set()
    out: list[Any] = []
    while env is not None and id(env) not in seen:
        seen.add(id(env))
        out.append(env)
        nxt = None
        for name in ("venv", "vector_env", "env"):
            candidate = inspect.getattr_static(env, name, None)
            if candidate is not None and not isinstance(candidate, property):
                nxt = candidate
                break
        if nxt is None:
            subs = inspect.getattr_static(env, "envs", None)
            if isinstance(subs, list | tuple) and subs:
                nxt = subs[0]
        env = nxt
    return out


def check_shaping_gamma(env: Any, algo_gamma: float, allow_mismatch: bool = False) -> float | None:
    """Refuse to train when a potential-shaping wrapper's gamma differs from the learner's.

    Shaping wrappers expose their discount as an attribute ``shaping_gamma``; every wrapper in the
    chain of ``env`` (an SB3 ``VecEnv``, a Gymnasium ``VectorEnv`` or ``Env``) is checked.

    Args:
        env: The env the algorithm will train on.
        algo_gamma: The algorithm's discount factor.
        allow_mismatch: Warn instead of raising (to study a mismatch on purpose).

    Returns:
        The shaping gamma found (the outermost one), or None when no wrapper shapes.

    Raises:
        ShapingGammaError: (a ``ValueError``) A wrapper's ``shaping_gamma`` differs from
            ``algo_gamma`` and ``allow_mismatch`` is False.
    """
    found: float | None = None
    for obj in _chain(env):
        raw = inspect.getattr_static(obj, "shaping_gamma", _MISSING)
        if raw is _MISSING:
            continue
        gamma = float(getattr(obj, "shaping_gamma"))  # resolves properties  # noqa: B009
        if found is None:
            found = gamma
        if not math.isclose(gamma, algo_gamma, rel_tol=0.0, abs_tol=1e-12):
            message = (
                f"{type(obj).__name__}.shaping_gamma={gamma} differs from the algorithm's "
                f"gamma={algo_gamma}: potential-based shaping preserves the optimal policy only "
                "when both are equal (Ng et al., 1999). Set them equal (e.g. --set gamma="
                f"{gamma}) or pass allow_gamma_mismatch=True (--allow-gamma-mismatch) to study "
                "the mismatch on purpose"
            )
            if not allow_mismatch:
                raise ShapingGammaError(message)
            warnings.warn(message, stacklevel=2)
    return found


# ---------------------------------------------------------------------------- checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """The files of one checkpoint (RNG and VecNormalize files may be absent)."""

    num_timesteps: int
    model: Path
    rng: Path
    vecnormalize: Path


def _checkpoint_files(directory: Path, prefix: str, steps: int) -> Checkpoint:
    return Checkpoint(
        num_timesteps=steps,
        model=directory / f"{prefix}_{steps}_steps.zip",
        rng=directory / f"{prefix}_rng_{steps}_steps.pkl",
        vecnormalize=directory / f"{prefix}_vecnormalize_{steps}_steps.pkl",
    )


def latest_checkpoint(directory: str | Path, prefix: str = "ppo") -> Checkpoint | None:
    """The checkpoint with the most timesteps in ``directory`` (None if there is none)."""
    pattern = re.compile(rf"^{re.escape(prefix)}_(\d+)_steps\.zip$")
    directory = Path(directory)
    steps = [
        int(m[1]) for p in directory.glob(f"{prefix}_*_steps.zip") if (m := pattern.match(p.name))
    ]
    return _checkpoint_files(directory, prefix, max(steps)) if steps else None


def _rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        # SB3 draws from numpy's global RNG (e.g. minibatch permutations): save that one.
        "numpy": np.random.get_state(),  # noqa: NPY002
        "random": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["random"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _save_checkpoint(model: BaseAlgorithm, directory: Path, prefix: str) -> Checkpoint:
    """Save model, RNG states and VecNormalize statistics under CheckpointCallback's names."""
    directory.mkdir(parents=True, exist_ok=True)
    files = _checkpoint_files(directory, prefix, model.num_timesteps)
    model.save(files.model)
    with files.rng.open("wb") as stream:
        pickle.dump(_rng_state(), stream)
    vecnormalize = model.get_vec_normalize_env()
    if vecnormalize is not None:
        vecnormalize.save(str(files.vecnormalize))
    return files


class _CheckpointWithRng(CheckpointCallback):
    """SB3's CheckpointCallback that also saves the RNG states next to each model."""

    def _on_step(self) -> bool:
        if self.n_calls % self.save_freq == 0:
            with open(self._checkpoint_path("rng_", extension="pkl"), "wb") as stream:
                pickle.dump(_rng_state(), stream)
        return super()._on_step()


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """Numbers and paths of one :func:`train` call.

    Attributes:
        env_id: The env trained on.
        algo: The algorithm name.
        num_timesteps: Env steps the model has been trained for in total.
        resumed_from: Timesteps of the checkpoint the run resumed from (None: fresh run).
        train_timesteps: Env steps trained in this call.
        train_time_s: Wall time of ``learn`` in this call.
        steps_per_second: ``train_timesteps / train_time_s`` (rollouts and updates).
        eval_episodes: Episodes in the final deterministic evaluation.
        success_rate: Fraction of evaluation episodes with ``info["is_success"]`` (None when the
            env does not report it).
        mean_return: Mean evaluation return (the env's reward, as the agent saw it).
        std_return: Its standard deviation.
        mean_length: Mean evaluation episode length.
        wall_time_s: Wall time of the whole call.
        log_dir: The run directory.
        model_path: The final model.
        checkpoint_dir: The checkpoints' directory.
        tensorboard_dir: The TensorBoard log directory.

    Example:
        >>> from pathlib import Path
        >>> r = TrainResult(env_id="CartPole-v1", algo="ppo", num_timesteps=2048,
        ...     resumed_from=None, train_timesteps=2048, train_time_s=2.0,
        ...     steps_per_second=1024.0, eval_episodes=5, success_rate=None, mean_return=20.0,
        ...     std_return=3.0, mean_length=20.0, wall_time_s=3.0, log_dir=Path("runs/x"),
        ...     model_path=Path("runs/x/model.zip"), checkpoint_dir=Path("runs/x/checkpoints"),
        ...     tensorboard_dir=Path("runs/x/tb"))
        >>> r.table().row_count
        8
    """

    env_id: str
    algo: str
    num_timesteps: int
    resumed_from: int | None
    train_timesteps: int
    train_time_s: float
    steps_per_second: float
    eval_episodes: int
    success_rate: float | None
    mean_return: float
    std_return: float
    mean_length: float
    wall_time_s: float
    log_dir: Path
    model_path: Path
    checkpoint_dir: Path
    tensorboard_dir: Path

    def table(self) -> Table:
        """A rich table of the evaluation and training numbers."""
        table = Table(title=f"{self.algo.upper()} on {self.env_id}")
        table.add_column("metric")
        table.add_column("value", justify="right")
        success = "n/a" if self.success_rate is None else f"{self.success_rate:.3f}"
        table.add_row(f"success rate ({self.eval_episodes} episodes)", success)
        table.add_row("mean return", f"{self.mean_return:.3f} ± {self.std_return:.3f}")
        table.add_row("mean episode length", f"{self.mean_length:.1f}")
        table.add_row("timesteps (total)", f"{self.num_timesteps:,}")
        resumed = "-" if self.resumed_from is None else f"{self.resumed_from:,}"
        table.add_row("resumed from", resumed)
        table.add_row("train env steps/s", f"{self.steps_per_second:,.0f}")
        table.add_row("wall time", f"{self.wall_time_s:.1f} s")
        table.add_row("run directory", str(self.log_dir))
        return table

    def to_json(self) -> dict[str, Any]:
        """JSON-serialisable form (paths as strings)."""
        return {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}


# ---------------------------------------------------------------------------- evaluation


def evaluate(
    model: BaseAlgorithm,
    env: VecEnv,
    n_episodes: int,
    *,
    use_masks: bool | None = None,
) -> dict[str, Any]:
    """Run ``model`` deterministically for ``n_episodes`` episodes on ``env``.

    Each env contributes a fixed share of the episodes (as SB3's ``evaluate_policy`` does), which
    avoids over-sampling short episodes when many envs run in parallel. Returns and lengths come
    from ``info["episode"]`` (Gymnasium's ``RecordEpisodeStatistics``, which ``make_sb3_vec_env``
    adds); success from ``info["is_success"]`` when the env reports it.

    A maskable model (one whose ``predict`` takes ``action_masks``, e.g. ``MaskablePPO``) gets the
    env's current masks at every step, as in training; without them it could pick invalid actions
    and its evaluation would not measure the policy it was trained as.

    Args:
        model: The trained model.
        env: A freshly built SB3 VecEnv (seeded beforehand if wanted).
        n_episodes: Episodes to run; must be >= 1.
        use_masks: Pass ``action_masks=`` to ``model.predict``. None: when the model takes
            them; True: always (the model must take them); False: never (to see what the
            policy does without masks).

    Returns:
        ``{"returns", "lengths", "successes"}`` lists (``successes`` empty when not reported).

    Raises:
        ValueError: ``n_episodes`` < 1.
        ActionMaskError: (a ``ValueError``) masks are to be used but the env has none.
    """
    if n_episodes < 1:
        raise ValueError(f"evaluate: n_episodes must be >= 1, got {n_episodes!r}")
    if use_masks is None:
        use_masks = uses_action_masks(model)
    if use_masks:
        _require_masks(env, f"evaluate ({type(model).__name__})")
    predict_kwargs: dict[str, Any] = {}
    n = env.num_envs
    targets = np.array([(n_episodes + i) // n for i in range(n)])
    counts = np.zeros(n, dtype=int)
    returns: list[float] = []
    lengths: list[int] = []
    successes: list[bool] = []
    obs = env.reset()
    while (counts < targets).any():
        if use_masks:
            # After env.step, so the masks belong to the new (possibly auto-reset) states.
            predict_kwargs["action_masks"] = get_action_masks(env)
        actions, _ = model.predict(obs, deterministic=True, **predict_kwargs)
        obs, _, dones, infos = env.step(actions)
        for i in np.flatnonzero(dones):
            if counts[i] >= targets[i]:
                continue
            counts[i] += 1
            episode = infos[i].get("episode")
            if episode is None and infos[i].get("black_death"):
                continue  # a finished agent's padding step (agents/multi_agent.py), no episode
            if episode is None:
                raise RuntimeError(
                    "evaluate: finished episodes carry no info['episode']; wrap the vector env in "
                    "gymnasium.wrappers.vector.RecordEpisodeStatistics (make_sb3_vec_env does)"
                )
            returns.append(float(episode["r"]))
            lengths.append(int(episode["l"]))
            if "is_success" in infos[i]:
                successes.append(bool(infos[i]["is_success"]))
    return {"returns": returns, "lengths": lengths, "successes": successes}


# ---------------------------------------------------------------------------- training


def _plain(value: Any) -> Any:
    """YAML-safe copy of ``value``: objects such as ``torch.nn.ReLU`` become their repr."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _shaping_wrappers(config: PPOConfig) -> list[Any]:
    """The potential-shaping vector wrapper a config asks for (none when unshaped)."""
    if config.shaping_potential is None:
        return []
    from rewardgym.wrappers.potential import PotentialShapingVector

    return [functools.partial(PotentialShapingVector, potential=config.shaping_potential,
                              gamma=config.gamma, scale=config.shaping_scale)]


def _algo_kwargs(config: PPOConfig | SACConfig) -> dict[str, Any]:
    """The SB3 constructor arguments of a config (SAC and the PPO family differ)."""
    return config.sac_kwargs() if isinstance(config, SACConfig) else config.ppo_kwargs()


def _env_seed(seed: int | None, num_timesteps: int) -> int | None:
    """Env seed for a run starting at ``num_timesteps``: ``seed`` for a fresh run, else derived."""
    if seed is None or num_timesteps == 0:
        return seed
    return int(np.random.SeedSequence([seed, num_timesteps]).generate_state(1)[0])


def train(
    env_id: str,
    algo: str = "ppo",
    config: PPOConfig | None = None,
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
    log_dir = Path(log_dir)
    checkpoint_dir = log_dir / "checkpoints"
    tensorboard_dir = log_dir / "tb"
    latest = latest_checkpoint(checkpoint_dir, algo)
    if latest is not None and not resume:
        raise FileExistsError(
            f"train: {checkpoint_dir} already has checkpoints (newest at {latest.num_timesteps} "
            "steps); pass resume=True (--resume) to continue it, or choose another log_dir"
        )
    if resume and latest is None:
        raise FileNotFoundError(f"train: resume=True but {checkpoint_dir} has no checkpoint")
    log_dir.mkdir(parents=True, exist_ok=True)
    (log_dir / "config.yml").write_text(yaml.safe_dump(_plain(config.to_dict()), sort_keys=False))

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.torch_threads)
    env: VecEnv | None = None
    try:
        env = _make_env(env_id, config)
        check_shaping_gamma(env, config.gamma, allow_gamma_mismatch)
        algo_cls = ALGORITHMS[algo]
        if uses_action_masks(algo_cls):
            # MaskablePPO would only fail inside learn(), after the model and logs exist.
            _require_masks(env, f"train: algo {algo!r}")
        if latest is None:
            model, env = _new_model(algo_cls, config, env, tensorboard_dir)
            resumed_from = None  # <Algo>(seed=...) seeded torch, numpy and the envs
        else:
            model, env = _resumed_model(algo_cls, config, env, latest, tensorboard_dir)
            resumed_from = model.num_timesteps

        steps_before = model.num_timesteps
        learn_start = time.perf_counter()
        _learn(model, algo, config, log_dir, checkpoint_dir, checkpoint_freq, fresh=latest is None,
               progress_bar=progress_bar, callbacks=callbacks)
        train_time = time.perf_counter() - learn_start
        train_steps = model.num_timesteps - steps_before
        _save_checkpoint(model, checkpoint_dir, algo)
        model_path = log_dir / "model.zip"
        model.save(model_path)

        stats = _evaluate_fresh(model, env_id, config, eval_episodes, env)
    finally:
        torch.set_num_threads(previous_threads)
        if env is not None:
            env.close()

    returns = np.asarray(stats["returns"], dtype=np.float64)
    result = TrainResult(
        env_id=env_id,
        algo=algo,
        num_timesteps=int(model.num_timesteps),
        resumed_from=resumed_from,
        train_timesteps=int(train_steps),
        train_time_s=train_time,
        steps_per_second=train_steps / train_time if train_time > 0 else 0.0,
        eval_episodes=len(returns),
        success_rate=float(np.mean(stats["successes"])) if stats["successes"] else None,
        mean_return=float(returns.mean()),
        std_return=float(returns.std()),
        mean_length=float(np.mean(stats["lengths"])),
        wall_time_s=time.perf_counter() - start,
        log_dir=log_dir,
        model_path=model_path,
        checkpoint_dir=checkpoint_dir,
        tensorboard_dir=tensorboard_dir,
    )
    (log_dir / "result.json").write_text(json.dumps(result.to_json(), indent=2) + "\n")
    if verbose >= 1:
        from rewardgym.agents.console import make_console

        make_console().print(result.table())
    return result


def _smoke_budget(config: PPOConfig | SACConfig,
                  eval_episodes: int) -> tuple[PPOConfig | SACConfig, int]:
    """``REWARDGYM_SMOKE=1``: at most SMOKE_TIMESTEPS steps and SMOKE_EVAL_EPISODES episodes."""
    steps = min(config.total_timesteps, SMOKE_TIMESTEPS)
    if isinstance(config, SACConfig):  # gradient steps cost ~20 ms each: a few hundred only
        steps = min(config.total_timesteps, config.learning_starts + 512)
    episodes = min(eval_episodes, SMOKE_EVAL_EPISODES)
    smoke_note(f"training capped at {steps:,} env steps, {episodes} evaluation episodes")
    return dataclasses.replace(config, total_timesteps=steps), episodes


def _make_env(env_id: str, config: PPOConfig | SACConfig, n_envs: int | None = None,
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


def _new_model(algo_cls: type[BaseAlgorithm], config: PPOConfig | SACConfig, env: VecEnv,
               tensorboard_dir: Path) -> tuple[BaseAlgorithm, VecEnv]:
    """A fresh model (and the env it trains on, under VecNormalize when the config asks)."""
    if config.normalize:
        env = VecNormalize(env, gamma=config.gamma)
    model = algo_cls(
        resolve_policy(config.policy),
        env,
        tensorboard_log=str(tensorboard_dir),
        verbose=0,
        **_algo_kwargs(config),
    )
    return model, env


def _resumed_model(algo_cls: type[BaseAlgorithm], config: PPOConfig | SACConfig, env: VecEnv,
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


def _learn(model: BaseAlgorithm, algo: str, config: PPOConfig | SACConfig, log_dir: Path,
           checkpoint_dir: Path, checkpoint_freq: int, *, fresh: bool, progress_bar: bool,
           callbacks: Sequence[BaseCallback]) -> None:
    """Train up to ``config.total_timesteps`` with checkpoints and reward-term logging."""
    remaining = config.total_timesteps - model.num_timesteps
    if remaining <= 0:
        return
    callback = CallbackList([
        _CheckpointWithRng(
            save_freq=max(checkpoint_freq // config.n_envs, 1),
            save_path=str(checkpoint_dir),
            name_prefix=algo,
            save_vecnormalize=config.normalize,
        ),
        RewardTermsCallback(log_dir),
        *callbacks_for(config, log_dir),  # adaptive replay ratio (SAC config)
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
    config: PPOConfig,
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
