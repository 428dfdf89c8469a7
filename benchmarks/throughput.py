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
import inspect
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym

from rewardgym.benchmarks import driving_cases, harness
from rewardgym.benchmarks.harness import Column

NAME = "throughput"
OURS_ID = "rewardgym/DoorKey-8x8-v0"
MINIGRID_ID = "MiniGrid-DoorKey-8x8-v0"
CARTPOLE_ID = "CartPole-v1"

SHOP_TEXT_ID = "rewardgym/WebShopText-v1"
SHOP_DISCRETE_ID = "rewardgym/WebShopDiscrete-v1"

GROUPS = ("minigrid-single", "ours-single", "ours-native", "ours-native-flat",
          "ours-native-threads", "minigrid-sync", "cartpole-native", "shopping", "driving",
          "locomotion")
# What a run measures unless told otherwise: the MuJoCo group is opt-in (it starts subprocesses).
DEFAULT_GROUPS = GROUPS[:-1]
LOCO_IDS = ("rewardgym/HalfCheetahBackward-v1", "rewardgym/AntGoal-v1")


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


# ---- shopping: text env and its SB3 view --------------------------------------------------


class _ShopTextStepper:
    """Random clickable actions on the text env; ``search[instruction]`` on the search page."""

    steps_per_call = 1

    def __init__(self, env: gym.Env, pool: int = 4096, seed: int = 0) -> None:
        import numpy as np

        self.env = env
        self._draws = np.random.default_rng(seed).random(pool).tolist()
        self._next = 0
        self.episodes = 0
        _, self._info = env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        step, reset, draws = self.env.step, self.env.reset, self._draws
        j, size, info = self._next, len(self._draws), self._info
        for _ in range(calls):
            if info["page"] == "search":
                action = f"search[{info['instruction']}]"
            else:
                clickables = info["available_actions"]["clickables"]
                action = f"click[{clickables[int(draws[j] * len(clickables))]}]"
            _, _, terminated, truncated, info = step(action)
            if terminated or truncated:
                _, info = reset()
                self.episodes += 1
            j += 1
            if j == size:
                j = 0
        self._next, self._info = j, info


class _ShopDiscreteStepper:
    """The discrete view driven by random valid slots or by the rule policy."""

    steps_per_call = 1

    def __init__(self, env: gym.Env, policy: str, pool: int = 4096, seed: int = 0) -> None:
        import numpy as np

        from rewardgym.envs.shopping.baselines import rule_policy

        self.env, self._rule = env, (rule_policy if policy == "rule" else None)
        self._masks = env.unwrapped.action_masks
        self._draws = np.random.default_rng(seed).random(pool).tolist()
        self._next = 0
        self.episodes = 0
        self._obs, self._info = env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        import numpy as np

        step, reset, draws, rule = self.env.step, self.env.reset, self._draws, self._rule
        j, size, obs, info = self._next, len(self._draws), self._obs, self._info
        for _ in range(calls):
            if rule is not None:
                action = rule(self.env, obs, info, None)
            else:
                valid = np.flatnonzero(self._masks())
                action = int(valid[int(draws[j] * len(valid))])
            obs, _, terminated, truncated, info = step(action)
            if terminated or truncated:
                obs, info = reset()
                self.episodes += 1
            j += 1
            if j == size:
                j = 0
        self._next, self._obs, self._info = j, obs, info


class _ResetStepper:
    """Resets only: each call is one ``reset()`` (so its "steps/s" are resets per second)."""

    steps_per_call = 1

    def __init__(self, env: gym.Env, seed: int = 0) -> None:
        self.env = env
        env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        reset = self.env.reset
        for _ in range(calls):
            reset()


def _shop_env(env_id: str) -> gym.Env:
    if env_id == SHOP_DISCRETE_ID and env_id not in gym.registry:
        # Until the registry row exists (it is added in envs/__init__.py).
        from rewardgym.envs.shopping.discrete import WebShopDiscreteEnv

        return gym.wrappers.TimeLimit(WebShopDiscreteEnv(), max_episode_steps=15)
    return gym.make(env_id)


def rss_mb() -> float:
    """This process's current resident set size in MiB (``/proc/self/statm``; else peak RSS)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            resident_pages = int(f.read().split()[1])
        return resident_pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _memory_check(make: Callable[[], Any], episodes: int) -> dict[str, Any]:
    """RSS before and after ``episodes`` episodes of a fresh stepper (after a 2% warm-up).

    Also samples the RSS after each tenth of the episodes, to show it stays flat.
    """
    import gc

    stepper = make()

    def run(n_episodes: int) -> None:
        target = stepper.episodes + n_episodes
        while stepper.episodes < target:
            stepper(16)

    run(max(1, episodes // 50))  # warm caches (BM25 LRU, token hashes) before the baseline
    gc.collect()
    before, samples, start = rss_mb(), [], stepper.episodes
    for _ in range(10):
        run(max(1, episodes // 10))
        samples.append(rss_mb())
    gc.collect()
    after = rss_mb()
    return {"memory_episodes": stepper.episodes - start, "rss_before_mb": before,
            "rss_after_mb": after, "rss_growth_mb": after - before, "rss_samples_mb": samples}


def _shopping_cases() -> list[Case]:
    text, disc = SHOP_TEXT_ID, SHOP_DISCRETE_ID

    def text_random() -> harness.Stepper:
        return _ShopTextStepper(_shop_env(text))

    def disc_random() -> harness.Stepper:
        return _ShopDiscreteStepper(_shop_env(disc), "random")

    def disc_rule() -> harness.Stepper:
        return _ShopDiscreteStepper(_shop_env(disc), "rule")

    return [
        Case("shopping", "rewardgym", text, "single", 1, "WebShopText, random clicks",
             text_random, lambda n: _memory_check(text_random, n)),
        Case("shopping", "rewardgym", text, "single", 1, "WebShopText, resets only",
             lambda: _ResetStepper(_shop_env(text))),
        Case("shopping", "rewardgym", disc, "single", 1, "WebShopDiscrete, random valid slots",
             disc_random),
        Case("shopping", "rewardgym", disc, "single", 1, "WebShopDiscrete, rule policy",
             disc_rule, lambda n: _memory_check(disc_rule, n)),
        Case("shopping", "rewardgym", disc, "single", 1, "WebShopDiscrete, resets only",
             lambda: _ResetStepper(_shop_env(disc))),
    ]


def build_cases(settings: Settings) -> list[Case]:
    """The cases of ``settings``, in the order of the first round."""
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
        cases += _shopping_cases()
    if "driving" in settings.groups:
        cases += driving_cases.cases(settings.drive_sizes, Case)
    if "locomotion" in settings.groups:
        cases += _locomotion_cases(settings.loco_sizes)
    return [case for case in cases if case.group in settings.groups]


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


COLUMNS = (
    Column("library", "library"),
    Column("env", "env"),
    Column("mode", "mode"),
    Column("n", "n", harness.fmt_int),
    Column("variant", "variant"),
    Column("steps/s (wall)", "steps_per_s_wall", harness.fmt_rate),
    Column("steps/s (cpu)", "steps_per_s_cpu", harness.fmt_rate),
    Column("µs/call", "us_per_call", harness.fmt_float),
    Column("vs MiniGrid single (wall)", "ratio_vs_minigrid_single", harness.fmt_ratio),
    Column("vs MiniGrid single (cpu)", "ratio_vs_minigrid_single_cpu", harness.fmt_ratio),
    Column("vs highway-fast (wall)", "ratio_vs_highway_fast", harness.fmt_ratio),
    Column("RSS before (MiB)", "rss_before_mb", harness.fmt_float),
    Column("RSS after (MiB)", "rss_after_mb", harness.fmt_float),
)


def headline(rows: Sequence[dict]) -> list[str]:
    """The two ratios the README quotes, as sentences (empty if a needed row is missing)."""
    lines = []
    natives = [r for r in rows if r["library"] == "rewardgym" and r["mode"] == "native"
               and r["variant"] == "Dict obs"]
    single = next((r for r in rows if r["library"] == "rewardgym" and r["mode"] == "single"
                   and r["variant"] == "gym.make"), None)
    big = max(natives, key=lambda r: r["n"], default=None)
    if big is not None and big["ratio_vs_minigrid_single"] is not None:
        lines.append(f"rewardgym native vector env n={big['n']} vs MiniGrid single env: "
                     f"{harness.fmt_ratio(big['ratio_vs_minigrid_single'])} (wall), "
                     f"{harness.fmt_ratio(big['ratio_vs_minigrid_single_cpu'])} (cpu)")
    if single is not None and single["ratio_vs_minigrid_single"] is not None:
        lines.append(f"rewardgym single env vs MiniGrid single env: "
                     f"{harness.fmt_ratio(single['ratio_vs_minigrid_single'])} (wall), "
                     f"{harness.fmt_ratio(single['ratio_vs_minigrid_single_cpu'])} (cpu)")
    shop = {r["variant"]: r for r in rows if r["env"] in (SHOP_TEXT_ID, SHOP_DISCRETE_ID)}
    for name in ("WebShopText", "WebShopDiscrete"):
        steps = next((r for v, r in shop.items() if v.startswith(name) and "resets" not in v
                      and "rss_before_mb" in r), None)
        resets = shop.get(f"{name}, resets only")
        if steps is None or resets is None:
            continue
        lines.append(f"{name} ({steps['variant'].split(', ')[1]}): "
                     f"{harness.fmt_rate(steps['steps_per_s_wall'])} steps/s, "
                     f"{harness.fmt_rate(resets['steps_per_s_wall'])} resets/s; RSS "
                     f"{steps['rss_before_mb']:.1f} -> {steps['rss_after_mb']:.1f} MiB over "
                     f"{steps['memory_episodes']:,} episodes")
    lines += driving_cases.headline(rows)
    for row in rows:
        if row.get("ratio_vs_sync") is not None:
            lines.append(f"{row['env']} native n={row['n']} ({row['variant']}): "
                         f"{harness.fmt_ratio(row['ratio_vs_sync'])} of SyncVectorEnv, "
                         f"{harness.fmt_ratio(row.get('ratio_vs_async'))} of AsyncVectorEnv "
                         "(wall)")
    return lines


def write_outputs(rows: Sequence[dict], settings: Settings, out_dir: str | Path,
                  quick: bool) -> dict[str, Path]:
    """Append the JSON lines and (re)write the markdown table and the bar chart."""
    out = Path(out_dir)
    meta = harness.run_metadata()
    machine, vers = meta["machine"], meta["versions"]
    jsonl = harness.record(NAME, rows, out, quick=quick, settings=dataclasses.asdict(settings))
    notes = [
        f"{meta['timestamp_utc']}, commit `{meta['git_commit']}`, {machine['cpu_model']}, "
        f"{machine['nproc']} cores, numba threads {machine.get('numba_threads')}; "
        + ", ".join(f"{k} {v}" for k, v in vers.items()) + ".",
        "",
        f"Median of {settings.repeats} round-robin run(s) of {settings.seconds:g} s per row; "
        "random actions pre-sampled; resets included (autoreset for vector envs). "
        "CPU-time rates count all of this process's threads, so they fall below wall rates "
        "when numba runs a batch on several threads. Resets-only rows count resets per second. "
        "RSS: resident memory before and after the shopping memory check's episodes. "
        "Max 1-minute load average: "
        f"{max(r['load1'] for r in rows):.2f}.",
        "",
        *[f"- {line}" for line in headline(rows)],
    ]
    md = harness.write_markdown(out / f"{NAME}.md", rows, COLUMNS,
                                title="Env-step throughput", notes=notes)
    png = harness.plot_bars(out / f"{NAME}.png", [r["label"] for r in rows],
                            [r["steps_per_s_wall"] for r in rows],
                            title="Env-steps per second (wall clock, log scale)",
                            xlabel="env-steps / s", groups=[r["library"] for r in rows])
    return {"jsonl": jsonl, "md": md, "png": png}


def _console() -> Any:
    from rewardgym.agents.console import make_console

    console = make_console()
    if not console.is_terminal:  # piped or logged: don't squeeze the table into 80 columns
        console.width = max(console.width, 180)
    return console


def print_table(rows: Sequence[dict], console: Any = None) -> None:
    """Print the rows as a rich table, then the headline ratios."""
    from rich.table import Table

    console = _console() if console is None else console
    table = Table(title="Env-step throughput")
    for col in COLUMNS:
        table.add_column(col.header, justify="right" if col.fmt is not str else "left")
    for cells in harness.table_cells(rows, COLUMNS):
        table.add_row(*cells)
    console.print(table)
    for line in headline(rows):
        console.print(line)


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
    console = _console() if verbose else None
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
