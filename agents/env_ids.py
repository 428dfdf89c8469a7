"""Turn what a user types as an env id into a registered Gymnasium id.

``gym.make`` accepts ``"module:Env-v0"`` (it imports ``module`` first, which registers the env),
but ``gym.spec`` does not, and a bare id of a third-party package (``MiniGrid-DoorKey-5x5-v0``)
is only registered once that package is imported. :func:`resolve_env_id` handles both, the way
RL Zoo imports the usual env packages before looking an id up:

- ``"module:Env-v0"``: import ``module``, return ``"Env-v0"``;
- a bare id that is not registered: import the package its prefix belongs to
  (:data:`KNOWN_PACKAGES`, e.g. ``MiniGrid-`` -> ``minigrid``) when it is installed, and retry.

Example:
    >>> resolve_env_id("CartPole-v1")
    'CartPole-v1'
    >>> resolve_env_id("gymnasium.envs.classic_control:CartPole-v1")
    'CartPole-v1'
"""

from __future__ import annotations

import importlib
import importlib.util

import gymnasium as gym

__all__ = ["KNOWN_PACKAGES", "UnknownEnvError", "resolve_env_id"]

#: Id prefixes of env packages that register their envs on import, and the module to import.
KNOWN_PACKAGES: dict[str, str] = {
    "rewardgym/": "rewardgym",
    "MiniGrid-": "minigrid",
    "BabyAI-": "minigrid",
    "ALE/": "ale_py",
    "highway": "highway_env",
    "merge-": "highway_env",
    "roundabout-": "highway_env",
    "parking": "highway_env",
    "intersection-": "highway_env",
    "racetrack-": "highway_env",
    "exit-": "highway_env",
    "u-turn-": "highway_env",
    "lane-keeping-": "highway_env",
}


class UnknownEnvError(ValueError):
    """An env id that is not registered, even after importing the package it names."""


def _registered(env_id: str) -> bool:
    return env_id in gym.registry


def resolve_env_id(env_id: str) -> str:
    """The registered id for ``env_id``, importing the package that registers it if needed.

    Args:
        env_id: ``"Env-v0"``, ``"namespace/Env-v0"`` or ``"module:Env-v0"``.

    Returns:
        The id without a ``module:`` prefix; ``gym.spec`` knows it.

    Raises:
        UnknownEnvError: (a ``ValueError``) the module cannot be imported or the id is not
            registered; the message says what to try.
    """
    if not isinstance(env_id, str) or not env_id:
        raise UnknownEnvError(f"env id: expected a non-empty string, got {env_id!r}")
    module, sep, name = env_id.rpartition(":")
    if sep:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise UnknownEnvError(
                f"env id {env_id!r}: cannot import module {module!r} ({exc})"
            ) from None
        if not _registered(name):
            raise UnknownEnvError(
                f"env id {env_id!r}: importing {module!r} did not register {name!r}"
            )
        return name
    if _registered(name):
        return name
    for prefix, package in KNOWN_PACKAGES.items():
        if name.startswith(prefix) and importlib.util.find_spec(package) is not None:
            importlib.import_module(package)
            if _registered(name):
                return name
            raise UnknownEnvError(
                f"env id {name!r} is not registered by {package!r}; `python -c \"import "
                f"gymnasium, {package}; gymnasium.pprint_registry()\"` lists its ids"
            )
    raise UnknownEnvError(
        f"env id {name!r} is not registered; if a package defines it, name the package as "
        f"'package:{name}' (as gymnasium.make accepts), or check the id with "
        "gymnasium.pprint_registry()"
    )
