"""The run config every algorithm config builds on, and the checks all of them share.

:class:`RunConfig` holds the fields a training run has whatever the algorithm (envs, seed,
policy, threads, device, shaping, normalisation) and validates them once;
:class:`~rewardgym.agents.PPOConfig` and :class:`~rewardgym.agents.SACConfig` add their
algorithm's fields and checks. Every check raises :class:`ConfigError` through :func:`fail`, one
line naming the field, the expected and the received value::

    PPOConfig.gamma: expected a number in (0, 1], got 1.5

A field whose default is a nested frozen dataclass (:class:`ConfigSection`, e.g.
``SACConfig.adaptive_rr``) also accepts a mapping of that section's fields (YAML, or dotted
``--set adaptive_rr.high=2`` overrides); unknown keys are refused by name.

This module imports nothing from the algorithm configs, so they can import it without a cycle.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn

__all__ = [
    "ACTIVATIONS",
    "ConfigError",
    "ConfigSection",
    "RunConfig",
    "check_bool",
    "check_int",
    "check_number",
    "coerce",
    "fail",
    "is_number",
    "schedule_start",
    "section_fields",
]

_LINEAR = re.compile(r"^lin_(?P<value>[0-9.eE+-]+)$")

#: ``policy_kwargs.activation_fn`` names usable in YAML (which cannot hold a class).
ACTIVATIONS = ("relu", "tanh", "elu", "leaky_relu", "gelu", "silu")

_VECTORIZATION_MODES = (None, "vector_entry_point", "sync", "async")


class ConfigError(ValueError):
    """A bad hyper-parameter file, key or value."""


def fail(where: str, expected: str, got: object) -> NoReturn:
    """Raise the one-line :class:`ConfigError` ``"<where>: expected <expected>, got <got!r>"``.

    Example:
        >>> try:
        ...     fail("PPOConfig.n_envs", "an int >= 1", 0)
        ... except ConfigError as err:
        ...     print(err)
        PPOConfig.n_envs: expected an int >= 1, got 0
    """
    raise ConfigError(f"{where}: expected {expected}, got {got!r}")


def is_number(value: Any) -> bool:
    """A finite int or float that is not a bool."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


def check_int(where: str, value: Any, minimum: int) -> None:
    """An int (not a bool) ``>= minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        fail(where, f"an int >= {minimum}", value)


def check_number(where: str, value: Any, low: float = -math.inf, high: float = math.inf, *,
                 low_open: bool = False) -> None:
    """A finite number in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    in_range = is_number(value) and (value > low if low_open else value >= low) and value <= high
    if not in_range:
        fail(where, f"a number in {'(' if low_open else '['}{low:g}, {high:g}]", value)


def check_bool(where: str, value: Any) -> None:
    """``True`` or ``False`` (YAML's true/false), nothing truthy."""
    if not isinstance(value, bool):
        fail(where, "true or false", value)


def schedule_start(where: str, value: Any) -> float:
    """Validate a positive number or ``"lin_<number>"`` (decayed linearly to 0); its start value."""
    if isinstance(value, str):
        match = _LINEAR.match(value)
        if match is None:
            fail(where, "a positive number or 'lin_<number>'", value)
        value = float(match["value"])
    if not is_number(value) or not value > 0:
        fail(where, "a positive finite number", value)
    return float(value)


def coerce(cls: type, key: str, value: Any) -> Any:
    """A number written as a YAML string, as the field's type wants it.

    YAML 1.1 reads ``1e-3`` and ``1e4`` as strings and ``2e5`` as an int; an int field gets an
    int from an integral float. Other strings (``"lin_0.001"``) are left for validation.
    """
    hint = str(cls.__dataclass_fields__[key].type)
    if isinstance(value, str) and ("float" in hint or hint.startswith("int")):
        try:
            value = float(value)
        except ValueError:
            return value
    if isinstance(value, float) and hint.startswith("int") and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True, kw_only=True)
class ConfigSection:
    """A nested group of settings of a run config (a frozen dataclass field of it).

    Subclasses set :attr:`prefix` (the dotted name their errors start with) and validate in
    ``__post_init__``; :meth:`from_mapping` builds one from YAML or dotted overrides.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True, kw_only=True)
        ... class Probe(ConfigSection):
        ...     prefix = "MyConfig.probe"
        ...     every: int = 100
        >>> Probe.from_mapping({"every": "1e3"}).every
        1000
        >>> try:
        ...     Probe.from_mapping({"evry": 5})
        ... except ConfigError as err:
        ...     print(err)
        MyConfig.probe.evry: expected one of the keys ['every'], got 'evry'
    """

    prefix: ClassVar[str] = "section"

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> ConfigSection:
        """A section from a mapping of its fields (numbers in YAML strings coerced)."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                fail(f"{cls.prefix}.{key}", f"one of the keys {names}", key)
        return cls(**{key: coerce(cls, key, value) for key, value in values.items()})


def section_fields(cls: type) -> dict[str, type[ConfigSection]]:
    """The fields of a config dataclass whose value is a :class:`ConfigSection`, with its class."""
    out = {}
    for f in dataclasses.fields(cls):
        factory = f.default_factory
        if isinstance(factory, type) and issubclass(factory, ConfigSection):
            out[f.name] = factory
    return out


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """What every algorithm's run config has: envs, seed, policy, device, shaping, threads.

    Algorithm configs subclass it (adding their own fields, redeclaring a field to change its
    default) and call ``super().__post_init__()`` first, so the shared fields are valid when
    their own checks run. Error messages name the subclass: ``SACConfig.seed: ...``.

    Attributes:
        n_envs: Parallel envs (one vector env).
        batch_size: Minibatch size.
        gamma: Discount factor (must match any potential-shaping wrapper's gamma).
        total_timesteps: Env steps to train for (summed over envs).
        policy: SB3 policy name, e.g. ``"MlpPolicy"`` or ``"MultiInputPolicy"``.
        policy_kwargs: Keyword arguments of the policy, e.g. ``{"net_arch": [64, 64]}``;
            ``activation_fn`` may name one of :data:`ACTIVATIONS`.
        env_kwargs: Keyword arguments of the env constructor, e.g. ``{"obs_mode": "flat"}``.
        normalize: Wrap the env in SB3's ``VecNormalize`` (observations and rewards).
        vectorization_mode: Force ``gym.make_vec``'s mode ("vector_entry_point", "sync",
            "async"); None picks the native vector env when there is one.
        seed: Seed of torch, numpy and the envs; None for a random run.
        torch_threads: ``torch.set_num_threads`` during training; 1 is fastest for small MLPs
            on CPU with PPO (measured, DESIGN.md section 5).
        device: Torch device: "cpu", "cuda", "cuda:<n>", "mps" or "auto".
        shaping_potential: Train on potential-shaped rewards: the name of a built-in potential
            (``rewardgym.wrappers.BUILTIN_POTENTIALS``, e.g. ``"grid_subgoal_distance"``, which
            needs ``env_kwargs.subgoal_distance_in_info: true``), applied with this config's
            ``gamma``; evaluation always uses the env's own reward. None trains unshaped.
        shaping_scale: Multiplies the shaping term.
        env_wrappers: ``"module:Wrapper"`` import paths applied, in order, to every sub-env
            (RL Zoo's ``env_wrapper``), e.g. ``["minigrid.wrappers:ImgObsWrapper"]`` to drop
            MiniGrid's text mission, which SB3 cannot read; sync/async vector envs only.

    Example:
        >>> cfg = RunConfig(n_envs=4, seed=None)
        >>> cfg.n_envs, cfg.to_dict()["device"]
        (4, 'cpu')
        >>> try:
        ...     RunConfig(device="tpu")
        ... except ConfigError as err:
        ...     print(err)
        RunConfig.device: expected 'cpu', 'cuda', 'cuda:<n>', 'mps' or 'auto', got 'tpu'
    """

    n_envs: int = 8
    batch_size: int = 256
    gamma: float = 0.99
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

    def where(self, name: str) -> str:
        """``"<ConfigClass>.<name>"``, the start of every error message about field ``name``."""
        return f"{type(self).__name__}.{name}"

    def __post_init__(self) -> None:
        where = self.where
        for name, section in section_fields(type(self)).items():
            value = getattr(self, name)
            if isinstance(value, Mapping):
                object.__setattr__(self, name, section.from_mapping(value))
            elif not isinstance(value, section):
                fail(where(name), f"a mapping of {section.__name__} fields", value)
        for name in ("n_envs", "batch_size", "total_timesteps", "torch_threads"):
            check_int(where(name), getattr(self, name), 1)
        check_number(where("gamma"), self.gamma, 0.0, 1.0, low_open=True)
        if not isinstance(self.policy, str) or not self.policy:
            fail(where("policy"), "a policy name", self.policy)
        for name in ("policy_kwargs", "env_kwargs"):
            value = getattr(self, name)
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                fail(where(name), "a mapping with str keys", value)
            # A private copy: the config is frozen, its dicts should not change under it.
            object.__setattr__(self, name, dict(value))
        activation = self.policy_kwargs.get("activation_fn")
        if isinstance(activation, str) and activation not in ACTIVATIONS:
            fail(where("policy_kwargs.activation_fn"),
                 f"one of {ACTIVATIONS} or a torch module class", activation)
        check_bool(where("normalize"), self.normalize)
        if self.vectorization_mode not in _VECTORIZATION_MODES:
            fail(where("vectorization_mode"), f"one of {_VECTORIZATION_MODES}",
                 self.vectorization_mode)
        if self.seed is not None:
            check_int(where("seed"), self.seed, 0)
        if self.shaping_potential is not None:
            from rewardgym.wrappers.potential import BUILTIN_POTENTIALS

            if self.shaping_potential not in BUILTIN_POTENTIALS:
                fail(where("shaping_potential"), f"None or one of {sorted(BUILTIN_POTENTIALS)}",
                     self.shaping_potential)
        check_number(where("shaping_scale"), self.shaping_scale)
        wrappers = self.env_wrappers
        if isinstance(wrappers, str) or not isinstance(wrappers, list | tuple) or not all(
            isinstance(w, str) and re.fullmatch(r"[\w.]+:[\w.]+", w) for w in wrappers
        ):
            fail(where("env_wrappers"), "a list of 'module:Wrapper' import paths "
                 "(e.g. ['minigrid.wrappers:ImgObsWrapper'])", wrappers)
        object.__setattr__(self, "env_wrappers", list(wrappers))
        if not isinstance(self.device, str) or not re.fullmatch(
            r"cpu|auto|cuda(:\d+)?|mps", self.device
        ):
            fail(where("device"), "'cpu', 'cuda', 'cuda:<n>', 'mps' or 'auto'", self.device)

    def algo_kwargs(self) -> dict[str, Any]:
        """The SB3 algorithm constructor's keyword arguments (each algorithm config defines it)."""
        raise NotImplementedError(f"{type(self).__name__} does not define algo_kwargs()")

    def policy_kwargs_resolved(self) -> dict[str, Any]:
        """``policy_kwargs`` for SB3, an ``activation_fn`` name replaced by its torch class."""
        out = dict(self.policy_kwargs)
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

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (YAML/JSON-serialisable when the dict fields are)."""
        return dataclasses.asdict(self)
