"""Adaptive replay ratio for SB3 SAC/TD3 (Ma et al., ICLR 2024) and a plasticity monitor.

Ma et al. ("Revisiting Plasticity in Visual Reinforcement Learning", arXiv 2310.07418) found the
critic's plasticity loss early in training to be the bottleneck, and proposed **Adaptive RR**:
train at a low replay ratio (RR 0.5) until the critic's fraction of active units (FAU,
:mod:`rewardgym.agents.plasticity`) stops changing, then switch to a high one (RR 2), once and
for good. The rule, as in the authors' ``train_adapt_rr.py`` (github.com/Guozheng-Ma/
Adaptive-Replay-Ratio, lines 141-163) and ``drqv2_adapt_rr.py``:

* ``init`` = the critic FAU when learning starts (theirs: of the first critic update);
* every check, the FAU averaged over a window of measurements is compared with the previous
  check's average (with ``init`` at the first check); if ``|mean - previous| <= fau_gap`` and RR
  is still low, switch to the high RR permanently; then ``previous = mean``.

Theirs checks every 50 episodes and averages the FAU of every critic update of one episode;
here a check comes every ``check_interval`` env steps and averages the last ``window`` probes
(one probe every ``probe_interval`` env steps, each on ``probe_batches`` fresh replay batches of
``probe_batch_size``), because SB3 tasks have episodes of any length.

**Replay ratio** = gradient steps per env step, counted over all envs: in SB3,
``RR = gradient_steps / (train_freq * n_envs)``. A ratio is turned into the smallest integer
``(train_freq, gradient_steps)`` that gives it exactly (:func:`rr_setting`), e.g. RR 0.5 with
one env is ``(2, 1)``, with 3 envs ``(2, 3)``; RR 2 with one env is ``(1, 2)``. SB3's
``OffPolicyAlgorithm.learn`` reads ``model.train_freq`` before and ``model.gradient_steps`` after
each ``collect_rollouts``; the switch sets ``train_freq`` at once and ``gradient_steps`` at the
start of the next rollout, so every chunk of env steps is trained at the ratio it was collected
under.

**Resume**: the state (probe schedule, window, previous average, whether and when it switched)
is kept in the plain-dict attribute ``model.plasticity_state``, which SB3's ``save`` stores with
the model and ``load`` restores; a callback starting on a loaded model continues from it instead
of resetting the RR to low.

Each probe appends a row to ``<log_dir>/plasticity.csv`` (:data:`CSV_COLUMNS`) and records
``train/fau_critic``, ``train/fau_actor``, ``train/dormant_ratio_critic`` (Sokar et al.'s
τ-dormant ratio, a different metric), ``train/replay_ratio`` and, once switched,
``train/rr_switch_timestep`` in the SB3 logger (TensorBoard). At the end of training the
callback draws ``<log_dir>/plasticity.png`` (:func:`rewardgym.agents.plasticity_report.plot`).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.type_aliases import TrainFreq, TrainFrequencyUnit

from rewardgym.agents import plasticity
from rewardgym.agents.sac_config import check_probe_settings, check_switch_settings

__all__ = [
    "CSV_COLUMNS",
    "STATE_ATTR",
    "AdaptiveReplayRatio",
    "PlasticityMonitor",
    "SwitchRule",
    "callbacks_for",
    "rr_setting",
]

#: Attribute of the model that holds the monitor's state (saved and loaded with the model).
STATE_ATTR = "plasticity_state"
CSV_NAME = "plasticity.csv"
PNG_NAME = "plasticity.png"
CSV_COLUMNS = (
    "timesteps", "n_updates", "fau_critic", "fau_actor", "dormant_critic", "dormant_actor",
    "replay_ratio", "replay_ratio_measured", "train_freq", "gradient_steps", "episode_return",
    "success_rate", "window_mean", "switched",
)
_RECENT_EPISODES = 10  # episodes in the return and success columns


def rr_setting(ratio: float, n_envs: int, max_train_freq: int = 1000) -> tuple[int, int]:
    """The smallest ``(train_freq, gradient_steps)`` that gives replay ratio ``ratio`` exactly.

    That is ``gradient_steps / (train_freq * n_envs) == ratio``.

    Raises:
        ValueError: ``ratio`` is not positive, or no ``train_freq <= max_train_freq`` gives it.

    Example:
        >>> rr_setting(0.5, 1), rr_setting(2, 1), rr_setting(0.5, 3), rr_setting(0.25, 8)
        ((2, 1), (1, 2), (2, 3), (1, 2))
    """
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not math.isfinite(ratio) \
            or ratio <= 0:
        raise ValueError(f"rr_setting: ratio must be a positive number, got {ratio!r}")
    if isinstance(n_envs, bool) or not isinstance(n_envs, int) or n_envs < 1:
        raise ValueError(f"rr_setting: n_envs must be an int >= 1, got {n_envs!r}")
    per_step = Fraction(ratio).limit_denominator(max_train_freq) * n_envs
    if not math.isclose(float(per_step), ratio * n_envs, rel_tol=1e-9):
        raise ValueError(
            f"rr_setting: replay ratio {ratio} with {n_envs} envs needs train_freq > "
            f"{max_train_freq}; use a ratio with a small denominator (e.g. 0.25, 0.5, 2)"
        )
    return per_step.denominator, per_step.numerator


class SwitchRule:
    """Ma et al.'s one-way switch on the critic FAU, as a small state machine.

    ``start(fau)`` stores the initial FAU; each ``check(mean, timestep)`` compares the window mean
    with the previous one (the initial FAU at the first check) and returns True at the one check
    that switches. State round-trips through :meth:`state_dict` (plain JSON data).

    Example:
        >>> rule = SwitchRule(fau_gap=1e-3)
        >>> rule.start(0.6)
        >>> [rule.check(m, t) for t, m in enumerate([0.50, 0.45, 0.47, 0.4705, 0.40], 1)]
        [False, False, False, True, False]
        >>> rule.switched, rule.switch_timestep, rule.checks
        (True, 4, 5)
    """

    def __init__(self, fau_gap: float) -> None:
        if isinstance(fau_gap, bool) or not isinstance(fau_gap, int | float) or \
                not math.isfinite(fau_gap) or fau_gap < 0:
            raise ValueError(f"SwitchRule: fau_gap must be a number >= 0, got {fau_gap!r}")
        self.fau_gap = float(fau_gap)
        self.previous: float | None = None
        self.switched = False
        self.switch_timestep: int | None = None
        self.checks = 0

    def start(self, fau: float) -> None:
        """Store the FAU at the start of learning (the first check compares against it)."""
        self.previous = float(fau)

    def check(self, mean: float, timestep: int) -> bool:
        """One check; True only at the check that switches (never again afterwards)."""
        if self.previous is None:
            raise RuntimeError("SwitchRule.check before start()")
        self.checks += 1
        switch = not self.switched and abs(mean - self.previous) <= self.fau_gap
        if switch:
            self.switched = True
            self.switch_timestep = int(timestep)
        self.previous = float(mean)
        return switch

    def state_dict(self) -> dict[str, Any]:
        """Plain-data state."""
        return {"previous": self.previous, "switched": self.switched,
                "switch_timestep": self.switch_timestep, "checks": self.checks}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""
        self.previous = state["previous"]
        self.switched = bool(state["switched"])
        self.switch_timestep = state["switch_timestep"]
        self.checks = int(state["checks"])


class PlasticityMonitor(BaseCallback):
    """Probe critic/actor FAU and dormant ratios every ``probe_interval`` env steps (SAC, TD3).

    It changes nothing in training: probes run under ``no_grad`` on their own replay batches and
    leave numpy's and torch's global random states as they were. Probing starts at the first
    step after ``learning_starts``. Rows go to ``<log_dir>/plasticity.csv`` and, at the end of
    training, a figure to ``<log_dir>/plasticity.png`` (``report=True``).

    Args:
        probe_interval: Env steps (summed over envs) between probes.
        probe_batches: Replay batches per probe.
        probe_batch_size: Transitions per probe batch.
        dormant_tau: τ of the logged τ-dormant ratio (Sokar et al., 2023).
        log_dir: Directory of the CSV and PNG; None keeps the rows in memory only.
        report: Draw the PNG at the end of training (needs ``log_dir``).
        seed: Seed of the probes' batch sampling.
        verbose: SB3 verbosity.

    Example:
        >>> monitor = PlasticityMonitor(probe_interval=500, log_dir=None)
        >>> monitor.probe_interval, monitor.rows
        (500, [])
    """

    def __init__(self, probe_interval: int = 1_000, probe_batches: int = 1,
                 probe_batch_size: int = 512, dormant_tau: float = 0.025,
                 log_dir: str | Path | None = None, report: bool = True, seed: int = 0,
                 verbose: int = 0) -> None:
        super().__init__(verbose)
        check_probe_settings(type(self).__name__, probe_interval=probe_interval,
                             probe_batches=probe_batches, probe_batch_size=probe_batch_size,
                             dormant_tau=dormant_tau)
        self.probe_interval = probe_interval
        self.probe_batches = probe_batches
        self.probe_batch_size = probe_batch_size
        self.dormant_tau = float(dormant_tau)
        self.log_dir = None if log_dir is None else Path(log_dir)
        self.report = report
        self.seed = seed
        self.rows: list[dict[str, Any]] = []
        self._state: dict[str, Any] = {}

    # ------------------------------------------------------------------ state kept on the model

    def _fresh_state(self) -> dict[str, Any]:
        return {"next_probe": None, "probes": 0, "last_probe_t": None, "last_probe_updates": None,
                "rng_draws": 0}

    def _on_training_start(self) -> None:
        plasticity._critic(self.model)  # refuse models without an SB3 critic before training
        saved = getattr(self.model, STATE_ATTR, None)
        self._state = dict(saved) if isinstance(saved, Mapping) else self._fresh_state()
        setattr(self.model, STATE_ATTR, self._state)
        self._rng = np.random.default_rng([self.seed, int(self._state["rng_draws"])])
        self._n_envs = self.model.get_env().num_envs if self.model.get_env() else 1
        if self.log_dir is not None and not (self.log_dir / CSV_NAME).exists():
            # header first, so a run that ends before learning_starts still has a (blank) report
            self.log_dir.mkdir(parents=True, exist_ok=True)
            with (self.log_dir / CSV_NAME).open("w", newline="") as handle:
                csv.DictWriter(handle, fieldnames=CSV_COLUMNS).writeheader()

    # ------------------------------------------------------------------ probing

    def _measure(self) -> dict[str, float]:
        """Critic and actor FAU and dormant ratios on fresh replay batches."""
        self._state["rng_draws"] += 1
        batches = plasticity.sample_batches(self.model, self.probe_batches,
                                            self.probe_batch_size, self._rng)
        return plasticity.probe(self.model, batches, self.dormant_tau)

    def replay_ratio(self) -> float:
        """The model's current ``gradient_steps / (train_freq * n_envs)``."""
        return self.model.gradient_steps / (self.model.train_freq.frequency * self._n_envs)

    def _on_step(self) -> bool:
        t = self.num_timesteps
        if t <= self.model.learning_starts or self.model.replay_buffer.size() == 0:
            return True
        if self._state["next_probe"] is not None and t < self._state["next_probe"]:
            return True
        first = self._state["next_probe"] is None
        self._state["next_probe"] = t + self.probe_interval
        metrics = self._measure()
        self._state["probes"] += 1
        extra = self._after_probe(metrics, first)
        self._record(metrics, extra)
        return True

    def _after_probe(self, metrics: Mapping[str, float], first: bool) -> dict[str, Any]:
        """Hook for subclasses (the switch); returns extra CSV columns."""
        return {}

    def _record(self, metrics: Mapping[str, float], extra: Mapping[str, Any]) -> None:
        t, updates = self.num_timesteps, int(self.model._n_updates)
        measured = None
        if self._state["last_probe_t"] is not None and t > self._state["last_probe_t"]:
            measured = (updates - self._state["last_probe_updates"]) / (
                t - self._state["last_probe_t"])
        self._state["last_probe_t"], self._state["last_probe_updates"] = t, updates
        episodes = list(self.model.ep_info_buffer or ())[-_RECENT_EPISODES:]
        successes = list(self.model.ep_success_buffer or ())[-_RECENT_EPISODES:]
        row: dict[str, Any] = {
            "timesteps": t, "n_updates": updates, **metrics,
            "replay_ratio": self.replay_ratio(), "replay_ratio_measured": measured,
            "train_freq": self.model.train_freq.frequency,
            "gradient_steps": self.model.gradient_steps,
            "episode_return": float(np.mean([e["r"] for e in episodes])) if episodes else None,
            "success_rate": float(np.mean(successes)) if successes else None,
            "window_mean": None, "switched": None, **extra,
        }
        self.rows.append(row)
        for key in ("fau_critic", "fau_actor"):
            self.logger.record(f"train/{key}", metrics[key])
        self.logger.record("train/dormant_ratio_critic", metrics["dormant_critic"])
        self.logger.record("train/dormant_ratio_actor", metrics["dormant_actor"])
        self.logger.record("train/replay_ratio", row["replay_ratio"])
        if self.log_dir is not None:
            with (self.log_dir / CSV_NAME).open("a", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
                writer.writerow({k: "" if row.get(k) is None else row[k] for k in CSV_COLUMNS})

    def _on_training_end(self) -> None:
        if self.report and self.log_dir is not None and (self.log_dir / CSV_NAME).exists():
            from rewardgym.agents.plasticity_report import plot

            plot(self.log_dir, self.log_dir / PNG_NAME)


class AdaptiveReplayRatio(PlasticityMonitor):
    """Ma et al.'s adaptive replay ratio as an SB3 callback for SAC and TD3.

    Starts at replay ratio ``low`` (gradient steps per env step over all envs); the critic FAU is
    probed every ``probe_interval`` env steps after ``learning_starts``; every ``check_interval``
    env steps the mean of the last ``window`` probes is compared with the previous check's (the
    first probe's value at the first check), and when they differ by at most ``fau_gap`` the
    ratio switches to ``high`` for the rest of training (module docstring). It overrides the
    model's ``train_freq`` and ``gradient_steps``.

    Args:
        low: Replay ratio before the switch (the paper's 0.5).
        high: Replay ratio after it (the paper's 2).
        check_interval: Env steps between checks; a multiple of ``probe_interval``.
        window: Probes averaged per check, at most ``check_interval // probe_interval``.
        fau_gap: The switch threshold on ``|Δ mean FAU|`` (the paper's ``Phi_gap`` 0.001).
        **kwargs: :class:`PlasticityMonitor`'s arguments.

    Example:
        >>> cb = AdaptiveReplayRatio(low=0.5, high=2, check_interval=2000, probe_interval=500,
        ...                          window=2)
        >>> cb.probes_per_check, cb.rule.switched
        (4, False)
    """

    def __init__(self, low: float = 0.5, high: float = 2.0, check_interval: int = 10_000,
                 window: int = 5, fau_gap: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_switch_settings(type(self).__name__, low=low, high=high,
                              check_interval=check_interval, probe_interval=self.probe_interval,
                              window=window, fau_gap=fau_gap)
        self.low, self.high = float(low), float(high)
        self.check_interval = check_interval
        self.probes_per_check = check_interval // self.probe_interval
        self.window = window
        self.rule = SwitchRule(fau_gap)
        self._pending_gradient_steps: int | None = None

    @property
    def fau_gap(self) -> float:
        """The switch threshold."""
        return self.rule.fau_gap

    def _fresh_state(self) -> dict[str, Any]:
        return {**super()._fresh_state(), "recent": [], "rule": self.rule.state_dict()}

    def _on_training_start(self) -> None:
        super()._on_training_start()
        if "rule" not in self._state:  # a model monitored before, never adaptive
            self._state.update(recent=[], rule=self.rule.state_dict())
        self.rule.load_state_dict(self._state["rule"])
        freq = self.model.train_freq
        if freq.unit != TrainFrequencyUnit.STEP:
            raise ValueError(f"AdaptiveReplayRatio: needs train_freq in steps, got {freq!r}")
        self._apply(self.high if self.rule.switched else self.low, at_once=True)

    def _apply(self, ratio: float, *, at_once: bool) -> None:
        train_freq, gradient_steps = rr_setting(ratio, self._n_envs)
        self.model.train_freq = TrainFreq(train_freq, TrainFrequencyUnit.STEP)
        if at_once:
            self.model.gradient_steps = gradient_steps
        else:  # learn() trains the chunk now being collected after this rollout: keep its ratio
            self._pending_gradient_steps = gradient_steps

    def _on_rollout_start(self) -> None:
        if self._pending_gradient_steps is not None:
            self.model.gradient_steps = self._pending_gradient_steps
            self._pending_gradient_steps = None

    def replay_ratio(self) -> float:
        """The ratio of the current phase (``low`` before the switch, ``high`` after)."""
        ratio = self.high if self.rule.switched else self.low
        train_freq, gradient_steps = rr_setting(ratio, self._n_envs)
        return gradient_steps / (train_freq * self._n_envs)

    def _after_probe(self, metrics: Mapping[str, float], first: bool) -> dict[str, Any]:
        fau = float(metrics["fau_critic"])
        if first and self.rule.previous is None:
            self.rule.start(fau)
            self._state["rule"] = self.rule.state_dict()
            return {"switched": int(self.rule.switched)}
        recent = self._state["recent"]
        recent.append(fau)
        del recent[:-self.window]
        extra: dict[str, Any] = {"switched": int(self.rule.switched)}
        # probes counts the initial one: checks fall on probes 1 + k * probes_per_check
        if (self._state["probes"] - 1) % self.probes_per_check == 0:
            mean = float(np.mean(recent))
            extra["window_mean"] = mean
            self.logger.record("train/fau_critic_window", mean)
            if self.rule.check(mean, self.num_timesteps):
                self._apply(self.high, at_once=False)
                if self.verbose:
                    print(f"AdaptiveReplayRatio: FAU window mean {mean:.4f} within "
                          f"{self.fau_gap} of the previous check: replay ratio {self.low} -> "
                          f"{self.high} at {self.num_timesteps} env steps")
            extra["switched"] = int(self.rule.switched)
        self._state["rule"] = self.rule.state_dict()
        if self.rule.switched:
            self.logger.record("train/rr_switch_timestep", self.rule.switch_timestep)
        return extra


def callbacks_for(config: Any, log_dir: str | Path | None) -> list[BaseCallback]:
    """The callbacks a run config asks for (the hook :func:`rewardgym.agents.train` calls).

    ``[AdaptiveReplayRatio]`` when ``config.adaptive_rr.enabled``, else none.
    """
    settings = getattr(config, "adaptive_rr", None)
    if settings is None or not settings.enabled:
        return []
    return [AdaptiveReplayRatio(**settings.callback_kwargs(), log_dir=log_dir,
                                seed=0 if config.seed is None else config.seed)]
