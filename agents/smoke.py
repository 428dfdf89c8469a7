"""``REWARDGYM_SMOKE=1``: run every command with a token budget, to check that it runs.

The README test (``tests/test_readme.py``) runs every ``rewardgym ...`` command of the README as
written; with this variable set, training stops after a token budget (:func:`smoke_timesteps`:
at most :data:`SMOKE_TIMESTEPS` env steps, in whole rollouts; SAC: ``learning_starts`` + 512,
since its gradient steps dominate) and evaluates :data:`SMOKE_EVAL_EPISODES` episodes, and
benchmarks run their whole pipeline on tiny sizes and time each case for a moment. Each capped
command says so on stderr: a smoke run's numbers are not results.

Example:
    >>> import os
    >>> os.environ.pop(SMOKE_VARIABLE, None) and None
    >>> smoke_mode()
    False
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["SMOKE_EVAL_EPISODES", "SMOKE_TIMESTEPS", "SMOKE_VARIABLE", "smoke_mode",
           "smoke_note", "smoke_timesteps"]

SMOKE_VARIABLE = "REWARDGYM_SMOKE"
#: Env steps a training run is capped at in smoke mode (enough for every DoorKey-5x5 env to end
#: an episode, so per-term logs exist for `plot-terms`).
SMOKE_TIMESTEPS = 10_240
#: Evaluation episodes in smoke mode.
SMOKE_EVAL_EPISODES = 2


def smoke_mode() -> bool:
    """Whether ``REWARDGYM_SMOKE`` is set to something other than empty or ``0``."""
    return os.environ.get(SMOKE_VARIABLE, "") not in ("", "0")


def smoke_timesteps(config: Any) -> int:
    """The env steps a smoke run of ``config`` (a run config) trains for.

    At most :data:`SMOKE_TIMESTEPS`, cut to whole rollouts of an on-policy config (SB3 finishes
    the rollout it is in, so a cap inside the second rollout would cost a whole second one) but
    never below one rollout; an off-policy config (one with ``learning_starts``) gets
    ``learning_starts`` + 512 steps. Never more than ``config.total_timesteps``.

    Example:
        >>> from rewardgym.agents import PPOConfig, SACConfig
        >>> smoke_timesteps(PPOConfig(n_envs=64, n_steps=128, total_timesteps=10**6))
        8192
        >>> smoke_timesteps(PPOConfig(n_envs=32, n_steps=64, total_timesteps=10**6))
        10240
        >>> smoke_timesteps(SACConfig(learning_starts=1000))
        1512
    """
    if hasattr(config, "learning_starts"):  # gradient steps cost ~20 ms each: a few hundred
        return min(config.total_timesteps, config.learning_starts + 512)
    rollout = getattr(config, "rollout_size", config.n_envs)
    steps = max(rollout, SMOKE_TIMESTEPS // rollout * rollout)
    return min(config.total_timesteps, steps)


def smoke_note(what: str) -> None:
    """Say on stderr that ``what`` was shrunk for a smoke run."""
    print(f"{SMOKE_VARIABLE}=1: {what} (a smoke run, not a result)", file=sys.stderr)
