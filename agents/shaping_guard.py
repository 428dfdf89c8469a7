"""The shaping-gamma guard: potential-based shaping needs the learner's own gamma.

Potential-based shaping keeps the optimal policy only if the shaping gamma equals the learner's
gamma (Ng et al., 1999). :func:`check_shaping_gamma` enforces that before training.
"""

from __future__ import annotations

import inspect
import math
import warnings
from typing import Any

__all__ = ["ShapingGammaError", "check_shaping_gamma"]

_MISSING = object()


class ShapingGammaError(ValueError):
    """A potential-shaping wrapper's gamma differs from the learner's."""


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
