"""``REWARDGYM_SMOKE=1``: run every command with a token budget, to check that it runs.

The README test (``tests/test_readme.py``) runs every ``rewardgym ...`` command of the README as
written; with this variable set, training stops after :data:`SMOKE_TIMESTEPS` env steps (SAC:
``learning_starts`` + 512, since its gradient steps dominate) and
evaluates :data:`SMOKE_EVAL_EPISODES` episodes, and benchmarks time each case for a moment. Each
capped command says so on stderr: a smoke run's numbers are not results.

Example:
    >>> import os
    >>> os.environ.pop(SMOKE_VARIABLE, None) and None
    >>> smoke_mode()
    False
"""

from __future__ import annotations

import os
import sys

__all__ = ["SMOKE_EVAL_EPISODES", "SMOKE_TIMESTEPS", "SMOKE_VARIABLE", "smoke_mode",
           "smoke_note"]

SMOKE_VARIABLE = "REWARDGYM_SMOKE"
#: Env steps a training run is capped at in smoke mode (enough for every DoorKey-5x5 env to end
#: an episode, so per-term logs exist for `plot-terms`).
SMOKE_TIMESTEPS = 10_240
#: Evaluation episodes in smoke mode.
SMOKE_EVAL_EPISODES = 2


def smoke_mode() -> bool:
    """Whether ``REWARDGYM_SMOKE`` is set to something other than empty or ``0``."""
    return os.environ.get(SMOKE_VARIABLE, "") not in ("", "0")


def smoke_note(what: str) -> None:
    """Say on stderr that ``what`` was shrunk for a smoke run."""
    print(f"{SMOKE_VARIABLE}=1: {what} (a smoke run, not a result)", file=sys.stderr)
