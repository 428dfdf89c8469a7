"""One sweep runner for every study: a grid of settings × seeds, resumable, local or on Ray.

A **sweep is data** (a YAML file or a dict, :class:`SweepSpec`)::

    name: shaping_demo                 # the output folder <out>/<name>/
    run: rewardgym.benchmarks.sweep_examples:toy_run     # "module:function", importable
    axes: {scale: [0.1, 1.0], mode: [a, b]}              # the grid (every combination)
    fixed: {steps: 100}                # settings shared by every run
    seeds: [0, 1, 2]                   # or a count: 3 -> 0, 1, 2
    metrics: [score]                   # keys of the run's result to aggregate
    resources: {cpus: 1, gpus: 0}      # declared per run (Ray schedules by them)

The **run function** is ``fn(config: dict, run_dir: pathlib.Path) -> dict``: ``config`` is the
run's full resolved config (``fixed`` plus one value per axis plus ``seed``; an optional ``resolve``
function ``"module:function"``, ``resolve(config) -> dict``, may expand it first, e.g. into the
complete PPO hyper-parameters, so the key covers everything that shapes the result),
``run_dir`` an empty folder of its own (checkpoints, logs), and it returns a JSON-able dict that
holds at least the ``metrics``.

**Keys.** Each run is keyed by a hash of ``{run, resolved config, rewardgym version}``
(:func:`run_key`; key order inside dicts does not matter). A relaunch skips runs whose key has an
``ok`` row. Adding axis values or seeds to a spec extends the sweep; changing anything else under
the same output folder (``run``, ``fixed``, ``resolve``, the package version, or what ``resolve``
returns for a grid point already run) is refused with :class:`SweepConfigError`, because the new
runs would not be comparable with the old rows.

**Storage** (``<out>/<name>/``): ``sweep.json`` (what the folder was created for),
``results.jsonl`` (one row per finished run: key, coords, seed, config, status ``ok``/``failed``,
metrics, the full result, wall time, host, machine, versions, git commit), ``runs/<key>/`` (the
run directories), ``summary.md`` and ``summary.png`` (:mod:`rewardgym.benchmarks.sweep_report`).
Only the launching process appends to ``results.jsonl``, one ``os.write`` per row on an
``O_APPEND`` descriptor followed by ``fsync``; a torn last line (a kill mid-write) is cut off on
the next launch. A worker writes its result to ``runs/<key>/result.json`` (temp file + rename)
before the launcher appends the row, so a run that finished while the launcher was being killed
is collected, not rerun; a run that was in flight is rerun from an emptied run directory. Nothing
is lost or written twice. A lock file keeps two launchers off one folder.

**Backends.** ``local`` (default): one fresh ``spawn``-ed process per run, at most ``workers`` at
once; a process that dies without a result (segfault, OOM kill, ``os._exit``) is retried up to
``retries`` times; the children die with the launcher (``PR_SET_PDEATHSIG`` on Linux). ``ray``:
one Ray task per run with the spec's ``resources`` (``num_cpus``, ``num_gpus``) and
``max_retries=retries``, so Ray reruns a task whose worker died; ``address`` is ``None`` (start a
local instance), ``"auto"`` or ``"HOST:PORT"`` of an existing cluster. On a multi-node cluster the
package must be installed on every node and ``--out`` should be a shared filesystem if the run
directories matter (the rows come back through Ray either way).

Example:
    >>> import tempfile
    >>> spec = SweepSpec.from_dict({
    ...     "name": "doc", "run": "rewardgym.benchmarks.sweep_examples:toy_run",
    ...     "axes": {"scale": [1.0, 2.0]}, "fixed": {"noise": 0.0}, "seeds": 2,
    ...     "metrics": ["score"]})
    >>> [run.config for run in expand(spec)][:2]
    [{'noise': 0.0, 'scale': 1.0, 'seed': 0}, {'noise': 0.0, 'scale': 1.0, 'seed': 1}]
    >>> result = run_sweep(spec, out=tempfile.mkdtemp(), workers=1, progress=False,
    ...                    backend="inline")
    >>> [row["score"] for row in result.summary]
    [1.0, 2.0]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import importlib
import itertools
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import shutil
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from rewardgym.benchmarks import sweep_report

BACKENDS = ("local", "ray", "inline")
RESULTS = "results.jsonl"
SPEC_FILE = "sweep.json"
RESULT_FILE = "result.json"
_SPEC_KEYS = ("name", "run", "axes", "fixed", "seeds", "metrics", "resources", "threads",
              "retries", "resolve", "plot_x", "ci", "title")


class SweepConfigError(ValueError):
    """A spec that is malformed, or that changed under an output folder holding older results.

    Example:
        >>> try:
        ...     SweepSpec.from_dict({"name": "s", "run": "m:f", "axes": {}, "seeds": 0})
        ... except SweepConfigError as exc:
        ...     print(exc)
        seeds must be >= 1 or a list of ints, got 0
    """


@dataclasses.dataclass(frozen=True, kw_only=True)
class Resources:
    """What one run needs: CPUs and GPUs (Ray schedules by them; fractions allowed).

    Example:
        >>> Resources(cpus=2, gpus=0.5).cpus
        2.0
    """

    cpus: float = 1.0
    gpus: float = 0.0

    def __post_init__(self) -> None:
        for field in ("cpus", "gpus"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise SweepConfigError(f"resources.{field} must be a number >= 0, got {value!r}")
            object.__setattr__(self, field, float(value))


@dataclasses.dataclass(frozen=True, kw_only=True)
class SweepSpec:
    """A sweep as data: the run function, the grid, fixed settings, seeds and metrics.

    Build one with :meth:`from_dict` or :func:`load_spec` (YAML); the fields are validated here,
    with messages naming the field.

    Attributes:
        name: output folder name under ``out`` (letters, digits, ``-``, ``_``, ``.``).
        run: ``"module:function"`` of the run function (importable by every worker).
        axes: axis name -> list of values; the grid is their Cartesian product, in order.
        fixed: settings shared by every run (JSON-able).
        seeds: the seeds; every grid point runs once per seed (config key ``seed``).
        metrics: names of the numbers to aggregate from each run's result.
        resources: CPUs/GPUs per run.
        threads: torch/OpenMP threads in each run's process.
        retries: how often a run whose worker died is retried.
        resolve: optional ``"module:function"`` mapping a config to its fully resolved form.
        plot_x: the axis on the summary plot's x axis (default: the first axis).
        ci: interval over seeds, ``"t"`` or ``"bootstrap"``.
        title: title of the summary table and plot (default: the name).

    Example:
        >>> spec = SweepSpec.from_dict({"name": "s", "run": "m:f", "axes": {"lr": [1, 2]},
        ...                             "seeds": 3})
        >>> spec.seeds, spec.size
        ((0, 1, 2), 6)
    """

    name: str
    run: str
    axes: dict[str, tuple[Any, ...]]
    fixed: dict[str, Any] = dataclasses.field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    metrics: tuple[str, ...] = ()
    resources: Resources = dataclasses.field(default_factory=Resources)
    threads: int = 1
    retries: int = 2
    resolve: str | None = None
    plot_x: str | None = None
    ci: str = "t"
    title: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or not all(
                ch.isalnum() or ch in "-_." for ch in self.name) or self.name.startswith("."):
            raise SweepConfigError(f"name must be a folder name (letters, digits, - _ .), "
                                   f"got {self.name!r}")
        for field in ("run", "resolve"):
            value = getattr(self, field)
            if (value is not None or field == "run") and not _is_ref(value):
                raise SweepConfigError(f"{field} must be 'module:function', got {value!r}")
        if not isinstance(self.axes, Mapping):
            raise SweepConfigError(f"axes must be a mapping name -> values, got {self.axes!r}")
        axes = {}
        for axis, values in self.axes.items():
            if not isinstance(axis, str) or not axis:
                raise SweepConfigError(f"axes: axis names must be strings, got {axis!r}")
            if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence) \
                    or not values:
                raise SweepConfigError(f"axes.{axis} must be a non-empty list, got {values!r}")
            labels = [_canonical(v) for v in values]
            if len(set(labels)) != len(labels):
                raise SweepConfigError(f"axes.{axis} repeats a value: {list(values)!r}")
            axes[axis] = tuple(values)
        object.__setattr__(self, "axes", axes)
        if not isinstance(self.fixed, Mapping):
            raise SweepConfigError(f"fixed must be a mapping, got {self.fixed!r}")
        object.__setattr__(self, "fixed", dict(self.fixed))
        clash = sorted((set(axes) & set(self.fixed)) | ({"seed"} & (set(axes) | set(self.fixed))))
        if clash:
            raise SweepConfigError(f"keys {clash} are set twice (axes, fixed and the seed must "
                                   "not overlap)")
        seeds = self.seeds
        if isinstance(seeds, int) and not isinstance(seeds, bool):
            if seeds < 1:
                raise SweepConfigError(f"seeds must be >= 1 or a list of ints, got {seeds}")
            seeds = tuple(range(seeds))
        if isinstance(seeds, str) or not isinstance(seeds, Sequence) or not seeds or any(
                isinstance(s, bool) or not isinstance(s, int) for s in seeds) \
                or len(set(seeds)) != len(seeds):
            raise SweepConfigError(f"seeds must be a count or a list of distinct ints, "
                                   f"got {self.seeds!r}")
        object.__setattr__(self, "seeds", tuple(seeds))
        if isinstance(self.metrics, str) or not all(isinstance(m, str) for m in self.metrics):
            raise SweepConfigError(f"metrics must be a list of names, got {self.metrics!r}")
        object.__setattr__(self, "metrics", tuple(self.metrics))
        if isinstance(self.resources, Mapping):
            unknown = set(self.resources) - {"cpus", "gpus"}
            if unknown:
                raise SweepConfigError(f"resources: unknown keys {sorted(unknown)}, "
                                       "expected cpus, gpus")
            object.__setattr__(self, "resources", Resources(**self.resources))
        for field, low in (("threads", 1), ("retries", 0)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise SweepConfigError(f"{field} must be an int >= {low}, got {value!r}")
        if self.plot_x is not None and self.plot_x not in axes:
            raise SweepConfigError(f"plot_x must be one of the axes {list(axes)}, "
                                   f"got {self.plot_x!r}")
        if self.ci not in sweep_report.CI_METHODS:
            raise SweepConfigError(f"ci must be one of {sweep_report.CI_METHODS}, "
                                   f"got {self.ci!r}")
        _canonical(self.fixed)  # JSON-able, or a clear error now rather than at the first run

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepSpec:
        """A spec from plain data (what a YAML file holds), refusing unknown keys."""
        if not isinstance(data, Mapping):
            raise SweepConfigError(f"a sweep spec must be a mapping, got {type(data).__name__}")
        unknown = sorted(set(data) - set(_SPEC_KEYS))
        if unknown:
            raise SweepConfigError(f"unknown spec keys {unknown}; expected {list(_SPEC_KEYS)}")
        missing = [k for k in ("name", "run", "axes") if k not in data]
        if missing:
            raise SweepConfigError(f"spec is missing {missing}")
        return cls(**dict(data))

    @property
    def size(self) -> int:
        """Number of runs: grid points × seeds."""
        return math.prod(len(v) for v in self.axes.values()) * len(self.seeds)

    def identity(self, version: str) -> dict[str, Any]:
        """What an output folder is tied to: changing any of it needs a new folder."""
        return {"name": self.name, "run": self.run, "resolve": self.resolve,
                "fixed": json.loads(_canonical(self.fixed)), "rewardgym": version}


def shipped_specs() -> dict[str, Path]:
    """The specs shipped in ``rewardgym/benchmarks/sweeps/``: name -> path."""
    folder = Path(__file__).resolve().parent / "sweeps"
    return {p.stem: p for p in sorted(folder.glob("*.yml"))}


def load_spec(path: str | os.PathLike[str]) -> SweepSpec:
    """Read a sweep spec from a YAML (or JSON) file, or a shipped one by name (``toy``)."""
    import yaml

    path = Path(path)
    if not path.exists() and str(path) in shipped_specs():
        path = shipped_specs()[str(path)]
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepConfigError(f"sweep spec {path} does not exist (shipped specs: "
                               f"{sorted(shipped_specs())})") from None
    try:
        return SweepSpec.from_dict(data)
    except SweepConfigError as exc:
        raise SweepConfigError(f"{path}: {exc}") from None


def _is_ref(value: Any) -> bool:
    if not isinstance(value, str) or value.count(":") != 1:
        return False
    module, name = value.split(":")
    return bool(module) and bool(name) and all(p.isidentifier() for p in module.split(".")) \
        and all(p.isidentifier() for p in name.split("."))


def import_ref(ref: str) -> Callable[..., Any]:
    """The object named by ``"module:attr"`` (``attr`` may be dotted).

    Raises:
        SweepConfigError: a malformed reference, or a module/attribute that does not exist.
    """
    if not _is_ref(ref):
        raise SweepConfigError(f"expected 'module:function', got {ref!r}")
    module_name, attr = ref.split(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise SweepConfigError(f"cannot import {module_name!r} (from {ref!r}): {exc}") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SweepConfigError(f"{module_name!r} has no attribute {attr!r} (from {ref!r})")
        obj = getattr(obj, part)
    return obj


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} value {value!r} as JSON")


def _canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, tuples as lists, NaN refused."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False,
                          default=_json_default)
    except (TypeError, ValueError) as exc:
        raise SweepConfigError(f"not JSON-able (sweep settings must be plain data): "
                               f"{exc}") from None


def package_version() -> str:
    """The installed rewardgym version (part of every run key)."""
    import rewardgym

    return rewardgym.__version__


def run_key(run: str, config: Mapping[str, Any], version: str) -> str:
    """The 16-hex-digit key of one run: SHA-256 of its canonical ``{run, config, version}``.

    Example:
        >>> run_key("m:f", {"b": 1, "a": [1, 2]}, "0.1.0") == run_key(
        ...     "m:f", {"a": (1, 2), "b": 1}, "0.1.0")
        True
    """
    blob = _canonical({"run": run, "config": config, "rewardgym": version})
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a sweep: its key, grid coordinates, seed and full config.

    Example:
        >>> run = Run("abc", {"lr": 1}, 0, {"lr": 1, "seed": 0})
        >>> run.point
        '{"coords":{"lr":1},"seed":0}'
    """

    key: str
    coords: dict[str, Any]
    seed: int
    config: dict[str, Any]

    @property
    def point(self) -> str:
        """The run's place in the grid (coords + seed) as canonical JSON."""
        return _canonical({"coords": self.coords, "seed": self.seed})


def expand(spec: SweepSpec, version: str | None = None) -> list[Run]:
    """Every run of ``spec``: grid points in axis order (last axis fastest), seeds innermost."""
    version = package_version() if version is None else version
    resolve = import_ref(spec.resolve) if spec.resolve is not None else None
    runs = []
    for values in itertools.product(*spec.axes.values()):
        coords = dict(zip(spec.axes, values, strict=True))
        for seed in spec.seeds:
            config = json.loads(_canonical({**spec.fixed, **coords, "seed": seed}))
            if resolve is not None:
                resolved = resolve(dict(config))
                if not isinstance(resolved, Mapping):
                    raise SweepConfigError(f"resolve {spec.resolve!r} must return a dict, "
                                           f"got {type(resolved).__name__}")
                config = json.loads(_canonical(dict(resolved)))
            runs.append(Run(run_key(spec.run, config, version), coords, seed, config))
    return runs


# ---------------------------------------------------------------------------------------------
# Worker side (runs in a child process, a Ray worker, or inline)


def _set_threads(threads: int) -> None:
    # Environment first: torch (and numpy's BLAS) read it when a run function imports them.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    torch = sys.modules.get("torch")  # never imported here just for this: it costs seconds
    if torch is not None:
        torch.set_num_threads(threads)


def execute(task: Mapping[str, Any]) -> dict[str, Any]:
    """Run one task (``run``, ``config``, ``run_dir``, ``metrics``, ``key``, ``threads``).

    Never raises for a failing run function: the outcome is ``status`` ``ok`` or ``failed``
    (with the traceback's tail in ``error``), plus ``result``, ``metrics``, ``wall_s``, ``host``.
    """
    start = time.perf_counter()
    run_dir = Path(task["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    outcome: dict[str, Any] = {"key": task["key"], "host": socket.gethostname(),
                               "pid": os.getpid()}
    try:
        _set_threads(int(task["threads"]))
        fn = import_ref(task["run"])
        _set_threads(int(task["threads"]))  # again, if importing the run function loaded torch
        result = fn(dict(task["config"]), run_dir)
        if not isinstance(result, Mapping):
            raise TypeError(f"run function {task['run']!r} must return a dict, "
                            f"got {type(result).__name__}")
        missing = [m for m in task["metrics"] if m not in result]
        if missing:
            raise KeyError(f"run function {task['run']!r} returned no {missing} "
                           f"(it returned {sorted(result)})")
        result = json.loads(json.dumps(dict(result), default=_json_default))
        outcome |= {"status": "ok", "result": result, "error": None,
                    "metrics": {m: result[m] for m in task["metrics"]}}
    except Exception as exc:  # the row records it; the sweep goes on with the other runs
        tail = "".join(traceback.format_exception(exc)[-6:])
        outcome |= {"status": "failed", "result": None, "metrics": {},
                    "error": f"{type(exc).__name__}: {exc}\n{tail}"}
    outcome["wall_s"] = time.perf_counter() - start
    return outcome


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (so no orphan keeps running)."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG = 1


def _child_main(task: dict[str, Any], parent_pid: int) -> None:
    _die_with_parent()
    if os.getppid() != parent_pid:  # the launcher died before prctl took effect
        os._exit(1)
    outcome = execute(task)
    _write_atomic(Path(task["run_dir"]) / RESULT_FILE, outcome)


def _write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(data, handle, default=_json_default)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Launcher side


def append_row(path: Path, row: Mapping[str, Any]) -> None:
    """Append one JSON line with a single ``write`` on an ``O_APPEND`` descriptor, then fsync."""
    data = (json.dumps(row, default=_json_default) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def read_rows(path: str | os.PathLike[str], *, repair: bool = False) -> list[dict[str, Any]]:
    """The rows of a results file; a torn last line (no newline) is skipped, or cut if ``repair``.

    Raises:
        SweepConfigError: a complete line that is not JSON (the file was edited or corrupted).
    """
    path = Path(path)
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data) and repair:
        with path.open("r+b") as handle:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())
    rows = []
    for number, line in enumerate(data[:end].decode().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise SweepConfigError(f"{path}:{number} is not a JSON line ({exc})") from None
    return rows


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    import fcntl

    handle = (folder / ".lock").open("w")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepConfigError(f"another sweep process is writing to {folder}") from None
        yield
    finally:
        handle.close()


def _check_identity(folder: Path, identity: dict[str, Any]) -> None:
    path = folder / SPEC_FILE
    if not path.exists():
        _write_atomic(path, identity)
        return
    old = json.loads(path.read_text(encoding="utf-8"))
    if old != identity:
        diffs = [f"{k}: {_canonical(old.get(k))[:80]} -> {_canonical(identity.get(k))[:80]}"
                 for k in sorted(set(old) | set(identity)) if old.get(k) != identity.get(k)]
        raise SweepConfigError(
            f"{folder} holds results of a different sweep config ({'; '.join(diffs)}); "
            "use another --out folder, or delete the old one to start over")


def _check_points(folder: Path, runs: Sequence[Run], rows: Sequence[Mapping[str, Any]]) -> None:
    """Refuse rows whose grid point matches a current run but whose key (full config) differs."""
    key_of = {run.point: run.key for run in runs}
    for row in rows:
        point = _canonical({"coords": row["coords"], "seed": row["seed"]})
        if point in key_of and key_of[point] != row["key"]:
            raise SweepConfigError(
                f"{folder}: the run at {point} was done with another resolved config (key "
                f"{row['key']}, now {key_of[point]}); use another --out folder, or delete "
                "the old one to start over")


@dataclasses.dataclass
class SweepResult:
    """What :func:`run_sweep` returns: the grid's rows, the summary and the files written.

    Example:
        >>> result = SweepResult(Path("out/s"), [], [], ran=0, failed=0,
        ...                      table=Path("out/s/summary.md"), figure=None)
        >>> result.ran, result.table.name
        (0, 'summary.md')
    """

    folder: Path
    rows: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    ran: int
    failed: int
    table: Path
    figure: Path | None


class _Progress:
    """done / running / failed / ETA, on a rich progress bar (or nothing)."""

    def __init__(self, name: str, total: int, done: int, enabled: bool) -> None:
        self.enabled = enabled and total > done
        self.bar = None
        self.running = self.failed = 0
        if not self.enabled:
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(),
                            TextColumn("running {task.fields[running]}, "
                                       "failed {task.fields[failed]}"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
        self.task = self.bar.add_task(name, total=total, completed=done, running=0, failed=0)
        self.bar.start()

    def update(self, *, running: int | None = None, finished: int = 0, failed: int = 0) -> None:
        self.running = self.running if running is None else running
        self.failed += failed
        if self.bar is not None:
            self.bar.update(self.task, advance=finished, running=self.running, failed=self.failed)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _task(spec: SweepSpec, run: Run, folder: Path) -> dict[str, Any]:
    return {"run": spec.run, "config": run.config, "key": run.key, "metrics": list(spec.metrics),
            "threads": spec.threads, "run_dir": str(folder / "runs" / run.key)}


def _run_local(tasks: Sequence[dict[str, Any]], workers: int, retries: int,
               record: Callable[[dict[str, Any], int], None], progress: _Progress) -> None:
    context = multiprocessing.get_context("spawn")
    queue = deque((task, 1) for task in tasks)
    running: dict[int, tuple[Any, dict[str, Any], int]] = {}
    try:
        while queue or running:
            while queue and len(running) < workers:
                task, attempt = queue.popleft()
                proc = context.Process(target=_child_main, args=(task, os.getpid()),
                                       name=f"sweep-{task['key']}", daemon=True)
                proc.start()
                running[proc.sentinel] = (proc, task, attempt)
            progress.update(running=len(running))
            for sentinel in multiprocessing.connection.wait(list(running), timeout=1.0):
                proc, task, attempt = running.pop(sentinel)
                proc.join()
                result_path = Path(task["run_dir"]) / RESULT_FILE
                if result_path.exists():
                    record(json.loads(result_path.read_text(encoding="utf-8")), attempt)
                elif attempt <= retries:
                    queue.appendleft((task, attempt + 1))
                else:
                    record({"key": task["key"], "status": "failed", "result": None,
                            "metrics": {}, "host": socket.gethostname(), "wall_s": None,
                            "error": f"worker process died (exit code {proc.exitcode}) on all "
                                     f"{attempt} attempts"}, attempt)
            progress.update(running=len(running))
    finally:
        for proc, _, _ in running.values():  # interrupted: leave no child behind
            proc.kill()
            proc.join()


def _run_ray(tasks: Sequence[dict[str, Any]], spec: SweepSpec, address: str | None,
             workers: int | None, retries: int, record: Callable[[dict[str, Any], int], None],
             progress: _Progress) -> None:
    try:
        import ray
    except ImportError:
        raise SweepConfigError("backend 'ray' needs the ray package: pip install ray") from None
    started = False
    if not ray.is_initialized():
        if address is None:
            ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        else:
            ray.init(address=address, log_to_driver=False)
        started = True
    try:
        remote = ray.remote(execute).options(
            num_cpus=spec.resources.cpus, num_gpus=spec.resources.gpus, max_retries=retries,
            retry_exceptions=False)
        pending = {remote.remote(task): task for task in tasks}
        while pending:
            progress.update(running=len(pending))
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in done:
                task = pending.pop(ref)
                try:
                    record(ray.get(ref), 0)
                except ray.exceptions.RayError as exc:  # a worker that died on every retry
                    record({"key": task["key"], "status": "failed", "result": None,
                            "metrics": {}, "host": None, "wall_s": None,
                            "error": f"ray task failed after {retries} retries: "
                                     f"{type(exc).__name__}: {str(exc)[:500]}"}, retries + 1)
            progress.update(running=len(pending))
    finally:
        if started:
            ray.shutdown()


def run_sweep(spec: SweepSpec | Mapping[str, Any] | str | os.PathLike[str], *,
              out: str | os.PathLike[str] = "results", backend: str = "local",
              workers: int | None = None, address: str | None = None,
              retries: int | None = None, progress: bool = True,
              report_only: bool = False) -> SweepResult:
    """Run (or resume) a sweep, then write its summary table and plot.

    Args:
        spec: a :class:`SweepSpec`, the dict of one, or the path of a YAML spec.
        out: parent folder; the sweep lives in ``<out>/<spec.name>/``.
        backend: ``"local"`` (spawned processes), ``"ray"``, or ``"inline"`` (in this process,
            one after another: for debugging and tiny examples; a crash ends the launcher).
        workers: concurrent runs (local; default: CPU count // threads), or the CPUs of a
            local Ray instance started here (default: all).
        address: Ray cluster address (``"auto"``, ``"HOST:PORT"``); ``None`` starts a local one.
        retries: retries of a run whose worker died (default: the spec's).
        progress: show the rich progress display.
        report_only: run nothing; rebuild the summary from the rows on disk.

    Returns:
        The rows of the spec's grid (latest per key), the summary rows and the file paths.

    Raises:
        SweepConfigError: a bad spec, or one that changed under ``out`` (see the module doc).
    """
    if not isinstance(spec, SweepSpec):
        spec = load_spec(spec) if isinstance(spec, str | os.PathLike) else SweepSpec.from_dict(
            spec)
    if backend not in BACKENDS:
        raise SweepConfigError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if workers is not None and (isinstance(workers, bool) or workers < 1):
        raise SweepConfigError(f"workers must be >= 1, got {workers!r}")
    retries = spec.retries if retries is None else retries
    version = package_version()
    folder = Path(out) / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    runs = expand(spec, version)
    ran = failed = 0
    with _locked(folder):
        _check_identity(folder, spec.identity(version))
        results = folder / RESULTS
        rows = read_rows(results, repair=True)
        _check_points(folder, runs, rows)
        ok = {row["key"] for row in rows if row["status"] == "ok"}
        todo = [run for run in runs if run.key not in ok]
        if not report_only and todo:
            meta = _launch_metadata()
            by_key = {run.key: run for run in todo}

            def record(outcome: dict[str, Any], attempt: int) -> None:
                nonlocal ran, failed
                run = by_key[outcome["key"]]
                row = {"key": run.key, "sweep": spec.name, "coords": run.coords,
                       "seed": run.seed, "status": outcome["status"],
                       "metrics": outcome["metrics"], "attempts": attempt or None,
                       "wall_s": outcome["wall_s"], "host": outcome["host"],
                       "error": outcome["error"], "config": run.config,
                       "result": outcome["result"], **meta}
                append_row(results, row)
                rows.append(row)
                ran += 1
                failed += outcome["status"] != "ok"
                bar.update(finished=1, failed=int(outcome["status"] != "ok"))
                if outcome["status"] != "ok" and progress:
                    first = (outcome["error"] or "").splitlines()[:1]
                    print(f"run {run.key} {run.coords} seed {run.seed} failed: "
                          f"{first[0] if first else ''}", file=sys.stderr)

            # A run that finished while the last launcher was being killed: collect its result.
            fresh = []
            for run in todo:
                run_dir = folder / "runs" / run.key
                done = _finished_outcome(run_dir, run.key)
                if done is not None and done["status"] == "ok":
                    fresh.append((run, done))
                else:
                    shutil.rmtree(run_dir, ignore_errors=True)  # in flight when killed: rerun
            bar = _Progress(spec.name, len(runs), len(runs) - len(todo), progress)
            try:
                for _run, outcome in fresh:
                    record(outcome, 0)
                collected = {run.key for run, _ in fresh}
                tasks = [_task(spec, run, folder) for run in todo if run.key not in collected]
                if backend == "local":
                    n = workers if workers is not None else max(
                        1, (os.cpu_count() or 1) // spec.threads)
                    _run_local(tasks, n, retries, record, bar)
                elif backend == "ray":
                    _run_ray(tasks, spec, address, workers, retries, record, bar)
                else:
                    for task in tasks:
                        record(execute(task), 1)
            finally:
                bar.close()
        latest: dict[str, dict[str, Any]] = {}
        for row in rows:
            if latest.get(row["key"], {}).get("status") != "ok":
                latest[row["key"]] = row
        grid_rows = [latest[run.key] for run in runs if run.key in latest]
        summary, table, figure = write_report(spec, grid_rows, folder)
    return SweepResult(folder, grid_rows, summary, ran, failed, table, figure)


def _finished_outcome(run_dir: Path, key: str) -> dict[str, Any] | None:
    path = run_dir / RESULT_FILE
    if not path.exists():
        return None
    try:
        outcome = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return None
    return outcome if outcome.get("key") == key else None


def _launch_metadata() -> dict[str, Any]:
    from rewardgym.benchmarks import harness

    return {"timestamp_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "git_commit": harness.git_commit(), "machine": harness.machine_info(),
            "versions": {**harness.versions(), "rewardgym": package_version()}}


def write_report(spec: SweepSpec, rows: Sequence[Mapping[str, Any]],
                 folder: Path) -> tuple[list[dict[str, Any]], Path, Path | None]:
    """Write ``summary.md`` (and ``summary.png`` when there are metrics) from ``rows``."""
    axes = list(spec.axes)
    summary = sweep_report.summarise(rows, axes, spec.metrics, method=spec.ci)
    title = spec.title or spec.name
    fixed = ", ".join(f"{k}={_canonical(v)}" for k, v in spec.fixed.items())
    notes = [f"Sweep `{spec.name}`: run `{spec.run}`, seeds {list(spec.seeds)}, fixed: "
             f"{fixed or 'none'}.",
             f"Cells: mean over seeds [{'Student t' if spec.ci == 't' else 'bootstrap'} 95% "
             "confidence interval]; (n=1): one seed, no interval. Rows: "
             f"`{folder / RESULTS}`."]
    table = sweep_report.write_markdown(folder / "summary.md", summary, axes, spec.metrics,
                                        title=title, notes=notes)
    figure = None
    if spec.metrics and summary:
        figure = sweep_report.plot(folder / "summary.png", summary, axes, spec.metrics,
                                   x_axis=spec.plot_x, title=title)
    return summary, table, figure


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The command-line options of ``rewardgym sweep`` (shared with ``python -m``)."""
    parser.add_argument("spec", help="sweep spec: a YAML file, or a shipped spec's name "
                        f"({', '.join(shipped_specs())})")
    parser.add_argument("--backend", choices=BACKENDS, default="local",
                        help="local process pool (default), ray, or inline")
    parser.add_argument("--address", default=None,
                        help="Ray cluster address: auto or HOST:PORT (default: a local Ray)")
    parser.add_argument("--workers", type=int, default=None,
                        help="concurrent runs (local; default: CPUs // threads)")
    parser.add_argument("--out", default="results", help="parent output folder")
    parser.add_argument("--retries", type=int, default=None,
                        help="retries of a run whose worker died (default: the spec's)")
    parser.add_argument("--report-only", action="store_true",
                        help="run nothing; rebuild summary.md/png from the rows")
    parser.add_argument("--no-progress", action="store_true", help="no progress display")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``rewardgym sweep SPEC.yml [--backend ray --address auto] [--workers N] [--out DIR]``."""
    parser = add_arguments(argparse.ArgumentParser(
        prog="rewardgym sweep", description="Run or resume a sweep (grid x seeds) from a spec."))
    args = parser.parse_args(argv)
    return run_from_args(args)


def run_from_args(args: argparse.Namespace) -> int:
    """Run the sweep the parsed arguments describe; print where the summary went."""
    try:
        result = run_sweep(args.spec, out=args.out, backend=args.backend, workers=args.workers,
                           address=args.address, retries=args.retries,
                           progress=not args.no_progress, report_only=args.report_only)
    except SweepConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{result.folder}: {len(result.rows)} runs recorded ({result.ran} this launch, "
          f"{result.failed} failed); summary {result.table}")
    print(result.table.read_text(encoding="utf-8"))
    return 1 if any(row["status"] != "ok" for row in result.rows) else 0


__all__ = ["BACKENDS", "Resources", "Run", "SweepConfigError", "SweepResult", "SweepSpec",
           "add_arguments", "append_row", "execute", "expand", "import_ref", "load_spec", "main",
           "read_rows", "run_key", "run_sweep", "shipped_specs", "write_report"]

if __name__ == "__main__":
    raise SystemExit(main())
