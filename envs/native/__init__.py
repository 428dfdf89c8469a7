"""The kit every native (numba-kernel) env family shares.

A family supplies config, kernels, a core and its view; the kit supplies the rest:

- :mod:`~rewardgym.envs.native.core`: the core protocol (:class:`NativeCore`) and
  :class:`RowAutoreset`, autoreset written once for cores stepped row by row from Python;
- :mod:`~rewardgym.envs.native.single` / :mod:`~rewardgym.envs.native.vector`: the shells
  (:class:`NativeEnv`, :class:`NativeVectorEnv`): seeding, reset masks, autoreset modes,
  ``final_obs``/``final_info``, rendering, action policy, pickling;
- :mod:`~rewardgym.envs.native.parallel`: the PettingZoo parallel shell
  (:class:`~rewardgym.envs.native.parallel.NativeParallelEnv`) over a core whose rows are the
  agents (not imported here: it imports PettingZoo);
- :mod:`~rewardgym.envs.native.rows`: :class:`~rewardgym.envs.native.rows.EnvRowsCore`, the core
  of families with no batch kernel (Python ``gym.Env`` rows, stepped as ``SyncVectorEnv`` would);
- :mod:`~rewardgym.envs.native.checks`: action, argument and config checks (one wording);
- :mod:`~rewardgym.envs.native.modes`: the autoreset codes kernels and cores see;
- :mod:`~rewardgym.envs.native.seeding`: seed lists and per-env Generator seeding;
- :mod:`~rewardgym.envs.native.masks`: the one reset-mask rule (vector envs and wrappers);
- :mod:`~rewardgym.envs.native.shell`: compiled entry points, pickling, autoreset codes, reset
  masks and the compile progress line (re-exported here);
- :mod:`~rewardgym.envs.native.rng`: the per-env counter-based random streams kernels draw from;
- :mod:`~rewardgym.envs.native.cache_guard`: drops a package's cached kernels when any source they
  can inline changed. Every numba package (each family, the wrappers, this kit) calls it first
  thing in its ``__init__``.
"""

from rewardgym.envs.native.cache_guard import invalidate_if_sources_changed

# Before any kernel module is imported: drop cached kernels compiled from older sources.
invalidate_if_sources_changed(__name__)

from rewardgym.envs.native.core import NativeCore, RowAutoreset  # noqa: E402
from rewardgym.envs.native.masks import reset_mask  # noqa: E402
from rewardgym.envs.native.rng import seed_counter_streams, seed_streams  # noqa: E402
from rewardgym.envs.native.seeding import seed_generators, seed_list  # noqa: E402
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
)
from rewardgym.envs.native.single import NativeEnv  # noqa: E402
from rewardgym.envs.native.vector import NativeVectorEnv, check_vector_args  # noqa: E402

__all__ = [
    "AUTORESET_CODES",
    "NEXT_STEP",
    "NO_AUTORESET",
    "SAME_STEP",
    "SEED_MOD",
    "NativeCore",
    "NativeEnv",
    "NativeVectorEnv",
    "PicklableKernel",
    "RowAutoreset",
    "call_on_threads",
    "check_vector_args",
    "compile_progress",
    "compiled",
    "invalidate_if_sources_changed",
    "parse_autoreset_mode",
    "reset_mask",
    "seed_counter_streams",
    "seed_generators",
    "seed_list",
    "seed_streams",
]
