"""Check a training run before anything is built, so config mistakes fail in one clear line.

:func:`check_run` resolves the env id, builds ONE env with the config's ``env_kwargs`` and
``env_wrappers``, and checks what SB3 would otherwise only report deep inside a traceback (or,
for shaping, only at the first rollout): the env rejecting a keyword argument, an action space the
algorithm does not support (SAC on a ``Discrete`` env), observation spaces SB3 cannot read
(``Text``, nested ``Dict``, a ``Dict`` under ``MlpPolicy``), and a shaping potential whose inputs
the env does not provide (``grid_subgoal_distance`` without ``subgoal_distance_in_info``).
Every failure is a :class:`~rewardgym.agents.config.ConfigError` naming what was wrong.

Example:
    >>> from rewardgym.agents import load_config
    >>> try:
    ...     check_run("CartPole-v1", "sac", load_config("CartPole-v1", "sac"))
    ... except ValueError as err:
    ...     print(err)
    algo 'sac' needs a Box action space, but CartPole-v1 has Discrete(2); use --algo ppo
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import gymnasium as gym
from gymnasium import spaces

from rewardgym.agents.config import ConfigError
from rewardgym.agents.env_ids import UnknownEnvError, resolve_env_id

__all__ = ["check_run", "import_wrappers"]

#: Action spaces each algorithm takes (SB3's ``supported_action_spaces``).
ACTION_SPACES: dict[str, tuple[type[spaces.Space], ...]] = {
    "ppo": (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
    "maskable_ppo": (spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
    "sac": (spaces.Box,),
}


def import_wrappers(paths: list[str]) -> list[Callable[[gym.Env], gym.Env]]:
    """Import ``"module:Wrapper"`` paths (a config's ``env_wrappers``).

    Raises:
        ConfigError: a module or attribute cannot be imported.
    """
    out = []
    for path in paths:
        module, _, attr = path.partition(":")
        try:
            obj: Any = importlib.import_module(module)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"env_wrappers: cannot import {path!r} ({exc})") from None
        out.append(obj)
    return out


def _message(exc: BaseException) -> str:
    # KeyError's str() adds quotes around its message.
    text = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return f"{text}".strip() or type(exc).__name__


_SB3_SPACES = (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def _check_observation(env_id: str, space: spaces.Space, policy: str) -> None:
    if isinstance(space, spaces.Dict):
        for key, sub in space.spaces.items():
            if not isinstance(sub, _SB3_SPACES):
                raise ConfigError(
                    f"{env_id}: observation key {key!r} is a {type(sub).__name__} space, which "
                    "SB3 policies cannot read; drop or convert it with an env wrapper, e.g. "
                    "--set 'env_wrappers=[minigrid.wrappers:ImgObsWrapper]' for MiniGrid's text "
                    "mission"
                )
        if policy == "MlpPolicy":
            raise ConfigError(
                f"{env_id}: the observation space is a Dict, which needs --set "
                "policy=MultiInputPolicy (or an env wrapper that flattens it)"
            )
    elif not isinstance(space, _SB3_SPACES):
        raise ConfigError(
            f"{env_id}: SB3 policies cannot read a {type(space).__name__} observation space; "
            "convert it with an env wrapper (--set 'env_wrappers=[module:Wrapper]')"
        )


def check_run(env_id: str, algo: str, config: Any) -> str:
    """Check that ``algo`` with ``config`` can train on ``env_id``; returns the resolved id.

    Args:
        env_id: What the user typed: ``"Env-v0"``, ``"namespace/Env-v0"`` or ``"module:Env-v0"``.
        algo: The algorithm name (``ppo``, ``maskable_ppo``, ``sac``).
        config: Its ``PPOConfig`` or ``SACConfig``.

    Returns:
        The registered id (``module:`` prefix dropped after importing the module).

    Raises:
        ConfigError: (a ``ValueError``) the id is unknown, the env rejects ``env_kwargs``, a
            space does not suit the algorithm or SB3, or the shaping potential cannot be
            computed on this env.
    """
    try:
        env_id = resolve_env_id(env_id)
    except UnknownEnvError as exc:
        raise ConfigError(str(exc)) from None
    wrappers = import_wrappers(config.env_wrappers)
    try:
        env = gym.make(env_id, **config.env_kwargs)
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"{env_id} rejected env_kwargs {config.env_kwargs}: {_message(exc)}"
        ) from None
    try:
        for wrap in wrappers:
            env = wrap(env)
        allowed = ACTION_SPACES.get(algo)
        if allowed is not None and not isinstance(env.action_space, allowed):
            names = " or ".join(cls.__name__ for cls in allowed)
            hint = "; use --algo ppo" if algo == "sac" else ""
            raise ConfigError(
                f"algo {algo!r} needs a {names} action space, but {env_id} has "
                f"{env.action_space}{hint}"
            )
        _check_observation(env_id, env.observation_space, config.policy)
        if config.shaping_potential is not None:
            from rewardgym.wrappers.potential import PotentialShaping

            try:
                shaped = PotentialShaping(env, config.shaping_potential, gamma=config.gamma,
                                          scale=config.shaping_scale)
                shaped.reset(seed=0)
            except (KeyError, ValueError, TypeError) as exc:
                raise ConfigError(
                    f"shaping_potential {config.shaping_potential!r} cannot be computed on "
                    f"{env_id} with env_kwargs {config.env_kwargs}: {_message(exc)}"
                ) from None
    finally:
        env.close()
    return env_id
