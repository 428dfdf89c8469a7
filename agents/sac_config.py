"""SAC hyper-parameters: a frozen dataclass loaded from ``configs/sac.yml`` like ``PPOConfig``.

Soft Actor-Critic (Haarnoja et al., ICML 2018) is the off-policy learner Text2Reward used for its
MuJoCo locomotion behaviours; SB3's ``SAC`` takes these fields by name. The fields SAC shares
with :class:`~rewardgym.agents.PPOConfig` (envs, seeds, threads, shaping, normalisation) mean the
same, so ``rewardgym.agents.train`` runs both on one code path.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rewardgym.agents.run_config import (
    ConfigSection,
    RunConfig,
    check_bool,
    check_int,
    check_number,
    fail,
    is_number,
)

__all__ = ["AdaptiveRRConfig", "SACConfig", "check_probe_settings", "check_switch_settings"]


def check_probe_settings(where: str, *, probe_interval: Any, probe_batch_size: Any,
                         dormant_tau: Any, probe_batches: Any = 1) -> None:
    """Validate a plasticity monitor's probe settings; errors start with ``<where>.<name>``.

    The one check of both :class:`AdaptiveRRConfig` and
    :class:`~rewardgym.agents.adaptive_rr.PlasticityMonitor`.
    """
    for name, value in (("probe_interval", probe_interval), ("probe_batches", probe_batches),
                        ("probe_batch_size", probe_batch_size)):
        check_int(f"{where}.{name}", value, 1)
    if not is_number(dormant_tau) or dormant_tau < 0:
        fail(f"{where}.dormant_tau", "a number >= 0", dormant_tau)


def check_switch_settings(where: str, *, low: Any, high: Any, check_interval: Any,
                          probe_interval: int, window: Any, fau_gap: Any) -> None:
    """Validate the adaptive replay ratio's switch settings (``probe_interval`` already valid).

    The one check of both :class:`AdaptiveRRConfig` and
    :class:`~rewardgym.agents.adaptive_rr.AdaptiveReplayRatio`.

    Example:
        >>> try:
        ...     check_switch_settings("AdaptiveReplayRatio", low=0.5, high=2, check_interval=150,
        ...                           probe_interval=100, window=1, fau_gap=1e-3)
        ... except ValueError as err:
        ...     print(err)
        AdaptiveReplayRatio.check_interval: expected a multiple of probe_interval (100), got 150
    """
    for name, value in (("low", low), ("high", high)):
        if not is_number(value) or not value > 0:
            fail(f"{where}.{name}", "a positive number", value)
    if not high > low:
        fail(f"{where}.high", f"a number > low ({low})", high)
    check_int(f"{where}.check_interval", check_interval, 1)
    check_int(f"{where}.window", window, 1)
    if check_interval % probe_interval:
        fail(f"{where}.check_interval", f"a multiple of probe_interval ({probe_interval})",
             check_interval)
    if window > check_interval // probe_interval:
        fail(f"{where}.window", "an int <= check_interval / probe_interval "
             f"({check_interval // probe_interval})", window)
    if not is_number(fau_gap) or fau_gap < 0:
        fail(f"{where}.fau_gap", "a number >= 0", fau_gap)


@dataclass(frozen=True, kw_only=True)
class AdaptiveRRConfig(ConfigSection):
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

    prefix: ClassVar[str] = "SACConfig.adaptive_rr"

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
        for flag in ("enabled", "report"):
            check_bool(f"{self.prefix}.{flag}", getattr(self, flag))
        check_probe_settings(self.prefix, probe_interval=self.probe_interval,
                             probe_batch_size=self.probe_batch_size, dormant_tau=self.dormant_tau)
        check_switch_settings(self.prefix, low=self.low, high=self.high,
                              check_interval=self.check_interval,
                              probe_interval=self.probe_interval, window=self.window,
                              fau_gap=self.fau_gap)

    def callback_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``AdaptiveReplayRatio`` (all fields but ``enabled``)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "enabled"}


@dataclass(frozen=True, kw_only=True)
class SACConfig(RunConfig):
    """Hyper-parameters of an SB3 SAC run (field names follow SB3's ``SAC`` arguments).

    The fields every run has (envs, seed, policy, device, shaping, ...) are
    :class:`~rewardgym.agents.run_config.RunConfig`'s; SAC adds these.

    Attributes:
        n_envs: Parallel envs (one vector env; 1 by default); SAC takes one gradient phase per
            env step.
        learning_rate: Adam step size of actor, critics and entropy coefficient.
        buffer_size: Replay buffer capacity (transitions).
        learning_starts: Transitions collected with random actions before learning.
        tau: Polyak coefficient of the target critics.
        train_freq: Env steps (per env) between gradient phases.
        gradient_steps: Gradient steps per phase.
        ent_coef: ``"auto"`` (learned, SB3's default), ``"auto_<x>"`` (learned from ``x``) or a
            fixed positive number.
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
    tau: float = 0.005
    train_freq: int = 1
    gradient_steps: int = 1
    ent_coef: float | str = "auto"
    adaptive_rr: AdaptiveRRConfig = field(default_factory=AdaptiveRRConfig)

    def __post_init__(self) -> None:
        super().__post_init__()
        where = self.where
        for name in ("buffer_size", "train_freq", "gradient_steps"):
            check_int(where(name), getattr(self, name), 1)
        check_int(where("learning_starts"), self.learning_starts, 0)
        if not is_number(self.learning_rate) or not self.learning_rate > 0:
            fail(where("learning_rate"), "a positive number", self.learning_rate)
        check_number(where("tau"), self.tau, 0.0, 1.0, low_open=True)
        coef = self.ent_coef
        if isinstance(coef, str):
            valid = re.fullmatch(r"auto(_[0-9.eE+-]+)?", coef) is not None
        else:
            valid = is_number(coef) and coef > 0
        if not valid:
            fail(where("ent_coef"), "'auto', 'auto_<number>' or a positive number", coef)

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
            "policy_kwargs": self.policy_kwargs_resolved(),
            "seed": self.seed,
            "device": self.device,
        }

    def algo_kwargs(self) -> dict[str, Any]:
        """The SB3 constructor's keyword arguments (:meth:`sac_kwargs`)."""
        return self.sac_kwargs()
