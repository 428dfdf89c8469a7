"""Argument and action checks every native shell shares (one wording, one policy per space kind).

Actions follow the suite's policy per action-space kind (:mod:`rewardgym.envs.action_policy`):
``Discrete`` actions outside ``[0, n)`` raise, finite ``Box`` actions are clipped, anything
non-finite or of the wrong shape or type raises; every ``ValueError`` names the env (and, for a
batch, the env indices) and is raised before any state changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import numba
import numpy as np


def _where(bad: np.ndarray, batched: bool) -> str:
    """`` at env indices [..]`` for a batch (rows with any bad entry), else nothing."""
    if not batched:
        return ""
    rows = bad.reshape(bad.shape[0], -1).any(axis=1)
    return f" at env indices {np.flatnonzero(rows).tolist()}"


#: Integer scalar types a single action's fast path accepts (``type(a) in INT_TYPES``: bools and
#: int subclasses such as IntEnum members take the full checks instead).
INT_TYPES = frozenset((int, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                        np.uint32, np.uint64, np.intc, np.uintc, np.intp, np.uintp))


def check_discrete_actions(name: str, actions: Any, n: int, num_envs: int | None,
                           names: Sequence[str] = ()) -> np.ndarray:
    """``actions`` as a fresh C-contiguous int64 array of shape ``(num_envs,)`` (``(1,)``: single).

    ``num_envs`` is None for a single env (one int action). ``names`` (optional) lists what each
    action does, for the error message.

    Raises:
        ValueError: naming the env and the action when its shape, dtype or range is wrong.
    """
    if num_envs is None and type(actions) in INT_TYPES and 0 <= actions < n:
        return np.array((actions,), dtype=np.int64)  # the common case, without the checks below
    arr = np.asarray(actions)
    expected = () if num_envs is None else (num_envs,)
    if arr.shape != expected:
        raise ValueError(f"{name}: action {actions!r} has shape {arr.shape}, expected "
                         f"{expected} of ints in [0, {n - 1}]")
    if arr.dtype.kind not in "iu":
        meaning = f" ({', '.join(names)})" if names else ""
        raise ValueError(f"{name}: action {actions!r} has dtype {arr.dtype}, expected integers "
                         f"in [0, {n - 1}]{meaning}")
    bad = (arr < 0) | (arr >= n)
    if np.any(bad):
        where = _where(bad.reshape(-1, 1), True) if num_envs is not None else ""
        raise ValueError(f"{name}: action {actions!r} out of range{where}, expected ints in "
                         f"[0, {n - 1}]")
    # The shells call compiled kernel entry points that trust their argument types.
    return np.array(arr.reshape(-1), dtype=np.int64, order="C")


def single_discrete_check(n: int, names: Sequence[str] = ()) -> Callable[..., np.ndarray]:
    """:func:`check_discrete_actions` for one env, as ``check(name, action, None)``.

    An int in ``[0, n)`` (the common case) is written into one int64 buffer of shape ``(1,)``
    that every call returns again (a single shell hands it straight to the kernel, which keeps
    no reference); anything else goes through the full checks (and raises as they do).
    """
    buf = np.zeros(1, dtype=np.int64)

    def check(name: str, action: Any, num_envs: None) -> np.ndarray:
        if type(action) in INT_TYPES and 0 <= action < n:
            buf[0] = action
            return buf
        return check_discrete_actions(name, action, n, None, names)

    return check


def check_box_actions(name: str, actions: Any, shape: tuple[int, ...], low: Any, high: Any,
                      out: np.ndarray | None = None) -> np.ndarray:
    """Finite float64 actions of ``shape``, clipped to ``[low, high]`` (into ``out`` if given).

    Raises:
        ValueError: naming the env (and the env indices of a batch) when the action is not
            numeric, has the wrong shape, or is not finite.
    """
    try:
        arr = np.asarray(actions, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: action {actions!r} is not numeric (expected a float array "
                         f"of shape {shape})") from None
    if arr.shape != shape:
        raise ValueError(f"{name}: action must have shape {shape}, got shape {arr.shape} "
                         f"({actions!r})")
    finite = np.isfinite(arr)
    if not finite.all():
        raise ValueError(f"{name}: action must be finite{_where(~finite, arr.ndim == 2)}, got "
                         f"{actions!r} (NaN or inf is not finite)")
    if out is None:
        return arr.clip(low, high)  # np.clip's own call, without its dispatch layer
    return arr.reshape(out.shape).clip(low, high, out=out)


def config_failure(owner: str) -> Callable[[str, str, object], NoReturn]:
    """The ``fail(field, expected, got)`` a family's config validation calls: one wording.

    Every config class (``GridConfig``, ``DriveConfig``, ``LocomotionConfig``) binds its name
    once (``_fail = config_failure("GridConfig")``) and raises through it in ``__post_init__``.

    Example:
        >>> fail = config_failure("GridConfig")
        >>> fail("size", "an int in [5, 64]", 3)
        Traceback (most recent call last):
        ...
        ValueError: GridConfig.size: expected an int in [5, 64], got 3
    """

    def fail(field: str, expected: str, got: object) -> NoReturn:
        raise ValueError(f"{owner}.{field}: expected {expected}, got {got!r}")

    return fail


def check_count(name: str, field: str, value: Any, allow_none: bool = False) -> None:
    """``value`` must be a positive int (or None where ``allow_none``)."""
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        none = " or None" if allow_none else ""
        raise ValueError(f"{name}: {field} must be a positive int{none}, got {value!r}")


def check_num_threads(name: str, num_threads: Any) -> None:
    """``num_threads`` must be in ``[1, NUMBA_NUM_THREADS]``."""
    if isinstance(num_threads, bool) or not isinstance(num_threads, int | np.integer) \
            or not 1 <= num_threads <= numba.config.NUMBA_NUM_THREADS:
        raise ValueError(f"{name}: num_threads must be in [1, {numba.config.NUMBA_NUM_THREADS}] "
                         f"(NUMBA_NUM_THREADS), got {num_threads!r}")


def check_render_mode(name: str, render_mode: str | None, modes: Sequence[str]) -> None:
    """``render_mode`` must be None or one of ``modes``."""
    if render_mode is not None and render_mode not in modes:
        raise ValueError(f"{name}: render_mode {render_mode!r} not in {list(modes)}")
