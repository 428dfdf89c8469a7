"""Env-step throughput: rewardgym's DoorKey-8x8 against MiniGrid and Gymnasium, in one run.

Measures, round-robin in one process so the ratios share the machine's fast and slow periods:
rewardgym's native vector env (numba kernels) at several batch sizes, and at the largest also
with flat observations and on all numba threads; rewardgym's single env
(``gym.make`` with its default wrappers, and ``.unwrapped``); MiniGrid's DoorKey-8x8 single env;
Gymnasium's ``SyncVectorEnv`` of MiniGrid DoorKey-8x8; and Gymnasium's ``CartPoleVectorEnv`` at the
same batch sizes as ours (a well-known numpy-vectorised yardstick). Random actions are sampled
before timing; resets are included.

The ``shopping`` group times the WebShop-style text env (``rewardgym/WebShopText-v1``: random
clickable actions, searching the instruction on the search page) and its SB3 view
(``rewardgym/WebShopDiscrete-v1``: random valid slots, and the rule policy), each also as
resets only (a "steps/s" row of a resets-only variant counts resets per second). It also checks
memory: the process's resident set size (``/proc/self/statm``) before and after
``shop_episodes`` episodes of each (100,000 in the full preset), which must stay flat (one
session per env, bounded caches). Each row is the median over the repeats of env-steps per
wall-clock second and per process CPU-second, plus microseconds per step call and the ratio to
MiniGrid's single env.

The ``driving`` group (:mod:`rewardgym.benchmarks.driving_cases`) times RouteDrive's native
vector env (vector and BEV observations), its single env, and highway-env's
``highway-fast-v0`` and ``intersection-v1`` (when installed); its rows carry
``ratio_vs_highway_fast``.

The ``locomotion`` group (not in the default groups: ``--groups locomotion``) times the MuJoCo
tasks (``rewardgym/HalfCheetahBackward-v1``, ``rewardgym/AntGoal-v1``) as our native vector env
(one thread, and with its physics split over 2 threads) against Gymnasium's ``SyncVectorEnv`` and
``AsyncVectorEnv`` of the same task at the same sizes (``--loco-sizes``, default 8 and 32);
native rows carry ``ratio_vs_sync`` and ``ratio_vs_async``.

Writes ``<out>/throughput.jsonl`` (appended), ``<out>/throughput.md`` and
``<out>/throughput.png``.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path

from rewardgym.agents.smoke import smoke_mode, smoke_note
from rewardgym.benchmarks import driving_cases, harness
from rewardgym.benchmarks.throughput_cases import (
    CARTPOLE_ID,
    DEFAULT_GROUPS,
    GROUPS,
    LOCO_IDS,
    MINIGRID_ID,
    OURS_ID,
    Case,
    build_cases,
    locomotion_ratios,
)
from rewardgym.benchmarks.throughput_report import (
    COLUMNS,
    NAME,
    headline,
    make_console,
    print_table,
    write_outputs,
)
from rewardgym.benchmarks.throughput_shopping import SHOP_DISCRETE_ID, SHOP_TEXT_ID, rss_mb

__all__ = [
    "CARTPOLE_ID",
    "COLUMNS",
    "DEFAULT_GROUPS",
    "FULL",
    "GROUPS",
    "LOCO_IDS",
    "MINIGRID_ID",
    "NAME",
    "OURS_ID",
    "QUICK",
    "SHOP_DISCRETE_ID",
    "SHOP_TEXT_ID",
    "SMOKE",
    "Case",
    "Settings",
    "build_cases",
    "build_parser",
    "headline",
    "locomotion_ratios",
    "main",
    "measure",
    "print_table",
    "rss_mb",
    "run",
    "write_outputs",
]


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one run measures and how long.

    Attributes:
        seconds: length of one timed run of one case.
        repeats: round-robin rounds; each row is the median over them.
        warmup_s: warm-up per case before the first round (JIT compilation comes on top).
        sizes: batch sizes of our native vector env and of CartPoleVectorEnv.
        sync_sizes: batch sizes of the MiniGrid SyncVectorEnv.
        groups: which case groups to run (see :data:`GROUPS`).
        shop_episodes: episodes of the shopping memory check, per env (0: skip it).
        loco_sizes: batch sizes of the locomotion group (native, sync and async alike).
    """

    seconds: float
    repeats: int
    warmup_s: float
    sizes: tuple[int, ...]
    sync_sizes: tuple[int, ...]
    groups: tuple[str, ...] = DEFAULT_GROUPS
    shop_episodes: int = 0
    loco_sizes: tuple[int, ...] = (8, 32)
    drive_sizes: tuple[int, ...] = (1024, 4096)

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ValueError(f"Settings.seconds: expected a positive number, got {self.seconds!r}")
        if self.repeats < 1:
            raise ValueError(f"Settings.repeats: expected an int >= 1, got {self.repeats!r}")
        if self.warmup_s < 0:
            raise ValueError(f"Settings.warmup_s: expected >= 0, got {self.warmup_s!r}")
        for field in ("sizes", "sync_sizes"):
            bad = [n for n in getattr(self, field) if n < 1]
            if bad:
                raise ValueError(f"Settings.{field}: expected positive ints, got {bad}")
        if self.shop_episodes < 0:
            raise ValueError(f"Settings.shop_episodes: expected an int >= 0, got "
                             f"{self.shop_episodes!r}")
        unknown = sorted(set(self.groups) - set(GROUPS))
        if unknown:
            raise ValueError(f"Settings.groups: unknown {unknown}, expected a subset of {GROUPS}")


QUICK = Settings(seconds=1.0, repeats=2, warmup_s=0.2, sizes=(64, 1024, 4096), sync_sizes=(8,),
                 shop_episodes=2_000)
FULL = Settings(seconds=3.0, repeats=3, warmup_s=0.5, sizes=(1, 64, 1024, 4096),
                sync_sizes=(8, 64), shop_episodes=100_000)
#: ``REWARDGYM_SMOKE=1`` (``rewardgym.agents.smoke``): every case of the quick preset is built,
#: stepped and written, at small batches and a few memory-check episodes (a check that it runs).
SMOKE = Settings(seconds=0.02, repeats=1, warmup_s=0.01, sizes=(16, 64), sync_sizes=(2,),
                 shop_episodes=20, loco_sizes=(2,), drive_sizes=(16,))


def measure(settings: Settings, progress: Callable[[str], None] | None = None) -> list[dict]:
    """Build every case, time them round-robin, and return one row per case.

    Rows carry ``ratio_vs_minigrid_single`` (wall) and ``ratio_vs_minigrid_single_cpu`` when the
    MiniGrid single env is among the cases, else ``None``.
    """
    cases = build_cases(settings)
    steppers = {}
    for case in cases:
        if progress is not None:
            progress(f"build {case.label}")
        steppers[case.label] = case.make()
    summaries = harness.run_interleaved(steppers, seconds=settings.seconds,
                                        repeats=settings.repeats, warmup_s=settings.warmup_s,
                                        progress=progress)
    rows = [{"library": c.library, "env": c.env, "mode": c.mode, "n": c.n, "variant": c.variant,
             "label": c.label, **summaries[c.label].as_row()} for c in cases]
    for case, row in zip(cases, rows, strict=True):
        if case.memory is not None and settings.shop_episodes > 0:
            if progress is not None:
                progress(f"memory check {case.label}: {settings.shop_episodes:,} episodes")
            row.update(case.memory(settings.shop_episodes))
    ref = next((r for r in rows if r["library"] == "minigrid" and r["mode"] == "single"), None)
    for row in rows:
        row["ratio_vs_minigrid_single"] = (
            None if ref is None else row["steps_per_s_wall"] / ref["steps_per_s_wall"])
        row["ratio_vs_minigrid_single_cpu"] = (
            None if ref is None else row["steps_per_s_cpu"] / ref["steps_per_s_cpu"])
    locomotion_ratios(rows)
    driving_cases.add_ratios(rows)
    return rows


def run(quick: bool = False, out_dir: str | Path = "results", *, seconds: float | None = None,
        repeats: int | None = None, sizes: Sequence[int] | None = None,
        sync_sizes: Sequence[int] | None = None, groups: Sequence[str] | None = None,
        shop_episodes: int | None = None, verbose: bool = True,
        loco_sizes: Sequence[int] | None = None,
        drive_sizes: Sequence[int] | None = None) -> list[dict]:
    """Run the benchmark, write its outputs under ``out_dir`` and return the rows.

    Args:
        quick: the short preset (~30 s after JIT warm-up) instead of the full one (~2.5 min).
        out_dir: folder of ``throughput.{jsonl,md,png}``.
        seconds: overrides the preset's length of one timed run.
        repeats: overrides the preset's number of round-robin rounds.
        sizes: overrides the batch sizes of our vector env and CartPoleVectorEnv.
        sync_sizes: overrides the batch sizes of MiniGrid's SyncVectorEnv.
        groups: restricts the case groups (subset of :data:`GROUPS`).
        shop_episodes: overrides the episodes of the shopping memory check (0 skips it).
        verbose: print progress and the final table.
        loco_sizes: overrides the batch sizes of the locomotion group.
        drive_sizes: overrides the batch sizes of RouteDrive's native rows.

    Returns:
        One dict per case with the measured rates and ratios (as written to the JSON lines).
    """
    base = QUICK if quick else FULL
    if smoke_mode():
        smoke_note(f"throughput at batch sizes {SMOKE.sizes}, {SMOKE.shop_episodes} memory-check "
                   "episodes")
        base = dataclasses.replace(SMOKE, groups=base.groups)
    settings = dataclasses.replace(
        base,
        seconds=base.seconds if seconds is None else seconds,
        repeats=base.repeats if repeats is None else repeats,
        warmup_s=base.warmup_s if seconds is None else min(base.warmup_s, seconds),
        sizes=base.sizes if sizes is None else tuple(sizes),
        sync_sizes=base.sync_sizes if sync_sizes is None else tuple(sync_sizes),
        groups=base.groups if groups is None else tuple(groups),
        shop_episodes=base.shop_episodes if shop_episodes is None else shop_episodes,
        loco_sizes=base.loco_sizes if loco_sizes is None else tuple(loco_sizes),
        drive_sizes=base.drive_sizes if drive_sizes is None else tuple(drive_sizes),
    )
    console = make_console() if verbose else None
    rows = measure(settings, progress=console.log if console is not None else None)
    paths = write_outputs(rows, settings, out_dir, quick)
    if console is not None:
        print_table(rows, console)
        console.print("wrote " + ", ".join(str(p) for p in paths.values()))
    return rows


def _int_list(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated ints like 64,1024, got {text!r}") from None


def _group_list(text: str) -> list[str]:
    groups = [g.strip() for g in text.split(",") if g.strip()]
    unknown = sorted(set(groups) - set(GROUPS))
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown groups {unknown}, choose from {GROUPS}")
    return groups


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface (also used by ``rewardgym bench throughput``)."""
    parser = argparse.ArgumentParser(prog="python -m rewardgym.benchmarks.throughput",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="short preset: 2 rounds x 1 s, n=64,1024,4096 (default: 3 x 3 s, "
                             "n=1,64,1024,4096)")
    parser.add_argument("--seconds", type=float, default=None, help="length of one timed run")
    parser.add_argument("--repeats", type=int, default=None, help="round-robin rounds (median)")
    parser.add_argument("--out", default="results", help="output folder (default: results)")
    parser.add_argument("--sizes", type=_int_list, default=None,
                        help="batch sizes of our vector env and CartPoleVectorEnv, e.g. 64,4096")
    parser.add_argument("--sync-sizes", type=_int_list, default=None,
                        help="batch sizes of MiniGrid's SyncVectorEnv, e.g. 8")
    parser.add_argument("--groups", type=_group_list, default=None,
                        help=f"comma-separated subset of {','.join(GROUPS)}")
    parser.add_argument("--shop-episodes", type=int, default=None,
                        help="episodes per env of the shopping memory check (default: 2,000 "
                             "quick, 100,000 full; 0 skips it)")
    parser.add_argument("--loco-sizes", type=_int_list, default=None,
                        help="batch sizes of the locomotion group (default 8,32)")
    parser.add_argument("--drive-sizes", type=_int_list, default=None,
                        help="batch sizes of RouteDrive's native rows (default 1024,4096)")
    parser.add_argument("--no-print", action="store_true", help="no progress or table output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark from command-line arguments; returns the exit status."""
    args = build_parser().parse_args(argv)
    run(args.quick, args.out, seconds=args.seconds, repeats=args.repeats, sizes=args.sizes,
        sync_sizes=args.sync_sizes, groups=args.groups, shop_episodes=args.shop_episodes,
        verbose=not args.no_print, loco_sizes=args.loco_sizes, drive_sizes=args.drive_sizes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
