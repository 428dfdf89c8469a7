"""Training hyper-parameters: frozen dataclasses loaded from RL-Zoo-style YAML files.

``agents/configs/<algo>.yml`` maps env ids to hyper-parameters, with a ``default`` entry for ids
that have none (RL Zoo's convention; YAML anchors share settings between entries). An entry only
lists what differs from the dataclass defaults. :func:`load_config` resolves

    dataclass defaults <- file entry for env_id (or ``default``) <- ``key=value`` overrides

and validates the result in ``__post_init__``, naming the field, the expected and the received
value. Overrides parse their value with ``yaml.safe_load`` (``n_envs=32``,
``policy_kwargs={net_arch: [64, 64]}``); a dotted key sets one entry of a dict field
(``env_kwargs.obs_mode=flat``).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

__all__ = ["ACTIVATIONS", "ALGO_CONFIGS", "ConfigError", "PPOConfig", "config_path", "load_config"]

_LINEAR = re.compile(r"^lin_(?P<value>[0-9.eE+-]+)$")


class ConfigError(ValueError):
    """A bad hyper-parameter file, key or value."""


def _schedule_start(name: str, value: Any) -> float:
    """Validate a float or ``"lin_<float>"`` (linearly decayed to 0) and return its start value."""
    if isinstance(value, str):
        match = _LINEAR.match(value)
        if match is None:
            raise ConfigError(
                f"PPOConfig.{name}: expected a positive number or 'lin_<number>', got {value!r}"
            )
        value = float(match["value"])
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigError(f"PPOConfig.{name}: expected a positive number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"PPOConfig.{name}: expected a finite number, got {value!r}")
    return float(value)


def _check_int(name: str, value: Any, minimum: int, owner: str = "PPOConfig") -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{owner}.{name}: expected an int >= {minimum}, got {value!r}")


def _check_float(name: str, value: Any, low: float, high: float, *, low_open: bool = False,
                 owner: str = "PPOConfig") -> None:
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and (value > low if low_open else value >= low)
        and value <= high
    )
    if not ok:
        bracket = "(" if low_open else "["
        raise ConfigError(
            f"{owner}.{name}: expected a number in {bracket}{low}, {high}], got {value!r}"
        )


def check_run_fields(owner: str, config: Any) -> None:
    """Validate the fields every algorithm config shares (policy, envs, seed, shaping, device).

    ``owner`` names the config class in the messages. ``policy_kwargs`` and ``env_kwargs`` are
    replaced by private copies (the configs are frozen; their dicts should not change under them).
    """
    if not isinstance(config.policy, str) or not config.policy:
        raise ConfigError(f"{owner}.policy: expected a policy name, got {config.policy!r}")
    for name in ("policy_kwargs", "env_kwargs"):
        value = getattr(config, name)
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ConfigError(f"{owner}.{name}: expected a mapping with str keys, got {value!r}")
        object.__setattr__(config, name, dict(value))
    activation = config.policy_kwargs.get("activation_fn")
    if isinstance(activation, str) and activation not in ACTIVATIONS:
        raise ConfigError(
            f"{owner}.policy_kwargs.activation_fn: expected one of {ACTIVATIONS} or a torch "
            f"module class, got {activation!r}"
        )
    if not isinstance(config.normalize, bool):
        raise ConfigError(f"{owner}.normalize: expected true or false, got {config.normalize!r}")
    modes = (None, "vector_entry_point", "sync", "async")
    if config.vectorization_mode not in modes:
        raise ConfigError(
            f"{owner}.vectorization_mode: expected one of {modes}, "
            f"got {config.vectorization_mode!r}"
        )
    if config.seed is not None:
        _check_int("seed", config.seed, 0, owner)
    if config.shaping_potential is not None:
        from rewardgym.wrappers.potential import BUILTIN_POTENTIALS

        if config.shaping_potential not in BUILTIN_POTENTIALS:
            raise ConfigError(
                f"{owner}.shaping_potential: expected None or one of "
                f"{sorted(BUILTIN_POTENTIALS)}, got {config.shaping_potential!r}"
            )
    _check_float("shaping_scale", config.shaping_scale, -math.inf, math.inf, owner=owner)
    wrappers = config.env_wrappers
    if isinstance(wrappers, str) or not isinstance(wrappers, list | tuple) or not all(
        isinstance(w, str) and re.fullmatch(r"[\w.]+:[\w.]+", w) for w in wrappers
    ):
        raise ConfigError(
            f"{owner}.env_wrappers: expected a list of 'module:Wrapper' import paths "
            f"(e.g. ['minigrid.wrappers:ImgObsWrapper']), got {wrappers!r}"
        )
    object.__setattr__(config, "env_wrappers", list(wrappers))
    if not isinstance(config.device, str) or not re.fullmatch(
        r"cpu|auto|cuda(:\d+)?|mps", config.device
    ):
        raise ConfigError(
            f"{owner}.device: expected 'cpu', 'cuda', 'cuda:<n>', 'mps' or 'auto', "
            f"got {config.device!r}"
        )


@dataclass(frozen=True, kw_only=True)
class PPOConfig:
    """Hyper-parameters of an SB3 PPO run (field names follow SB3's ``PPO`` arguments).

    Attributes:
        n_envs: Parallel envs (one vector env).
        n_steps: Steps per env per rollout; a rollout has ``n_envs * n_steps`` transitions.
        batch_size: Minibatch size (at most ``n_envs * n_steps``).
        n_epochs: Passes over each rollout.
        learning_rate: Adam step size; ``"lin_<x>"`` decays linearly from ``x`` to 0.
        gamma: Discount factor (must match any potential-shaping wrapper's gamma).
        gae_lambda: GAE lambda.
        clip_range: PPO clip range; ``"lin_<x>"`` decays linearly from ``x`` to 0.
        clip_range_vf: Clip range of the value prediction around the rollout's value (SB3's
            ``clip_range_vf``; ``"lin_<x>"`` as above); None (default) leaves it unclipped.
        ent_coef: Entropy bonus coefficient.
        vf_coef: Value loss coefficient.
        max_grad_norm: Gradient clipping norm.
        total_timesteps: Env steps to train for (summed over envs).
        policy: SB3 policy name, e.g. ``"MlpPolicy"`` or ``"MultiInputPolicy"``.
        policy_kwargs: Keyword arguments of the policy, e.g. ``{"net_arch": [64, 64]}``.
        env_kwargs: Keyword arguments of the env constructor, e.g. ``{"obs_mode": "flat"}``.
        normalize_advantage: Normalise advantages per minibatch.
        normalize: Wrap the env in SB3's ``VecNormalize`` (observations and rewards).
        vectorization_mode: Force ``gym.make_vec``'s mode ("vector_entry_point", "sync",
            "async"); None picks the native vector env when there is one.
        seed: Seed of torch, numpy and the envs; None for a random run.
        torch_threads: ``torch.set_num_threads`` during training; 1 is fastest for small MLPs
            on CPU (measured, DESIGN.md section 5).
        device: Torch device, "cpu", "cuda" or "auto".
        shaping_potential: Train on potential-shaped rewards: the name of a built-in potential
            (``rewardgym.wrappers.BUILTIN_POTENTIALS``, e.g. ``"grid_subgoal_distance"``, which
            needs ``env_kwargs.subgoal_distance_in_info: true``), applied with this config's
            ``gamma``; evaluation always uses the env's own reward. None trains unshaped.
        shaping_scale: Multiplies the shaping term.
        env_wrappers: ``"module:Wrapper"`` import paths applied, in order, to every sub-env
            (RL Zoo's ``env_wrapper``), e.g. ``["minigrid.wrappers:ImgObsWrapper"]`` to drop
            MiniGrid's text mission, which SB3 cannot read; sync/async vector envs only.

    Example:
        >>> from rewardgym.agents import PPOConfig
        >>> cfg = PPOConfig(n_envs=8, n_steps=64, batch_size=256)
        >>> cfg.rollout_size
        512
        >>> try:
        ...     PPOConfig(gamma=1.5)
        ... except ValueError as err:
        ...     print(err)
        PPOConfig.gamma: expected a number in (0.0, 1.0], got 1.5
    """

    n_envs: int = 8
    n_steps: int = 128
    batch_size: int = 256
    n_epochs: int = 4
    learning_rate: float | str = 3e-4
    gamma: float = 0.99
    gae_lambda: float = 0.95
    clip_range: float | str = 0.2
    clip_range_vf: float | str | None = None
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    total_timesteps: int = 100_000
    policy: str = "MlpPolicy"
    policy_kwargs: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    normalize_advantage: bool = True
    normalize: bool = False
    vectorization_mode: str | None = None
    seed: int | None = 0
    torch_threads: int = 1
    device: str = "cpu"
    shaping_potential: str | None = None
    shaping_scale: float = 1.0
    env_wrappers: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in (
            "n_envs",
            "n_steps",
            "batch_size",
            "n_epochs",
            "total_timesteps",
            "torch_threads",
        ):
            _check_int(name, getattr(self, name), 1)
        if self.batch_size > self.rollout_size:
            raise ConfigError(
                f"PPOConfig.batch_size: expected <= n_envs * n_steps = {self.rollout_size}, "
                f"got {self.batch_size!r}"
            )
        _schedule_start("learning_rate", self.learning_rate)
        _schedule_start("clip_range", self.clip_range)
        if self.clip_range_vf is not None:
            _schedule_start("clip_range_vf", self.clip_range_vf)
        _check_float("gamma", self.gamma, 0.0, 1.0, low_open=True)
        _check_float("gae_lambda", self.gae_lambda, 0.0, 1.0)
        _check_float("ent_coef", self.ent_coef, 0.0, math.inf)
        _check_float("vf_coef", self.vf_coef, 0.0, math.inf)
        _check_float("max_grad_norm", self.max_grad_norm, 0.0, math.inf, low_open=True)
        if not isinstance(self.normalize_advantage, bool):
            raise ConfigError(f"PPOConfig.normalize_advantage: expected true or false, got "
                              f"{self.normalize_advantage!r}")
        check_run_fields("PPOConfig", self)

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
            "policy_kwargs": _policy_kwargs(self.policy_kwargs),
            "seed": self.seed,
            "device": self.device,
        }

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (YAML/JSON-serialisable when the dict fields are)."""
        return dataclasses.asdict(self)


#: ``policy_kwargs.activation_fn`` names usable in YAML (which cannot hold a class).
ACTIVATIONS = ("relu", "tanh", "elu", "leaky_relu", "gelu", "silu")


def _policy_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """SB3 policy kwargs with an ``activation_fn`` name replaced by the torch class."""
    out = dict(kwargs)
    name = out.get("activation_fn")
    if isinstance(name, str):
        import torch.nn

        classes = {
            "relu": torch.nn.ReLU,
            "tanh": torch.nn.Tanh,
            "elu": torch.nn.ELU,
            "leaky_relu": torch.nn.LeakyReLU,
            "gelu": torch.nn.GELU,
            "silu": torch.nn.SiLU,
        }
        out["activation_fn"] = classes[name]
    return out


def _schedule(value: float | str) -> Any:
    """A float, or SB3's linear schedule ``progress_remaining * start`` for ``"lin_<x>"``."""
    if isinstance(value, str):
        start = _schedule_start("schedule", value)
        return _LinearSchedule(start)
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
ALGO_CONFIGS: dict[str, type[PPOConfig]] = {"ppo": PPOConfig, "maskable_ppo": PPOConfig}

# SAC has its own fields (agents/sac_config.py); imported here, after the helpers it reuses.
from rewardgym.agents.sac_config import SACConfig  # noqa: E402

ALGO_CONFIGS["sac"] = SACConfig  # type: ignore[assignment]


def config_path(algo: str = "ppo") -> Path:
    """The hyper-parameter file shipped for ``algo`` (``agents/configs/<algo>.yml``)."""
    _config_class(algo)
    return Path(str(resources.files("rewardgym.agents").joinpath("configs", f"{algo}.yml")))


def _config_class(algo: str) -> type[PPOConfig]:
    try:
        return ALGO_CONFIGS[algo]
    except KeyError:
        raise ConfigError(f"algo: expected one of {sorted(ALGO_CONFIGS)}, got {algo!r}") from None


def _coerce(cls: type[PPOConfig], key: str, value: Any) -> Any:
    """Numbers written as YAML strings: ``1e-3``/``1e4`` are str in YAML 1.1, ``2e5`` an int."""
    hint = str(cls.__dataclass_fields__[key].type)
    if isinstance(value, str) and ("float" in hint or hint.startswith("int")):
        try:
            number = float(value)
        except ValueError:
            return value  # e.g. "lin_0.001"; validation decides
        value = number
    if isinstance(value, float) and hint.startswith("int") and value.is_integer():
        return int(value)
    return value


def _check_keys(cls: type[PPOConfig], keys: Iterable[str], where: str) -> None:
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


#: Nested config fields that dotted overrides set one key of (``adaptive_rr.high=2``).
_NESTED = ("adaptive_rr",)


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
) -> PPOConfig:
    """Load the hyper-parameters for ``env_id`` from a YAML file, then apply overrides.

    Args:
        env_id: The env id to look up; without an entry of its own, the first glob entry that
            matches it (``MiniGrid-*``) or else the file's ``default`` entry is used.
        algo: Algorithm name (a key of :data:`ALGO_CONFIGS`: ``"ppo"``, ``"maskable_ppo"``);
            selects the config class and the shipped file.
        path: A YAML file of the same format; None for the shipped ``configs/<algo>.yml``.
        overrides: ``key=value`` strings (value parsed as YAML); ``dict_field.key=value`` sets
            one entry of ``policy_kwargs``/``env_kwargs``.

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
    values = {key: _coerce(cls, key, value) for key, value in entry.items()}
    for item in overrides:
        key, value = _parse_override(item)
        top, dot, sub = key.partition(".")
        _check_keys(cls, [top], f"override {item!r}")
        if dot:
            if top not in ("policy_kwargs", "env_kwargs", *_NESTED):
                raise ConfigError(
                    f"override {item!r}: dotted keys only apply to policy_kwargs, env_kwargs "
                    f"and {', '.join(_NESTED)}"
                )
            base = values.get(top, cls.__dataclass_fields__[top].default_factory())  # type: ignore[misc]
            if dataclasses.is_dataclass(base):  # a nested config (SACConfig.adaptive_rr)
                base = dataclasses.asdict(base)
            values[top] = {**base, sub: value}
        else:
            values[top] = _coerce(cls, top, value)
    return cls(**values)
