"""SAC hyper-parameters: a frozen dataclass loaded from ``configs/sac.yml`` like ``PPOConfig``.

Soft Actor-Critic (Haarnoja et al., ICML 2018) is the off-policy learner Text2Reward used for its
MuJoCo locomotion behaviours; SB3's ``SAC`` takes these fields by name. The fields SAC shares
with :class:`~rewardgym.agents.PPOConfig` (envs, seeds, threads, shaping, normalisation) mean the
same, so ``rewardgym.agents.train`` runs both on one code path.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any

from rewardgym.agents.config import ConfigError, _policy_kwargs, check_run_fields


def _fail(name: str, expected: str, got: object) -> None:
    raise ConfigError(f"SACConfig.{name}: expected {expected}, got {got!r}")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True, kw_only=True)
class SACConfig:
    """Hyper-parameters of an SB3 SAC run (field names follow SB3's ``SAC`` arguments).

    Attributes:
        n_envs: Parallel envs (one vector env); SAC takes one gradient phase per env step.
        learning_rate: Adam step size of actor, critics and entropy coefficient.
        buffer_size: Replay buffer capacity (transitions).
        learning_starts: Transitions collected with random actions before learning.
        batch_size: Minibatch size.
        tau: Polyak coefficient of the target critics.
        gamma: Discount factor (must match any potential-shaping wrapper's gamma).
        train_freq: Env steps (per env) between gradient phases.
        gradient_steps: Gradient steps per phase.
        ent_coef: ``"auto"`` (learned, SB3's default), ``"auto_<x>"`` (learned from ``x``) or a
            fixed positive number.
        total_timesteps: Env steps to train for (summed over envs).
        policy: SB3 policy name.
        policy_kwargs: Keyword arguments of the policy, e.g. ``{"net_arch": [256, 256]}``.
        env_kwargs: Keyword arguments of the env constructor, e.g. ``{"reward_mode": "sparse"}``.
        normalize: Wrap the env in SB3's ``VecNormalize``.
        vectorization_mode: Force ``gym.make_vec``'s mode; None picks the native vector env.
        seed: Seed of torch, numpy and the envs; None for a random run.
        torch_threads: ``torch.set_num_threads`` during training.
        device: Torch device.
        shaping_potential: Name of a built-in potential to shape the training reward with
            (``rewardgym.wrappers.BUILTIN_POTENTIALS``), or None.
        shaping_scale: Multiplies the shaping term.
        env_wrappers: ``"module:Wrapper"`` import paths applied to every sub-env (sync/async
            vector envs only), as in ``PPOConfig``.

    Example:
        >>> from rewardgym.agents.sac_config import SACConfig
        >>> cfg = SACConfig(batch_size=128, ent_coef="auto_0.1")
        >>> cfg.sac_kwargs()["ent_coef"], cfg.sac_kwargs()["batch_size"]
        ('auto_0.1', 128)
        >>> try:
        ...     SACConfig(tau=2.0)
        ... except ValueError as err:
        ...     print(err)
        SACConfig.tau: expected a number in (0, 1], got 2.0
    """

    n_envs: int = 1
    learning_rate: float = 3e-4
    buffer_size: int = 1_000_000
    learning_starts: int = 10_000
    batch_size: int = 256
    tau: float = 0.005
    gamma: float = 0.99
    train_freq: int = 1
    gradient_steps: int = 1
    ent_coef: float | str = "auto"
    total_timesteps: int = 100_000
    policy: str = "MlpPolicy"
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    normalize: bool = False
    vectorization_mode: str | None = None
    seed: int | None = 0
    torch_threads: int = 1
    device: str = "cpu"
    shaping_potential: str | None = None
    shaping_scale: float = 1.0
    env_wrappers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("n_envs", "buffer_size", "batch_size", "train_freq", "gradient_steps",
                     "total_timesteps", "torch_threads"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _fail(name, "an int >= 1", value)
        if isinstance(self.learning_starts, bool) or not isinstance(self.learning_starts, int) \
                or self.learning_starts < 0:
            _fail("learning_starts", "an int >= 0", self.learning_starts)
        if not _is_number(self.learning_rate) or not self.learning_rate > 0:
            _fail("learning_rate", "a positive number", self.learning_rate)
        for name in ("tau", "gamma"):
            value = getattr(self, name)
            if not _is_number(value) or not 0 < value <= 1:
                _fail(name, "a number in (0, 1]", value)
        coef = self.ent_coef
        if isinstance(coef, str):
            if not re.fullmatch(r"auto(_[0-9.eE+-]+)?", coef):
                _fail("ent_coef", "'auto', 'auto_<number>' or a positive number", coef)
        elif not _is_number(coef) or not coef > 0:
            _fail("ent_coef", "'auto', 'auto_<number>' or a positive number", coef)
        check_run_fields("SACConfig", self)

    def sac_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``stable_baselines3.SAC``."""
        return {
            "learning_rate": float(self.learning_rate),
            "buffer_size": self.buffer_size,
            "learning_starts": self.learning_starts,
            "batch_size": self.batch_size,
            "tau": float(self.tau),
            "gamma": float(self.gamma),
            "train_freq": self.train_freq,
            "gradient_steps": self.gradient_steps,
            "ent_coef": self.ent_coef,
            "policy_kwargs": _policy_kwargs(self.policy_kwargs),
            "seed": self.seed,
            "device": self.device,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (YAML/JSON-serialisable when the dict fields are)."""
        return dataclasses.asdict(self)
