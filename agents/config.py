"""Training hyper-parameters: frozen dataclasses loaded from RL-Zoo-style YAML files.

``agents/configs/<algo>.yml`` maps env ids to hyper-parameters, with a ``default`` entry for ids
that have none (RL Zoo's convention; YAML anchors share settings between entries). An entry only
lists what differs from the dataclass defaults. :func:`load_config` resolves

    dataclass defaults <- file entry for env_id (or ``default``) <- ``key=value`` overrides

and validates the result in ``__post_init__``, naming the field, the expected and the received
value. Overrides parse their value with ``yaml.safe_load`` (``n_envs=32``,
``policy_kwargs={net_arch: [64, 64]}``); a dotted key sets one entry of a dict field
(``env_kwargs.obs_mode=flat``) or of a nested section (``adaptive_rr.high=2``).

The classes: :class:`~rewardgym.agents.run_config.RunConfig` (the fields every run has, checked
once), :class:`PPOConfig` (PPO and MaskablePPO) and :class:`~rewardgym.agents.SACConfig` on it.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rewardgym.agents.run_config import (
    ACTIVATIONS,
    ConfigError,
    RunConfig,
    check_bool,
    check_int,
    check_number,
    coerce,
    schedule_start,
    section_fields,
)
from rewardgym.agents.sac_config import SACConfig

__all__ = ["ACTIVATIONS", "ALGO_CONFIGS", "ConfigError", "PPOConfig", "RunConfig", "SACConfig",
           "config_path", "load_config"]


@dataclass(frozen=True, kw_only=True)
class PPOConfig(RunConfig):
    """Hyper-parameters of an SB3 PPO run (field names follow SB3's ``PPO`` arguments).

    The fields every run has (envs, seed, policy, device, shaping, ...) are
    :class:`~rewardgym.agents.run_config.RunConfig`'s; PPO adds these.

    Attributes:
        n_envs: Parallel envs (one vector env); 8 by default.
        n_steps: Steps per env per rollout; a rollout has ``n_envs * n_steps`` transitions.
        batch_size: Minibatch size (at most ``n_envs * n_steps``).
        n_epochs: Passes over each rollout.
        learning_rate: Adam step size; ``"lin_<x>"`` decays linearly from ``x`` to 0.
        gae_lambda: GAE lambda.
        clip_range: PPO clip range; ``"lin_<x>"`` decays linearly from ``x`` to 0.
        clip_range_vf: Clip range of the value prediction around the rollout's value (SB3's
            ``clip_range_vf``; ``"lin_<x>"`` as above); None (default) leaves it unclipped.
        ent_coef: Entropy bonus coefficient.
        vf_coef: Value loss coefficient.
        max_grad_norm: Gradient clipping norm.
        normalize_advantage: Normalise advantages per minibatch.

    Example:
        >>> from rewardgym.agents import PPOConfig
        >>> cfg = PPOConfig(n_envs=8, n_steps=64, batch_size=256)
        >>> cfg.rollout_size
        512
        >>> try:
        ...     PPOConfig(gamma=1.5)
        ... except ValueError as err:
        ...     print(err)
        PPOConfig.gamma: expected a number in (0, 1], got 1.5
    """

    n_envs: int = 8
    n_steps: int = 128
    n_epochs: int = 4
    learning_rate: float | str = 3e-4
    gae_lambda: float = 0.95
    clip_range: float | str = 0.2
    clip_range_vf: float | str | None = None
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    normalize_advantage: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        where = self.where
        for name in ("n_steps", "n_epochs"):
            check_int(where(name), getattr(self, name), 1)
        if self.batch_size > self.rollout_size:
            raise ConfigError(
                f"{where('batch_size')}: expected <= n_envs * n_steps = {self.rollout_size}, "
                f"got {self.batch_size!r}"
            )
        for name in ("learning_rate", "clip_range"):
            schedule_start(where(name), getattr(self, name))
        if self.clip_range_vf is not None:
            schedule_start(where("clip_range_vf"), self.clip_range_vf)
        check_number(where("gae_lambda"), self.gae_lambda, 0.0, 1.0)
        check_number(where("ent_coef"), self.ent_coef, 0.0)
        check_number(where("vf_coef"), self.vf_coef, 0.0)
        check_number(where("max_grad_norm"), self.max_grad_norm, 0.0, low_open=True)
        check_bool(where("normalize_advantage"), self.normalize_advantage)

    @property
    def rollout_size(self) -> int:
        """Transitions per rollout, ``n_envs * n_steps``."""
        return self.n_envs * self.n_steps

    def ppo_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``stable_baselines3.PPO`` (schedules resolved to callables)."""
        return {
            "n_steps": self.n_steps,
            "batch_size": self.batch_size,
            "n_epochs": self.n_epochs,
            "learning_rate": _schedule(self.learning_rate),
            "gamma": self.gamma,
            "gae_lambda": self.gae_lambda,
            "clip_range": _schedule(self.clip_range),
            "clip_range_vf": (None if self.clip_range_vf is None
                              else _schedule(self.clip_range_vf)),
            "ent_coef": self.ent_coef,
            "vf_coef": self.vf_coef,
            "max_grad_norm": self.max_grad_norm,
            "normalize_advantage": self.normalize_advantage,
            "policy_kwargs": self.policy_kwargs_resolved(),
            "seed": self.seed,
            "device": self.device,
        }

    def algo_kwargs(self) -> dict[str, Any]:
        """The SB3 constructor's keyword arguments (:meth:`ppo_kwargs`)."""
        return self.ppo_kwargs()


def _schedule(value: float | str) -> Any:
    """A float, or SB3's linear schedule ``progress_remaining * start`` for ``"lin_<x>"``."""
    if isinstance(value, str):
        return _LinearSchedule(schedule_start("schedule", value))
    return float(value)


@dataclass(frozen=True)
class _LinearSchedule:
    """Picklable linear decay from ``start`` to 0 (SB3 calls it with progress_remaining 1 -> 0)."""

    start: float

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.start


#: Config class per algorithm name (the ``algo`` of :func:`load_config` and the CLI). sb3-contrib's
#: ``MaskablePPO`` takes exactly PPO's hyper-parameters (masks come from the env), so it shares
#: ``PPOConfig`` and its validation; only the shipped file differs (``configs/maskable_ppo.yml``).
ALGO_CONFIGS: dict[str, type[RunConfig]] = {"ppo": PPOConfig, "maskable_ppo": PPOConfig,
                                            "sac": SACConfig}


def config_path(algo: str = "ppo") -> Path:
    """The hyper-parameter file shipped for ``algo`` (``agents/configs/<algo>.yml``)."""
    _config_class(algo)
    return Path(str(resources.files("rewardgym.agents").joinpath("configs", f"{algo}.yml")))


def _config_class(algo: str) -> type[RunConfig]:
    try:
        return ALGO_CONFIGS[algo]
    except KeyError:
        raise ConfigError(f"algo: expected one of {sorted(ALGO_CONFIGS)}, got {algo!r}") from None


def _check_keys(cls: type[RunConfig], keys: Iterable[str], where: str) -> None:
    valid = [f.name for f in dataclasses.fields(cls)]
    for key in keys:
        if key not in valid:
            raise ConfigError(
                f"{where}: unknown key {key!r} for {cls.__name__}; valid keys: {', '.join(valid)}"
            )


def _entry_name(table: Mapping[str, Any], env_id: str) -> str:
    """The entry for ``env_id``: its own, else the first glob key matching it (``MiniGrid-*``)."""
    if env_id in table:
        return env_id
    for key in table:
        if isinstance(key, str) and "*" in key and fnmatch.fnmatchcase(env_id, key):
            return key
    return "default"


def _parse_override(item: str) -> tuple[str, Any]:
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"override: expected 'key=value', got {item!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError as exc:
        raise ConfigError(f"override {item!r}: value is not valid YAML ({exc})") from None
    return key, value


def load_config(
    env_id: str,
    algo: str = "ppo",
    path: str | Path | None = None,
    overrides: Iterable[str] = (),
) -> RunConfig:
    """Load the hyper-parameters for ``env_id`` from a YAML file, then apply overrides.

    Args:
        env_id: The env id to look up; without an entry of its own, the first glob entry that
            matches it (``MiniGrid-*``) or else the file's ``default`` entry is used.
        algo: Algorithm name (a key of :data:`ALGO_CONFIGS`: ``"ppo"``, ``"maskable_ppo"``,
            ``"sac"``);
            selects the config class and the shipped file.
        path: A YAML file of the same format; None for the shipped ``configs/<algo>.yml``.
        overrides: ``key=value`` strings (value parsed as YAML); ``dict_field.key=value`` sets
            one entry of ``policy_kwargs``/``env_kwargs`` or of a section
            (``adaptive_rr.enabled=true``).

    Returns:
        The validated config.

    Raises:
        ConfigError: Unknown ``algo``, missing file or entry, unknown key (the messages list the
            valid ones), or a value that fails validation.

    Example:
        >>> from rewardgym.agents import load_config
        >>> cfg = load_config("CartPole-v1", overrides=["n_envs=16", "total_timesteps=1e4"])
        >>> cfg.n_envs, cfg.total_timesteps
        (16, 10000)
    """
    cls = _config_class(algo)
    file = Path(path) if path is not None else config_path(algo)
    if not file.is_file():
        raise ConfigError(f"config file {str(file)!r} does not exist")
    with file.open() as stream:
        table = yaml.safe_load(stream) or {}
    if not isinstance(table, dict):
        raise ConfigError(f"{file}: expected a mapping of env ids to settings")
    entry_name = _entry_name(table, env_id)
    if entry_name not in table:
        raise ConfigError(
            f"{file}: no entry for {env_id!r} and no 'default' entry; "
            f"entries: {', '.join(map(str, table))}"
        )
    entry = table[entry_name] or {}
    if not isinstance(entry, dict):
        raise ConfigError(f"{file}: entry {entry_name!r} must be a mapping, got {entry!r}")
    _check_keys(cls, entry, f"{file} [{entry_name}]")
    values = {key: coerce(cls, key, value) for key, value in entry.items()}
    for item in overrides:
        key, value = _parse_override(item)
        top, dot, sub = key.partition(".")
        _check_keys(cls, [top], f"override {item!r}")
        if dot:
            nested = ("policy_kwargs", "env_kwargs", *section_fields(cls))
            if top not in nested:
                raise ConfigError(
                    f"override {item!r}: dotted keys only apply to {', '.join(nested)}"
                )
            base = values.get(top, cls.__dataclass_fields__[top].default_factory())  # type: ignore[misc]
            if dataclasses.is_dataclass(base):  # a section (SACConfig.adaptive_rr)
                base = dataclasses.asdict(base)
            values[top] = {**base, sub: value}
        else:
            values[top] = coerce(cls, top, value)
    return cls(**values)
