"""The kit every native (numba-kernel) env family shares.

- :mod:`~rewardgym.envs.native.shell`: compiled entry points, pickling, seeding of per-env streams,
  autoreset modes, reset masks and the compile progress line (re-exported here);
- :mod:`~rewardgym.envs.native.rng`: the per-env counter-based random streams kernels draw from;
- :mod:`~rewardgym.envs.native.cache_guard`: drops a package's cached kernels when any source they
  can inline changed. Every numba package (each family, the wrappers, this kit) calls it first
  thing in its ``__init__``.
"""

from rewardgym.envs.native.cache_guard import invalidate_if_sources_changed

# Before any kernel module is imported: drop cached kernels compiled from older sources.
invalidate_if_sources_changed(__name__)

from rewardgym.envs.native.shell import (  # noqa: E402
    AUTORESET_CODES,
    NEXT_STEP,
    NO_AUTORESET,
    SAME_STEP,
    SEED_MOD,
    PicklableKernel,
    call_on_threads,
    compile_progress,
    compiled,
    parse_autoreset_mode,
    reset_mask,
    seed_streams,
)

__all__ = [
    "AUTORESET_CODES",
    "NEXT_STEP",
    "NO_AUTORESET",
    "SAME_STEP",
    "SEED_MOD",
    "PicklableKernel",
    "call_on_threads",
    "compile_progress",
    "compiled",
    "invalidate_if_sources_changed",
    "parse_autoreset_mode",
    "reset_mask",
    "seed_streams",
]
