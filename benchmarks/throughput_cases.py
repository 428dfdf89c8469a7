"""The cases of the throughput benchmark: what is built and stepped, one :class:`Case` each.

Grid (rewardgym DoorKey-8x8 native and single, MiniGrid single and ``SyncVectorEnv``), Gymnasium's
``CartPoleVectorEnv``, and the MuJoCo locomotion tasks here; the shopping cases in
:mod:`~rewardgym.benchmarks.throughput_shopping`, the driving ones in
:mod:`~rewardgym.benchmarks.driving_cases`. :mod:`~rewardgym.benchmarks.throughput` times them.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym

from rewardgym.benchmarks import driving_cases, harness

__all__ = ["CARTPOLE_ID", "DEFAULT_GROUPS", "GROUPS", "LOCO_IDS", "MINIGRID_ID", "OURS_ID", "Case",
           "build_cases", "locomotion_ratios"]

OURS_ID = "rewardgym/DoorKey-8x8-v0"
MINIGRID_ID = "MiniGrid-DoorKey-8x8-v0"
CARTPOLE_ID = "CartPole-v1"

GROUPS = ("minigrid-single", "ours-single", "ours-native", "ours-native-flat",
          "ours-native-threads", "minigrid-sync", "cartpole-native", "shopping", "driving",
          "locomotion")
# What a run measures unless told otherwise: the MuJoCo group is opt-in (it starts subprocesses).
DEFAULT_GROUPS = GROUPS[:-1]
LOCO_IDS = ("rewardgym/HalfCheetahBackward-v1", "rewardgym/AntGoal-v1")


@dataclasses.dataclass(frozen=True)
class Case:
    """One measured configuration and how to build its stepper."""

    group: str
    library: str
    env: str
    mode: str  # "single", "sync"/"async" (gymnasium Sync/AsyncVectorEnv), "native" (a VectorEnv)
    n: int
    variant: str
    make: Callable[[], harness.Stepper]
    memory: Callable[[int], dict[str, float]] | None = None
    """Optional memory check run after the timings: episodes -> extra row fields."""

    @property
    def label(self) -> str:
        """Short unique name, used as plot label and interleaving key."""
        size = f" n={self.n}" if self.mode != "single" else ""
        return f"{self.library} {self.mode}{size} ({self.variant})"


def _ours_native(n: int, obs_mode: str | None = None) -> harness.Stepper:
    kwargs = {} if obs_mode is None else {"obs_mode": obs_mode}
    env = gym.make_vec(OURS_ID, num_envs=n, vectorization_mode="vector_entry_point", **kwargs)
    return harness.vector_stepper(env)


def _all_numba_threads() -> int:
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def _ours_native_threads(n: int, threads: int) -> harness.Stepper:
    from rewardgym.envs.grid import GridVectorEnv

    if "num_threads" in inspect.signature(GridVectorEnv).parameters:
        env = gym.make_vec(OURS_ID, num_envs=n, vectorization_mode="vector_entry_point",
                           num_threads=threads)
        return harness.vector_stepper(env)
    # An env without the option runs on numba's global thread count: set it around each call.
    return harness.with_numba_threads(_ours_native(n), threads)


def _ours_single(unwrapped: bool) -> harness.Stepper:
    env = gym.make(OURS_ID)
    return harness.single_stepper(env.unwrapped if unwrapped else env)


def _minigrid_single() -> harness.Stepper:
    import minigrid  # noqa: F401  (registers MiniGrid's ids)

    return harness.single_stepper(gym.make(MINIGRID_ID))


def _minigrid_sync(n: int) -> harness.Stepper:
    import minigrid  # noqa: F401  (registers MiniGrid's ids)

    return harness.vector_stepper(gym.make_vec(MINIGRID_ID, num_envs=n, vectorization_mode="sync"))


def _cartpole_native(n: int) -> harness.Stepper:
    env = gym.make_vec(CARTPOLE_ID, num_envs=n, vectorization_mode="vector_entry_point")
    return harness.vector_stepper(env)


# ---- locomotion: MuJoCo tasks, native vs Gymnasium's sync and async vector envs ----------


def _loco(env_id: str, n: int, mode: str, physics_threads: int = 1) -> harness.Stepper:
    if mode == "native":
        env = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point",
                           physics_threads=physics_threads)
    else:
        env = gym.make_vec(env_id, num_envs=n, vectorization_mode=mode)
    return harness.vector_stepper(env)


def _locomotion_cases(sizes: Sequence[int]) -> list[Case]:
    cases = []
    for env_id in LOCO_IDS:
        task = env_id.split("/")[1]  # labels must differ between the envs (they key the timings)
        for n in sizes:
            cases += [
                Case("locomotion", "rewardgym", env_id, "native", n, f"{task}, native",
                     lambda e=env_id, n=n: _loco(e, n, "native")),
                Case("locomotion", "rewardgym", env_id, "native", n,
                     f"{task}, native, 2 physics threads",
                     lambda e=env_id, n=n: _loco(e, n, "native", physics_threads=2)),
                Case("locomotion", "gymnasium", env_id, "sync", n, f"{task}, SyncVectorEnv",
                     lambda e=env_id, n=n: _loco(e, n, "sync")),
                Case("locomotion", "gymnasium", env_id, "async", n, f"{task}, AsyncVectorEnv",
                     lambda e=env_id, n=n: _loco(e, n, "async")),
            ]
    return cases


def locomotion_ratios(rows: Sequence[dict]) -> None:
    """Add ``ratio_vs_sync``/``ratio_vs_async`` (wall) to the native locomotion rows, in place."""
    by_key = {(r["env"], r["mode"], r["n"]): r for r in rows if r["env"] in LOCO_IDS}
    for row in rows:
        if row["env"] in LOCO_IDS and row["mode"] == "native":
            for mode in ("sync", "async"):
                other = by_key.get((row["env"], mode, row["n"]))
                row[f"ratio_vs_{mode}"] = (None if other is None else
                                           row["steps_per_s_wall"] / other["steps_per_s_wall"])


def build_cases(settings: Any) -> list[Case]:
    """The cases of ``settings`` (:class:`~rewardgym.benchmarks.throughput.Settings`), in order.

    The order is the first round's.
    """
    cases = [
        Case("minigrid-single", "minigrid", MINIGRID_ID, "single", 1, "gym.make",
             _minigrid_single),
        Case("ours-single", "rewardgym", OURS_ID, "single", 1, "gym.make",
             lambda: _ours_single(unwrapped=False)),
        Case("ours-single", "rewardgym", OURS_ID, "single", 1, ".unwrapped",
             lambda: _ours_single(unwrapped=True)),
    ]
    cases += [Case("ours-native", "rewardgym", OURS_ID, "native", n, "Dict obs",
                   lambda n=n: _ours_native(n)) for n in settings.sizes]
    if settings.sizes:
        n_max = max(settings.sizes)
        threads = _all_numba_threads()
        # Flat obs separates the Dict-assembly cost from the kernel; all numba threads shows
        # what the parallel kernel gains (or loses when another process takes a core).
        cases.append(Case("ours-native-flat", "rewardgym", OURS_ID, "native", n_max, "flat obs",
                          lambda: _ours_native(n_max, "flat")))
        cases.append(Case("ours-native-threads", "rewardgym", OURS_ID, "native", n_max,
                          f"Dict obs, {threads} numba threads",
                          lambda: _ours_native_threads(n_max, threads)))
    cases += [Case("minigrid-sync", "minigrid", MINIGRID_ID, "sync", n, "SyncVectorEnv",
                   lambda n=n: _minigrid_sync(n)) for n in settings.sync_sizes]
    cases += [Case("cartpole-native", "gymnasium", CARTPOLE_ID, "native", n, "CartPoleVectorEnv",
                   lambda n=n: _cartpole_native(n)) for n in settings.sizes]
    if "shopping" in settings.groups:
        from rewardgym.benchmarks.throughput_shopping import shopping_cases

        cases += shopping_cases(Case)
    if "driving" in settings.groups:
        cases += driving_cases.cases(settings.drive_sizes, Case)
    if "locomotion" in settings.groups:
        cases += _locomotion_cases(settings.loco_sizes)
    return [case for case in cases if case.group in settings.groups]
