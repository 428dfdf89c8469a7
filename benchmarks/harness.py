"""Timing and recording helpers shared by the benchmark scripts.

The method is the one in ``research/perf_baselines.md``:

* every stepper is warmed up first (this also triggers numba's JIT compilation);
* actions are sampled ahead of time into a pool that the timed loop cycles through, so sampling
  cost is excluded;
* resets are included: vector envs auto-reset, single envs are reset by hand on
  ``terminated or truncated``;
* each number is the median of ``R`` timed runs of about ``T`` seconds, reported as env-steps per
  second of wall-clock time and per second of this process's CPU time (robust to time-slicing on
  a shared machine), together with the 1-minute load average;
* variants compared with each other are run round-robin (:func:`run_interleaved`), with the order
  reversed every other round, so ratios come from the same periods of machine speed.

Results go to ``results/<name>.jsonl`` (appended, one JSON object per row, with machine,
versions, git commit and UTC timestamp), ``results/<name>.md`` (a markdown table of the latest run)
and ``results/<name>.png`` (a bar chart). Nothing here asserts anything about speed.

Example:
    >>> import gymnasium as gym
    >>> env = gym.make("CartPole-v1")
    >>> stepper = single_stepper(env, seed=0)
    >>> result = time_stepper(stepper, seconds=0.05, repeats=1, warmup_s=0.01)
    >>> result.wall_rate > 0
    True
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

# Aim for ~20 ms between clock reads: negligible clock overhead, fine-grained stopping.
_CHUNK_SECONDS = 0.02
_VERSIONED_PACKAGES = ("numpy", "numba", "gymnasium", "minigrid")


class Stepper(Protocol):
    """Anything that performs ``calls`` env calls; ``steps_per_call`` env-steps each."""

    steps_per_call: int

    def __call__(self, calls: int) -> None:
        """Run ``calls`` step calls (resets included)."""


@dataclasses.dataclass(frozen=True)
class Measurement:
    """One timed run of a stepper."""

    calls: int
    steps: int
    wall_s: float
    cpu_s: float
    load1: float

    @property
    def wall_rate(self) -> float:
        """Env-steps per wall-clock second."""
        return self.steps / self.wall_s

    @property
    def cpu_rate(self) -> float:
        """Env-steps per CPU-second of this process (all its threads)."""
        return self.steps / self.cpu_s if self.cpu_s > 0 else float("nan")

    @property
    def us_per_call(self) -> float:
        """Wall-clock microseconds per step call."""
        return 1e6 * self.wall_s / self.calls


@dataclasses.dataclass(frozen=True)
class Summary:
    """Medians over the repeats of one stepper."""

    measurements: tuple[Measurement, ...]

    @property
    def wall_rate(self) -> float:
        """Median env-steps per wall-clock second."""
        return statistics.median(m.wall_rate for m in self.measurements)

    @property
    def cpu_rate(self) -> float:
        """Median env-steps per process CPU-second."""
        return statistics.median(m.cpu_rate for m in self.measurements)

    @property
    def us_per_call(self) -> float:
        """Median wall-clock microseconds per step call."""
        return statistics.median(m.us_per_call for m in self.measurements)

    @property
    def load1(self) -> float:
        """Largest 1-minute load average seen during the repeats (the pessimistic one)."""
        return max(m.load1 for m in self.measurements)

    def as_row(self) -> dict[str, Any]:
        """The summary as plain JSON-able fields."""
        return {
            "steps_per_s_wall": self.wall_rate,
            "steps_per_s_cpu": self.cpu_rate,
            "us_per_call": self.us_per_call,
            "repeats": len(self.measurements),
            "seconds_per_repeat": statistics.median(m.wall_s for m in self.measurements),
            "calls": sum(m.calls for m in self.measurements),
            "wall_rates": [m.wall_rate for m in self.measurements],
            "load1": self.load1,
        }


class _VectorStepper:
    def __init__(self, env: gym.vector.VectorEnv, pool: int, seed: int) -> None:
        self.env = env
        self.steps_per_call = env.num_envs
        env.action_space.seed(seed)
        self._actions = [env.action_space.sample() for _ in range(pool)]
        self._next = 0
        env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        step, actions, j, size = self.env.step, self._actions, self._next, len(self._actions)
        for _ in range(calls):
            step(actions[j])  # the env auto-resets finished sub-envs itself
            j += 1
            if j == size:
                j = 0
        self._next = j


class _SingleStepper:
    steps_per_call = 1

    def __init__(self, env: gym.Env, pool: int, seed: int) -> None:
        self.env = env
        env.action_space.seed(seed)
        # Python ints, what a typical agent loop passes for a Discrete space.
        self._actions = [_plain(env.action_space.sample()) for _ in range(pool)]
        self._next = 0
        env.reset(seed=seed)

    def __call__(self, calls: int) -> None:
        step, reset = self.env.step, self.env.reset
        actions, j, size = self._actions, self._next, len(self._actions)
        for _ in range(calls):
            _, _, terminated, truncated, _ = step(actions[j])
            if terminated or truncated:
                reset()
            j += 1
            if j == size:
                j = 0
        self._next = j


def _plain(action: Any) -> Any:
    return int(action) if isinstance(action, np.integer) else action


def vector_stepper(env: gym.vector.VectorEnv, *, pool: int = 64, seed: int = 0) -> Stepper:
    """A stepper over a vector env with ``pool`` pre-sampled action batches (resets: autoreset).

    Args:
        env: any Gymnasium ``VectorEnv``; it is reset with ``seed`` here.
        pool: number of pre-sampled action batches cycled through.
        seed: seed of the env and of its action space.
    """
    return _VectorStepper(env, pool, seed)


def single_stepper(env: gym.Env, *, pool: int = 1024, seed: int = 0) -> Stepper:
    """A stepper over a single env with ``pool`` pre-sampled actions, resetting on episode end.

    Args:
        env: any Gymnasium ``Env``; it is reset with ``seed`` here.
        pool: number of pre-sampled actions cycled through.
        seed: seed of the env (first reset) and of its action space.
    """
    return _SingleStepper(env, pool, seed)


class _NumbaThreads:
    def __init__(self, stepper: Stepper, threads: int) -> None:
        self.stepper = stepper
        self.threads = threads
        self.steps_per_call = stepper.steps_per_call

    def __call__(self, calls: int) -> None:
        import numba

        previous = numba.get_num_threads()
        numba.set_num_threads(self.threads)
        try:
            self.stepper(calls)
        finally:
            numba.set_num_threads(previous)


def with_numba_threads(stepper: Stepper, threads: int) -> Stepper:
    """``stepper`` run with numba's parallel regions limited to ``threads`` threads.

    On a small shared machine a parallel region waits for its slowest thread, so one thread
    descheduled by another process stalls the whole call; this variant shows the kernel's
    speed without that effect.
    """
    return _NumbaThreads(stepper, threads)


def warm_up(stepper: Stepper, seconds: float) -> int:
    """Run ``stepper`` for ``seconds`` (after one untimed call that triggers any JIT).

    Returns:
        How many calls take about 20 ms, the chunk size for :func:`measure`.
    """
    stepper(1)
    calls, start = 0, time.perf_counter()
    while True:
        stepper(1 + calls // 4)  # growing batches keep clock reads rare for fast steppers
        calls += 1 + calls // 4
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            break
    return max(1, int(_CHUNK_SECONDS * calls / elapsed))


def measure(stepper: Stepper, seconds: float, chunk: int) -> Measurement:
    """Time ``stepper`` for at least ``seconds`` of wall-clock, in chunks of ``chunk`` calls."""
    calls = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    while True:
        stepper(chunk)
        calls += chunk
        wall = time.perf_counter() - wall0
        if wall >= seconds:
            break
    cpu = time.process_time() - cpu0
    return Measurement(calls=calls, steps=calls * stepper.steps_per_call, wall_s=wall, cpu_s=cpu,
                       load1=os.getloadavg()[0])


def _smoke_timing(seconds: float, repeats: int, warmup_s: float) -> tuple[float, int, float]:
    """``REWARDGYM_SMOKE=1``: time each case for a moment, once (a check that it runs)."""
    from rewardgym.agents.smoke import smoke_mode

    if smoke_mode():
        return min(seconds, 0.02), 1, min(warmup_s, 0.01)
    return seconds, repeats, warmup_s


def time_stepper(stepper: Stepper, *, seconds: float, repeats: int,
                 warmup_s: float = 0.5) -> Summary:
    """Warm up, then take the median of ``repeats`` runs of ``seconds`` each (one stepper)."""
    seconds, repeats, warmup_s = _smoke_timing(seconds, repeats, warmup_s)
    chunk = warm_up(stepper, warmup_s)
    return Summary(tuple(measure(stepper, seconds, chunk) for _ in range(repeats)))


def run_interleaved(steppers: Mapping[str, Stepper], *, seconds: float, repeats: int,
                    warmup_s: float = 0.5,
                    progress: Callable[[str], None] | None = None) -> dict[str, Summary]:
    """Time several steppers round-robin so they share the machine's fast and slow periods.

    All steppers are warmed up first (JIT included); then each round times every stepper once,
    in reverse order every other round, and each is re-warmed briefly before its turn so its
    caches are hot again after its neighbour ran.

    Args:
        steppers: name -> stepper, in the order of the first round.
        seconds: length of one timed run.
        repeats: rounds; each stepper's result is the median over them.
        warmup_s: initial warm-up per stepper.
        progress: called with a short message before each warm-up and round.

    Returns:
        name -> summary, in the order of ``steppers``.
    """
    seconds, repeats, warmup_s = _smoke_timing(seconds, repeats, warmup_s)
    chunks: dict[str, int] = {}
    for name, stepper in steppers.items():
        if progress is not None:
            progress(f"warm-up {name}")
        chunks[name] = warm_up(stepper, warmup_s)
    results: dict[str, list[Measurement]] = {name: [] for name in steppers}
    rewarm_s = min(0.1, seconds / 10)
    for r in range(repeats):
        if progress is not None:
            progress(f"round {r + 1}/{repeats}")
        order = list(steppers) if r % 2 == 0 else list(reversed(steppers))
        for name in order:
            measure(steppers[name], rewarm_s, chunks[name])
            results[name].append(measure(steppers[name], seconds, chunks[name]))
    return {name: Summary(tuple(ms)) for name, ms in results.items()}


def preset_timing(quick: bool, seconds: float | None = None,
                  repeats: int | None = None) -> tuple[float, int]:
    """``(seconds, repeats)`` of an overhead benchmark: 0.5 s x 2 quick, 2 s x 3 full.

    An argument that is not None wins over the preset.

    Example:
        >>> preset_timing(True), preset_timing(False, repeats=5)
        ((0.5, 2), (2.0, 5))
    """
    return (0.5 if quick else 2.0) if seconds is None else seconds, \
        (2 if quick else 3) if repeats is None else repeats


def overhead_rows(envs: Mapping[str, tuple[str, gym.vector.VectorEnv]], *, seconds: float,
                  repeats: int) -> list[dict[str, Any]]:
    """Time labelled vector envs round-robin against their group's baseline, then close them.

    Args:
        envs: label -> (group, vector env); the first env of each group is its baseline
            (e.g. the bare env before the wrapped ones).
        seconds: length of one timed run (:func:`run_interleaved`).
        repeats: rounds; each row is the median over them.

    Returns:
        One row per label, in order: ``group``, ``case`` (the label), ``us_per_step`` (µs per
        vector step), ``overhead_us`` and ``overhead_pct`` (over the group's baseline) and
        ``env_steps_per_s``.
    """
    steppers = {label: vector_stepper(env) for label, (_, env) in envs.items()}
    try:
        summaries = run_interleaved(steppers, seconds=seconds, repeats=repeats)
    finally:
        for _, env in envs.values():
            env.close()
    rows: list[dict[str, Any]] = []
    base_us: dict[str, float] = {}
    for label, (group, _) in envs.items():
        us = summaries[label].us_per_call
        base = base_us.setdefault(group, us)
        rows.append({"group": group, "case": label, "us_per_step": us,
                     "overhead_us": us - base, "overhead_pct": 100.0 * (us - base) / base,
                     "env_steps_per_s": summaries[label].wall_rate})
    return rows


def latest_env_id(name: str) -> str:
    """The newest registered ``rewardgym/<name>-v<N>`` (ids are bumped when results change).

    Raises:
        ValueError: no ``rewardgym/<name>-v<N>`` is registered.
    """
    import rewardgym  # noqa: F401  (registers the ids)

    prefix = f"rewardgym/{name}-v"
    versions = [int(key[len(prefix):]) for key in gym.registry
                if key.startswith(prefix) and key[len(prefix):].isdigit()]
    if not versions:
        raise ValueError(f"latest_env_id: no registered env rewardgym/{name}-v<N>")
    return f"{prefix}{max(versions)}"


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """CPU model, core count, platform and numba's threading, for every recorded row."""
    info: dict[str, Any] = {"cpu_model": cpu_model(), "nproc": os.cpu_count(),
                            "platform": platform.platform()}
    try:
        import numba

        info["numba_threads"] = numba.get_num_threads()
        info["numba_threading_layer"] = numba.threading_layer()
    except (ImportError, ValueError):  # ValueError: no parallel region has run yet
        pass
    return info


def versions() -> dict[str, str | None]:
    """Python and key package versions (``None`` for a package that is not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def git_commit(cwd: str | os.PathLike[str] | None = None) -> str | None:
    """``git rev-parse HEAD`` of the source tree, or ``None`` (no git, no repo, no commit)."""
    here = Path(__file__).resolve().parent if cwd is None else Path(cwd)
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True,
                              text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def run_metadata() -> dict[str, Any]:
    """Machine, versions, git commit and UTC timestamp: what every result row carries."""
    return {
        "timestamp_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "machine": machine_info(),
        "versions": versions(),
    }


def record(name: str, rows: Sequence[Mapping[str, Any]], out_dir: str | os.PathLike[str],
           **extra: Any) -> Path:
    """Append ``rows`` to ``<out_dir>/<name>.jsonl``, each with :func:`run_metadata` and ``extra``.

    Returns:
        The path of the JSON-lines file.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.jsonl"
    meta = {"bench": name, **run_metadata(), **extra}
    with path.open("a", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps({**meta, **row}, default=_json_default) + "\n")
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"record: cannot write {type(value).__name__} value {value!r} as JSON")


@dataclasses.dataclass(frozen=True)
class Column:
    """A table column: header, row key and how to format the value."""

    header: str
    key: str
    fmt: Callable[[Any], str] = str


def fmt_rate(value: float | None) -> str:
    """``12,345,678``-style integer rate; ``-`` when missing."""
    return "-" if value is None or value != value else f"{value:,.0f}"


def fmt_int(value: int | None) -> str:
    """``4,096``-style integer; ``-`` when missing."""
    return "-" if value is None else f"{value:,}"


def fmt_float(value: float | None) -> str:
    """Three significant digits; ``-`` when missing."""
    return "-" if value is None or value != value else f"{value:.3g}"


def fmt_ratio(value: float | None) -> str:
    """``12.3x``; ``-`` when missing."""
    return "-" if value is None or value != value else f"{value:,.1f}x"


def table_cells(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> list[list[str]]:
    """Rows formatted as strings, one list per row (for markdown and rich tables alike)."""
    return [[col.fmt(row.get(col.key)) for col in columns] for row in rows]


def write_markdown(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]],
                   columns: Sequence[Column], *, title: str,
                   notes: Sequence[str] = ()) -> Path:
    """Write a markdown table (overwriting): a title, ``notes`` lines, then one line per row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    numeric = [all(_is_number(r.get(c.key)) for r in rows) for c in columns]
    lines = [f"# {title}", ""]
    lines += [*notes, ""] if notes else []
    lines.append("| " + " | ".join(c.header for c in columns) + " |")
    lines.append("|" + "|".join("---:" if num else "---" for num in numeric) + "|")
    lines += ["| " + " | ".join(cells) + " |" for cells in table_cells(rows, columns)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def plot_bars(path: str | os.PathLike[str], labels: Sequence[str], values: Sequence[float], *,
              title: str, xlabel: str, groups: Sequence[str] | None = None) -> Path:
    """A horizontal bar chart on a log scale (Agg backend), one colour per group.

    Args:
        path: PNG file to write.
        labels: one label per bar, top to bottom.
        values: one positive value per bar.
        title: chart title.
        xlabel: x-axis label.
        groups: optional group of each bar (e.g. the library); same group, same colour.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    groups = list(groups) if groups is not None else ["" for _ in labels]
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour_of = {g: palette[i % len(palette)] for i, g in enumerate(dict.fromkeys(groups))}
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(labels) + 1.5), layout="constrained")
    y = np.arange(len(labels))
    ax.barh(y, values, color=[colour_of[g] for g in groups])
    for yi, v in zip(y, values, strict=True):
        ax.annotate(fmt_rate(v), (v, yi), xytext=(3, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlim(right=max(values) * 6)  # room for the value labels
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if any(groups):
        handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colour_of.values()]
        ax.legend(handles, list(colour_of), loc="best", fontsize=8)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
