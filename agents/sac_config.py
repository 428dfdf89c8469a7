"""SAC hyper-parameters: a frozen dataclass loaded from ``configs/sac.yml`` like ``PPOConfig``.

Soft Actor-Critic (Haarnoja et al., ICML 2018) is the off-policy learner Text2Reward used for its
MuJoCo locomotion behaviours; SB3's ``SAC`` takes these fields by name. The fields SAC shares
with :class:`~rewardgym.agents.PPOConfig` (envs, seeds, threads, shaping, normalisation) mean the
same, so ``rewardgym.agents.train`` runs both on one code path.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rewardgym.agents.config import ConfigError, _policy_kwargs, check_run_fields


def _fail(name: str, expected: str, got: object) -> None:
    raise ConfigError(f"SACConfig.{name}: expected {expected}, got {got!r}")


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True, kw_only=True)
class AdaptiveRRConfig:
    """Settings of the adaptive replay ratio (``SACConfig.adaptive_rr``; Ma et al., ICLR 2024).

    With ``enabled``, training starts at replay ratio ``low`` (gradient steps per env step, over
    all envs) and switches once, for good, to ``high`` when the critic's FAU has stopped changing
    (``rewardgym.agents.adaptive_rr``); ``SACConfig.train_freq`` and ``gradient_steps`` are then
    ignored. Set from the command line as ``--set adaptive_rr.enabled=true``.

    Attributes:
        enabled: Use :class:`~rewardgym.agents.adaptive_rr.AdaptiveReplayRatio`.
        low: Replay ratio before the switch (the paper's 0.5).
        high: Replay ratio after the switch (the paper's 2).
        check_interval: Env steps between switch checks (a multiple of ``probe_interval``).
        probe_interval: Env steps between FAU probes.
        window: Probes averaged per check (at most ``check_interval / probe_interval``).
        fau_gap: Switch when the window mean moved by at most this since the last check (the
            paper's ``Phi_gap``).
        probe_batch_size: Replay transitions per probe.
        dormant_tau: τ of the logged τ-dormant ratio (Sokar et al., 2023; not used to switch).
        report: Draw ``plasticity.png`` in the run directory at the end of training.

    Example:
        >>> from rewardgym.agents.sac_config import AdaptiveRRConfig, SACConfig
        >>> SACConfig(adaptive_rr={"enabled": True, "high": 4}).adaptive_rr.high
        4
        >>> try:
        ...     AdaptiveRRConfig(low=2.0, high=1.0)
        ... except ValueError as err:
        ...     print(err)
        SACConfig.adaptive_rr.high: expected a number > low (2.0), got 1.0
    """

    enabled: bool = False
    low: float = 0.5
    high: float = 2.0
    check_interval: int = 10_000
    probe_interval: int = 1_000
    window: int = 5
    fau_gap: float = 1e-3
    probe_batch_size: int = 512
    dormant_tau: float = 0.025
    report: bool = True

    def __post_init__(self) -> None:
        name = "adaptive_rr"
        for flag in ("enabled", "report"):
            if not isinstance(getattr(self, flag), bool):
                _fail(f"{name}.{flag}", "true or false", getattr(self, flag))
        for key in ("check_interval", "probe_interval", "window", "probe_batch_size"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                _fail(f"{name}.{key}", "an int >= 1", value)
        for key in ("low", "high"):
            value = getattr(self, key)
            if not _is_number(value) or not value > 0:
                _fail(f"{name}.{key}", "a positive number", value)
        if not self.high > self.low:
            _fail(f"{name}.high", f"a number > low ({self.low})", self.high)
        for key in ("fau_gap", "dormant_tau"):
            value = getattr(self, key)
            if not _is_number(value) or value < 0:
                _fail(f"{name}.{key}", "a number >= 0", value)
        if self.check_interval % self.probe_interval:
            _fail(f"{name}.check_interval",
                  f"a multiple of probe_interval ({self.probe_interval})", self.check_interval)
        if self.window > self.check_interval // self.probe_interval:
            _fail(f"{name}.window", f"an int <= check_interval / probe_interval "
                  f"({self.check_interval // self.probe_interval})", self.window)

    def callback_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``AdaptiveReplayRatio`` (all fields but ``enabled``)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "enabled"}


def _adaptive_rr(values: Mapping[str, Any]) -> AdaptiveRRConfig:
    """An :class:`AdaptiveRRConfig` from a mapping (YAML or dotted overrides)."""
    fields = {f.name: str(f.type) for f in dataclasses.fields(AdaptiveRRConfig)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        _fail(f"adaptive_rr.{unknown[0]}", f"one of the keys {list(fields)}", unknown[0])
    coerced = {}
    for key, value in values.items():
        # YAML 1.1 reads 1e-3 as a string; numbers-as-strings become numbers here.
        if isinstance(value, str) and fields[key] in ("float", "int"):
            with contextlib.suppress(ValueError):
                value = float(value)
        if fields[key] == "int" and isinstance(value, float) and value.is_integer():
            value = int(value)
        coerced[key] = value
    return AdaptiveRRConfig(**coerced)


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
        adaptive_rr: :class:`AdaptiveRRConfig` (a mapping of its fields in YAML).

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
    adaptive_rr: AdaptiveRRConfig = field(default_factory=AdaptiveRRConfig)

    def __post_init__(self) -> None:
        if isinstance(self.adaptive_rr, Mapping):
            object.__setattr__(self, "adaptive_rr", _adaptive_rr(self.adaptive_rr))
        elif not isinstance(self.adaptive_rr, AdaptiveRRConfig):
            _fail("adaptive_rr", "a mapping of AdaptiveRRConfig fields", self.adaptive_rr)
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
