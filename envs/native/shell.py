"""Mechanics under every native shell (re-exported by :mod:`rewardgym.envs.native`).

Compiled entry points, pickling of kernel entry points, autoreset modes, and
:func:`compile_progress`, which shows a line while numba compiles a kernel (cold cache only).
The shells themselves are in :mod:`~rewardgym.envs.native.single` and
:mod:`~rewardgym.envs.native.vector`.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, TextIO

import numba
from gymnasium.vector import AutoresetMode
from numba.core import event as numba_event

from rewardgym.envs.native.modes import NEXT_STEP, NO_AUTORESET, SAME_STEP

SEED_MOD = 2**64
AUTORESET_CODES = {AutoresetMode.DISABLED: NO_AUTORESET, AutoresetMode.NEXT_STEP: NEXT_STEP,
                   AutoresetMode.SAME_STEP: SAME_STEP}


def compiled(dispatcher: Any, *args: Any) -> Any:
    """The compiled entry point of ``dispatcher`` for the types of ``args``.

    Calling it skips numba's per-call type dispatch (about 3 µs for tuple arguments, a third of a
    single grid step); the shells call kernels with the same argument types every time.
    """
    if not hasattr(dispatcher, "compile"):  # NUMBA_DISABLE_JIT=1: a plain Python function
        return dispatcher
    start_numba_threads()  # before a parallel kernel's load can start the pool unguarded
    return dispatcher.compile(tuple(numba.typeof(a) for a in args))


def _family(module: str) -> str:
    """``rewardgym.envs.grid.kernels`` -> ``grid``; ``rewardgym.wrappers.x`` -> ``wrappers``."""
    parts = module.split(".")
    if parts[:2] == ["rewardgym", "envs"] and len(parts) > 2:
        return parts[2]
    return parts[1] if parts[0] == "rewardgym" and len(parts) > 1 else parts[0]


class _CompileProgress(numba_event.Listener):
    """Writes one line per top-level numba compile; on a terminal it ticks the elapsed seconds."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.depth = 0
        self.label = ""
        self.start = 0.0
        self.done = threading.Event()
        self.ticker: threading.Thread | None = None

    def _tick(self) -> None:
        # llvmlite releases the GIL while LLVM optimises, which is most of a compile.
        while not self.done.wait(1.0):
            self.stream.write(f"\r{self.label} {time.perf_counter() - self.start:.0f} s")
            self.stream.flush()

    def on_start(self, ev: numba_event.Event) -> None:
        self.depth += 1
        if self.depth > 1:
            return
        func = ev.data["dispatcher"].py_func
        self.label = (f"compiling {_family(func.__module__)} kernels (one time, cached): "
                      f"{func.__name__} ...")
        self.start = time.perf_counter()
        self.stream.write(self.label if self.tty else self.label + "\n")
        self.stream.flush()
        if self.tty:
            self.done.clear()
            self.ticker = threading.Thread(target=self._tick, daemon=True)
            self.ticker.start()

    def on_end(self, ev: numba_event.Event) -> None:
        self.depth -= 1
        if self.depth > 0:
            return
        if self.ticker is not None:
            self.done.set()
            self.ticker.join()
            self.ticker = None
        seconds = time.perf_counter() - self.start
        end = f"\r{self.label} {seconds:.0f} s" if self.tty else f"  done in {seconds:.0f} s"
        self.stream.write(end + "\n")
        self.stream.flush()


@contextlib.contextmanager
def compile_progress(stream: TextIO | None = None) -> Iterator[None]:
    """Show a line for every kernel numba compiles inside the block (nothing on a warm cache).

    numba compiles a kernel the first time it runs with new argument types unless its on-disk
    cache (``__pycache__/*.nbi, *.nbc``) has it; a cold grid or driving kernel takes tens of
    seconds, which without a word looks like a hang. The ``rewardgym`` command runs every
    sub-command inside this block.

    Args:
        stream: Where to write (default ``sys.stderr``).

    Example:
        >>> import io, numba
        >>> out = io.StringIO()
        >>> with compile_progress(out):
        ...     numba.njit(lambda x: x + 1)(1)
        2
        >>> out.getvalue().startswith("compiling")
        True
    """
    listener = _CompileProgress(sys.stderr if stream is None else stream)
    with numba_event.install_listener("numba:compile", listener):
        yield


_numba_threads_started = False


def start_numba_threads() -> None:
    """Start numba's thread pool (once per process), leaving torch's thread count as it was.

    Started from a thread on which torch has already set up OpenMP (``torch.set_num_threads``
    then ``torch.get_num_threads``, as SB3 training does), numba's ``omp`` threading layer leaves
    that thread's OpenMP thread count at ``NUMBA_NUM_THREADS``, and torch reads its own count from
    there. Measured on the 2-core development machine: a PPO run on DoorKey-8x8 that asked torch
    for 1 thread ran its tensor ops on 2 after the env's first step (37 s of CPU for 20 s of wall
    time), and two such runs side by side (a 2-worker sweep) each took 4-5x as long as alone.
    Every env kernel lookup and threaded call comes through here first.
    """
    global _numba_threads_started
    if _numba_threads_started:
        return
    torch = sys.modules.get("torch")  # never imported here: whoever set its threads imported it
    before = torch.get_num_threads() if torch is not None else None
    numba.get_num_threads()  # starts the pool
    if torch is not None and torch.get_num_threads() != before:
        torch.set_num_threads(before)
    _numba_threads_started = True


def call_on_threads(threads: int | None, kernel: Any, *args: Any) -> None:
    """Call ``kernel(*args)`` with numba's parallel regions on ``threads`` threads.

    ``None`` calls it as it is (a serial kernel). The global thread count is restored after, so
    envs with different settings can share a process.
    """
    start_numba_threads()
    previous = numba.get_num_threads()
    if threads is None or previous == threads:
        kernel(*args)
        return
    numba.set_num_threads(threads)
    try:
        kernel(*args)
    finally:
        numba.set_num_threads(previous)


class PicklableKernel:
    """Mixin for shells that keep a compiled kernel entry point in ``_step_kernel``.

    The entry point is looked up (compiled on a cold cache) on first use, not at construction, so
    building an env to check its spaces or kwargs compiles nothing, and a process compiles only
    the kernel variants it steps (serial for single envs and small batches, ``prange`` for large
    ones). Entry points do not pickle (subprocess vector envs pickle envs), so they are dropped
    and looked up again after unpickling.
    """

    @property
    def _step_kernel(self) -> Any:
        kernel = self.__dict__.get("_step_entry")
        if kernel is None:
            kernel = self.__dict__["_step_entry"] = self._compile_step()
        return kernel

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_step_entry", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def _compile_step(self) -> Any:
        raise NotImplementedError


def parse_autoreset_mode(mode: AutoresetMode | str) -> AutoresetMode:
    """Accept the enum, its value (``"SameStep"``) or its name (``"same_step"``)."""
    if isinstance(mode, AutoresetMode):
        return mode
    for member in AutoresetMode:
        if str(mode).lower() in (member.value.lower(), member.name.lower()):
            return member
    raise ValueError(f"autoreset_mode {mode!r} is not one of "
                     f"{[m.name.lower() for m in AutoresetMode]}")
