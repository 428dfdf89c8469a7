"""The compiled runtime of a checked program: numba over a batch, Python as the fallback.

The specific program (``compute_reward(obs, action, next_obs, terms) -> total`` over float64
rows) is written to ``<cache>/rw_<sha16>.py`` with a batch loop around it and imported by name,
so ``njit(cache=True)`` can cache the machine code on disk (a function made by ``exec`` has no
file for numba's cache locator; research notes ``llm_rewards.md`` §7.2). The file's content is
the hash-pinned checked program and is rewritten if anything else is found there. The batch loop
is ours; ``error_model="numpy"`` turns division by zero into inf/nan, which the wrappers guard.
The Python fallback runs the same specific program with the facades; it is checked to agree
with numba on the validation states (``rtol`` 1e-6: float32 actions round differently).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from rewardgym.wrappers.llm.program import facades, source_hash

_HEADER = """import math
import numpy as np
from numba import njit


@njit(cache=True)
def _clip(a, lo, hi):
    return np.minimum(np.maximum(a, lo), hi)


@njit(cache=True)
def _norm(x):
    return np.sqrt(np.sum(x * x))


"""
_FOOTER = '''

compute_reward = njit(cache=True, error_model="numpy")(compute_reward)


@njit(cache=True, error_model="numpy")
def reward_batch(obs, actions, next_obs, active, totals, terms):
    for i in range(obs.shape[0]):
        if active[i]:
            totals[i] = compute_reward(obs[i], actions[i], next_obs[i], terms[i])
        else:
            totals[i] = 0.0
            for j in range(terms.shape[1]):
                terms[i, j] = 0.0
'''
_LOCK = threading.Lock()


@njit(cache=True)
def guard_rows(totals: np.ndarray, terms: np.ndarray) -> np.ndarray:
    """Zero every row whose total or a term is not finite; True where that happened.

    One pass in place (the wrappers' NaN/inf guard; ``np.isfinite`` on both arrays costs two
    passes and three temporaries per step).
    """
    bad = np.zeros(totals.shape[0], dtype=np.bool_)
    for i in range(totals.shape[0]):
        ok = np.isfinite(totals[i])
        for j in range(terms.shape[1]):
            ok = ok and np.isfinite(terms[i, j])
        if not ok:
            bad[i] = True
            totals[i] = 0.0
            for j in range(terms.shape[1]):
                terms[i, j] = 0.0
    return bad


@njit(cache=True)
def finish_rows(totals: np.ndarray, terms: np.ndarray, k: int, coef: float, base: np.ndarray,
                add: bool, shaped: np.ndarray, bad: np.ndarray) -> int:
    """Guard, scale and pay a batch in place; the number of non-finite rows.

    ``terms`` is ``(n, k)`` or ``(n, k + 1)``: with the extra column it receives ``other``
    (the total minus the terms). A row whose total or a term is not finite pays 0 (``bad``).
    Terms are multiplied by ``coef``; ``shaped = base + coef * total`` (``add``) or
    ``coef * total``. The vector wrapper's whole per-step arithmetic, with no temporaries.

    One pass per column, env index innermost: the wrappers hand in a term-major block
    (``block.T``), so every pass walks contiguous memory and the compiler can vectorise it
    (a row-by-row pass measured 3x slower at 4,096 envs).
    """
    n = totals.shape[0]
    other = terms.shape[1] > k
    for i in range(n):
        bad[i] = not np.isfinite(totals[i])
    for j in range(k):
        for i in range(n):
            bad[i] = bad[i] or not np.isfinite(terms[i, j])
    if other:
        for i in range(n):
            terms[i, k] = totals[i]
        for j in range(k):
            for i in range(n):
                terms[i, k] -= terms[i, j]
    count = 0
    for i in range(n):
        if bad[i]:
            count += 1
            totals[i] = 0.0
        shaped[i] = coef * totals[i] + (base[i] if add else 0.0)
    for j in range(terms.shape[1]):
        for i in range(n):
            terms[i, j] = 0.0 if bad[i] else coef * terms[i, j]
    return count


def cache_dir() -> Path:
    """Where compiled programs live: ``$REWARDGYM_LLM_CACHE`` or ``~/.cache/rewardgym/llm``."""
    root = os.environ.get("REWARDGYM_LLM_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "rewardgym" / "llm"


class CompiledProgram:
    r"""A checked specific program, callable on batches; numba when it compiles and agrees.

    Built by :func:`~rewardgym.wrappers.llm.checker.check_program` (never from unchecked code).

    Args:
        code: the specific program (output of :func:`~rewardgym.wrappers.llm.program.rewrite`).
        terms: the term names, in ``terms`` column order.
        use_numba: try numba (False: Python only).

    Example:
        >>> code = ("def compute_reward(obs, action, next_obs, terms):\n"
        ...         "    total_ = next_obs[0] - obs[0]\n    terms[0] = total_\n"
        ...         "    return total_\n")
        >>> prog = CompiledProgram(code, ("gain",), use_numba=False)
        >>> totals, terms = prog(np.zeros((2, 1)), np.zeros(2), np.ones((2, 1)))
        >>> totals.tolist(), prog.backend
        ([1.0, 1.0], 'python')
    """

    def __init__(self, code: str, terms: tuple[str, ...], *, use_numba: bool = True) -> None:
        self.code = code
        self.terms = tuple(terms)
        self.hash = source_hash(code)
        self.note = ""
        namespace = facades()
        exec(compile(code, f"<reward-program {self.hash[:12]}>", "exec"), namespace)
        self._py = namespace["compute_reward"]
        self._nb_batch: Any = None
        if use_numba:
            try:
                self._nb_batch = self._load_numba()
            except Exception as err:
                self.note = f"numba unavailable ({type(err).__name__}: {err}); Python fallback"

    @property
    def backend(self) -> str:
        """``"numba"`` or ``"python"``."""
        return "numba" if self._nb_batch is not None else "python"

    def _load_numba(self) -> Any:
        name = f"rw_{self.hash[:16]}"
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.py"
        text = _HEADER + self.code + _FOOTER
        with _LOCK:
            if not path.exists() or path.read_text() != text:
                tmp = path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(text)
                os.replace(tmp, path)
                sys.modules.pop(name, None)
            if str(folder) not in sys.path:
                sys.path.append(str(folder))
            module = sys.modules.get(name)
            if module is None or getattr(module, "__file__", None) != str(path):
                importlib.invalidate_caches()
                module = importlib.import_module(name)
        return module.reward_batch

    def disable_numba(self, why: str) -> None:
        """Fall back to Python from now on, recording ``why``."""
        self._nb_batch = None
        self.note = why

    def __call__(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray,
                 active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Totals ``(n,)`` and terms ``(n, k)`` of a batch (rows not ``active`` give zeros)."""
        n = obs.shape[0]
        if active is None:
            active = np.ones(n, dtype=np.bool_)
        totals = np.zeros(n)
        terms = np.zeros((n, len(self.terms)))
        if self._nb_batch is not None:
            self._nb_batch(np.ascontiguousarray(obs, dtype=np.float64),
                           np.ascontiguousarray(actions, dtype=np.float64),
                           np.ascontiguousarray(next_obs, dtype=np.float64),
                           np.ascontiguousarray(active, dtype=np.bool_), totals, terms)
            return totals, terms
        return self.python(obs, actions, next_obs, active)

    def into(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray,
             active: np.ndarray, totals: np.ndarray, terms: np.ndarray) -> None:
        """:meth:`__call__` writing into ``totals`` ``(n,)`` and ``terms`` ``(n, >= k)``.

        No copies: float64 arrays of any memory layout (a column-major row buffer, a
        ``terms`` view of a term-major block) go to the compiled loop as they are.
        """
        if self._nb_batch is not None:
            self._nb_batch(obs, actions, next_obs, active, totals, terms)
            return
        t, m = self.python(obs, actions, next_obs, active)
        totals[:] = t
        terms[:, :m.shape[1]] = m

    def python(self, obs: np.ndarray, actions: np.ndarray, next_obs: np.ndarray,
               active: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The Python fallback on a batch (same outputs as :meth:`__call__`)."""
        n = obs.shape[0]
        totals = np.zeros(n)
        terms = np.zeros((n, len(self.terms)))
        obs = np.asarray(obs, dtype=np.float64)
        next_obs = np.asarray(next_obs, dtype=np.float64)
        actions = np.asarray(actions, dtype=np.float64)
        with np.errstate(all="ignore"):
            for i in range(n):
                if active is not None and not active[i]:
                    continue
                action = actions[i] if actions.ndim > 1 else float(actions[i])
                try:
                    totals[i] = self._py(obs[i], action, next_obs[i], terms[i])
                except (ZeroDivisionError, OverflowError, ValueError):
                    totals[i] = np.nan  # numba's error_model="numpy" gives inf/nan here too
        return totals, terms
